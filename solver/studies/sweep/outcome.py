"""A sweep point's outcome: its ``sweep.csv`` row and tables (shared by the point solvers).

:class:`PointOutcome` and the row helpers of :mod:`solver.studies.sweep.point_solver` and
of a pathway's points (:mod:`solver.studies.sweep.pathway_point`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from solver.market_tables import MARKET_TERMS
from solver.results import COST_TERMS
from solver.studies.sweep.grid import Point

#: The columns of ``sweep.csv`` after the varied keys.
RESULT_COLUMNS = ("status", "reason", "objective", "bound", "gap",
                  *(f"cost_{t}" for t in COST_TERMS),
                  "verified", "rebuilt", "seconds", "solve_seconds", "overrides")

#: Statuses that a resumed sweep computes again (not an answer about the point).
RETRY = {"error"}


@dataclass
class PointOutcome:
    """A solved (or failed) point: its ``sweep.csv`` row and its per-layer and plan tables."""

    point: Point
    row: dict[str, Any]
    layers: pd.DataFrame | None = None
    allocation: pd.DataFrame | None = None

    @property
    def failed(self) -> bool:
        """Whether the point has no plan."""
        return self.row.get("objective") is None or self.row["status"] in RETRY


def with_point(frame: pd.DataFrame, index: int) -> pd.DataFrame:
    """``frame`` with the point's index as its first column, ``point``."""
    out = frame.copy()
    out.insert(0, "point", index)
    return out


def reason_of(result: Any) -> str:
    """Why a solve gave no (proved) plan, for ``sweep.csv``'s ``reason`` (empty if it did)."""
    if result.has_solution:
        if result.status == "time_limit":
            return f"stopped at the time limit with a gap of {result.gap:.2e}" \
                if result.gap is not None else "stopped at the time limit"
        return ""
    return {
        "infeasible": "no plan satisfies every requirement (coalition explain tells which)",
        "no_solution": "no feasible plan found within the limits",
        "unbounded": "the model is unbounded",
    }.get(result.status, f"HiGHS stopped: {result.status}")


@dataclass(frozen=True)
class NoPlan:
    """What :func:`solved_row` reads of a solve that returned no plan: status and gap.

    A re-solve without a plan needs no tables (a Result made by ``finish`` would hold only
    zeros that no row or file shows): its row is its status, the reason the status gives
    and HiGHS's gap.
    """

    status: str
    gap: float | None
    objective: None = None
    bound: None = None
    verified: None = None
    has_solution: bool = False


def point_row(point: Point, status: str, reason: str, start: float) -> dict[str, Any]:
    """A point's ``sweep.csv`` row: its values, ``status`` and ``reason``, no result yet."""
    row: dict[str, Any] = {"point": point.index}
    row.update(dict(point.values))
    row.update(dict.fromkeys(RESULT_COLUMNS))
    row.update(status=status, reason=reason, overrides=point.label,
               seconds=time.perf_counter() - start)
    return row


def solved_row(point: Point, result: Any, start: float) -> dict[str, Any]:
    """A point's ``sweep.csv`` row from its Result: status, objective, gap and cost terms.

    A plan the independent checker rejects says so in ``reason``.
    """
    row = point_row(point, result.status, reason_of(result), start)
    row.update(objective=result.objective,
               bound=result.bound if result.has_solution else None, gap=result.gap,
               verified=result.verified if result.has_solution else None)
    if result.has_solution:
        row.update({f"cost_{t}": result.costs.get(t) for t in COST_TERMS})
        # With markets.csv their own terms too (README, Markets outside the coalition).
        row.update({f"cost_{t}": result.costs[t] for t in MARKET_TERMS if t in result.costs})
    if result.has_solution and not result.verified:
        row["reason"] = "the independent checker rejected the plan: " + "; ".join(
            str(v) for v in result.violations[:3])
    return row


def failed_outcome(point: Point, status: str, reason: str, start: float) -> PointOutcome:
    """The outcome of a point with no plan: its row with ``status`` and ``reason``."""
    return PointOutcome(point=point, row=point_row(point, status, reason, start))
