"""The families of markets outside the coalition (README, Markets outside the coalition).

A market row ``r = (m, l)`` of markets.csv is demand whose level the coalition chooses within
its band: market flows ``h[p,r] >= 0`` (``m.h``) from every trusted host ``p`` of ``l`` over an
allowed route (the market id as importer), what the coalition supplies ``s[r] = sum_p h[p,r]``
(``m.s``), and where ``entry_cost > 0`` an entry binary ``e[r]`` (``m.e``; 1 where there is no
entry cost). What is sent to markets adds to the total requirement: ``D = D0 + mk`` with
``D0`` the members' total requirement (a constant) and ``mk_l = sum_r Linv[l, layer(r)] s[r]``
(``m.mk``; ``Linv = (I - A^T)^-1``, the identity without inputs) its market part. The families
of :mod:`solver.model.constraints` that refer to ``D`` move ``mk`` into their bodies
(:meth:`solver.model.context.Context.market_terms`); supply ``q`` includes ``h``, so the
capacity, input balance and concentration rows see market supply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import MonomialTermExpression

from solver.model.context import Context
from solver.model.data import Markets, group_positions
from solver.model.rows import add_bodies, minus


def add_market_variables(m: pyo.ConcreteModel, markets: Markets) -> None:
    """The market flows h, supplied s, entry binaries e, the market part mk of D, and w.

    ``w[l]`` (``m.market_on``) is a binary for each layer that only market supply can make
    needed (:func:`add_market_diversification`).
    """
    m.h = pyo.Var(pyo.SetOf(range(markets.n_flows)), within=pyo.NonNegativeReals)
    m.s = pyo.Var(pyo.SetOf(range(markets.n_rows)), within=pyo.NonNegativeReals)
    m.e = pyo.Var(pyo.SetOf(range(len(markets.entry_rows))), within=pyo.Binary)
    m.mk = pyo.Var(pyo.SetOf(range(len(markets.reached))), within=pyo.NonNegativeReals)


def _row_keys(markets: Markets, rows: list[int]) -> list[tuple[str, str]]:
    market, layer = markets.rows["market"].tolist(), markets.rows["layer"].tolist()
    return [(market[r], layer[r]) for r in rows]


def add_market_supplied(ctx: Context) -> None:
    """Definition of what the coalition supplies a market: ``s[r] = sum_p h[p,r]``.

    Written ``sum_p h[p,r] - s[r] = 0``.
    """
    markets = ctx.data.markets
    if markets is None:
        return
    h, s = list(ctx.m.h.values()), list(ctx.m.s.values())
    of_row = group_positions(markets.flows["row"].to_numpy(dtype=np.int64), markets.n_rows)
    args = [[*(h[j] for j in of_row[r].tolist()), minus(s[r])] for r in range(markets.n_rows)]
    zeros = [0.0] * markets.n_rows
    add_bodies(ctx, "define_market_supplied", _row_keys(markets, list(range(markets.n_rows))),
               args, zeros, zeros, requirement=False)


def add_market_requirement(ctx: Context) -> None:
    """Definition of D's market part: ``mk_l = sum_r Linv[l, layer(r)] s[r]``.

    Written ``mk_l - sum_r Linv[l, layer(r)] s[r] = 0``, one row per layer that market supply
    reaches (its own layer, and with inputs the layers it consumes, directly or not).
    """
    markets = ctx.data.markets
    if markets is None:
        return
    s = list(ctx.m.s.values())
    row_layer = markets.rows["layer_pos"].tolist()
    args = []
    for layer in markets.reached:
        terms: list[Any] = [ctx.market_requirement[layer]]
        for r, at in enumerate(row_layer):
            coef = float(markets.reach[layer, at])
            if coef != 0:
                terms.append(MonomialTermExpression((-coef, s[r])))
        args.append(terms)
    zeros = [0.0] * len(args)
    add_bodies(ctx, "define_market_requirement", [(ctx.layer_id[lay],) for lay in
                                                  markets.reached],
               args, zeros, zeros, requirement=False)


def _entry_of(ctx: Context, markets: Markets) -> dict[int, Any]:
    return dict(zip(markets.entry_rows, ctx.m.e.values(), strict=True))


def add_market_floor(ctx: Context) -> None:
    """The coalition's floor on its share of a market: ``s[r] >= min_share_r demand_r e[r]``.

    ``e[r] = 1`` for a row without an entry cost: ``s[r] >= min_share_r demand_r``. Written
    ``s[r] - min_share_r demand_r e[r] >= 0`` with a binary, one row per row with a floor.
    """
    markets = ctx.data.markets
    if markets is None:
        return
    s, entry = list(ctx.m.s.values()), _entry_of(ctx, markets)
    need = (markets.rows["min_share"] * markets.rows["demand"]).to_numpy(dtype=float)
    use = np.flatnonzero(need > 0).tolist()
    args, lower = [], []
    for r in use:
        if r in entry:
            args.append([s[r], MonomialTermExpression((-float(need[r]), entry[r]))])
            lower.append(0.0)
        else:
            args.append([s[r]])
            lower.append(float(need[r]))
    add_bodies(ctx, "market_floor", _row_keys(markets, use), args, lower, None,
               scale=np.maximum(need[use], 1.0).tolist())


def add_market_ceiling(ctx: Context) -> None:
    """The coalition's ceiling on its share: ``s[r] <= max_share_r demand_r e[r]``.

    A row with an entry cost is served only if entered (``e[r] = 1``, paid in ``entry``);
    without one ``e[r] = 1`` and the ceiling is a bound on ``s[r]`` (a row in elastic mode).
    """
    markets = ctx.data.markets
    if markets is None:
        return
    s, entry = list(ctx.m.s.values()), _entry_of(ctx, markets)
    most = (markets.rows["max_share"] * markets.rows["demand"]).to_numpy(dtype=float)
    keys = _row_keys(markets, list(range(markets.n_rows)))
    rows = [r for r in range(markets.n_rows) if r in entry or ctx.elastic]
    for r in range(markets.n_rows):
        if r not in entry and not ctx.elastic:
            s[r].setub(float(most[r]))
    args = [[s[r], MonomialTermExpression((-float(most[r]), entry[r]))] if r in entry
            else [s[r]] for r in rows]
    upper = [0.0 if r in entry else float(most[r]) for r in rows]
    add_bodies(ctx, "market_ceiling", [keys[r] for r in rows], args, None, upper,
               scale=np.maximum(most[rows], 1.0).tolist())


def market_needed(ctx: Context) -> tuple[list[int], list[int]]:
    """Layers without members' need that markets may need: (surely needed, maybe needed).

    A layer is surely needed when a market floor without an entry cost reaches it (D_l > 0
    whatever the plan); maybe needed when market supply could reach it but need not.
    """
    markets = ctx.data.markets
    if markets is None:
        return [], []
    rows = markets.rows
    forced = ((rows["min_share"] * rows["demand"] > 0) & (rows["entry_cost"] <= 0)).to_numpy()
    floor = np.zeros(ctx.n_layers)
    np.add.at(floor, rows["layer_pos"].to_numpy(dtype=np.int64), forced.astype(float))
    surely = markets.reach @ floor > 0
    idle = np.asarray(ctx.demand_value, dtype=float) <= 0
    sure = [lay for lay in markets.reached if idle[lay] and surely[lay]]
    maybe = [lay for lay in markets.reached if idle[lay] and not surely[lay]]
    return sure, maybe


def add_market_diversification(ctx: Context) -> None:
    """Diversification of a layer that only market supply makes needed.

    Where a market floor makes ``D_l > 0`` in every plan: ``sum_p y[p,l] >= min_suppliers_l``.
    Where it only may, through a binary ``w_l`` (``m.market_on``): ``mk_l <= (U_l - D0_l) w_l``
    (``market_active``) and ``sum_p y[p,l] >= min_suppliers_l w_l`` (``market_diversification``).
    A layer with members' need keeps the row of :func:`~solver.model.constraints.
    add_diversification`.
    """
    sure, maybe = market_needed(ctx)
    need = ctx.arrays["min_suppliers"]
    sure = [lay for lay in sure if need[lay] > 0]
    maybe = [lay for lay in maybe if need[lay] > 0]
    if not sure and not maybe:
        return
    y = ctx.var_y
    w: dict[int, Any] = {}
    if maybe:
        ctx.m.market_on = pyo.Var(pyo.SetOf(range(len(maybe))), within=pyo.Binary)
        w = dict(zip(maybe, ctx.m.market_on.values(), strict=True))
        args = [[ctx.market_requirement[lay],
                 MonomialTermExpression((-float(ctx.market_upper[lay]), w[lay]))]
                for lay in maybe]
        add_bodies(ctx, "market_active", [(ctx.layer_id[lay],) for lay in maybe], args, None,
                   [0.0] * len(maybe), requirement=False)
    layers = sorted(sure + maybe)
    args = [[*(y[a] for a in ctx.pairs_of_layer[lay]),
             *([MonomialTermExpression((-float(need[lay]), w[lay]))] if lay in w else [])]
            for lay in layers]
    lower = [0.0 if lay in w else float(need[lay]) for lay in layers]
    add_bodies(ctx, "market_diversification", [(ctx.layer_id[lay],) for lay in layers], args,
               lower, None)


def add_market_participation(ctx: Context) -> None:
    """Participation where markets reach a layer: V includes market supply.

    ``V = V0 + sum_l v_l mk_l``, so ``min_part_p V <= sum_l v_l q[p,l] <= max_part_p V`` are
    two rows: ``sum_l v_l q[p,l] - min_part_p sum_l v_l mk_l >= min_part_p V0``
    (``participation``) and the same with ``max_part_p`` and ``<=`` (``participation_max``).
    Without markets :func:`solver.model.constraints.add_participation` writes the family.
    """
    if not ctx.market_requirement:
        return
    q, v, pl = ctx.var_q, ctx.num["unit_value"], ctx.pair_layer.tolist()
    mutable = ctx.num.is_mutable("min_participation") or ctx.num.is_mutable("max_participation")
    reached = sorted(ctx.market_requirement)
    for name, column, apply in (("participation", "min_participation", lambda x: x > 0),
                                ("participation_max", "max_participation", lambda x: x < 1)):
        share = ctx.num[column]
        use = [p for p in range(ctx.n_partners) if mutable or apply(ctx.arrays[column][p])]
        args = [[*(MonomialTermExpression((v[pl[a]], q[a])) for a in ctx.pairs_of_partner[p]),
                 *(t for lay in reached for t in ctx.market_terms(lay, share[p] * v[lay]))]
                for p in use]
        bound = [share[p] * ctx.V for p in use]
        low = name == "participation"
        add_bodies(ctx, name, [(ctx.partner_id[p],) for p in use], args,
                   bound if low else None, None if low else bound,
                   scale=[max(ctx.total_value, 1.0)] * len(use))


def market_cost_terms(ctx: Context) -> list[Any]:
    """The objective's market terms: ``- sum price h`` (revenue) ``+ sum entry_cost e``."""
    markets = ctx.data.markets
    if markets is None:
        return []
    price = markets.rows["price"].to_numpy(dtype=float)[markets.flows["row"].to_numpy()]
    h = list(ctx.m.h.values())
    out: list[Any] = [MonomialTermExpression((-float(p), h[j]))
                      for j, p in enumerate(price.tolist()) if p != 0]
    entry_cost = markets.rows["entry_cost"].to_numpy(dtype=float)
    out += [MonomialTermExpression((float(entry_cost[r]), e))
            for r, e in _entry_of(ctx, markets).items()]
    return out


def market_trade_terms(ctx: Context) -> list[Any]:
    """The objective's trade cost of market flows: ``sum unit_cost h``."""
    markets = ctx.data.markets
    if markets is None:
        return []
    h = list(ctx.m.h.values())
    return [MonomialTermExpression((float(c), h[j]))
            for j, c in enumerate(markets.flows["unit_cost"].tolist()) if c != 0]


#: The market families in the order they are built (definitions first).
MARKET_FAMILIES = [
    add_market_supplied,
    add_market_requirement,
    add_market_floor,
    add_market_ceiling,
    add_market_diversification,
    add_market_participation,
]
