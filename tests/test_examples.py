"""Every ``gatescope`` example printed by a ``--help`` and every ``gatescope`` line and Python block of README.md,
run as written.

Each example runs in its own copy of a small world built once from the test fixtures, laid out the way the
examples assume a user's folder is: a small embedded corpus at ``corpus/`` (two test speakers, so babble has another
voice), its data dirs with features at ``data/``, models trained by the README's own ``gatescope train`` lines at
``exp/lstm`` and ``exp/gru``, FSDD-named recordings at ``fsdd/recordings``, ``data/fsdd`` (8 kHz features) and
(16 kHz, with features, unaligned) ``data/fsdd16k``, a digits word model at ``exp/digits``, a noise folder,
``a.wav``/``b.wav``, a user's own recordings with transcripts at ``my_recordings/`` (and ``data/mine`` made of
them), an AN4 download, and ``recipes/`` (the repository's own). Examples about WSJ run in a second world that
holds the WSJ-style corpus, its data dirs, a language dir and a character model. Two things are not literal:

- the licensed corpora an example names by absolute path (``/data/LDC93S1/TIMIT``, ``/data/LDC93S6B``, ...) are
  fixtures in the real layouts under the world's ``licensed/`` folder (the argument is rewritten, nothing else);
- ``download`` examples run offline (the proxy points at a closed port): they must end in one line that says how to
  pass a local copy, exit 2; the transfer itself is tested against a local server in test_download.py.

Optional parts written ``[like this]`` in README run with the option. ``--mic`` examples run through the virtual
PulseAudio microphone of test_microphone.py (skipped where PulseAudio is not installed) and stop on Ctrl-C.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gatescope.cli import build_parser, main
from tests.test_an4 import an4_fixture
from tests.test_digits import _fsdd
from tests.test_wsj import librispeech_fixture, wsj_fixture
from tests.timit_fixture import make_timit

REPO = Path(__file__).resolve().parents[1]
LICENSED = {
    "/data/LDC93S1/TIMIT": "licensed/TIMIT", "/data/LDC93S6B": "licensed/wsj0", "/data/LDC94S13B": "licensed/wsj1",
    "/data/LibriSpeech": "licensed/LibriSpeech",
}  # fmt: skip
WSJ_WORLD = ("train_si84", "dev93", "lm_text", "prepare wsj corpus/")
FRESH_OUTPUT = {"corpus": 2, "prepare": -1, "combine-data": 1}  # argv position of the folder a command creates


def help_examples() -> list[str]:
    """Every ``gatescope ...`` example printed by a command's ``--help`` (continuation lines joined)."""
    parser = build_parser()
    found = []
    for sub in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        parsers = list(sub._subparsers._group_actions[0].choices.values()) if sub._subparsers else [sub]
        for p in parsers:
            text = (p.epilog or "").replace("\\\n", " ")
            for line in text.splitlines():
                command = line.split("#")[0].split("| ")[-1].strip()
                if command.startswith("gatescope "):
                    found.append(command)
    return found


def _readme_blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def readme_commands() -> list[str]:
    """Every ``gatescope`` line of README's shell blocks (continuations joined, comments cut, ``[opt]`` kept as opt)."""
    found = []
    for block in _readme_blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split(" #")[0].strip()
            if command.startswith("gatescope "):
                found.append(re.sub(r"\[([^\]]*)\]", r"\1", command))
    return found


def all_examples() -> list[str]:
    """Help examples and README lines, each once (README repeats some help examples word for word)."""
    return list(dict.fromkeys(" ".join(shlex.split(c)) for c in help_examples() + readme_commands()))


def _wav(path: Path, seconds: float, rate: int = 16000, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = np.random.default_rng(seed).standard_normal(int(seconds * rate)) * 0.05
    sf.write(path, noise.astype(np.float32), rate, subtype="PCM_16")


def _run(argv: list[str]) -> None:
    assert main(argv) == 0, argv


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two worlds the examples run in, built through the command line as a user would."""
    timit = tmp_path_factory.mktemp("world_timit")
    wsj = tmp_path_factory.mktemp("world_wsj")
    here = Path.cwd()
    try:
        os.chdir(timit)
        (timit / "recipes").symlink_to(REPO / "recipes")
        _run(["corpus", "synth", "corpus", "--speakers", "6", "--test-speakers", "4", "--utts-per-speaker", "2"])
        _run(["prepare", "timit", "corpus", "data"])
        for split in ("train", "dev", "test"):
            _run(["features", f"data/{split}"])
        _run(["train", "--config", "recipes/synth/conf/lstm.yaml", "--out", "exp/lstm"])  # as README: --resume
        _run(["train", "--config", "recipes/synth/conf/gru.yaml", "--out", "exp/gru", "max_epochs=2",
                     "hidden_size=128"])  # fmt: skip
        _fsdd(timit / "fsdd" / "recordings", takes=1)
        _run(["prepare", "digits", "fsdd/recordings", "data/fsdd"])
        for split in ("dev", "test"):  # one take each: all of the training speakers' takes are dev
            _run(["features", f"data/fsdd/{split}", "sample_rate=8000", "num_mel_bins=23"])
        _run(["train", "--config", "recipes/digits/conf/gru.yaml", "--out", "exp/digits", "train_dir=data/fsdd/dev",
              "valid_dir=data/fsdd/dev", "max_epochs=1", "hidden_size=16"])  # fmt: skip
        _run(["prepare", "digits", "--sample-rate", "16000", "fsdd/recordings", "data/fsdd16k"])  # unaligned
        for speaker in ("george", "theo"):  # a user's own recordings: a subfolder per speaker, words in NAME.txt
            for digit, word in enumerate(("zero", "one")):
                take = timit / "my_recordings" / speaker / f"take{digit}.wav"
                take.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(timit / "fsdd" / "recordings" / f"{digit}_{speaker}_0.wav", take)
                take.with_suffix(".txt").write_text(f"{word.capitalize()}.\n")
        table = [f"{s}/take{d} {w}" for s in ("george", "theo") for d, w in enumerate(("zero", "one"))]
        (timit / "my_recordings.txt").write_text("\n".join(table) + "\n")  # the same words as one table
        (timit / "lj" / "wavs").mkdir(parents=True)  # LJSpeech's layout: wavs/ and metadata.csv (id|text|normalised)
        for take in range(2):
            shutil.copy(
                timit / "fsdd" / "recordings" / f"{take}_theo_0.wav", timit / "lj" / "wavs" / f"LJ001-000{take}.wav"
            )
        (timit / "lj" / "metadata.csv").write_text("LJ001-0000|0|Zero\nLJ001-0001|1|One\n")
        _run(["prepare", "folder", "my_recordings", "data/mine"])
        _run(["features", "data/fsdd16k/test"])
        shutil.copytree("data", "data_synth")
        Path("data_synth").rename(timit / "data" / "synth")
        _wav(timit / "noises" / "hum.wav", 2.0)
        _wav(timit / "a.wav", 1.0, seed=1)
        _wav(timit / "b.wav", 1.5, rate=8000, seed=2)
        first_test_wav = sorted((timit / "corpus" / "TEST").rglob("*.WAV"))[0]
        target = timit / "data" / "corpus" / "TEST" / "DR5" / "FV037" / "SI901.WAV"
        target.parent.mkdir(parents=True)
        shutil.copy(first_test_wav, target)
        an4_fixture(timit / "downloads" / "an4")
        make_timit(timit / LICENSED["/data/LDC93S1/TIMIT"])
        wsj0, wsj1 = wsj_fixture(timit / "licensed_wsj")
        wsj0.rename(timit / LICENSED["/data/LDC93S6B"])
        wsj1.rename(timit / LICENSED["/data/LDC94S13B"])
        librispeech_fixture(timit / LICENSED["/data/LibriSpeech"])

        os.chdir(wsj)
        (wsj / "recipes").symlink_to(REPO / "recipes")
        _run(["corpus", "wsj-synth", "corpus", "--speakers", "3", "--test-speakers", "2",
                     "--utts-per-speaker", "2", "--lm-sentences", "40"])  # fmt: skip
        _run(["prepare", "wsj", "corpus", "corpus", "data"])
        for split in ("train_si84", "dev93"):
            _run(["features", f"data/{split}"])
        _run(["lm", "--text", "corpus/lm/lm_text.txt", "--order", "2", "--out", "data/lang"])
        small = ["max_epochs=1", "num_layers=1", "hidden_size=32", "train_dir=data/train_si84", "valid_dir=data/dev93"]
        _run(["train", "--config", "recipes/wsj/conf/lstm.yaml", "--out", "exp/lstm", *small])
    finally:
        os.chdir(here)
    return {"timit": timit, "wsj": wsj}


def test_the_examples_are_found() -> None:
    examples = all_examples()
    assert len(help_examples()) >= 25 and len(readme_commands()) >= 20
    for command in ("download", "corpus", "prepare", "features", "train", "decode", "noise", "robustness", "stream"):
        assert any(e.split()[1] == command for e in examples), command


def _argv(example: str) -> list[str]:
    argv = shlex.split(example)[1:]
    return [LICENSED.get(a.rstrip("/"), a) for a in argv]


def _fresh_copy(worlds: dict[str, Path], example: str, tmp_path: Path) -> Path:
    """A copy of the example's world without the folder the example creates (a user would not have it yet)."""
    world = worlds["wsj" if any(key in example for key in WSJ_WORLD) else "timit"]
    sandbox = tmp_path / "world"
    shutil.copytree(world, sandbox, symlinks=True)
    argv = _argv(example)
    outputs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--out"]
    positional = list(itertools.takewhile(lambda a: not a.startswith("-"), argv))
    if argv[0] in FRESH_OUTPUT:
        outputs.append(positional[FRESH_OUTPUT[argv[0]]])
    if "--resume" not in argv:
        for output in outputs:
            shutil.rmtree(sandbox / output, ignore_errors=True)
    return sandbox


@pytest.mark.slow
@pytest.mark.parametrize("example", [e for e in all_examples() if " --mic" not in e])
def test_example_runs_as_written(
    example: str, worlds: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    sandbox = _fresh_copy(worlds, example, tmp_path)
    argv = _argv(example)
    if argv[0] == "download":
        closed = "http://127.0.0.1:9"
        offline = {**os.environ, "http_proxy": closed, "https_proxy": closed, "no_proxy": ""}
        done = subprocess.run([sys.executable, "-m", "gatescope", *argv], cwd=sandbox, env=offline,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "could not download" in done.stderr and "pass" in done.stderr, done.stderr
        return
    monkeypatch.chdir(sandbox)
    if "--stdin-pcm" in argv:
        pcm = (np.random.default_rng(0).standard_normal(16000) * 1000).astype("<i2").tobytes()
        monkeypatch.setattr(sys, "stdin", _BinaryStdin(pcm))
    code: int | str | None
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse: an option the example spells wrong
        code = exit_info.code
    captured = capsys.readouterr()
    assert code == 0, f"{example}\n{captured.err[-2000:]}"
    if "--json" in argv:
        assert captured.out.strip().startswith("{"), captured.out[:200]


class _BinaryStdin:
    """Standard input whose ``buffer`` holds raw bytes (what ``--stdin-pcm`` reads)."""

    def __init__(self, data: bytes):
        import io

        self.buffer = io.BytesIO(data)


@pytest.mark.slow
def test_readme_python_block_runs(tmp_path: Path) -> None:
    """README's ``gatescope.noise`` block, with ``speech`` (3 s) and ``chunk`` (a 100 ms piece of it) given."""
    import torch

    (block,) = [b for b in _readme_blocks("python") if "gatescope.noise" in b]
    speech = torch.from_numpy(np.random.default_rng(0).standard_normal(48000).astype(np.float32) * 0.1)
    scope = {"speech": speech, "chunk": speech[:1600].clone()}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["noisy"].shape == speech.shape and scope["chunk_out"].shape == (1600,)


MIC = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("pulseaudio", "pactl", "paplay")),
    reason="PulseAudio is not installed (Debian: pulseaudio pulseaudio-utils libasound2-plugins)",
)


@MIC
@pytest.mark.slow
@pytest.mark.parametrize("example", [e for e in all_examples() if " --mic" in e])
def test_mic_example_runs_as_written(
    example: str, worlds: dict[str, Path], virtual_mic: dict[str, str], tmp_path: Path
) -> None:
    """The example records from the default input (the virtual microphone) while a WAV plays, and Ctrl-C ends it
    with exit 0 (the transcript of the tiny model on noise may be empty; test_microphone.py checks the words)."""
    sandbox = _fresh_copy(worlds, example, tmp_path)
    # SIGINT as a terminal sends it, even where this test runs as a background job (which inherits it ignored)
    mic = subprocess.Popen([sys.executable, "-m", "gatescope", *_argv(example)], cwd=sandbox, env=virtual_mic,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    assert mic.stderr is not None
    assert "listening" in mic.stderr.readline(), "the recogniser did not start listening"
    time.sleep(0.3)
    recording = subprocess.run(["pactl", "list", "short", "source-outputs"], env=virtual_mic, capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
    subprocess.run(["paplay", str(sandbox / "a.wav")], env=virtual_mic, check=True, timeout=30)
    time.sleep(0.5)
    mic.send_signal(signal.SIGINT)
    _, err = mic.communicate(timeout=60)
    assert recording.strip(), "the default input is not the virtual microphone (no PulseAudio recording stream)"
    assert mic.returncode == 0 and "error" not in err, err[-2000:]  # Ctrl-C ends a microphone session normally
