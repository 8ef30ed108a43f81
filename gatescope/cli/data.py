"""``gatescope validate-data``, ``combine-data``, ``align`` and ``features``: checking, merging and aligning data
dirs, and extracting their features."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import Parents, Subparsers, add_command, positive_int
from gatescope.errors import InputError


def _validate(args: argparse.Namespace) -> int:
    from gatescope.asr.data.datadir import validate_data_dir

    problems = validate_data_dir(args.data_dir)
    for problem in problems[: args.max_problems]:
        print(problem)
    if len(problems) > args.max_problems:
        print(f"... and {len(problems) - args.max_problems} more problems")
    if problems:
        more = f" ({len(problems)} problems, listed above)" if len(problems) > 1 else ""
        raise InputError(f"not a valid data dir: {problems[0]}{more}")
    print(f"{args.data_dir}: valid Kaldi data dir")
    return 0


def _combine(args: argparse.Namespace) -> int:
    from gatescope.asr.data.datadir import combine_data_dirs, describe_data_dir

    out = combine_data_dirs(args.out_dir, args.sources)
    print(f"{describe_data_dir(out)} (combined from {len(args.sources)} data dirs; run gatescope features on it)")
    return 0


def _align(args: argparse.Namespace) -> int:
    from gatescope.asr.decoding.forced_align import align_data_dir

    summary = align_data_dir(args.data_dir, progress=not args.quiet)
    for utt, why in list(summary.left_out.items())[:5]:
        print(f"left out {utt}: {why}")
    more = f", {len(summary.left_out)} left out" if summary.left_out else ""
    print(f"{summary.ctm}: {summary.aligned} recordings aligned{more}; run gatescope features for frame labels")
    return 0


def _features(args: argparse.Namespace) -> int:
    from gatescope.asr.features.extract import extract_features
    from gatescope.asr.features.fbank import FeatureConfig
    from gatescope.config import load_config
    from gatescope.resources import conf_path

    config = load_config(FeatureConfig, args.config or conf_path(f"{args.type}.yaml"), args.overrides)
    feats = extract_features(args.data_dir, config, jobs=args.jobs, progress=not args.quiet)
    utts = len(feats.read_text().splitlines())
    print(f"{feats}: {utts} utterances, {config.kind} dim {config.dim}; cmvn.scp beside it")
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``validate-data``, ``combine-data``, ``align`` and ``features``."""
    validate = add_command(
        commands, "validate-data", _validate, parents=[parents.base],
        help="check a Kaldi data dir as validate_data_dir.sh does",
        description="Check a Kaldi data dir: required files, sorted unique ids, matching utterance sets,\n"
        "speaker prefixes, durations > 0, alignments contiguous and inside the audio.\n"
        "Prints FILE:LINE: PROBLEM for each problem (stdout) and exits 2 if there is any.",
        examples=["gatescope validate-data data/train"],
    )  # fmt: skip
    validate.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    validate.add_argument("--max-problems", type=positive_int, default=20, help="problems to print (default 20)")

    combine = add_command(
        commands, "combine-data", _combine, parents=[parents.base],
        help="merge data dirs into one (Kaldi's utils/combine_data.sh)",
        description="Write OUT_DIR holding every utterance of the SOURCE data dirs: the tables all of them have\n"
        "(wav.scp, utt2spk, text, text.wrd, spk2gender, utt2dur) merged and sorted, spk2utt rebuilt.\n"
        "Features are not carried over: run gatescope features on the result.",
        examples=["gatescope combine-data data/train_all data/synth/train data/fsdd/train"],
    )  # fmt: skip
    combine.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    combine.add_argument("sources", type=Path, nargs="+", metavar="SOURCE", help="data dirs to merge (two or more)")

    align = add_command(
        commands, "align", _align, parents=[parents.base, parents.quiet],
        help="phone alignments (phones.ctm) for real recordings, by PocketSphinx's forced alignment",
        description="Align every recording of DATA_DIR to its words (text.wrd, else text) with PocketSphinx's\n"
        "US-English acoustic model and write DATA_DIR/phones.ctm in TIMIT's 61 labels, as the corpora do.\n"
        "Then gatescope features writes frame labels, and gatescope analyze finds phone-selective units\n"
        "on real speech. Recordings with a word outside PocketSphinx's dictionary are left out (listed).\n"
        "A data dir with a phones.ctm is refused: a corpus's own alignments are exact.",
        examples=["gatescope align data/fsdd/test"],
    )  # fmt: skip
    align.add_argument("data_dir", type=Path, metavar="DATA_DIR")

    features = add_command(
        commands, "features", _features, parents=[parents.base, parents.jobs, parents.quiet],
        help="Kaldi-compatible fbank/MFCC, CMVN stats and frame phone labels as ark/scp",
        description="Extract Kaldi-compatible features (torchaudio.compliance.kaldi) into DATA_DIR/data/*.ark\n"
        "with feats.scp, per-speaker cmvn.scp and frame-level phone labels (labels.scp).\n"
        "Resumable: finished chunks are kept. Settings come from the package's <type>.yaml and key=value.",
        examples=[
            "gatescope features data/train --jobs 2",
            "gatescope features data/train --type mfcc",
            "gatescope features data/train num_mel_bins=80",
        ],
    )  # fmt: skip
    features.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    features.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override config keys")
    features.add_argument("--type", choices=("fbank", "mfcc"), default="fbank", help="default fbank")
    features.add_argument("--config", type=Path, help="a features YAML (default: the package's <type>.yaml)")
