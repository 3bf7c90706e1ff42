"""The independent check of a pathway (README, Pathways), from the case and the tables alone.

Every period is checked as a one-period plan of its own case (:func:`check_solution`: every
family of README, The model and The stack as a chain). On top of that, from ``builds.csv``
and ``allocation.existing`` (the installed base kept in service):

* ``build_rate``: a build is >= 0 and at most its period's ``max_build``; its service years
  are its vintage's (``year + lead_time``, plus ``lifetime``);
* ``installed_base``: ``0 <= existing_t <= ex_t`` (``existing`` until ``existing_until``);
* ``retirement``: ``existing_t <= existing_{t-1}``;
* ``in_service``: ``capacity_t = existing_t + sum of the builds in service in t``;
* ``budget``: per period, fixed + capacity + existing + trade (+ entry) within
  ``objective.budget``;
* ``objective``: each period's capacity and existing costs, and ``sum_t w_t cost_t``.

With scenarios.csv each period's rows of scenarios.csv are re-routed and held to its plan by
the one-period check. With markets.csv each period's market flows (in flows.csv) and
markets.csv rows are checked against that period's markets (after its targets) by the
one-period check (:mod:`solver.check.markets`), and its ``market_revenue`` and ``entry`` are
terms of its cost.

Nothing here imports the model: the service windows, weights and costs are recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from solver.case.loader import Case
from solver.case.periods import period_case, periods_of
from solver.check.common import TOLERANCE, Tolerance, Violation

TERMS = ("fixed", "capacity", "existing", "trade", "redundancy", "risk", "shortage",
         "market_revenue", "entry")
#: The terms the one-period check recomputes from a period's tables (capacity aside).
ONE_PERIOD_TERMS = ("fixed", "trade", "redundancy", "risk", "shortage")
#: The terms of markets outside the coalition, checked only on a case with markets.csv.
MARKET_TERMS = ("market_revenue", "entry")


def _of(frame: pd.DataFrame | None, period: str) -> pd.DataFrame | None:
    """The rows of one period, without the ``period`` column."""
    if frame is None:
        return None
    rows = frame[frame["period"].astype(str) == period]
    return rows.drop(columns="period").reset_index(drop=True)


def _capabilities(case: Case) -> dict[tuple[str, str], dict[str, Any]]:
    """capabilities.csv's rows by (partner, layer)."""
    return {(str(r["partner"]), str(r["layer"])): {str(k): v for k, v in r.items()}
            for r in case.capabilities.to_dict("records")}


def _hosted(cell: Any) -> float:
    """A written hosted cell as 1 or 0 (the one-period check says if it is neither)."""
    return 1.0 if str(cell).strip().lower() in ("true", "1", "1.0") else 0.0


def _number(cell: Any, default: float) -> float:
    value = pd.to_numeric(pd.Series([cell]), errors="coerce").iloc[0]
    return default if pd.isna(value) else float(value)


def check_pathway(case: Case, tables: Mapping[str, pd.DataFrame | None],
                  builds: pd.DataFrame | None, summary: Mapping[str, Any],
                  check_solution: Callable[..., list[Violation]],
                  tolerance: Tolerance = TOLERANCE) -> list[Violation]:
    """Every violation of a pathway plan (empty: verified). ``tables`` as the run writes them.

    ``check_solution`` is :func:`solver.check.run.check_solution`, the check of one period.
    """
    out: list[Violation] = []
    periods = periods_of(case)
    names = [p.name for p in periods]
    years = [p.year for p in periods]
    single = len(periods) == 1 and names[0] == ""
    allocation = tables["allocation"]
    if allocation is None:
        return [Violation("table", "allocation.csv", 1.0, "allocation.csv: missing")]
    builds = builds if builds is not None else pd.DataFrame(
        columns=["partner", "layer", "period", "built", "in_service_from", "in_service_until"])
    written = summary.get("costs_by_period") or {}
    status = str(summary.get("status"))
    total = 0.0
    kept_before: dict[tuple[str, str], float] = {}
    cases = [period_case(case, p) for p in periods]
    index = {p: i for i, p in enumerate(names)}
    rows_of = [_capabilities(c) for c in cases]
    # Each build's vintage: cost, rate and service years recomputed from its period's case.
    vintages = []
    for row in builds.to_dict("records"):
        key = (str(row["partner"]), str(row["layer"]))
        where = f"{key[0]},{key[1]}"
        tau = index.get(str(row["period"]))
        if tau is None:
            out.append(Violation("table", where, 1.0,
                                 f"builds.csv: period {row['period']!r} is not a period"))
            continue
        c = rows_of[tau].get(key)
        if c is None:
            out.append(Violation("table", where, 1.0, f"builds.csv: {where} is no capability"))
            continue
        built = _number(row["built"], math.nan)
        most = _number(c["max_build"], float(c["capacity"]))
        if built < -1e-9 or bool(tolerance.over(built, most, most)[0]):
            out.append(Violation("build_rate", where, built - most,
                                 f"build_rate: {where} builds {built:g} in {names[tau]}, "
                                 f"outside [0, max_build {most:g}]"))
        start = years[tau] + (0.0 if single else float(c["lead_time"]))
        life = math.inf if single else _number(c["lifetime"], math.inf)
        stop = start + life
        said = (_number(row["in_service_from"], math.nan),
                _number(row["in_service_until"], math.inf))
        if not single and (said[0] != start or said[1] != stop):
            out.append(Violation("in_service", where, 1.0,
                                 f"builds.csv: {where} decided in {names[tau]} serves from "
                                 f"{start:g} until {stop:g}, not {said[0]:g}-{said[1]:g}"))
        vintages.append((key, tau, built, float(c["unit_cost"]), start, stop))
    for t, (period, c_t) in enumerate(zip(periods, cases, strict=True)):
        alloc = _of(allocation, period.name)
        assert alloc is not None
        for name in ("capacity", "unit_cost", "existing"):
            alloc[name] = pd.to_numeric(alloc[name], errors="coerce") if name in alloc \
                else 0.0
        capacity_cost = 0.0
        new: dict[tuple[str, str], float] = {}
        paid: dict[tuple[str, str], float] = {}
        for key, tau, built, cost, start, stop in vintages:
            if tau <= t and (single or start <= period.year < stop):
                new[key] = new.get(key, 0.0) + built
                paid[key] = paid.get(key, 0.0) + cost * built
                capacity_cost += cost * built
        existing_cost = 0.0
        # allocation.csv's cost is the pair's cost that year (vintages and base kept); the
        # one-period check is handed the one-period cost, and partners.csv's cost the same.
        one_cost = pd.to_numeric(alloc["cost"], errors="coerce").astype(float) \
            if "cost" in alloc else None
        for i, row in enumerate(alloc.to_dict("records")):
            key = (str(row["partner"]), str(row["layer"]))
            where = f"{period.name}: {key[0]},{key[1]}"
            kept = float(row.get("existing", 0.0))
            c = rows_of[t].get(key)
            if c is None:
                continue
            until = _number(c["existing_until"], math.inf)
            base = float(c["existing"]) if single or period.year < until else 0.0
            if kept < -1e-9 or bool(tolerance.over(kept, base, base)[0]):
                out.append(Violation("installed_base", where, kept - base,
                                     f"installed_base: {where} keeps {kept:g} of an installed "
                                     f"base of {base:g}"))
            if t > 0 and bool(tolerance.over(kept, kept_before.get(key, 0.0), kept)[0]):
                out.append(Violation("retirement", where, kept - kept_before.get(key, 0.0),
                                     f"retirement: {where} keeps {kept:g} of its installed "
                                     f"base, more than {kept_before.get(key, 0.0):g} before: "
                                     "retired capacity does not come back"))
            kept_before[key] = kept
            own = _number(c["existing_cost"], float(c["unit_cost"])) * kept
            existing_cost += own
            if one_cost is not None:
                out += _pair_cost(row, c, where, paid.get(key, 0.0) + own, tolerance)
                one_cost.iloc[i] = float(c["fixed_cost"]) * _hosted(row["hosted"]) + \
                    float(c["unit_cost"]) * _number(row["capacity"], 0.0)
            serving = kept + new.get(key, 0.0)
            k = float(row["capacity"])
            bad, miss = tolerance.differ(k, serving)
            if bool(bad):
                out.append(Violation("in_service", where, float(miss),
                                     f"in_service: {where} has capacity {k:g}, but the "
                                     f"installed base kept and the builds in service give "
                                     f"{serving:g}"))
        costs = written.get(period.name, {}) if isinstance(written, Mapping) else {}
        for term, value in (("capacity", capacity_cost), ("existing", existing_cost)):
            bad, miss = tolerance.differ(float(costs.get(term, math.nan)), value)
            if bool(bad) or not math.isfinite(float(costs.get(term, math.nan))):
                out.append(Violation("objective", f"{period.name}: costs.{term}", float(miss),
                                     f"objective: costs_by_period[{period.name}].{term} is "
                                     f"{costs.get(term)}, recomputed {value:g}"))
        single_costs: dict[str, Any] = {term: float(costs.get(term, 0.0))
                                        for term in ONE_PERIOD_TERMS}
        if c_t.has_markets:
            # A missing market term is the one-period check's to name (not a 0 to agree with).
            single_costs.update({term: costs.get(term) for term in MARKET_TERMS})
        single_costs["capacity"] = float((alloc["unit_cost"] * alloc["capacity"]).sum())
        one = replace(c_t, objective=c_t.objective.model_copy(update={"budget": None}))
        flows = _of(tables["flows"], period.name)
        assert flows is not None
        partners = _of(tables.get("partners"), period.name)
        if one_cost is not None:
            partners = _one_period_partners(partners, alloc, one_cost)
            alloc = alloc.assign(cost=one_cost)
        found = check_solution(
            one, alloc.drop(columns=["existing", "bloc"], errors="ignore"), flows,
            {"status": status, "costs": single_costs,
             "objective": sum(_number(v, 0.0) for v in single_costs.values())},
            layers=_of(tables.get("layers"), period.name),
            partners=partners,
            shortage=_of(tables.get("shortage"), period.name),
            input_flows=_of(tables.get("input_flows"), period.name), tolerance=tolerance,
            markets=_of(tables.get("markets"), period.name),
            scenarios=_of(tables.get("scenarios"), period.name))
        prefix = f"{period.name}: " if period.name else ""
        out += [replace(v, entity=prefix + v.entity, message=prefix + v.message) for v in found]
        budget = c_t.objective.budget
        spent = single_costs["fixed"] + single_costs["trade"] + capacity_cost + existing_cost \
            + _number(costs.get("entry"), 0.0)
        if budget is not None and bool(tolerance.over(spent, budget, budget)[0]):
            out.append(Violation("budget", f"{prefix}budget", spent - budget,
                                 f"budget: {prefix}spends {spent:g}, above the budget "
                                 f"{budget:g}"))
        total += period.weight * sum(_number(costs.get(term), 0.0) for term in TERMS)
    objective = summary.get("objective")
    if status in ("optimal", "time_limit") and objective is not None:
        bad, miss = tolerance.differ(float(objective), total)
        if bool(bad):
            out.append(Violation("objective", "objective", float(miss),
                                 f"objective: summary.json says {objective}, the discounted "
                                 f"costs per period sum to {total:g}"))
    return out


def _pair_cost(row: Mapping[Any, Any], c: Mapping[str, Any], where: str, paid: float,
               tolerance: Tolerance) -> list[Violation]:
    """allocation.csv's cost of a pair in a period: fixed_cost * hosted + what it pays.

    ``paid``: the unit costs of its builds in service then and its installed base kept.
    """
    want = _number(c["fixed_cost"], 0.0) * _hosted(row["hosted"]) + paid
    written = _number(row.get("cost"), math.nan)
    bad, miss = tolerance.differ(written, want)
    if bool(bad) or not math.isfinite(written):
        return [Violation("table", where, float(miss) if math.isfinite(written) else 1.0,
                          f"allocation.csv: cost of {where} is {row.get('cost')}, but "
                          "fixed_cost*hosted + its builds in service + its installed base "
                          f"kept cost {want:g}")]
    return []


def _one_period_partners(partners: pd.DataFrame | None, alloc: pd.DataFrame,
                         one_cost: pd.Series) -> pd.DataFrame | None:
    """partners.csv of a period with each partner's cost as a one-period plan states it.

    The written cost less its pairs' written costs plus their one-period costs, so that the
    one-period check of partners.csv holds it to the allocation (itself checked above).
    """
    if partners is None or "cost" not in partners:
        return partners
    written = pd.to_numeric(alloc["cost"], errors="coerce").fillna(0.0)
    shift = (one_cost.astype(float) - written).groupby(alloc["partner"].astype(str)).sum()
    cost = pd.to_numeric(partners["cost"], errors="coerce")
    return partners.assign(cost=cost + partners["partner"].astype(str).map(shift).fillna(0.0))
