"""``gatescope analyze``: record each model's states on a data dir (clean, and with noise bursts), run every
analysis on the recordings, and write ``analysis.json`` and a self-contained ``report.html`` with the study table.

The study table states each finding of Tang et al. (2017) as a row, shows the measured value for each model and
whether this run agrees, computed from the recordings (an LSTM-family model and a GRU are needed for it).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from tqdm import tqdm

from gatescope.analysis.memory import distributions, selectivity
from gatescope.analysis.memory.forgetting import ForgettingCurves, forgetting_curves
from gatescope.analysis.memory.recorder import record_states
from gatescope.analysis.memory.states import StateFile
from gatescope.analysis.memory.trajectories import embed_trajectories
from gatescope.asr.data.datadir import read_table, require_files
from gatescope.asr.data.perturb import Burst, data_sample_rate, noise_bank_for, perturb_waveform, utterance_seed
from gatescope.asr.decoding.scoring import ErrorCounts, count_errors
from gatescope.asr.models.checkpoint import experiment_names
from gatescope.config import PROBABILITY, Range, check_ranges
from gatescope.errors import InputError
from gatescope.files import path_from, refuse_overlap, write_text_atomic
from gatescope.noise import NoiseSpec

GATES_FOR_SATURATION = {"lstm": ("i", "f", "o"), "gru": ("z", "r"), "rnn": ()}


@dataclass(frozen=True)
class AnalysisConfig:
    """Defaults follow the study: 50 sampled units, thresholds 0.8 (LSTM) / 0.5 (GRU), activity ``> 0``."""

    max_utterances: int = 0  # 0: every utterance of the data dir for the clean recording
    forgetting_utterances: int = 20
    burst_noises: tuple[str, ...] = ("white", "babble")
    burst_snrs: tuple[str, ...] = ("replace", "0")  # "replace": the burst replaces the speech
    burst_positions: tuple[float, ...] = (0.3, 0.6)  # burst start, fraction of the utterance
    burst_dur_s: float = 0.3
    horizon_ms: float = 1200.0
    sample_units: int = distributions.SAMPLE_UNITS
    active: float = 0.0
    lstm_threshold: float = selectivity.DEFAULT_THRESHOLDS["lstm"]
    gru_threshold: float = selectivity.DEFAULT_THRESHOLDS["gru"]
    seed: int = 0
    dtype: str = "float16"

    RANGES: ClassVar[dict[str, Range]] = {
        "max_utterances": Range(0, 10**9),
        "forgetting_utterances": Range(1, 10**9),
        "burst_positions": Range(0.0, 1.0, low_open=False),
        "burst_dur_s": Range(0.0, 60.0, low_open=True),
        "horizon_ms": Range(10.0, 60_000.0),
        "sample_units": Range(1, 100_000),
        "active": Range(-1.0, 1.0),
        "lstm_threshold": PROBABILITY,
        "gru_threshold": PROBABILITY,
        "seed": Range(0, 2**32 - 1),
    }

    def __post_init__(self) -> None:
        check_ranges(self)


@dataclass(frozen=True)
class BurstCondition:
    """One burst condition of the forgetting analysis: a noise, its level (None: replaces the speech), its place."""

    noise: str
    snr_db: float | None
    position: float

    @property
    def name(self) -> str:
        level = "replace" if self.snr_db is None else f"{self.snr_db:g}dB"
        return f"{self.noise}_{level}_at{round(100 * self.position)}"


def burst_conditions(config: AnalysisConfig) -> list[BurstCondition]:
    """Every (noise, SNR, position) burst condition the config asks for; raises InputError for a bad one."""
    out = []
    for noise in config.burst_noises:
        try:
            if not NoiseSpec.parse(noise).additive:
                raise InputError(f"burst noise {noise!r}: must be additive (not reverb)")
        except InputError as err:
            raise InputError(f"burst noise: {err}") from None
        for snr in config.burst_snrs:
            try:
                level = None if snr == "replace" else float(snr)
            except ValueError:
                raise InputError(f"burst SNR {snr!r}: a number in dB or 'replace'") from None
            out += [BurstCondition(noise, level, position) for position in config.burst_positions]
    return out


def _forgetting_utterances(data_dir: Path, config: AnalysisConfig) -> list[str]:
    """A seeded choice of utterances long enough for a burst and a horizon after it at every position."""
    durations = read_table(data_dir / "utt2dur") if (data_dir / "utt2dur").is_file() else {}
    need = config.burst_dur_s + config.horizon_ms / 1000 / 2
    utts = sorted(durations) if durations else sorted(read_table(data_dir / "wav.scp"))
    long_enough = [u for u in utts if not durations or float(durations[u]) * (1 - max(config.burst_positions)) >= need]
    pool = long_enough or utts
    order = np.random.default_rng(config.seed).permutation(len(pool))
    return sorted(pool[i] for i in order[: config.forgetting_utterances])


def record_runs(
    model_path: Path, name: str, data_dir: Path, out_dir: Path, config: AnalysisConfig, bank: Any, progress: bool
) -> tuple[Path, list[Path]]:
    """The clean recording and one recording per burst condition for one model (existing files are reused)."""
    states_dir = out_dir / "states" / name
    utts = sorted(read_table(data_dir / "wav.scp"))
    if config.max_utterances:
        utts = utts[: config.max_utterances]
    clean = states_dir / "clean.h5"
    if not clean.is_file():
        record_states(model_path, data_dir, clean, utts=utts, dtype=config.dtype, progress=False)
    chosen = _forgetting_utterances(data_dir, config)
    utt2spk = read_table(data_dir / "utt2spk")
    chosen = [u for u in chosen if u in utts]  # forgetting needs the clean states of its utterances
    memory_gates = ("c", "h") if _family(clean) == "lstm" else ("h",)
    runs = []
    for condition in tqdm(burst_conditions(config), desc=f"bursts {name}", disable=not progress, leave=False):
        path = states_dir / f"burst_{condition.name}.h5"
        runs.append(path)
        if path.is_file():
            continue
        spec = NoiseSpec.parse(condition.noise)
        burst = Burst(condition.position, config.burst_dur_s, relative=True)

        def perturb(
            utt: str, wave: np.ndarray, c: BurstCondition = condition, b: Burst = burst, s: NoiseSpec = spec
        ) -> Any:
            seed = utterance_seed(config.seed, c.name, utt)
            return perturb_waveform(bank, wave, s, c.snr_db, seed, utt2spk[utt], b, name=utt)

        record_states(
            model_path,
            data_dir,
            path,
            utts=chosen,
            perturb=perturb,
            condition={"kind": "burst", **asdict(condition), "dur_s": config.burst_dur_s},
            gates=memory_gates,
            from_burst=True,
            dtype=config.dtype,
            progress=False,
        )
    return clean, runs


def _family(clean_path: Path) -> str:
    run = StateFile(clean_path)
    family = run.info.family
    run.close()
    return family


def error_rate(run: StateFile) -> float:
    """The run's phone error rate in %, from the reference and hypothesis stored with each utterance."""
    total = ErrorCounts()
    for utt in run.utts:
        attrs = run.file[f"utts/{utt}"].attrs
        total.add(count_errors(str(attrs["ref"]).split(), str(attrs["hyp"]).split()))
    return round(total.rate, 2)


def analyze_model(clean: StateFile, runs: list[StateFile], config: AnalysisConfig) -> dict[str, Any]:
    """Every analysis of one model's recordings, as a JSON-ready dict (plus the arrays the plots need)."""
    info = clean.info
    memory = info.memory
    threshold = config.lstm_threshold if info.family == "lstm" else config.gru_threshold
    horizon = max(2, int(config.horizon_ms / info.frame_shift_ms))
    out: dict[str, Any] = {
        "cell": info.cell,
        "family": info.family,
        "memory_state": memory,
        "layers": info.num_layers,
        "units": info.units,
        "frame_shift_ms": info.frame_shift_ms,
        "error_rate": error_rate(clean),
        "utterances": len(clean.utts),
        "selectivity_threshold": threshold,
        "layer": [],
    }
    plots: dict[str, Any] = {"curves": {}, "rates": [], "values": [], "saturation": []}
    units = distributions.sample_units(info.units, config.sample_units, config.seed)
    for layer in range(info.num_layers):
        entry: dict[str, Any] = {"layer": layer}
        states, labels = clean.stacked(layer, memory)
        entry["values"] = {memory: distributions.value_statistics(states[:, units])}
        plots["values"].append({memory: states[:, units]})
        if memory != "h":
            hidden, _ = clean.stacked(layer, "h")
            entry["values"]["h"] = distributions.value_statistics(hidden[:, units])
            plots["values"][-1]["h"] = hidden[:, units]
        if labels is not None:
            rates = selectivity.response_rates(states, labels, config.active, len(info.phones))
            counts = selectivity.count_selective(rates, threshold)
            psi = selectivity.phoneme_selectivity_index(states, labels, len(info.phones), seed=config.seed)
            index = selectivity.selectivity_index(psi)
            entry["selective_units"] = {p: int(c) for p, c in zip(info.phones, counts, strict=True)}
            entry["selective_units_total"] = int((np.nan_to_num(rates) > threshold).any(axis=1).sum())
            finite = index[np.isfinite(index)]  # none where no phone has enough frames for the rank tests
            entry["psi_selectivity_mean"] = round(float(finite.mean()), 4) if finite.size else None
            entry["psi_selective_units"] = int((index >= 0.5).sum())
            plots["rates"].append(counts)
        saturation = {}
        for gate in GATES_FOR_SATURATION[info.family]:
            gate_values, _ = clean.stacked(layer, gate)
            left, right = distributions.saturation(gate_values)
            saturation[gate] = {
                "left_mean": round(float(left.mean()), 4),
                "right_mean": round(float(right.mean()), 4),
                "units_mostly_saturated": int(((left + right) > 0.5).sum()),
            }
            plots["saturation"].append((layer, gate, left, right))
        entry["saturation"] = saturation
        if runs:
            entry["forgetting"] = {}
            for state in dict.fromkeys((memory, "h")):
                curves: ForgettingCurves = forgetting_curves(clean, runs, layer, state, horizon)
                entry["forgetting"][state] = curves.summary(config.seed)
                plots["curves"][(layer, state)] = curves.mean()
        out["layer"].append(entry)
    if runs:
        out["trajectory"] = _trajectory(clean, runs[0], info.num_layers - 1, memory, config.seed)
    return {"summary": out, "plots": plots}


def _trajectory(clean: StateFile, run: StateFile, layer: int, state: str, seed: int) -> dict[str, Any]:
    """t-SNE of one utterance's clean and perturbed trajectories (the perturbed one from its first stored frame)."""
    utt = run.utts[0]
    first = run.first_frame(utt)
    reference = clean.state(utt, layer, state)
    noisy = np.concatenate([reference[:first], run.state(utt, layer, state)])
    points = embed_trajectories([reference, noisy], seed)
    labels = clean.labels(utt)
    return {
        "utt": utt,
        "layer": layer,
        "state": state,
        "burst": list(run.burst(utt) or ()),
        "clean": points[0].round(3).tolist(),
        "perturbed": points[1].round(3).tolist(),
        "labels": [clean.info.phones[i] if i >= 0 else "" for i in labels] if labels is not None else [],
    }


def study_table(models: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings of Tang et al. (2017), each with the measured values and whether this run agrees."""
    lstm = next((n for n, m in models.items() if m["family"] == "lstm"), None)
    gru = next((n for n, m in models.items() if m["family"] == "gru"), None)
    if lstm is None or gru is None:
        return []
    a, b = models[lstm], models[gru]

    def layer_mean(model: dict[str, Any], get: Any) -> float | None:
        values = [get(entry) for entry in model["layer"]]
        values = [v for v in values if v is not None]
        return round(float(np.mean(values)), 3) if values else None

    def forgetting(model: dict[str, Any], state: str, key: str) -> float | None:
        return layer_mean(model, lambda e: e.get("forgetting", {}).get(state, {}).get(key))

    memory_abs = [layer_mean(m, lambda e, m=m: e["values"][m["memory_state"]]["mean_abs"]) for m in (a, b)]
    between = [layer_mean(m, lambda e, m=m: e["values"][m["memory_state"]]["between_neuron_share"]) for m in (a, b)]
    half = [forgetting(m, m["memory_state"], "half_life_ms") for m in (a, b)]
    recover = [forgetting(m, "h", "frames_to_10pct") for m in (a, b)]
    recover_ms = [
        None if r is None else round(r * m["frame_shift_ms"], 1) for r, m in zip(recover, (a, b), strict=True)
    ]
    rows = [
        ("GRU is slightly more accurate than LSTM", "error rate (%)", [a["error_rate"], b["error_rate"]], "gru<lstm"),
        (
            "LSTM represents information with large-magnitude cell values",
            "mean |memory state| (LSTM c, GRU h), layer mean",
            memory_abs,
            "lstm>gru",
        ),
        (
            "GRU represents information by differences between neurons",
            "between-neuron share of the memory state's variance, layer mean",
            between,
            "gru>lstm",
        ),
        (
            "GRU forgets faster; LSTM remembers more of the past (as Karpathy et al. found)",
            "half-life of the memory state's distance after a burst (ms), layer mean",
            half,
            "gru<lstm",
        ),
        (
            "Noise disturbs LSTM longer; GRU recovers quickly",
            "time until the output h is within 10% of its post-burst distance (ms), layer mean",
            recover_ms,
            "gru<lstm",
        ),
    ]
    table = []
    for finding, measure, (va, vb), expect in rows:
        agrees = None
        if va is not None and vb is not None:
            agrees = bool(vb < va) if expect == "gru<lstm" else bool(va > vb) if expect == "lstm>gru" else bool(vb > va)
        table.append({"finding": finding, "measure": measure, lstm: va, gru: vb, "expected": expect, "agrees": agrees})
    return table


def study_lines(study: list[dict[str, Any]]) -> list[str]:
    """The study table as text, one finding a line: ``[agrees ] finding: lstm 1.2, gru 3.4``."""
    lines = []
    for row in study:
        names = [k for k in row if k not in ("finding", "measure", "expected", "agrees")]
        values = ", ".join(f"{n} {row[n]}" for n in names)
        verdict = {True: "agrees", False: "differs"}.get(row["agrees"], "n/a")
        lines.append(f"[{verdict:7}] {row['finding']}: {values}")
    return lines


def run_analysis(
    model_paths: list[Path],
    data_dir: Path,
    out_dir: Path,
    config: AnalysisConfig = AnalysisConfig(),
    babble_dir: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Record, analyse and report (see the module docstring). Returns the ``analysis.json`` dict."""
    from gatescope.analysis.reports import memory_report as analysis_plots

    started = time.perf_counter()
    refuse_overlap(
        out_dir, {"--data": data_dir, "--babble-data": babble_dir, **{f"--model {m}": m for m in model_paths}}
    )
    require_files(data_dir, ("wav.scp", "utt2spk", "feat_conf.yaml"))
    burst_conditions(config)
    rate = data_sample_rate(data_dir)
    bank = noise_bank_for(babble_dir or data_dir, rate)
    models: dict[str, dict[str, Any]] = {}
    plots: dict[str, dict[str, Any]] = {}
    phones: list[str] = []
    for path, name in tqdm(
        list(zip(model_paths, experiment_names(model_paths), strict=True)), desc="analyze", disable=not progress
    ):
        clean_path, run_paths = record_runs(path, name, data_dir, out_dir, config, bank, progress)
        clean = StateFile(clean_path)
        runs = [StateFile(p) for p in run_paths]
        phones = list(clean.info.phones)
        try:
            result = analyze_model(clean, runs, config)
        finally:
            for run in [clean, *runs]:
                run.close()
        models[name] = {**result["summary"], "path": path_from(out_dir, path)}  # relative to the report
        plots[name] = result["plots"]
    summary = {
        "data": path_from(out_dir, data_dir),
        "config": asdict(config),
        "burst_conditions": [c.name for c in burst_conditions(config)],
        "phones": phones,
        "models": models,
        "study": study_table(models),
        "seconds": round(time.perf_counter() - started, 1),
    }
    from gatescope.analysis.reports.html import HtmlReport, save_figure, versions

    summary["versions"] = versions(["h5py", "scikit-learn"])
    write_text_atomic(out_dir / "analysis.json", json.dumps(summary, indent=1) + "\n")
    report = HtmlReport("gatescope memory analysis")
    analysis_plots.fill_report(report, summary, plots, lambda fig, n: save_figure(fig, out_dir / f"{n}.png"))
    report.write(out_dir / "report.html")
    return summary
