"""Analysis definitions on hand-built states with known answers, the state files, the recorder and the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr
from scipy.stats import mannwhitneyu, rankdata

import gatescope.analysis as ga
from gatescope.analysis.memory.analyze import AnalysisConfig, run_analysis
from gatescope.analysis.memory.distributions import sample_units, saturation, value_statistics
from gatescope.analysis.memory.forgetting import frames_to_fraction, half_life, trajectory_distance
from gatescope.analysis.memory.recorder import record_states
from gatescope.analysis.memory.selectivity import (
    count_selective,
    phoneme_selectivity_index,
    response_rates,
    selectivity_index,
)
from gatescope.analysis.memory.states import RunInfo, StateFile, StateWriter
from gatescope.asr import load_model
from gatescope.asr.data.datadir import read_table
from gatescope.asr.features import ark as kaldi_ark
from gatescope.cli import main


def test_response_rates_find_the_unit_that_fires_on_one_phone() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=2000)
    states = rng.standard_normal((2000, 4)) - 3.0  # units 0, 1, 3: almost never active
    states[:, 2] = np.where(labels == 3, 1.0, -1.0)  # unit 2: active exactly on phone 3
    states[:, 1] = rng.standard_normal(2000)  # unit 1: active half the time, whatever the phone
    rates = response_rates(states, labels)
    assert rates.shape == (4, 5)
    assert rates[2, 3] == 1.0 and np.all(rates[2, [0, 1, 2, 4]] == 0.0)
    assert np.all(np.abs(rates[1] - 0.5) < 0.1)
    assert count_selective(rates, 0.8).tolist() == [0, 0, 0, 1, 0]
    assert count_selective(rates, 0.4).tolist() == [1, 1, 1, 2, 1]
    rates_with_missing = response_rates(states, labels, num_phones=6)
    assert np.isnan(rates_with_missing[:, 5]).all()  # a phone without frames has no rate


def test_phoneme_selectivity_index_separates_selective_from_random_units() -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(6), 100)
    states = rng.standard_normal((600, 3))
    states[:, 0] += 5.0 * (labels == 2)  # strongly selective for phone 2
    states[:, 1] += 0.5 * labels  # graded: phone 5 above all others, phone 0 above none
    psi = phoneme_selectivity_index(states, labels, 6)
    assert psi[0, 2] == 5 and psi[0, [0, 1, 3, 4, 5]].max() == 0
    assert psi[1, 5] >= 4 and psi[1, 0] == 0
    assert psi[2].max() <= 1  # pure noise: (almost) never significant at p < 0.001
    index = selectivity_index(psi)
    assert index[0] == 1.0 and index[2] <= 0.2


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), decimals=st.sampled_from([None, 1, 0]), alpha=st.sampled_from([0.001, 0.05]))
def test_psi_counts_the_rank_sum_tests_of_every_pair_of_phones(seed: int, decimals: int | None, alpha: float) -> None:
    """The PSI's count tables give each pair's one-sided rank-sum test (average ranks for ties, normal
    approximation): scipy's Mann-Whitney test where there are no ties, ranks of the pair's frames where there are."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(-1, 6, size=420)  # -1: unlabelled frames; phone 5 may fall under PSI_MIN_FRAMES
    labels[rng.random(420) < 0.15] = 5
    states = rng.standard_normal((420, 3)) + 0.4 * (labels[:, None] % 3 == np.arange(3))
    if decimals is not None:
        states = np.round(states, decimals)  # ties, as float16 recordings have
    psi = phoneme_selectivity_index(states, labels, 7, alpha=alpha)
    tested = [p for p in range(7) if (labels == p).sum() >= 20]
    assert np.isnan(psi[:, [p for p in range(7) if p not in tested]]).all()
    for unit in range(3):
        for p in tested:
            significant = 0
            for q in (q for q in tested if q != p):
                x, y = states[labels == p, unit], states[labels == q, unit]
                if decimals is None:
                    pvalue = mannwhitneyu(x, y, alternative="greater", method="asymptotic", use_continuity=False).pvalue
                else:
                    u = rankdata(np.concatenate([x, y]))[: x.size].sum() - x.size * (x.size + 1) / 2
                    n, m = x.size, y.size
                    pvalue = 1.0 - ndtr((u - n * m / 2) / np.sqrt(n * m * (n + m + 1) / 12))
                significant += pvalue < alpha
            assert psi[unit, p] == significant


@pytest.mark.parametrize("true_half_life,floor", [(7.3, 0.0), (3.0, 0.2), (20.0, 0.05)])
def test_half_life_recovers_a_known_exponential_within_5_percent(true_half_life: float, floor: float) -> None:
    k = np.arange(60)
    rng = np.random.default_rng(2)
    curve = 2.5 * np.exp2(-k / true_half_life) + floor + rng.normal(0, 0.002, size=k.size)
    assert abs(ga.half_life(curve, frame_shift_ms=10.0) - true_half_life) / true_half_life < 0.05


def test_half_life_edge_cases_and_frames_to_fraction() -> None:
    assert np.isnan(half_life(np.array([])))
    assert half_life(np.ones(20) * 3.0) == np.inf  # never decays
    curve = np.exp2(-np.arange(40) / 4.0)  # 10% is reached after 4 * log2(10) = 13.3 frames
    assert frames_to_fraction(curve, 0.1) == 14
    assert frames_to_fraction(np.ones(5)) is None


def test_trajectory_distance_is_in_units_of_clean_steps() -> None:
    clean = np.cumsum(np.ones((10, 4)), axis=0)  # each step has length 2 (sqrt of 4 * 1)
    perturbed = clean.copy()
    perturbed[5] += [2.0, 0.0, 0.0, 0.0]
    distance = trajectory_distance(perturbed, clean)
    assert distance[5] == pytest.approx(1.0) and distance[[0, 4, 6]].sum() == 0.0


def test_value_statistics_and_saturation() -> None:
    values = np.array([[2.0, -0.5], [-2.0, 0.5]])
    stats = value_statistics(values)
    assert stats["mean_abs"] == 1.25 and stats["frac_abs_gt_1"] == 0.5
    offsets = np.array([[1.0, -1.0]] * 50) + np.random.default_rng(0).normal(0, 0.01, (50, 2))
    assert value_statistics(offsets)["between_neuron_share"] > 0.99  # all variance is between the two units
    gate = np.array([[0.05, 0.95], [0.5, 0.95], [0.01, 0.2], [0.99, 0.5]])
    left, right = saturation(gate)
    assert left.tolist() == [0.5, 0.0] and right.tolist() == [0.25, 0.5]
    assert sample_units(256, 50, seed=3).tolist() == sample_units(256, 50, seed=3).tolist()
    assert len(set(sample_units(256, 50).tolist())) == 50 and len(sample_units(20, 50)) == 20


def test_state_file_round_trip_and_abort(tmp_path: Path) -> None:
    info = RunInfo("m", "lstm", "lstm", 1, 3, 30.0, ("c", "h"), ("aa", "b"), {"kind": "clean"})
    writer = StateWriter(tmp_path / "run.h5", info, dtype="float32")
    states = [{"c": np.arange(12.0).reshape(4, 3), "h": np.ones((4, 3))}]
    writer.add("u1", states, np.array([0, 1, 1, 0]), first_frame=0, burst=(1, 2))
    assert not (tmp_path / "run.h5").exists()  # only complete files appear
    writer.close()
    run = StateFile(tmp_path / "run.h5")
    assert run.info == info and run.utts == ["u1"] and run.burst("u1") == (1, 2)
    np.testing.assert_array_equal(run.state("u1", 0, "c"), states[0]["c"])
    assert run.labels("u1").tolist() == [0, 1, 1, 0]
    assert json.loads((tmp_path / "run.json").read_text())["utterances"][0]["frames"] == 4
    broken = StateWriter(tmp_path / "broken.h5", info)
    broken.abort()
    assert not list(tmp_path.glob("*broken*"))
    (tmp_path / "junk.h5").write_bytes(b"junk")
    with pytest.raises(Exception, match=r"junk\.h5: not a readable state recording"):
        StateFile(tmp_path / "junk.h5")


def test_recorder_matches_the_model_and_labels(tiny_models: list[Path], tiny_data: Path, tmp_path: Path) -> None:
    lstm = tiny_models[0]
    data = tiny_data / "test"
    path = record_states(lstm, data, tmp_path / "clean.h5", dtype="float32", progress=False)
    run = StateFile(path)
    model = load_model(lstm)
    utt = run.utts[0]
    assert run.info.family == "lstm" and run.info.gates == ("i", "f", "o", "g", "c", "h")
    assert run.info.frame_shift_ms == 30.0 and run.info.units == 32
    # The last layer's recorded h is the encoder output of the fast path.
    feats = kaldi_ark.read_matrix(read_table(data / "feats.scp")[utt])
    stats = kaldi_ark.read_matrix(read_table(data / "cmvn.scp")[read_table(data / "utt2spk")[utt]])
    from gatescope.asr.decoding.search import normalize

    x = normalize(feats, "speaker", stats, True).unsqueeze(0)
    with torch.no_grad():
        encoded = model.encoder(model.stack_frames(x)).output
    np.testing.assert_allclose(run.state(utt, 1, "h"), encoded[0].numpy(), atol=1e-5)
    labels = run.labels(utt)
    frame_ids = kaldi_ark.read_int_vector(read_table(data / "labels.scp")[utt])
    assert labels.shape[0] == encoded.shape[1] and labels.min() >= 0
    assert len(frame_ids) == feats.shape[0]


def test_analysis_report_end_to_end(tiny_models: list[Path], tiny_data: Path, tmp_path: Path) -> None:
    config = AnalysisConfig(
        forgetting_utterances=3, burst_noises=("white",), burst_snrs=("replace",), burst_positions=(0.3,),
        burst_dur_s=0.2, horizon_ms=600, sample_units=10,
    )  # fmt: skip
    summary = run_analysis(tiny_models, tiny_data / "test", tmp_path / "a", config, tiny_data / "train", progress=False)
    assert set(summary["models"]) == {"lstm", "gru"}
    lstm = summary["models"]["lstm"]
    assert lstm["memory_state"] == "c" and summary["models"]["gru"]["memory_state"] == "h"
    first = lstm["layer"][0]
    assert set(first["values"]) == {"c", "h"} and set(first["saturation"]) == {"i", "f", "o"}
    assert first["forgetting"]["c"]["curves"] == 3 and "half_life_ms" in first["forgetting"]["h"]
    assert len(summary["study"]) == 5
    for row in summary["study"]:
        if row["lstm"] is not None and row["gru"] is not None:
            expected = {"gru<lstm": row["gru"] < row["lstm"], "lstm>gru": row["lstm"] > row["gru"],
                        "gru>lstm": row["gru"] > row["lstm"]}[row["expected"]]  # fmt: skip
            assert row["agrees"] == expected  # computed from the measurements, not written in
    html = (tmp_path / "a" / "report.html").read_text()
    assert "The study, measured" in html and html.count("data:image/png;base64,") == 5
    assert json.loads((tmp_path / "a" / "analysis.json").read_text())["study"] == summary["study"]
    assert (tmp_path / "a" / "states" / "lstm" / "burst_white_replace_at30.h5").is_file()


def test_analysis_never_imports_training_code() -> None:
    code = (
        "import sys, gatescope.analysis.memory.analyze, gatescope.analysis.robustness.evaluate; "
        "training = ('gatescope.asr.training.trainer', 'gatescope.asr.training.config', 'gatescope.asr.data.dataset', "
        "'gatescope.asr.training.lightning_module'); "
        "bad = [m for m in sys.modules if m in training or m.split('.')[0] in ('pytorch_lightning', 'lightning')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_analyze_command_errors(tiny_models: list[Path], tiny_data: Path, tmp_path: Path, capsys) -> None:
    base = ["analyze", "--model", str(tiny_models[0]), "--out", str(tmp_path / "a"), "--quiet"]
    cases = [
        (["--data", str(tmp_path / "not_a_data_dir")], "wav.scp: missing"),
        (["--data", str(tiny_data / "test"), "burst_noises=hiss"], "unknown noise 'hiss'"),
        (["--data", str(tiny_data / "test"), "burst_snrs=loud"], "burst SNR 'loud'"),
        (["--data", str(tiny_data / "test"), "horizon=3"], "unknown key(s) ['horizon']"),
    ]
    for extra, message in cases:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_sigkill_during_analyze_leaves_no_half_written_report(
    tiny_models: list[Path], tiny_data: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "ana"
    command = [sys.executable, "-m", "gatescope", "analyze", "--data", str(tiny_data / "test"), "--out", str(out),
               "--babble-data", str(tiny_data / "train"), "--quiet", "forgetting_utterances=2", "burst_noises=white",
               "burst_snrs=replace", "burst_positions=0.3", "sample_units=8", "horizon_ms=400"]  # fmt: skip
    for model in tiny_models:
        command += ["--model", str(model)]
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob("states/*/*.h5")) and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run must still have been going when killed"
    assert not (out / "report.html").exists() and not (out / "analysis.json").exists()
    subprocess.run(command, check=True, capture_output=True)
    assert "</html>" in (out / "report.html").read_text() and (out / "analysis.json").is_file()
