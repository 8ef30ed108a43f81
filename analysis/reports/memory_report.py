"""The memory-analysis report: the study table first, then one section per analysis with its plot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gatescope.analysis.reports.html import HtmlReport

SaveFigure = Callable[[Figure, str], None]


def forgetting_figure(summary: dict[str, Any], plots: dict[str, Any]) -> Figure | None:
    """Distance to the clean trajectory after a burst, per model and layer (None without burst runs)."""
    states = sorted({state for p in plots.values() for (_, state) in p["curves"]}, key=lambda s: s != "c")
    if not states:
        return None
    fig, axes = plt.subplots(1, len(states), figsize=(5.2 * len(states), 3.8), squeeze=False)
    for ax, state in zip(axes[0], states, strict=True):
        for name, p in plots.items():
            shift = summary["models"][name]["frame_shift_ms"]
            for (layer, s), curve in sorted(p["curves"].items()):
                if s == state:
                    ax.plot(np.arange(curve.size) * shift, curve, label=f"{name} L{layer}", alpha=0.9)
        ax.set_title(f"state {state}: distance to the clean trajectory")
        ax.set_xlabel("ms after the burst ends")
        ax.set_ylabel("distance (clean steps)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def selectivity_figure(summary: dict[str, Any], plots: dict[str, Any]) -> Figure | None:
    """Phone-selective units per layer and phone as heat maps (None without labels)."""
    names = [n for n in plots if plots[n]["rates"]]
    if not names:
        return None
    phones = summary["phones"]
    fig, axes = plt.subplots(len(names), 1, figsize=(12, 1.2 + 0.55 * sum(len(plots[n]["rates"]) for n in names)))
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names, strict=True):
        counts = np.array(plots[name]["rates"])
        image = ax.imshow(counts, aspect="auto", cmap="viridis")
        ax.set_yticks(range(counts.shape[0]), [f"L{k}" for k in range(counts.shape[0])])
        ax.set_xticks(range(len(phones)), phones, fontsize=7, rotation=90)
        threshold = summary["models"][name]["selectivity_threshold"]
        ax.set_title(f"{name}: units with response rate > {threshold:g} per phone")
        fig.colorbar(image, ax=ax, pad=0.01)
    fig.tight_layout()
    return fig


def distribution_figure(summary: dict[str, Any], plots: dict[str, Any]) -> Figure:
    """Per layer (rows) and model (columns): histograms of the sampled units' c and h over all frames."""
    names = list(plots)
    layers = max(len(plots[n]["values"]) for n in names)
    fig, axes = plt.subplots(layers, len(names), figsize=(4.5 * len(names), 2.2 * layers), squeeze=False)
    for col, name in enumerate(names):
        for layer, by_state in enumerate(plots[name]["values"]):
            ax = axes[layer][col]
            for k, (state, values) in enumerate(sorted(by_state.items())):
                ax.hist(values.ravel(), bins=120, color=f"C{k}", log=True, alpha=0.6, label=state)
            units = next(iter(by_state.values())).shape[1]
            ax.set_title(f"{name} layer {layer} ({units} units)", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def saturation_figure(summary: dict[str, Any], plots: dict[str, Any]) -> Figure | None:
    """Karpathy's saturation scatter: fraction of time each gate unit is left- vs right-saturated."""
    panels = [(name, gate) for name, p in plots.items() for gate in dict.fromkeys(g for _, g, _, _ in p["saturation"])]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.3), squeeze=False)
    for ax, (name, gate) in zip(axes[0], panels, strict=True):
        for layer, g, left, right in plots[name]["saturation"]:
            if g == gate:
                ax.scatter(left, right, s=4, alpha=0.6, label=f"L{layer}")
        ax.plot([0, 1], [1, 0], color="k", lw=0.6)
        ax.set(xlim=(0, 1), ylim=(0, 1), title=f"{name} gate {gate}", xlabel="fraction < 0.1")
        ax.set_ylabel("fraction > 0.9")
        ax.legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    return fig


def trajectory_figure(summary: dict[str, Any]) -> Figure | None:
    """t-SNE of a clean and a burst-perturbed state trajectory, burst frames marked (None if not computed)."""
    names = [n for n, m in summary["models"].items() if "trajectory" in m]
    if not names:
        return None
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        t = summary["models"][name]["trajectory"]
        clean, noisy = np.array(t["clean"]), np.array(t["perturbed"])
        labels = t["labels"]
        phones = sorted(set(labels))
        colours = [phones.index(lab) if labels else 0 for lab in labels] or None
        ax.plot(clean[:, 0], clean[:, 1], color="0.7", lw=0.8, zorder=1)
        colour_args = {"c": colours, "cmap": "tab20"} if colours else {"color": "C0"}
        ax.scatter(clean[:, 0], clean[:, 1], s=14, zorder=2, label="clean", **colour_args)
        ax.plot(noisy[:, 0], noisy[:, 1], color="C3", lw=0.8, alpha=0.7, zorder=1, label="with burst")
        if t["burst"]:
            start, end = t["burst"]
            ax.scatter(noisy[start:end, 0], noisy[start:end, 1], marker="x", color="C3", s=30, zorder=3, label="burst")
        ax.set_title(f"{name}: {t['utt']} layer {t['layer']} {t['state']}", fontsize=9)
        ax.legend(fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def fill_report(report: HtmlReport, summary: dict[str, Any], plots: dict[str, Any], save: SaveFigure) -> None:
    """Fill ``report`` with the study table and one section per analysis, saving each figure with ``save``."""
    models = summary["models"]
    report.paragraph(
        f"Recordings of {', '.join(models)} on {summary['data']} "
        f"({next(iter(models.values()))['utterances']} utterances); bursts: {', '.join(summary['burst_conditions'])}."
    )
    report.heading("The study, measured")
    if summary["study"]:
        names = [n for n in summary["study"][0] if n not in ("finding", "measure", "expected", "agrees")]
        rows = []
        for row in summary["study"]:
            verdict = {True: '<span class="ok">agrees</span>', False: '<span class="no">differs</span>'}
            rows.append(
                [row["finding"], row["measure"], *[_fmt(row[n]) for n in names], verdict.get(row["agrees"], "n/a")]
            )
        report.table(["finding (Tang et al. 2017)", "measured as", *names, "this run"], rows, raw_cells=True)
    else:
        report.paragraph("The study table needs an LSTM-family model and a GRU among the --model arguments.")
    sections = [
        ("forgetting", "Forgetting speed", forgetting_figure(summary, plots),
         "Distance between the burst-perturbed and the clean state trajectory after the burst, averaged over "
         "utterances, burst positions, noises and SNRs (1 = one typical clean frame-to-frame step)."),
        ("selectivity", "Phone-selective units", selectivity_figure(summary, plots),
         "Units per layer whose response rate (fraction of a phone's frames with value > 0) exceeds the study's "
         "threshold (0.8 LSTM cells, 0.5 GRU states)."),
        ("distributions", "Value distributions", distribution_figure(summary, plots),
         "Histograms (log count) of c and h of 50 seeded random units per layer over all frames (GRU: h only)."),
        ("saturation", "Gate saturation", saturation_figure(summary, plots),
         "Per unit: fraction of frames left-saturated (< 0.1) against right-saturated (> 0.9) (Karpathy et al.)."),
        ("trajectory", "State trajectories (t-SNE)", trajectory_figure(summary),
         "One utterance's last-layer memory states, clean (coloured by phone) and with a burst (red; x: burst)."),
    ]  # fmt: skip
    for key, title, fig, caption in sections:
        report.heading(title)
        if fig is not None:
            save(fig, key)
            report.figure(fig, caption)
        if key == "forgetting":
            rows = [
                [name, e["layer"], state, f.get("half_life_ms"), _ci(f.get("half_life_ci_frames"), m["frame_shift_ms"]),
                 None if f.get("frames_to_10pct") is None else f["frames_to_10pct"] * m["frame_shift_ms"], f["curves"]]
                for name, m in models.items() for e in m["layer"] for state, f in e.get("forgetting", {}).items()
            ]  # fmt: skip
            report.table(["model", "layer", "state", "half-life (ms)", "95% CI (ms)", "to 10% (ms)", "curves"], rows)
        if key == "selectivity":
            rows = [
                [name, e["layer"], e.get("selective_units_total"), e.get("psi_selectivity_mean"),
                 e.get("psi_selective_units")]
                for name, m in models.items() for e in m["layer"]
            ]  # fmt: skip
            report.table(["model", "layer", "selective units", "mean PSI selectivity", "units PSI ≥ 0.5"], rows)
        if key == "distributions":
            rows = [
                [name, e["layer"], state, *s.values()]
                for name, m in models.items() for e in m["layer"] for state, s in e["values"].items()
            ]  # fmt: skip
            report.table(["model", "layer", "state", "mean |v|", "std", "|v| > 1", "kurtosis", "between-neuron"], rows)
        if key == "saturation":
            rows = [
                [name, e["layer"], gate, s["left_mean"], s["right_mean"], s["units_mostly_saturated"]]
                for name, m in models.items() for e in m["layer"] for gate, s in e["saturation"].items()
            ]  # fmt: skip
            report.table(["model", "layer", "gate", "left-saturated", "right-saturated", "units > 50% saturated"], rows)
    report.heading("Models", 3)
    report.table(
        ["model", "cell", "layers", "units", "error rate (%)", "path"],
        [[n, m["cell"], m["layers"], m["units"], m["error_rate"], m["path"]] for n, m in models.items()],
    )
    report.heading("Settings and versions", 3)
    report.settings(summary["config"])
    report.settings({**summary["versions"], "seconds": summary["seconds"]})


def _ci(interval: list[float] | None, shift: float) -> str:
    return "-" if not interval else f"{interval[0] * shift:.0f}–{interval[1] * shift:.0f}"
