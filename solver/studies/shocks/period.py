"""The plan of one period of a pathway, for the shocks of ``stress`` (README, Pathways).

``stress --period P`` (and ``--scenarios``, ``--sample`` with it) hits period P's plan: the
capacity in service in P (builds in service and the installed base kept), re-routed over
P's routes under P's case (its demand factor and targets). Without ``--period`` a pathway
is shocked in its last period (README, Pathways; :func:`chosen_period`): the capacity the
pathway ends with.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.errors import UsageError

#: A table, or no table.
Frame = TypeVar("Frame", pd.DataFrame, None)


def period_names(case: Case) -> list[str]:
    """The names of a pathway's periods, in order."""
    from solver.case.periods import periods_of

    return [p.name for p in periods_of(case)]


def chosen_period(case: Case, period: str | None) -> str | None:
    """``period``, or a pathway's last period where none is given (None: one period)."""
    from solver.case.periods import uses_pathway

    if period is not None or not uses_pathway(case):
        return period
    names = period_names(case)
    return names[-1] if names else None


def period_of(case: Case, period: str | None, what: str) -> Case:
    """The one-period case that ``what`` stresses: period ``period`` of a pathway, or ``case``.

    Raises :class:`UsageError` (exit 2) for a pathway without ``period`` or with a period it
    does not have (both listing its periods), and for ``period`` on a case without periods.
    The case returned has no installed base nor build rate: its capacity is the plan's.
    """
    from solver.case.periods import period_case, periods_of, uses_pathway

    if not uses_pathway(case):
        if period is not None:
            raise UsageError(f"--period {period}: the case has no periods.csv (it is one "
                             "period); leave --period out")
        return case
    periods = periods_of(case)
    names = [p.name for p in periods]
    if period is None:
        raise UsageError(f"{what} on a pathway case hits the capacity in service in one "
                         f"period: give --period, one of {', '.join(names) or '(one period)'}")
    if str(period) not in names:
        raise UsageError(f"--period {period}: the case's periods are {', '.join(names)}")
    one = period_case(case, periods[names.index(str(period))])
    cap = one.capabilities.assign(existing=0.0, max_build=np.nan)
    return dataclasses.replace(one, capabilities=cap)


def rows_of(frame: Frame, period: str | None) -> Frame:
    """A pathway table's rows of ``period`` without the ``period`` column (else ``frame``)."""
    if frame is None or period is None or "period" not in frame:
        return frame
    rows = frame[frame["period"].astype(str) == str(period)]
    return rows.drop(columns="period").reset_index(drop=True)


def period_result(result: Any, period: str | None) -> Any:
    """A pathway result seen in one period: its allocation and flows of ``period``.

    The objective stays the pathway's discounted total.
    """
    if period is None or "period" not in result.allocation:
        return result  # one period's design already (a run folder's rows of ``period``)
    return dataclasses.replace(result, allocation=rows_of(result.allocation, period),
                               flows=rows_of(result.flows, period))
