"""Recording a trained model's gates and states on a data dir, optionally with noise put into the audio.

Features are recomputed from the audio (the data dir's ``feat_conf.yaml``) and normalised with the data dir's
per-speaker CMVN statistics of the *clean* audio, so that a clean run and a perturbed run differ only by the
perturbation. The model runs through the cell library's step-by-step introspection path; utterances are written
to the state file as they are processed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from gatescope.analysis.memory.states import RunInfo, StateWriter
from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table, require_files
from gatescope.asr.decoding.real_speech import reference_phones
from gatescope.asr.decoding.scoring import fold_for_scoring
from gatescope.asr.decoding.search import greedy_paths, normalize, pad
from gatescope.asr.features import ark as kaldi_ark
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.asr.models.acoustic import AcousticModel
from gatescope.asr.models.checkpoint import load_model
from gatescope.asr.phones import PhoneMap
from gatescope.asr.tokens import TokenTable
from gatescope.config import load_config
from gatescope.errors import InputError
from gatescope.noise import burst_frames

# (utt, clean waveform) -> (perturbed waveform, burst span in samples or None)
Perturbation = Callable[[str, np.ndarray], tuple[np.ndarray, tuple[int, int] | None]]

GATES = {"lstm": ("i", "f", "o", "g", "c", "h"), "gru": ("z", "r", "n", "h"), "rnn": ("h",)}


def cell_family(model: AcousticModel) -> str:
    """``"lstm"`` for the LSTM family (cell values in ``c``), else the cell kind (``gru``, ``rnn``)."""
    return {"gru": "gru", "rnn": "rnn"}.get(str(model.config.cell), "lstm")


class _Inputs:
    """A data dir's audio, CMVN stats, 39-phone frame labels and references."""

    def __init__(self, data_dir: Path, model: AcousticModel) -> None:
        require_files(data_dir, ("wav.scp", "utt2spk", "feat_conf.yaml"))
        self.features = load_config(FeatureConfig, data_dir / "feat_conf.yaml")
        if self.features.dim != model.input_dim:
            raise InputError(f"{data_dir}: features have {self.features.dim} dims, the model expects {model.input_dim}")
        self.wav_scp, self.utt2spk = read_table(data_dir / "wav.scp"), read_table(data_dir / "utt2spk")
        hp = model.train_config
        self.cmvn = model.cmvn_mode
        self.norm_vars = hp.get("norm_vars", True)
        by_speaker = self.cmvn == "speaker"
        self.stats = dict(kaldi_ark.read_matrix_scp(data_dir / "cmvn.scp")) if by_speaker else {}
        if by_speaker and not self.stats:
            raise InputError(f"{data_dir / 'cmvn.scp'}: missing (the model was trained with per-speaker CMVN)")
        self.phone_map = PhoneMap.load()
        self.phones = tuple(self.phone_map.labels39)
        self.labels61: dict[str, str] = {}
        self.symbols: dict[int, str] = {}
        if (data_dir / "labels.scp").is_file() and (data_dir / "phones.txt").is_file():
            self.labels61 = read_table(data_dir / "labels.scp")
            self.symbols = {int(i): s for s, i in (line.split() for line in (data_dir / "phones.txt").open())}
        self.target = hp.get("target", "phones")
        text = read_table(data_dir / "text", allow_empty=True) if (data_dir / "text").is_file() else {}
        phone_map = self.phone_map if self.target == "phones" else None
        known = set(self.phone_map.labels48) | set(self.phone_map.to39)
        if self.target == "phones" and any(w not in known for t in text.values() for w in t.split()):
            # a real corpus's words (FSDD, AN4): phone references as score-real makes them
            self.refs = {u: reference_phones(t.split()) for u, t in text.items()}
        else:
            self.refs = {u: fold_for_scoring(t.split(), self.target, phone_map) for u, t in text.items()}

    def labels(self, utt: str, out_frames: int, stack: int) -> np.ndarray | None:
        """39-phone class of each output frame: the label of the centre input frame of its stack."""
        if utt not in self.labels61:
            return None
        ids = kaldi_ark.read_int_vector(self.labels61[utt])
        centre = np.minimum(np.arange(out_frames) * stack + stack // 2, len(ids) - 1)
        index = {p: i for i, p in enumerate(self.phones)}
        to39 = self.phone_map.to39
        return np.array([index.get(to39.get(self.symbols.get(int(ids[c]), ""), ""), -1) for c in centre])

    def utterance(
        self, utt: str, perturb: Perturbation | None, stack: int
    ) -> tuple[torch.Tensor, tuple[int, int] | None]:
        """``utt``'s normalised features (its audio perturbed first, if asked) and the output frames a burst
        touches (None without a burst)."""
        wave = read_audio(self.wav_scp[utt], self.features.sample_rate)[0]
        span = None
        if perturb is not None:
            wave, span = perturb(utt, wave)
        raw = compute_features(wave, self.features).numpy()
        stats = self.stats.get(self.utt2spk[utt])
        if span is not None:
            window, shift = self.features.frame_samples()
            first, end = burst_frames(span, window, shift, num_frames=raw.shape[0])
            span = (first // stack, -(-end // stack))  # output frames touched by the burst
        return normalize(raw, self.cmvn, stats, self.norm_vars), span


def record_states(
    model_path: Path,
    data_dir: Path,
    out_path: Path,
    utts: list[str] | None = None,
    perturb: Perturbation | None = None,
    condition: dict[str, Any] | None = None,
    gates: tuple[str, ...] | None = None,
    from_burst: bool = False,
    dtype: str = "float16",
    batch_size: int = 8,
    progress: bool = True,
) -> Path:
    """Run ``model_path`` on ``data_dir`` (or the listed ``utts``) and write a state file to ``out_path``.

    Args:
        perturb: changes each utterance's audio (e.g. inserts a burst) and returns the burst's sample span.
        condition: a description stored in the file (noise, SNR, burst place).
        gates: which recordings to keep (default: all of the cell family, e.g. ``i f o g c h``).
        from_burst: store only the frames from the burst's first frame on (the earlier ones equal the clean run
            for a unidirectional model).
        dtype: storage type; float16 halves the size and keeps ~3 significant digits.
    """
    model = load_model(model_path)
    family = cell_family(model)
    gates = gates or GATES[family]
    unknown = set(gates) - set(GATES[family])
    if unknown:
        raise InputError(f"{model_path}: a {family} has no recordings {sorted(unknown)}; it has {GATES[family]}")
    inputs = _Inputs(data_dir, model)
    chosen = utts if utts is not None else sorted(inputs.wav_scp)
    missing = [u for u in chosen if u not in inputs.wav_scp]
    if missing:
        raise InputError(f"{data_dir / 'wav.scp'}: no utterance {missing[0]!r}")
    stack = model.frame_stack
    info = RunInfo(
        model=str(model_path),
        cell=str(model.config.cell),
        family=family,
        num_layers=model.config.num_layers,
        units=_units(model),
        frame_shift_ms=inputs.features.frame_shift_ms * stack,
        gates=tuple(gates),
        phones=inputs.phones,
        condition=condition or {"kind": "clean"},
    )
    writer = StateWriter(out_path, info, dtype)
    tokens = TokenTable(tuple(model.tokens), inputs.target)
    try:
        for start in tqdm(range(0, len(chosen), batch_size), desc=f"record {out_path.stem}", disable=not progress):
            batch = chosen[start : start + batch_size]
            feats, bursts = zip(*[inputs.utterance(utt, perturb, stack) for utt in batch], strict=True)
            padded, lengths = pad(list(feats))
            with torch.inference_mode():
                log_probs, _, records = model(padded, lengths, return_states=True)
            out_lengths = model.output_lengths(lengths)
            hyps = greedy_paths(log_probs, out_lengths)
            for i, utt in enumerate(batch):
                frames = int(out_lengths[i])
                span = bursts[i]
                first = span[0] if (from_burst and span is not None) else 0
                layer_states = [{g: rec[g][i, first:frames].numpy() for g in gates} for rec in records]
                writer.add(utt, layer_states, inputs.labels(utt, frames, stack), first, bursts[i])
                hyp = fold_for_scoring(tokens.decode(hyps[i].ids), inputs.target, inputs.phone_map)
                group = writer.file[f"utts/{utt}"]
                group.attrs["hyp"] = " ".join(hyp)
                group.attrs["ref"] = " ".join(inputs.refs.get(utt, []))
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def _units(model: AcousticModel) -> int:
    """Units per layer as recorded (both directions side by side for a bidirectional model)."""
    return model.config.hidden_size * (2 if model.config.bidirectional else 1)
