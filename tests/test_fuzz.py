"""Reader fuzzing in make test: 2,000 mutated inputs per format (SPHERE, WAV, .PHN, .WRD, .TXT, Kaldi table, ark);
only GatescopeError may escape. The 10^5 run is ``python -m tests.fuzz_readers`` (README, Reliability)."""

from __future__ import annotations

from tests.fuzz_readers import fuzz


def test_mutated_inputs_are_accepted_or_refused_with_gatescope_errors() -> None:
    report = fuzz(2000, seed=1)
    escaped = {name: r["examples"] for name, r in report.items() if r["escaped"]}
    assert not escaped, escaped
    assert all(r["refused"] > 0 for r in report.values())  # the mutations do reach the checks
