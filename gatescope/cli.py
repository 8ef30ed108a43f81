"""The ``gatescope`` command: argument parsing only; the work is done in gatescope.asr/noise/analysis."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from gatescope import __version__
from gatescope.asr.errors import InputError
from gatescope.asr.synth.corpus import SynthCorpusConfig
from gatescope.noise.errors import NoiseError

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _corpus_synth(args: argparse.Namespace) -> int:
    from gatescope.asr.synth.corpus import generate_corpus

    config = SynthCorpusConfig(
        speakers=args.speakers,
        test_speakers=args.test_speakers,
        utts_per_speaker=args.utts_per_speaker,
        seed=args.seed,
    )
    summary = generate_corpus(args.out_dir, config, jobs=args.jobs, progress=not args.quiet)
    body = asdict(summary)
    counts = body.pop("train_phone39_counts")
    print(json.dumps(body, indent=2))
    print(f"train 39-phone counts: {' '.join(f'{p}:{n}' for p, n in sorted(counts.items()))}")
    return 0


def _prepare_timit(args: argparse.Namespace) -> int:
    from gatescope.asr.prepare import prepare_timit

    out = prepare_timit(
        args.timit_root,
        args.data_dir,
        dev_list=args.dev_spk_list,
        test_list=args.test_spk_list,
        progress=not args.quiet,
    )
    for split in ("train", "dev", "test"):
        utts = (out / split / "utt2spk").read_text().count("\n")
        spks = (out / split / "spk2utt").read_text().count("\n")
        print(f"{out / split}: {utts} utterances, {spks} speakers (validated)")
    return 0


def _prepare_digits(args: argparse.Namespace) -> int:
    from gatescope.asr.digits import prepare_digits

    out = prepare_digits(args.recordings, args.data_dir, test_speaker=args.test_speaker)
    for split in ("train", "dev", "test"):
        print(f"{out / split}: {(out / split / 'utt2spk').read_text().count(chr(10))} utterances (validated)")
    return 0


def _results(args: argparse.Namespace) -> int:
    from gatescope.asr.results import results_table

    print(results_table(args.experiments))
    return 0


def _validate_data(args: argparse.Namespace) -> int:
    from gatescope.asr.datadir import validate_data_dir

    problems = validate_data_dir(args.data_dir)
    for problem in problems[: args.max_problems]:
        print(problem, file=sys.stderr)
    if len(problems) > args.max_problems:
        print(f"... and {len(problems) - args.max_problems} more problems", file=sys.stderr)
    if problems:
        return 1
    print(f"{args.data_dir}: valid Kaldi data dir")
    return 0


def _features(args: argparse.Namespace) -> int:
    from gatescope.asr.config import load_config
    from gatescope.asr.features import FeatureConfig, extract_features
    from gatescope.asr.resources import conf_path

    config = load_config(FeatureConfig, args.config or conf_path(f"{args.type}.yaml"), args.overrides)
    feats = extract_features(args.data_dir, config, jobs=args.jobs, progress=not args.quiet)
    utts = len(feats.read_text().splitlines())
    print(f"{feats}: {utts} utterances, {config.kind} dim {config.dim}; cmvn.scp beside it")
    return 0


def _train(args: argparse.Namespace) -> int:
    from gatescope.asr.config import load_config
    from gatescope.asr.train import train, train_or_resume
    from gatescope.asr.train_config import TrainConfig

    config = load_config(TrainConfig, args.config, args.overrides)
    best = train_or_resume(config, args.out) if args.auto_resume else train(config, args.out, resume=args.resume)
    print(f"best checkpoint: {best}")
    return 0


def _decode(args: argparse.Namespace) -> int:
    from gatescope.asr.decode import decode_data_dir
    from gatescope.asr.lang import LangDir, SearchWeights

    lang = LangDir(args.lang) if args.lang else None
    weights = None
    if lang is not None and (args.lm_weight is not None or args.word_score is not None):
        default = SearchWeights()
        weights = SearchWeights(
            default.lm_weight if args.lm_weight is None else args.lm_weight,
            default.word_score if args.word_score is None else args.word_score,
            args.beam or default.beam,
        )
    rate, out = decode_data_dir(args.model, args.data, args.out, beam=args.beam, lang=lang, weights=weights)
    metric = json.loads((out / "result.json").read_text())["metric"]
    print(
        f"{metric} {rate:.2f}% on {args.data} ({json.loads((out / 'result.json').read_text())['decoding']}); "
        f"details in {out}"
    )
    return 0


def _snr_value(text: str) -> float | None:
    """``--snr`` values: a number in dB, or ``replace`` (a burst that replaces the speech)."""
    if text == "replace":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"SNR must be a number in dB or 'replace', got {text!r}") from None


def _noise(args: argparse.Namespace) -> int:
    from gatescope.asr.perturb_data import Burst, perturb_data_dir, perturb_files

    burst = Burst.parse(args.burst) if args.burst else None
    if args.snr is None and burst is None:
        raise InputError(f"--snr is required for {args.noise} (or give --burst to insert a noise segment)")
    if not (args.data is None) ^ (not args.wavs):
        raise InputError("give either WAV files or --data DATA_DIR")
    common = dict(seed=args.seed, burst=burst, active_only=args.active_only, babble_dir=args.babble_data)
    if args.data is not None:
        out = perturb_data_dir(args.data, args.out, args.noise, args.snr, progress=not args.quiet, **common)
        print(f"{out}: perturbed data dir ({args.noise}, SNR {args.snr}); run gatescope features on it")
        return 0
    for path, span in perturb_files(args.wavs, args.out, args.noise, args.snr, **common):
        print(f"{path}" + (f" burst samples {span[0]}-{span[1]}" if span else ""))
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from gatescope.analysis.robustness import RobustnessConfig, run_robustness

    config = RobustnessConfig(
        noises=tuple(n for n in args.noise.split(",") if n),
        snrs=tuple(v for v in args.snr.split(",") if v),
        bursts=args.bursts,
        burst_dur_s=args.burst_dur,
        beam=args.beam,
        seed=args.seed,
        active_only=args.active_only,
        anchor=args.anchor,
    )
    summary = run_robustness(args.model, args.data, args.out, config, args.babble_data, progress=not args.quiet)
    from gatescope.analysis.robustness_plots import headline

    print(headline(summary))
    print(f"report: {args.out / 'report.html'} ({len(summary['conditions'])} conditions, {summary['seconds']} s)")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from gatescope.analysis.analyze import AnalysisConfig, run_analysis
    from gatescope.asr.config import load_config

    config = load_config(AnalysisConfig, args.config, args.overrides)
    summary = run_analysis(args.model, args.data, args.out, config, args.babble_data, progress=not args.quiet)
    for row in summary["study"]:
        names = [k for k in row if k not in ("finding", "measure", "expected", "agrees")]
        values = ", ".join(f"{n} {row[n]}" for n in names)
        verdict = {True: "agrees", False: "differs"}.get(row["agrees"], "n/a")
        print(f"[{verdict:7}] {row['finding']}: {values}")
    print(f"report: {args.out / 'report.html'} ({summary['seconds']} s)")
    return 0


def _stream(args: argparse.Namespace) -> int:
    from gatescope.asr import stream_io
    from gatescope.asr.streaming import Recognizer

    if args.list_devices:
        print(stream_io.list_devices())
        return 0
    sources = [args.mic, args.wav is not None, args.stdin_pcm]
    if sum(sources) != 1:
        raise InputError("choose one audio source: --mic, --wav FILE or --stdin-pcm")
    if args.model is None:
        raise InputError("--model is required")
    perturber = None
    recognizer = Recognizer(args.model, beam=args.beam, cmvn=args.cmvn, endpoint_ms=args.endpoint_ms)
    if args.inject:
        from gatescope.asr.perturb_data import noise_bank_for
        from gatescope.noise import NoiseBank, StreamPerturber

        rate = recognizer.sample_rate
        bank = noise_bank_for(args.babble_data, rate) if args.babble_data else NoiseBank(sample_rate=rate)
        perturber = StreamPerturber.from_spec(args.inject, bank, seed=args.seed)
        recognizer = Recognizer(
            recognizer.model, args.beam, args.cmvn, args.endpoint_ms, perturber, args.show_memory,
            recognizer.features_config, recognizer.cmvn_stats,
        )  # fmt: skip
    elif args.show_memory:
        raise InputError("--show-memory compares with a clean shadow: it needs --inject NOISE:SNR")
    stats = stream_io.SourceStats()
    if args.wav is not None:
        chunks = stream_io.wav_chunks(args.wav, recognizer.sample_rate, args.chunk_ms, args.realtime)
    elif args.stdin_pcm:
        rate = args.rate or recognizer.sample_rate
        chunks = stream_io.pcm_chunks(stream_io.stdin_bytes(), rate, recognizer.sample_rate, args.chunk_ms)
    else:
        chunks = stream_io.mic_chunks(recognizer.sample_rate, args.chunk_ms, args.device, stats, args.seconds)
        print("listening (Ctrl-C to stop)...", file=sys.stderr)
    printer = stream_io.Printer(sys.stdout, args.json, args.show_memory)
    stream_io.run_stream(recognizer, chunks, printer)
    for note in stats.notes:
        print(f"note: {note}", file=sys.stderr)
    if stats.overflows:
        print(f"warning: {stats.overflows} input overflows (audio was dropped)", file=sys.stderr)
    if perturber is not None and perturber.clipped_samples:
        print(f"warning: {perturber.clipped_samples} samples clipped by the injected noise", file=sys.stderr)
    return 0


def _corpus_wsj_synth(args: argparse.Namespace) -> int:
    from gatescope.asr.synth.wsj_corpus import WsjSynthConfig, generate_wsj_corpus

    config = WsjSynthConfig(
        speakers=args.speakers,
        test_speakers=args.test_speakers,
        utts_per_speaker=args.utts_per_speaker,
        seed=args.seed,
        lm_sentences=args.lm_sentences,
    )
    print(json.dumps(generate_wsj_corpus(args.out_dir, config, jobs=args.jobs, progress=not args.quiet), indent=2))
    return 0


def _prepare_wsj(args: argparse.Namespace) -> int:
    from gatescope.asr.wsj import prepare_wsj

    out = prepare_wsj(args.wsj0, args.wsj1, args.data_dir, progress=not args.quiet)
    for split in sorted(p for p in out.iterdir() if (p / "utt2spk").is_file()):
        print(f"{split}: {(split / 'utt2spk').read_text().count(chr(10))} utterances (validated)")
    return 0


def _prepare_librispeech(args: argparse.Namespace) -> int:
    from gatescope.asr.librispeech import prepare_librispeech

    for split in prepare_librispeech(args.root, args.data_dir, progress=not args.quiet):
        print(f"{split}: {(split / 'utt2spk').read_text().count(chr(10))} utterances (validated)")
    return 0


def _lm(args: argparse.Namespace) -> int:
    from gatescope.asr.datadir import read_table
    from gatescope.asr.lang import build_lang

    extra = set()
    for data_dir in args.words_from:
        extra |= {w for line in read_table(data_dir / "text", allow_empty=True).values() for w in line.split()}
    info = build_lang(args.text, args.out, order=args.order, extra_words=extra)
    print(json.dumps(info, indent=1))
    return 0


def _tune_lm(args: argparse.Namespace) -> int:
    from gatescope.asr.decode import TUNING_FILE, tune_lm
    from gatescope.asr.lang import LangDir

    weights, rate = tune_lm(
        args.model, args.data, LangDir(args.lang), args.lm_weights, args.word_scores, args.beam, not args.quiet
    )
    print(f"best on {args.data}: lm_weight {weights.lm_weight} word_score {weights.word_score} -> WER {rate:.2f}%")
    print(f"saved to {Path(args.model) / TUNING_FILE if Path(args.model).is_dir() else TUNING_FILE}")
    return 0


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gatescope",
        description="Streaming speech-recognition robustness toolkit: corpora, features, deep LSTM/GRU CTC "
        "models, noise injection and memory analysis.",
        epilog="Start with `make demo`, or: gatescope corpus synth corpus/ && gatescope prepare timit corpus/ "
        "data/ && gatescope features data/train",
        formatter_class=_FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"gatescope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    corpus = commands.add_parser(
        "corpus",
        help="build corpora (the embedded synthetic TIMIT-style and WSJ-style corpora)",
        description="Build corpora.",
    )
    corpus_kinds = corpus.add_subparsers(dest="corpus_kind", metavar="KIND", required=True)
    synth = corpus_kinds.add_parser(
        "synth",
        formatter_class=_FORMATTER,
        help="generate the synthetic read-speech corpus in TIMIT's layout",
        description="Generate a synthetic English read-speech corpus with eSpeak NG, in TIMIT's layout\n"
        "(OUT_DIR/{TRAIN,TEST}/DR<n>/<SPEAKER>/<UTT>.{WAV,PHN,WRD,TXT}) with exact phone\n"
        "alignments. Same seed, same corpus byte for byte; a re-run skips finished utterances.",
        epilog="example:\n  gatescope corpus synth corpus/ --speakers 16 --utts-per-speaker 30 --jobs 2",
    )
    synth.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    synth.add_argument("--speakers", type=int, default=16, help="number of speakers (default 16)")
    synth.add_argument(
        "--test-speakers",
        type=int,
        default=4,
        help="how many of them are test speakers, split into dev and core test (default 4)",
    )
    synth.add_argument("--utts-per-speaker", type=int, default=30, help="utterances per speaker (default 30)")
    synth.add_argument("--seed", type=int, default=0, help="random seed: prompts, voices, levels (default 0)")
    synth.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(func=_corpus_synth)

    wsj_synth = corpus_kinds.add_parser(
        "wsj-synth",
        formatter_class=_FORMATTER,
        help="generate the WSJ-style synthetic corpus (LDC WSJ layout) with held-out LM text",
        description="Generate longer newspaper-style read sentences with eSpeak NG in the LDC WSJ layout\n"
        "(wsj0/si_tr_s, wsj1/si_dt_20, wsj0/si_et_20 with .wv1 SPHERE audio, .dot transcripts and the\n"
        "index files), plus OUT_DIR/lm/lm_text.txt: held-out sentences for the LM. Read it with\n"
        "`gatescope prepare wsj OUT_DIR OUT_DIR DATA_DIR`.",
        epilog="example:\n  gatescope corpus wsj-synth corpus/ --speakers 40 --utts-per-speaker 25 --jobs 2",
    )
    wsj_synth.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    wsj_synth.add_argument("--speakers", type=int, default=40, help="number of speakers (default 40)")
    wsj_synth.add_argument("--test-speakers", type=int, default=8, help="dev + evaluation speakers (default 8)")
    wsj_synth.add_argument("--utts-per-speaker", type=int, default=25, help="utterances per speaker (default 25)")
    wsj_synth.add_argument("--lm-sentences", type=int, default=30000, help="held-out LM sentences (default 30000)")
    wsj_synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    wsj_synth.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    wsj_synth.add_argument("--quiet", action="store_true", help="no progress bar")
    wsj_synth.set_defaults(func=_corpus_wsj_synth)

    prepare = commands.add_parser(
        "prepare",
        help="turn a corpus into Kaldi data dirs (train/dev/test)",
        description="Prepare Kaldi data dirs from a corpus.",
    )
    prepare_kinds = prepare.add_subparsers(dest="corpus_kind", metavar="CORPUS", required=True)
    timit = prepare_kinds.add_parser(
        "timit",
        formatter_class=_FORMATTER,
        help="TIMIT (LDC layout) or the synthetic corpus -> DATA_DIR/{train,dev,test}",
        description="Read a TIMIT-layout corpus (upper or lower case, NIST SPHERE .WAV, .PHN/.WRD/.TXT), drop\n"
        "SA1/SA2, split train / dev (50 speakers) / core test (24 speakers) by the standard lists,\n"
        "fold 61 -> 48 phones for `text` and write validated Kaldi data dirs with phone alignments.\n"
        "A synthetic corpus's own DOC/dev_spk.list and DOC/core_test_spk.list are used when present.",
        epilog="examples:\n  gatescope prepare timit /data/LDC93S1/TIMIT data/\n"
        "  gatescope prepare timit corpus/ data/",
    )
    timit.add_argument("timit_root", type=Path, metavar="TIMIT_ROOT")
    timit.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    timit.add_argument("--dev-spk-list", type=Path, help="dev speaker list (default: conf/timit_dev_spk.list)")
    timit.add_argument(
        "--test-spk-list", type=Path, help="core-test speaker list (default: conf/timit_core_test_spk.list)"
    )
    timit.add_argument("--quiet", action="store_true", help="no progress bar")
    timit.set_defaults(func=_prepare_timit)

    digits = prepare_kinds.add_parser(
        "digits",
        formatter_class=_FORMATTER,
        help="Free Spoken Digit Dataset recordings -> DATA_DIR/{train,dev,test}",
        description="Prepare the Free Spoken Digit Dataset ({digit}_{speaker}_{take}.wav, 8 kHz): one held-out\n"
        "speaker is the test set (speaker-disjoint), the last 5 takes of the others the dev set.",
        epilog="example:\n  gatescope prepare digits ../shared/data/fsdd/recordings data/ --test-speaker theo",
    )
    digits.add_argument("recordings", type=Path, metavar="RECORDINGS_DIR")
    digits.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    digits.add_argument("--test-speaker", default="theo", help="held-out test speaker (default theo)")
    digits.set_defaults(func=_prepare_digits)

    wsj = prepare_kinds.add_parser(
        "wsj",
        formatter_class=_FORMATTER,
        help="WSJ0 [+ WSJ1] (LDC layout) -> DATA_DIR/{train_si84,train_si284,dev93,eval92}",
        description="Read Wall Street Journal in the LDC disk layout (.wv1 NIST SPHERE, shorten-compressed ones\n"
        "through sph2pipe or ffmpeg; .dot/.lsn transcripts; the standard index files) and write Kaldi data dirs\n"
        "with normalised word transcripts (noise markers -> <NOISE>, WSJ annotation marks removed).\n"
        "train_si284 and dev93 need WSJ1.",
        epilog="examples:\n  gatescope prepare wsj /data/LDC93S6B /data/LDC94S13B data/\n"
        "  gatescope prepare wsj corpus/ corpus/ data/      # the embedded WSJ-style corpus",
    )
    wsj.add_argument("wsj0", type=Path, metavar="WSJ0_ROOT")
    wsj.add_argument("wsj1", type=Path, nargs="?", metavar="WSJ1_ROOT")
    wsj.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    wsj.add_argument("--quiet", action="store_true", help="no progress bar")
    wsj.set_defaults(func=_prepare_wsj)

    libri = prepare_kinds.add_parser(
        "librispeech",
        formatter_class=_FORMATTER,
        help="LibriSpeech (openslr 12) -> one data dir per subset",
        description="Read LibriSpeech (ROOT/<subset>/<speaker>/<chapter>/*.flac and *.trans.txt, SPEAKERS.TXT)\n"
        "and write one validated Kaldi data dir per subset found (train-clean-100 -> train_clean_100).",
        epilog="example:\n  gatescope prepare librispeech /data/LibriSpeech data/",
    )
    libri.add_argument("root", type=Path, metavar="ROOT")
    libri.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    libri.add_argument("--quiet", action="store_true", help="no progress bar")
    libri.set_defaults(func=_prepare_librispeech)

    results = commands.add_parser(
        "results",
        formatter_class=_FORMATTER,
        help="table of experiments: cell, size, error rates",
        description="Print a Markdown table of trained models and every decode result under them.",
        epilog="example:\n  gatescope results exp/lstm exp/gru",
    )
    results.add_argument("experiments", type=Path, nargs="+", metavar="EXP_DIR")
    results.set_defaults(func=_results)

    validate = commands.add_parser(
        "validate-data",
        formatter_class=_FORMATTER,
        help="check a Kaldi data dir as validate_data_dir.sh does",
        description="Check a Kaldi data dir: required files, sorted unique ids, matching utterance sets,\n"
        "speaker prefixes, durations > 0, alignments contiguous and inside the audio.\n"
        "Prints FILE:LINE: PROBLEM for each problem and exits 1 if there is any.",
        epilog="example:\n  gatescope validate-data data/train",
    )
    validate.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    validate.add_argument("--max-problems", type=int, default=20, help="how many problems to print (default 20)")
    validate.set_defaults(func=_validate_data)

    features = commands.add_parser(
        "features",
        formatter_class=_FORMATTER,
        help="Kaldi-compatible fbank/MFCC, CMVN stats and frame phone labels as ark/scp",
        description="Extract Kaldi-compatible features (torchaudio.compliance.kaldi) into DATA_DIR/data/*.ark\n"
        "with feats.scp, per-speaker cmvn.scp and frame-level phone labels (labels.scp).\n"
        "Resumable: finished chunks are kept. Settings come from conf/<type>.yaml and key=value.",
        epilog="examples:\n  gatescope features data/train --jobs 2\n"
        "  gatescope features data/train --type mfcc\n  gatescope features data/train num_mel_bins=80",
    )
    features.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    features.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override config keys")
    features.add_argument("--type", choices=("fbank", "mfcc"), default="fbank", help="default fbank")
    features.add_argument("--config", type=Path, help="a features YAML (default conf/<type>.yaml)")
    features.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    features.add_argument("--quiet", action="store_true", help="no progress bar")
    features.set_defaults(func=_features)

    train = commands.add_parser(
        "train",
        formatter_class=_FORMATTER,
        help="train a CTC acoustic model (LSTM, GRU, RNN or a variant)",
        description="Train a deep recurrent CTC acoustic model with PyTorch Lightning from a flat YAML config\n"
        "(conf/*.yaml) plus key=value overrides. Writes config.yaml, tokens.txt, best.ckpt, last.ckpt\n"
        "and CSV/TensorBoard logs into --out. GPU when present; DDP through strategy=ddp devices=N.",
        epilog="examples:\n  gatescope train --config conf/synth_lstm.yaml --out exp/lstm\n"
        "  gatescope train --config conf/synth_gru.yaml --out exp/gru max_epochs=5 hidden_size=128\n"
        "  gatescope train --config conf/synth_lstm.yaml --out exp/lstm --resume   # after a crash",
    )
    train.add_argument("--config", type=Path, required=True, help="training config (YAML)")
    train.add_argument("--out", type=Path, required=True, help="experiment dir")
    train.add_argument("--resume", action="store_true", help="continue from OUT/last.ckpt")
    train.add_argument(
        "--auto-resume",
        action="store_true",
        help="for recipes: skip a finished run, resume an interrupted one, else start",
    )
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override config keys")
    train.set_defaults(func=_train)

    decode = commands.add_parser(
        "decode",
        formatter_class=_FORMATTER,
        help="decode a data dir and score it (PER on 39 phones, or WER)",
        description="Decode every utterance of a data dir with a trained model (greedy, or CTC prefix beam\n"
        "search with --beam N) and score it: hyp.txt, ref.txt, per_utt.txt (sub/del/ins per\n"
        "utterance and totals) and result.json go into --out (default MODEL/decode_<data>_<mode>).",
        epilog="examples:\n  gatescope decode --model exp/lstm --data data/test\n"
        "  gatescope decode --model exp/lstm/best.ckpt --data data/test --beam 8",
    )
    decode.add_argument("--model", type=Path, required=True, help="experiment dir or checkpoint")
    decode.add_argument("--data", type=Path, required=True, help="data dir with feats.scp, cmvn.scp and text")
    decode.add_argument("--beam", type=int, default=0, help="beam size (0: greedy, the default)")
    decode.add_argument("--out", type=Path, help="output folder")
    decode.add_argument("--lang", type=Path, help="lang dir (lm.arpa, lexicon.txt): lexicon + LM beam search")
    decode.add_argument("--lm-weight", type=float, help="LM weight (default: tuned by gatescope tune-lm, else 1)")
    decode.add_argument("--word-score", type=float, help="word insertion score (default: tuned, else 0)")
    decode.set_defaults(func=_decode)

    lm = commands.add_parser(
        "lm",
        formatter_class=_FORMATTER,
        help="train a word n-gram LM (modified Kneser-Ney, ARPA) and write a lang dir",
        description="Train an interpolated modified Kneser-Ney n-gram LM on TEXT (one sentence per line) and\n"
        "write OUT/lm.arpa, OUT/lexicon.txt (every word spelled in characters, ending with |),\n"
        "OUT/words.txt and OUT/lang.json: what `gatescope decode --lang OUT` needs.",
        epilog="example:\n"
        "  gatescope lm --text corpus/lm/lm_text.txt --order 3 --out data/lang --words-from data/train_si84",
    )
    lm.add_argument("--text", type=Path, required=True, help="LM training text, one sentence per line")
    lm.add_argument("--out", type=Path, required=True, help="lang dir to write")
    lm.add_argument("--order", type=int, default=3, help="n-gram order (default 3)")
    lm.add_argument(
        "--words-from", type=Path, action="append", default=[], help="also put this data dir's words in the lexicon"
    )
    lm.set_defaults(func=_lm)

    tune = commands.add_parser(
        "tune-lm",
        formatter_class=_FORMATTER,
        help="choose the LM weight and word score on a dev set",
        description="Decode a dev data dir once per (LM weight, word score) pair with the lexicon + LM beam\n"
        "search and keep the pair with the lowest WER in MODEL/lm_tuning.json, which gatescope decode --lang\n"
        "then uses.",
        epilog="example:\n  gatescope tune-lm --model exp/lstm --data data/dev93 --lang data/lang",
    )
    tune.add_argument("--model", type=Path, required=True, help="experiment dir (a character model)")
    tune.add_argument("--data", type=Path, required=True, help="dev data dir with features")
    tune.add_argument("--lang", type=Path, required=True, help="lang dir from gatescope lm")
    tune.add_argument("--lm-weights", type=_floats, default=[0.25, 0.5, 1.0, 1.5, 2.0], help="default 0.25,...,2")
    tune.add_argument(
        "--word-scores",
        type=_floats,
        default=[-1.0, 0.0, 1.0, 2.0],
        help="default -1,0,1,2 (negatives: --word-scores=-1,0)",
    )
    tune.add_argument("--beam", type=int, default=32, help="beam size (default 32)")
    tune.add_argument("--quiet", action="store_true", help="no progress bar")
    tune.set_defaults(func=_tune_lm)

    noise = commands.add_parser(
        "noise",
        formatter_class=_FORMATTER,
        help="add noise, bursts or reverberation to WAV files or a whole data dir",
        description="Perturb audio with gatescope.noise. NOISE is one of: white pink brown blue violet,\n"
        "babble[:TALKERS], file:PATH (a recording or a folder of them, looped), hum[:HZ], clicks[:RATE],\n"
        "reverb[:RT60|:RIR_DIR]. Additive noise is mixed at --snr dB; --burst puts a noise segment into\n"
        "each utterance instead (at --snr dB, or replacing the speech with --snr replace). With --data,\n"
        "a new Kaldi data dir is written (WAVs, tables, perturbation.json with the burst spans).",
        epilog="examples:\n  gatescope noise --noise pink --snr 10 --data data/test --out data/test_pink10\n"
        "  gatescope noise --noise babble --snr 5 --data data/test --out data/test_babble5\n"
        "  gatescope noise --noise white --burst 50%:0.3 --snr replace --data data/test --out data/test_burst\n"
        "  gatescope noise --noise file:../shared/data/noise --snr 0 a.wav b.wav --out noisy/\n"
        "  gatescope noise --noise reverb:0.6 --data data/test --out data/test_rt60",
    )
    noise.add_argument("wavs", type=Path, nargs="*", metavar="WAV", help="WAV files to perturb (or use --data)")
    noise.add_argument("--noise", required=True, help="noise type (see above)")
    noise.add_argument("--snr", type=_snr_value, help="SNR in dB (or 'replace' with --burst)")
    noise.add_argument("--burst", metavar="START:DUR", help="insert a burst: seconds, or START%%:DUR (e.g. 50%%:0.3)")
    noise.add_argument("--data", type=Path, help="a Kaldi data dir to perturb as a whole")
    noise.add_argument("--out", type=Path, required=True, help="output data dir (with --data) or folder")
    noise.add_argument("--active-only", action="store_true", help="measure the SNR on active speech only")
    noise.add_argument("--babble-data", type=Path, help="data dir whose speakers make the babble")
    noise.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    noise.add_argument("--quiet", action="store_true", help="no progress bar")
    noise.set_defaults(func=_noise)

    robustness = commands.add_parser(
        "robustness",
        formatter_class=_FORMATTER,
        help="noise-robustness report: every model under every noise condition",
        description="Decode every --model under every condition on identical perturbed audio (same seed for all\n"
        "models): clean, each --noise at each --snr, reverberation, and with --bursts a noise segment in\n"
        "each utterance (error in windows after it vs the same windows clean). For word tasks PocketSphinx\n"
        "decodes the same audio as an anchor. Writes results.json, results.csv, hyp/, PNG plots and a\n"
        "self-contained report.html into --out.",
        epilog="examples:\n"
        "  gatescope robustness --model exp/lstm --model exp/gru --data data/test --out exp/robustness\n"
        "  gatescope robustness --model exp/lstm --model exp/gru --data data/test --out exp/rob \\\n"
        "      --noise white,pink,babble,file:../shared/data/noise,reverb --snr clean,20,10,5,0,-5 --bursts",
    )
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
    robustness.add_argument("--burst-dur", type=float, default=0.3, help="burst length in seconds (default 0.3)")
    robustness.add_argument("--beam", type=int, default=0, help="beam size (0: greedy, the default)")
    robustness.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    robustness.add_argument("--active-only", action="store_true", help="SNR over active speech only")
    robustness.add_argument("--babble-data", type=Path, help="data dir whose speakers make the babble (default --data)")
    robustness.add_argument(
        "--anchor", default="auto", choices=("auto", "none", "pocketsphinx"), help="external anchor (default auto)"
    )
    robustness.add_argument("--quiet", action="store_true", help="no progress bar")
    robustness.set_defaults(func=_robustness)

    analyze = commands.add_parser(
        "analyze",
        formatter_class=_FORMATTER,
        help="memory analysis: forgetting speed, phone selectivity, distributions, gate saturation, t-SNE",
        description="Record each model's gates and states on DATA_DIR (clean, and with noise bursts at several\n"
        "places, noises and SNRs) into OUT/states/*.h5, then measure: forgetting speed after a burst (distance\n"
        "to the clean trajectory, half-life), phone-selective units (response rates, PSI), value\n"
        "distributions of 50 random units per layer, gate saturation and t-SNE trajectories. Writes\n"
        "analysis.json and report.html with the study table (Tang et al. 2017: LSTM vs GRU).\n"
        "Settings: AnalysisConfig keys as KEY=VALUE (e.g. forgetting_utterances=40 burst_noises=white,pink).",
        epilog="examples:\n  gatescope analyze --model exp/lstm --model exp/gru --data data/test --out exp/analysis\n"
        "  gatescope analyze --model exp/lstm --model exp/gru --data data/test --out exp/analysis \\\n"
        "      max_utterances=50 burst_snrs=replace,0,10 burst_positions=0.25,0.5",
    )
    analyze.add_argument("--model", type=Path, action="append", required=True, help="experiment dir (repeat)")
    analyze.add_argument("--data", type=Path, required=True, help="data dir with wav.scp, cmvn.scp, labels.scp")
    analyze.add_argument("--out", type=Path, required=True, help="report folder (recordings go to OUT/states)")
    analyze.add_argument("--config", type=Path, help="analysis settings YAML (AnalysisConfig keys)")
    analyze.add_argument("--babble-data", type=Path, help="data dir whose speakers make babble bursts")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    analyze.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override analysis settings")
    analyze.set_defaults(func=_analyze)

    stream = commands.add_parser(
        "stream",
        formatter_class=_FORMATTER,
        help="streaming recognition from a microphone, a WAV file or raw PCM, with live noise injection",
        description="Transcribe audio as it arrives with a unidirectional CTC model: online features equal to\n"
        "the offline ones, the recurrent state carried across chunks, greedy or prefix beam search.\n"
        "Partial results are rewritten in place on a terminal; a final line is printed at each endpoint\n"
        "(a run of --endpoint-ms of blank frames). --json prints one JSON object per event.\n"
        "--inject NOISE:SNR[@every=S,dur=D] perturbs the stream live (gatescope.noise); --show-memory\n"
        "prints, per layer, the distance between the perturbed state and a clean shadow's.",
        epilog="examples:\n  gatescope stream --model exp/lstm --wav data/corpus/TEST/DR5/FV037/SI901.WAV\n"
        "  gatescope stream --model exp/lstm --mic --chunk-ms 100\n"
        "  gatescope stream --model exp/gru --wav a.wav --realtime --inject white:0@every=2,dur=0.3 --show-memory\n"
        "  arecord -f S16_LE -r 16000 -c 1 -t raw | gatescope stream --model exp/lstm --stdin-pcm --json",
    )
    stream.add_argument("--model", type=Path, help="experiment dir or checkpoint (unidirectional)")
    stream.add_argument("--mic", action="store_true", help="record from the microphone (sounddevice)")
    stream.add_argument("--wav", type=Path, help="an audio file as a simulated microphone")
    stream.add_argument("--realtime", action="store_true", help="with --wav: deliver audio at real-time pace")
    stream.add_argument("--stdin-pcm", action="store_true", help="raw 16-bit little-endian mono PCM on stdin")
    stream.add_argument("--rate", type=int, help="sample rate of --stdin-pcm (default: the model's)")
    stream.add_argument("--chunk-ms", type=float, default=100.0, help="chunk length in ms (default 100)")
    stream.add_argument("--beam", type=int, default=0, help="prefix beam size (0: greedy, the default)")
    stream.add_argument(
        "--cmvn", choices=("global", "sliding", "none"), default="global", help="training statistics (default), "
        "a 6 s sliding window, or none",
    )  # fmt: skip
    stream.add_argument("--endpoint-ms", type=float, default=600.0, help="blank run that ends an utterance (600)")
    stream.add_argument("--json", action="store_true", help="one JSON object per event")
    stream.add_argument("--inject", metavar="NOISE:SNR[@every=S,dur=D]", help="perturb the stream live")
    stream.add_argument("--show-memory", action="store_true", help="per-layer distance to a clean shadow state")
    stream.add_argument("--babble-data", type=Path, help="data dir whose speakers make injected babble")
    stream.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    stream.add_argument("--device", help="input device index or name (see --list-devices)")
    stream.add_argument("--list-devices", action="store_true", help="list audio input devices and exit")
    stream.add_argument("--seconds", type=float, default=0.0, help="with --mic: stop after this long (0: Ctrl-C)")
    stream.set_defaults(func=_stream)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # KEY=VALUE overrides may follow options (argparse alone would only take them right after DATA_DIR).
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "overrides") or any("=" not in e or e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = [*args.overrides, *extra]
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args))
    except (InputError, NoiseError) as err:
        print(f"gatescope: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gatescope: interrupted; finished work is kept, re-run to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
