"""The constraint families of SPEC section 3, one ``add_<family>`` function each.

Notation: pairs ``a = (p, l)`` in A with trust filtering applied, demand rows ``r = (n, l)``
with demand ``d[r]``, flows ``j = (p, n, l)`` over allowed routes. ``q[a]`` (supplied) and
``built[l]`` (capacity built for the layer) are auxiliary variables defined by the
``supplied`` and ``built`` rows, so that no family repeats a long sum of flows.

Each function returns early when the family does not apply, names its Pyomo component after
the family, and records the entity each row belongs to in ``m.row_keys[family]``. With
``elastic=True`` every requirement row gets a penalised slack (see :mod:`solver.explain`);
single-variable rows then stay rows instead of becoming variable bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from solver.model.context import Context

Row = tuple[list[Any], list[Any]]


def add_rows(
    ctx: Context,
    name: str,
    keys: Sequence[tuple[str, ...]],
    terms: Sequence[Row],
    lower: Sequence[Any] | None,
    upper: Sequence[Any] | None,
    requirement: bool = True,
    scale: Sequence[float] | None = None,
) -> None:
    """Add the rows ``lower <= sum(coefs * vars) <= upper`` as component ``m.<name>``.

    In elastic mode a requirement row gets slack variables ``m.<name>_below`` (how far the
    body may fall short of ``lower``) and ``m.<name>_above`` (how far it may exceed
    ``upper``), priced in the elastic objective at ``1 / scale`` per unit.
    """
    m = ctx.m
    n = len(keys)
    if n == 0:
        return
    vars_ = [list(v) for v, _ in terms]
    coefs = [list(c) for _, c in terms]
    if ctx.elastic and requirement:
        weights = [1.0 / max(abs(s), 1e-6) for s in (scale or [1.0] * n)]
        if lower is not None:
            below = pyo.Var(range(n), within=pyo.NonNegativeReals)
            m.add_component(f"{name}_below", below)
            for i in range(n):
                vars_[i].append(below[i])
                coefs[i].append(1.0)
            ctx.slacks.append((name, below, weights, "below"))
        if upper is not None:
            above = pyo.Var(range(n), within=pyo.NonNegativeReals)
            m.add_component(f"{name}_above", above)
            for i in range(n):
                vars_[i].append(above[i])
                coefs[i].append(-1.0)
            ctx.slacks.append((name, above, weights, "above"))
    bodies = [LinearExpression(constant=0.0, linear_coefs=c, linear_vars=v)
              for v, c in zip(vars_, coefs, strict=True)]
    lo = lower if lower is not None else [None] * n
    hi = upper if upper is not None else [None] * n
    m.add_component(name, pyo.Constraint(range(n), rule=lambda _, i: (lo[i], bodies[i], hi[i])))
    m.row_keys[name] = list(keys)


def _pair_key(ctx: Context, a: int) -> tuple[str, str]:
    return ctx.pair_partner_id[a], ctx.pair_layer_id[a]


def add_supplied(ctx: Context) -> None:
    """Definition of what a partner supplies: ``q[p,l] = sum_n f[p,n,l]``."""
    m = ctx.m
    keys, terms = [], []
    for a, js in enumerate(ctx.flows_of_pair):
        keys.append(_pair_key(ctx, a))
        terms.append(([m.q[a]] + [m.f[j] for j in js], [1.0] + [-1.0] * len(js)))
    add_rows(ctx, "define_supplied", keys, terms, [0.0] * len(keys), [0.0] * len(keys),
             requirement=False)


def add_built(ctx: Context) -> None:
    """Definition of the capacity built per layer: ``built[l] = sum_p k[p,l]``."""
    m = ctx.m
    keys, terms = [], []
    for layer, pairs in enumerate(ctx.pairs_of_layer):
        keys.append((ctx.layer_id[layer],))
        terms.append(([m.built[layer]] + [m.k[a] for a in pairs], [1.0] + [-1.0] * len(pairs)))
    add_rows(ctx, "define_built", keys, terms, [0.0] * len(keys), [0.0] * len(keys),
             requirement=False)


def add_demand(ctx: Context) -> None:
    """Demand is met exactly: ``sum_p f[p,n,l] = d[n,l]`` for every demand row."""
    m, d = ctx.m, ctx.num["demand"]
    keys = [(ctx.row_member_id[r], ctx.row_layer_id[r]) for r in range(ctx.n_rows)]
    terms = [([m.f[j] for j in js], [1.0] * len(js)) for js in ctx.flows_of_row]
    add_rows(ctx, "demand", keys, terms, list(d), list(d), scale=ctx.arrays["demand"].tolist())


def add_capacity(ctx: Context) -> None:
    """A partner supplies at most what it built: ``q[p,l] <= k[p,l]``."""
    m = ctx.m
    keys = [_pair_key(ctx, a) for a in range(ctx.n_pairs)]
    terms = [([m.q[a], m.k[a]], [1.0, -1.0]) for a in range(ctx.n_pairs)]
    add_rows(ctx, "capacity", keys, terms, None, [0.0] * len(keys), requirement=False)


def add_hosting(ctx: Context) -> None:
    """Capacity only where hosted, within scale: ``min_capacity*y <= k <= capacity*y``.

    Two components: ``hosting`` (the upper side) and ``hosting_min`` (the lower side, only
    for pairs with a minimum efficient scale).
    """
    m, cap, minc = ctx.m, ctx.num["capacity"], ctx.num["min_capacity"]
    keys = [_pair_key(ctx, a) for a in range(ctx.n_pairs)]
    terms = [([m.k[a], m.y[a]], [1.0, -cap[a]]) for a in range(ctx.n_pairs)]
    add_rows(ctx, "hosting", keys, terms, None, [0.0] * len(keys), requirement=False)
    use = [a for a in range(ctx.n_pairs)
           if ctx.num.is_mutable("min_capacity") or ctx.arrays["min_capacity"][a] > 0]
    add_rows(ctx, "hosting_min", [keys[a] for a in use],
             [([m.k[a], m.y[a]], [1.0, -minc[a]]) for a in use], [0.0] * len(use), None,
             requirement=False)


def add_supplier_share(ctx: Context) -> None:
    """A host supplies at least its share: ``q[p,l] >= min_supplier_share_l * D_l * y[p,l]``."""
    m, share = ctx.m, ctx.num["min_supplier_share"]
    mutable = ctx.num.is_mutable("min_supplier_share") or ctx.num.is_mutable("demand")
    use = [a for a in range(ctx.n_pairs) if mutable or (
        ctx.arrays["min_supplier_share"][ctx.pair_layer[a]] * ctx.demand_value[ctx.pair_layer[a]]
        > 0)]
    keys = [_pair_key(ctx, a) for a in use]
    terms = [([m.q[a], m.y[a]], [1.0, -share[ctx.pair_layer[a]] * ctx.D[ctx.pair_layer[a]]])
             for a in use]
    scale = [max(ctx.demand_value[ctx.pair_layer[a]], 1.0) for a in use]
    add_rows(ctx, "supplier_share", keys, terms, [0.0] * len(use), None, scale=scale)


def add_diversification(ctx: Context) -> None:
    """At least ``min_suppliers_l`` partners host a layer with demand: ``sum_p y[p,l] >= m_l``."""
    m, need = ctx.m, ctx.num["min_suppliers"]
    mutable = ctx.num.is_mutable("min_suppliers") or ctx.num.is_mutable("demand")
    use = [layer for layer in range(ctx.n_layers) if mutable or (
        ctx.demand_value[layer] > 0 and ctx.arrays["min_suppliers"][layer] > 0)]
    keys = [(ctx.layer_id[layer],) for layer in use]
    terms = [([m.y[a] for a in ctx.pairs_of_layer[layer]],
              [1.0] * len(ctx.pairs_of_layer[layer])) for layer in use]
    lower = []
    for layer in use:
        # A layer without demand needs no supplier, whatever min_suppliers says.
        if ctx.num.is_mutable("demand") and ctx.demand_value[layer] <= 0:
            lower.append(0.0)
        else:
            lower.append(need[layer])
    add_rows(ctx, "diversification", keys, terms, lower, None)


def add_concentration(ctx: Context) -> None:
    """No partner supplies more than its share: ``q[p,l] <= max_share_l * D_l``.

    One variable per row, so outside elastic mode it is a bound on ``q``.
    """
    m, share = ctx.m, ctx.num["max_share"]
    mutable = ctx.num.is_mutable("max_share")
    use = [a for a in range(ctx.n_pairs)
           if mutable or ctx.arrays["max_share"][ctx.pair_layer[a]] < 1.0]
    ub = [share[ctx.pair_layer[a]] * ctx.D[ctx.pair_layer[a]] for a in use]
    if not ctx.elastic:
        for a, bound in zip(use, ub, strict=True):
            m.q[a].setub(bound)
        ctx.bounds["concentration"] = [tuple(_pair_key(ctx, a)) for a in use]
        return
    add_rows(ctx, "concentration", [_pair_key(ctx, a) for a in use],
             [([m.q[a]], [1.0]) for a in use], None, ub,
             scale=[max(ctx.demand_value[ctx.pair_layer[a]], 1.0) for a in use])


def add_resilience(ctx: Context) -> None:
    """N-1: without any one host the rest covers the requirement.

    ``built[l] - k[p,l] >= resilience_l * D_l`` for every p in S(l).
    """
    m, res = ctx.m, ctx.num["resilience"]
    mutable = ctx.num.is_mutable("resilience")
    use = [a for a in range(ctx.n_pairs)
           if mutable or ctx.arrays["resilience"][ctx.pair_layer[a]] > 0]
    keys = [_pair_key(ctx, a) for a in use]
    terms = [([m.built[ctx.pair_layer[a]], m.k[a]], [1.0, -1.0]) for a in use]
    lower = [res[ctx.pair_layer[a]] * ctx.D[ctx.pair_layer[a]] for a in use]
    # Layers that nobody can host still need N-1 cover: a row with the layer total only.
    hosted = set(ctx.pair_layer.tolist())
    for layer in range(ctx.n_layers):
        if layer not in hosted and (mutable or ctx.arrays["resilience"][layer] > 0):
            keys.append(("", ctx.layer_id[layer]))
            terms.append(([m.built[layer]], [1.0]))
            lower.append(res[layer] * ctx.D[layer])
    scale = [max(ctx.demand_value[ctx.layer_pos[k[1]]], 1.0) for k in keys]
    add_rows(ctx, "resilience", keys, terms, lower, None, scale=scale)


def add_surplus(ctx: Context) -> None:
    """Surplus capacity is capped: ``built[l] - D_l <= max_surplus_l * D_l``."""
    m, ms = ctx.m, ctx.num["max_surplus"]
    use = [layer for layer in range(ctx.n_layers)
           if not np.isnan(ctx.arrays["max_surplus"][layer])]
    keys = [(ctx.layer_id[layer],) for layer in use]
    terms = [([m.built[layer]], [1.0]) for layer in use]
    upper = [(1.0 + ms[layer]) * ctx.D[layer] for layer in use]
    add_rows(ctx, "surplus", keys, terms, None, upper,
             scale=[max(ctx.demand_value[layer], 1.0) for layer in use])


def add_dependency(ctx: Context) -> None:
    """Exit rights: ``f[p,n,l] <= max_dependency[n,l] * d[n,l]`` for every foreign p.

    One variable per row, so outside elastic mode it is a bound on the flow.
    """
    m, dep, d = ctx.m, ctx.num["max_dependency"], ctx.num["demand"]
    mutable = ctx.num.is_mutable("max_dependency")
    rows = ctx.flow_row
    use = [j for j in range(ctx.n_flows) if not ctx.flow_domestic[j] and (
        mutable or ctx.arrays["max_dependency"][rows[j]] < 1.0)]
    ub = [dep[rows[j]] * d[rows[j]] for j in use]
    keys = [ctx.flow_key(j) for j in use]
    if not ctx.elastic:
        for j, bound in zip(use, ub, strict=True):
            m.f[j].setub(bound)
        ctx.bounds["dependency"] = keys
        return
    add_rows(ctx, "dependency", keys, [([m.f[j]], [1.0]) for j in use], None, ub,
             scale=[max(ctx.arrays["demand"][rows[j]], 1.0) for j in use])


def add_domestic(ctx: Context) -> None:
    """Sovereignty: ``f[n,n,l] >= min_domestic[n,l] * d[n,l]``.

    One variable per row, so outside elastic mode it is a bound on the domestic flow. A row
    whose member cannot produce the layer has no domestic flow: in elastic mode its row
    holds the slack alone; otherwise the case is infeasible (found before solving).
    """
    m, dom, d = ctx.m, ctx.num["min_domestic"], ctx.num["demand"]
    mutable = ctx.num.is_mutable("min_domestic")
    home = {int(r): int(j) for j, r in enumerate(ctx.flow_row) if ctx.flow_domestic[j]}
    use = [r for r in range(ctx.n_rows) if mutable or ctx.arrays["min_domestic"][r] > 0]
    keys = [(ctx.row_member_id[r], ctx.row_layer_id[r]) for r in use]
    lb = [dom[r] * d[r] for r in use]
    if not ctx.elastic:
        missing = [keys[i] for i, r in enumerate(use) if r not in home]
        ctx.unmet_domestic = missing
        for r, bound in zip(use, lb, strict=True):
            if r in home:
                m.f[home[r]].setlb(bound)
        ctx.bounds["domestic"] = keys
        return
    terms = [([m.f[home[r]]] if r in home else [], [1.0] if r in home else []) for r in use]
    add_rows(ctx, "domestic", keys, terms, lb, None,
             scale=[max(ctx.arrays["demand"][r], 1.0) for r in use])


def add_participation(ctx: Context) -> None:
    """Economic participation in value, ``V = sum_l v_l D_l``.

    ``min_part_p * V <= sum_l v_l q[p,l] <= max_part_p * V``.
    """
    m, lo, hi, v = ctx.m, ctx.num["min_participation"], ctx.num["max_participation"], \
        ctx.num["unit_value"]
    mutable = ctx.num.is_mutable("min_participation") or ctx.num.is_mutable("max_participation")
    keys, terms, lower, upper, scale = [], [], [], [], []
    for p in range(ctx.n_partners):
        has_lo = mutable or ctx.arrays["min_participation"][p] > 0
        has_hi = mutable or ctx.arrays["max_participation"][p] < 1
        if not (has_lo or has_hi):
            continue
        pairs = ctx.pairs_of_partner[p]
        keys.append((ctx.partner_id[p],))
        terms.append(([m.q[a] for a in pairs], [v[ctx.pair_layer[a]] for a in pairs]))
        lower.append(lo[p] * ctx.V if has_lo else 0.0)
        upper.append(hi[p] * ctx.V if has_hi else None)
        scale.append(max(ctx.total_value, 1.0))
    add_rows(ctx, "participation", keys, terms, lower, upper, scale=scale)


def add_budget(ctx: Context) -> None:
    """Spending cap: ``fixed + capacity + trade costs <= objective.budget``."""
    if not ctx.num.is_mutable("budget") and np.isnan(ctx.arrays["budget"][0]):
        return
    m = ctx.m
    fixed, unit, trade = ctx.num["fixed_cost"], ctx.num["unit_cost"], ctx.num["trade_cost"]
    vars_ = [m.y[a] for a in range(ctx.n_pairs)] + [m.k[a] for a in range(ctx.n_pairs)] + [
        m.f[j] for j in range(ctx.n_flows)]
    coefs = list(fixed) + list(unit) + list(trade)
    budget = ctx.num.scalar("budget")
    add_rows(ctx, "budget", [()], [(vars_, coefs)], None, [budget],
             scale=[max(float(np.nan_to_num(ctx.arrays["budget"][0])), 1.0)])


#: The families in the order they are built (definitions first).
FAMILIES = [
    add_supplied,
    add_built,
    add_demand,
    add_capacity,
    add_hosting,
    add_supplier_share,
    add_diversification,
    add_concentration,
    add_resilience,
    add_surplus,
    add_dependency,
    add_domestic,
    add_participation,
    add_budget,
]
