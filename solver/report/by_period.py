"""A pathway's report views, one panel per period (README, Pathways).

A pathway's tables hold every period's rows (a ``period`` column). The report's views of one
plan (who hosts what, the main flows, participation) are drawn once per period, each under
the period's name, in the order of the tables; a one-period run's view is drawn once, as is.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from solver.report.page import e as _e


def periods_in(frame: pd.DataFrame) -> list[str]:
    """The periods of a run's table in their order; empty for a one-period run."""
    if "period" not in frame:
        return []
    return list(dict.fromkeys(frame["period"].astype(str)))


def by_period(frame: pd.DataFrame, draw: Callable[[pd.DataFrame, str], str]) -> str:
    """``draw(rows, suffix)`` once per period of ``frame``, each panel headed by its period.

    ``rows`` are the period's rows without the ``period`` column; ``suffix`` (``-2030``, or
    empty for a one-period run) keeps the element ids of the panels apart.
    """
    periods = periods_in(frame)
    if not periods:
        return draw(frame, "")
    panels = []
    for period in periods:
        rows = frame[frame["period"].astype(str) == period].drop(columns="period")
        panels.append(f'<div class="period" id="period-{_e(period)}"><h3>{_e(period)}</h3>'
                      f"{draw(rows.reset_index(drop=True), f'-{period}')}</div>")
    return "".join(panels)
