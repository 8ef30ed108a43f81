"""The flite backend: its phone map is closed over the grammar, its corpora are reproducible and aligned."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gatescope.asr.corpora.synth.align import load_symbol_map, tokenize
from gatescope.asr.corpora.synth.corpus import generate_corpus
from gatescope.asr.corpora.synth.flite import FLITE_VOICES, FliteVoice, flite_path, word_phones
from gatescope.asr.corpora.synth.flite import synthesize as flite_synthesize
from gatescope.asr.corpora.synth.speakers import make_speakers
from gatescope.asr.corpora.synth.text import Lexicon
from gatescope.asr.corpora.synth.timed import TimedSynthesis, align_timed, word_owners
from gatescope.errors import ConfigError, InputError
from gatescope.resources import conf_path

from .conftest import TINY_FLITE, assert_same_files

needs_flite = pytest.mark.skipif(flite_path() is None, reason="flite is not installed (Debian: apt-get install flite)")


@needs_flite
@pytest.mark.parametrize("voice", FLITE_VOICES)
def test_phone_map_covers_every_symbol_a_voice_says_for_the_grammar(voice: str, tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text(" ".join(sorted(Lexicon.load(conf_path("synth_lexicon.yaml")).vocabulary())))
    # The segments come from the voice's front end; a short duration stretch only makes the (discarded) waveform
    # cheaper: the printout is the same, byte for byte, at 1/20 of the duration and a quarter of the time.
    printed = subprocess.run(
        [str(flite_path()), "-voice", voice, "--setf", "duration_stretch=0.05", "-ps", "-f", str(words), "-o", "none"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    symbols = set(printed.split())
    assert len(symbols) > 35, "flite printed too few phones: is -ps still its segment printer?"
    assert symbols <= set(load_symbol_map(conf_path("radio_timit.map")))


@needs_flite
def test_alignment_tiles_the_audio_and_words_get_their_own_phones() -> None:
    text = "The code for the house is seven zero one nine."
    voice = FliteVoice("slt", duration_stretch=1.1, f0_mean=210, f0_stddev=20, vtl=1.05)
    synthesis = flite_synthesize(text, voice)
    assert synthesis.sample_rate == round(16000 * 1.05), "the vtl factor is the declared rate's"
    symbol_map = load_symbol_map(conf_path("radio_timit.map"))
    alignment = align_timed(synthesis, tokenize(text), symbol_map, lambda word: word_phones(word, voice.voice))
    phones = alignment.phones
    assert phones[0].start == 0 and phones[-1].end == len(synthesis.audio)
    assert all(a.end == b.start for a, b in itertools.pairwise(phones))
    assert [w.label for w in alignment.words] == [t.text for t in tokenize(text)]
    zero = next(w for w in alignment.words if w.label == "zero")
    inside = [p.label for p in phones if p.start >= zero.start and p.end <= zero.end]
    assert inside == ["z", "ih", "r", "ow"]
    assert alignment.stats["stop_split"] == 2  # the closures of the k and d of "code" come from the aligner


def test_unknown_symbol_and_an_unspoken_word_are_errors_naming_them() -> None:
    synthesis = TimedSynthesis(np.ones(3200, np.int16), 16000, [("pau", 800), ("q9", 1600), ("ay", 3200)])
    symbol_map = {"pau": ("pau",), "ay": ("ay",)}
    tokens = tokenize("a b")
    with pytest.raises(InputError, match="'q9' has no TIMIT label"):
        align_timed(synthesis, tokens, symbol_map, lambda word: ["x"])
    with pytest.raises(InputError, match=r"no phone of word\(s\) \[2\]"):
        word_owners(["ay", "b"], [["ay"], ["b"], ["s", "iy"]])


def test_words_said_differently_in_context_get_their_own_phones() -> None:
    """flite's "blessed" is ``b l eh s ih d`` alone but ``b l eh s t`` as a verb, and "a" ``ey`` alone, ``ax`` in a
    sentence (found by ``corpus synth --speakers 16 --utts-per-speaker 30``, the --help example)."""
    alone = [["dh", "ax"], ["b", "l", "eh", "s", "ih", "d"], ["ey"], ["f", "ao", "r"]]
    spoken = ["dh", "ax", "b", "l", "eh", "s", "t", "ax", "f", "ao", "r"]
    owners, edits = word_owners(spoken, alone)
    assert owners == [0, 0, 1, 1, 1, 1, 1, 2, 3, 3, 3] and edits == 3
    owners, edits = word_owners(["hh", "dh", "ax", "k", "ae", "t", "s"], [["dh", "ax"], ["k", "ae", "t"]])
    assert owners == [0, 0, 0, 1, 1, 1, 1] and edits == 2  # insertions join the word before (the first at the start)


def test_speakers_of_both_backends_have_both_sexes_in_every_split() -> None:
    speakers = make_speakers(40, 8, 0, conf_path("synth_voices.yaml"), ("espeak", "flite"))
    for split in ("train", "dev", "test"):
        kinds = {(s.backend, s.sex) for s in speakers if s.split == split}
        assert kinds == {("espeak", "f"), ("espeak", "m"), ("flite", "f"), ("flite", "m")}, split
    flite = [s.voice for s in speakers if isinstance(s.voice, FliteVoice)]
    assert len(set(flite)) == len(flite) == 20
    assert all(v.f0_mean == 0 for v in flite if v.voice == "rms"), "rms ignores F0 targets: none are claimed"
    espeak_only = make_speakers(40, 8, 0, conf_path("synth_voices.yaml"))
    assert [s.voice for s in espeak_only[:2]] == [s.voice for s in speakers[:2]], "eSpeak speakers keep their draws"
    with pytest.raises(ConfigError, match="backends must be some of"):
        make_speakers(4, 2, 0, conf_path("synth_voices.yaml"), ("mbrola",))


def test_flite_corpus_is_byte_reproducible(tiny_flite_corpus: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_corpus(again, TINY_FLITE, jobs=2, progress=False)
    assert_same_files(again, tiny_flite_corpus)


def test_flite_boundaries_are_acoustically_right(tiny_flite_corpus: Path) -> None:
    """Fricatives are noisier than vowels, and vowels louder than the silence around the speech."""
    zcr: dict[str, list[float]] = {"fricative": [], "vowel": []}
    rms: dict[str, list[float]] = {"h#": [], "vowel": []}
    for wav in sorted(tiny_flite_corpus.glob("*/DR*/*/*.WAV")):
        audio, _ = sf.read(wav, dtype="float32")
        for line in wav.with_suffix(".PHN").read_text().splitlines():
            start, end, label = line.split()
            seg = audio[int(start) : int(end)]
            crossings = float(np.mean(np.abs(np.diff(np.sign(seg))) > 0))
            if label in ("aa", "ae", "iy", "eh", "ih", "ah", "ey", "ay", "ow"):
                zcr["vowel"].append(crossings)
                rms["vowel"].append(float(np.sqrt(np.mean(seg**2))))
            elif label in ("s", "sh", "z", "f"):
                zcr["fricative"].append(crossings)
            elif label == "h#":
                rms["h#"].append(float(np.sqrt(np.mean(seg**2))))
    assert np.median(zcr["fricative"]) > 2 * np.median(zcr["vowel"])
    assert np.median(rms["h#"]) < 0.05 * np.median(rms["vowel"])
