"""``gatescope decode``, ``score-real``, ``results``, ``lm`` and ``tune-lm``: decoding, scoring and word LMs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from gatescope.cli.common import (
    MAX_WORDS_HELP,
    STREAM_CMVN_CHOICES,
    Parents,
    Subparsers,
    add_command,
    floats,
    nonnegative_float,
    nonnegative_int,
    positive_int,
)

if TYPE_CHECKING:
    from gatescope.asr.decoding.real_speech import RealSpeechScore


def _decode(args: argparse.Namespace) -> int:
    from gatescope.asr.decoding.decode import decode_data_dir
    from gatescope.asr.decoding.grammar import word_count_grammar
    from gatescope.asr.decoding.lang import LangDir

    lang = LangDir(args.lang) if args.lang else None
    rate, out = decode_data_dir(
        args.model,
        args.data,
        args.out,
        beam=args.beam,
        lang=lang,
        lm_weight=args.lm_weight,
        word_score=args.word_score,
        grammar=word_count_grammar(args.max_words),
    )
    result = json.loads((out / "result.json").read_text())
    print(f"{result['metric']} {rate:.2f}% on {args.data} ({result['decoding']}); details in {out}")
    return 0


def _results(args: argparse.Namespace) -> int:
    from gatescope.asr.decoding.results import results_table

    print(results_table(args.experiments))
    return 0


def _lm(args: argparse.Namespace) -> int:
    from gatescope.asr.decoding.lang import build_lang, transcript_words

    info = build_lang(args.text, args.out, order=args.order, extra_words=transcript_words(args.words_from))
    print(json.dumps(info, indent=1))
    return 0


def _tune_lm(args: argparse.Namespace) -> int:
    from gatescope.asr.decoding.decode import tune_lm
    from gatescope.asr.decoding.lang import LangDir

    weights, rate, saved = tune_lm(
        args.model, args.data, LangDir(args.lang), args.lm_weights, args.word_scores, args.beam, not args.quiet
    )
    print(f"best on {args.data}: lm_weight {weights.lm_weight} word_score {weights.word_score} -> WER {rate:.2f}%")
    print(f"saved to {saved}")
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``decode``, ``score-real``, ``results``, ``lm`` and ``tune-lm``."""
    decode = add_command(
        commands, "decode", _decode, parents=[parents.base],
        help="decode a data dir and score it (PER on 39 phones, or WER)",
        description="Decode every utterance of a data dir with a trained model (greedy, or CTC prefix beam\n"
        "search with --beam N) and score it: hyp.txt, ref.txt, per_utt.txt (sub/del/ins per\n"
        "utterance and totals), align.txt, confusions.txt and result.json go into --out\n"
        "(default MODEL/decode_<data>_<mode>).",
        examples=[
            "gatescope decode --model exp/lstm --data data/test",
            "gatescope decode --model exp/lstm/best.ckpt --data data/test --beam 8",
            "gatescope decode --model exp/digits --data data/fsdd/test --max-words 1  # a digits word model",
        ],
    )  # fmt: skip
    decode.add_argument("--model", type=Path, required=True, help="experiment dir or checkpoint")
    decode.add_argument("--data", type=Path, required=True, help="data dir with feats.scp, cmvn.scp and text")
    decode.add_argument("--beam", type=nonnegative_int, default=0, help="beam size (0: greedy, the default)")
    decode.add_argument("--out", type=Path, help="output folder")
    decode.add_argument("--lang", type=Path, help="lang dir (lm.arpa, lexicon.txt): lexicon + LM beam search")
    decode.add_argument("--lm-weight", type=float, help="LM weight (default: tuned by gatescope tune-lm, else 1)")
    decode.add_argument("--word-score", type=float, help="word insertion score (default: tuned, else 0)")
    decode.add_argument("--max-words", type=nonnegative_int, default=0, metavar="N", help=MAX_WORDS_HELP)
    register_score_real(commands, parents)

    results = add_command(
        commands, "results", _results, parents=[parents.base],
        help="table of experiments: cell, size, error rates",
        description="Print a Markdown table of trained models and every decode result under them.",
        examples=["gatescope results exp/lstm exp/gru"],
    )  # fmt: skip
    results.add_argument("experiments", type=Path, nargs="+", metavar="EXP_DIR")

    lm = add_command(
        commands, "lm", _lm, parents=[parents.base],
        help="train a word n-gram LM (modified Kneser-Ney, ARPA) and write a lang dir",
        description="Train an interpolated modified Kneser-Ney n-gram LM on TEXT (one sentence per line) and\n"
        "write OUT/lm.arpa, OUT/lexicon.txt (every word spelled in characters, ending with |),\n"
        "OUT/words.txt and OUT/lang.json: what `gatescope decode --lang OUT` needs.",
        examples=["gatescope lm --text corpus/lm/lm_text.txt --order 3 --out data/lang --words-from data/train_si84"],
    )  # fmt: skip
    lm.add_argument("--text", type=Path, required=True, help="LM training text, one sentence per line")
    lm.add_argument("--out", type=Path, required=True, help="lang dir to write")
    lm.add_argument("--order", type=positive_int, default=3, help="n-gram order (default 3)")
    lm.add_argument(
        "--words-from", type=Path, action="append", default=[], help="also put this data dir's words in the lexicon"
    )

    tune = add_command(
        commands, "tune-lm", _tune_lm, parents=[parents.base, parents.quiet],
        help="choose the LM weight and word score on a dev set",
        description="Decode a dev data dir once per (LM weight, word score) pair with the lexicon + LM beam\n"
        "search and keep the pair with the lowest WER in MODEL/lm_tuning.json, which gatescope decode --lang\n"
        "then uses.",
        examples=["gatescope tune-lm --model exp/lstm --data data/dev93 --lang data/lang"],
    )  # fmt: skip
    tune.add_argument("--model", type=Path, required=True, help="experiment dir (a character model)")
    tune.add_argument("--data", type=Path, required=True, help="dev data dir with features")
    tune.add_argument("--lang", type=Path, required=True, help="lang dir from gatescope lm")
    tune.add_argument("--lm-weights", type=floats, default=[0.25, 0.5, 1.0, 1.5, 2.0], help="default 0.25,...,2")
    tune.add_argument(
        "--word-scores", type=floats, default=[-1.0, 0.0, 1.0, 2.0],
        help="default -1,0,1,2 (negatives: --word-scores=-1,0)",
    )  # fmt: skip
    tune.add_argument("--beam", type=positive_int, default=32, help="beam size (default 32)")


def _print_speakers(score: RealSpeechScore) -> None:
    """One line of per-speaker error rates, where there are several speakers."""
    rates = score.speaker_rates()
    if len(rates) > 1:
        print(f"  per speaker: {', '.join(f'{spk} {rate:.2f}%' for spk, rate in rates.items())}")


def _score_real(args: argparse.Namespace) -> int:
    from gatescope.asr.decoding.grammar import word_count_grammar
    from gatescope.asr.decoding.real_speech import score_recordings

    score = score_recordings(
        args.model, args.data, args.out, cmvn=args.cmvn, progress=not args.quiet,
        lead_silence_s=args.lead_silence, speaker_adapt=args.speaker_adapt,
        grammar=word_count_grammar(args.max_words),
    )  # fmt: skip
    where = f"; details in {args.out}" if args.out else ""
    print(f"{score.metric} {score.rate:.2f}% on {score.utterances} real recordings "
          f"({score.empty_hypotheses} with no output){where}")  # fmt: skip
    _print_speakers(score)
    if args.anchor == "pocketsphinx":
        from gatescope.asr.decoding.real_speech import score_anchor

        target = "phones" if score.metric == "PER" else "words"
        anchor_out = args.out / "anchor" if args.out else None
        anchor = score_anchor(target, args.data, anchor_out, progress=not args.quiet, lead_silence_s=args.lead_silence)
        what = "phone loop" if target == "phones" else "the task's words"
        print(
            f"PocketSphinx (its en-us model, {what}): {anchor.metric} {anchor.rate:.2f}% on the same recordings "
            f"({anchor.empty_hypotheses} with no output){f'; details in {anchor_out}' if anchor_out else ''}"
        )
        _print_speakers(anchor)
    return 0


def register_score_real(commands: Subparsers, parents: Parents) -> None:
    """Add ``score-real``."""
    score = add_command(
        commands, "score-real", _score_real, parents=[parents.base, parents.quiet],
        help="score a model on real recordings with word transcripts, through the streaming path",
        description="Stream every recording of --data (wav.scp; words in text.wrd, else text) through the model as\n"
        "a microphone would deliver it and score the result: WER for word models, PER on 39 phones for\n"
        "phone models, whose references are eSpeak NG's phonemization of the known words mapped to TIMIT\n"
        "labels exactly as the embedded corpus is. Any folder of real recordings works once it is a data dir:\n"
        "gatescope prepare folder makes one of your recordings with NAME.txt transcripts beside them,\n"
        "gatescope prepare digits one of the Free Spoken Digit Dataset.",
        examples=[
            "gatescope score-real --model exp/lstm --data data/fsdd/train --data data/fsdd/test --out exp/real",
            "gatescope score-real --model exp/lstm --data data/mine   # your recordings: gatescope prepare folder",
        ],
    )  # fmt: skip
    score.add_argument("--model", type=Path, required=True, help="experiment dir (unidirectional)")
    score.add_argument("--data", type=Path, action="append", required=True, help="data dir of recordings (repeat)")
    score.add_argument(
        "--out", type=Path, help="write hyp.txt, ref.txt, per_utt.txt, align.txt, confusions.txt and result.json here"
    )
    score.add_argument(
        "--cmvn", choices=STREAM_CMVN_CHOICES,
        help="as gatescope stream (default: as the model was trained)",
    )  # fmt: skip
    score.add_argument(
        "--lead-silence", type=nonnegative_float, default=0.0, metavar="SECONDS",
        help="digital silence streamed before every recording, as a microphone delivers it before a word "
        "(default 0: the recordings as cut; FSDD's start at the word's first sample)",
    )  # fmt: skip
    score.add_argument(
        "--speaker-adapt", action="store_true",
        help="stream each speaker's recordings (utt2spk) in turn, in a seeded random order, carrying the CMVN "
        "statistics from one to the next as a microphone session would (each decoded from a fresh state)",
    )  # fmt: skip
    score.add_argument(
        "--anchor", choices=("none", "pocketsphinx"), default="none",
        help="also score PocketSphinx's own US-English model (trained on real speech) on the same recordings: "
        "a phone loop for phone models, the task's words as a grammar for word models; into OUT/anchor "
        "(default none)",
    )  # fmt: skip
    score.add_argument("--max-words", type=nonnegative_int, default=0, metavar="N", help=MAX_WORDS_HELP)
