"""The separation MIP against every group enumerated, on a random game of 6 members.

The game of 8 members (254 groups) runs in ``make test-slow``; those of 9 and 10 members
(511 and 1,023 groups, a MIP each) run in ``make bench`` (:mod:`tests.bench.game_separation`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.game_cases import compare


@pytest.mark.slow
@pytest.mark.parametrize("n", [6, pytest.param(8, marks=pytest.mark.exhaustive)])
def test_separation_equals_enumeration(tmp_path: Path, n: int) -> None:
    out = compare(tmp_path / "case", seed=0, n=n)
    assert out["groups"] == 2 ** n - 2
    assert out["rows_needed"] < out["groups"]  # row generation needs few of the groups
