"""``gatescope prepare timit|digits|wsj|librispeech|an4|folder``: corpora in their distributed layouts, or a folder of
one's own recordings with transcripts -> Kaldi data dirs."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import FORMATTER, Parents, Subparsers, add_command, nonnegative_int, positive_int


def _report(data_dirs: list[Path]) -> None:
    from gatescope.asr.data.datadir import describe_data_dir

    for data_dir in data_dirs:
        print(describe_data_dir(data_dir))


def _timit(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.timit import SPLITS, prepare_timit

    out = prepare_timit(
        args.timit_root, args.data_dir, dev_list=args.dev_spk_list, test_list=args.test_spk_list,
        sample_rate=args.sample_rate, progress=not args.quiet,
    )  # fmt: skip
    _report([out / split for split in SPLITS])
    return 0


def _digits(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.digits import prepare_digits

    out = prepare_digits(args.recordings, args.data_dir, test_speaker=args.test_speaker, sample_rate=args.sample_rate)
    _report([out / split for split in ("train", "dev", "test")])
    return 0


def _wsj(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.wsj import prepare_wsj

    out = prepare_wsj(args.wsj0, args.wsj1, args.data_dir, progress=not args.quiet)
    _report(sorted(p for p in out.iterdir() if (p / "utt2spk").is_file()))
    return 0


def _librispeech(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.librispeech import prepare_librispeech

    _report(list(prepare_librispeech(args.root, args.data_dir, progress=not args.quiet)))
    return 0


def _an4(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.an4 import prepare_an4

    out = prepare_an4(args.root, args.data_dir, dev_speakers=args.dev_speakers)
    _report([out / split for split in ("train", "dev", "test")])
    return 0


def _folder(args: argparse.Namespace) -> int:
    from gatescope.asr.corpora.folder import prepare_folder

    out = prepare_folder(
        args.recordings, args.data_dir, sample_rate=args.sample_rate, transcripts=args.transcripts,
        speaker=args.speaker,
    )  # fmt: skip
    _report([out])
    return 0


def _add_folder(kinds: Subparsers, parents: Parents) -> None:
    """Add ``prepare folder``."""
    folder = add_command(
        kinds, "folder", _folder, parents=[parents.base],
        help="your own recordings with NAME.txt transcripts beside them -> DATA_DIR",
        description="Make one data dir of a folder of recordings (WAV, FLAC, Ogg, MP3, SPHERE), each with its\n"
        "transcript beside it as NAME.txt or NAME.lab. Files in a subfolder belong to the speaker named by the\n"
        "subfolder (RECORDINGS_DIR/<speaker>/...), files directly inside to one speaker named after the folder.\n"
        "Or all transcripts in one table (--transcripts FILE): 'NAME words...' lines as Kaldi's text, or\n"
        "'NAME|words' as LJSpeech's metadata.csv (its last field). Transcripts are lower-cased and stripped of\n"
        "punctuation; write numbers as words. Then score any model on them with `gatescope score-real`.",
        examples=[
            "gatescope prepare folder my_recordings data/mine",
            "gatescope prepare folder --transcripts my_recordings.txt my_recordings data/mine",
            "gatescope prepare folder --transcripts lj/metadata.csv --speaker lj lj/wavs data/lj   # LJSpeech's layout",
            "gatescope prepare folder --sample-rate 8000 my_recordings data/mine8k   # for an 8 kHz model's features",
        ],
    )  # fmt: skip
    folder.add_argument("recordings", type=Path, metavar="RECORDINGS_DIR")
    folder.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    folder.add_argument(
        "--transcripts", type=Path, metavar="FILE",
        help="one table of all transcripts ('NAME words...' or 'NAME|...|words' lines) instead of NAME.txt files",
    )  # fmt: skip
    folder.add_argument(
        "--speaker", help="the speaker of the recordings directly in RECORDINGS_DIR (default: the folder's name)"
    )
    folder.add_argument(
        "--sample-rate", type=positive_int, default=None,
        help="write 16-bit copies at this rate to DATA_DIR/wav for recordings at another (default: use them as they "
        "are; they must then share one rate)",
    )  # fmt: skip


def _add_digits(kinds: Subparsers, parents: Parents) -> None:
    """Add ``prepare digits``."""
    digits = add_command(
        kinds, "digits", _digits, parents=[parents.base],
        help="Free Spoken Digit Dataset recordings -> DATA_DIR/{train,dev,test}",
        description="Prepare the Free Spoken Digit Dataset ({digit}_{speaker}_{take}.wav, 8 kHz): one held-out\n"
        "speaker is the test set (speaker-disjoint), the last 5 takes of the others the dev set.",
        examples=[
            "gatescope prepare digits fsdd/recordings data/ --test-speaker theo",
            "gatescope prepare digits --sample-rate 16000 fsdd/recordings data/fsdd16k   # for a 16 kHz model",
        ],
    )  # fmt: skip
    digits.add_argument("recordings", type=Path, metavar="RECORDINGS_DIR")
    digits.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    digits.add_argument("--test-speaker", default="theo", help="held-out test speaker (default theo)")
    digits.add_argument(
        "--sample-rate", type=positive_int, default=8000,
        help="the data dirs' rate (default 8000, the recordings'); another writes resampled copies to DATA_DIR/wav",
    )  # fmt: skip


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``prepare`` and its corpora."""
    prepare = commands.add_parser(
        "prepare", help="turn a corpus into Kaldi data dirs (train/dev/test)",
        description="Prepare Kaldi data dirs from a corpus.", formatter_class=FORMATTER,
    )  # fmt: skip
    kinds = prepare.add_subparsers(dest="corpus_kind", metavar="CORPUS", required=True)
    common = [parents.base, parents.quiet]
    timit = add_command(
        kinds, "timit", _timit, parents=common,
        help="TIMIT (LDC layout) or the synthetic corpus -> DATA_DIR/{train,dev,test}",
        description="Read a TIMIT-layout corpus (upper or lower case, NIST SPHERE .WAV, .PHN/.WRD/.TXT), drop\n"
        "SA1/SA2, split train / dev (50 speakers) / core test (24 speakers) by the standard lists,\n"
        "fold 61 -> 48 phones for `text` and write validated Kaldi data dirs with phone alignments.\n"
        "A synthetic corpus's own DOC/dev_spk.list and DOC/core_test_spk.list are used when present.",
        examples=["gatescope prepare timit /data/LDC93S1/TIMIT data/", "gatescope prepare timit corpus/ data/"],
    )  # fmt: skip
    timit.add_argument("timit_root", type=Path, metavar="TIMIT_ROOT")
    timit.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    timit.add_argument(
        "--sample-rate", type=positive_int, default=16000,
        help="the corpus's sample rate; a file at another rate is an error (default 16000, as TIMIT)",
    )  # fmt: skip
    timit.add_argument("--dev-spk-list", type=Path, help="dev speaker list (default: conf/timit_dev_spk.list)")
    timit.add_argument(
        "--test-spk-list", type=Path, help="core-test speaker list (default: conf/timit_core_test_spk.list)"
    )

    _add_digits(kinds, parents)

    wsj = add_command(
        kinds, "wsj", _wsj, parents=common,
        help="WSJ0 [+ WSJ1] (LDC layout) -> DATA_DIR/{train_si84,train_si284,dev93,eval92}",
        description="Read Wall Street Journal in the LDC disk layout (.wv1 NIST SPHERE, shorten-compressed ones\n"
        "through sph2pipe or ffmpeg; .dot/.lsn transcripts; the standard index files) and write Kaldi data dirs\n"
        "with normalised word transcripts (noise markers -> <NOISE>, WSJ annotation marks removed).\n"
        "train_si284 and dev93 need WSJ1.",
        examples=[
            "gatescope prepare wsj /data/LDC93S6B /data/LDC94S13B data/",
            "gatescope prepare wsj corpus/ corpus/ data/      # the embedded WSJ-style corpus",
        ],
    )  # fmt: skip
    wsj.add_argument("wsj0", type=Path, metavar="WSJ0_ROOT")
    wsj.add_argument("wsj1", type=Path, nargs="?", metavar="WSJ1_ROOT")
    wsj.add_argument("data_dir", type=Path, metavar="DATA_DIR")

    libri = add_command(
        kinds, "librispeech", _librispeech, parents=common,
        help="LibriSpeech (openslr 12) -> one data dir per subset",
        description="Read LibriSpeech (ROOT/<subset>/<speaker>/<chapter>/*.flac and *.trans.txt, SPEAKERS.TXT)\n"
        "and write one validated Kaldi data dir per subset found (train-clean-100 -> train_clean_100).",
        examples=["gatescope prepare librispeech /data/LibriSpeech data/"],
    )  # fmt: skip
    libri.add_argument("root", type=Path, metavar="ROOT")
    libri.add_argument("data_dir", type=Path, metavar="DATA_DIR")

    an4 = add_command(
        kinds, "an4", _an4, parents=common,
        help="CMU AN4 (an4_sphere.tar.gz) -> train/dev/test",
        description="Read CMU's AN4 census database (ROOT/etc/an4_{train,test}.{fileids,transcription},\n"
        "ROOT/wav/<fileid>.sph) and write validated Kaldi data dirs: test as distributed (speaker-disjoint),\n"
        "dev the last --dev-speakers training speakers, train the rest; words in text and text.wrd.",
        examples=["gatescope prepare an4 downloads/an4 data/"],
    )  # fmt: skip
    an4.add_argument("root", type=Path, metavar="AN4_ROOT")
    an4.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    an4.add_argument(
        "--dev-speakers", type=nonnegative_int, default=4, help="training speakers held out as dev (default 4)"
    )
    _add_folder(kinds, parents)
