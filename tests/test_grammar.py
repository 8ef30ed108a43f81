"""The word-count grammar search: against every CTC path enumerated on small random log-probs, and through
decode, score-real, robustness, stream and the Recognizer on a tiny word model."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatescope.asr.decoding.grammar import WordCountGrammar, grammar_path
from gatescope.asr.decoding.search import greedy_paths
from gatescope.errors import InputError


def _collapse(path: tuple[int, ...]) -> tuple[list[int], list[int]]:
    ids, starts = [], []
    for t, token in enumerate(path):
        if token and (t == 0 or path[t - 1] != token):
            ids.append(token)
            starts.append(t)
    return ids, starts


def _best_by_enumeration(scores: np.ndarray, grammar: WordCountGrammar) -> tuple[float, list[int], list[int]] | None:
    frames, tokens = scores.shape
    best = None
    for path in itertools.product(range(tokens), repeat=frames):
        ids, starts = _collapse(path)
        if not grammar.min_words <= len(ids) <= grammar.max_words:
            continue
        score = float(scores[np.arange(frames), path].sum())
        if best is None or score > best[0]:
            best = (score, ids, starts)
    return best


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    frames=st.integers(1, 6),
    tokens=st.integers(2, 4),
    max_words=st.integers(1, 3),
    min_words=st.integers(0, 2),
)
def test_grammar_path_is_the_best_allowed_path(
    seed: int, frames: int, tokens: int, max_words: int, min_words: int
) -> None:
    grammar = WordCountGrammar(max_words, min(min_words, max_words))
    scores = np.log(np.random.default_rng(seed).dirichlet(np.ones(tokens), size=frames))
    expected = _best_by_enumeration(scores, grammar)
    hyp = grammar_path(scores, grammar)
    if expected is None:  # too few frames for min_words words
        assert hyp.ids == [] and hyp.frames == []
        return
    assert (hyp.ids, hyp.frames) == (expected[1], expected[2])


def test_exactly_one_word_where_greedy_prints_none_or_two() -> None:
    import torch

    blank, one, two = [0.0, -9.0, -9.0], [-2.0, -0.2, -3.0], [-2.0, -3.0, -0.2]
    silent = np.log(np.array([[0.9, 0.06, 0.04]] * 5))  # greedy: nothing; the grammar: the likelier word
    assert greedy_paths(torch.tensor(silent)[None], torch.tensor([5]))[0].ids == []
    assert grammar_path(silent, WordCountGrammar(1)).ids == [1]
    both = np.array([blank, one, one, blank, two, two, blank])
    assert greedy_paths(torch.tensor(both)[None], torch.tensor([7]))[0].ids == [1, 2]
    assert grammar_path(both, WordCountGrammar(1)).ids in ([1], [2])
    assert grammar_path(both, WordCountGrammar(2)).ids == [1, 2]
    assert grammar_path(both, WordCountGrammar(2)).frames == [1, 4]


def test_a_repeated_word_needs_a_blank_between() -> None:
    scores = np.log(np.array([[0.1, 0.9], [0.1, 0.9]]))  # two frames of one word: "w w" would need a blank
    assert grammar_path(scores, WordCountGrammar(2, 2)).ids == []
    assert grammar_path(scores, WordCountGrammar(2, 1)).ids == [1]


def test_bad_grammars_are_refused() -> None:
    for max_words, min_words in [(0, 0), (1, 2), (2, -1)]:
        with pytest.raises(InputError, match="word-count grammar"):
            WordCountGrammar(max_words, min_words)


@pytest.fixture(scope="module")
def word_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small unidirectional GRU word model trained one epoch on FSDD-named noise recordings (it prints little),
    and the held-out speaker's data dir with 8 kHz features."""
    from gatescope.asr.corpora.digits import prepare_digits
    from gatescope.asr.features.extract import extract_features
    from gatescope.asr.features.fbank import FeatureConfig
    from gatescope.asr.training.config import TrainConfig
    from gatescope.asr.training.trainer import train
    from tests.test_digits import _fsdd

    root = tmp_path_factory.mktemp("words")
    data = prepare_digits(_fsdd(root / "recordings", takes=2), root / "data", test_speaker="theo", dev_takes=1)
    for split in ("train", "dev", "test"):
        extract_features(data / split, FeatureConfig(sample_rate=8000, num_mel_bins=23), progress=False)
    config = TrainConfig(
        cell="gru", num_layers=1, hidden_size=16, target="words", frame_stack=3, batch_size=4, max_epochs=1,
        train_dir=str(data / "train"), valid_dir=str(data / "dev"), progress_bar=False,
    )  # fmt: skip
    train(config, root / "exp")
    return root / "exp", data / "test"


def test_decode_score_real_and_robustness_answer_one_word_each(
    word_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gatescope.asr.decoding.decode import run_model
    from gatescope.asr.tokens import TokenTable
    from gatescope.cli import main

    exp, test = word_model
    assert main(["decode", "--model", str(exp), "--data", str(test), "--out", str(tmp_path / "greedy")]) == 0
    assert (
        main(["decode", "--model", str(exp), "--data", str(test), "--max-words", "1", "--out", str(tmp_path / "g")])
        == 0
    )
    lines = (tmp_path / "g" / "hyp.txt").read_text().splitlines()
    assert len(lines) == 20 and all(len(line.split()) == 2 for line in lines)  # utterance id + one word
    run = run_model(exp, test, 16)
    tokens = TokenTable(tuple(run.model.tokens), "words")
    expected = {
        u: tokens.decode(grammar_path(lp, WordCountGrammar(1)).ids)
        for u, lp in zip(run.utts, run.log_probs, strict=True)
    }
    assert {line.split()[0]: line.split()[1:] for line in lines} == expected
    greedy = (tmp_path / "greedy" / "hyp.txt").read_text().splitlines()
    assert any(len(line.split()) != 2 for line in greedy)  # what the grammar changed: empty or extra words

    refused = ["decode", "--model", str(exp), "--data", str(test), "--max-words", "1", "--beam", "4"]
    assert main(refused) == 2 and "leave the beam at 0" in capsys.readouterr().err

    out = tmp_path / "real"
    args = ["score-real", "--model", str(exp), "--data", str(test), "--lead-silence", "0.2", "--quiet"]
    assert main([*args, "--max-words", "1", "--out", str(out)]) == 0
    assert "(0 with no output)" in capsys.readouterr().out
    assert all(len(line.split()) == 2 for line in (out / "hyp.txt").read_text().splitlines())

    robustness = ["robustness", "--model", str(exp), "--data", str(test), "--noise", "white", "--snr", "clean,10",
                  "--anchor", "none", "--max-words", "1", "--quiet"]  # fmt: skip
    assert main([*robustness, "--out", str(tmp_path / "rob")]) == 0
    assert json.loads((tmp_path / "rob" / "results.json").read_text())["decoding"] == "one-word grammar"
    for name in ("clean.txt", "white@10dB.txt"):
        hyps = (tmp_path / "rob" / "hyp" / "exp" / name).read_text().splitlines()
        assert len(hyps) == 20 and all(len(line.split()) == 2 for line in hyps), name


def test_streaming_final_is_the_grammars_best_path_of_the_whole_stream(word_model: tuple[Path, Path]) -> None:
    import torch

    from gatescope.asr.data.audio import read_audio
    from gatescope.asr.data.datadir import read_table
    from gatescope.asr.features.cmvn import OnlineCMVN
    from gatescope.asr.features.fbank import compute_features
    from gatescope.asr.streaming.recognizer import Recognizer

    exp, test = word_model
    grammar = WordCountGrammar(2)
    recognizer = Recognizer(exp, cmvn="global", endpoint_ms=0, grammar=grammar)
    for wav in list(read_table(test / "wav.scp").values())[:4]:
        audio = read_audio(wav, 8000)[0]
        recognizer.reset()
        for start in range(0, audio.size, 800):
            recognizer.accept(audio[start : start + 800])
        events = recognizer.finish()
        feats = compute_features(audio, recognizer.features_config).numpy()
        normalised = OnlineCMVN("global", recognizer.cmvn_stats, recognizer.norm_vars).apply(feats)
        with torch.inference_mode():
            log_probs = recognizer.model(torch.from_numpy(normalised).unsqueeze(0)).log_probs[0]
        expected = " ".join(recognizer.tokens.decode(grammar_path(log_probs, grammar).ids))
        assert [e.text for e in events if e.kind == "final"] == [expected] and expected


def test_a_grammar_for_a_phone_model_is_refused(
    tiny_models: list[Path], tiny_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gatescope.cli import main

    phone_model = tiny_models[1]
    for command in (["decode"], ["robustness", "--out", str(tiny_data.parent / "rob")]):
        argv = [*command, "--model", str(phone_model), "--data", str(tiny_data / "test"), "--max-words", "1"]
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "needs a word model" in err and "phones" in err, err


def test_stream_command_takes_the_grammar(word_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from gatescope.asr.data.datadir import read_table
    from gatescope.cli import main

    exp, test = word_model
    wav = sorted(read_table(test / "wav.scp").values())[0]
    argv = ["stream", "--model", str(exp), "--wav", wav, "--json", "--endpoint-ms", "0", "--max-words", "1"]
    assert main(argv) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finals = [r for r in records if r["type"] == "final"]
    assert len(finals) == 1 and len(finals[0]["text"].split()) == 1
    assert records[-1]["type"] == "end" and records[-1]["text"] == finals[0]["text"]
