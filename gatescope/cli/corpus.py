"""``gatescope corpus synth|wsj-synth``: the embedded synthetic corpora."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from gatescope.cli.common import FORMATTER, Parents, Subparsers, add_command, positive_int


def _synth(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.synth.backends import installed_backends
    from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus

    backends = tuple(args.backends.split(","))
    if args.backends == "auto":
        backends, skipped = installed_backends()
        for line in skipped:
            print(f"corpus synth: {line}", file=sys.stderr)
    config = SynthCorpusConfig(
        speakers=args.speakers,
        test_speakers=args.test_speakers,
        utts_per_speaker=args.utts_per_speaker,
        seed=args.seed,
        backends=backends,
        lexicon=str(args.lexicon or ""),
        sample_rate=args.sample_rate,
    )
    summary = asdict(generate_corpus(args.out_dir, config, jobs=args.jobs, progress=not args.quiet))
    counts = summary.pop("train_phone39_counts")
    print(json.dumps(summary, indent=2))
    print(f"train 39-phone counts: {' '.join(f'{p}:{n}' for p, n in sorted(counts.items()))}")
    return 0


def _wsj_synth(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.synth.wsj_corpus import WsjSynthConfig, generate_wsj_corpus

    config = WsjSynthConfig(
        speakers=args.speakers,
        test_speakers=args.test_speakers,
        utts_per_speaker=args.utts_per_speaker,
        seed=args.seed,
        lm_sentences=args.lm_sentences,
    )
    print(json.dumps(generate_wsj_corpus(args.out_dir, config, jobs=args.jobs, progress=not args.quiet), indent=2))
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``corpus`` and its kinds."""
    corpus = commands.add_parser(
        "corpus", help="build corpora (the embedded synthetic TIMIT-style and WSJ-style corpora)",
        description="Build corpora.", formatter_class=FORMATTER,
    )  # fmt: skip
    kinds = corpus.add_subparsers(dest="corpus_kind", metavar="KIND", required=True)
    common = [parents.base, parents.jobs, parents.seed, parents.quiet]
    synth = add_command(
        kinds, "synth", _synth, parents=common,
        help="generate the synthetic read-speech corpus in TIMIT's layout",
        description="Generate a synthetic English read-speech corpus in TIMIT's layout\n"
        "(OUT_DIR/{TRAIN,TEST}/DR<n>/<SPEAKER>/<UTT>.{WAV,PHN,WRD,TXT}) with exact phone\n"
        "alignments, spoken by eSpeak NG voices, flite's and festival's voices of real CMU ARCTIC\n"
        "speakers and Piper's neural voice of a real speaker (speakers take turns by pairs).\n"
        "Same seed, same corpus byte for byte; a re-run skips finished utterances.",
        examples=[
            "gatescope corpus synth corpus/ --speakers 8 --test-speakers 2 --utts-per-speaker 10 --seed 0 --jobs 2",
            "gatescope corpus synth corpus_espeak/ --speakers 8 --utts-per-speaker 5 --backends espeak",
            "gatescope corpus synth digits/ --lexicon recipes/digits/conf/digits_lexicon.yaml --speakers 10 --jobs 2",
        ],
    )  # fmt: skip
    synth.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    synth.add_argument("--speakers", type=positive_int, default=16, help="number of speakers (default 16)")
    synth.add_argument(
        "--test-speakers", type=positive_int, default=4,
        help="how many of them are test speakers, split into dev and core test (default 4)",
    )  # fmt: skip
    synth.add_argument("--utts-per-speaker", type=positive_int, default=30, help="utterances per speaker (default 30)")
    synth.add_argument(
        "--sample-rate", type=positive_int, default=16000,
        help="rate of the written audio (default 16000, as TIMIT; 8000 for telephone-band recipes)",
    )  # fmt: skip
    synth.add_argument(
        "--lexicon", type=Path,
        help="prompt grammar: word lists and templates as the package's conf/synth_lexicon.yaml (default that file)",
    )  # fmt: skip
    synth.add_argument(
        "--backends", default="auto",
        help="synthesizers, comma-separated, of espeak, flite, festival, piper (default auto: every one\n"
        "installed, each missing one skipped with one line naming its package)",
    )  # fmt: skip

    wsj = add_command(
        kinds, "wsj-synth", _wsj_synth, parents=common,
        help="generate the WSJ-style synthetic corpus (LDC WSJ layout) with held-out LM text",
        description="Generate longer newspaper-style read sentences with eSpeak NG in the LDC WSJ layout\n"
        "(wsj0/si_tr_s, wsj1/si_dt_20, wsj0/si_et_20 with .wv1 SPHERE audio, .dot transcripts and the\n"
        "index files), plus OUT_DIR/lm/lm_text.txt: held-out sentences for the LM. Read it with\n"
        "`gatescope prepare wsj OUT_DIR OUT_DIR DATA_DIR`.",
        examples=["gatescope corpus wsj-synth corpus/ --speakers 16 --utts-per-speaker 10 --jobs 2"],
    )  # fmt: skip
    wsj.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    wsj.add_argument("--speakers", type=positive_int, default=40, help="number of speakers (default 40)")
    wsj.add_argument("--test-speakers", type=positive_int, default=8, help="dev + evaluation speakers (default 8)")
    wsj.add_argument("--utts-per-speaker", type=positive_int, default=25, help="utterances per speaker (default 25)")
    wsj.add_argument("--lm-sentences", type=positive_int, default=30000, help="held-out LM sentences (default 30000)")
