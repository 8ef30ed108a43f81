"""Exact digital silence before speech, on trained models: each test utterance streamed greedily as it is and with
``--lead`` seconds of exact zeros before it (and 1 s after), PER of both against the references, in one run.

A muted or virtual microphone sends exact zeros; the front end's dither turns them into a floor far below any
recording's. This measures what that does to a model's text (tests/test_digital_silence.py holds a small model to
the same text; this reports what it does to the demo's models).

    python bench/digital_silence.py [--data recipes/synth/data/test] [--models recipes/synth/exp/lstm,...]
                                    [--utterances 40] [--lead 2.0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import write_result

from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table
from gatescope.asr.decoding.scoring import fold_for_scoring, score_utterances
from gatescope.asr.streaming.recognizer import Recognizer

ROOT = Path(__file__).resolve().parents[1]
CHUNK_S = 0.1


def streamed_text(recognizer: Recognizer, audio: np.ndarray) -> list[str]:
    """The greedy streaming transcript of ``audio`` in 100 ms chunks, folded for scoring."""
    recognizer.reset()
    step = round(recognizer.sample_rate * CHUNK_S)
    for offset in range(0, audio.size, step):
        recognizer.accept(audio[offset : offset + step])
    recognizer.finish()
    return fold_for_scoring(recognizer.text.split(), "phones")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "recipes/synth/data/test")
    parser.add_argument("--models", default="recipes/synth/exp/lstm,recipes/synth/exp/gru")
    parser.add_argument("--utterances", type=int, default=40)
    parser.add_argument("--lead", type=float, default=2.0, help="seconds of exact zeros before each utterance")
    args = parser.parse_args()
    wav_scp, texts = read_table(args.data / "wav.scp"), read_table(args.data / "text")
    utts = sorted(wav_scp)[: args.utterances]
    references = {u: fold_for_scoring(texts[u].split(), "phones") for u in utts}
    results = {}
    for path in (ROOT / p for p in args.models.split(",") if p):
        if not path.is_dir():
            print(f"{path}: no such model (run `make demo` first): skipped")
            continue
        recognizer = Recognizer(path, beam=0)
        rate = recognizer.sample_rate
        plain, zeros = {}, {}
        for utt in utts:
            audio, _ = read_audio(wav_scp[utt], rate)
            plain[utt] = streamed_text(recognizer, audio)
            lead, tail = np.zeros(round(args.lead * rate), np.float32), np.zeros(rate, np.float32)
            zeros[utt] = streamed_text(recognizer, np.concatenate([lead, audio, tail]))
        results[path.name] = {
            "per_as_recorded": round(score_utterances(references, plain).rate, 2),
            "per_with_zeros": round(score_utterances(references, zeros).rate, 2),
            "utterances_whose_text_changed": sum(plain[u] != zeros[u] for u in utts),
            "zeros_prob_in_training": recognizer.model.train_config.get("zeros_prob", 0.0),
        }
        print(path.name, results[path.name])
    write_result(
        "digital_silence",
        {"data": str(args.data), "utterances": len(utts), "lead_zeros_s": args.lead, "models": results},
    )


if __name__ == "__main__":
    main()
