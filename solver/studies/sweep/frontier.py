"""Trade-off curves: the least cost of a plan against one requirement (epsilon-constraint).

The requirement KEY (``layers.max_share``, ``layers[chips].resilience``, ..., or with markets
a floor on ``reach[MARKET]`` or ``reach``) is held at a value while cost is minimised; the
curve runs from the loose end (where the requirement does not bind: ``max_share`` 1,
``resilience`` 0) to the tightest value at which the case still has a plan. That value is
found first, by bisection between the loose end and the requirement's limit (``max_share``
towards 0, ``resilience`` towards 1), to within ``tol``. One persistent model serves every
solve: only the requirement's parameter changes (for a reach, the bound of the near-optimal
model's direction: :mod:`solver.studies.sweep.reach`).

Tighter requirements leave fewer plans, so at true optima the cost never falls as the
requirement tightens; with a relative MIP gap it may wobble by up to that gap.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.overrides import OverrideError, make_override
from solver.errors import InfeasibleError, UsageError
from solver.market_tables import MARKET_TERMS
from solver.report.readback import read_csv
from solver.report.writing import write_csv, write_unit

log = logging.getLogger(__name__)

#: Statuses of a probe without a plan that settle it: none exists, or the value is invalid.
DECIDED = ("infeasible", "invalid")

@dataclass(frozen=True)
class Requirement:
    """How a requirement column tightens: direction, loose end and limit."""

    tightens: int
    """+1 if larger values are tighter (resilience), -1 if smaller are (max_share)."""
    loose: float
    """The value at which the requirement does not bind."""
    limit: float
    """The tightest value the column can take (it may itself be invalid, like 0)."""


#: Requirements a frontier can trade off, by ``TABLE.COLUMN``.
REQUIREMENTS: dict[str, Requirement] = {
    "layers.max_share": Requirement(-1, 1.0, 0.0),
    "layers.resilience": Requirement(+1, 0.0, 1.0),
    "layers.min_supplier_share": Requirement(+1, 0.0, 1.0),
    "demand.max_dependency": Requirement(-1, 1.0, 0.0),
    "demand.min_domestic": Requirement(+1, 0.0, 1.0),
    "partners.min_participation": Requirement(+1, 0.0, 1.0),
    "partners.max_participation": Requirement(-1, 1.0, 0.0),
}

#: ``reach[MARKET]`` and ``reach``: a floor on the coalition's share of markets' demand
#: (:mod:`solver.studies.sweep.reach`), loose at 0.
REACH = Requirement(+1, 0.0, 1.0)

CURVE_COLUMNS = ("point", "status", "reason", "objective", "bound", "gap", "cost_fixed",
                 "cost_capacity", "cost_trade", "cost_redundancy", "cost_risk", "cost_shortage",
                 "verified", "seconds", "tightest")


def requirement(key: str) -> Requirement:
    """The :class:`Requirement` of an override key; :class:`UsageError` if it is none."""
    try:
        override = make_override(key, "=", 0.5)
    except OverrideError as exc:
        raise UsageError(f"--trade-off {key!r}: {exc}") from None
    column = f"{override.table}.{override.column}"
    if column not in REQUIREMENTS:
        raise UsageError(f"--trade-off {key!r}: not a requirement with a loose and a tight "
                         f"end; choose one of {', '.join(REQUIREMENTS)} (a row index such "
                         "as layers[chips].max_share is allowed)")
    return REQUIREMENTS[column]


@dataclass
class FrontierRun:
    """The probes of a frontier: every solve, in order, and the tightest feasible value."""

    key: str
    req: Requirement
    solver: Any
    probes: list[dict[str, Any]]
    progress: Any = None

    def solve(self, value: float, stage: str) -> dict[str, Any]:
        """Solve the case with the requirement at ``value``; record and return its row."""
        from solver.studies.sweep.grid import Point

        value = float(value)
        point = Point(index=len(self.probes), overrides=(f"{self.key}={value!r}",),
                      values=((self.key, value),))
        row = self.solver.run(point).row
        row["stage"] = stage
        self.probes.append(row)
        if self.progress is not None:
            cost = row.get("objective")
            reason = row.get("reason")
            what = f"{row['status']}, cost {cost:,.6g}" if cost is not None and \
                not pd.isna(cost) else row["status"]
            if isinstance(reason, str) and reason:  # why a value is invalid, or infeasible
                what += f" ({_first_reason(reason)})"
            self.progress.step(f"{stage} {self.key}={value:g}: {what}")
        return row


def frontier(
    case: Case,
    key: str,
    points: int = 10,
    *,
    tol: float = 1e-3,
    loose: float | None = None,
    limit: float | None = None,
    out: str | Path | None = None,
    plots: bool = True,
    progress: Any = None,
) -> pd.DataFrame:
    """The cost-versus-requirement curve of ``key``, from ``loose`` to the tightest value.

    Returns ``points`` rows (``frontier.csv``), from loose to tight; the last is the
    tightest feasible value, found by bisection to within ``tol`` (a value ``tol`` tighter
    has no plan, unless the limit itself has one). ``loose`` and ``limit`` replace the
    requirement's natural ends. With ``out`` the curve, every probe of the search
    (``frontier_search.csv``), the case's unit (``frontier.json``) and ``frontier.png``
    are written there. ``progress`` (a
    :class:`solver.studies.engine.steps.Steps`) is told of each solve.
    Raises :class:`InfeasibleError` if the case has no plan even at the loose end.
    """
    from solver.studies.sweep.reach import is_reach

    reach = is_reach(key)
    req = REACH if reach else requirement(key)
    if points < 2:
        raise UsageError("a frontier needs at least 2 points")
    if tol <= 0:
        raise UsageError("the bisection tolerance must be positive")
    lo = req.loose if loose is None else float(loose)
    hi = req.limit if limit is None else float(limit)
    if (hi - lo) * req.tightens <= 0:
        raise UsageError(f"{key}: the tight end {hi:g} is not tighter than the loose end "
                         f"{lo:g}")
    solver = _solver(case, key, lo, reach)
    run = FrontierRun(key=key, req=req, solver=solver, probes=[], progress=progress)
    if progress is not None:
        # At most: both ends, the bisection's halvings, then the curve's points.
        halvings = max(math.ceil(math.log2(max(abs(hi - lo) / tol, 1.0))), 0)
        progress.start("frontier", 2 + halvings + points)
    tightest = _tightest(run, lo, hi, tol)
    # Nothing but the loose end has a plan: the curve is that one point.
    values = np.linspace(lo, tightest, points) if tightest != lo else np.array([lo])
    rows = []
    for i, value in enumerate(values):
        value = float(f"{value:.12g}")
        row = run.solve(value, "curve")
        rows.append({**row, "point": i, key: value, "tightest": i == len(values) - 1})
    if progress is not None:
        progress.finish()
    columns = ["point", key, *CURVE_COLUMNS[1:]]
    if "cost_existing" in rows[0]:  # a pathway's installed base (README, Pathways)
        columns.insert(columns.index("cost_trade"), "cost_existing")
    markets = [c for c in (f"cost_{t}" for t in MARKET_TERMS) if any(c in r for r in rows)]
    for c in markets:  # a pathway's markets, discounted (README, Markets outside the coalition)
        columns.insert(columns.index("cost_shortage") + 1 + markets.index(c), c)
    curve = pd.DataFrame(rows).reindex(columns=columns)
    search = pd.DataFrame(run.probes).reindex(
        columns=["stage", key, "status", "reason", "objective", "seconds"])
    search.insert(0, "probe", range(len(search)))
    curve.attrs["probes"] = search
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(folder / "frontier.csv", curve)
        write_csv(folder / "frontier_search.csv", search)
        write_unit(folder / "frontier.json", case.unit)
        if plots:
            from solver.report.plots import frontier_plot

            frontier_plot(curve, key, tightest, req.tightens, folder / "frontier.png",
                          unit=case.unit)
    return curve


def _solver(case: Case, key: str, loose: float, reach: bool) -> Any:
    """The persistent solver of the frontier's values: a reach floor's, or a column's."""
    if reach:
        from solver.studies.sweep.reach import reach_solver

        return reach_solver(case, key)
    from solver.studies.sweep.grid import check_keys, mutable_columns, parse_vary
    from solver.studies.sweep.point_solver import PointSolver, Settings

    axis = parse_vary(f"{key}={loose!r}")
    check_keys(case, [axis], "--trade-off")
    return PointSolver(case, Settings(mutable=mutable_columns([axis])))


def _first_reason(reason: str, width: int = 100) -> str:
    """The first of a probe's reasons, without its point number, for one progress line."""
    import re

    parts = [re.sub(r"^point \d+: ", "", p) for p in reason.split("; point ")]
    first = parts[0] if len(parts[0]) <= width else parts[0][:width - 3] + "..."
    return first + (f"; {len(parts) - 1} more in frontier_search.csv" if len(parts) > 1 else "")


def _feasible(row: dict[str, Any]) -> bool:
    return row.get("objective") is not None and not pd.isna(row["objective"])


def _tightest(run: FrontierRun, loose: float, limit: float, tol: float) -> float:
    """Bisection: the tightest value with a plan, between ``loose`` and ``limit``."""
    first = run.solve(loose, "loose end")
    if not _feasible(first):
        raise InfeasibleError(f"the case has no plan even at {run.key}={loose:g} "
                              f"({first['status']}: {first['reason']}); "
                              "run `coalition solve` on it for an explanation")
    end = run.solve(limit, "limit")
    if _feasible(end):
        return limit
    good, bad = loose, limit
    while abs(bad - good) > tol:
        mid = float(f"{(good + bad) / 2:.12g}")
        if mid in (good, bad):
            break
        probe = run.solve(mid, "bisection")
        if _feasible(probe):
            good = mid
        else:
            if probe["status"] not in DECIDED:
                log.warning("%s=%g: %s without a plan; the bisection takes it as "
                            "infeasible", run.key, mid, probe["status"])
            bad = mid
    return good


def undecided(curve: pd.DataFrame, key: str) -> list[float]:
    """Probe values of a frontier that had no plan but were not proven infeasible.

    A limit (``--time-limit``) stopped them; the bisection took them as infeasible, so the
    tightest value found may not be the tightest there is. A longer limit decides them.
    """
    probes = curve.attrs.get("probes")
    if probes is None or probes.empty:
        return []
    failed = probes["objective"].isna() & ~probes["status"].isin(DECIDED)
    return [float(v) for v in probes.loc[failed, key]]


def search_table(out: str | Path) -> pd.DataFrame:
    """The probes of a written frontier (``frontier_search.csv``)."""
    return read_csv(Path(out) / "frontier_search.csv")
