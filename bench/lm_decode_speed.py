"""Lexicon + trigram LM beam-search decoding speed on one CPU core, beside greedy decoding, on the same emissions.

Uses the WSJ recipe's character model, lang dir and eval92 features (run recipes/wsj/run.sh through stage 4).
The acoustic model's forward pass is timed separately, so the search cost is visible on its own.

    python bench/lm_decode_speed.py [--exp recipes/wsj/exp/lstm] [--data recipes/wsj/data/eval92]
                                    [--lang recipes/wsj/data/lang] [--beam 32]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from common import write_result

from gatescope.asr.decoding.decode import run_model
from gatescope.asr.decoding.lang import LangDir, SearchWeights, lexicon_decoder, lexicon_search
from gatescope.asr.decoding.search import search

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp", type=Path, default=ROOT / "recipes/wsj/exp/lstm")
    parser.add_argument("--data", type=Path, default=ROOT / "recipes/wsj/data/eval92")
    parser.add_argument("--lang", type=Path, default=ROOT / "recipes/wsj/data/lang")
    parser.add_argument("--beam", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not (args.exp / "best.ckpt").is_file():
        raise SystemExit(f"{args.exp}: no trained model (run recipes/wsj/run.sh --stop-stage 4 first)")
    start = time.perf_counter()
    run = run_model(args.exp, args.data, 16)
    forward_s = time.perf_counter() - start
    frame_s = 0.01 * run.model.frame_stack
    audio_s = sum(e.shape[0] for e in run.log_probs) * frame_s
    start = time.perf_counter()
    search(run.log_probs, list(run.model.tokens), 0)
    greedy_s = time.perf_counter() - start
    decoder = lexicon_decoder(list(run.model.tokens), LangDir(args.lang), SearchWeights(beam=args.beam))
    start = time.perf_counter()
    lexicon_search(decoder, run.log_probs)
    lm_s = time.perf_counter() - start
    write_result(
        "lm_decode_speed",
        {
            "model": str(args.exp),
            "data": str(args.data),
            "utterances": len(run.utts),
            "audio_seconds": round(audio_s, 1),
            "beam": args.beam,
            "x_real_time_per_core": {
                "acoustic_model_forward": round(audio_s / forward_s, 1),
                "greedy_search": round(audio_s / greedy_s, 1),
                "lexicon_lm_beam_search": round(audio_s / lm_s, 1),
                "forward_plus_lm_search": round(audio_s / (forward_s + lm_s), 1),
            },
            "target_x_real_time": 20,
        },
    )


if __name__ == "__main__":
    main()
