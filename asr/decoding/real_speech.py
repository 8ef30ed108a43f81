"""Scoring a model on real recordings with known word transcripts, through the streaming path a live
microphone takes.

In: a trained model and data dirs whose ``wav.scp`` holds real recordings and whose ``text.wrd`` (else ``text``)
holds the words. Out: PER on the 39-phone folding for phone models, WER for word and character models.

Phone references come from the embedded corpus's own phonemization of the known words: eSpeak NG's phonemes
(en-us), mapped to TIMIT labels by ``conf/espeak_timit.map`` and folded to 39 phones exactly as the synthetic
training data is, so a real recording is scored the way a synthetic one is.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gatescope.asr.corpora.synth.align import STRESS_MARKS, load_symbol_map
from gatescope.asr.corpora.synth.espeak import Espeak, VoiceSettings
from gatescope.asr.data.datadir import read_table, read_transcripts, require_files
from gatescope.asr.decoding.grammar import WordCountGrammar
from gatescope.asr.decoding.score_files import write_score_files
from gatescope.asr.decoding.scoring import SCORING_DROPS, ErrorCounts, count_errors, fold_for_scoring
from gatescope.asr.phones import PhoneMap
from gatescope.asr.streaming.recognizer import Recognizer
from gatescope.asr.streaming.sources import wav_chunks
from gatescope.errors import InputError
from gatescope.files import refuse_overlap, write_text_atomic
from gatescope.resources import conf_path

REFERENCE_VOICE = "en-us"


@dataclass(frozen=True)
class RealSpeechScore:
    """The score of one model on real recordings: ``metric`` PER or WER in % with its sclite-style counts, in
    all and per speaker (``utt2spk``; a speaker in several data dirs counts once)."""

    metric: str
    rate: float
    counts: ErrorCounts
    utterances: int
    empty_hypotheses: int  # utterances the model printed nothing for
    speakers: dict[str, ErrorCounts] = field(default_factory=dict)

    def speaker_rates(self) -> dict[str, float]:
        """Each speaker's error rate in %, rounded as ``rate`` is."""
        return {speaker: round(counts.rate, 2) for speaker, counts in sorted(self.speakers.items())}


@cache
def _symbol_map() -> dict[str, tuple[str, ...]]:
    return load_symbol_map(conf_path("espeak_timit.map"))


@cache
def _fold39() -> dict[str, str]:
    return PhoneMap.load().to39


def reference_phones(words: list[str]) -> list[str]:
    """The 39-phone reference of a word sequence, as the embedded corpus would transcribe it: each word's eSpeak
    phonemes -> TIMIT labels, neighbours of the same 39-phone class within a word joined, then folded."""
    fold = _fold39()
    espeak, voice = Espeak.get(), VoiceSettings(REFERENCE_VOICE)
    phones: list[str] = []
    for word in words:
        labels = [
            lab for s in espeak.word_phonemes(word.lower(), voice) for lab in _symbol_map()[s.lstrip(STRESS_MARKS)]
        ]
        folded = [fold[lab] for lab in labels if lab in fold and fold[lab] not in SCORING_DROPS]
        phones += [p for i, p in enumerate(folded) if i == 0 or folded[i - 1] != p]
    return phones


def transcribe_file(
    recognizer: Recognizer, wav: str, chunk_ms: float = 100.0, lead_silence_s: float = 0.0, keep_cmvn: bool = False
) -> list[str]:
    """The recogniser's tokens for one recording fed in chunks of ``chunk_ms`` (resampled to the model's rate),
    after ``lead_silence_s`` seconds of digital silence (what a microphone delivers before someone speaks);
    ``keep_cmvn`` carries the CMVN history over from the recording before (the same speaker)."""
    recognizer.reset(keep_cmvn=keep_cmvn)
    if lead_silence_s > 0:
        recognizer.accept(np.zeros(round(lead_silence_s * recognizer.sample_rate), dtype=np.float32))
    for chunk in wav_chunks(Path(wav), recognizer.sample_rate, chunk_ms):
        recognizer.accept(chunk)
    recognizer.finish()
    return recognizer.text.split()


SESSION_SEED = 0


def session_order(utts: list[str], utt2spk: dict[str, str]) -> list[tuple[str, str | None]]:
    """``(utt, speaker)`` pairs: speaker by speaker (sorted), each speaker's utterances in a random order drawn
    from :data:`SESSION_SEED` (not sorted: corpora sort by word, and a session of one word said fifty times in a
    row would adapt CMVN to that word)."""
    by_speaker: dict[str, list[str]] = {}
    for utt in utts:
        if utt not in utt2spk:
            raise InputError(f"utterance {utt}: not in utt2spk")
        by_speaker.setdefault(utt2spk[utt], []).append(utt)
    rng = np.random.default_rng(SESSION_SEED)
    return [(spk_utts[i], spk) for spk, spk_utts in sorted(by_speaker.items()) for i in rng.permutation(len(spk_utts))]


def _key(data_dir: Path, utt: str, data_dirs: list[Path]) -> str:
    """A recording's key in the scores: its utterance id, prefixed by its data dir's name when there are several."""
    return f"{data_dir.name}/{utt}" if len(data_dirs) > 1 else utt


def _speakers(data_dir: Path, data_dirs: list[Path]) -> dict[str, str]:
    """Each recording's key -> its speaker, from ``utt2spk`` (none without one)."""
    if not (data_dir / "utt2spk").is_file():
        return {}
    return {_key(data_dir, utt, data_dirs): spk for utt, spk in read_table(data_dir / "utt2spk").items()}


def score_recordings(
    model: Path,
    data_dirs: list[Path],
    out_dir: Path | None = None,
    cmvn: str | None = None,
    chunk_ms: float = 100.0,
    progress: bool = True,
    lead_silence_s: float = 0.0,
    speaker_adapt: bool = False,
    grammar: WordCountGrammar | None = None,
) -> RealSpeechScore:
    """Stream every recording of ``data_dirs`` through ``model`` (``cmvn`` as ``gatescope stream --cmvn``), each
    after ``lead_silence_s`` seconds of digital silence, and score it against its words; with ``out_dir``, write
    the scored files (:func:`write_score_files`) and ``result.json`` there.

    ``speaker_adapt`` streams each speaker's recordings (``utt2spk``) one after another in a seeded random order,
    as one session at a microphone would bring them, with the CMVN history carried from one to the next (the
    default CMVN, as the model was trained, is ``online`` for per-speaker CMVN, ``sliding`` for per-utterance or
    sliding, and ``none`` for a model trained without: there is nothing to adapt); each recording is still decoded
    from a fresh recurrent state. With ``grammar`` (word models), each recording's words are the best path with a
    word count the grammar allows."""
    if out_dir is not None:
        refuse_overlap(out_dir, {f"--data {d}": d for d in data_dirs})
    recognizer = Recognizer(model, cmvn=cmvn, endpoint_ms=0, grammar=grammar)
    target = str(recognizer.model.train_config.get("target", "phones"))
    refs: dict[str, list[str]] = {}
    hyps: dict[str, list[str]] = {}
    speakers: dict[str, str] = {}
    for data_dir in data_dirs:
        require_files(data_dir, ("wav.scp",) + (("utt2spk",) if speaker_adapt else ()))
        speakers |= _speakers(data_dir, data_dirs)
        wavs = read_table(data_dir / "wav.scp")
        words = read_transcripts(data_dir, wavs)
        if speaker_adapt:
            order = session_order(sorted(wavs), read_table(data_dir / "utt2spk"))
        else:
            order = [(utt, None) for utt in sorted(wavs)]
        previous_speaker = None
        for utt, speaker in tqdm(order, desc=f"score {data_dir.name}", disable=not progress):
            keep = speaker_adapt and speaker == previous_speaker
            tokens = transcribe_file(recognizer, wavs[utt], chunk_ms, lead_silence_s, keep_cmvn=keep)
            previous_speaker = speaker
            key = _key(data_dir, utt, data_dirs)
            if target == "phones":
                refs[key], hyps[key] = reference_phones(words[utt].split()), fold_for_scoring(tokens, "phones")
            else:  # words are compared case-blind: corpora write them in either case
                refs[key] = words[utt].lower().split()
                hyps[key] = [w.lower() for w in fold_for_scoring(tokens, target)]
    return _score(refs, hyps, "PER" if target == "phones" else "WER", out_dir, speakers)


def _score(
    refs: dict[str, list[str]],
    hyps: dict[str, list[str]],
    metric: str,
    out_dir: Path | None,
    speakers: dict[str, str],
) -> RealSpeechScore:
    """Tally every recording's errors, in all and per speaker (``speakers``: key -> speaker); with ``out_dir``,
    write the scored files (:func:`write_score_files`) and ``result.json`` (with ``speaker_rates``)."""
    total = ErrorCounts()
    by_speaker: dict[str, ErrorCounts] = {}
    for key, ref in refs.items():
        counts = count_errors(ref, hyps[key])
        total.add(counts)
        if key in speakers:
            by_speaker.setdefault(speakers[key], ErrorCounts()).add(counts)
    empty = sum(not h for h in hyps.values())
    score = RealSpeechScore(metric, round(total.rate, 2), total, len(refs), empty, by_speaker)
    if out_dir is not None:
        write_score_files(out_dir, refs, hyps)
        result = asdict(score) | {"speaker_rates": score.speaker_rates()}
        write_text_atomic(out_dir / "result.json", json.dumps(result, indent=1) + "\n")
    return score


def score_anchor(
    target: str,
    data_dirs: list[Path],
    out_dir: Path | None = None,
    progress: bool = True,
    lead_silence_s: float = 0.0,
) -> RealSpeechScore:
    """PocketSphinx's own US-English model on the same recordings (after the same ``lead_silence_s``), scored as
    :func:`score_recordings` scores a model of ``target``: a phone loop against the same phone references for
    ``phones``, its task grammar (or LM) over the recordings' words for ``words`` and ``chars``. The external
    anchor that says what a recognizer trained on real speech makes of these recordings."""
    from gatescope.asr.data.audio import read_audio
    from gatescope.asr.decoding.anchor import anchor_for

    if out_dir is not None:
        refuse_overlap(out_dir, {f"--data {d}": d for d in data_dirs})
    words: dict[str, list[str]] = {}
    wavs: dict[str, str] = {}
    speakers: dict[str, str] = {}
    for data_dir in data_dirs:
        require_files(data_dir, ("wav.scp",))
        speakers |= _speakers(data_dir, data_dirs)
        table = read_table(data_dir / "wav.scp")
        for utt, text in read_transcripts(data_dir, table).items():
            key = _key(data_dir, utt, data_dirs)
            words[key], wavs[key] = text.lower().split(), table[utt]
    anchor = anchor_for(target, list(words.values()))
    refs = {key: reference_phones(ws) for key, ws in words.items()} if target == "phones" else words
    hyps: dict[str, list[str]] = {}
    for key in tqdm(sorted(wavs), desc="score pocketsphinx", disable=not progress):
        wave, rate = read_audio(wavs[key])
        if lead_silence_s > 0:
            wave = np.concatenate([np.zeros(round(lead_silence_s * rate), dtype=np.float32), wave])
        hyps[key] = [w.lower() for w in anchor.transcribe(wave, rate)]
    return _score(refs, hyps, "PER" if target == "phones" else "WER", out_dir, speakers)
