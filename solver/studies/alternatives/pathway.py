"""The most different plans of a pathway case (README, Near-optimal alternatives; Pathways).

On a pathway a plan's cost is the discounted total, and its hosting decisions are
``y[p,l,t]``, one per pair and period: the distance between two plans counts the decisions
over (partner, layer, period) in which they differ. A pathway's hosting decision is named
``(partner, "layer@period")`` here, in ``alternatives.csv`` (``gained``, ``lost``) and in
the per-period columns (``suppliers[chips@2030]``).

The pathway model is built and solved anew for every solve (no persistent model): for each
plan, maximise ``t``, the distance to the nearest reference plan (the optimum and the plans
found before), with cost at most ``c* + e |c*|``; then the cheapest pathway at that distance,
verified by the pathway checker like any solve.

``--maximize``/``--minimize KEY`` on a pathway push KEY summed over the periods (the plan's
``participation[US]`` in 2026 plus in 2028 ...), each period's term as the one-period search
defines it over that period's data: first the extreme sum within the cost cap, then the
cheapest pathway that reaches it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pandas as pd
import pyomo.core as pyo

from solver.case.loader import Case
from solver.studies.alternatives.search import (
    Found,
    NothingToChange,
    Optimum,
    SearchOutcome,
    SearchTask,
    cost_cap,
    parse_direction,
)

#: A hosting decision of a pathway: (partner, "layer@period").
Decision = tuple[str, str]


def keyed(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A pathway table with ``column`` named per period (``chips@2030``), ``period`` dropped.

    A one-period table is returned as it is.
    """
    if "period" not in frame:
        return frame
    named = frame[column].astype(str) + "@" + frame["period"].astype(str)
    return frame.drop(columns="period").assign(**{column: named})


def hosted_decisions(allocation: pd.DataFrame) -> set[Decision]:
    """The hosted (partner, "layer@period") decisions of a pathway's allocation table."""
    rows = keyed(allocation, "layer")
    on = rows["hosted"].astype(str).str.lower().isin(["true", "1", "1.0"])
    return set(zip(rows["partner"][on].astype(str), rows["layer"][on].astype(str),
                   strict=True))


def add_search(path: Any, references: list[set[Decision]], cap: float,
               floor: float | None) -> Any:
    """Add the search rows to a built pathway; the distance variable ``alt_t``.

    alt_cap: ``discounted cost <= cap``. alt_distance, for each reference plan r:
    ``t <= sum over y[p,l,t] of (1 - y if r hosts (p,l,t) else y)``; ``t >= floor`` when given.
    """
    m = path.m
    decisions = []
    for t, built in enumerate(path.blocks):
        pairs = built.data.pairs
        name = path.periods[t].name
        for a, var in built.m.y.items():
            decisions.append(((str(pairs["partner"].iat[a]),
                               f"{pairs['layer'].iat[a]}@{name}"), var))
    m.alt_cap = pyo.Constraint(expr=m.objective.expr <= cap)
    m.alt_t = pyo.Var(bounds=(floor, len(decisions)))
    m.alt_distance = pyo.ConstraintList()
    for ref in references:
        m.alt_distance.add(m.alt_t <= sum((1 - var) if key in ref else var
                                          for key, var in decisions))
    return m.alt_t


def directions_by_period(cases: list[Case], datas: list[Any], key: str) -> list[Any]:
    """KEY's one-period direction (:func:`parse_direction`) over each period's data.

    None in a period where KEY names nothing a plan can change (no pair, no market demand).
    Raises :class:`UsageError` as :func:`parse_direction` does, or when no period has
    anything a plan can change.
    """
    directions: list[Any] = []
    refused: NothingToChange | None = None
    for case, data in zip(cases, datas, strict=True):
        try:
            directions.append(parse_direction(case, data, key))
        except NothingToChange as error:
            refused = error  # nothing to change in this period; another may have
            directions.append(None)
    if refused is not None and all(d is None for d in directions):
        raise refused
    return directions


def check_key(case: Case, key: str) -> None:
    """Refuse KEY before anything is built or solved, as :func:`directions_by_period` does."""
    from solver.case.periods import period_cases
    from solver.model.data import model_data

    cases = [c for _, c in period_cases(case)]
    directions_by_period(cases, [model_data(c) for c in cases], key)


def period_directions(path: Any, key: str) -> list[Any]:
    """KEY in each period of a built pathway, as linear expressions (None: nothing there).

    Each period's term is its direction (:func:`directions_by_period`) over that period's
    variables.
    """
    terms: list[Any] = []
    directions = directions_by_period(path.cases, [b.data for b in path.blocks], key)
    for direction, built in zip(directions, path.blocks, strict=True):
        if direction is None:
            terms.append(None)
            continue
        var = getattr(built.m, direction.variable)
        terms.append(sum(c * var[a] for a, c in zip(direction.pairs, direction.coefs,
                                                   strict=True)))
    return terms


def direction_sum(path: Any, key: str) -> Any:
    """KEY summed over the periods of a built pathway (:func:`period_directions`)."""
    return sum(term for term in period_directions(path, key) if term is not None)


def add_direction(path: Any, key: str, cap: float, lower: float | None,
                  upper: float | None) -> Any:
    """Add to a built pathway the cost cap and ``alt_x`` = KEY summed over periods, bounded.

    alt_cap: ``discounted cost <= cap``; alt_value: ``alt_x = sum over periods of KEY``;
    ``lower <= alt_x <= upper`` where given.
    """
    m = path.m
    m.alt_cap = pyo.Constraint(expr=m.objective.expr <= cap)
    m.alt_x = pyo.Var(bounds=(lower, upper))
    m.alt_value = pyo.Constraint(expr=m.alt_x == direction_sum(path, key))
    return m.alt_x


class PathwaySearch:
    """The near-optimal searches of a pathway case, each solve on a pathway built anew.

    The interface of :class:`~solver.studies.alternatives.search.AlternativeSolver` that
    :func:`~solver.studies.alternatives.alternatives.alternatives` uses in its own process.
    """

    def __init__(self, case: Case, *, key: str | None = None) -> None:
        if key is not None:  # the ids, before anything is built or solved
            check_key(case, key)
        self.case = case
        self.optimum: Optimum | None = None
        self._hosts: set[Decision] = set()

    def solve_optimum(self) -> Any:
        """The least-cost pathway, as a verified Result (raises as :func:`solver.solve` does)."""
        from solver.solve_pathway import solve_pathway

        result = solve_pathway(self.case, raise_on_failure=False)
        self.optimum = Optimum(cost=float(result.objective or 0.0), values={})
        self._hosts = hosted_decisions(result.allocation)
        return result

    def search(self, task: SearchTask, outcome: SearchOutcome) -> Iterator[Found]:
        """Yield the most different plans of ``task`` as they are found.

        ``outcome.stopped`` says why the search ended before ``task.count`` plans.
        """
        from solver.solve_pathway import solve_pathway

        if self.optimum is None:
            raise RuntimeError("the optimum is needed before a search")
        if task.sense:
            yield from self._push(task, outcome)
            return
        cap = cost_cap(self.optimum.cost, task.slack)
        references = [self._hosts, *(set(hosts) for hosts in task.earlier)]
        for number in range(len(task.earlier) + 1, task.count + 1):
            started = time.perf_counter()
            far, stopped = self._farthest(references, cap)
            if stopped or far < 1:
                outcome.stopped = stopped or (
                    "no other plan within the slack" if number == 1 else
                    "no plan within the slack differs from every one found")
                return
            result = solve_pathway(self.case, raise_on_failure=False, explain=False,
                                   extend=partial(add_search, references=list(references),
                                                  cap=cap, floor=far - 0.5))
            result.summary["alternative"] = {
                "slack": task.slack, "optimum": self.optimum.cost, "cost_cap": cap,
                "search": "most different", "distance": far}
            yield Found(task=task, number=number, result=result, distance=far,
                        seconds=time.perf_counter() - started)
            references.append(hosted_decisions(result.allocation))

    def _push(self, task: SearchTask, outcome: SearchOutcome) -> Iterator[Found]:
        """The extreme of ``task.key`` within the cap, then the cheapest pathway there."""
        from solver.errors import InfeasibleError, NoSolutionError
        from solver.model.pathway import build_pathway
        from solver.solve_pathway import solve_pathway

        assert self.optimum is not None and task.key is not None
        started = time.perf_counter()
        cap = cost_cap(self.optimum.cost, task.slack)
        path = build_pathway(self.case)
        x = add_direction(path, task.key, cap, None, None)
        report = self._extreme(path, x, pyo.maximize if task.sense > 0 else pyo.minimize)
        if not report.has_solution:
            outcome.stopped = f"no plan found ({report.status})"
            return
        best = float(report.values["x"][0])
        give = 1e-6 * max(abs(best), 1.0)
        bounds = (best - give, None) if task.sense > 0 else (None, best + give)
        try:
            result = solve_pathway(self.case, raise_on_failure=False, explain=False,
                                   extend=lambda p: add_direction(p, str(task.key), cap,
                                                                  *bounds))
        except (InfeasibleError, NoSolutionError):
            outcome.stopped = "no plan found at that value"
            return
        distance = len(hosted_decisions(result.allocation) ^ self._hosts)
        result.summary["alternative"] = {
            "slack": task.slack, "optimum": self.optimum.cost, "cost_cap": cap,
            "search": f"{'maximize' if task.sense > 0 else 'minimize'} {task.key}",
            "distance": distance, "value": best}
        yield Found(task=task, number=1, result=result, distance=distance,
                    seconds=time.perf_counter() - started)

    def _extreme(self, path: Any, var: Any, sense: Any) -> Any:
        """Solve ``path`` for the extreme of ``var`` (read back as ``x``) in place of its cost.

        Raises as :func:`~solver.highs.runner.raise_if_stopped` does on a signal.
        """
        from solver.highs.runner import HighsRunner, raise_if_stopped

        path.m.objective.deactivate()
        path.m.alt_objective = pyo.Objective(expr=var, sense=sense)
        opts = self.case.solver
        runner = HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                             threads=opts.threads)
        runner.set_model(path.m, {"x": var})
        report = runner.solve(None)
        raise_if_stopped(report)
        return report

    def _farthest(self, references: list[set[Decision]], cap: float) -> tuple[int, str]:
        """The largest distance to the nearest reference within the cap; why not, if none."""
        from solver.model.pathway import build_pathway

        path = build_pathway(self.case)
        t = add_search(path, references, cap, None)
        report = self._extreme(path, t, pyo.maximize)
        if not report.has_solution:
            return 0, f"no plan found ({report.status})"
        far = round(float(report.values["x"][0]))
        if far < 1 and str(report.status) != "optimal":
            return 0, (f"HiGHS stopped ({report.status}) before it found a plan that "
                       "differs; raise --time-limit")
        return far, ""
