"""Solve a pathway case: build every period, run HiGHS once, read back per period, verify.

README, Pathways. The result's tables hold every period, ``period`` their first column;
``builds`` lists the new capacity decided per period and when it serves; ``summary.json``
gives the costs per period (``costs_by_period``), their ``weights`` and the discounted
total (``costs``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo

from solver import __version__
from solver.case.loader import Case
from solver.case.periods import periods_of, unused_columns, uses_pathway
from solver.chain_tables import input_flows_table, inputs_table
from solver.errors import InfeasibleError, UsageError, VerificationError
from solver.highs.runner import HighsRunner, Status, raise_if_stopped
from solver.market_tables import (
    MARKET_TERMS,
    market_cost_terms,
    market_flows_table,
    market_supply,
    markets_table,
)
from solver.results import (
    ZERO,
    Result,
    allocation_table,
    cost_terms,
    flows_table,
    layers_table,
    partners_table,
    shortage_table,
)

#: The cost terms of a period of a pathway (README, Pathways).
PATHWAY_TERMS = ("fixed", "capacity", "existing", "trade", "redundancy", "risk", "shortage")


def terms_of(case: Case) -> tuple[str, ...]:
    """The cost terms of each period of ``case``'s pathway: with markets, their own two too."""
    return PATHWAY_TERMS + (MARKET_TERMS if case.has_markets else ())


def refuse_design(case: Case) -> None:
    """A two-stage design over periods is not yet supported (UsageError, exit 2)."""
    if case.scenario_options.design != "none" and uses_pathway(case):
        raise UsageError(f"design {case.scenario_options.design!r} over periods is not yet "
                         "supported: a pathway case is re-routed under each scenario with "
                         "[scenarios] design = \"none\"")


def solve_pathway(case: Case, *, time_limit: float | None = None, mip_gap: float | None = None,
                  threads: int | None = None, raise_on_failure: bool = True,
                  explain: bool = True,
                  extend: Callable[[Any], None] | None = None,
                  priced: bool = False) -> Result:
    """Solve the pathway of ``case`` (README, Pathways) and verify it independently.

    ``extend(path)``, if given, adds rows to the built pathway before it is solved (the
    near-optimal search's cost cap and distance floor); the plan is checked without them.
    ``priced`` solves the coalition game's priced pathway (:func:`build_pathway`): the
    result's objective and costs are then the plan's costs without the prices of the rows
    it violates, and ``summary["priced_slack_cost"]`` is those prices' discounted total
    (the priced objective is their sum); the checker reports the violated rows.

    Raises :class:`InfeasibleError` naming the first period whose requirements cannot hold
    (``explain=False``: without naming it, which takes a solve per period: a study's many
    points), :class:`~solver.errors.VerificationError` if the checker rejects the plan.
    """
    from solver.model.build import priced_slack_cost
    from solver.model.pathway import build_pathway
    from solver.model.pathway_arrays import assemble_pathway

    refuse_design(case)
    changes = {"time_limit": time_limit, "mip_gap": mip_gap, "threads": threads}
    opts = case.solver.model_copy(update={k: v for k, v in changes.items() if v is not None})
    case = dataclasses.replace(case, solver=opts)
    start = time.perf_counter()
    # The matrices straight from numpy where every period has an array form
    # (solver.model.pathway_arrays), else the Pyomo model; rows added by ``extend`` need the
    # Pyomo model.
    path: Any = build_pathway(case, priced=priced) if extend is not None or priced else (
        assemble_pathway(case) or build_pathway(case))
    if extend is not None:
        extend(path)
    build_seconds = time.perf_counter() - start
    runner = HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                         threads=opts.threads)
    hand_over_pathway(runner, path)
    report = runner.solve(None)
    raise_if_stopped(report)
    if not report.has_solution:
        if report.status == Status.INFEASIBLE:
            if not explain:
                raise InfeasibleError("no plan satisfies every requirement in every period "
                                      "(coalition explain names the first that cannot hold)")
            raise first_infeasible_period(case)
        from solver.errors import NoSolutionError

        raise NoSolutionError(f"HiGHS stopped ({report.status}) before finding a feasible "
                              "pathway")
    start = time.perf_counter()
    values = report.values
    parts = [_period_tables(path, t, {name.split("@")[0]: v for name, v in values.items()
                                      if name.endswith(f"@{t}")}, values)
             for t in range(path.n_periods)]
    tables = {name: _stack([(path.periods[t].name, p[name]) for t, p in enumerate(parts)])
              for name in parts[0] if name != "costs"}
    allocation, flows, layers, partners = (_present(tables[name]) for name in
                                           ("allocation", "flows", "layers", "partners"))
    by_period = {path.periods[t].name: p["costs"] for t, p in enumerate(parts)}
    weights = {p.name: p.weight for p in path.periods}
    costs = {term: sum(weights[t] * c[term] for t, c in by_period.items())
             for term in terms_of(case)}
    builds = builds_table(path, values)
    columns = runner.column_counts
    slack = sum(weights[p.name] * priced_slack_cost(
        path.blocks[t].ctx, lambda var, t=t: values.get(f"{var.local_name}@{t}"))
        for t, p in enumerate(path.periods)) if priced else 0.0
    objective = None if report.objective is None else report.objective - slack
    # HiGHS's bound and gap are of the priced objective: not claims about the plan's cost.
    bound, gap = (None, None) if priced else (report.bound, report.gap)
    summary: dict[str, Any] = {
        "status": str(report.status), "objective": objective, "bound": bound,
        "gap": gap, "costs": costs, "costs_by_period": by_period, "weights": weights,
        "periods": [p.name for p in path.periods],
        "seconds": {"load": case.load_seconds, "build": build_seconds,
                    "handover": runner.handover_seconds, "solve": report.highs_seconds,
                    "extract": time.perf_counter() - start, "check": 0.0, "write": 0.0},
        "size": {"variables": sum(columns.values()),
                 "binaries": sum(n for k, n in columns.items() if k.startswith("y@")),
                 "constraints": runner.num_rows, "nonzeros": runner.num_nonzeros},
        "solver": {"name": runner.solver_name, "version": runner.solver_version,
                   "termination": report.termination, "mip_gap": runner.mip_gap,
                   "time_limit": runner.time_limit, "threads": runner.threads},
        "case": case.name, "case_sha256": case.sha256, "overrides": list(case.overrides),
        "version": __version__, "verified": False,
    }
    if priced:
        summary["priced_slack_cost"] = slack
    unused = unused_columns(case)
    if unused:
        summary["unused_columns"] = unused
    from solver.check.pathway import check_pathway

    start = time.perf_counter()
    from solver.check.run import check_solution

    violations = check_pathway(case, tables, builds, summary, check_solution)
    summary["seconds"]["check"] = time.perf_counter() - start
    summary["verified"] = not violations
    result = Result(status=str(report.status), objective=objective,
                    bound=bound, gap=gap, costs=costs,
                    allocation=allocation, flows=flows, layers=layers, partners=partners,
                    summary=summary,
                    violations=violations, shortage=tables.get("shortage"),
                    scenarios=tables.get("scenarios"), input_flows=tables.get("input_flows"),
                    inputs=tables.get("inputs"), builds=builds, markets=tables.get("markets"))
    if raise_on_failure and violations:
        raise VerificationError(violations, result=result)
    return result


def hand_over_pathway(runner: HighsRunner, path: Any) -> None:
    """Hand ``path`` (a Pyomo :class:`Pathway` or :class:`PathwayArrays`) over to HiGHS.

    The column groups are each period's variables (``y@0``, ...) and ``b``, ``x``.
    """
    from solver.model.pathway_arrays import PathwayArrays

    if isinstance(path, PathwayArrays):
        runner.set_matrices(path.compiled, path.columns)
        path.release()
        return
    groups: dict[str, Any] = {}
    for i, block in enumerate(path.blocks):
        groups.update({f"{var.local_name}@{i}": var for var in
                       block.m.component_objects(pyo.Var, descend_into=False)})
    groups.update(b=path.m.b, x=path.m.x)
    runner.set_model(path.m, groups)


def _stack(parts: list[tuple[str, pd.DataFrame | None]]) -> pd.DataFrame | None:
    """The tables of every period, one under the other, ``period`` the first column."""
    frames = [frame.assign(period=name)[["period", *frame.columns]]
              for name, frame in parts if frame is not None]
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True)


def _present(frame: pd.DataFrame | None) -> pd.DataFrame:
    assert frame is not None
    return frame


def _period_tables(path: Any, t: int, values: dict[str, np.ndarray],
                   everything: dict[str, np.ndarray]) -> dict[str, Any]:
    """Period t's tables (as a one-period run writes them) and its annual cost terms."""
    case, data = path.cases[t], path.blocks[t].data
    allocation = allocation_table(case, data, values)
    kept = np.zeros(len(path.capabilities))
    for (c, s), v in zip(path.m.x.keys(), everything.get("x", []), strict=True):
        if s == t:
            kept[c] = max(float(v), 0.0)
    base = path.capabilities.assign(existing=np.where(kept > ZERO, kept, 0.0))
    allocation = allocation.merge(base, on=["partner", "layer"], how="left")
    allocation["existing"] = np.minimum(allocation["existing"].fillna(0.0),
                                        allocation["capacity"])
    allocation["cost"] = pair_costs(path, t, everything, kept, allocation)
    # The report draws the build-out by bloc from the run folder alone.
    allocation["bloc"] = allocation["partner"].map(case.partners.set_index("partner")["bloc"])
    flows = flows_table(data, values)
    # Markets outside the coalition: the period's market flows join its flows, as in one
    # period (solver.solve.finish), and its markets.csv rows carry the period's data.
    market_flows = market_flows_table(data, values)
    markets = supply = None
    if market_flows is not None:
        markets = markets_table(case, data, values, market_flows)
        supply = market_supply(case, market_flows)
        flows = pd.concat([flows, market_flows]).sort_values(
            ["exporter", "importer", "layer"]).reset_index(drop=True)
    shortage = shortage_table(data, values) if "z" in values else None
    layers = layers_table(case, allocation, shortage, supply)
    input_flows = input_flows_table(data, values)
    shipped = flows if input_flows is None else pd.concat([flows, input_flows])
    partners = partners_table(case, allocation, shipped, supply)
    single = {**cost_terms(case, allocation, shipped, layers, shortage),
              **market_cost_terms(markets)}
    costs = {term: single.get(term, 0.0) for term in terms_of(case)}
    costs["capacity"] = _value_of(path, everything, "b", t, path.cost, path.serves)
    costs["existing"] = float((kept * path.existing_cost[:, t]).sum())
    out: dict[str, Any] = {"allocation": allocation, "flows": flows, "layers": layers,
                           "partners": partners, "shortage": shortage,
                           "input_flows": input_flows, "markets": markets, "costs": costs}
    if input_flows is not None:
        out["inputs"] = inputs_table(case, allocation, input_flows)
    if case.scenarios is not None and not case.scenarios.empty:
        from solver.studies.engine.recourse import evaluate_scenarios

        out["scenarios"] = evaluate_scenarios(case, allocation, flows)
    return out


def pair_costs(path: Any, t: int, values: dict[str, np.ndarray], kept: np.ndarray,
               allocation: pd.DataFrame) -> np.ndarray:
    """Each pair's annual cost in period t (allocation.csv's ``cost`` of a pathway).

    ``fixed_cost * hosted + sum over its builds in service in t of unit_cost_tau * b[c,tau]
    + existing_cost_t * x[c,t]``: what the pair costs that year, not what building its
    capacity anew at t's unit cost would (README, Pathways).
    """
    own = kept * path.existing_cost[:, t]
    for (c, tau), v in zip(path.m.b.keys(), values.get("b", []), strict=True):
        if path.serves[c, tau, t] and v > ZERO:
            own[c] += float(path.cost[c, tau]) * float(v)
    caps = path.capabilities.assign(own=own).set_index(["partner", "layer"])["own"]
    keys = pd.MultiIndex.from_frame(allocation[["partner", "layer"]])
    fixed = allocation["fixed_cost"].to_numpy(dtype=float) * \
        allocation["hosted"].to_numpy(dtype=float)
    return fixed + caps.reindex(keys).fillna(0.0).to_numpy(dtype=float)


def _value_of(path: Any, values: dict[str, np.ndarray], name: str, t: int,
              cost: np.ndarray, serves: np.ndarray) -> float:
    """``sum over builds in service in t of unit_cost_tau * b[c,tau]``, from the solution."""
    total = 0.0
    for (c, tau), v in zip(path.m.b.keys(), values.get(name, []), strict=True):
        if serves[c, tau, t] and v > ZERO:
            total += float(cost[c, tau]) * float(v)
    return total


def builds_table(path: Any, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per build: partner, layer, period, built, in_service_from, in_service_until.

    The service years are the vintage's: decided in ``year``, in service from ``year +
    lead_time`` until ``year + lead_time + lifetime`` (empty: forever).
    """
    rows = []
    n_t = path.n_periods
    for (c, tau), v in zip(path.m.b.keys(), values.get("b", []), strict=True):
        if v <= ZERO:
            continue
        start, stop = path.service[c * n_t + tau]
        rows.append({"partner": path.capabilities.at[c, "partner"],
                     "layer": path.capabilities.at[c, "layer"],
                     "period": path.periods[tau].name, "built": float(v),
                     "in_service_from": start,
                     "in_service_until": stop if math.isfinite(stop) else np.nan})
    columns = ["partner", "layer", "period", "built", "in_service_from", "in_service_until"]
    frame = pd.DataFrame(rows, columns=columns)
    order = {p.name: i for i, p in enumerate(path.periods)}
    return frame.assign(_at=frame["period"].map(order)).sort_values(
        ["partner", "layer", "_at"]).drop(columns="_at").reset_index(drop=True)


def first_infeasible_period(case: Case) -> InfeasibleError:
    """The error of an infeasible pathway: the first period that no plan can reach.

    The pathway up to each period is solved in turn; the first that is infeasible is named.
    If that period's case alone is infeasible, its explanation follows; otherwise what rules
    it out is timing: lead times, build rates and the installed base's retirement.
    """
    from solver.model.pathway import build_pathway

    periods = periods_of(case)
    for t, period in enumerate(periods):
        upto = case
        if case.periods is not None:
            upto = dataclasses.replace(case, periods=case.periods.iloc[: t + 1])
        path = build_pathway(upto)
        runner = HighsRunner(mip_gap=1.0)
        runner.set_model(path.m, {"b": path.m.b})
        if runner.solve(None).status != Status.INFEASIBLE:
            continue
        name = period.name or "the period"
        alone = None
        if _period_alone_infeasible(path.cases[t]):
            from solver.diagnose.explain import explain

            report = explain(path.cases[t])
            alone = InfeasibleError(f"case {case.name!r} is infeasible:\n{report}",
                                    report=report)
            text = f"{name}: the period's requirements cannot hold:\n{alone.report or alone}"
        else:
            short = _short_layers(path, t)
            text = (f"{name}: the requirements of {name} cannot hold with the capacity that "
                    f"can be in service by {period.year}" + (": " + "; ".join(short) if short
                                                             else "") +
                    " (a build serves only after its lead time, at most max_build is decided "
                    "per period, and retired capacity does not come back)")
        return InfeasibleError(f"case {case.name!r} is infeasible:\n{text}",
                               report=getattr(alone, "report", None))
    return InfeasibleError(f"case {case.name!r} is infeasible")


def _short_layers(path: Any, t: int) -> list[str]:
    """The layers whose demand in period t exceeds the most capacity that can serve then."""
    most = path.base[:, t] + (path.serves[:, :, t] * path.max_build).sum(axis=1)
    cap = path.cases[t].capabilities
    most = np.minimum(most, cap["capacity"].to_numpy(dtype=float))
    by_layer = pd.Series(most, index=path.capabilities["layer"]).groupby(level=0).sum()
    demand = path.blocks[t].data.layer_demand
    out = []
    for i, layer in enumerate(path.blocks[t].data.layers["layer"]):
        need, can = float(demand[i]), float(by_layer.get(layer, 0.0))
        if need > can + 1e-9:
            out.append(f"{layer} needs {need:,.4g}, at most {can:,.4g} can be in service")
    return out


def _period_alone_infeasible(case: Case) -> bool:
    """Whether a period's case, built anew without an installed base, has no plan."""
    from solver.model.build import build

    built = build(case)
    runner = HighsRunner(mip_gap=1.0)
    runner.set_model(built.m, {"y": built.m.y})
    return runner.solve(None).status == Status.INFEASIBLE



def explain_pathway(case: Case) -> str | None:
    """Why a pathway has no plan, naming the first period that cannot hold (None: it has one)."""
    from solver.model.pathway import build_pathway

    path = build_pathway(case)
    runner = HighsRunner(mip_gap=1.0)
    runner.set_model(path.m, {"b": path.m.b})
    if runner.solve(None).status != Status.INFEASIBLE:
        return None
    return str(first_infeasible_period(case))
