"""gatescope.noise: spectral slopes, SNR accuracy, bursts, stream = whole-signal perturbation, sources."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import welch

import gatescope.noise as gn
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.errors import ConfigError, InputError
from gatescope.noise.mixing import fit_length, noise_gain

SR = 16000
SLOPES_DB_PER_OCTAVE = {"white": 0.0, "pink": -3.01, "brown": -6.02, "blue": 3.01, "violet": 6.02}


def speech_like(num_samples: int, seed: int, silence: float = 0.0) -> torch.Tensor:
    """Amplitude-modulated harmonic signal with optional leading/trailing digital silence."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_samples) / SR
    wave = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) / k for k, f in enumerate((120, 240, 360, 900), 1))
    wave *= 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    wave = 0.1 * wave / np.abs(wave).max()
    pad = int(silence * num_samples)
    if pad:
        wave[:pad] = 0.0
        wave[-pad:] = 0.0
    return torch.from_numpy(wave.astype(np.float32))


@pytest.mark.parametrize("color", sorted(SLOPES_DB_PER_OCTAVE))
def test_colored_noise_has_the_target_slope(color: str) -> None:
    noise = gn.colored(color, 10 * SR, seed=3).numpy()
    freqs, psd = welch(noise, fs=SR, nperseg=4096)
    band = (freqs >= 100) & (freqs <= 7000)
    slope_per_octave = np.polyfit(np.log2(freqs[band]), 10 * np.log10(psd[band]), 1)[0]
    assert abs(slope_per_octave - SLOPES_DB_PER_OCTAVE[color]) < 0.5
    assert noise.dtype == np.float32 and abs(np.sqrt(np.mean(noise.astype(np.float64) ** 2)) - 0.1) < 1e-4


def test_colored_noise_is_reproducible_and_seeded() -> None:
    assert torch.equal(gn.colored("pink", 1000, seed=1), gn.colored("pink", 1000, seed=1))
    assert not torch.equal(gn.colored("pink", 1000, seed=1), gn.colored("pink", 1000, seed=2))
    with pytest.raises(InputError, match="unknown noise colour"):
        gn.colored("green", 100)


def numpy_snr(speech: np.ndarray, noise: np.ndarray, mask: np.ndarray | None = None) -> float:
    if mask is not None:
        speech, noise = speech[mask], noise[mask]
    return float(10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2)))


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(800, 24000),
    noise_length=st.integers(200, 30000),
    snr=st.floats(-10, 40),
    amplitude=st.floats(1e-3, 1.0),
    active_only=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_mix_hits_the_snr_and_never_clips(
    length: int, noise_length: int, snr: float, amplitude: float, active_only: bool, seed: int
) -> None:
    speech = speech_like(length, seed, silence=0.2 if active_only else 0.0) * (amplitude / 0.1)
    noise = gn.colored("white", noise_length, seed=seed)
    out = gn.mix(speech, noise, snr, active_only=active_only)
    assert out.shape == speech.shape and out.dtype == torch.float32
    assert float(out.abs().max()) <= 1.0
    added = fit_length(noise, length) * noise_gain(speech, fit_length(noise, length), snr, active_only)
    mask = gn.active_mask(speech).numpy() if active_only else None
    assert abs(numpy_snr(speech.numpy(), added.numpy(), mask) - snr) < 0.1
    # The output is speech + that noise, scaled as a whole by at most 1 (rescaling keeps the SNR).
    unscaled = (speech.double() + added).numpy()
    scale = float(np.dot(out.numpy(), unscaled) / np.dot(unscaled, unscaled))
    assert scale <= 1.0 + 1e-6
    np.testing.assert_allclose(out.numpy(), scale * unscaled, atol=1e-6)


def test_mix_rescales_a_mixture_that_would_clip() -> None:
    speech = speech_like(SR, 0) * 9.0  # peak 0.9
    out = gn.mix(speech, gn.colored("white", SR), snr_db=-5.0)
    assert abs(float(out.abs().max()) - 0.99) < 1e-6


def test_mix_batched_with_per_row_snr() -> None:
    speech = torch.stack([speech_like(SR, 0), speech_like(SR, 1)])
    snrs = torch.tensor([0.0, 20.0])
    out = gn.mix(speech, gn.colored("pink", SR // 2), snrs)
    for row in range(2):
        assert abs(numpy_snr(speech[row].numpy(), (out[row] - speech[row]).numpy()) - float(snrs[row])) < 0.1


def test_mix_refuses_silent_input() -> None:
    with pytest.raises(InputError, match="speech is silent"):
        gn.mix(torch.zeros(100), torch.ones(100), 10.0)
    with pytest.raises(InputError, match="noise is silent"):
        gn.mix(speech_like(1000, 0), torch.zeros(100), 10.0)


def test_active_only_ignores_silence() -> None:
    speech = speech_like(2 * SR, 0, silence=0.3)
    noise = gn.colored("white", 2 * SR, seed=1)
    whole = gn.mix(speech, noise, 10.0) - speech
    active = gn.mix(speech, noise, 10.0, active_only=True) - speech
    mask = gn.active_mask(speech).numpy()
    assert mask[: int(0.3 * 2 * SR) - 160].sum() == 0 and mask.mean() == pytest.approx(0.4, abs=0.02)
    assert abs(numpy_snr(speech.numpy(), active.numpy(), mask) - 10.0) < 0.1
    # On the whole utterance the silence dilutes the speech power: less noise at the same nominal SNR.
    assert whole.pow(2).mean() < active.pow(2).mean()


@pytest.mark.parametrize("snr", [None, 0.0, 10.0])
def test_insert_burst_span_level_and_frames(snr: float | None) -> None:
    speech = speech_like(2 * SR, 4, silence=0.1)
    noise = gn.colored("white", SR, seed=2)
    out, (start, end) = gn.insert_burst(speech, noise, start_s=0.8, dur_s=0.25, snr_db=snr)
    assert (start, end) == (12800, 16800)
    assert torch.equal(out[:start], speech[:start]) and torch.equal(out[end:], speech[end:])
    mask = gn.active_mask(speech).numpy()
    p_speech = np.mean(speech.numpy().astype(np.float64)[mask] ** 2)
    burst = (out[start:end] - (0 if snr is None else speech[start:end])).numpy().astype(np.float64)
    assert 10 * np.log10(p_speech / np.mean(burst**2)) == pytest.approx(snr or 0.0, abs=0.05)
    # Exactly the frames burst_frames names see the burst.
    config = FeatureConfig()
    clean, noisy = compute_features(speech, config), compute_features(out, config)
    first, stop = gn.burst_frames((start, end), *config.frame_samples(), num_frames=clean.shape[0])
    changed = (clean - noisy).abs().amax(dim=1) > 0
    assert changed[first] and changed[stop - 1] and not changed[:first].any() and not changed[stop:].any()


def test_insert_burst_outside_the_utterance_is_an_error() -> None:
    with pytest.raises(InputError, match="does not fit"):
        gn.insert_burst(speech_like(SR, 0), gn.colored("white", SR), start_s=0.9, dur_s=0.2)


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 3 * SR), max_size=12),
    spec=st.sampled_from(["white:5", "pink:0@every=0.5,dur=0.1", "brown:10@every=1,dur=0.3,first=0.2"]),
    seed=st.integers(0, 100),
)
def test_stream_chunks_equal_whole_signal(cuts: list[int], spec: str, seed: int) -> None:
    signal = speech_like(3 * SR, seed)
    bank = gn.NoiseBank()
    whole = gn.StreamPerturber.from_spec(spec, bank, seed=seed).process(signal)
    streamer = gn.StreamPerturber.from_spec(spec, bank, seed=seed)
    bounds = [0, *sorted(cuts), 3 * SR]
    chunked = torch.cat([streamer.process(signal[a:b]) for a, b in itertools.pairwise(bounds)])
    assert torch.equal(chunked, whole)


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, SR), max_size=8))
def test_stream_reverb_chunks_equal_whole_signal(cuts: list[int]) -> None:
    signal = speech_like(SR, 1)
    rir = gn.synthetic_rir(0.3, seed=1)
    whole = gn.StreamPerturber(rir=rir).process(signal)
    streamer = gn.StreamPerturber(rir=rir)
    bounds = [0, *sorted(cuts), SR]
    chunked = torch.cat([streamer.process(signal[a:b]) for a, b in itertools.pairwise(bounds)])
    torch.testing.assert_close(chunked, whole, atol=1e-5, rtol=0)


def test_stream_matches_offline_noise_and_burst_spans() -> None:
    signal = speech_like(2 * SR, 0)
    loop = gn.colored("white", SR, seed=5)
    schedule = gn.BurstSchedule(every_s=0.5, dur_s=0.1, first_s=0.25)
    out = gn.StreamPerturber(noise=loop, snr_db=6.0, bursts=schedule).process(signal)
    level = 10 ** ((-26.0 - 6.0) / 20)
    expected = signal.clone()
    for start, end in schedule.spans(2 * SR, SR):
        expected[start:end] += (fit_length(loop, end - start, start).double() * level / 0.1).float()
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    assert schedule.spans(2 * SR, SR)[:2] == [(4000, 5600), (12000, 13600)]


def test_inject_spec_errors_are_clear() -> None:
    bank = gn.NoiseBank()
    for bad, message in [
        ("pink", "NOISE:SNR"),
        ("pink:loud", "NOISE:SNR"),
        ("hiss:10", "unknown noise"),
        ("white:10@every=1", "every=S and dur=D"),
        ("white:10@often", "every=S,dur=D"),
    ]:
        with pytest.raises(InputError, match=message):
            gn.StreamPerturber.from_spec(bad, bank)


def test_babble_uses_other_speakers_only() -> None:
    pool = [("spk1", speech_like(SR, 1)), ("spk2", torch.zeros(SR))]
    bank = gn.NoiseBank(babble_pool=pool)
    out = bank.noise("babble:3", 2 * SR, seed=0, exclude_speaker="spk2")
    assert out.shape == (2 * SR,) and abs(float(out.pow(2).mean().sqrt()) - 0.1) < 1e-4
    with pytest.raises(InputError, match="silent utterance"):
        bank.noise("babble", SR, exclude_speaker="spk1")


def test_file_noise_loops_resamples_and_reports_bad_files(tmp_path) -> None:
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "a.wav", (0.2 * rng.standard_normal(8000)).astype(np.float32), 8000)
    sf.write(tmp_path / "b.flac", (0.2 * rng.standard_normal((4000, 2))).astype(np.float32), 16000)
    bank = gn.NoiseBank()
    out = bank.noise(f"file:{tmp_path}", 3 * SR, seed=1)
    assert out.shape == (3 * SR,)
    assert [w.shape[0] for _, w in gn.load_noise_files(tmp_path, SR)] == [16000, 4000]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "c.wav").write_bytes(b"not audio")
    with pytest.raises(InputError, match=r"c\.wav: unreadable noise file"):
        gn.load_noise_files(tmp_path / "bad", SR)
    with pytest.raises(InputError, match="no such noise file"):
        bank.noise(f"file:{tmp_path}/missing", SR)


def test_hum_and_clicks() -> None:
    hum = gn.hum(SR, SR, frequency=60.0).numpy()
    spectrum = np.abs(np.fft.rfft(hum))
    assert int(np.argmax(spectrum)) == 60
    clicks = gn.clicks(SR, SR, rate_hz=10, seed=0).numpy()
    assert np.mean(np.abs(clicks) > 1e-3) < 0.2  # impulsive: mostly silent


def test_reverb_keeps_timing_length_and_level() -> None:
    impulse = torch.zeros(SR)
    impulse[4000] = 0.5
    wet = gn.reverberate(impulse, gn.synthetic_rir(0.5, seed=0))
    assert wet.shape == impulse.shape and int(wet.abs().argmax()) == 4000
    assert abs(float(wet.pow(2).mean() - impulse.pow(2).mean())) < 1e-6
    assert float(wet[4000 + 800 :].abs().max()) > 0  # a reverberant tail after the direct sound


def test_augment_probability_and_snr_range() -> None:
    speech = speech_like(SR, 0)
    bank = gn.NoiseBank()
    never = gn.AugmentConfig(prob=0.0)
    assert gn.augment(speech, never, bank, np.random.default_rng(0))[0] is speech
    always = gn.AugmentConfig(prob=1.0, types=("pink",), snr_min=5.0, snr_max=15.0)
    for seed in range(5):
        out, _, what = gn.augment(speech, always, bank, np.random.default_rng(seed))
        mask = gn.active_mask(speech).numpy()
        measured = numpy_snr(speech.numpy(), (out - speech).numpy(), mask)
        assert what.startswith("pink@") and 5.0 - 0.1 <= measured <= 15.0 + 0.1
    with pytest.raises(InputError, match="SNR range is empty"):
        gn.AugmentConfig(prob=0.5, snr_min=10, snr_max=0)


def test_speed_perturbation_changes_the_length_and_keeps_the_signal() -> None:
    speech = speech_like(SR, 0)
    for factor in (0.9, 1.1):
        out = gn.speed_perturb(speech, factor)
        assert abs(out.shape[0] - speech.shape[0] / factor) <= 2
    assert gn.speed_perturb(speech, 1.0) is speech
    with pytest.raises(ConfigError, match="speed factor"):
        gn.speed_perturb(speech, 3.0)


def test_trim_silence_keeps_the_speech_and_the_asked_share_of_silence() -> None:
    speech = speech_like(SR, 0, silence=0.25)  # 4000 samples of zeros at each end of 16000
    start, end = gn.speech_span(speech, SR)
    assert abs(start - 4000) <= SR // 100 and abs(end - 12000) <= SR // 100
    tight = gn.trim_silence(speech, SR, 0.0, 0.0)
    assert tight.shape[0] == end - start and torch.equal(tight, speech[start:end])
    half = gn.trim_silence(speech, SR, 0.5, 1.0)
    assert half.shape[0] == (end - start) + round(start * 0.5) + (SR - end)
    assert torch.equal(gn.trim_silence(speech, SR, 1.0, 1.0), speech)
    with pytest.raises(ConfigError, match="kept silence"):
        gn.trim_silence(speech, SR, 1.5, 0.0)


def test_a_lower_trim_floor_cuts_into_the_weak_edges_of_the_speech() -> None:
    # 0.1 s of a weak "fricative" (white noise 25 dB under the speech's loudest 10 ms) before the speech, after
    # 0.2 s of digital silence: the default floor (35 dB) keeps the fricative, a 20 dB one cuts it off.
    speech = speech_like(SR // 2, 0)
    loudest = float(gn.frame_levels_db(speech, SR).max())
    weak = gn.colored("white", SR // 10, seed=1)
    weak = weak * (10 ** ((loudest - 25) / 20) / float(weak.pow(2).mean().sqrt()))
    wave = torch.cat([torch.zeros(SR // 5), weak, speech])
    assert abs(gn.speech_span(wave, SR)[0] - SR // 5) <= SR // 100
    assert abs(gn.speech_span(wave, SR, floor_db=20.0)[0] - (SR // 5 + SR // 10)) <= 3 * SR // 100
    levels = gn.frame_levels_db(wave, SR)
    for floor in (20.0, 35.0):
        assert gn.span_of_levels(levels, SR, wave.shape[0], floor) == gn.speech_span(wave, SR, floor)
    # drawn last, in its range, and only for trimmed utterances; the cut shows in the description
    config = gn.AugmentConfig(trim_prob=0.5, zeros_prob=0.5, trim_floor_db_min=15.0, trim_floor_db_max=30.0)
    plain = gn.AugmentConfig(trim_prob=0.5, zeros_prob=0.5)
    bank, floors = gn.NoiseBank(), set()
    for seed in range(12):
        draws = gn.draw_augmentation(config, np.random.default_rng(seed))
        assert draws.trim == gn.draw_augmentation(plain, np.random.default_rng(seed)).trim
        if draws.trim is None:
            assert draws.trim_floor_db == 15.0
            continue
        assert 15.0 <= draws.trim_floor_db <= 30.0
        floors.add(draws.trim_floor_db)
        out = gn.apply_augmentation(wave, draws, bank)
        assert f"@{draws.trim_floor_db:.1f}dB" in out.description
        span = gn.speech_span(wave, SR, draws.trim_floor_db)
        assert out.wave.shape[0] == gn.augmented_length(draws, wave.shape[0], span, SR)
    assert len(floors) >= 3
    with pytest.raises(InputError, match="trim floors"):
        gn.AugmentConfig(trim_floor_db_min=30.0, trim_floor_db_max=20.0)


def test_trim_is_drawn_last_so_other_draws_do_not_move() -> None:
    speech = speech_like(SR, 2, silence=0.2)
    base = gn.AugmentConfig(prob=0.5, types=("white",), speed_factors=(0.9, 1.1), channel_prob=0.5)
    with_trim = gn.AugmentConfig(**{**base.__dict__, "trim_prob": 1.0})
    bank = gn.NoiseBank()
    for seed in range(6):
        plain = gn.augment(speech, base, bank, np.random.default_rng(seed))
        trimmed = gn.augment(speech, with_trim, bank, np.random.default_rng(seed))
        assert trimmed.description.split()[1:] == plain.description.split()
        assert trimmed.description.startswith("trim") and trimmed.wave.shape[0] <= plain.wave.shape[0] + 2


def test_digital_zeros_are_exact_drawn_last_and_bounded() -> None:
    speech = speech_like(SR, 1, silence=0.2)
    base = gn.AugmentConfig(prob=1.0, types=("white",), snr_min=10, snr_max=10, trim_prob=0.5)
    with_zeros = gn.AugmentConfig(**{**base.__dict__, "zeros_prob": 1.0, "zeros_max_s": 1.5})
    bank = gn.NoiseBank()
    for seed in range(6):
        plain = gn.augment(speech, base, bank, np.random.default_rng(seed))
        padded = gn.augment(speech, with_zeros, bank, np.random.default_rng(seed))
        assert padded.description.split()[:-1] == plain.description.split() and "zeros" in padded.description
        lead, trail = (float(x) for x in padded.description.split()[-1].removeprefix("zeros").split(","))
        assert 0 <= lead <= 1.5 and 0 <= trail <= 1.5
        head, tail, slack = round(lead * SR), round(trail * SR), SR // 200  # the description rounds to 10 ms
        assert abs(padded.wave.shape[0] - plain.wave.shape[0] - head - tail) <= 2 * slack
        assert not padded.wave[: max(head - slack, 0)].any() and not padded.wave[-max(tail - slack, 1) :].any()
        starts = [k for k in range(max(head - slack, 0), head + slack + 1)
                  if torch.equal(padded.wave[k : k + plain.wave.shape[0]], plain.wave)]  # fmt: skip
        assert len(starts) == 1, "the speech (with its noise) is kept whole; no noise fills the zeros"
    with pytest.raises(InputError, match="zeros_prob"):
        gn.AugmentConfig(zeros_prob=1.5)


def test_nonspeech_is_zeros_or_quiet_noise_at_its_drawn_level_and_reproducible() -> None:
    bank = gn.NoiseBank()
    kinds = set()
    for seed in range(12):
        out = gn.nonspeech(SR // 2, bank, np.random.default_rng(seed))
        again = gn.nonspeech(SR // 2, bank, np.random.default_rng(seed))
        assert torch.equal(out.wave, again.wave) and out.wave.shape == (SR // 2,) and out.vtln_warp == 1.0
        kind = out.description.split()[1].split("@")[0]
        kinds.add(kind)
        if kind == "zeros":
            assert not out.wave.any()
            continue
        level = float(out.description.split("@")[1].removesuffix("dBFS"))
        rms_db = 20 * math.log10(float(out.wave.pow(2).mean().sqrt()))
        assert -70 <= level <= -35 and abs(rms_db - level) < 0.6
    assert kinds == {"zeros", "white", "pink"}
    with pytest.raises(InputError, match="nonspeech_prob"):
        gn.AugmentConfig(nonspeech_prob=-0.1)


def test_band_limit_removes_everything_above_the_cutoff() -> None:
    noise = gn.colored("white", SR * 2, seed=3)
    limited = gn.band_limit(noise, 4000, SR)
    freqs, power = welch(limited.numpy(), SR, nperseg=1024)
    _, before = welch(noise.numpy(), SR, nperseg=1024)
    above, below = freqs > 4200, (freqs > 300) & (freqs < 3600)
    assert power[above].mean() < 1e-4 * before[above].mean()  # more than 40 dB down
    assert 0.8 < power[below].mean() / before[below].mean() < 1.2
    assert limited.shape == noise.shape


def test_a_channel_band_limited_at_or_above_nyquist_leaves_an_8k_recording_as_it_was() -> None:
    """The random channel's 4 kHz band-limit drawn for 8 kHz training audio (the digits recipe) has nothing to
    remove: it is skipped instead of refused."""
    wave = gn.colored("white", 8000, seed=5)
    out = gn.Channel(band_limit_hz=4000.0).apply(wave, 8000)
    assert torch.equal(out, wave)
    assert not torch.equal(gn.Channel(band_limit_hz=3400.0).apply(wave, 8000), wave)


def test_tilt_has_the_requested_slope() -> None:
    noise = gn.colored("white", SR * 4, seed=4)
    freqs, flat = welch(noise.numpy(), SR, nperseg=2048)
    _, tilted = welch(gn.tilt(noise, 3.0, SR).numpy(), SR, nperseg=2048)
    band = (freqs > 250) & (freqs < 6000)
    slope = np.polyfit(np.log2(freqs[band]), 10 * np.log10(tilted[band] / flat[band]), 1)[0]
    assert abs(slope - 3.0) < 0.3


def test_augmentation_is_seeded_and_reproducible() -> None:
    speech = speech_like(SR, 1)
    config = gn.AugmentConfig(prob=0.5, types=("pink",), speed_factors=(0.9, 1.0, 1.1), channel_prob=0.5, vtlp_max=0.1)
    bank = gn.NoiseBank()
    seen = set()
    for seed in range(12):
        first = gn.augment(speech, config, bank, np.random.default_rng(seed))
        again = gn.augment(speech, config, bank, np.random.default_rng(seed))
        assert torch.equal(first.wave, again.wave) and first == (first.wave, again.vtln_warp, again.description)
        assert 0.9 <= first.vtln_warp <= 1.1
        seen |= set(first.description.split())
    assert any(d.startswith("speed") for d in seen) and any(d.startswith("pink@") for d in seen)
    assert any(d.startswith("bl") or d.startswith("tilt") for d in seen)
    with pytest.raises(InputError, match="vtlp_max"):
        gn.AugmentConfig(vtlp_max=0.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_noise_runs_the_same_on_gpu() -> None:
    speech = speech_like(SR, 0)
    noise = gn.colored("pink", SR, seed=1)
    cpu = gn.mix(speech, noise, 5.0, active_only=True)
    gpu = gn.mix(speech.cuda(), gn.colored("pink", SR, seed=1, device="cuda"), 5.0, active_only=True)
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-6, rtol=0)
    burst_cpu, span = gn.insert_burst(speech, noise, 0.2, 0.3, snr_db=0.0)
    burst_gpu, span_gpu = gn.insert_burst(speech.cuda(), noise.cuda(), 0.2, 0.3, snr_db=0.0)
    assert span == span_gpu
    torch.testing.assert_close(burst_gpu.cpu(), burst_cpu, atol=1e-6, rtol=0)
