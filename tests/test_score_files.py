"""The scored files of a decode (hyp, ref, per_utt, align, confusions): the confusion tables count exactly the
errors the sclite-style totals count, on any pair of token sequences."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gatescope.asr.decoding.score_files import Confusions, write_score_files
from gatescope.asr.decoding.scoring import ErrorCounts, aligned_pairs, count_errors

tokens = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=8)


def test_confusions_of_one_utterance() -> None:
    confusions = Confusions()
    for ref, hyp in [("four two seven", "two two"), ("four", "two"), ("eight", "eight nine"), ("", "one")]:
        confusions.add(aligned_pairs(ref.split(), hyp.split()))
    assert confusions.substitutions == {("four", "two"): 2}
    assert confusions.deletions == {"seven": 1}
    assert confusions.insertions == {"nine": 1, "one": 1}
    assert confusions.render().splitlines()[:2] == [
        "SUBSTITUTIONS  ref ==> hyp (2 in all, 1 distinct)", "     2  four ==> two"
    ]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(tokens, tokens), max_size=6))
def test_confusions_add_up_to_the_error_counts(utterances: list[tuple[list[str], list[str]]]) -> None:
    total, confusions = ErrorCounts(), Confusions()
    for ref, hyp in utterances:
        total.add(count_errors(ref, hyp))
        pairs = aligned_pairs(ref, hyp)
        confusions.add(pairs)
        assert [r for r, _ in pairs if r is not None] == ref and [h for _, h in pairs if h is not None] == hyp
    assert sum(confusions.substitutions.values()) == total.substitutions
    assert sum(confusions.deletions.values()) == total.deletions
    assert sum(confusions.insertions.values()) == total.insertions


def test_write_score_files(tmp_path: Path) -> None:
    refs = {"u2": ["four"], "u1": ["one", "two"], "u3": ["zero"]}
    hyps = {"u1": ["one", "three"], "u2": []}  # u3 has no hypothesis: scored as empty
    total = write_score_files(tmp_path, refs, hyps)
    assert (total.ref_words, total.substitutions, total.deletions, total.insertions) == (4, 1, 2, 0)
    assert (tmp_path / "hyp.txt").read_text() == "u1 one three\nu2 \nu3 \n"
    assert (tmp_path / "ref.txt").read_text() == "u1 one two\nu2 four\nu3 zero\n"
    per_utt = (tmp_path / "per_utt.txt").read_text().splitlines()
    assert per_utt[1] == "u1 2 1 0 0 50.00" and per_utt[-1] == "TOTAL 4 1 2 0 75.00"
    assert "REF:  one TWO\nHYP:  one THREE\n" in (tmp_path / "align.txt").read_text()
    confusions = (tmp_path / "confusions.txt").read_text()
    assert "     1  two ==> three\n" in confusions and "DELETIONS (2 in all, 2 distinct)\n     1  four\n" in confusions
