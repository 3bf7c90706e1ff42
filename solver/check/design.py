"""A two-stage design's scenario flows checked, and its recourse term recomputed (README, Shocks).

From the case, the plan's capacities and ``scenario_flows.csv`` alone: in each scenario of
scenarios.csv a flow leaves a partner that can host the layer (trusted), over a route that is
allowed and not closed by the scenario; what a pair ships is within the share of its built
capacity that survives; no consumer receives more than its demand, and the rest is its
unmet demand. Each outcome's second-stage cost is trade + shortage_cost * unmet; the
recourse term is their expectation (with the no-disruption outcome at the remaining
probability) or, with ``design = "cvar"``, its blend with the CVaR, computed by sorting.
Over a chain (whose scenario input flows are not written) each outcome's cost is the optimum
of the checker's own re-routing LP (:mod:`solver.check.rerouting`, the chain's rule): given
its capacity the design's recourse must reach it, scenario by scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.scenarios import recourse_term, scenarios_over
from solver.check.case_data import CaseData
from solver.check.common import (
    Row,
    Tolerance,
    Violation,
    codes,
    fmt,
    line_of,
    missing_columns,
    numbers,
)
from solver.check.rerouting import ScenarioLP


def designs(case: Case) -> bool:
    """Whether the run is a two-stage design (``[scenarios] design`` with scenarios)."""
    return case.scenario_options.design != "none" and case.scenarios is not None \
        and not case.scenarios.empty


def check_design(case: Case, data: CaseData, pairs: pd.DataFrame, costs: Mapping[str, float],
                 scenario_flows: pd.DataFrame | None, planned: pd.Series,
                 recomputed: dict[str, dict[str, Any]], out: list[Violation],
                 tol: Tolerance) -> float:
    """Check every scenario's flows; return the recourse term recomputed from them.

    ``planned`` is the plan's quantity per (exporter, importer, layer); each scenario's
    unmet demand, trade cost, worst layer and re-routed quantity go into ``recomputed``
    (for :mod:`solver.check.scenario_claims`). A quantity that is not a finite number, or is
    negative, is a ``table`` violation naming its line.
    """
    name = "scenario_flows.csv"
    if scenario_flows is None:
        out.append(Violation("table", name, 1.0, f"{name}: missing for a two-stage design"))
        return float("nan")
    if missing_columns(scenario_flows, ("scenario", "exporter", "importer", "layer",
                                        "quantity"), name, out):
        return float("nan")
    frame = scenario_flows.reset_index(drop=True).copy()
    for col in ("scenario", "exporter", "importer", "layer"):
        frame[col] = frame[col].astype(str)

    def row_name(i: Row) -> str:
        return f"scenario {frame['scenario'].iloc[i]}: {frame['exporter'].iloc[i]}->" \
               f"{frame['importer'].iloc[i]}, {frame['layer'].iloc[i]}"

    frame["quantity"] = numbers(frame, "quantity", row_name, name, out)
    for i in np.flatnonzero(frame["quantity"].to_numpy() < 0):
        out.append(Violation("table", name, float(-frame["quantity"].iloc[i]),
                             f"{name}, line {line_of(i)} ({row_name(i)}): column quantity "
                             f"{fmt(frame['quantity'].iloc[i])} is negative"))
    frame["quantity"] = frame["quantity"].clip(lower=0.0)
    built = pairs[pairs["trusted"]].set_index(["partner", "layer"])["k"].astype(float)
    scen = scenarios_over(case.scenarios, built.index.get_level_values(0).to_numpy(),
                          built.index.get_level_values(1).to_numpy(),
                          frame["exporter"].to_numpy(dtype=object),
                          frame["importer"].to_numpy(dtype=object),
                          frame["layer"].to_numpy(dtype=object))
    route_cost, route_allowed = _routes(data, frame)
    demand = case.demand.set_index(["member", "layer"])["demand"].astype(float)
    price = float(case.objective.shortage_cost or 0.0)
    known = set(scen.ids)
    for s in sorted(set(frame["scenario"]) - known):
        out.append(Violation("table", name, 1.0, f"{name}: scenario {s} is not in scenarios.csv"))
    outcomes = [costs["trade"] + costs["shortage"]]
    # Over a chain the scenario input flows are not written: each outcome's cost is the
    # optimum of the checker's own re-routing LP, which the design's recourse must reach.
    lp = ScenarioLP(case, data, pairs) if data.inputs is not None else None
    at = {} if lp is None else {sid: s for s, sid in enumerate(lp.scenarios.ids)}
    layer_demand = data.layers["final_demand" if "final_demand" in data.layers.columns
                               else "D"].astype(float)
    for s, sid in enumerate(scen.ids):
        mine = (frame["scenario"] == sid).to_numpy()
        rows = frame[mine]
        where = f"scenario {sid}"
        qty = rows["quantity"].to_numpy(dtype=float)
        for j, (e, i, lay, q) in enumerate(zip(rows["exporter"], rows["importer"],
                                               rows["layer"], qty, strict=True)):
            if q <= tol.absolute:
                continue
            if (e, lay) not in built.index:
                out.append(Violation("capacity", f"{sid}: {e}->{i}", q,
                                     f"{where}: {e} ships {fmt(q)} of {lay} but cannot host it"))
            elif not route_allowed[np.flatnonzero(mine)[j]]:
                out.append(Violation("routes", f"{sid}: {e}->{i}", q,
                                     f"{where}: {e} -> {i} ships {fmt(q)} of {lay} on a "
                                     "forbidden route"))
            elif scen.closed[s][np.flatnonzero(mine)[j]]:
                out.append(Violation("routes", f"{sid}: {e}->{i}", q,
                                     f"{where}: {e} -> {i} ships {fmt(q)} of {lay} on a route "
                                     "the scenario closes"))
        shipped = rows.groupby(["exporter", "layer"])["quantity"].sum()
        left = pd.Series(scen.factor[s] * built.to_numpy(), index=built.index)
        key: Any
        for key, q in shipped.items():
            e, lay = key
            cap = float(left.get((e, lay), 0.0))
            bad, excess = tol.over(q, cap)
            if bool(bad):
                out.append(Violation("capacity", f"{sid}: {e}, {lay}", float(excess),
                                     f"{where}: {e} ships {fmt(q)} of {lay}, above the "
                                     f"{fmt(cap)} that survives of its capacity"))
        served = rows.groupby(["importer", "layer"])["quantity"].sum()
        over = served - demand.reindex(served.index).fillna(0.0)
        for key, excess in over[over > tol.absolute + tol.relative * served].items():
            out.append(Violation("demand", f"{sid}: {key[0]}, {key[1]}", float(excess),
                                 f"{where}: {key[0]} receives {fmt(float(served[key]))} of "
                                 f"{key[1]}, above its demand"))
        short = (demand - served.reindex(demand.index).fillna(0.0)).clip(lower=0)
        unmet = float(short.sum())
        trade = float(route_cost[mine] @ qty) if len(qty) else 0.0
        if lp is not None:
            try:
                least = lp.solve(at[sid], price)[0]
            except RuntimeError as exc:
                out.append(Violation("scenario", sid, 1.0, f"{where}: not re-checked: {exc}"))
                least = float("nan")
            trade = least - price * unmet  # its final and input flows' trade cost
        outcomes.append(trade + price * unmet)
        recomputed[sid] = {"unmet": unmet, "trade_cost": trade,
                           **_worst(short, layer_demand, tol),
                           "rerouted": _rerouted(rows, planned)}
    opts = case.scenario_options
    pi = np.array([scen.rest, *scen.probability.tolist()])
    return recourse_term(np.array(outcomes), pi, opts.design, opts.cvar_alpha,
                         opts.cvar_weight)


def planned_flows(flows: pd.DataFrame) -> pd.Series:
    """The plan's quantity per (exporter, importer, layer), from flows.csv (bad cells as 0)."""
    if not {"exporter", "importer", "layer", "quantity"} <= set(flows.columns):
        return pd.Series(dtype=float)
    frame = flows.astype({"exporter": str, "importer": str, "layer": str})
    qty = pd.to_numeric(frame["quantity"], errors="coerce").fillna(0.0)
    return qty.groupby([frame["exporter"], frame["importer"], frame["layer"]]).sum()


def _worst(short: pd.Series, layer_demand: pd.Series, tol: Tolerance) -> dict[str, Any]:
    """The layer with the largest unmet share and its unmet demand.

    The layer is named only when it is clear: some demand is unmet beyond the tolerance and
    no other layer's share is within the tolerance of it. A tie may go either way: then the
    tied layers and their unmet demand (``worst_layer_tied``).
    """
    per_layer = short.groupby(level=1).sum().reindex(layer_demand.index).fillna(0.0)
    share = (per_layer / layer_demand.where(layer_demand > 0)).fillna(0.0)
    if per_layer.max() <= tol.absolute:
        return {}
    at = int(np.argmax(share.to_numpy()))
    top = float(share.iloc[at])
    tied = share >= top - tol.absolute
    if int(tied.sum()) == 1:
        return {"worst_layer_unmet": float(per_layer.iloc[at]),
                "worst_layer": str(share.index[at])}
    # A tie (rationing over a chain leaves every layer downstream the same share): any of them.
    return {"worst_layer_tied": {str(k): float(v) for k, v in per_layer[tied].items()}}


def _routes(data: CaseData, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each scenario flow's unit trade cost and whether its route is open in trade.csv.

    A route's row for the flow's layer wins over its row without a layer
    (:meth:`CaseData.routes`); a flow naming an unknown partner or member costs nothing
    here (it is a violation of its own).
    """
    exporter = codes(data.partner_ids, frame["exporter"])
    importer = codes(data.consumer_ids, frame["importer"])
    layer = codes(data.layer_ids, frame["layer"])
    known = (exporter >= 0) & (importer >= 0) & (layer >= 0)
    cost = np.zeros(len(frame))
    allowed = np.ones(len(frame), dtype=bool)
    if known.any():
        cost[known], allowed[known] = data.routes(exporter[known], importer[known],
                                                  layer[known])
    return cost, allowed


def _rerouted(rows: pd.DataFrame, planned: pd.Series) -> float:
    """What a scenario ships beyond the plan's flow on each route and layer, summed."""
    shipped = rows.groupby(["exporter", "importer", "layer"])["quantity"].sum()
    base = planned.reindex(shipped.index).fillna(0.0)
    return float((shipped - base).clip(lower=0.0).sum())
