"""A frontier over a market reach: the least cost of a plan that holds ``reach[M] >= r``.

``coalition frontier --trade-off reach[MARKET]``: ``reach[MARKET]`` (the coalition's
share of the market's demand, over its layers) and ``reach`` (of every market's) are not
columns of a table but linear quantities of the plan: the floor is the bound of the
direction ``X`` of the near-optimal search model (:mod:`solver.model.near_optimal`), held by
one persistent model, with no cost cap, while cost is minimised. Every plan is checked by
the independent checker.
"""

from __future__ import annotations

import time
from typing import Any

from solver.case.loader import Case
from solver.errors import UsageError
from solver.studies.sweep.grid import Point
from solver.studies.sweep.outcome import PointOutcome, failed_outcome, solved_row


def is_reach(key: str) -> bool:
    """Whether a frontier key is ``reach`` or ``reach[MARKET]`` (not a table's column)."""
    return "".join(key.split()).split("[")[0] == "reach"


class ReachSolver:
    """Solves a frontier's values of ``reach[M]`` one after another on one search model."""

    def __init__(self, case: Case, key: str) -> None:
        from solver.studies.alternatives.search import AlternativeSolver, key_parts

        try:
            key_parts(key)
        except UsageError as exc:
            raise UsageError(f"--trade-off {exc}") from None
        self.key = key
        self.search = AlternativeSolver(case, slots=1, key=key)

    def run(self, point: Point) -> PointOutcome:
        """The cheapest plan whose reach is at least the point's value (a row either way)."""
        start = time.perf_counter()
        value = float(point.values[0][1])
        if not 0.0 <= value <= 1.0:
            return failed_outcome(point, "invalid", f"{self.key} {value:g}: a share of "
                                  "demand must be from 0 to 1", start)
        result = self.search.cheapest_with(value)
        row = solved_row(point, result, start)
        row["seconds"] = time.perf_counter() - start
        return PointOutcome(point=point, row=row)


def reach_solver(case: Case, key: str) -> Any:
    """The frontier's solver for a reach key (see :class:`ReachSolver`)."""
    return ReachSolver(case, "".join(key.split()))
