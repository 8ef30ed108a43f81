"""``gatescope features``: a data dir's fbank/MFCC, per-speaker CMVN stats and frame-level phone labels.

Writes into the data dir, as Kaldi's make_fbank.sh does (archives under ``DATA_DIR/data/``):
``feats.scp`` (float32 matrices ``(frames, dim)``), ``cmvn.scp`` (per speaker, Kaldi's ``2 x (dim+1)`` double
stats: sums and count, then sums of squares), ``labels.scp`` (int32 per frame, ids in ``phones.txt``: the
61-phone label of the sample at the frame's centre) and ``feat_conf.yaml`` (the resolved config).

Work is cut into fixed chunks of utterances; each chunk's archives are written atomically and marked done with
the config and utterance list it was made from, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from tqdm import tqdm

from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import CTM_FILE, read_ctm, read_table
from gatescope.asr.features import ark as kaldi_ark
from gatescope.asr.features.cmvn import cmvn_stats
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.asr.phones import PhoneMap
from gatescope.errors import InputError
from gatescope.files import write_table, write_text_atomic

CHUNK_UTTERANCES = 100
ARK_DIR = "data"


def frame_labels(
    spans: list[tuple[int, int, str]], num_frames: int, config: FeatureConfig, phone_ids: dict[str, int]
) -> np.ndarray:
    """The id of the phone under each frame's centre sample; frames past the last span take its label."""
    window, shift = config.frame_samples()
    centres = np.arange(num_frames) * shift + window // 2
    ends = np.array([end for _, end, _ in spans])
    index = np.minimum(np.searchsorted(ends, centres, side="right"), len(spans) - 1)
    return np.array([phone_ids[spans[i][2]] for i in index], dtype=np.int32)


def phone_table() -> dict[str, int]:
    """``phones.txt``: ``<eps>`` 0, then the 61 TIMIT labels from 1 (the synthetic corpus uses the same)."""
    return {"<eps>": 0, **{p: i for i, p in enumerate(PhoneMap.load().labels61, 1)}}


@dataclass(frozen=True)
class _Chunk:
    index: int
    utts: list[tuple[str, str]]  # (utt, wav.scp value)
    spans: dict[str, list[tuple[int, int, str]]]


def _marker(config: FeatureConfig, chunk: _Chunk) -> str:
    """What a chunk's outputs were made from: the config, its recordings and their alignments (a ``phones.ctm``
    added or changed later, e.g. by ``gatescope align``, makes the chunk's frame labels again)."""
    digest = hashlib.sha1("\n".join(f"{u} {w}" for u, w in chunk.utts).encode()).hexdigest()
    spans = hashlib.sha1(json.dumps(sorted(chunk.spans.items())).encode()).hexdigest()
    return json.dumps({"config": asdict(config), "utterances": digest, "alignments": spans}, sort_keys=True)


def _chunk_paths(ark_dir: Path, config: FeatureConfig, index: int) -> dict[str, Path]:
    stem = f"raw_{config.kind}.{index}"
    return {
        "feats": ark_dir / f"{stem}.ark",
        "labels": ark_dir / f"labels_{config.kind}.{index}.ark",
        "feats_scp": ark_dir / f"{stem}.scp",
        "labels_scp": ark_dir / f"labels_{config.kind}.{index}.scp",
        "done": ark_dir / f"{stem}.done",
    }


def _process_chunk(args: tuple[_Chunk, FeatureConfig, Path]) -> int:
    chunk, config, ark_dir = args
    paths = _chunk_paths(ark_dir, config, chunk.index)
    ids = phone_table()
    feats, labels = [], []
    for utt, wav in chunk.utts:
        try:
            audio, _ = read_audio(wav, expected_rate=config.sample_rate)
        except InputError as err:
            raise InputError(f"utterance {utt}: {err}") from None
        matrix = compute_features(audio, config).numpy()
        if matrix.shape[0] == 0:
            raise InputError(f"{wav}: {len(audio)} samples, shorter than one {config.frame_length_ms:g} ms frame "
                             f"(utterance {utt}); leave it out of the data dir")  # fmt: skip
        if not np.isfinite(matrix).all():
            raise InputError(f"utterance {utt}: features contain NaN or inf (audio {wav})")
        feats.append((utt, matrix))
        if utt in chunk.spans:
            labels.append((utt, frame_labels(chunk.spans[utt], matrix.shape[0], config, ids)))
    write_table(paths["feats_scp"], kaldi_ark.write_matrices(paths["feats"], feats))
    write_table(paths["labels_scp"], kaldi_ark.write_int_vectors(paths["labels"], labels) if labels else {})
    write_text_atomic(paths["done"], _marker(config, chunk))
    return len(chunk.utts)


def extract_features(data_dir: Path, config: FeatureConfig, jobs: int = 1, progress: bool = True) -> Path:
    """Compute features, frame labels and CMVN stats for ``data_dir`` (resumable); returns ``feats.scp``."""
    for name in ("wav.scp", "utt2spk"):
        if not (data_dir / name).is_file():
            raise InputError(f"{data_dir / name}: missing (is {data_dir} a Kaldi data dir?)")
    wavs, utt2spk = read_table(data_dir / "wav.scp"), read_table(data_dir / "utt2spk")
    if not wavs:
        raise InputError(f"{data_dir / 'wav.scp'}: no utterances")
    if set(wavs) != set(utt2spk):
        raise InputError(f"{data_dir}: wav.scp and utt2spk list different utterances (run validate-data)")
    if (data_dir / "spk2utt").is_file():
        for speaker, listed in read_table(data_dir / "spk2utt").items():
            unknown = sorted(set(listed.split()) - set(utt2spk))
            if unknown:
                raise InputError(f"{data_dir / 'spk2utt'}: speaker {speaker} lists unknown utterance {unknown[0]}")
    ctm = data_dir / CTM_FILE
    spans = read_ctm(ctm, config.sample_rate) if ctm.is_file() else {}
    ark_dir = data_dir / ARK_DIR
    ark_dir.mkdir(exist_ok=True)
    for stale in ark_dir.glob("*.tmp"):
        stale.unlink()

    utts = sorted(wavs.items())
    chunks = [
        _Chunk(
            i,
            utts[s : s + CHUNK_UTTERANCES],
            {u: spans[u] for u, _ in utts[s : s + CHUNK_UTTERANCES] if u in spans},
        )
        for i, s in enumerate(range(0, len(utts), CHUNK_UTTERANCES))
    ]
    todo = [c for c in chunks if not _is_done(ark_dir, config, c)]
    bar = tqdm(
        total=len(utts),
        initial=len(utts) - sum(len(c.utts) for c in todo),
        desc=f"{config.kind} features",
        unit="utt",
        disable=not progress,
    )
    work = [(c, config, ark_dir) for c in todo]
    if jobs <= 1 or len(work) <= 1:
        for item in work:
            bar.update(_process_chunk(item))
    else:
        # One thread per worker process, so that the workers do not oversubscribe the cores (set there only: a
        # library call must not change the calling process's thread count).
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            for done in pool.map(_process_chunk, work):
                bar.update(done)
    bar.close()

    feats_scp: dict[str, str] = {}
    labels_scp: dict[str, str] = {}
    for c in chunks:
        paths = _chunk_paths(ark_dir, config, c.index)
        feats_scp.update(read_table(paths["feats_scp"]))
        if paths["labels_scp"].stat().st_size:
            labels_scp.update(read_table(paths["labels_scp"]))
    _write_cmvn(data_dir, ark_dir, config, feats_scp, utt2spk)
    write_table(data_dir / "feats.scp", feats_scp)
    if labels_scp:
        write_table(data_dir / "labels.scp", labels_scp)
        write_text_atomic(data_dir / "phones.txt", "".join(f"{p} {i}\n" for p, i in phone_table().items()))
    write_text_atomic(data_dir / "feat_conf.yaml", yaml.safe_dump(asdict(config), sort_keys=False))
    return data_dir / "feats.scp"


def _is_done(ark_dir: Path, config: FeatureConfig, chunk: _Chunk) -> bool:
    paths = _chunk_paths(ark_dir, config, chunk.index)
    return paths["done"].is_file() and paths["done"].read_text() == _marker(config, chunk)


def _write_cmvn(
    data_dir: Path, ark_dir: Path, config: FeatureConfig, feats_scp: dict[str, str], utt2spk: dict[str, str]
) -> None:
    by_speaker: dict[str, list[np.ndarray]] = defaultdict(list)
    for utt, rx in feats_scp.items():
        by_speaker[utt2spk[utt]].append(kaldi_ark.read_matrix(rx))
    ark = ark_dir / f"cmvn_{config.kind}.ark"
    scp = kaldi_ark.write_matrices(ark, ((spk, cmvn_stats(by_speaker[spk])) for spk in sorted(by_speaker)))
    write_table(data_dir / "cmvn.scp", scp)
