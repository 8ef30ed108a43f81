"""Every command, parsed and run for real on tiny inputs through ``gatescope.cli.main`` (exit 0 and its output).

Commands with a fuller test of their own elsewhere (corpus synth, prepare timit, features, validate-data, noise,
train, decode) are run here too, so this one table shows the whole command line working."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gatescope.cli import build_parser, main
from tests.test_an4 import an4_fixture
from tests.test_digits import _fsdd
from tests.test_examples import help_examples
from tests.test_wsj import librispeech_fixture, wsj_fixture

COMMANDS = [
    "download", "corpus synth", "corpus wsj-synth", "prepare timit", "prepare digits", "prepare wsj",
    "prepare librispeech", "prepare an4", "prepare folder", "validate-data", "combine-data", "align", "features",
    "train", "decode", "score-real", "results", "lm", "tune-lm", "noise", "robustness", "analyze", "stream",
]  # fmt: skip


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_the_table_names_every_command() -> None:
    parser = build_parser()
    names = []
    for name, sub in parser._subparsers._group_actions[0].choices.items():  # type: ignore[union-attr]
        kinds = sub._subparsers._group_actions[0].choices if sub._subparsers else {}  # type: ignore[union-attr]
        names += [f"{name} {kind}" for kind in kinds] or [name]
    assert sorted(names) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_examples_and_the_common_options(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and f"gatescope {command}" in out and "--debug" in out


def test_corpus_and_prepare_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wsj = tmp_path / "wsj"
    out = _run(["corpus", "wsj-synth", str(wsj), "--speakers", "3", "--test-speakers", "2", "--utts-per-speaker",
                "1", "--lm-sentences", "20", "--quiet"], capsys)  # fmt: skip
    assert json.loads(out)["lm_sentences"] == 20
    out = _run(["prepare", "wsj", str(wsj), str(wsj), str(tmp_path / "wsj_data"), "--quiet"], capsys)
    assert "eval92: " in out and "(validated)" in out
    wsj0, wsj1 = wsj_fixture(tmp_path / "ldc")
    assert "train_si284" in _run(
        ["prepare", "wsj", str(wsj0), str(wsj1), str(tmp_path / "ldc_data"), "--quiet"], capsys
    )
    libri = librispeech_fixture(tmp_path / "LibriSpeech")
    assert "dev_clean: 2 utterances" in _run(["prepare", "librispeech", str(libri), str(tmp_path / "libri")], capsys)
    out = _run(["prepare", "digits", str(_fsdd(tmp_path / "fsdd")), str(tmp_path / "digits")], capsys)
    assert "test: 70 utterances, 1 speakers" in out
    assert "test: 4 utterances" in _run(
        ["prepare", "an4", str(an4_fixture(tmp_path / "an4")), str(tmp_path / "an4_data")], capsys
    )
    mine = tmp_path / "mine"  # a user's own recordings: FSDD files with NAME.txt transcripts beside them
    mine.mkdir()
    for wav in sorted((tmp_path / "fsdd").glob("*_theo_*.wav"))[:2]:
        shutil.copy(wav, mine / wav.name)
        (mine / wav.name).with_suffix(".txt").write_text("a word\n")
    assert "mine_data: 2 utterances, 1 speakers" in _run(
        ["prepare", "folder", str(mine), str(tmp_path / "mine_data")], capsys
    )
    digits = tmp_path / "digits"
    out = _run(["combine-data", str(tmp_path / "all"), str(digits / "train"), str(digits / "test")], capsys)
    assert "combined from 2 data dirs" in out
    combined = (tmp_path / "all" / "wav.scp").read_text().splitlines()
    parts = [(digits / s / "wav.scp").read_text().splitlines() for s in ("train", "test")]
    assert combined == sorted(parts[0] + parts[1])
    assert not (tmp_path / "all" / "feats.scp").exists(), "features are extracted anew, never carried over"


def test_train_decode_results_on_tiny_data(tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(f"train_dir: {tiny_data / 'train'}\nvalid_dir: {tiny_data / 'dev'}\nnum_layers: 1\n"
                      "hidden_size: 16\nmax_epochs: 1\nbatch_size: 4\nprogress_bar: false\n")  # fmt: skip
    exp = tmp_path / "exp"
    assert "best checkpoint" in _run(["train", "--config", str(config), "--out", str(exp)], capsys)
    assert (exp / "feat_conf.yaml").is_file() and (exp / "cmvn_stats.ark").is_file()  # self-contained
    assert "PER " in _run(["decode", "--model", str(exp), "--data", str(tiny_data / "test"), "--beam", "2"], capsys)
    fsdd = tmp_path / "fsdd"
    fsdd.mkdir()
    (fsdd / "wav.scp").write_text((tiny_data / "test" / "wav.scp").read_text())
    (fsdd / "text.wrd").write_text((tiny_data / "test" / "text.wrd").read_text())
    out = _run(["score-real", "--model", str(exp), "--data", str(fsdd), "--out", str(exp / "real_fsdd"), "--quiet",
                "--anchor", "pocketsphinx"], capsys)  # fmt: skip
    assert out.startswith("PER ") and "real recordings" in out
    assert "PocketSphinx (its en-us model, phone loop): PER " in out
    anchor = json.loads((exp / "real_fsdd" / "anchor" / "result.json").read_text())
    table = _run(["results", str(exp)], capsys)
    assert "| exp | lstm | 1x16 |" in table and "PER real (FSDD)" in table
    assert table.splitlines()[-1] == f"| PocketSphinx (anchor) | - | - | - | - | {anchor['rate']:.2f} |"
    assert "recordings aligned" in _run(["align", str(fsdd), "--quiet"], capsys)
    assert (fsdd / "phones.ctm").is_file()


def test_word_lm_commands(tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gatescope.asr.training.config import TrainConfig
    from gatescope.asr.training.trainer import train

    text = tmp_path / "lm.txt"
    text.write_text("GO TO THE SHOP\nTHE SHOP IS OPEN\nGO HOME\n")
    info = json.loads(_run(["lm", "--text", str(text), "--order", "2", "--out", str(tmp_path / "lang")], capsys))
    assert info["order"] == 2
    data = tmp_path / "chars"
    data.mkdir()
    for name in ("feats.scp", "cmvn.scp", "feat_conf.yaml", "utt2spk", "spk2utt", "wav.scp"):
        (data / name).write_text((tiny_data / "dev" / name).read_text())
    utts = sorted(line.split()[0] for line in (data / "utt2spk").read_text().splitlines())
    (data / "text").write_text("".join(f"{u} GO HOME\n" for u in utts))
    settings = dict(num_layers=1, hidden_size=8, max_epochs=1, batch_size=4, progress_bar=False, target="chars")
    train(TrainConfig(train_dir=str(data), valid_dir=str(data), **settings), tmp_path / "exp")
    out = _run(["tune-lm", "--model", str(tmp_path / "exp"), "--data", str(data), "--lang", str(tmp_path / "lang"),
                "--lm-weights", "0.5,1", "--word-scores=-1,0", "--beam", "4", "--quiet"], capsys)  # fmt: skip
    assert "-> WER" in out and (tmp_path / "exp" / "lm_tuning.json").is_file()
    assert main(["decode", "--model", str(tmp_path / "exp"), "--data", str(tiny_data / "dev")]) == 2
    assert "phone-level transcripts, but" in capsys.readouterr().err  # a chars model on phone references


def test_robustness_analyze_and_stream_run(
    tiny_models: list[Path], tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = [arg for path in tiny_models for arg in ("--model", str(path))]
    test = str(tiny_data / "test")
    out = _run(["robustness", *models, "--data", test, "--out", str(tmp_path / "rob"), "--noise", "white",
                "--snr", "clean,10", "--quiet"], capsys)  # fmt: skip
    assert "report:" in out and (tmp_path / "rob" / "report.html").is_file()
    out = _run(["analyze", *models, "--data", test, "--out", str(tmp_path / "ana"), "--babble-data",
                str(tiny_data / "train"), "--quiet", "forgetting_utterances=2", "burst_noises=white",
                "burst_snrs=replace", "burst_positions=0.3", "sample_units=8", "horizon_ms=400"], capsys)  # fmt: skip
    assert "report:" in out and len([line for line in out.splitlines() if line.startswith("[")]) == 5
    wav = (tiny_data / "test" / "wav.scp").read_text().split()[1]
    out = _run(["stream", "--model", str(tiny_models[1]), "--wav", wav, "--json"], capsys)
    events = [json.loads(line)["type"] for line in out.splitlines()]
    assert events[-1] == "end" and all(e in ("partial", "final") for e in events[:-1])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_no_command_writes_over_into_or_above_an_input(
    tiny_corpus: Path, tiny_data: Path, tiny_models: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    data = tmp_path / "test"
    shutil.copytree(tiny_data / "test", data)
    before = _snapshot(data)
    model = str(tiny_models[0])
    cases = [
        ["noise", "--noise", "white", "--snr", "5", "--data", str(data), "--out", str(data)],
        ["noise", "--noise", "white", "--snr", "5", "--data", str(data), "--out", str(data / "inner")],
        ["noise", "--noise", "white", "--snr", "5", "--data", str(data), "--out", str(tmp_path)],
        ["decode", "--model", model, "--data", str(data), "--out", str(data)],
        ["robustness", "--model", model, "--data", str(data), "--out", str(data / "r"), "--snr", "clean"],
        ["analyze", "--model", model, "--data", str(data), "--out", str(Path(model).parent)],
        ["prepare", "timit", str(tiny_corpus), str(tiny_corpus / "TRAIN")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "would overlap the input" in err and err.count("\n") == 1, err
    assert _snapshot(data) == before


def test_more_bad_inputs_are_one_line_with_exit_2(
    tiny_corpus: Path, tiny_data: Path, tiny_models: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys

    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("wav.scp", "utt2spk", "spk2utt", "text"):
        (empty / name).write_text("")
    unknown = tmp_path / "unknown"
    unknown.mkdir()
    for name in ("wav.scp", "utt2spk", "text"):
        (unknown / name).write_text((tiny_data / "dev" / name).read_text())
    (unknown / "spk2utt").write_text((tiny_data / "dev" / "spk2utt").read_text().replace("\n", " ghost\n", 1))
    regular = tmp_path / "regular_file"
    regular.write_text("keep me\n")
    cases = [
        (["features", str(empty)], "wav.scp: no utterances"),
        (["features", str(unknown)], "lists unknown utterance ghost"),
        (["prepare", "timit", str(tiny_corpus), str(regular), "--quiet"], "exists and is not a folder"),
        (["decode", "--model", str(tiny_models[0]), "--data", str(tiny_data / "dev"), "--beam", "-1"], "must be >= 0"),
        (["stream", "--model", str(tiny_models[0]), "--wav", "a.wav", "--chunk-ms", "0"], "must be > 0"),
    ]
    for argv, message in cases:
        code = _exit_code(argv)
        err = capsys.readouterr().err
        assert code == 2 and message in err and err.count("\n") == 1, (argv, err)
    assert regular.read_text() == "keep me\n"
    odd = subprocess.run(
        [sys.executable, "-m", "gatescope", "stream", "--model", str(tiny_models[0]), "--stdin-pcm"],
        input=b"\x00" * 3201, capture_output=True, check=False,
    )  # fmt: skip
    assert odd.returncode == 2 and b"ended on an odd byte" in odd.stderr and odd.stderr.count(b"\n") == 1


def _exit_code(argv: list[str]) -> int | str | None:
    """``main``'s status, whether it returns it or argparse exits with it (an option out of range)."""
    try:
        return main(argv)
    except SystemExit as exit_info:
        return exit_info.code


def test_a_burst_that_cannot_start_where_asked_is_reported(
    tiny_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "late"
    argv = ["noise", "--noise", "white", "--burst", "60:0.2", "--snr", "replace", "--data", str(tiny_data / "test")]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    info = json.loads((out / "perturbation.json").read_text())
    assert set(info["burst_moved"]) == set(info["burst_spans"])  # every utterance is shorter than 60 s
    assert all(asked == 60.0 and used < asked for asked, used in info["burst_moved"].values())
    assert "moved earlier" in caplog.text  # a warning on stderr from the command line


def test_every_help_example_parses() -> None:
    import shlex

    from gatescope.cli import parse_args

    examples = help_examples()  # each also runs as written in test_examples.py
    assert len(examples) >= 25
    for example in examples:
        args = parse_args(shlex.split(example)[1:])  # an option typo in an example would exit here
        assert callable(args.func), example
