"""Noise conditions applied to a Kaldi data dir's audio: the bridge between gatescope.noise and data dirs.

Each utterance gets its own seed derived from (seed, condition, utterance id), so every model evaluated under a
condition hears the same perturbed audio, and a re-run produces it again. Babble is drawn from the other speakers
of the data dir itself (or of ``babble_dir``).
"""

from __future__ import annotations

import json
import logging
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table, validated_data_dir
from gatescope.errors import InputError
from gatescope.files import refuse_overlap, write_table, write_text_atomic
from gatescope.noise import NoiseBank, NoiseSpec, insert_burst

log = logging.getLogger(__name__)

# Tables a perturbed data dir keeps unchanged (the audio's timing is kept, so alignments stay valid).
COPIED_TABLES = ("text", "text.61", "text.wrd", "utt2spk", "spk2utt", "spk2gender", "utt2dur", "phones.ctm")


@dataclass(frozen=True)
class Burst:
    """A burst at ``start`` (seconds, or a fraction of the utterance when ``relative``) lasting ``dur_s``."""

    start: float
    dur_s: float
    relative: bool = False

    @classmethod
    def parse(cls, text: str) -> Burst:
        """``START:DUR``: seconds, or ``50%:0.3`` for a burst starting at half the utterance."""
        start_text, sep, dur_text = text.partition(":")
        try:
            relative = start_text.endswith("%")
            start = float(start_text.rstrip("%")) / (100 if relative else 1)
            burst = cls(start, float(dur_text), relative)
        except ValueError:
            raise InputError(f"burst {text!r}: expected START:DUR in seconds, or START%:DUR (e.g. 50%:0.3)") from None
        if not sep or burst.dur_s <= 0 or burst.start < 0:
            raise InputError(f"burst {text!r}: expected START:DUR with DUR > 0 (e.g. 1.2:0.3 or 50%:0.3)")
        return burst

    def requested_start_s(self, num_samples: int, sample_rate: int) -> float:
        """The start in seconds asked for in an utterance of ``num_samples``."""
        return self.start * num_samples / sample_rate if self.relative else self.start

    def start_s(self, num_samples: int, sample_rate: int) -> float:
        """The start in seconds for an utterance, moved earlier if the burst would run past its end (the moves are
        reported in ``perturbation.json`` and on stderr)."""
        length = num_samples / sample_rate
        return max(0.0, min(self.requested_start_s(num_samples, sample_rate), length - self.dur_s))


def utterance_seed(seed: int, condition: str, utt: str) -> int:
    """A stable per-utterance seed (the same in every process and Python version)."""
    return zlib.crc32(f"{seed}/{condition}/{utt}".encode())


def read_waveforms(data_dir: Path, sample_rate: int | None = None) -> dict[str, np.ndarray]:
    """Every utterance's audio from ``wav.scp`` (mono float32), checked against ``sample_rate`` when given."""
    wav_scp = read_table(data_dir / "wav.scp")
    return {utt: read_audio(source, sample_rate)[0] for utt, source in wav_scp.items()}


def noise_bank_for(data_dir: Path, sample_rate: int, waves: dict[str, np.ndarray] | None = None) -> NoiseBank:
    """A bank whose babble pool is ``data_dir``'s utterances with their speakers."""
    utt2spk = read_table(data_dir / "utt2spk")
    waves = waves if waves is not None else read_waveforms(data_dir, sample_rate)
    pool = [(utt2spk[utt], torch.from_numpy(wave)) for utt, wave in sorted(waves.items())]
    return NoiseBank(sample_rate=sample_rate, babble_pool=pool)


def perturb_waveform(
    bank: NoiseBank,
    wave: np.ndarray,
    spec: NoiseSpec,
    snr_db: float | None,
    seed: int,
    speaker: str,
    burst: Burst | None = None,
    active_only: bool = False,
    name: str = "audio",
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """One utterance under a condition; returns the audio and the burst's sample span (None without a burst).

    With a burst, ``snr_db`` is the burst's level (None: the burst replaces the speech). An utterance the
    condition cannot be applied to (silent speech: no SNR) is refused naming ``name`` (its file or utterance)."""
    if burst is not None and not spec.additive:
        raise InputError("a burst must be an additive noise, not reverb")
    try:
        speech = torch.from_numpy(wave)
        if burst is None:
            return bank.perturb(speech, spec, snr_db, seed, speaker, active_only).numpy(), None
        start_s = burst.start_s(len(wave), bank.sample_rate)
        noise = bank.noise(spec, round(burst.dur_s * bank.sample_rate), seed, speaker)
        out, span = insert_burst(speech, noise, start_s, burst.dur_s, snr_db, bank.sample_rate)
        return out.numpy(), span
    except InputError as err:
        raise InputError(f"{name}: {err}") from None


def perturb_data_dir(
    data_dir: Path,
    out_dir: Path,
    noise: str,
    snr_db: float | None,
    seed: int = 0,
    burst: Burst | None = None,
    active_only: bool = False,
    babble_dir: Path | None = None,
    progress: bool = True,
) -> Path:
    """A new data dir with ``data_dir``'s utterances perturbed: 16-bit WAVs under ``out_dir/wav/``, its tables
    copied, and ``perturbation.json`` (the condition, and each utterance's burst span in samples)."""
    refuse_overlap(out_dir, {"--data": data_dir, "--babble-data": babble_dir})
    spec = NoiseSpec.parse(noise)
    rate = data_sample_rate(data_dir)
    waves = read_waveforms(data_dir, rate)
    bank = noise_bank_for(babble_dir or data_dir, rate, None if babble_dir else waves)
    utt2spk = read_table(data_dir / "utt2spk")
    condition = f"{spec}@{snr_db}" + (f"+burst{burst}" if burst else "")
    out_dir = out_dir.resolve()
    spans: dict[str, list[int]] = {}
    moved: dict[str, list[float]] = {}  # utt -> [asked start s, used start s]: the burst would not fit
    with validated_data_dir(out_dir) as staging:
        (staging / "wav").mkdir()
        wav_scp = {}
        for utt in tqdm(sorted(waves), desc=f"perturb {data_dir.name} ({condition})", disable=not progress):
            seed_utt = utterance_seed(seed, condition, utt)
            audio, span = perturb_waveform(
                bank, waves[utt], spec, snr_db, seed_utt, utt2spk[utt], burst, active_only, f"{data_dir}: {utt}"
            )
            sf.write(staging / "wav" / f"{utt}.wav", audio, rate, subtype="PCM_16")
            wav_scp[utt] = str(out_dir / "wav" / f"{utt}.wav")
            if span is not None:
                spans[utt] = list(span)
                asked = burst.requested_start_s(len(waves[utt]), rate) if burst else 0.0
                if burst and abs(asked - span[0] / rate) > 0.5 / rate:
                    moved[utt] = [round(asked, 4), round(span[0] / rate, 4)]
        write_table(staging / "wav.scp", wav_scp)
        for name in COPIED_TABLES:
            if (data_dir / name).is_file():
                shutil.copyfile(data_dir / name, staging / name)
        info: dict[str, Any] = {
            "source": str(data_dir),
            "noise": str(spec),
            "snr_db": snr_db,
            "seed": seed,
            "active_only": active_only,
        }
        info |= {"burst": burst.__dict__ if burst else None, "burst_spans": spans, "burst_moved": moved}
        if moved:
            log.warning(
                "%d of %d bursts started too late to fit their utterance and were moved earlier "
                "(burst_moved in perturbation.json)", len(moved), len(waves),
            )  # fmt: skip
        write_text_atomic(staging / "perturbation.json", json.dumps(info, indent=1) + "\n")
    return out_dir


def data_sample_rate(data_dir: Path) -> int:
    """The sample rate of a data dir's first utterance (all are checked against it when read)."""
    first = next(iter(read_table(data_dir / "wav.scp").values()))
    return read_audio(first)[1]


def perturb_files(
    paths: list[Path],
    out_dir: Path,
    noise: str,
    snr_db: float | None,
    seed: int = 0,
    burst: Burst | None = None,
    active_only: bool = False,
    babble_dir: Path | None = None,
) -> list[tuple[Path, tuple[int, int] | None]]:
    """Perturb audio files into ``out_dir`` under the same names, each in its input's container (16-bit PCM where
    the container holds it: WAV, FLAC, AIFF; its default coding otherwise: Ogg Vorbis, MP3); returns each output
    with its burst span."""
    spec = NoiseSpec.parse(noise)
    if spec.kind == "babble" and babble_dir is None:
        raise InputError("babble noise for WAV files needs --babble-data DATA_DIR (other speakers' utterances)")
    for path in paths:
        if (out_dir / path.name).resolve() == path.resolve():
            raise InputError(f"{path}: output would overwrite the input; choose another --out")
    inputs = [(path, *read_audio(path)) for path in paths]  # every input read and perturbed before any write
    banks: dict[int, NoiseBank] = {}
    perturbed = []
    for path, wave, rate in inputs:
        if rate not in banks:
            banks[rate] = noise_bank_for(babble_dir, rate) if babble_dir else NoiseBank(sample_rate=rate)
        seed_file = utterance_seed(seed, str(spec), path.name)
        audio, span = perturb_waveform(banks[rate], wave, spec, snr_db, seed_file, "", burst, active_only, str(path))
        perturbed.append((path, audio, rate, span))
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for path, audio, rate, span in perturbed:
        target = out_dir / path.name
        tmp = target.with_name(f".{target.name}.tmp")
        container = sf.info(str(path)).format
        subtype = "PCM_16" if sf.check_format(container, "PCM_16") else None
        sf.write(tmp, audio, rate, subtype=subtype, format=container)
        tmp.replace(target)
        results.append((target, span))
    return results
