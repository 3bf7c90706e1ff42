"""Honest progress (solver.studies.engine.progress): units weighed by their expected cost."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest

from solver.studies.engine.progress import BarProgress, LineProgress


@dataclass
class Unit:
    index: int
    label: str = "unit"


@dataclass
class Outcome:
    point: Unit
    row: dict[str, Any] = field(default_factory=dict)
    failed: bool = False


def finished(index: int, seconds: float) -> Outcome:
    return Outcome(Unit(index), {"status": "optimal", "objective": 1.0, "seconds": seconds})


def test_the_time_left_says_estimating_until_a_unit_has_finished() -> None:
    stream = io.StringIO()
    bar = BarProgress(stream, tick=3600)
    bar.start(4, 0)
    bar.finish()
    assert "estimating left" in stream.getvalue()
    lines = io.StringIO()
    line = LineProgress(lines, study="share", unit="group")
    line.start(3, 0)
    line.point(finished(0, 1.0))
    assert "estimating" not in lines.getvalue()
    assert " left" in lines.getvalue().splitlines()[-1]


def test_units_are_weighed_by_kind_and_a_seen_kind_costs_what_it_cost() -> None:
    progress = LineProgress(io.StringIO(), study="share", unit="group")
    progress.start(4, 0)
    # Two groups of one player, two of four: a four-player group is expected to cost four
    # times a one-player group until one has been seen.
    progress.expect({0: 1.0, 1: 1.0, 2: 4.0, 3: 4.0})
    c = progress.counts
    progress.point(finished(0, 1.0))
    c.started -= 10.0  # as if 10 s had passed: the estimate scales the work left by it
    left = c.left_seconds()
    assert left is not None
    # Work left 1 + 4 + 4 = 9 times the work done (1 s), so 9 x the elapsed time.
    assert left == pytest.approx(90.0, abs=0.5)
    progress.point(finished(2, 20.0))  # a four-player group cost 20 s, not 4
    left = c.left_seconds()
    assert left is not None
    # Work left: one group of one (1 s) and one of four (20 s) against 21 s done.
    assert left == pytest.approx(10.0 * 21.0 / 21.0, abs=0.5)


def test_without_kinds_the_estimate_counts_units_and_is_never_negative() -> None:
    progress = LineProgress(io.StringIO())
    progress.start(2, 0)
    c = progress.counts
    progress.point(finished(0, 2.0))
    c.started -= 10.0
    assert c.left_seconds() == pytest.approx(10.0, abs=0.5)
    progress.point(finished(1, 2.0))
    progress.point(finished(2, 2.0))  # more units than announced: nothing left, not < 0
    assert c.left_seconds() == 0.0
