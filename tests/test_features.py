"""Features against torchaudio's Kaldi reference, ark/scp round trips, CMVN, frame labels, resumption."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.compliance.kaldi as kaldi
from hypothesis import given, settings
from hypothesis import strategies as st

from gatescope.asr.data.datadir import read_ctm, read_table, validate_data_dir
from gatescope.asr.features import ark as kaldi_ark
from gatescope.asr.features.cmvn import apply_cmvn, cmvn_stats
from gatescope.asr.features.extract import extract_features, frame_labels
from gatescope.asr.features.fbank import FeatureConfig, compute_features, dither_noise
from gatescope.errors import ConfigError, InputError


def test_fbank_equals_torchaudio_kaldi_reference(tiny_data: Path) -> None:
    wavs = read_table(tiny_data / "train" / "wav.scp")
    feats = dict(kaldi_ark.read_matrix_scp(tiny_data / "train" / "feats.scp"))
    assert set(feats) == set(wavs)
    for utt, path in wavs.items():
        audio, rate = sf.read(path, dtype="int16")
        dithered = torch.from_numpy(audio.astype(np.float32) + dither_noise(0, audio.size))  # the config's dither 1.0
        reference = kaldi.fbank(  # in float64: the exact values, which float32 implementations round differently
            dithered.double().unsqueeze(0),
            num_mel_bins=40,
            frame_length=25.0,
            frame_shift=10.0,
            dither=0.0,
            sample_frequency=rate,
        )
        assert feats[utt].dtype == np.float32 and feats[utt].shape == (reference.shape[0], 40)
        # float32 rounding: the low bins of quiet frames, where pre-emphasis cancels most of the signal, are off
        # by up to 1e-3 in any float32 implementation (torchaudio's own float32 fbank by 1.5e-4 on other audio)
        np.testing.assert_allclose(feats[utt], reference.numpy(), rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize(
    ("config", "warp"),
    [
        (FeatureConfig(kind="mfcc", num_mel_bins=23, num_ceps=13, high_freq=3800), 1.0),
        (FeatureConfig(kind="fbank", num_mel_bins=40, low_freq=60, high_freq=-400), 1.0),
        (FeatureConfig(kind="fbank", num_mel_bins=40, high_freq=3800), 0.9),
        (FeatureConfig(kind="mfcc", num_mel_bins=30, num_ceps=20, sample_rate=8000, frame_shift_ms=12.5), 1.1),
    ],
)
def test_features_equal_torchaudio_kaldi_for_any_config(config: FeatureConfig, warp: float) -> None:
    """The cached-constant front end is Kaldi's fbank / MFCC as torchaudio computes them, for narrow bands, VTLN
    warps, other rates and shifts; a signal shorter than one frame has no frames."""
    rng = np.random.default_rng(3)
    wave = (rng.standard_normal(config.sample_rate) * 0.1).astype(np.float32)
    scaled = torch.from_numpy(wave) * 32768.0 + config.dither * torch.from_numpy(dither_noise(0, wave.size))
    options = dict(
        frame_length=config.frame_length_ms, frame_shift=config.frame_shift_ms, dither=0.0,
        sample_frequency=float(config.sample_rate), num_mel_bins=config.num_mel_bins, low_freq=config.low_freq,
        high_freq=config.top_freq, vtln_warp=warp, vtln_low=max(100.0, config.low_freq + 10.0),
        vtln_high=min(config.sample_rate / 2 - 500.0, config.top_freq - 10.0),
    )  # fmt: skip
    if config.kind == "fbank":
        reference = kaldi.fbank(scaled.unsqueeze(0), **options)
    else:
        reference = kaldi.mfcc(scaled.unsqueeze(0), num_ceps=config.num_ceps, **options)
    mine = compute_features(wave, config, vtln_warp=warp)
    assert (
        mine.shape
        == reference.shape
        == (1 + (wave.size - config.frame_samples()[0]) // config.frame_samples()[1], config.dim)
    )
    np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-5, atol=1e-4)
    assert compute_features(wave[: config.frame_samples()[0] - 1], config).shape == (0, config.dim)


def test_ark_round_trip_and_cmvn(tiny_data: Path, tmp_path: Path) -> None:
    feats = dict(kaldi_ark.read_matrix_scp(tiny_data / "train" / "feats.scp"))
    scp = kaldi_ark.write_matrices(tmp_path / "copy.ark", sorted(feats.items()))
    for utt, rx in scp.items():
        np.testing.assert_array_equal(kaldi_ark.read_matrix(rx), feats[utt])
    utt2spk = read_table(tiny_data / "train" / "utt2spk")
    cmvn = dict(kaldi_ark.read_matrix_scp(tiny_data / "train" / "cmvn.scp"))
    for spk, stats in cmvn.items():
        mine = [feats[u] for u, s in utt2spk.items() if s == spk]
        np.testing.assert_allclose(stats, cmvn_stats(mine))
        normalised = apply_cmvn(np.concatenate(mine), stats)
        np.testing.assert_allclose(normalised.mean(0), 0, atol=1e-3)
        np.testing.assert_allclose(normalised.std(0), 1, atol=1e-2)


def test_frame_labels_agree_with_phn_boundaries(tiny_data: Path, tiny_corpus: Path) -> None:
    phones = {
        int(i): p for p, i in (line.split() for line in (tiny_data / "train" / "phones.txt").read_text().splitlines())
    }
    for utt, rx in read_table(tiny_data / "train" / "labels.scp").items():
        speaker, name = utt.split("_")
        phn = next(tiny_corpus.glob(f"TRAIN/DR*/{speaker.upper()}/{name.upper()}.PHN"))
        segments = [(int(a), int(b), p) for a, b, p in (line.split() for line in phn.read_text().splitlines())]
        labels = kaldi_ark.read_int_vector(rx)
        for t, label in enumerate(labels):
            centre = t * 160 + 200
            inside = [p for a, b, p in segments if a <= centre < b]
            assert inside == [phones[label]], (utt, t)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 900), min_size=1, max_size=12), st.integers(0, 400))
def test_frame_labels_property(durations: list[int], extra: int) -> None:
    """Any segmentation: each frame gets the segment under its centre (the last one past the end)."""
    bounds = np.cumsum([0, *durations])
    spans = [(int(a), int(b), f"p{i}") for i, (a, b) in enumerate(itertools.pairwise(bounds))]
    config = FeatureConfig()
    num_frames = max(0, 1 + (int(bounds[-1]) + extra - 400) // 160)
    ids = {f"p{i}": i for i in range(len(spans))}
    labels = frame_labels(spans, num_frames, config, ids)
    for t, label in enumerate(labels):
        centre = t * 160 + 200
        expected = next((i for i, (a, b, _) in enumerate(spans) if a <= centre < b), len(spans) - 1)
        assert label == expected


def test_mfcc_with_deltas(tiny_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "dev"
    shutil.copytree(tiny_data / "dev", data, ignore=shutil.ignore_patterns("data", "*.scp", "phones.txt"))
    shutil.copy(tiny_data / "dev" / "wav.scp", data / "wav.scp")
    config = FeatureConfig(kind="mfcc", num_mel_bins=23, num_ceps=13, add_deltas=True)
    extract_features(data, config, progress=False)
    feats = dict(kaldi_ark.read_matrix_scp(data / "feats.scp"))
    utt, matrix = next(iter(feats.items()))
    assert matrix.shape[1] == 39
    audio, _ = sf.read(read_table(data / "wav.scp")[utt], dtype="int16")
    dithered = torch.from_numpy(audio.astype(np.float32) + dither_noise(0, audio.size))
    static = kaldi.mfcc(dithered.double().unsqueeze(0), num_ceps=13, num_mel_bins=23, dither=0.0)  # float64, as above
    np.testing.assert_allclose(matrix[:, :13], static.numpy(), rtol=1e-5, atol=2e-3)
    assert validate_data_dir(data) == []


def _copy_without_features(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("data", "feats.scp", "cmvn.scp", "labels.scp"))
    return dst


def test_resume_and_jobs_give_the_same_features(tiny_data: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("gatescope.asr.features.extract.CHUNK_UTTERANCES", 2)
    data = _copy_without_features(tiny_data / "train", tmp_path / "train")
    extract_features(data, FeatureConfig(), jobs=1, progress=False)
    reference = dict(kaldi_ark.read_matrix_scp(data / "feats.scp"))
    chunk0 = data / "data" / "raw_fbank.0.ark"
    kept = chunk0.stat().st_mtime_ns
    for chunk in (1, 2):  # two unfinished chunks: the rerun uses the process pool
        (data / "data" / f"raw_fbank.{chunk}.done").unlink()
    (data / "data" / "raw_fbank.2.ark").write_bytes(b"half-written")
    extract_features(data, FeatureConfig(), jobs=2, progress=False)
    assert chunk0.stat().st_mtime_ns == kept, "finished chunks are not recomputed"
    again = dict(kaldi_ark.read_matrix_scp(data / "feats.scp"))
    assert set(again) == set(reference)
    for utt in reference:
        np.testing.assert_array_equal(again[utt], reference[utt])
    changed = FeatureConfig(num_mel_bins=23)
    extract_features(data, changed, progress=False)
    assert next(kaldi_ark.read_matrix_scp(data / "feats.scp"))[1].shape[1] == 23, "a new config recomputes"


def test_bad_audio_names_the_utterance(tiny_data: Path, tmp_path: Path) -> None:
    data = _copy_without_features(tiny_data / "test", tmp_path / "test")
    wavs = read_table(data / "wav.scp")
    utt = sorted(wavs)[1]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"\x00" * 10)
    (data / "wav.scp").write_text("".join(f"{u} {broken if u == utt else w}\n" for u, w in sorted(wavs.items())))
    with pytest.raises(InputError, match=f"utterance {utt}: .*broken.wav"):
        extract_features(data, FeatureConfig(), progress=False)


def test_ctm_times_round_trip_to_samples(tiny_data: Path, tiny_corpus: Path) -> None:
    spans = read_ctm(tiny_data / "test" / "phones.ctm", 16000)
    utt = sorted(spans)[0]
    speaker, name = utt.split("_")
    phn = next(tiny_corpus.glob(f"TEST/DR*/{speaker.upper()}/{name.upper()}.PHN"))
    expected = [(int(a), int(b), p) for a, b, p in (line.split() for line in phn.read_text().splitlines())]
    assert spans[utt] == expected


def test_dither_gives_digital_silence_a_reproducible_noise_floor() -> None:
    silence = np.zeros(16000, dtype=np.float32)
    floor = compute_features(silence, FeatureConfig(dither=0.0)).numpy()
    dithered = compute_features(silence, FeatureConfig()).numpy()
    assert np.allclose(floor, np.log(np.finfo(np.float32).eps))  # log(0) clamped: far outside any training data
    assert dithered.min() > floor.max() + 5 and np.isfinite(dithered).all()
    np.testing.assert_array_equal(dithered, compute_features(silence, FeatureConfig()).numpy())
    late = compute_features(silence[:800], FeatureConfig(), first_sample=8000).numpy()
    assert not np.array_equal(late, dithered[:1])  # the dither follows the stream position


def test_narrow_band_features_are_the_same_for_a_16k_recording_and_its_8k_copy() -> None:
    """``high_freq=3800``: the mel bins stop below 4 kHz, so an 8 kHz recording (FSDD, a telephone) played at 16 kHz
    looks like the full-band original; the full-band default sees the missing band."""
    import torchaudio.functional as AF

    rng = np.random.default_rng(5)
    wave = torch.from_numpy(rng.standard_normal(16000).astype(np.float32) * 0.1)
    narrow_copy = AF.resample(AF.resample(wave, 16000, 8000), 8000, 16000)
    narrow, full = FeatureConfig(high_freq=3800), FeatureConfig()
    gap_narrow = (compute_features(wave, narrow) - compute_features(narrow_copy, narrow)).abs().mean()
    gap_full = (compute_features(wave, full) - compute_features(narrow_copy, full)).abs().mean()
    assert gap_narrow < 0.1 < 1.0 < gap_full
    assert compute_features(wave, FeatureConfig(high_freq=3800), vtln_warp=1.1).shape[1] == 40
    with pytest.raises(ConfigError, match="high_freq"):
        FeatureConfig(high_freq=9000)
    with pytest.raises(ConfigError, match="low_freq"):
        FeatureConfig(low_freq=4000, high_freq=3800)


def test_in_process_work_leaves_the_callers_thread_count(tiny_corpus: Path, tiny_data: Path, tmp_path: Path) -> None:
    """Feature extraction and corpus synthesis give their worker processes one thread each, but run in-process
    (jobs=1) they must not change the caller's thread count (a training started afterwards would use one core)."""
    from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        shutil.copytree(tiny_data / "dev", tmp_path / "dev")
        extract_features(tmp_path / "dev", FeatureConfig(num_mel_bins=23), jobs=1, progress=False)
        assert torch.get_num_threads() == 2
        config = SynthCorpusConfig(speakers=2, test_speakers=1, utts_per_speaker=1, seed=3, backends=("espeak",))
        generate_corpus(tmp_path / "corpus", config, jobs=1, progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
