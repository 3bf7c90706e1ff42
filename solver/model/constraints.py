"""The constraint families of README, The model, one ``add_<family>`` function each.

Notation: pairs ``a = (p, l)`` in A with trust filtering applied, demand rows ``r = (n, l)``
with demand ``d[r]``, flows ``j = (p, n, l)`` over allowed routes. ``q[a]`` (supplied) and
``built[l]`` (capacity built for the layer) are auxiliary variables defined by the
``supplied`` and ``built`` rows, so that no family repeats a long sum of flows.

Each function returns early when the family does not apply, names its Pyomo component after
the family, and records the entity each row belongs to in ``m.row_keys[family]``. With
``elastic=True`` every requirement row gets a penalised slack (see :mod:`solver.diagnose.explain`);
single-variable rows then stay rows instead of becoming variable bounds.

Rows are built for speed at a million variables: each body is a ``LinearExpression`` whose
terms are the variables themselves where the coefficient is 1 (no term object per flow) and
``coef * var`` monomials elsewhere; index arithmetic is done with numpy, not per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import MonomialTermExpression

from solver.model.context import Context
from solver.model.data import group_positions
from solver.model.rows import Row, add_bodies, add_rows, minus

__all__ = ["FAMILIES", "Row", "add_bodies", "add_rows", "minus"]


def _pair_keys(ctx: Context, pairs: Sequence[int] | np.ndarray) -> list[tuple[str, str]]:
    return [(ctx.pair_partner_id[a], ctx.pair_layer_id[a]) for a in pairs]


def _minus(v: Any) -> MonomialTermExpression:
    return MonomialTermExpression((-1.0, v))


def add_supplied(ctx: Context) -> None:
    """Definition of what a partner supplies: ``q[p,l] = sum_n f[p,n,l]``.

    Written ``sum_n f[p,n,l] - q[p,l] = 0``, so that the flows are bare terms. With inputs
    (README, The stack as a chain) supply is final plus input deliveries:
    ``q[p,l] = sum_n f[p,n,l] + sum_{r,l'} g[p,r,l',l]``. With markets it includes what p
    sends them: ``+ sum_r h[p,r]``.
    """
    f, q, start = ctx.var_f, ctx.var_q, ctx.pair_flow_start.tolist()
    args = [[*f[start[a]:start[a + 1]], _minus(q[a])] for a in range(ctx.n_pairs)]
    chain = ctx.data.chain
    if chain is not None and chain.n_flows:
        g = ctx.var_g
        g_start = np.searchsorted(chain.flows["supplier"].to_numpy(),
                                  np.arange(ctx.n_pairs + 1)).tolist()
        for a in range(ctx.n_pairs):
            args[a][-1:-1] = g[g_start[a]:g_start[a + 1]]
    for a, h in enumerate(ctx.market_flows_of_pair):
        args[a][-1:-1] = h
    zeros = [0.0] * ctx.n_pairs
    add_bodies(ctx, "define_supplied", _pair_keys(ctx, range(ctx.n_pairs)), args, zeros,
                zeros, requirement=False)


def add_built(ctx: Context) -> None:
    """Definition of the capacity built per layer: ``built[l] = sum_p k[p,l]``.

    Written ``sum_p k[p,l] - built[l] = 0``.
    """
    k, built = ctx.var_k, ctx.var_built
    args = [[*(k[a] for a in pairs), _minus(built[layer])]
            for layer, pairs in enumerate(ctx.pairs_of_layer)]
    zeros = [0.0] * ctx.n_layers
    add_bodies(ctx, "define_built", [(lay,) for lay in ctx.layer_id], args, zeros, zeros,
                requirement=False)


def add_demand(ctx: Context) -> None:
    """Demand is met exactly: ``sum_p f[p,n,l] = d[n,l]`` for every demand row.

    With shortage, ``sum_p f[p,n,l] + z[n,l] = d[n,l]``: ``z`` is the unmet demand.
    """
    d = ctx.num["demand"]
    keys = list(zip(ctx.row_member_id, ctx.row_layer_id, strict=True))
    flows = np.fromiter(ctx.var_f, dtype=object, count=ctx.n_flows)
    args = [flows[js].tolist() for js in ctx.flows_of_row]
    for row, z in zip(args, ctx.var_z, strict=False):
        row.append(z)
    # With shortage (the priced game model too) the unmet demand z is the row's only slack.
    add_bodies(ctx, "demand", keys, args, list(d), list(d), requirement=not ctx.shortage,
                scale=ctx.arrays["demand"].tolist())


def add_surplus_part(ctx: Context) -> None:
    """With shortage, the surplus is a positive part: ``u_l >= built[l] - D_l``, ``u_l >= 0``.

    Written ``u_l - built[l] >= -D_l``, with markets ``u_l - built[l] + mk_l >= -D0_l``.
    Without shortage the surplus is ``built[l] - D_l`` (never negative: demand is met from
    built capacity) and there is no ``u``.
    """
    if not ctx.shortage:
        return
    u, built = ctx.var_u, ctx.var_built
    args = [[u[layer], _minus(built[layer]), *ctx.market_terms(layer, -1.0)]
            for layer in range(ctx.n_layers)]
    lower = [-D for D in ctx.D]
    add_bodies(ctx, "surplus_part", [(lay,) for lay in ctx.layer_id], args, lower, None,
                requirement=False)


def add_capacity(ctx: Context) -> None:
    """A partner supplies at most what it built: ``q[p,l] <= k[p,l]``."""
    q, k = ctx.var_q, ctx.var_k
    args = [[q[a], _minus(k[a])] for a in range(ctx.n_pairs)]
    add_bodies(ctx, "capacity", _pair_keys(ctx, range(ctx.n_pairs)), args, None,
                [0.0] * ctx.n_pairs, requirement=False)


def add_hosting(ctx: Context) -> None:
    """Capacity only where hosted, within scale: ``min_capacity*y <= k <= capacity*y``.

    Two components: ``hosting`` (the upper side) and ``hosting_min`` (the lower side, only
    for pairs with a minimum efficient scale). A pair of a layer without demand cannot
    supply anything, so it does not host (``y = 0``: hosting it would be a free choice of
    no use, decided by the solver's column order).
    """
    k, y = ctx.var_k, ctx.var_y
    if not ctx.num.is_mutable("demand"):
        for a in np.flatnonzero(ctx.demand_upper[ctx.pair_layer] <= 0).tolist():
            y[a].setub(0)
    cap, minc = ctx.num["capacity"], ctx.num["min_capacity"]
    keys = _pair_keys(ctx, range(ctx.n_pairs))
    args = [[k[a], MonomialTermExpression((-cap[a], y[a]))] for a in range(ctx.n_pairs)]
    add_bodies(ctx, "hosting", keys, args, None, [0.0] * len(keys), requirement=False)
    if ctx.num.is_mutable("min_capacity"):
        use = list(range(ctx.n_pairs))
    else:
        use = np.flatnonzero(ctx.arrays["min_capacity"] > 0).tolist()
    args = [[k[a], MonomialTermExpression((-minc[a], y[a]))] for a in use]
    add_bodies(ctx, "hosting_min", [keys[a] for a in use], args, [0.0] * len(use), None,
                requirement=False)


def add_supplier_share(ctx: Context) -> None:
    """A host supplies at least its share: ``q[p,l] >= min_supplier_share_l * D_l * y[p,l]``.

    Where markets reach the layer D_l is a variable, and the row is written with D's upper
    bound ``U_l`` (README, Markets outside the coalition): ``q >= sigma D - sigma U (1 - y)``,
    that is ``q - sigma mk - sigma U y >= -sigma (U_l - D0_l)``.
    """
    q, y, share, D, pl = ctx.var_q, ctx.var_y, ctx.num["min_supplier_share"], ctx.D, \
        ctx.pair_layer.tolist()
    mutable = ctx.num.is_mutable("min_supplier_share") or ctx.num.is_mutable("demand")
    if mutable:
        use = list(range(ctx.n_pairs))
    else:
        need = ctx.arrays["min_supplier_share"][ctx.pair_layer] * \
            ctx.demand_upper[ctx.pair_layer]
        use = np.flatnonzero(need > 0).tolist()
    reached, extra = ctx.market_requirement, ctx.market_upper.tolist()
    args = [[q[a], MonomialTermExpression((-share[pl[a]] * D[pl[a]], y[a]))]
            if pl[a] not in reached else
            [q[a], *ctx.market_terms(pl[a], share[pl[a]]),
             MonomialTermExpression((-share[pl[a]] * (D[pl[a]] + extra[pl[a]]), y[a]))]
            for a in use]
    lower = [0.0 if pl[a] not in reached else -share[pl[a]] * extra[pl[a]] for a in use]
    scale = np.maximum(ctx.demand_value[ctx.pair_layer[use]], 1.0).tolist()
    add_bodies(ctx, "supplier_share", _pair_keys(ctx, use), args, lower, None, scale=scale)


def add_diversification(ctx: Context) -> None:
    """At least ``min_suppliers_l`` partners host a layer with demand: ``sum_p y[p,l] >= m_l``."""
    y, need = ctx.var_y, ctx.num["min_suppliers"]
    mutable = ctx.num.is_mutable("min_suppliers") or ctx.num.is_mutable("demand")
    use = [layer for layer in range(ctx.n_layers) if mutable or (
        ctx.demand_value[layer] > 0 and ctx.arrays["min_suppliers"][layer] > 0)]
    keys = [(ctx.layer_id[layer],) for layer in use]
    args = [[y[a] for a in ctx.pairs_of_layer[layer]] for layer in use]
    lower = []
    for layer in use:
        # A layer without demand needs no supplier, whatever min_suppliers says.
        if ctx.num.is_mutable("demand") and ctx.demand_value[layer] <= 0:
            lower.append(0.0)
        else:
            lower.append(need[layer])
    add_bodies(ctx, "diversification", keys, args, lower, None)


def add_concentration(ctx: Context) -> None:
    """No partner supplies more than its share: ``q[p,l] <= max_share_l * D_l``.

    One variable per row, so outside elastic mode it is a bound on ``q``. With markets it
    caps the share of all of the layer's supply: ``q[p,l] - max_share_l mk_l <= max_share_l
    D0_l``, a row where markets reach the layer.
    """
    q, share, D, pl = ctx.var_q, ctx.num["max_share"], ctx.D, ctx.pair_layer.tolist()
    if ctx.num.is_mutable("max_share"):
        use = list(range(ctx.n_pairs))
    else:
        use = np.flatnonzero(ctx.arrays["max_share"][ctx.pair_layer] < 1.0).tolist()
    ub = [share[pl[a]] * D[pl[a]] for a in use]
    if not ctx.elastic and not ctx.market_requirement:
        for a, bound in zip(use, ub, strict=True):
            q[a].setub(bound)
        ctx.bounds["concentration"] = _pair_keys(ctx, use)
        return
    add_bodies(ctx, "concentration", _pair_keys(ctx, use),
               [[q[a], *ctx.market_terms(pl[a], share[pl[a]])] for a in use], None, ub,
               scale=np.maximum(ctx.demand_value[ctx.pair_layer[use]], 1.0).tolist())


def add_resilience(ctx: Context) -> None:
    """N-k: without any ``K = resilience_k`` hosts at once the rest covers the requirement.

    ``K = 1`` (N-1) is one row per host: ``built[l] - k[p,l] >= resilience_l * D_l`` for every
    p in S(l). For ``K > 1`` the sum of the K largest ``k[p,l]`` is linear through its LP
    dual, ``min_{t >= 0} K*t + sum_p max(k[p,l] - t, 0)``: with ``t_l >= 0`` (``m.res_t``) and
    ``s[p,l] >= 0`` (``m.res_s``),

        ``s[p,l] + t_l - k[p,l] >= 0`` for every p in S(l)            (``resilience_top``)
        ``built[l] - K*t_l - sum_p s[p,l] >= resilience_l * D_l``        (``resilience``)

    one row per host and one per layer, not one per subset of K hosts. ``t >= 0`` makes the
    top-K sum of a layer with at most K hosts its whole capacity, so a positive resilience
    is then infeasible, as it should be.
    """
    k, built, res, D = ctx.var_k, ctx.var_built, ctx.num["resilience"], ctx.D
    pl = ctx.pair_layer.tolist()
    mutable = ctx.num.is_mutable("resilience")
    big_k = resilience_k(ctx)
    wanted = [mutable or ctx.arrays["resilience"][layer] > 0 for layer in range(ctx.n_layers)]
    single = [w and big_k[layer] == 1 for layer, w in enumerate(wanted)]
    use = [a for a in range(ctx.n_pairs) if single[pl[a]]]
    keys: list[tuple[str, ...]] = list(_pair_keys(ctx, use))
    args = [[built[pl[a]], _minus(k[a]), *ctx.market_terms(pl[a], res[pl[a]])] for a in use]
    lower = [res[pl[a]] * D[pl[a]] for a in use]
    # Layers that nobody can host still need N-1 cover: a row with the layer total only.
    hosted = set(pl)
    for layer in range(ctx.n_layers):
        if single[layer] and layer not in hosted:
            keys.append(("", ctx.layer_id[layer]))
            args.append([built[layer], *ctx.market_terms(layer, res[layer])])
            lower.append(res[layer] * D[layer])
    many = [layer for layer in range(ctx.n_layers) if wanted[layer] and big_k[layer] > 1]
    if many:
        t = pyo.Var(pyo.SetOf(range(len(many))), within=pyo.NonNegativeReals)
        ctx.m.res_t = t
        top = [a for layer in many for a in ctx.pairs_of_layer[layer]]
        s = pyo.Var(pyo.SetOf(range(len(top))), within=pyo.NonNegativeReals)
        ctx.m.res_s = s
        t_of = {layer: v for layer, v in zip(many, t.values(), strict=True)}
        ctx.res_pairs = top
        s_of = dict(zip(top, s.values(), strict=True))
        add_bodies(ctx, "resilience_top", _pair_keys(ctx, top),
                    [[s_of[a], t_of[pl[a]], _minus(k[a])] for a in top], [0.0] * len(top),
                    None, requirement=False)
        for layer in many:
            keys.append((f"{big_k[layer]} largest", ctx.layer_id[layer]))
            args.append([built[layer], MonomialTermExpression((-float(big_k[layer]),
                                                                t_of[layer])),
                         *(_minus(s_of[a]) for a in ctx.pairs_of_layer[layer]),
                         *ctx.market_terms(layer, res[layer])])
            lower.append(res[layer] * D[layer])
    scale = [max(ctx.demand_value[ctx.layer_pos[key[1]]], 1.0) for key in keys]
    add_bodies(ctx, "resilience", keys, args, lower, None, scale=scale)


def resilience_k(ctx: Context) -> list[int]:
    """``resilience_k`` of each layer (1 where the column is absent)."""
    return layer_resilience_k(ctx.data.layers)


def layer_resilience_k(layers: pd.DataFrame) -> list[int]:
    """``resilience_k`` of each row of ``layers`` (1 where the column is absent)."""
    if "resilience_k" not in layers:
        return [1] * len(layers)
    return [max(int(x), 1) for x in layers["resilience_k"].tolist()]


def add_surplus(ctx: Context) -> None:
    """Surplus capacity is capped: ``built[l] - D_l <= max_surplus_l * D_l``.

    Written ``built[l] - (1 + max_surplus_l) mk_l <= (1 + max_surplus_l) D0_l`` with markets.
    """
    built, ms = ctx.var_built, ctx.num["max_surplus"]
    use = [layer for layer in range(ctx.n_layers)
           if not np.isnan(ctx.arrays["max_surplus"][layer])]
    keys = [(ctx.layer_id[layer],) for layer in use]
    upper = [(1.0 + ms[layer]) * ctx.D[layer] for layer in use]
    add_bodies(ctx, "surplus", keys, [[built[layer], *ctx.market_terms(layer, 1.0 + ms[layer])]
                                      for layer in use], None, upper,
                scale=[max(ctx.demand_value[layer], 1.0) for layer in use])


def add_dependency(ctx: Context) -> None:
    """Exit rights: ``f[p,n,l] <= max_dependency[n,l] * d[n,l]`` for every foreign p.

    One variable per row, so outside elastic mode it is a bound on the flow.
    """
    f, dep, d = ctx.var_f, ctx.num["max_dependency"], ctx.num["demand"]
    rows = ctx.flow_row
    foreign = ~ctx.flow_domestic
    if ctx.num.is_mutable("max_dependency"):
        use = np.flatnonzero(foreign)
    else:
        use = np.flatnonzero(foreign & (ctx.arrays["max_dependency"][rows] < 1.0))
    if ctx.num.is_mutable("max_dependency") or ctx.num.is_mutable("demand"):
        ub: list[Any] = [dep[r] * d[r] for r in rows[use].tolist()]
    else:
        # One number per demand row, shared by the row's flows (not one float per flow).
        per_row = (ctx.arrays["max_dependency"] * ctx.arrays["demand"]).tolist()
        ub = [per_row[r] for r in rows[use].tolist()]
    keys = ctx.flow_keys(use)
    if not ctx.elastic:
        for j, bound in zip(use.tolist(), ub, strict=True):
            f[j].setub(bound)
        ctx.bounds["dependency"] = keys
        return
    add_rows(ctx, "dependency", keys, [([f[j]], None) for j in use.tolist()], None, ub,
             scale=np.maximum(ctx.arrays["demand"][rows[use]], 1.0).tolist())


def add_domestic(ctx: Context) -> None:
    """Sovereignty: ``f[n,n,l] >= min_domestic[n,l] * d[n,l]``.

    One variable per row, so outside elastic mode it is a bound on the domestic flow. A row
    whose member cannot host the layer (no capability, or its trust below the layer's
    min_trust) has no domestic flow: its row ``0 >= min_domestic d`` is kept, empty (in
    elastic mode it holds the slack alone), so that a positive requirement makes the model
    infeasible, with or without shortage (the requirement refers to the demand d).
    """
    f, dom, d = ctx.var_f, ctx.num["min_domestic"], ctx.num["demand"]
    mutable = ctx.num.is_mutable("min_domestic")
    home = np.full(ctx.n_rows, -1, dtype=np.int64)
    at = np.flatnonzero(ctx.flow_domestic)
    home[ctx.flow_row[at]] = at
    if mutable:
        use = list(range(ctx.n_rows))
    else:
        use = np.flatnonzero(ctx.arrays["min_domestic"] > 0).tolist()
    keys = [(ctx.row_member_id[r], ctx.row_layer_id[r]) for r in use]
    lb = [dom[r] * d[r] for r in use]
    home_of = home.tolist()
    if not ctx.elastic:
        for r, bound in zip(use, lb, strict=True):
            if home_of[r] >= 0:
                f[home_of[r]].setlb(bound)
        ctx.bounds["domestic"] = [keys[i] for i, r in enumerate(use) if home_of[r] >= 0]
        homeless = [i for i, r in enumerate(use) if home_of[r] < 0]
        add_rows(ctx, "domestic", [keys[i] for i in homeless], [([], None)] * len(homeless),
                 [lb[i] for i in homeless], None)
        return
    terms: list[Row] = [([f[home_of[r]]] if home_of[r] >= 0 else [], None) for r in use]
    add_rows(ctx, "domestic", keys, terms, lb, None,
             scale=[max(ctx.arrays["demand"][r], 1.0) for r in use])


def add_participation(ctx: Context) -> None:
    """Economic participation in value, ``V = sum_l v_l D_l``.

    ``min_part_p * V <= sum_l v_l q[p,l] <= max_part_p * V``. With markets V includes market
    supply (:func:`solver.model.market_families.add_market_participation`).
    """
    if ctx.market_requirement:
        return
    q, lo, hi, v = ctx.var_q, ctx.num["min_participation"], ctx.num["max_participation"], \
        ctx.num["unit_value"]
    pl = ctx.pair_layer.tolist()
    mutable = ctx.num.is_mutable("min_participation") or ctx.num.is_mutable("max_participation")
    keys, terms, lower, upper, scale = [], [], [], [], []
    for p in range(ctx.n_partners):
        has_lo = mutable or ctx.arrays["min_participation"][p] > 0
        has_hi = mutable or ctx.arrays["max_participation"][p] < 1
        if not (has_lo or has_hi):
            continue
        pairs = ctx.pairs_of_partner[p]
        keys.append((ctx.partner_id[p],))
        terms.append(([q[a] for a in pairs], [v[pl[a]] for a in pairs]))
        lower.append(lo[p] * ctx.V if has_lo else 0.0)
        upper.append(hi[p] * ctx.V if has_hi else None)
        scale.append(max(ctx.total_value, 1.0))
    add_rows(ctx, "participation", keys, terms, lower, upper, scale=scale)


def add_input_balance(ctx: Context) -> None:
    """Every unit produced gets its inputs: ``sum_p g[p,r,l,m] = a[l,m] * q[r,l]``.

    One row per capability pair (r, l) and input m of l (README, The stack as a chain),
    written ``sum_p g[p,r,l,m] - a[l,m] q[r,l] = 0``. The input flows g exist only from
    trusted hosts of m, over routes allowed for m, and within the link's source rule (any,
    bloc, local): a producer whose input cannot arrive cannot produce. A requirement: in the
    explanation model an input that cannot be served shows as this row's slack.
    """
    chain = ctx.data.chain
    if chain is None or chain.balances.empty:
        return
    balances = chain.balances
    q = ctx.var_q
    g = np.fromiter(ctx.var_g, dtype=object, count=chain.n_flows)
    rows = [g[js].tolist() for js in group_positions(chain.flows["balance"].to_numpy(),
                                                     len(balances))]
    for b, (a, per_unit) in enumerate(zip(balances["producer"].tolist(),
                                          balances["per_unit"].tolist(), strict=True)):
        rows[b].append(MonomialTermExpression((-per_unit, q[a])))
    keys = list(zip(balances["partner"].tolist(), balances["layer"].tolist(),
                    balances["input"].tolist(), strict=True))
    zeros = [0.0] * len(keys)
    scale = np.maximum(ctx.demand_value[ctx.pair_layer[balances["producer"].to_numpy()]]
                       * balances["per_unit"].to_numpy(), 1.0).tolist()
    add_bodies(ctx, "input_balance", keys, rows, zeros, zeros, scale=scale)


def add_budget(ctx: Context) -> None:
    """Spending cap: ``fixed + capacity + trade costs <= objective.budget``.

    With markets the cap includes entry costs and the market flows' trade costs, never the
    market revenue.
    """
    if not ctx.num.is_mutable("budget") and np.isnan(ctx.arrays["budget"][0]):
        return
    vars_: list[Any] = []
    coefs: list[Any] = []
    for name, var in (("fixed_cost", ctx.var_y), ("unit_cost", ctx.var_k),
                      ("trade_cost", ctx.var_f), ("input_trade_cost", ctx.var_g)):
        # A cost that is zero and cannot change adds nothing to the row.
        use = range(len(var)) if ctx.num.is_mutable(name) else \
            np.flatnonzero(ctx.arrays[name] != 0).tolist()
        numbers = ctx.num[name]
        vars_ += [var[i] for i in use]
        coefs += [numbers[i] for i in use]
    market_vars, market_coefs = ctx.market_spending()
    vars_, coefs = vars_ + market_vars, coefs + market_coefs
    budget = ctx.num.scalar("budget")
    add_rows(ctx, "budget", [()], [(vars_, coefs)], None, [budget],
             scale=[max(float(np.nan_to_num(ctx.arrays["budget"][0])), 1.0)])


#: The families in the order they are built (definitions first).
FAMILIES = [
    add_supplied,
    add_built,
    add_demand,
    add_input_balance,
    add_surplus_part,
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
