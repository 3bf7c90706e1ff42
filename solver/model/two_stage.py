"""The two-stage design of README, Shocks: one set of flows per disruption scenario.

The first stage is the model of section 3 (y, k, and the no-disruption flows f, which meet
every requirement). For each scenario s of scenarios.csv, flows ``g[s,j]`` over the routes
it leaves open, within what survives of each pair's capacity, and unmet demand ``w[s,r]``:

    sum_{j in r} g[s,j] + w[s,r] = d[r]                     (``scenario_demand``)
    sum_{j of a} g[s,j] - factor[s,a] * k[a] <= 0           (``scenario_capacity``)

No variable is made for a flow whose route the scenario closes or whose pair it wipes out.
The second-stage cost of each outcome, ``C_0`` (no disruption: the flows f and unmet z) and
``C_s``, is a variable defined by one row each:

    sum_j t_j g[s,j] + price * sum_r w[s,r] - C_s = 0         (``scenario_cost``)

With ``design = "expected"`` the recourse term is ``sum_s pi_s C_s`` (``pi_0`` the rest of
1); with ``design = "cvar"`` it is ``(1 - c) * E[C] + c * CVaR_alpha[C]``, CVaR by
Rockafellar-Uryasev: a free ``eta`` and an excess ``e_s >= C_s - eta, e_s >= 0``
(``scenario_excess``), ``CVaR = eta + sum_s pi_s e_s / (1 - alpha)``. Over a chain ``C_0``
has the plan's input flows' trade cost too, and each scenario's recourse obeys the chain
(:mod:`solver.model.two_stage_chain`: its input flows, balances and rationing). Every row
is built with numpy index arithmetic over all flows of a scenario at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import MonomialTermExpression

from solver.case.loader import Case
from solver.case.scenarios import Scenarios, scenarios_over
from solver.model.constraints import add_bodies, minus
from solver.model.context import Context
from solver.model.data import ModelData, group_positions
from solver.model.two_stage_chain import ChainRecourse


def scenarios_of(case: Case, data: ModelData) -> Scenarios:
    """The case's scenarios over the pairs and flows of ``data``."""
    return scenarios_over(case.scenarios, data.pairs["partner"].to_numpy(dtype=object),
                          data.pairs["layer"].to_numpy(dtype=object),
                          data.flows["exporter"].to_numpy(dtype=object),
                          data.flows["importer"].to_numpy(dtype=object),
                          data.flows["layer"].to_numpy(dtype=object))


def open_flows(scen: Scenarios, data: ModelData, s: int) -> np.ndarray:
    """Positions of the flows that exist in scenario ``s`` (route open, pair not wiped out)."""
    alive = scen.factor[s][data.flow_pair] > 0
    return np.flatnonzero(alive & ~scen.closed[s])


def add_two_stage(ctx: Context, case: Case, scen: Scenarios) -> list[Any]:
    """Add the scenarios' variables and rows; return the recourse term's objective terms."""
    m, data = ctx.m, ctx.data
    opts = case.scenario_options
    n_s, n_rows = len(scen), ctx.n_rows
    flows_of = [open_flows(scen, data, s) for s in range(n_s)]
    sizes = [len(js) for js in flows_of]
    offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    m.sc_g = pyo.Var(pyo.SetOf(range(int(offset[-1]))), within=pyo.NonNegativeReals)
    m.sc_w = pyo.Var(pyo.SetOf(range(n_s * n_rows)), within=pyo.NonNegativeReals)
    m.sc_cost = pyo.Var(pyo.SetOf(range(n_s + 1)), within=pyo.NonNegativeReals)
    g = np.fromiter(m.sc_g.values(), dtype=object, count=int(offset[-1]))
    w = list(m.sc_w.values())
    cost = list(m.sc_cost.values())
    ctx.scenario_flows = flows_of
    d = list(ctx.num["demand"])
    trade = np.asarray(ctx.arrays["trade_cost"], dtype=float)
    price = ctx.num.scalar("shortage_cost")
    k = ctx.var_k
    dem_keys: list[tuple[str, ...]] = []
    dem_args: list[list[Any]] = []
    dem_bound: list[Any] = []
    cap_keys: list[tuple[str, ...]] = []
    cap_args: list[list[Any]] = []
    cost_args: list[list[Any]] = [_baseline_cost(ctx, price, cost[0])]
    chain = ChainRecourse(ctx, case, scen) if data.chain is not None else None
    ctx.chain_recourse = chain
    for s, js in enumerate(flows_of):
        name = scen.ids[s]
        mine = g[offset[s]:offset[s + 1]]
        for r, at in enumerate(group_positions(data.flow_row[js], n_rows)):
            dem_args.append([*mine[at].tolist(), w[s * n_rows + r]])
            dem_keys.append((name, ctx.row_member_id[r], ctx.row_layer_id[r]))
            dem_bound.append(d[r])
        pairs = data.flow_pair[js]
        bounds = np.searchsorted(pairs, np.arange(ctx.n_pairs + 1))
        factor = scen.factor[s].tolist()
        inputs = {} if chain is None else chain.capacity_terms(s)
        for a in sorted(set(np.flatnonzero(np.diff(bounds) > 0).tolist()) | set(inputs)):
            cap_args.append([*mine[bounds[a]:bounds[a + 1]].tolist(), *inputs.get(a, []),
                             MonomialTermExpression((-factor[a], k[a]))])
            cap_keys.append((name, ctx.pair_partner_id[a], ctx.pair_layer_id[a]))
        if ctx.num.is_mutable("trade_cost"):  # a sweep varies trade costs: every flow
            tnum = ctx.num["trade_cost"]
            row = [MonomialTermExpression((tnum[j], v))
                   for j, v in zip(js.tolist(), mine.tolist(), strict=True)]
        else:
            use = np.flatnonzero(trade[js] != 0)
            row = list(map(MonomialTermExpression, zip(trade[js][use].tolist(),
                                                      mine[use].tolist(), strict=True)))
        row += [MonomialTermExpression((price, v)) for v in w[s * n_rows:(s + 1) * n_rows]]
        if chain is not None:
            row += chain.cost_terms(s)
        row.append(minus(cost[s + 1]))
        cost_args.append(row)
    if chain is not None:
        chain.add_rows([(js, g[offset[s]:offset[s + 1]]) for s, js in enumerate(flows_of)], w)
    add_bodies(ctx, "scenario_demand", dem_keys, dem_args, dem_bound, dem_bound,
               requirement=False)
    add_bodies(ctx, "scenario_capacity", cap_keys, cap_args, None, [0.0] * len(cap_keys),
               requirement=False)
    zeros = [0.0] * (n_s + 1)
    add_bodies(ctx, "scenario_cost", [("",), *((i,) for i in scen.ids)], cost_args, zeros,
               zeros, requirement=False)
    pi = [scen.rest, *scen.probability.tolist()]
    expected = [MonomialTermExpression((p, c)) for p, c in zip(pi, cost, strict=True) if p]
    if opts.design != "cvar" or opts.cvar_weight == 0:
        return expected
    weight, alpha = float(opts.cvar_weight), float(opts.cvar_alpha)
    m.sc_eta = pyo.Var(pyo.SetOf(range(1)), within=pyo.Reals)
    m.sc_excess = pyo.Var(pyo.SetOf(range(n_s + 1)), within=pyo.NonNegativeReals)
    eta = m.sc_eta[0]
    excess = list(m.sc_excess.values())
    add_bodies(ctx, "scenario_excess", [("",), *((i,) for i in scen.ids)],
               [[e, eta, minus(c)] for e, c in zip(excess, cost, strict=True)], zeros, None,
               requirement=False)
    out = [MonomialTermExpression(((1 - weight) * t.args[0], t.args[1])) for t in expected
           if weight < 1]
    out.append(MonomialTermExpression((weight, eta)))
    out += [MonomialTermExpression((weight * p / (1 - alpha), e))
            for p, e in zip(pi, excess, strict=True) if p]
    return out


def _baseline_cost(ctx: Context, price: Any, c0: Any) -> list[Any]:
    """``sum_j t_j f_j + price * sum_r z_r - C_0``: the no-disruption outcome's cost."""
    trade = np.asarray(ctx.arrays["trade_cost"], dtype=float)
    mutable = ctx.num.is_mutable("trade_cost")
    use = range(len(trade)) if mutable else np.flatnonzero(trade != 0).tolist()
    f, tnum = ctx.var_f, ctx.num["trade_cost"]
    row: list[Any] = [MonomialTermExpression((tnum[j], f[j])) for j in use]
    row += [MonomialTermExpression((price, z)) for z in ctx.var_z]
    if ctx.data.chain is not None:  # the plan's input flows
        cost = np.asarray(ctx.arrays["input_trade_cost"], dtype=float)
        use = range(len(cost)) if ctx.num.is_mutable("input_trade_cost") else \
            np.flatnonzero(cost != 0).tolist()
        g, gnum = ctx.var_g, ctx.num["input_trade_cost"]
        row += [MonomialTermExpression((gnum[j], g[j])) for j in use]
    row.append(minus(c0))
    return row


def two_stage_variables(m: Any) -> dict[str, Any]:
    """The two-stage model's variable groups (empty for a one-stage model)."""
    if not hasattr(m, "sc_cost"):
        return {}
    out = {"sc_g": m.sc_g, "sc_w": m.sc_w, "sc_cost": m.sc_cost}
    if hasattr(m, "sc_h"):
        out.update(sc_h=m.sc_h, sc_x=m.sc_x)
    if hasattr(m, "sc_eta"):
        out.update(sc_eta=m.sc_eta, sc_excess=m.sc_excess)
    return out
