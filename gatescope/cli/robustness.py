"""``gatescope robustness``: every model under every noise condition, as a report."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import MAX_WORDS_HELP, Parents, Subparsers, add_command, nonnegative_int, positive_float


def _robustness(args: argparse.Namespace) -> int:
    from gatescope.analysis.reports.robustness_report import verdicts
    from gatescope.analysis.robustness.conditions import RobustnessConfig
    from gatescope.analysis.robustness.evaluate import run_robustness

    config = RobustnessConfig(
        noises=tuple(n for n in args.noise.split(",") if n),
        snrs=tuple(v for v in args.snr.split(",") if v),
        bursts=args.bursts,
        burst_dur_s=args.burst_dur,
        beam=args.beam,
        max_words=args.max_words,
        seed=args.seed,
        active_only=args.active_only,
        anchor=args.anchor,
        jobs=args.jobs,
    )
    summary = run_robustness(args.model, args.data, args.out, config, args.babble_data, progress=not args.quiet)
    for line in verdicts(summary):
        print(line)
    costs = ", ".join(f"{row['condition']} {row['seconds']:.1f} s" for row in summary["conditions"])
    print(f"per condition: {costs}")
    print(f"report: {args.out / 'report.html'} ({len(summary['conditions'])} conditions, {summary['seconds']} s)")
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``robustness``."""
    robustness = add_command(
        commands, "robustness", _robustness, parents=[parents.base, parents.seed, parents.jobs, parents.quiet],
        help="noise-robustness report: every model under every noise condition",
        description="Decode every --model under every condition on identical perturbed audio (same seed for all\n"
        "models): clean, each --noise at each --snr, reverberation, and with --bursts a noise segment in\n"
        "each utterance (error in windows after it vs the same windows clean). For word tasks PocketSphinx\n"
        "decodes the same audio as an anchor (for phone tasks, with --anchor pocketsphinx, its phone loop).\n"
        "Writes results.json, results.csv, hyp/, PNG plots and a self-contained report.html into --out.",
        examples=[
            "gatescope robustness --model exp/lstm --model exp/gru --data data/test --out exp/robustness",
            "gatescope robustness --model exp/lstm --model exp/gru --data data/test --out exp/rob \\\n"
            "      --noise white,pink,babble,file:noises/,reverb --snr clean,20,10,5,0,-5 --bursts",
        ],
    )  # fmt: skip
    robustness.add_argument("--model", type=Path, action="append", required=True, help="experiment dir (repeat)")
    robustness.add_argument("--data", type=Path, required=True, help="data dir with wav.scp, text, feat_conf.yaml")
    robustness.add_argument("--out", type=Path, required=True, help="report folder")
    robustness.add_argument(
        "--noise", default="white,pink,babble", help="comma-separated noise specs (default white,pink,babble)"
    )
    robustness.add_argument(
        "--snr", default="clean,20,10,5,0,-5", help="SNRs in dB and 'clean' (default clean,20,10,5,0,-5)"
    )
    robustness.add_argument("--bursts", action="store_true", help="add burst conditions (recovery after a burst)")
    robustness.add_argument("--burst-dur", type=positive_float, default=0.3, help="burst length in s (default 0.3)")
    robustness.add_argument("--beam", type=nonnegative_int, default=0, help="beam size (0: greedy, the default)")
    robustness.add_argument("--max-words", type=nonnegative_int, default=0, metavar="N", help=MAX_WORDS_HELP)
    robustness.add_argument("--active-only", action="store_true", help="SNR over active speech only")
    robustness.add_argument("--babble-data", type=Path, help="data dir whose speakers make the babble (default --data)")
    robustness.add_argument(
        "--anchor",
        default="auto",
        choices=("auto", "none", "pocketsphinx"),
        help="external anchor (default auto: PocketSphinx for word tasks, none for phones)",
    )
