"""A frontier over a market reach: the least cost of a plan that holds ``reach[M] >= r``.

``coalition frontier --trade-off reach[MARKET]``: ``reach[MARKET]`` (the coalition's
share of the market's demand, over its layers) and ``reach`` (of every market's) are not
columns of a table but linear quantities of the plan: the floor is the bound of the
direction ``X`` of the near-optimal search model (:mod:`solver.model.near_optimal`), held by
one persistent model, with no cost cap, while cost is minimised. Every plan is checked by
the independent checker.

On a pathway the floor holds in every period (``reach[M]`` of each period's market rows at
least the value; a period where the market has no demand has no floor), and the pathway is
built and solved anew at each value, its cost the discounted total
(:class:`PathwayReachSolver`).
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


def floor_of(point: Point, key: str, start: float) -> tuple[float, PointOutcome | None]:
    """The point's reach floor, and its ``invalid`` outcome unless it is from 0 to 1."""
    value = float(point.values[0][1])
    if 0.0 <= value <= 1.0:
        return value, None
    return value, failed_outcome(point, "invalid", f"{key} {value:g}: a share of demand must "
                                 "be from 0 to 1", start)


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
        value, invalid = floor_of(point, self.key, start)
        if invalid is not None:
            return invalid
        result = self.search.cheapest_with(value)
        row = solved_row(point, result, start)
        row["seconds"] = time.perf_counter() - start
        return PointOutcome(point=point, row=row)


class PathwayReachSolver:
    """A frontier's values of ``reach[M]`` on a pathway: the floor in every period."""

    def __init__(self, case: Case, key: str) -> None:
        from solver.studies.alternatives.pathway import check_key
        from solver.studies.alternatives.search import key_parts

        try:
            key_parts(key)
            check_key(case, key)  # the ids, before any point is built
        except UsageError as exc:
            raise UsageError(f"--trade-off {exc}") from None
        self.case = case
        self.key = key

    def run(self, point: Point) -> PointOutcome:
        """The cheapest pathway whose reach is at least the value in every period."""
        from solver.studies.sweep.pathway_point import solve_pathway_point

        start = time.perf_counter()
        value, invalid = floor_of(point, self.key, start)
        if invalid is not None:
            return invalid
        return solve_pathway_point(point, self.case, start, lambda _result: {},
                                   extend=lambda path: add_reach_floors(path, self.key, value))


def add_reach_floors(path: Any, key: str, floor: float) -> None:
    """``reach_floor``: KEY of each period of a built pathway at least ``floor``."""
    import pyomo.core as pyo

    from solver.studies.alternatives.pathway import period_directions

    path.m.reach_floor = pyo.ConstraintList()
    for term in period_directions(path, key):
        if term is not None:
            path.m.reach_floor.add(term >= floor)


def reach_solver(case: Case, key: str) -> Any:
    """The frontier's solver for a reach key (on a pathway, :class:`PathwayReachSolver`)."""
    from solver.case.periods import uses_pathway

    key = "".join(key.split())
    return PathwayReachSolver(case, key) if uses_pathway(case) else ReachSolver(case, key)
