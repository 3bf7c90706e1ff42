"""What a case with markets outside the coalition (markets.csv) may not be used for yet.

README, Markets outside the coalition: ``coalition solve`` (one period, without scenarios),
``check``, ``explain``, ``report`` and ``export`` take markets; the commands below refuse them
by name rather than answer without them.
"""

from __future__ import annotations

from typing import Any

from solver.errors import UsageError


def refuse_markets(case: Any, what: str) -> None:
    """Refuse ``what`` on a case with markets.csv with a UsageError (exit 2) that says so."""
    if getattr(case, "has_markets", False):
        raise UsageError(f"{what} on a case with markets outside the coalition (markets.csv) is "
                         "not yet supported; `coalition solve` plans the markets")


def check_markets_scope(case: Any) -> None:
    """A solve with markets: one period, no disruption scenarios (UsageError: exit 2)."""
    from solver.case.periods import uses_pathway
    from solver.case.scenarios import has_scenarios

    if not getattr(case, "has_markets", False):
        return
    if uses_pathway(case):
        raise UsageError("markets.csv with a pathway (periods.csv, or capabilities.csv's "
                         "existing or max_build) is not yet supported: solve the markets on "
                         "one period")
    if has_scenarios(case.scenarios):
        raise UsageError("markets.csv with scenarios.csv is not yet supported (a disruption "
                         "does not yet serve members first, then markets): solve without the "
                         "scenarios (--set or a model file without [scenarios] file)")
