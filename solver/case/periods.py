"""The periods of a pathway case and each period's own case (README, Pathways).

A pathway case (periods.csv) is solved as one model over its periods; each period holds every
family of README, The model with that period's data: the final demand times the period's
``demand_factor``, then the rows of targets.csv for the period, in file order, applied as
``--set`` applies overrides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from solver.errors import CaseError, Problem

#: A case (:class:`solver.case.loader.Case`; not imported, which imports this module).
Case = Any

#: The columns of capabilities.csv that only a case with several periods uses.
PATHWAY_ONLY = ("lead_time", "lifetime", "existing_until")


def uses_pathway(case: Case) -> bool:
    """Whether ``case`` needs the pathway model: periods.csv, an installed base or build rates."""
    cap = case.capabilities
    return case.is_pathway or ("existing" in cap and bool((cap["existing"] > 0).any())) \
        or ("max_build" in cap and bool(cap["max_build"].notna().any()))


def unused_columns(case: Case) -> list[str]:
    """The columns of capabilities.csv a case without periods.csv sets but cannot use."""
    if case.is_pathway:
        return []
    cap = case.capabilities
    return [name for name in PATHWAY_ONLY if name in cap and cap[name].notna().any()
            and not (name == "lead_time" and bool((cap[name] == 0).all()))]


def refuse_pathway(case: Case, what: str,
                   why: str = "`coalition solve` and `coalition explain` solve the pathway",
                   ) -> None:
    """Refuse ``what`` on a pathway case with a UsageError (exit 2) that says so, and ``why``.

    Never a silent one-period answer (README, Pathways).
    """
    if uses_pathway(case):
        from solver.errors import UsageError

        raise UsageError(f"{what} on a pathway case (periods.csv, or capabilities.csv's existing "
                         f"or max_build) is not yet supported: {why}")


@dataclass(frozen=True)
class Period:
    """One planning period: its key, first year, length, demand factor and cost weight."""

    name: str
    year: int
    years: float
    demand_factor: float
    weight: float
    """w_t = years_t (1 + r)^-(year_t - year_first): what one unit of annual cost counts for."""


def periods_of(case: Case) -> list[Period]:
    """The periods of ``case`` in order, with their discounted weights.

    A case without periods.csv has one period (named ``""``, weight 1).
    """
    frame = case.periods
    if frame is None or frame.empty:
        return [Period(name="", year=0, years=1.0, demand_factor=1.0, weight=1.0)]
    rate = case.objective.discount_rate
    first = int(frame["year"].iloc[0])
    return [Period(name=str(p), year=int(y), years=float(n), demand_factor=float(f),
                   weight=float(n) * (1.0 + rate) ** -(int(y) - first))
            for p, y, n, f in zip(frame["period"], frame["year"], frame["years"],
                                  frame["demand_factor"], strict=True)]


def period_case(case: Case, period: Period, lines: Sequence[int] | None = None) -> Case:
    """The one-period case of ``period``: demand times its factor, then its targets.

    The result has no periods.csv nor targets.csv. Every target that names nothing or
    does not fit is tried, then :class:`CaseError` names each: targets.csv, its line (from
    ``lines``, one per row of targets.csv, if given) and the column ``set``. A case with a
    ``period_group`` (a group of the coalition game) is then restricted to that group.
    """
    one = _with_targets(case, period, lines)
    if case.period_group is None:
        return one
    return replace(case.period_group(one), period_group=None)


def _with_targets(case: Case, period: Period, lines: Sequence[int] | None) -> Case:
    from solver.case.overrides import OverrideError, parse_assignment

    one = replace(case, periods=None, targets=None)
    one.__dict__.pop("demand", None)
    if period.demand_factor != 1.0:
        if case.demand_table is not None:
            demand = case.demand_table.copy()
            demand["demand"] = demand["demand"] * period.demand_factor
            one = replace(one, demand_table=demand)
        else:
            layers = case.layers.copy()
            layers["demand"] = layers["demand"] * period.demand_factor
            one = replace(one, layers=layers)
        one.__dict__.pop("demand", None)
    targets = case.targets
    if targets is None or targets.empty:
        return one
    rows = targets.reset_index(drop=True)
    problems: list[Problem] = []
    for i in rows.index[rows["period"].astype(str) == period.name].tolist():
        if not str(rows.at[i, "set"]).strip():
            continue  # targets.csv's own check names the empty cell
        where = Problem("targets.csv", "", line=int(lines[i]) if lines is not None else i + 2,
                        column="set",
                        value=str(rows.at[i, "set"]))
        try:
            one = one.with_overrides([parse_assignment(str(rows.at[i, "set"]))],
                                     source="targets.csv")
        except OverrideError as exc:
            problems.append(replace(where, message=str(exc)))
        except CaseError as exc:  # the row is left out, and the rows after it still tried
            problems += [replace(where, message=f"period {period.name}: {p.message}")
                         for p in exc.problems]
    if problems:
        raise CaseError(problems)
    return replace(one, overrides=case.overrides)


def period_cases(case: Case) -> list[tuple[Period, Case]]:
    """Every period of a pathway case with its own case (:func:`period_case`)."""
    return [(period, period_case(case, period)) for period in periods_of(case)]


def target_problems(case: Case, lines: Sequence[int] | None = None) -> list[Problem]:
    """What targets.csv's rows say that names nothing, applied period by period.

    ``lines`` are the file's line of each row of targets.csv (default: one row a line).
    """
    if not case.is_pathway or case.targets is None or case.targets.empty:
        return []
    out: list[Problem] = []
    for period in periods_of(case):
        try:
            period_case(case, period, lines)
        except CaseError as exc:
            out.extend(exc.problems)
    return out
