"""The festival backend: its phone map is closed over the grammars, its alignments tile the audio with no doubled
phone in a word, its speakers follow the settings they claim, and its corpora are reproducible."""

from __future__ import annotations

import itertools
from pathlib import Path

import librosa
import numpy as np
import pytest

from gatescope.asr.corpora.synth import backends as backends_module
from gatescope.asr.corpora.synth.align import load_symbol_map, tokenize
from gatescope.asr.corpora.synth.corpus import generate_corpus
from gatescope.asr.corpora.synth.festival import (
    FESTIVAL_VOICES,
    FIXED_PROSODY,
    FestivalVoice,
    installed_voices,
    speak,
)
from gatescope.asr.corpora.synth.speakers import make_speakers
from gatescope.asr.corpora.synth.text import Lexicon
from gatescope.asr.corpora.synth.timed import align_timed
from gatescope.asr.phones import PhoneMap
from gatescope.errors import InputError
from gatescope.resources import conf_path

from .conftest import TINY_FESTIVAL, assert_same_files

needs_festival = pytest.mark.skipif(
    len(installed_voices()) < len(FESTIVAL_VOICES),
    reason="festival or a voice is not installed (make setup installs festival and its festvox-* voices as root)",
)
RADIO_MAP = load_symbol_map(conf_path("radio_timit.map"))


def _vocabulary() -> list[str]:
    words = set(Lexicon.load(conf_path("synth_lexicon.yaml")).vocabulary())
    words |= set(Lexicon.load(Path("recipes/digits/conf/digits_lexicon.yaml")).vocabulary())
    return sorted(words)


@needs_festival
@pytest.mark.parametrize("voice", sorted(FESTIVAL_VOICES))
def test_phone_map_covers_every_symbol_a_voice_says_and_no_word_holds_a_doubled_phone(voice: str) -> None:
    words = _vocabulary()
    speech = speak("one", tokenize(" ".join(words)), FestivalVoice(voice))
    assert set(speech.words_alone) == set(words)
    symbols = {p for phones in speech.words_alone.values() for p in phones}
    assert len(symbols) > 35, "festival printed too few phones"
    assert symbols <= set(RADIO_MAP), sorted(symbols - set(RADIO_MAP))
    fold = PhoneMap.load().to39
    for word, phones in speech.words_alone.items():
        labels = [fold.get(label, label) for p in phones for label in RADIO_MAP[p]]
        doubled = [a for a, b in itertools.pairwise(labels) if a == b]
        assert not doubled, f"{voice}: {word!r} -> {phones}"
    assert speech.words_alone["author"][-1] == "er" and speech.words_alone["zero"] == ("z", "ih", "r", "ow")


@needs_festival
@pytest.mark.parametrize("voice", sorted(FESTIVAL_VOICES))
def test_alignment_tiles_the_audio_to_its_end_and_words_get_their_own_phones(voice: str) -> None:
    text = "The author of the code for the house is seven zero one nine."
    settings = FestivalVoice(voice, duration_stretch=1.1, f0_mean=120, f0_stddev=20, vtl=1.05)
    speech = speak(text, tokenize(text), settings)
    synthesis = speech.synthesis
    assert synthesis.sample_rate in (16800, 33600), "the vtl factor is the declared rate's (diphone 16 kHz, HTS 32)"
    alignment = align_timed(synthesis, tokenize(text), RADIO_MAP, speech.words_alone.__getitem__)
    phones = alignment.phones
    assert phones[0].start == 0 and phones[-1].end == len(synthesis.audio)
    assert all(a.end == b.start for a, b in itertools.pairwise(phones))
    # festival's last segment ends at the audio's end, give or take the diphone voices' LPC tail (26 ms for kal)
    assert abs(synthesis.segments[-1][1] - len(synthesis.audio)) <= synthesis.sample_rate // 20
    assert [w.label for w in alignment.words] == [t.text for t in tokenize(text)]
    for word, expected in (("zero", ["z", "ih", "r", "ow"]), ("author", ["ao", "th", "er"])):
        span = next(w for w in alignment.words if w.label == word)
        assert [p.label for p in phones if p.start >= span.start and p.end <= span.end] == expected, word


@needs_festival
@pytest.mark.parametrize("voice", sorted(set(FESTIVAL_VOICES) - FIXED_PROSODY))
def test_diphone_voices_follow_their_f0_and_duration_settings(voice: str) -> None:
    text = "seven zero one nine"
    low, high = (speak(text, tokenize(text), FestivalVoice(voice, 1.0, f0, 10)).synthesis for f0 in (90.0, 200.0))
    pitch = []
    for synthesis in (low, high):
        audio = synthesis.audio.astype(np.float32) / 32768
        f0, _, _ = librosa.pyin(audio, fmin=60, fmax=400, sr=synthesis.sample_rate)
        pitch.append(float(np.nanmedian(f0)))
    assert pitch[0] < 110 < 170 < pitch[1], pitch
    slow = speak(text, tokenize(text), FestivalVoice(voice, 1.3)).synthesis
    assert len(slow.audio) > 1.2 * len(low.audio)


def test_speakers_of_three_backends_claim_only_what_their_voice_follows() -> None:
    speakers = make_speakers(48, 12, 0, conf_path("synth_voices.yaml"), ("espeak", "flite", "festival"))
    assert {s.backend for s in speakers} == {"espeak", "flite", "festival"}
    festival = [(s.sex, s.voice) for s in speakers if isinstance(s.voice, FestivalVoice)]
    assert {(sex, voice.voice in ("kal", "ked")) for sex, voice in festival} == {("m", True), ("f", False)}
    for _, voice in festival:
        if voice.voice in FIXED_PROSODY:
            assert voice.f0_mean == 0 and voice.duration_stretch == 1.0, "slt_hts ignores both: none claimed"
    two = make_speakers(48, 12, 0, conf_path("synth_voices.yaml"), ("espeak", "flite"))
    assert [s.voice for s in two[:2]] == [s.voice for s in speakers[:2]], "eSpeak speakers keep their draws"


def test_a_missing_festival_voice_stops_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends_module, "installed_voices", lambda: ["kal"])
    monkeypatch.setattr(backends_module, "festival_path", lambda: "/usr/bin/festival")
    with pytest.raises(InputError, match=r"voice\(s\) .*slt_hts.* not installed \(Debian: apt-get install .*festvox"):
        generate_corpus(tmp_path / "c", TINY_FESTIVAL, jobs=1, progress=False)
    assert not (tmp_path / "c").exists()
    monkeypatch.setattr(backends_module, "festival_path", lambda: None)
    backends, skipped = backends_module.installed_backends()
    assert "festival" not in backends and any("apt-get install festival" in line for line in skipped)


def test_festival_corpus_is_byte_reproducible_and_aligned(tiny_festival_corpus: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_corpus(again, TINY_FESTIVAL, jobs=2, progress=False)
    assert_same_files(again, tiny_festival_corpus)
    summary = (again / "DOC" / "SUMMARY.json").read_text()
    assert '"festival"' in summary
    for phn in again.glob("*/DR*/*/*.PHN"):
        rows = [line.split() for line in phn.read_text().splitlines()]
        assert rows[0][0] == "0" and all(a[1] == b[0] for a, b in itertools.pairwise(rows))
        assert rows[0][2] == rows[-1][2] == "h#"
