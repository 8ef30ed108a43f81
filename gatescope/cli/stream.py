"""``gatescope stream``: streaming recognition from a microphone, a WAV file or raw PCM."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import (
    MAX_WORDS_HELP,
    STREAM_CMVN_CHOICES,
    Parents,
    Subparsers,
    add_command,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)


def _stream(args: argparse.Namespace) -> int:
    from gatescope.errors import ConfigError

    if args.list_devices:
        from gatescope.asr.streaming.sources import list_devices

        print(list_devices())
        return 0
    if args.model is None:
        raise ConfigError("--model is required")
    from gatescope.asr.streaming.session import StreamSettings, run_session

    if args.record is not None and args.wav is not None and args.record.resolve() == args.wav.resolve():
        raise ConfigError(f"--record {args.record}: would overwrite the input --wav")
    fields = set(StreamSettings.__dataclass_fields__)
    run_session(StreamSettings(**{k: v for k, v in vars(args).items() if k in fields}))
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``stream``."""
    stream = add_command(
        commands, "stream", _stream, parents=[parents.base, parents.seed],
        help="streaming recognition from a microphone, a WAV file or raw PCM, with live noise injection",
        description="Transcribe audio as it arrives with a unidirectional CTC model: online features equal to\n"
        "the offline ones, the recurrent state carried across chunks, greedy or prefix beam search (a word\n"
        "model's finals under a grammar of 1 to N words with --max-words N, partials greedy).\n"
        "Partial results are rewritten in place on a terminal; a final line is printed at each endpoint\n"
        "(a run of --endpoint-ms of blank frames). --json prints one JSON object per event and, last,\n"
        "{\"type\": \"end\", \"text\": ...} with the whole transcript.\n"
        "--inject NOISE:SNR[@every=S,dur=D] perturbs the stream live (gatescope.noise); --show-memory\n"
        "prints, per layer, the distance between the perturbed state and a clean shadow's.",
        examples=[
            "gatescope stream --model exp/lstm --wav data/corpus/TEST/DR5/FV037/SI901.WAV",
            "gatescope stream --model exp/lstm --mic --chunk-ms 100",
            "gatescope stream --model exp/gru --wav a.wav --realtime --inject white:0@every=2,dur=0.3 --show-memory",
            "arecord -f S16_LE -r 16000 -c 1 -t raw | gatescope stream --model exp/lstm --stdin-pcm --json",
        ],
    )  # fmt: skip
    stream.add_argument("--model", type=Path, help="experiment dir or checkpoint (unidirectional)")
    stream.add_argument("--mic", action="store_true", help="record from the microphone (sounddevice)")
    stream.add_argument("--wav", type=Path, help="an audio file as a simulated microphone")
    stream.add_argument(
        "--channel", type=nonnegative_int, metavar="N",
        help="with --wav: the channel of a multi-channel file to recognise (0: the first; default: mono expected)",
    )  # fmt: skip
    stream.add_argument("--realtime", action="store_true", help="with --wav: deliver audio at real-time pace")
    stream.add_argument("--stdin-pcm", action="store_true", help="raw 16-bit little-endian mono PCM on stdin")
    stream.add_argument("--rate", type=positive_int, help="sample rate of --stdin-pcm (default: the model's)")
    stream.add_argument("--chunk-ms", type=positive_float, default=100.0, help="chunk length in ms (default 100)")
    stream.add_argument("--beam", type=nonnegative_int, default=0, help="prefix beam size (0: greedy, the default)")
    stream.add_argument("--max-words", type=nonnegative_int, default=0, metavar="N", help=MAX_WORDS_HELP)
    stream.add_argument(
        "--cmvn", choices=STREAM_CMVN_CHOICES,
        help="training statistics; a 6 s sliding window; online: the training statistics adapted to the voice and "
        "microphone as the stream goes on (Kaldi's online CMVN); or none (default: as the model was trained)",
    )  # fmt: skip
    stream.add_argument("--endpoint-ms", type=nonnegative_float, default=600.0, help="blank run ending a segment (600)")
    stream.add_argument("--json", action="store_true", help="one JSON object per event, and an end record")
    stream.add_argument("--inject", metavar="NOISE:SNR[@every=S,dur=D]", help="perturb the stream live")
    stream.add_argument("--show-memory", action="store_true", help="per-layer distance to a clean shadow state")
    stream.add_argument("--babble-data", type=Path, help="data dir whose speakers make injected babble")
    stream.add_argument("--device", help="input device index or name (see --list-devices)")
    stream.add_argument("--list-devices", action="store_true", help="list audio input devices and exit")
    stream.add_argument(
        "--seconds", type=nonnegative_float, default=0.0, help="with --mic: stop after this long (0: Ctrl-C)"
    )
    stream.add_argument(
        "--record", type=Path, metavar="WAV",
        help="also save the audio as the recogniser received it (model rate, 16-bit): replay it with --wav",
    )  # fmt: skip
