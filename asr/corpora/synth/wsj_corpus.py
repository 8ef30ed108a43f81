"""``gatescope corpus wsj-synth``: the embedded WSJ-style corpus, in the LDC WSJ disk layout.

Newspaper-style prompts of two grammar sentences joined by a conjunction (about 15-25 words, so the corpus uses
more of the lexicon's 4,400 word forms than the TIMIT-style one), read by eSpeak NG voices, stored as WSJ stores
them so that ``gatescope prepare wsj`` reads it like the real corpus::

    OUT/wsj0/si_tr_s/<spk>/<utt>.wv1        training speakers (SPHERE, 16 kHz)
    OUT/wsj1/si_dt_20/<spk>/<utt>.wv1       dev speakers (dev93)
    OUT/wsj0/si_et_20/<spk>/<utt>.wv1       evaluation speakers (eval92)
    OUT/*/<set>/<spk>/<spk>c0000.dot        transcripts, ``TEXT (uttid)``
    OUT/wsj0/doc/indices/...ndx, OUT/wsj1/doc/indices/...ndx   the index files
    OUT/lm/lm_text.txt                      held-out LM text (never a dev or evaluation prompt)

Deterministic: every utterance is a function of (seed, speaker, index), as in the TIMIT-style corpus.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, _Worker, render_audio
from gatescope.asr.corpora.synth.espeak import Synthesis, VoiceSettings, run_isolated
from gatescope.asr.corpora.synth.speakers import Speaker, make_speakers
from gatescope.asr.corpora.synth.text import Lexicon, SentenceGenerator
from gatescope.asr.data.sphere import sphere_bytes
from gatescope.files import write_bytes_atomic, write_text_atomic
from gatescope.resources import conf_path

CONJUNCTIONS = ("and", "but", "while", "because", "although", "after", "so")
SET_DIRS = {"train": "wsj0/si_tr_s", "dev": "wsj1/si_dt_20", "test": "wsj0/si_et_20"}
INDEX_PATHS = {
    "train": ("wsj0/doc/indices/train/tr_s_wv1.ndx", "11_1_1", ".wv1"),
    "dev": ("wsj1/doc/indices/h1_p0.ndx", "13_16_1", ".wv1"),
    "test": ("wsj0/doc/indices/test/nvp/si_et_20.ndx", "11_14_1", ""),  # eval92's index omits the extension
}


@dataclass(frozen=True)
class WsjSynthConfig(SynthCorpusConfig):
    """The TIMIT-style corpus's acoustics with WSJ-style prompts; ``lm_sentences`` of held-out LM text."""

    speakers: int = 40
    test_speakers: int = 8
    utts_per_speaker: int = 25
    lm_sentences: int = 30000


def prompt(sentences: SentenceGenerator, rng: np.random.Generator) -> str:
    """Two grammar sentences joined by a conjunction, as one upper-case transcript without punctuation."""
    first, second = sentences.sentence(rng), sentences.sentence(rng)
    conjunction = CONJUNCTIONS[int(rng.integers(len(CONJUNCTIONS)))]
    text = f"{first.rstrip('.?!')} {conjunction} {second[0].lower()}{second[1:]}"
    return " ".join(w.strip(",.?!;:").upper() for w in text.split())


def speaker_code(index: int) -> str:
    """Three-character WSJ-style speaker ids: ``s00``, ``s01``, ... ``s0z``, ``s10`` (base 36)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    return f"s{digits[index // 36 % 36]}{digits[index % 36]}"


def _speak(worker: _Worker, speaker: Speaker, text: str) -> Synthesis:
    assert isinstance(speaker.voice, VoiceSettings), "the WSJ-style corpus is spoken by eSpeak alone"
    return worker.espeak.synthesize(text.lower(), speaker.voice)


def _utterance(args: tuple[int, Speaker, int, str]) -> None:
    """Synthesise and write one utterance."""
    speaker_index, speaker, k, text = args
    worker = _Worker.state
    assert worker is not None
    config = worker.config
    synthesis = run_isolated(_speak, worker, speaker, text)
    pcm, _ = render_audio(config, synthesis, np.random.default_rng([config.seed, speaker_index, k, 1]))
    spk = speaker_code(speaker_index)
    utt = f"{spk}c{k:04x}"
    folder = worker.out_dir / SET_DIRS[speaker.split] / spk
    header = {"database_id": "gatescope-wsj-synth", "utterance_id": utt, "speaker_id": spk}
    write_bytes_atomic(folder / f"{utt}.wv1", sphere_bytes(pcm, config.sample_rate, header))


def _path(out_dir: Path, speaker: Speaker, speaker_index: int, k: int) -> Path:
    spk = speaker_code(speaker_index)
    return out_dir / SET_DIRS[speaker.split] / spk / f"{spk}c{k:04x}.wv1"


def _run(todo: list[tuple[int, Speaker, int, str]], config: WsjSynthConfig, out: Path, jobs: int) -> Iterator:
    if jobs <= 1 or len(todo) <= 1:
        _Worker.init(config, out)
        yield from map(_utterance, todo)
        return
    context = multiprocessing.get_context("spawn")  # eSpeak's state must be created in each worker
    with context.Pool(jobs, initializer=_Worker.init, initargs=(config, out)) as pool:
        yield from pool.imap_unordered(_utterance, todo, chunksize=4)


def generate_wsj_corpus(out_dir: Path, config: WsjSynthConfig, jobs: int = 1, progress: bool = True) -> dict:
    """Write the corpus (skipping utterances already written) and return a summary."""
    speakers = make_speakers(config.speakers, config.test_speakers, config.seed, conf_path("synth_voices.yaml"))
    generator = SentenceGenerator(Lexicon.load(conf_path("synth_lexicon.yaml")))
    transcripts: dict[str, str] = {}
    done: list[tuple[str, str]] = []
    todo = []
    for i, speaker in enumerate(speakers):
        for k in range(config.utts_per_speaker):
            text = prompt(generator, np.random.default_rng([config.seed, i, k]))
            utt = _path(out_dir, speaker, i, k).stem
            transcripts[utt] = text
            done.append((speaker.split, utt))
            if not _path(out_dir, speaker, i, k).is_file():  # a re-run skips finished utterances
                todo.append((i, speaker, k, text))
    bar = tqdm(total=len(todo), desc="synthesizing (WSJ style)", unit="utt", disable=not progress or not todo)
    for _ in _run(todo, config, out_dir, jobs):
        bar.update()
    bar.close()
    for i, speaker in enumerate(speakers):
        spk = speaker_code(i)
        lines = [f"{transcripts[f'{spk}c{k:04x}']} ({spk}c{k:04x})" for k in range(config.utts_per_speaker)]
        write_text_atomic(out_dir / SET_DIRS[speaker.split] / spk / f"{spk}c0000.dot", "\n".join(lines) + "\n")
    for split, (index, disk, suffix) in INDEX_PATHS.items():
        entries = sorted(f"{disk}:{SET_DIRS[split]}/{utt[:3]}/{utt}{suffix}" for s, utt in done if s == split)
        write_text_atomic(
            out_dir / index, f";; gatescope WSJ-style synthetic corpus: {split}\n" + "\n".join(entries) + "\n"
        )
    write_text_atomic(out_dir / "wsj1/doc/indices/si_tr_s.ndx", ";; no additional WSJ1 training speakers\n")
    held_out = {transcripts[u] for s, u in done if s != "train"}
    rng = np.random.default_rng([config.seed, 10**6])
    lm_text = [t for t in (prompt(generator, rng) for _ in range(config.lm_sentences)) if t not in held_out]
    write_text_atomic(out_dir / "lm" / "lm_text.txt", "\n".join(lm_text) + "\n")
    words = {w for t in transcripts.values() for w in t.split()}
    return {
        "root": str(out_dir),
        "utterances": {s: sum(1 for x, _ in done if x == s) for s in SET_DIRS},
        "vocabulary": len(words),
        "lm_sentences": len(lm_text),
        "lm_vocabulary": len({w for t in lm_text for w in t.split()}),
    }
