"""``gatescope analyze``: the memory analysis of Tang et al. (2017) on trained models."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import Parents, Subparsers, add_command


def _analyze(args: argparse.Namespace) -> int:
    from gatescope.analysis.memory.analyze import AnalysisConfig, run_analysis, study_lines
    from gatescope.config import load_config

    config = load_config(AnalysisConfig, args.config, args.overrides)
    summary = run_analysis(args.model, args.data, args.out, config, args.babble_data, progress=not args.quiet)
    print("\n".join(study_lines(summary["study"])))
    print(f"report: {args.out / 'report.html'} ({summary['seconds']} s)")
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``analyze``."""
    analyze = add_command(
        commands, "analyze", _analyze, parents=[parents.base, parents.quiet],
        help="memory analysis: forgetting speed, phone selectivity, distributions, gate saturation, t-SNE",
        description="Record each model's gates and states on DATA_DIR (clean, and with noise bursts at several\n"
        "places, noises and SNRs) into OUT/states/*.h5, then measure: forgetting speed after a burst (distance\n"
        "to the clean trajectory, half-life), phone-selective units (response rates, PSI), value\n"
        "distributions of 50 random units per layer, gate saturation and t-SNE trajectories. Writes\n"
        "analysis.json and report.html with the study table (Tang et al. 2017: LSTM vs GRU).\n"
        "Settings: AnalysisConfig keys as KEY=VALUE (e.g. forgetting_utterances=40 burst_noises=white,pink).",
        examples=[
            "gatescope analyze --model exp/lstm --model exp/gru --data data/test --out exp/analysis",
            "gatescope analyze --model exp/lstm --model exp/gru --data data/test --out exp/analysis \\\n"
            "      max_utterances=50 burst_snrs=replace,0,10 burst_positions=0.25,0.5",
        ],
    )  # fmt: skip
    analyze.add_argument("--model", type=Path, action="append", required=True, help="experiment dir (repeat)")
    analyze.add_argument("--data", type=Path, required=True, help="data dir with wav.scp, cmvn.scp, labels.scp")
    analyze.add_argument("--out", type=Path, required=True, help="report folder (recordings go to OUT/states)")
    analyze.add_argument("--config", type=Path, help="analysis settings YAML (AnalysisConfig keys)")
    analyze.add_argument("--babble-data", type=Path, help="data dir whose speakers make babble bursts")
    analyze.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override analysis settings")
