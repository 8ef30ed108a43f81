"""CTC search under a task grammar of word models: the best path whose output is ``min_words`` to ``max_words``
words of the model's vocabulary, in any order.

This is the grammar PocketSphinx's anchor decodes short-utterance tasks with (isolated digits: exactly one word;
``gatescope.asr.decoding.anchor``), so a word model searched this way and the anchor answer the same question.
Greedy search may print nothing, or two words, for a recording that holds one; here the output has a word count the
task allows, and within that constraint the path is the best (Viterbi) one, as greedy search's path is without it.

In: per-utterance CTC log-probs ``(frames, tokens)``, blank first, each other token a word. Out: a
:class:`~gatescope.asr.decoding.hypothesis.Hypothesis` (word ids and the frame each word began at); an empty one where
the utterance has too few frames for ``min_words`` words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from gatescope.asr.decoding.hypothesis import Hypothesis
from gatescope.errors import InputError

BEAM_WITH_GRAMMAR = "a word-count grammar is searched exactly (best path): leave the beam at 0"
_STAY, _FROM_BLANK = -1, -2  # a word state's back-pointers besides "from word index c'" (c' >= 0)


@dataclass(frozen=True)
class WordCountGrammar:
    """``min_words`` to ``max_words`` words, any of the model's words in any order (a JSGF ``<word> [<word>]``)."""

    max_words: int
    min_words: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.min_words <= self.max_words or self.max_words < 1:
            raise InputError(
                f"word-count grammar: need 0 <= min_words <= max_words and max_words >= 1, "
                f"got {self.min_words}..{self.max_words}"
            )


def word_count_grammar(max_words: int) -> WordCountGrammar | None:
    """The grammar of 1 to ``max_words`` words, as ``--max-words`` asks; None for 0 (no grammar)."""
    return WordCountGrammar(max_words) if max_words else None


def require_word_model(target: str, model: object, beam: int = 0) -> None:
    """InputError unless ``target`` (the model's training target) is ``words`` (phones and characters are not
    words a word-count grammar could count) and no ``beam`` is asked for besides."""
    if target != "words":
        raise InputError(
            f"{model}: a word-count grammar (--max-words) needs a word model; this one's target is {target}"
        )
    if beam:
        raise InputError(BEAM_WITH_GRAMMAR)


def _step_words(prev_blank: np.ndarray, prev_word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best way into word state ``(k, c)`` from the previous frame: stay in ``(k, c)``, leave blank ``k - 1`` or
    leave another word ``(k - 1, c')``. Returns the scores and back-pointers (``_STAY``, ``_FROM_BLANK`` or the
    word index c' of ``prev_word``'s columns)."""
    counts, words = prev_word.shape
    score, back = prev_word.copy(), np.full((counts, words), _STAY, dtype=np.int64)
    entering = np.full((counts, words), -np.inf)
    source = np.full((counts, words), _FROM_BLANK, dtype=np.int64)
    entering[1:] = prev_blank[:-1, None]
    # from another word (k - 1, c'): the best c' other than c is the best overall, or the second best where the
    # best is c itself
    order = np.argsort(prev_word[:-1], axis=1)
    first, second = order[:, -1], order[:, -2] if words > 1 else order[:, -1]
    rows = np.arange(counts - 1)
    best_other = np.where(np.arange(words)[None, :] == first[:, None], second[:, None], first[:, None])
    other_score = prev_word[:-1][rows[:, None], best_other]
    if words == 1:
        other_score = np.full_like(other_score, -np.inf)
    take_other = other_score > entering[1:]
    entering[1:] = np.where(take_other, other_score, entering[1:])
    source[1:] = np.where(take_other, best_other, source[1:])
    take_entering = entering > score
    return np.where(take_entering, entering, score), np.where(take_entering, source, back)


def grammar_path(log_probs: Tensor | np.ndarray, grammar: WordCountGrammar) -> Hypothesis:
    """The best CTC path of one utterance whose output has a word count ``grammar`` allows.

    State per frame: how many words have begun (0..max) and whether the frame is blank or inside word c; a word
    begins when a frame's token is a word after a blank or after another word (a word repeated needs a blank in
    between, as in CTC)."""
    scores = np.asarray(log_probs.detach().cpu() if isinstance(log_probs, Tensor) else log_probs, dtype=np.float64)
    frames, tokens = scores.shape
    if tokens < 2:
        raise InputError("a word-count grammar needs a model with at least one word besides the blank")
    counts = grammar.max_words + 1
    blank = np.full(counts, -np.inf)
    word = np.full((counts, tokens - 1), -np.inf)
    blank_back = np.zeros((frames, counts), dtype=np.int64)  # 0: stayed blank; c >= 1: came from word c
    word_back = np.zeros((frames, counts, tokens - 1), dtype=np.int64)
    for t in range(frames):
        if t == 0:
            blank[0], word[1] = scores[0, 0], scores[0, 1:]
            word_back[0, 1] = _FROM_BLANK
            continue
        best_word = word.argmax(axis=1)
        from_word = word[np.arange(counts), best_word]
        new_blank = np.maximum(blank, from_word) + scores[t, 0]
        blank_back[t] = np.where(from_word > blank, best_word + 1, 0)
        new_word, word_back[t] = _step_words(blank, word)
        blank, word = new_blank, new_word + scores[t, 1:][None, :]
    allowed = np.arange(counts) >= grammar.min_words
    ends = np.where(allowed, np.maximum(blank, word.max(axis=1)), -np.inf)
    if frames == 0 or not np.isfinite(ends.max()):
        return Hypothesis([], [])
    k = int(ends.argmax())
    state = 0 if blank[k] >= word[k].max() else int(word[k].argmax()) + 1  # 0: blank, c: word c (token id)
    ids: list[int] = []
    starts: list[int] = []
    for t in range(frames - 1, 0, -1):
        if state == 0:
            state = int(blank_back[t, k])
            continue
        back = int(word_back[t, k, state - 1])
        if back == _STAY:
            continue
        ids.append(state)
        starts.append(t)
        k -= 1
        state = 0 if back == _FROM_BLANK else back + 1  # word index -> token id
    if state:
        ids.append(state)
        starts.append(0)
    return Hypothesis(ids[::-1], starts[::-1])


def grammar_search(log_probs: list[Tensor], grammar: WordCountGrammar) -> list[Hypothesis]:
    """:func:`grammar_path` of every utterance."""
    return [grammar_path(lp, grammar) for lp in log_probs]
