"""The robustness report: conditions, scoring consistent with `gatescope decode`, burst windows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gatescope.analysis.reports.robustness_report import heatmap_figure, verdicts
from gatescope.analysis.robustness.conditions import RobustnessConfig, conditions
from gatescope.analysis.robustness.evaluate import run_robustness
from gatescope.asr.decoding.decode import decode_data_dir
from gatescope.asr.decoding.scoring import count_errors, reference_errors
from gatescope.cli import main


def test_reference_errors_locate_every_error() -> None:
    ref, hyp = "a b c d".split(), "x a c d e f".split()
    charged = reference_errors(ref, hyp)
    assert charged == [1, 1, 0, 2]  # insertion x before a; b deleted; e f inserted at the end
    assert sum(charged) == count_errors(ref, hyp).errors
    assert reference_errors(ref, []) == [1, 1, 1, 1] and reference_errors([], hyp) == []


def test_conditions_expand_snrs_reverb_and_bursts() -> None:
    config = RobustnessConfig(noises=("pink", "reverb", "reverb:0.4"), snrs=("clean", "10", "-5"), bursts=True)
    names = [c.name for c in conditions(config)]
    assert names == [
        "clean", "pink@10dB", "pink@-5dB", "reverb:0.3", "reverb:0.6", "reverb:0.9", "reverb:0.4", "burst:pink",
    ]  # fmt: skip
    recorded = RobustnessConfig(
        noises=("file:/home/someone/noises/doing_the_dishes.wav", "file:/srv/noise/"), snrs=("0",)
    )
    names = [c.name for c in conditions(recorded)]
    assert names == ["clean", "recorded:doing_the_dishes@0dB", "recorded:noise@0dB"], "no machine's path in a report"


def test_report_matches_decode_and_is_reproducible(tiny_models: list[Path], tiny_data: Path, tmp_path: Path) -> None:
    config = RobustnessConfig(
        noises=("white", "babble", "reverb:0.3"), snrs=("clean", "10", "0"), bursts=True, burst_dur_s=0.2
    )
    test_dir = tiny_data / "test"
    summary = run_robustness(tiny_models, test_dir, tmp_path / "a", config, tiny_data / "train", progress=False)
    for name in ("results.json", "results.csv", "report.html", "heatmap.png", "error_vs_snr.png", "burst_recovery.png"):
        assert (tmp_path / "a" / name).is_file(), name
    html = (tmp_path / "a" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5 and "torch" in html  # plots and versions embedded
    assert all(line.replace("≤", "&le;") in html or line in html for line in verdicts(summary))
    rows = {r["condition"]: r["results"] for r in summary["conditions"]}
    assert list(rows) == [c.name for c in conditions(config)]
    for path in tiny_models:
        rate, _ = decode_data_dir(path, test_dir, tmp_path / f"decode_{path.name}")
        assert rows["clean"][path.name]["error_rate"] == pytest.approx(rate, abs=0.01)
        # The noisy audio really reaches the model: its hypotheses change.
        hyps = tmp_path / "a" / "hyp" / path.name
        assert (hyps / "clean.txt").read_text() != (hyps / "white@0dB.txt").read_text()
    for noise in ("white", "babble"):
        entry = summary["bursts"][noise]
        assert entry["bins_ms"] == list(config.burst_bins_ms)
        assert sum(entry["lstm"]["ref_tokens"]) > 0 and len(entry["gru"]["excess"]) == len(entry["bins_ms"]) - 1
    # Same seed, models in the other order and conditions in two processes: every number is the same.
    parallel = dataclasses.replace(config, jobs=2)
    again = run_robustness(tiny_models[::-1], test_dir, tmp_path / "b", parallel, tiny_data / "train", progress=False)
    assert all(r["seconds"] > 0 for r in again["conditions"])
    assert {r["condition"]: r["results"] for r in again["conditions"]} == rows
    assert again["bursts"] == summary["bursts"]
    csv_lines = (tmp_path / "a" / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("model,condition") and len(csv_lines) == 1 + 2 * len(rows)


def test_robustness_command_errors(
    tiny_models: list[Path], tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["robustness", "--model", str(tiny_models[0]), "--out", str(tmp_path / "r"), "--quiet"]
    cases = [
        (["--data", str(tiny_data / "test"), "--noise", "hiss"], "unknown noise 'hiss'"),
        (["--data", str(tiny_data / "test"), "--snr", "clean,loud"], "'loud' is neither"),
        (["--data", str(tmp_path / "not_a_data_dir")], "wav.scp: missing"),
    ]
    for extra, message in cases:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_phone_models_get_pocketsphinx_phone_loop_only_when_asked(
    tiny_models: list[Path], tiny_data: Path, tmp_path: Path
) -> None:
    from gatescope.asr.data.datadir import read_table
    from gatescope.asr.data.perturb import read_waveforms
    from gatescope.asr.decoding.anchor import PocketsphinxPhoneLoop
    from gatescope.asr.decoding.scoring import fold_for_scoring, score_utterances

    config = RobustnessConfig(noises=("white",), snrs=("clean",))
    test_dir = tiny_data / "test"
    plain = run_robustness(tiny_models[:1], test_dir, tmp_path / "a", config, progress=False)
    assert plain["anchor"] is None  # auto: no anchor for phones
    asked = dataclasses.replace(config, anchor="pocketsphinx")
    summary = run_robustness(tiny_models[:1], test_dir, tmp_path / "b", asked, progress=False)
    clean = summary["conditions"][0]["results"]["pocketsphinx"]
    assert summary["anchor"] == "pocketsphinx" and clean["anchor"] is True
    # the same figure as the phone loop on the clean recordings, scored against the text's 39 phones
    loop = PocketsphinxPhoneLoop()
    hyps = {u: loop.transcribe(w, 16000) for u, w in read_waveforms(test_dir, 16000).items()}
    refs = {u: fold_for_scoring(t.split(), "phones") for u, t in read_table(test_dir / "text").items()}
    assert clean["error_rate"] == pytest.approx(score_utterances(refs, hyps).rate, abs=0.01)
    assert "decoding phones in a loop" in (tmp_path / "b" / "report.html").read_text()


def test_sigkill_leaves_no_half_written_report_and_a_rerun_finishes(
    tiny_models: list[Path], tiny_data: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "rob"
    command = [sys.executable, "-m", "gatescope", "robustness", "--data", str(tiny_data / "test"), "--out", str(out),
               "--noise", "white,pink,brown,blue,violet", "--snr", "clean,20,10,5,0,-5", "--quiet"]  # fmt: skip
    for model in tiny_models:
        command += ["--model", str(model)]
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out / "hyp").is_dir() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run must still have been going when killed"
    assert not (out / "report.html").exists() and not (out / "results.json").exists()
    subprocess.run(command, check=True, capture_output=True)
    assert "</html>" in (out / "report.html").read_text()


def test_verdicts_rank_the_models_and_read_burst_recovery() -> None:
    def row(condition: str, kind: str, snr: float | None, lstm: float, gru: float) -> dict:
        results = {"lstm": {"error_rate": lstm}, "gru": {"error_rate": gru}}
        return {"condition": condition, "kind": kind, "noise": "white", "snr_db": snr, "results": results}

    summary = {
        "models": {"lstm": {}, "gru": {}}, "anchor": None, "metric": "PER",
        "conditions": [row("clean", "clean", None, 20.0, 22.0), row("white@10dB", "noise", 10, 30.0, 28.0),
                       row("white@0dB", "noise", 0, 70.0, 50.0)],
        "bursts": {"white": {"bins_ms": [0, 100, 200, 300], "lstm": {"excess": [30.0, 10.0, 1.5]},
                             "gru": {"excess": [20.0, 5.0, 3.0]}}},
    }  # fmt: skip
    lstm, gru = verdicts(summary)
    assert lstm == (
        "lstm: 20.0% PER clean; worst under white@0dB (70.0%); 2nd of 2 at SNR ≤ 5 dB (70.0% on average); "
        "after a white burst within 2 points of clean by 300 ms."
    )
    assert gru.startswith("gru: 22.0% PER clean; worst under white@0dB (50.0%); best of 2 at SNR ≤ 5 dB")
    assert gru.endswith("after a white burst still +3.0 points at 300 ms.")
    figure = heatmap_figure(summary)
    assert len(figure.axes[0].texts) == 6  # a number in every cell


def test_a_recorded_noise_is_named_not_pathed_in_the_report(
    tiny_models: list[Path], tiny_data: Path, tmp_path: Path
) -> None:
    import soundfile as sf

    noise_dir = tmp_path / "machine_specific" / "noises"
    noise_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sf.write(noise_dir / "hum.wav", (rng.standard_normal(16000) * 0.1).astype(np.float32), 16000)
    config = RobustnessConfig(noises=(f"file:{noise_dir}",), snrs=("clean", "0"), bursts=True, burst_dur_s=0.2)
    summary = run_robustness(tiny_models[:1], tiny_data / "test", tmp_path / "r", config, progress=False)
    assert list(summary["bursts"]) == ["recorded:noises"]
    assert any("after a recorded:noises burst" in line for line in verdicts(summary))
    for name in ("report.html", "results.csv"):
        assert str(noise_dir) not in (tmp_path / "r" / name).read_text(), name
