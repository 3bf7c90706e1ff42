"""A sweep or frontier point of a pathway case: the whole pathway solved at the point.

README, Pathways. A point's overrides apply to the base case's data, so in every period;
each period's targets.csv rows are applied on top (a target of 2030 still holds in 2030).
The point's cost is the discounted total and its cost terms the discounted terms
(``cost_existing`` too, the installed base kept; with markets ``cost_market_revenue`` and
``cost_entry``). The pathway is built and solved anew at
each point (no persistent model), and verified by the pathway checker like a solve.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from solver.case.loader import Case
from solver.errors import InfeasibleError, NoSolutionError
from solver.market_tables import MARKET_TERMS
from solver.studies.sweep.grid import Point
from solver.studies.sweep.outcome import (
    PointOutcome,
    failed_outcome,
    point_row,
    reason_of,
    with_point,
)

#: The cost terms of a pathway point's row (``cost_<term>``): a sweep's and ``existing``.
PATHWAY_COST_TERMS = ("fixed", "capacity", "existing", "trade", "redundancy", "risk",
                      "shortage")


def solve_pathway_point(point: Point, case: Case, start: float,
                        outputs: Callable[[Any], dict[str, Any]],
                        extend: Callable[[Any], Any] | None = None) -> PointOutcome:
    """Solve the pathway ``case`` (the base with the point's overrides); its row and tables.

    ``outputs`` is the study's hook that adds to a solved point's row; ``extend`` adds rows
    to the built pathway (a frontier's reach floors). A pathway with no plan is a row with
    status ``infeasible``; a limit that stops HiGHS first, ``no_solution``.
    """
    from solver.solve_pathway import solve_pathway

    try:
        result = solve_pathway(case, raise_on_failure=False, explain=False, extend=extend)
    except InfeasibleError as exc:
        return failed_outcome(point, "infeasible", str(exc), start)
    except NoSolutionError as exc:
        return failed_outcome(point, "no_solution", str(exc), start)
    summary = result.summary
    row = point_row(point, result.status, reason_of(result), start)
    row.update(objective=result.objective, bound=result.bound, gap=result.gap,
               verified=result.verified, rebuilt=True,
               solve_seconds=summary["seconds"]["solve"])
    row.update({f"cost_{t}": result.costs.get(t) for t in PATHWAY_COST_TERMS})
    # With markets.csv their own terms too, discounted (README, Markets outside the coalition).
    row.update({f"cost_{t}": result.costs[t] for t in MARKET_TERMS if t in result.costs})
    row.update(outputs(result))
    if not result.verified:
        row["reason"] = "the independent checker rejected the plan: " + "; ".join(
            str(v) for v in result.violations[:3])
    row["seconds"] = time.perf_counter() - start
    return PointOutcome(point=point, row=row, layers=with_point(result.layers, point.index),
                        allocation=with_point(result.allocation, point.index))
