"""The objective's terms recomputed, and compared with summary.json and the budget."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from solver.case.loader import Case
from solver.check.case_data import (
    CaseData,
)
from solver.check.common import (
    COST_TERMS,
    KNOWN_STATUSES,
    OPTIONAL_TERMS,
    SOLVED,
    Tolerance,
    Violation,
    codes,
    fmt,
)
from solver.check.families import PairsLike, column, layer_sum
from solver.check.plan import (
    Flows,
    Pairs,
)


def cost_terms(case: Case, data: CaseData, pairs: PairsLike,
                flows: Flows, unmet: np.ndarray | None = None) -> dict[str, float]:
    """The objective's terms of README, The model, from the case's costs and the plan.

    With a shortage cost, ``shortage = shortage_cost * sum z`` (``unmet`` is z per demand
    row) and the surplus priced by redundancy is the positive part of built minus demand.
    """
    obj = case.objective
    fixed = float(_nansum(column(pairs, "fixed_cost") * column(pairs, "y")))
    capacity = float(_nansum(column(pairs, "unit_cost") * column(pairs, "k")))
    trade = float(flows.trade_cost @ flows.qty)
    surplus = layer_sum(data, pairs, "k") - data.values("layers", "D", float)
    price = obj.shortage_cost
    if price is not None:
        surplus = np.maximum(surplus, 0.0)
    rc = data.values("layers", "redundancy_cost", float)
    redundancy = obj.redundancy_weight * float(rc @ surplus)
    risk = data.values("partners", "disruption_risk", float)
    partner = data.pair_codes()[0] if isinstance(pairs, Pairs) else \
        codes(data.partner_ids, pairs["partner"])
    risk_p = np.where(partner >= 0, risk[np.maximum(partner, 0)] if len(risk) else 0.0, np.nan)
    value = column(pairs, "unit_value", float) * column(pairs, "q", float)
    risk_term = obj.risk_weight * float(risk_p @ value)
    shortage = float(price or 0.0) * float(unmet.sum() if unmet is not None else 0.0)
    return {"fixed": fixed, "capacity": capacity, "trade": trade, "redundancy": redundancy,
            "risk": risk_term, "shortage": shortage}


def _nansum(values: np.ndarray) -> float:
    """``Series.sum()`` of the values: NaN counted as 0, numpy's sum of the rest."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = np.where(np.isnan(values), 0.0, values)
    return float(values.sum())


def check_budget(case: Case, costs: Mapping[str, float], out: list[Violation],
            tol: Tolerance) -> None:
    """Spending cap: ``fixed + capacity + trade (+ entry) <= objective.budget``.

    Market revenue never counts against the budget (README, Markets outside the coalition).
    """
    budget = case.objective.budget
    if budget is None:
        return
    spent = costs["fixed"] + costs["capacity"] + costs["trade"] + costs.get("entry", 0.0)
    bad, excess = tol.over(spent, budget)
    if bool(bad):
        out.append(Violation("budget", "budget", float(excess),
                             f"budget: fixed + capacity + trade costs are {fmt(spent)}, budget "
                             f"{fmt(budget)} (over by {fmt(float(excess))})"))


def finite_number(x: Any) -> float | None:
    """A finite JSON number as a float; None for anything else (null, text, bool, NaN, +-inf)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def check_status(summary: Mapping[str, Any], pairs: PairsLike, flows: Flows,
                 out: list[Violation]) -> None:
    """A status that means "no plan" (``infeasible``, ``no_solution``, ...) with a plan is a lie.

    The tool writes such a run with every table empty (nothing hosted, built, supplied or
    shipped); tables that hold a plan under such a status were not written by it, and the
    plan is not the verified answer of a solve.
    """
    status = summary.get("status")
    if not isinstance(status, str) or status not in KNOWN_STATUSES or status in SOLVED:
        return  # no status or an unknown one: check_objective says so
    with np.errstate(invalid="ignore"):
        hosts = int(np.count_nonzero((column(pairs, "y") > 0) | (column(pairs, "k") != 0)
                                     | (column(pairs, "q") != 0)))
        ships = int(np.count_nonzero(flows.qty != 0))
    if hosts or ships:
        out.append(Violation("table", "summary.json", float(hosts + ships),
                             f"summary.json: status {status!r} means the run has no plan, but "
                             f"allocation.csv hosts, builds or supplies {hosts} capability "
                             f"pair(s) and flows.csv ships {ships} flow(s): not a plan the "
                             "tool wrote for this status"))


def check_objective(summary: Mapping[str, Any], costs: Mapping[str, float], out: list[Violation],
               tol: Tolerance) -> None:
    """The reported objective and cost terms agree with the recomputed ones."""
    file = "summary.json"
    status = summary.get("status")
    if not isinstance(status, str):
        out.append(Violation("table", file, 1.0, f"{file}: no status"))
        return
    if status not in KNOWN_STATUSES:
        out.append(Violation("table", file, 1.0, f"{file}: status {status!r} is not one the "
                             f"tool writes ({', '.join(sorted(KNOWN_STATUSES))})"))
        return
    if status not in SOLVED:
        return
    written = summary.get("costs")
    if not isinstance(written, Mapping):
        out.append(Violation("table", file, 1.0, f"{file}: status {status} but no costs"))
        written = {}
    for term in COST_TERMS:
        value = finite_number(written.get(term))
        if value is None and term in OPTIONAL_TERMS and term not in written \
                and costs.get(term, 0.0) == 0:
            continue  # a run from before the shortage term, or one without it
        if value is None:
            if written:
                out.append(Violation("table", f"costs.{term}", 1.0,
                                     f"{file}: costs.{term} is missing or not a number"))
            continue
        bad, miss = tol.differ(value, costs.get(term, 0.0))
        if bool(bad):
            out.append(Violation("objective", f"costs.{term}", float(miss),
                                 f"objective: {file} says costs.{term} = {fmt(value)}, recomputed "
                                 f"from the case and the tables {fmt(costs.get(term, 0.0))} "
                                 "(off by "
                                 f"{fmt(float(miss))})"))
    total = float(sum(costs.values()))
    if "recourse" in costs:
        # A two-stage design: the recourse term replaces trade and shortage (README, Shocks).
        total = sum(costs.get(t, 0.0) for t in ("fixed", "capacity", "redundancy", "risk",
                                                "recourse", "market_revenue", "entry"))
        value = finite_number(written.get("recourse"))
        bad, miss = tol.differ(value if value is not None else np.nan, costs["recourse"])
        if value is None or bool(bad):
            out.append(Violation("objective", "costs.recourse", float(np.nan_to_num(miss)),
                                 f"objective: {file} says costs.recourse = {value}, "
                                 f"recomputed from the scenario flows "
                                 f"{fmt(costs['recourse'])}"))
    objective = finite_number(summary.get("objective"))
    if objective is None:
        out.append(Violation("table", "objective", 1.0,
                             f"{file}: status {status} but the objective is missing or not a "
                             "number"))
        return
    bad, miss = tol.differ(objective, total)
    if bool(bad):
        out.append(Violation("objective", "objective", float(miss),
                             f"objective: {file} says {fmt(objective)}, recomputed from the case "
                             f"and the tables {fmt(total)} (off by {fmt(float(miss))})"))
    bound = finite_number(summary.get("bound"))
    if bound is None and summary.get("bound") is not None:
        out.append(Violation("table", "bound", 1.0,
                             f"{file}: the bound {summary.get('bound')!r} is not a finite number"))
    if bound is not None:
        bad, excess = tol.over(bound, objective)
        if bool(bad):
            out.append(Violation("objective", "bound", float(excess),
                                 f"objective: {file}'s bound {fmt(bound)} is above the objective "
                                 f"{fmt(objective)} of a minimisation (by {fmt(float(excess))})"))


# ---------------------------------------------------------------------------------------
