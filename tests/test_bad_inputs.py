"""The bad-input matrix: every row is one bad input to one command.

Each row asserts what a user must see: exit status 2, exactly one line on stderr that names the file or option
and what is wrong, no traceback, every input byte-identical afterwards, and no output left behind.
"""

from __future__ import annotations

import pickle
import shutil
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from gatescope.cli import main


@dataclass
class Ctx:
    """Where a row builds its inputs (``tmp``) and the shared tiny fixtures it may copy from."""

    tmp: Path
    tiny_data: Path
    tiny_corpus: Path
    model: Path  # the tiny LSTM's experiment dir (phones)

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    def data(self, split: str = "dev") -> Path:
        """A private copy of a tiny data dir (with features), to spoil."""
        target = self.tmp / f"data_{split}"
        if not target.exists():
            shutil.copytree(self.tiny_data / split, target)
            feats = target / "feats.scp"
            # feats.scp points into the shared ark: copy the ark too, so a row may damage it.
            arks = sorted({line.split()[1].rsplit(":", 1)[0] for line in feats.read_text().splitlines()})
            for i, ark in enumerate(arks):
                shutil.copy(ark, target / f"feats{i}.ark")
                feats.write_text(feats.read_text().replace(ark, str(target / f"feats{i}.ark")))
        return target

    def file(self, name: str, content: bytes | str) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def wav(self, name: str, samples: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> Path:
        path = self.tmp / name
        sf.write(path, samples, rate, subtype=subtype)
        return path

    def model_copy(self) -> Path:
        target = self.tmp / "model"
        if not target.exists():
            shutil.copytree(self.model, target)
        return target

    def config(self, **fields: object) -> Path:
        """A training YAML on the tiny data with ``fields`` set."""
        lines = [f"train_dir: {self.tiny_data / 'train'}", f"valid_dir: {self.tiny_data / 'dev'}", "max_epochs: 1"]
        lines += [f"{k}: {v}" for k, v in fields.items()]
        return self.file("train.yaml", "\n".join(lines) + "\n")


def _speech(seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _wav_header_only(ctx: Ctx) -> Path:
    path = ctx.tmp / "header_only.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    return path


def _truncated_wav(ctx: Ctx) -> Path:
    full = ctx.wav("full.wav", _speech())
    data = full.read_bytes()
    full.unlink()
    return ctx.file("truncated.wav", data[:44] + data[44:200])  # the header promises 16000 bytes


def _nan_wav(ctx: Ctx) -> Path:
    samples = _speech()
    samples[100] = np.nan
    return ctx.wav("nan.wav", samples, subtype="FLOAT")


def _inf_wav(ctx: Ctx) -> Path:
    samples = _speech()
    samples[100] = np.inf
    return ctx.wav("inf.wav", samples, subtype="FLOAT")


def _stream(ctx: Ctx, wav: Path, *extra: str) -> list[str]:
    return ["stream", "--model", str(ctx.model), "--wav", str(wav), *extra]


def _noise(ctx: Ctx, wav: Path) -> list[str]:
    return ["noise", "--noise", "white", "--snr", "5", str(wav), "--out", str(ctx.out)]


def _table_edit(ctx: Ctx, name: str, edit: Callable[[str], str], split: str = "dev") -> Path:
    data = ctx.data(split)
    (data / name).write_text(edit((data / name).read_text()))
    return data


def _first_utt(ctx: Ctx) -> str:
    return (ctx.data() / "wav.scp").read_text().split()[0]


def _swap_first_lines(text: str) -> str:
    lines = text.splitlines()
    return "\n".join([lines[1], lines[0], *lines[2:]]) + "\n"


def _wav_scp(ctx: Ctx, entry: str) -> Path:
    utt = _first_utt(ctx)
    return _table_edit(ctx, "wav.scp", lambda t: t.replace(t.splitlines()[0], f"{utt} {entry}", 1))


def _ark_damage(ctx: Ctx, how: str) -> Path:
    data = ctx.data()
    ark = data / "feats0.ark"
    raw = ark.read_bytes()
    if how == "missing":
        ark.unlink()
    elif how == "truncated":
        ark.write_bytes(raw[: len(raw) // 3])
    else:
        ark.write_bytes(b"\x00garbage" * (len(raw) // 8))
    return data


def _rewrite_features(data: Path, feats: dict[str, np.ndarray]) -> None:
    from gatescope.asr.features import ark as kaldi_ark
    from gatescope.files import write_table

    for ark in data.glob("feats*.ark"):
        ark.unlink()
    write_table(data / "feats.scp", kaldi_ark.write_matrices(data / "feats0.ark", feats.items()))


def _read_features(data: Path) -> dict[str, np.ndarray]:
    from gatescope.asr.features import ark as kaldi_ark

    return dict(kaldi_ark.read_matrix_scp(data / "feats.scp"))


def _ark_values(ctx: Ctx, how: str) -> Path:
    """The dev data dir with its features rewritten: NaN in one utterance, or 13 columns instead of 40."""
    data = ctx.data()
    feats = _read_features(data)
    first = next(iter(feats))
    if how == "nan":
        feats[first] = feats[first].copy()
        feats[first][3, 5] = np.nan
    else:
        feats = {utt: m[:, :13].copy() for utt, m in feats.items()}
    _rewrite_features(data, feats)
    return data


def _short_features(ctx: Ctx) -> Path:
    """Train data whose first utterance has 3 frames for its dozens of labels."""
    data = ctx.data("train")
    feats = _read_features(data)
    first = next(iter(feats))
    feats[first] = feats[first][:3].copy()
    _rewrite_features(data, feats)
    return data


def _cfg(ctx: Ctx, **fields: object) -> list[str]:
    return ["train", "--config", str(ctx.config(**fields)), "--out", str(ctx.out)]


def _yaml(ctx: Ctx, name: str, text: str) -> list[str]:
    return ["train", "--config", str(ctx.file(name, text)), "--out", str(ctx.out)]


def _decode(ctx: Ctx, model: Path, data: Path | None = None) -> list[str]:
    return ["decode", "--model", str(model), "--data", str(data or ctx.data())]


def _prepare(ctx: Ctx, kind: str, source: Path) -> list[str]:
    return ["prepare", kind, str(source), str(ctx.out), *(["--quiet"] if kind == "timit" else [])]


def _train(ctx: Ctx, data: Path, *overrides: str) -> list[str]:
    config = ctx.config()
    return [
        "train",
        "--config",
        str(config),
        "--out",
        str(ctx.out),
        f"train_dir={data}",
        f"valid_dir={data}",
        *overrides,
    ]


def _foreign_checkpoint(ctx: Ctx) -> Path:
    path = ctx.tmp / "foreign.ckpt"
    torch.save({"state_dict": {"weight": torch.zeros(2)}, "epoch": 3}, path)
    return path


def _truncated_checkpoint(ctx: Ctx) -> Path:
    model = ctx.model_copy()
    ckpt = model / "best.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:5000])
    return model


class _Payload:
    def __reduce__(self) -> tuple:
        return (print, ("code ran from a pickle",))


def _pickled_code(ctx: Ctx) -> Path:
    path = ctx.tmp / "evil.ckpt"
    path.write_bytes(pickle.dumps({"state_dict": _Payload()}))
    return path


def _sphere_corrupt(ctx: Ctx) -> Path:
    corpus = ctx.tmp / "corpus"
    shutil.copytree(ctx.tiny_corpus, corpus)
    wav = sorted(corpus.glob("TRAIN/DR*/*/*.WAV"))[0]
    raw = wav.read_bytes()
    header = raw[:1024].decode("ascii")
    count = next(line for line in header.splitlines() if line.startswith("sample_count"))
    fixed = header.replace(count, "sample_count -i abc" + " " * (len(count) - len("sample_count -i abc")), 1)
    wav.write_bytes(fixed.encode("ascii") + raw[1024:])
    return corpus


def _phn_edit(ctx: Ctx, edit: Callable[[str], str]) -> Path:
    corpus = ctx.tmp / "corpus"
    shutil.copytree(ctx.tiny_corpus, corpus)
    phn = sorted(corpus.glob("TRAIN/DR*/*/*.PHN"))[0]
    phn.write_text(edit(phn.read_text()))
    return corpus


def _fsdd(ctx: Ctx, names: list[str]) -> Path:
    folder = ctx.tmp / "recordings"
    folder.mkdir()
    for name in names:
        sf.write(folder / name, _speech(0.4), 8000, subtype="PCM_16")
    return folder


def _pcm8(ctx: Ctx) -> Path:
    return ctx.wav("eight_bit.wav", _speech(), subtype="PCM_U8")


Row = tuple[str, Callable[[Ctx], list[str]], str]

ROWS: list[Row] = [
    # --- audio, through the microphone-simulating stream and through noise ---
    ("stream-empty-file", lambda c: _stream(c, c.file("empty.wav", b"")), "empty.wav"),
    ("stream-header-only", lambda c: _stream(c, _wav_header_only(c)), "header_only.wav"),
    ("stream-truncated", lambda c: _stream(c, _truncated_wav(c)), "truncated.wav"),
    ("stream-nan", lambda c: _stream(c, _nan_wav(c)), "nan.wav"),
    ("stream-inf", lambda c: _stream(c, _inf_wav(c)), "inf.wav"),
    ("stream-directory", lambda c: _stream(c, _mkdir(c, "folder.wav")), "folder.wav"),
    ("stream-missing", lambda c: _stream(c, c.tmp / "nope.wav"), "nope.wav"),
    ("stream-text-file", lambda c: _stream(c, c.file("notes.wav", "just some text\n" * 20)), "notes.wav"),
    ("stream-stereo", lambda c: _stream(c, c.wav("stereo.wav", np.stack([_speech()] * 2, 1))), "stereo.wav"),
    ("noise-empty-file", lambda c: _noise(c, c.file("empty.wav", b"")), "empty.wav"),
    ("noise-truncated", lambda c: _noise(c, _truncated_wav(c)), "truncated.wav"),
    ("noise-nan", lambda c: _noise(c, _nan_wav(c)), "nan.wav"),
    ("noise-directory", lambda c: _noise(c, _mkdir(c, "folder.wav")), "folder.wav"),
    ("noise-stereo", lambda c: _noise(c, c.wav("stereo.wav", np.stack([_speech()] * 2, 1))), "stereo.wav"),
    ("noise-silent-speech", lambda c: _noise(c, c.wav("silent.wav", np.zeros(8000))), "silent.wav: speech is silent"),
    # --- data dirs ---
    ("validate-unsorted", lambda c: ["validate-data", str(_table_edit(c, "wav.scp", _swap_first_lines))], "sorted"),
    (
        "validate-duplicate-id",
        lambda c: ["validate-data", str(_table_edit(c, "utt2spk", lambda t: t.splitlines()[0] + "\n" + t))],
        "utt2spk",
    ),
    (
        "validate-text-utt-not-in-wav-scp",
        lambda c: ["validate-data", str(_table_edit(c, "wav.scp", lambda t: "\n".join(t.splitlines()[1:]) + "\n"))],
        "wav.scp",
    ),
    ("validate-missing-dir", lambda c: ["validate-data", str(c.tmp / "nodata")], "nodata"),
    ("validate-dir-is-a-file", lambda c: ["validate-data", str(c.file("plain", "x\n"))], "plain"),
    ("validate-non-utf8", lambda c: ["validate-data", str(_latin1_text(c))], "not UTF-8"),
    ("features-wav-missing", lambda c: ["features", str(_wav_scp(c, str(c.tmp / "gone.wav")))], "gone.wav"),
    ("features-pipe-command", lambda c: ["features", str(_wav_scp(c, "sox in.wav -t wav - |"))], "command failed"),
    ("features-empty-dir", lambda c: ["features", str(_empty_data(c))], "no utterances"),
    ("features-spk2utt-unknown", lambda c: ["features", str(_spk2utt_ghost(c))], "ghost"),
    ("features-missing-utt2spk", lambda c: ["features", str(_remove(c, "utt2spk"))], "utt2spk"),
    ("features-nan-audio", lambda c: ["features", str(_wav_scp(c, str(_nan_wav(c))))], "nan.wav"),
    (
        "features-shorter-than-a-frame",
        lambda c: ["features", str(_wav_scp(c, str(c.wav("blip.wav", _speech()[:50]))))],
        "blip.wav: 50 samples, shorter than one 25 ms frame",
    ),
    ("features-num-mel-bins", lambda c: ["features", str(c.data()), "num_mel_bins=-5"], "num_mel_bins"),
    ("features-frame-shift", lambda c: ["features", str(c.data()), "frame_shift_ms=0"], "frame_shift_ms"),
    ("features-high-freq", lambda c: ["features", str(c.data()), "high_freq=9000"], "high_freq"),
    ("features-unknown-key", lambda c: ["features", str(c.data()), "mel_bins=40"], "mel_bins"),
    ("decode-ark-missing", lambda c: _decode(c, c.model, _ark_damage(c, "missing")), "feats0.ark"),
    ("decode-ark-truncated", lambda c: _decode(c, c.model, _ark_damage(c, "truncated")), "feats0.ark"),
    ("decode-ark-garbage", lambda c: _decode(c, c.model, _ark_damage(c, "garbage")), "feats0.ark"),
    ("decode-feature-dim", lambda c: _decode(c, c.model, _ark_values(c, "dim")), "13"),
    ("train-nan-features", lambda c: _train(c, _ark_values(c, "nan")), "NaN"),
    ("train-ark-truncated", lambda c: _train(c, _ark_damage(c, "truncated")), "feats0.ark"),
    ("train-fewer-frames-than-labels", lambda c: _train(c, _short_features(c)), "frames"),
    # --- configs: every invalid field is refused before any work ---
    ("train-hidden-size-0", lambda c: _cfg(c, hidden_size=0), "hidden_size"),
    ("train-hidden-size-negative", lambda c: _cfg(c, hidden_size=-3), "hidden_size"),
    ("train-num-layers-0", lambda c: _cfg(c, num_layers=0), "num_layers"),
    ("train-lr-nan", lambda c: _cfg(c, lr=".nan"), "lr"),
    ("train-batch-size-0", lambda c: _cfg(c, batch_size=0), "batch_size"),
    ("train-dropout-1.5", lambda c: _cfg(c, dropout=1.5), "dropout"),
    ("train-unknown-cell", lambda c: _cfg(c, cell="transformer"), "cell"),
    ("train-unknown-key", lambda c: _cfg(c, hiden_size=3), "hiden_size"),
    ("train-trim-prob", lambda c: _cfg(c, trim_prob=2), "trim_prob"),
    ("train-yaml-syntax", lambda c: _yaml(c, "bad.yaml", "cell: [lstm\n"), "bad.yaml"),
    ("train-yaml-not-mapping", lambda c: _yaml(c, "list.yaml", "- 1\n- 2\n"), "list.yaml"),
    ("train-config-missing", lambda c: ["train", "--config", str(c.tmp / "none.yaml"), "--out", str(c.out)], "none.yaml"),
    ("train-max-epochs-0", lambda c: _cfg(c, max_epochs=0), "max_epochs"),
    ("decode-beam-negative", lambda c: ["decode", "--model", str(c.model), "--data", str(c.data()), "--beam", "-1"], "--beam"),
    ("stream-rate-0", lambda c: ["stream", "--model", str(c.model), "--stdin-pcm", "--rate", "0"], "--rate"),
    ("stream-chunk-0", lambda c: _stream(c, c.wav("ok.wav", _speech()), "--chunk-ms", "0"), "--chunk-ms"),
    ("corpus-speakers-0", lambda c: ["corpus", "synth", str(c.out), "--speakers", "0"], "--speakers"),
    ("corpus-test-speakers-too-many", lambda c: ["corpus", "synth", str(c.out), "--speakers", "2", "--test-speakers", "2"], "test"),
    ("noise-snr-not-a-number", lambda c: ["noise", "--noise", "white", "--snr", "abc", str(c.wav("ok.wav", _speech())), "--out", str(c.out)], "--snr"),
    ("noise-unknown-kind", lambda c: ["noise", "--noise", "thunder", "--snr", "5", str(c.wav("ok.wav", _speech())), "--out", str(c.out)], "thunder"),
    ("robustness-bad-snr", lambda c: ["robustness", "--model", str(c.model), "--data", str(c.data()), "--out", str(c.out), "--snr", "loud"], "loud"),
    # --- checkpoints ---
    ("decode-foreign-checkpoint", lambda c: _decode(c, _foreign_checkpoint(c)), "foreign.ckpt"),
    ("decode-truncated-checkpoint", lambda c: _decode(c, _truncated_checkpoint(c)), "best.ckpt"),
    ("decode-pickled-code", lambda c: _decode(c, _pickled_code(c)), "evil.ckpt"),
    ("decode-text-as-checkpoint", lambda c: _decode(c, c.file("notes.ckpt", "hello\n")), "notes.ckpt"),
    ("decode-model-dir-empty", lambda c: _decode(c, _mkdir(c, "emptyexp")), "emptyexp"),
    ("stream-pickled-code", lambda c: ["stream", "--model", str(_pickled_code(c)), "--wav", str(c.wav("ok.wav", _speech()))], "evil.ckpt"),
    # --- microphone ---
    ("stream-mic-unknown-device", lambda c: ["stream", "--model", str(c.model), "--mic", "--device", "no-such-microphone-xyz", "--seconds", "1"], "no-such-microphone-xyz"),
    ("stream-mic-device-index", lambda c: ["stream", "--model", str(c.model), "--mic", "--device", "987", "--seconds", "1"], "987"),
    # --- corpus readers ---
    ("prepare-sphere-corrupt-integer", lambda c: _prepare(c, "timit", _sphere_corrupt(c)), "sample_count"),
    ("prepare-phn-non-ascii-digit", lambda c: _prepare(c, "timit", _phn_edit(c, lambda t: t.replace("0 ", "0² ", 1))), ".PHN"),
    ("prepare-phn-unknown-label", lambda c: _prepare(c, "timit", _phn_edit(c, lambda t: t.replace(" h#", " zz", 1))), "zz"),
    ("prepare-timit-missing-source", lambda c: _prepare(c, "timit", c.tmp / "no_timit"), "no_timit"),
    ("prepare-digits-misnamed", lambda c: _prepare(c, "digits", _fsdd(c, ["0_george_0.wav", "george.wav"])), "george.wav"),
    ("prepare-digits-wrong-rate", lambda c: _prepare(c, "digits", _fsdd_rate(c)), "0_theo_0.wav"),
    ("prepare-librispeech-missing", lambda c: ["prepare", "librispeech", str(c.tmp / "LibriSpeech"), str(c.out)], "LibriSpeech"),
    ("decode-phone-model-on-word-data", lambda c: _decode(c, c.model, _table_edit(c, "text", lambda t: (c.data() / "text.wrd").read_text())), "word-level transcripts"),
    ("combine-one-source", lambda c: ["combine-data", str(c.out), str(c.data())], "at least two"),
    ("combine-conflicting-utterance", lambda c: ["combine-data", str(c.out), str(c.data()), str(_conflicting_copy(c))], "differently"),
    ("combine-into-a-source", lambda c: ["combine-data", str(c.data()), str(c.data()), str(c.data("test"))], "overlap"),
    # --- models and data that do not belong together ---
    ("score-real-no-transcripts", lambda c: ["score-real", "--model", str(c.model), "--data", str(_remove(c, "text.wrd", "text")), "--out", str(c.out)], "text"),
    ("score-real-a-recording-without-words", lambda c: ["score-real", "--model", str(c.model), "--data", str(_table_edit(c, "text.wrd", lambda t: t.split("\n", 1)[1])), "--out", str(c.out)], "no transcript for"),
    ("results-not-an-experiment", lambda c: ["results", str(_mkdir(c, "notexp"))], "notexp"),
    ("lm-empty-text", lambda c: ["lm", "--text", str(c.file("empty.txt", "")), "--out", str(c.out)], "empty.txt"),
    ("analyze-missing-data", lambda c: ["analyze", "--model", str(c.model), "--data", str(c.tmp / "nodata"), "--out", str(c.out)], "nodata"),
]  # fmt: skip


def _mkdir(ctx: Ctx, name: str) -> Path:
    path = ctx.tmp / name
    path.mkdir()
    return path


def _remove(ctx: Ctx, *names: str) -> Path:
    data = ctx.data()
    for name in names:
        (data / name).unlink(missing_ok=True)
    return data


def _empty_data(ctx: Ctx) -> Path:
    folder = _mkdir(ctx, "empty_data")
    for name in ("wav.scp", "utt2spk", "spk2utt", "text"):
        (folder / name).write_text("")
    return folder


def _spk2utt_ghost(ctx: Ctx) -> Path:
    return _table_edit(ctx, "spk2utt", lambda t: t.replace("\n", " ghost\n", 1))


def _latin1_text(ctx: Ctx) -> Path:
    data = ctx.data()
    (data / "text").write_bytes((data / "text").read_bytes().replace(b" ", " caf\xe9 ".encode("latin-1"), 1))
    return data


def _conflicting_copy(ctx: Ctx) -> Path:
    """A second data dir with the dev set's first utterance id pointing at other audio."""
    other = ctx.tmp / "other"
    shutil.copytree(ctx.data(), other)
    utt = _first_utt(ctx)
    wav_scp = other / "wav.scp"
    wav_scp.write_text(wav_scp.read_text().replace(wav_scp.read_text().splitlines()[0], f"{utt} /elsewhere.wav", 1))
    return other


def _fsdd_rate(ctx: Ctx) -> Path:
    folder = _fsdd(ctx, ["0_george_0.wav"])
    sf.write(folder / "0_theo_0.wav", _speech(0.4), 16000, subtype="PCM_16")
    return folder


def _snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_matrix_has_sixty_distinct_rows() -> None:
    assert len({name for name, _, _ in ROWS}) == len(ROWS) >= 60


@pytest.mark.parametrize(("name", "build", "message"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_input(
    name: str,
    build: Callable[[Ctx], list[str]],
    message: str,
    tiny_data: Path,
    tiny_corpus: Path,
    tiny_models: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctx = Ctx(tmp_path / "case", tiny_data, tiny_corpus, tiny_models[0])
    ctx.tmp.mkdir()
    argv = build(ctx)
    assert argv, name
    capsys.readouterr()
    before = _snapshot(ctx.tmp, tiny_data, tiny_corpus, tiny_models[0])
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse's own exit for an option out of range
        code = exit_info.code
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, f"{name}: exit {code}, stderr {err!r}"
    assert err.count("\n") == 1 and "Traceback" not in err, f"{name}: {err!r}"
    assert message in err, f"{name}: {message!r} not in {err!r}"
    assert "code ran from a pickle" not in captured.out
    assert _snapshot(ctx.tmp, tiny_data, tiny_corpus, tiny_models[0]) == before, f"{name}: an input changed"
    assert not ctx.out.exists(), f"{name}: left {ctx.out} behind"


@pytest.mark.parametrize("subtype", ["PCM_U8", "ULAW", "ALAW", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_every_wav_sample_format_soundfile_reads_is_audio(
    subtype: str, tiny_models: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good input that looks unusual: 8-bit (linear, mu-law and A-law, the telephone's), 16/24/32-bit PCM and
    float WAVs are read (the same samples, to the format's precision) and streamed. An odd number of samples: an
    8-bit file's data chunk then lacks its pad byte, which libsndfile notes and which is not a truncation."""
    from gatescope.asr.data.audio import read_audio

    speech = _speech()[:-1]
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, speech, 16000, subtype=subtype)
    samples, rate = read_audio(path)
    assert rate == 16000 and samples.shape == speech.shape
    tolerance = {"PCM_U8": 1e-2, "ULAW": 3e-2, "ALAW": 3e-2}.get(subtype, 1e-4)
    assert np.abs(samples - speech).max() < tolerance
    assert main(["stream", "--model", str(tiny_models[0]), "--wav", str(path)]) == 0, capsys.readouterr().err


def test_stream_notes_a_low_rate_and_clipping_and_still_transcribes(
    tiny_models: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Readable but poor recordings are streamed, with a note on stderr saying what is wrong with them: a rate
    below the model's (the upper band is empty) or samples clipped at full scale. A good recording gets no note."""
    speech = _speech()
    cases = {
        "low_rate.wav": (speech[::4], 4000, "recorded at 4000 Hz, below the model's 16000 Hz: nothing above 2000 Hz"),
        "too_loud.wav": (np.clip(speech * 50, -1, 1), 16000, "samples clipped at full scale"),
        "good.wav": (speech, 16000, None),
    }
    for name, (samples, rate, note) in cases.items():
        path = tmp_path / name
        sf.write(path, samples, rate, subtype="PCM_16")
        assert main(["stream", "--model", str(tiny_models[0]), "--wav", str(path)]) == 0
        err = capsys.readouterr().err
        if note is None:
            assert "note:" not in err, err
        else:
            assert f"note: {path}: " in err and note in err, err


@pytest.mark.parametrize(("name", "container", "subtype"), [
    ("in.flac", "FLAC", "PCM_16"), ("in.ogg", "OGG", "VORBIS"), ("in.wav", "WAV", "PCM_16"),
])  # fmt: skip
def test_noise_writes_each_file_in_its_input_container(
    name: str, container: str, subtype: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``gatescope noise`` on audio files keeps their names and their containers: a FLAC comes out as FLAC,
    readable as such, not as WAV bytes behind a .flac name; the same length, and noisier than its input."""
    source = tmp_path / name
    sf.write(source, _speech(), 16000, format=container)
    out = tmp_path / "out"
    assert main(["noise", "--noise", "white", "--snr", "10", str(source), "--out", str(out)]) == 0, capsys.readouterr()
    info = sf.info(str(out / name))
    assert (info.format, info.subtype, info.frames) == (container, subtype, _speech().size)
    noisy, _ = sf.read(out / name)
    clean, _ = sf.read(source)
    assert np.abs(noisy - clean).mean() > 1e-3
