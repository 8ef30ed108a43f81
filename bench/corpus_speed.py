"""Synthetic corpus generation speed: seconds of audio produced per second of wall time, on one core.

python bench/corpus_speed.py [--speakers 4] [--utts-per-speaker 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import write_result

from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speakers", type=int, default=4)
    parser.add_argument("--utts-per-speaker", type=int, default=10)
    args = parser.parse_args()
    config = SynthCorpusConfig(speakers=args.speakers, test_speakers=1, utts_per_speaker=args.utts_per_speaker)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = generate_corpus(Path(tmp) / "corpus", config, jobs=1, progress=False)
        wall = time.perf_counter() - start
    audio_s = 60 * sum(summary.minutes.values())
    write_result(
        "corpus_speed",
        {
            "utterances": sum(summary.utterances.values()),
            "audio_seconds": round(audio_s, 1),
            "wall_seconds_one_core": round(wall, 2),
            "x_real_time_per_core": round(audio_s / wall, 1),
            "target_x_real_time_per_core": 30,
            "includes": "prompt selection, eSpeak NG synthesis (one fork per utterance), alignment, resampling, "
            "SPHERE/PHN/WRD/TXT writing",
        },
    )


if __name__ == "__main__":
    main()
