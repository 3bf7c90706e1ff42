"""What a case with markets outside the coalition (markets.csv) may not be used for yet.

README, Markets outside the coalition: ``coalition solve`` (one period, or a pathway: every
period has its markets, with that period's data after targets.csv, and their revenue and
entry costs count per period, discounted; scenarios re-routed over the plan, with or
without inputs.csv, without a two-stage design), ``check``, ``explain``, ``report``,
``export``, ``stress``, ``alternatives``, ``frontier``, ``sweep`` and ``sensitivity`` take
markets; the commands below refuse them by name rather than answer without them.
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
    """A solve with markets: no two-stage design (UsageError: exit 2).

    One period or a pathway. Scenarios are re-routed over the plan (members served first,
    then markets; with inputs.csv goods sent to markets need their inputs); a design against
    them (``design = "expected"`` or ``"cvar"``) is not yet: its recourse is one cost per
    scenario, and in a disruption members come before markets by a stage
    (lexicographically), which no single price of members' unmet demand against lost revenue
    reproduces.
    """
    from solver.case.scenarios import has_scenarios

    if not getattr(case, "has_markets", False):
        return
    design = case.scenario_options.design
    if has_scenarios(case.scenarios) and design != "none":
        raise UsageError(f"markets.csv with a two-stage design (design = {design!r}) is not "
                         "yet supported: solve with design \"none\" (each scenario is then "
                         "re-routed over the plan, members first, then markets)")
