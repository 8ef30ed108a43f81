"""The robustness report's text, tables and plots, computed from the ``results.json`` dict alone."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gatescope.analysis.reports.html import HtmlReport
from gatescope.noise import NoiseSpec

SaveFigure = Callable[[Figure, str], None]


def _rate(row: dict[str, Any], model: str) -> float | None:
    result = row["results"].get(model)
    return None if result is None else float(result["error_rate"])


def _series(summary: dict[str, Any]) -> tuple[list[str], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """(every system: models then anchor, noise -> its SNR rows sorted high to low, the clean row)."""
    systems = list(summary["models"]) + ([summary["anchor"]] if summary["anchor"] else [])
    rows = summary["conditions"]
    clean = next(r for r in rows if r["kind"] == "clean")
    by_noise: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["kind"] == "noise":  # keyed by the noise's label: a recorded noise by its name, never its path
            by_noise.setdefault(NoiseSpec.parse(row["noise"]).label, []).append(row)
    for noise in by_noise:
        by_noise[noise].sort(key=lambda r: -r["snr_db"])
    return systems, by_noise, clean


def snr_figure(summary: dict[str, Any], relative: bool) -> Figure | None:
    """Error rate (or its relative increase over clean) against SNR: a panel per noise, a line per system."""
    systems, by_noise, clean = _series(summary)
    if not by_noise:
        return None
    fig, axes = plt.subplots(1, len(by_noise), figsize=(4.2 * len(by_noise), 3.6), sharey=True, squeeze=False)
    for ax, (noise, rows) in zip(axes[0], by_noise.items(), strict=True):
        labels = ["clean"] + [f"{r['snr_db']:g}" for r in rows]
        for system in systems:
            base = _rate(clean, system)
            values = [base] + [_rate(r, system) for r in rows]
            if relative:
                values = [None if v is None or not base else 100 * (v - base) / base for v in values]
            style = "--" if system == summary["anchor"] else "-"
            ax.plot(range(len(labels)), [np.nan if v is None else v for v in values], style, marker="o", label=system)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_title(noise)
        ax.set_xlabel("SNR (dB)")
        ax.grid(alpha=0.3)
    metric = summary["metric"]
    axes[0][0].set_ylabel(f"{metric} increase over clean (%)" if relative else f"{metric} (%)")
    axes[0][-1].legend()
    fig.tight_layout()
    return fig


def reverb_figure(summary: dict[str, Any]) -> Figure | None:
    """Error rate with reverberation per model (None without reverb conditions)."""
    systems, _, clean = _series(summary)
    rows = [r for r in summary["conditions"] if r["kind"] == "reverb"]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.4))
    labels = ["clean"] + [r["condition"] for r in rows]
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        values = [_rate(clean, system)] + [_rate(r, system) for r in rows]
        ax.bar(np.arange(len(labels)) + i * width, [v or 0 for v in values], width, label=system)
    ax.set_xticks(np.arange(len(labels)) + width * (len(systems) - 1) / 2, labels)
    ax.set_ylabel(f"{summary['metric']} (%)")
    ax.legend()
    fig.tight_layout()
    return fig


def burst_figure(summary: dict[str, Any]) -> Figure | None:
    """Excess error after a burst (burst minus clean, same windows) against time since the burst ended."""
    bursts = summary["bursts"]
    if not bursts:
        return None
    fig, axes = plt.subplots(1, len(bursts), figsize=(4.2 * len(bursts), 3.4), sharey=True, squeeze=False)
    for ax, (noise, entry) in zip(axes[0], bursts.items(), strict=True):
        edges = entry["bins_ms"]
        centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        for model in summary["models"]:
            if model in entry:
                ax.plot(centres, entry[model]["excess"], marker="o", label=model)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(f"{noise} burst ({summary['config']['burst_dur_s']:g} s)")
        ax.set_xlabel("ms after the burst ends")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"excess {summary['metric']} (points)")
    axes[0][-1].legend()
    fig.tight_layout()
    return fig


def heatmap_figure(summary: dict[str, Any]) -> Figure:
    """Every system under every condition at a glance: the error rate as colour and as a number in each cell."""
    systems, _, _ = _series(summary)
    rows = summary["conditions"]
    values = np.array([[np.nan if (v := _rate(r, s)) is None else v for r in rows] for s in systems])
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(rows) + 2.5), 0.45 * len(systems) + 2.4))
    top = max(100.0, float(np.nanmax(values))) if np.isfinite(values).any() else 100.0
    image = ax.imshow(values, cmap="magma_r", vmin=0.0, vmax=top, aspect="auto")
    ax.set_xticks(range(len(rows)), [r["condition"] for r in rows], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(systems)), systems)
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            ax.text(
                j,
                i,
                f"{value:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > top / 2 else "black",
            )
    fig.colorbar(image, ax=ax, label=f"{summary['metric']} (%)")
    fig.tight_layout()
    return fig


RECOVERED_POINTS = 2.0  # a model is back after a burst once its excess error is at most this many points


def verdicts(summary: dict[str, Any]) -> list[str]:
    """One line per system, computed from the results: clean error, its worst condition, its rank among the
    systems at SNR <= 5 dB, and (with bursts) how soon after a burst its error is back near clean."""
    systems, by_noise, clean = _series(summary)
    noisy = [r for r in summary["conditions"] if r["kind"] != "clean"]
    low: dict[str, float] = {}
    for system in systems:
        rates = [
            v for rows in by_noise.values() for r in rows if r["snr_db"] <= 5 and (v := _rate(r, system)) is not None
        ]
        if rates:
            low[system] = float(np.mean(rates))
    ranked = sorted(low, key=low.__getitem__)
    lines = []
    for system in systems:
        parts = [f"{system}: {_rate(clean, system):.1f}% {summary['metric']} clean"]
        by_condition = [(r["condition"], v) for r in noisy if (v := _rate(r, system)) is not None]
        if by_condition:
            condition, worst = max(by_condition, key=lambda pair: pair[1])
            parts.append(f"worst under {condition} ({worst:.1f}%)")
        if system in low and len(ranked) > 1:
            parts.append(
                f"{_ordinal(ranked.index(system) + 1)} of {len(ranked)} at SNR ≤ 5 dB ({low[system]:.1f}% on average)"
            )
        elif system in low:
            parts.append(f"{low[system]:.1f}% on average at SNR ≤ 5 dB")
        parts += [_recovery(noise, entry, system) for noise, entry in summary["bursts"].items() if system in entry]
        lines.append("; ".join(parts) + ".")
    return lines


def _recovery(noise: str, entry: dict[str, Any], system: str) -> str:
    """How soon after a ``noise`` burst the system's excess error falls to :data:`RECOVERED_POINTS`."""
    excess, edges = entry[system]["excess"], entry["bins_ms"]
    back = next((i for i, value in enumerate(excess) if value <= RECOVERED_POINTS), None)
    if back is None:
        return f"after a {noise} burst still {excess[-1]:+.1f} points at {edges[-1]} ms"
    return f"after a {noise} burst within {RECOVERED_POINTS:g} points of clean by {edges[back + 1]} ms"


def _ordinal(n: int) -> str:
    return {1: "best", 2: "2nd"}.get(n, f"{n}th" if n > 3 else "3rd")


def fill_report(report: HtmlReport, summary: dict[str, Any], save: SaveFigure) -> None:
    """Every section of the robustness report."""
    systems, _, _ = _series(summary)
    for line in verdicts(summary):
        report.paragraph(line)
    report.paragraph(
        f"{summary['utterances']} utterances ({summary['audio_minutes']} min) of {summary['data']}, "
        f"{summary['decoding']} decoding, every system on identical perturbed audio (seed {summary['config']['seed']})."
    )
    heatmap = heatmap_figure(summary)
    save(heatmap, "heatmap")
    report.figure(heatmap, f"{summary['metric']} (%) of every system under every condition.")
    report.heading(f"{summary['metric']} (%) per condition", 3)
    rows = [[r["condition"], *[_rate(r, s) for s in systems]] for r in summary["conditions"]]
    report.table(["condition", *systems], rows)
    figures = [
        ("error_vs_snr", snr_figure(summary, relative=False), "Error rate against SNR, one panel per noise type."),
        ("degradation_vs_snr", snr_figure(summary, relative=True), "Relative increase of the error rate over clean."),
        ("reverb", reverb_figure(summary), "Error rate under reverberation (synthetic shoebox rooms or given RIRs)."),
        ("burst_recovery", burst_figure(summary), "Excess error after a noise burst, by time since the burst ended."),
    ]
    for name, fig, caption in figures:
        if fig is not None:
            save(fig, name)
            report.figure(fig, caption)
    if summary["bursts"]:
        report.heading("Recovery after a burst", 3)
        report.paragraph(
            "A burst replaces the speech at the middle of each utterance. Windows are scored against the aligned "
            "reference phones; excess = burst minus clean error in the same window (points). Reference tokens "
            "per window are listed to show how much each number rests on."
        )
        header = ["noise", "model", *[f"{a}-{b} ms" for a, b in _pairs(next(iter(summary["bursts"].values())))]]
        body = []
        for noise, entry in summary["bursts"].items():
            for model in summary["models"]:
                if model in entry:
                    body.append([noise, f"{model} (excess)", *entry[model]["excess"]])
                    body.append([noise, f"{model} (clean)", *entry[model]["clean"]])
            first = next(m for m in summary["models"] if m in entry)
            body.append([noise, "reference tokens", *entry[first]["ref_tokens"]])
        report.table(header, body)
    if summary["anchor"]:
        how = (
            "decoding phones in a loop weighted by its phone trigram, no lexicon"
            if summary["metric"] == "PER"
            else "restricted by a grammar to the task's words"
        )
        report.paragraph(
            f"Anchor: {summary['anchor']} (CMU PocketSphinx with its US-English model, {how}) decoded the same audio."
        )
    report.heading("Models", 3)
    report.table(
        ["model", "cell", "layers", "hidden", "parameters", "path"],
        [
            [n, d["cell"], d["layers"], d["hidden_size"], d["parameters"], d["path"]]
            for n, d in summary["models"].items()
        ],
    )
    report.heading("Settings and versions", 3)
    config = {**summary["config"], "noises": [NoiseSpec.parse(n).label for n in summary["config"]["noises"]]}
    report.settings({**config, **{f"features.{k}": v for k, v in summary["features"].items()}})  # no paths
    report.settings({**summary["versions"], "seconds": summary["seconds"]})


def _pairs(entry: dict[str, Any]) -> list[tuple[int, int]]:
    edges = entry["bins_ms"]
    return list(itertools.pairwise(edges))
