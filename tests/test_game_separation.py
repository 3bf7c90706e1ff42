"""The separation MIP against every group enumerated, on a random game of 8 members.

The cases of 9 and 10 members (511 and 1,023 groups, a MIP each) run in ``make bench``
(:mod:`tests.bench.game_separation`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.game_cases import compare


@pytest.mark.slow
def test_separation_equals_enumeration_on_8_members(tmp_path: Path) -> None:
    out = compare(tmp_path / "case", seed=0, n=8)
    assert out["groups"] == 254
    assert out["rows_needed"] < out["groups"]  # row generation needs few of the groups
