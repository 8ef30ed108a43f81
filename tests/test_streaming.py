"""Streaming: online front end = offline front end, streaming decoding = offline decoding for any chunking."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gatescope.noise as gn
from gatescope.asr import Recognizer
from gatescope.asr.decoding.search import beam_decode, greedy_decode
from gatescope.asr.features.cmvn import OnlineCMVN, apply_cmvn, cmvn_stats
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.asr.features.online import OnlineFeatures, StreamResampler
from gatescope.asr.models.acoustic import AcousticModel, ModelConfig
from gatescope.asr.streaming.sources import pcm_chunks, wav_chunks
from gatescope.cli import main
from gatescope.errors import InputError
from tests.test_cells import matmul_backend

SR = 16000
RNG = np.random.default_rng(0)
SIGNAL = (0.1 * RNG.standard_normal(3 * SR) * np.sin(np.linspace(0, 20, 3 * SR)) ** 2).astype(np.float32)


def split(signal: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    bounds = [0, *sorted(c % (signal.size + 1) for c in cuts), signal.size]
    return [signal[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(0, 3 * SR), max_size=15), kind=st.sampled_from(["fbank", "mfcc"]))
def test_online_features_equal_offline(cuts: list[int], kind: str) -> None:
    config = FeatureConfig(kind=kind)
    online = OnlineFeatures(config)
    frames = np.concatenate([online.accept(part) for part in split(SIGNAL, cuts)])
    offline = compute_features(SIGNAL, config).numpy()
    assert frames.shape == offline.shape
    np.testing.assert_allclose(frames, offline, atol=1e-4, rtol=1e-5)  # float rounding of other batch shapes


def test_online_features_refuse_deltas() -> None:
    with pytest.raises(InputError, match="without deltas"):
        OnlineFeatures(FeatureConfig(kind="mfcc", add_deltas=True))


@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 3 * SR), max_size=10),
    rates=st.sampled_from([(48000, 16000), (44100, 16000), (8000, 16000)]),
)
def test_stream_resampler_is_chunking_invariant(cuts: list[int], rates: tuple[int, int]) -> None:
    whole = StreamResampler(*rates).process(SIGNAL)
    resampler = StreamResampler(*rates)
    parts = np.concatenate([resampler.process(part) for part in split(SIGNAL, cuts)])
    np.testing.assert_array_equal(parts, whole)
    assert abs(whole.size - SIGNAL.size * rates[1] / rates[0]) <= 1


def test_stream_resampler_passes_speech_band_and_rejects_aliases() -> None:
    t = np.arange(48000) / 48000
    tone = StreamResampler(48000, 16000).process(np.sin(2 * np.pi * 1000 * t))
    alias = StreamResampler(48000, 16000).process(np.sin(2 * np.pi * 12000 * t))
    assert abs(np.sqrt(np.mean(tone[200:] ** 2)) - np.sqrt(0.5)) < 0.01
    assert np.sqrt(np.mean(alias[200:] ** 2)) < 0.01


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 80), min_size=1, max_size=8), norm_vars=st.booleans())
def test_sliding_cmvn_equals_a_direct_computation(sizes: list[int], norm_vars: bool) -> None:
    frames = RNG.standard_normal((sum(sizes), 5)) * 3 + 1
    window = 37
    cmvn = OnlineCMVN("sliding", None, norm_vars, window=window)
    out = np.concatenate([cmvn.apply(part) for part in np.split(frames, np.cumsum(sizes)[:-1])])
    for t in range(frames.shape[0]):
        context = frames[max(0, t - window + 1) : t + 1]
        expected = frames[t] - context.mean(0)
        if norm_vars:
            expected = expected / np.sqrt(np.maximum(context.var(0), 1e-10))
        np.testing.assert_allclose(out[t], expected, atol=1e-4)


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 80), min_size=1, max_size=8), norm_vars=st.booleans())
def test_online_cmvn_equals_a_direct_computation(sizes: list[int], norm_vars: bool) -> None:
    """Kaldi's online CMVN: the last ``window`` frames, topped up to ``prior_frames`` with the prior's moments."""
    frames = RNG.standard_normal((sum(sizes), 5)) * 3 + 1
    prior = cmvn_stats([RNG.standard_normal((50, 5)) * 2 - 4])
    window, weight = 37, 20
    cmvn = OnlineCMVN("online", prior, norm_vars, window=window, prior_frames=weight)
    out = np.concatenate([cmvn.apply(part) for part in np.split(frames, np.cumsum(sizes)[:-1])])
    prior_mean, prior_square = prior[0, :-1] / 50, prior[1, :-1] / 50
    for t in range(frames.shape[0]):
        context = frames[max(0, t - window + 1) : t + 1]
        top_up = max(weight - len(context), 0)
        count = len(context) + top_up
        mean = (context.sum(0) + top_up * prior_mean) / count
        var = ((context**2).sum(0) + top_up * prior_square) / count - mean**2
        expected = frames[t] - mean
        if norm_vars:
            expected = expected / np.sqrt(var)
        np.testing.assert_allclose(out[t], expected, atol=1e-4)


def test_online_cmvn_leaves_digital_silence_out_of_its_statistics() -> None:
    """Two seconds of exact zeros (a muted microphone) before the speech leave the speech's normalisation as it
    was; counted in the statistics (no level gate), they change it."""
    config = FeatureConfig()
    speech, zeros = (compute_features(x, config).numpy() for x in (SIGNAL, np.zeros(2 * SR, np.float32)))
    floor = config.silence_level() + 1.0
    assert config.frame_levels(zeros).max() < floor < config.frame_levels(speech).min()

    def normalised(gated: bool, lead: np.ndarray | None) -> np.ndarray:
        gate = {"levels": config.frame_levels, "min_level": floor} if gated else {}
        cmvn = OnlineCMVN("online", STATS, True, **gate)
        if lead is not None:
            cmvn.apply(lead)
        return cmvn.apply(speech)

    np.testing.assert_allclose(normalised(True, zeros), normalised(True, None), atol=1e-5)
    assert np.abs(normalised(False, zeros) - normalised(False, None)).max() > 0.1


def test_recognizer_carries_online_cmvn_over_a_reset_only_when_asked() -> None:
    recognizer = Recognizer(random_model("gru"), cmvn="online", endpoint_ms=0, features=FeatureConfig(),
                            cmvn_stats=STATS)  # fmt: skip
    recognizer.accept(SIGNAL)
    heard = recognizer.cmvn.frames_heard
    assert heard > 100
    recognizer.reset(keep_cmvn=True)
    assert recognizer.cmvn.frames_heard == heard and recognizer.frames == 0
    recognizer.reset()
    assert recognizer.cmvn.frames_heard == 0


def random_model(cell: str, tokens: int = 12, seed: int = 0) -> AcousticModel:
    """An untrained model with a sharpened output layer: its decisions are random but crisp (no near-ties)."""
    torch.manual_seed(seed)
    model = AcousticModel(40, tokens, ModelConfig(cell=cell, num_layers=2, hidden_size=24, frame_stack=3))
    with torch.no_grad():
        model.output.weight.mul_(8.0)
    model.tokens = ["<blk>", *[f"t{i}" for i in range(1, tokens)]]
    model.train_config = {"norm_vars": True, "target": "phones"}
    return model.eval()


def offline(model: AcousticModel, stats: np.ndarray, beam: int = 0) -> str:
    feats = apply_cmvn(compute_features(SIGNAL, FeatureConfig()).numpy(), stats)
    with torch.no_grad():
        log_probs = model(torch.from_numpy(feats).unsqueeze(0)).log_probs
    lengths = torch.tensor([log_probs.shape[1]])
    ids = beam_decode(log_probs, lengths, model.tokens, beam)[0] if beam else greedy_decode(log_probs, lengths)[0]
    return " ".join(model.tokens[i] for i in ids)


STATS = cmvn_stats([compute_features(SIGNAL, FeatureConfig()).numpy()])


@settings(max_examples=12, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 3 * SR), max_size=12),
    cell=st.sampled_from(["lstm", "gru", "cifg"]),
    endpoint_ms=st.sampled_from([0.0, 90.0, 600.0]),
)
def test_streaming_greedy_equals_offline_for_any_chunking(cuts: list[int], cell: str, endpoint_ms: float) -> None:
    model = random_model(cell)
    recognizer = Recognizer(model, cmvn="global", endpoint_ms=endpoint_ms, features=FeatureConfig(), cmvn_stats=STATS)
    assert (recognizer.numpy_stack is None) == (cell == "cifg"), "numpy runs the standard cells, torch the variants"
    events = [e for part in split(SIGNAL, cuts) for e in recognizer.accept(part)] + recognizer.finish()
    expected = offline(model, STATS)
    assert expected and recognizer.text == expected
    finals = [e for e in events if e.kind == "final"]
    assert " ".join(e.text for e in finals) == expected
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(finals))


@settings(max_examples=6, deadline=None)
@given(cuts=st.lists(st.integers(0, 3 * SR), max_size=8))
def test_streaming_beam_equals_offline_beam(cuts: list[int]) -> None:
    model = random_model("lstm", seed=1)
    recognizer = Recognizer(model, beam=4, cmvn="global", endpoint_ms=0, features=FeatureConfig(), cmvn_stats=STATS)
    for part in split(SIGNAL, cuts):
        recognizer.accept(part)
    recognizer.finish()
    assert recognizer.text == offline(model, STATS, beam=4)


def test_shadow_memory_distance_is_zero_without_noise_and_grows_with_it() -> None:
    model = random_model("gru")
    quiet = Recognizer(model, perturber=gn.StreamPerturber(), shadow=True, features=FeatureConfig(), cmvn_stats=STATS)
    for part in np.array_split(SIGNAL, 10):
        quiet.accept(part)
    assert quiet.memory_distance() == [0.0, 0.0]
    schedule = gn.BurstSchedule(every_s=10.0, dur_s=0.3, first_s=1.0)
    noisy = gn.StreamPerturber(noise=gn.colored("white", SR), snr_db=0.0, bursts=schedule)
    live = Recognizer(model, perturber=noisy, shadow=True, features=FeatureConfig(), cmvn_stats=STATS)
    distances = []
    for part in np.array_split(SIGNAL, 30):  # 100 ms chunks
        live.accept(part)
        distances.append(max(live.memory_distance()))
    assert distances[8] == 0.0 and max(distances[10:14]) > 0.5  # nothing before the burst at 1.0 s, then a jump


@settings(max_examples=20, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 7), min_size=1, max_size=12),
    cell=st.sampled_from(["lstm", "gru"]),
    residual=st.booleans(),
    onednn=st.booleans(),
)
def test_numpy_stack_equals_the_model_for_any_chunking(
    sizes: list[int], cell: str, residual: bool, onednn: bool
) -> None:
    """The numpy stack's log-probs and final state equal the model's for any chunking, with its input products all
    by PyTorch's BLAS or all by oneDNN (which the demo's sizes take)."""
    from gatescope.asr.models.cells import cpu_matmul
    from gatescope.asr.streaming.numpy_stack import NumpyStack

    torch.manual_seed(len(sizes))
    model = AcousticModel(30, 7, ModelConfig(cell=cell, num_layers=3, hidden_size=30, residual=residual)).eval()
    frames = torch.randn(1, sum(sizes), 30)
    with torch.inference_mode():
        expected = model(frames)
    with matmul_backend(onednn):
        stack = NumpyStack(model)
    assert all(
        layer.input_product.onednn == (onednn and cpu_matmul.onednn_products_available()) for layer in stack.layers
    )
    state = stack.zero_state()
    bounds = list(itertools.accumulate(sizes, initial=0))
    got = np.concatenate([stack.step(frames[0, a:b].numpy(), state) for a, b in itertools.pairwise(bounds)])
    np.testing.assert_allclose(got, expected.log_probs[0].numpy(), atol=1e-5)
    for mine, theirs in zip(stack.as_tensors(state), expected.final_state, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-6)


def test_numpy_and_torch_paths_stream_the_same() -> None:
    from gatescope.asr.streaming.numpy_stack import unsupported_reason

    for cell in ("lstm", "gru"):
        model = random_model(cell, seed=2)
        results = []
        for numpy_stack in (True, False):
            noisy = gn.StreamPerturber(noise=gn.colored("pink", SR), snr_db=5.0)
            recognizer = Recognizer(model, features=FeatureConfig(), cmvn_stats=STATS, numpy_stack=numpy_stack,
                                    perturber=noisy, shadow=True)  # fmt: skip
            assert (recognizer.numpy_stack is not None) == numpy_stack
            distances = []
            for part in np.array_split(SIGNAL, 17):
                recognizer.accept(part)
                distances.append(recognizer.memory_distance())
            recognizer.finish()
            results.append((recognizer.text, np.array(distances)))
        assert results[0][0] == results[1][0]
        np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-4)
    assert "not a standard" in (unsupported_reason(random_model("cifg")) or "")
    assert "projection" in (unsupported_reason(AcousticModel(40, 5, ModelConfig(proj_size=8, hidden_size=16))) or "")


def test_bidirectional_models_are_refused() -> None:
    model = AcousticModel(40, 5, ModelConfig(bidirectional=True, num_layers=1, hidden_size=8))
    with pytest.raises(InputError, match="unidirectional"):
        Recognizer(model, features=FeatureConfig(), cmvn_stats=STATS)


def test_sources_wav_pcm_realtime_and_resampling(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", SIGNAL, SR, subtype="FLOAT")
    fast = np.concatenate(list(wav_chunks(tmp_path / "a.wav", SR, 100)))
    np.testing.assert_array_equal(fast, SIGNAL)
    pcm = (np.clip(SIGNAL, -1, 1) * 32767).astype("<i2").tobytes()
    from_pcm = np.concatenate(list(pcm_chunks(io.BytesIO(pcm), SR, SR, 37)))
    np.testing.assert_allclose(from_pcm, SIGNAL, atol=2 / 32768)  # 16-bit rounding and the 32767 scale
    sf.write(tmp_path / "b.wav", SIGNAL[: SR // 2], 48000, subtype="FLOAT")  # 1/6 s at 48 kHz
    assert abs(sum(c.size for c in wav_chunks(tmp_path / "b.wav", SR, 100)) - SR // 6) <= 1


def test_realtime_stream_gives_the_fast_mode_text(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", SIGNAL[: 2 * SR], SR, subtype="FLOAT")
    texts = []
    for realtime in (False, True):
        recognizer = Recognizer(random_model("lstm"), features=FeatureConfig(), cmvn_stats=STATS)
        for chunk in wav_chunks(tmp_path / "a.wav", SR, 100, realtime=realtime):
            recognizer.accept(chunk)
        recognizer.finish()
        texts.append(recognizer.text)
    assert texts[0] and texts[0] == texts[1]


def test_stream_command_realtime_equals_fast_and_json(tiny_models: list[Path], tiny_data: Path, capsys) -> None:
    wav = (tiny_data / "test" / "wav.scp").read_text().split()[1]
    argv = ["stream", "--model", str(tiny_models[0]), "--wav", wav, "--json", "--chunk-ms", "200"]
    assert main(argv) == 0
    fast = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main([*argv, "--realtime"]) == 0
    real = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert fast == real and fast[-1]["type"] == "end" and all(e["type"] != "end" for e in fast[:-1])
    finals = [e["text"] for e in fast if e["type"] == "final"]
    assert fast[-1]["text"] == " ".join(t for t in finals if t)  # the whole transcript, empty if nothing was heard
    assert fast[-1]["end"] == pytest.approx(sf.info(wav).duration, abs=0.1)
    assert main([*argv, "--inject", "white:0@every=1,dur=0.3", "--show-memory", "--cmvn", "sliding"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["type"] == "end" and all(len(e["memory"]) == 2 for e in events[:-1])


def test_stream_command_errors(tiny_models: list[Path], tmp_path: Path, capsys) -> None:
    model = str(tiny_models[0])
    cases = [
        (["--model", model], "choose one audio source"),
        (["--model", model, "--wav", str(tmp_path / "none.wav")], "no such audio file"),
        (["--model", model, "--wav", str(tmp_path / "none.wav"), "--show-memory"], "needs --inject"),
        # Without PortAudio the library is named; with it, the unknown device.
        (["--model", model, "--mic", "--device", "no-such-device-xyz"], ("PortAudio", "no-such-device-xyz")),
        (["--model", model, "--wav", "x.wav", "--inject", "pink"], "NOISE:SNR"),
    ]
    for extra, message in cases:
        assert main(["stream", *extra]) == 2
        err = capsys.readouterr().err
        messages = message if isinstance(message, tuple) else (message,)
        assert any(m in err for m in messages) and err.count("\n") == 1, err


def test_stream_command_picks_a_channel_of_a_multichannel_wav(
    tiny_models: list[Path], tiny_data: Path, tmp_path: Path, capsys
) -> None:
    speech, rate = sf.read((tiny_data / "test" / "wav.scp").read_text().split()[1], dtype="float32")
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, speech.size).astype(np.float32)
    sf.write(tmp_path / "stereo.wav", np.stack([noise, speech], axis=1), rate, subtype="FLOAT")
    sf.write(tmp_path / "right.wav", speech, rate, subtype="FLOAT")
    base = ["stream", "--model", str(tiny_models[0]), "--json"]
    transcripts = []
    for extra in (["--wav", str(tmp_path / "right.wav")], ["--wav", str(tmp_path / "stereo.wav"), "--channel", "1"],
                  ["--wav", str(tmp_path / "stereo.wav"), "--channel", "0"]):  # fmt: skip
        assert main([*base, *extra]) == 0
        transcripts.append(capsys.readouterr().out.splitlines())
    assert transcripts[0] == transcripts[1] != transcripts[2]  # channel 1 is the speech; channel 0 the noise
    for extra, message in [
        (["--wav", str(tmp_path / "stereo.wav")], "expected mono audio, found 2 channels (pick one"),
        (["--wav", str(tmp_path / "stereo.wav"), "--channel", "2"], "has 2 channel(s), no channel 2"),
        (["--mic", "--channel", "0"], "--channel picks a channel of a --wav file"),
    ]:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
