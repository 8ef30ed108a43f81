"""Exact digital silence (a muted or virtual microphone) before speech must not derail recognition, streaming or
offline: a model that knows its utterances gives the same text with 2 s of zeros in front of them.

The model is a small LSTM trained until it has learnt two utterances by heart, with the training option
``zeros_prob`` on (runs of exact zeros around half the utterances). Trained without it, the same model recognises both
utterances exactly and loses them behind 2 s of zeros ("sil n sil" for "sil n ey th ax n sil"; measured when this
test was written), which is what the augmentation is for. It streams with the training set's statistics
(``cmvn="global"``): learnt from two utterances by heart, it loses phones to any other normalisation, and the
default online CMVN is tested on its own (tests/test_streaming.py), digital silence left out included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatescope.asr import Recognizer
from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table
from gatescope.asr.decoding.scoring import count_errors, fold_for_scoring
from gatescope.asr.decoding.search import normalize, transcribe
from gatescope.asr.features.fbank import compute_features
from gatescope.asr.models.checkpoint import experiment_features

from .conftest import MEMORISED_ZEROS_S as ZEROS_S


def _streamed(recognizer: Recognizer, audio: np.ndarray) -> list[str]:
    recognizer.reset()
    for start in range(0, len(audio), 1600):  # 100 ms chunks, as a microphone delivers them
        recognizer.accept(audio[start : start + 1600])
    recognizer.finish()
    return recognizer.text.split()


def _offline(recognizer: Recognizer, exp: Path, audio: np.ndarray) -> list[str]:
    saved = experiment_features(exp)
    feats = compute_features(audio, saved.config).numpy()
    matrix = normalize(feats, recognizer.model.cmvn_mode, saved.cmvn_stats, recognizer.norm_vars)
    return recognizer.tokens.decode(transcribe(recognizer.model, [matrix])[0].ids)


def test_two_seconds_of_digital_zeros_keep_the_text_streaming_and_offline(memorised: tuple[Path, Path]) -> None:
    exp, train_dir = memorised
    recognizer = Recognizer(exp, cmvn="global", endpoint_ms=0)
    references = read_table(train_dir / "text")
    for utt, wav in sorted(read_table(train_dir / "wav.scp").items()):
        audio, _ = read_audio(wav, expected_rate=recognizer.sample_rate)
        padded = np.concatenate([np.zeros(round(ZEROS_S * recognizer.sample_rate), np.float32), audio])
        streamed = [_streamed(recognizer, x) for x in (audio, padded)]
        errors = count_errors(
            fold_for_scoring(references[utt].split(), "phones"), fold_for_scoring(streamed[0], "phones")
        )
        assert errors.rate <= 15, f"the model should know {utt}: {streamed[0]} ({errors.rate:.1f}% PER)"
        assert streamed[1] == streamed[0], f"{utt} after {ZEROS_S} s of zeros: {streamed[1]}"
        offline = [_offline(recognizer, exp, x) for x in (audio, padded)]
        assert offline[1] == offline[0] == streamed[0]


def test_score_real_streams_the_lead_silence_before_each_recording(memorised: tuple[Path, Path]) -> None:
    from gatescope.asr.decoding.real_speech import score_recordings, transcribe_file

    exp, train_dir = memorised
    recognizer = Recognizer(exp, cmvn="global", endpoint_ms=0)
    for utt, wav in sorted(read_table(train_dir / "wav.scp").items()):
        audio, _ = read_audio(wav, expected_rate=recognizer.sample_rate)
        padded = np.concatenate([np.zeros(round(ZEROS_S * recognizer.sample_rate), np.float32), audio])
        expected = _streamed(recognizer, padded)
        frames = recognizer.frames
        assert transcribe_file(recognizer, wav, lead_silence_s=ZEROS_S) == expected, utt
        assert recognizer.frames == frames, f"{utt}: the silence must be streamed before the recording"
    plain = score_recordings(exp, [train_dir], progress=False, cmvn="global")
    silent = score_recordings(exp, [train_dir], progress=False, lead_silence_s=ZEROS_S, cmvn="global")
    assert silent.counts == plain.counts, "a model that knows its utterances keeps them behind the silence"


def test_session_order_groups_speakers_and_shuffles_each_reproducibly() -> None:
    from gatescope.asr.decoding.real_speech import session_order
    from gatescope.errors import InputError

    utts = [f"{digit}_{speaker}_{i}" for speaker in ("b", "a") for digit in range(10) for i in range(3)]
    utt2spk = {u: u.split("_")[1] for u in utts}
    order = session_order(sorted(utts), utt2spk)
    assert order == session_order(sorted(utts), utt2spk)
    assert [s for _, s in order] == ["a"] * 30 + ["b"] * 30
    assert sorted(u for u, _ in order) == sorted(utts)
    assert [u for u, _ in order[:30]] != sorted(u for u in utts if utt2spk[u] == "a")
    with pytest.raises(InputError, match="0_c_0: not in utt2spk"):
        session_order(["0_c_0"], utt2spk)


def test_score_real_speaker_adaptation_carries_only_the_cmvn(memorised: tuple[Path, Path], tmp_path: Path) -> None:
    """``speaker_adapt``: each recording is still decoded from a fresh recurrent state (with fixed statistics the
    score is the plain one), and the first of a session is decoded as on its own (the carrying itself:
    tests/test_streaming.py)."""
    from gatescope.asr.decoding.real_speech import score_recordings, session_order

    exp, train_dir = memorised
    plain = score_recordings(exp, [train_dir], progress=False, cmvn="global")
    assert score_recordings(exp, [train_dir], progress=False, cmvn="global", speaker_adapt=True).counts == plain.counts
    score_recordings(exp, [train_dir], tmp_path / "fresh", progress=False, cmvn="online")
    score_recordings(exp, [train_dir], tmp_path / "adapted", progress=False, speaker_adapt=True)
    fresh, adapted = (read_table(tmp_path / name / "hyp.txt", allow_empty=True) for name in ("fresh", "adapted"))
    first = session_order(sorted(fresh), read_table(train_dir / "utt2spk"))[0][0]
    assert adapted[first] == fresh[first] and set(adapted) == set(fresh)
