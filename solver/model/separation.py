"""The separation MIP of the coalition game: the most blocking group in one solve.

For a split ``x`` of c(N), the most blocking group is ``max_S x(S) - c(S)`` over the proper
groups (README, Sharing the cost). c(S) is itself the least cost of a plan, so the maximum is
one mixed-integer program over membership binaries ``s_i`` (player i is in S) and a plan:

    max  sum_i x_i s_i - cost(plan)     s.t. the plan serves exactly S's demand, 1 <= |S| <= n-1

It is the game's priced model (:func:`solver.model.build.build` with ``priced=True``, the same
families and prices as each c(S)), with every number that depends on S made a function of s:

- demand row r of a member of player i: ``d_r * s_i``, so ``D_l(S) = sum_i D_li s_i`` and every
  requirement written in D_l (concentration, resilience, surplus, dependency, domestic) is
  linear in s;
- a member's pair hosts only if its player is in S: ``y[a] <= s_i`` (capacity ``cap_a * y[a]``);
- an outside supplier offers its share of capacity, ``k[a] <= cap_a * D_l(S) / D_l(N)``
  (with ``k[a] <= cap_a * y[a]``, exact for a binary y);
- the supplier-share row ``q[a] + slack >= mss_l * D_l(S) * y[a]`` takes ``v[a] >= D_l(S) -
  D_l(N) (1 - y[a])``, ``v[a] >= 0`` for the product (``v = D_l(S) y`` when y is binary,
  and a larger v only tightens the row);
- the price of a missing supplier, ``shortage_cost * D_l(S) / m_l`` per unit of the
  diversification slack ``t_l <= m_l``, takes ``w[l,i] >= t_l - m_l (1 - s_i)``, ``w >= 0``
  for ``s_i t_l``, priced at ``shortage_cost * D_li / m_l`` (exact: the objective pushes w
  down to the product).

The split ``x`` is a mutable parameter: the model is built once and re-solved per split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.visitor import replace_expressions

from solver.case.loader import Case
from solver.model.build import Built, build, designs


@dataclass
class Separation:
    """The separation model: ``built.m`` with ``m.member_in`` (s) and ``m.split`` (x)."""

    built: Built
    players: list[str]

    @property
    def m(self) -> pyo.ConcreteModel:
        """The Pyomo model."""
        return self.built.m

    def set_split(self, x: dict[str, float]) -> None:
        """Set the split ``x`` whose most blocking group the next solve finds."""
        for i, p in enumerate(self.players):
            self.m.split[i] = float(x[p])


def build_separation(case: Case, members: dict[str, list[str]]) -> Separation:
    """The separation MIP of the game of ``case`` (a :func:`game_case`) with these players.

    ``members`` maps each player to its member partners, as in the game. A two-stage design
    has no separation model (its recourse is not written in D_l(S)): ValueError.
    """
    if designs(case):
        raise ValueError("the separation model does not cover a two-stage design")
    built = build(case, mutable={"capabilities.capacity", "demand.demand"}, priced=True)
    m, data, ctx = built.m, built.data, built.ctx
    players = sorted(members)
    n = len(players)
    player_of = {mem: i for i, p in enumerate(players) for mem in members[p]}
    m.member_in = pyo.Var(pyo.SetOf(range(n)), within=pyo.Binary)
    m.split = pyo.Param(range(n), mutable=True, initialize=0.0, within=pyo.Reals)
    s = [m.member_in[i] for i in range(n)]

    demand = data.rows["demand"].to_numpy(dtype=float)
    row_player = np.array([player_of.get(mem, -1) for mem in data.rows["member"]])
    if (row_player < 0).any():
        raise ValueError("a demand row belongs to no player")
    n_layers = len(data.layers)
    d_li = np.zeros((n_layers, n))
    np.add.at(d_li, (data.row_layer, row_player), demand)
    d_n = d_li.sum(axis=1)

    capacity = data.pairs["capacity"].to_numpy(dtype=float)
    substitute: dict[int, Any] = {}
    for r in range(len(demand)):
        substitute[id(m.param_demand[r])] = demand[r] * s[row_player[r]]
    for a in range(data.n_pairs):
        substitute[id(m.param_capacity[a])] = float(capacity[a])
    if hasattr(m, "supplier_share"):  # absent only without any capability pair
        m.supplier_share.deactivate()
    _substitute_rows(m, substitute)

    def d_of(layer: int) -> LinearExpression:
        return LinearExpression([MonomialTermExpression((float(d_li[layer, i]), s[i]))
                                 for i in range(n) if d_li[layer, i]])

    pair_player = [player_of.get(p, -1) for p in data.pairs["partner"]]
    pair_layer = data.pair_layer.tolist()
    y, k = ctx.var_y, ctx.var_k
    member_pairs = [a for a in range(data.n_pairs) if pair_player[a] >= 0]
    m.separation_member = pyo.Constraint(
        pyo.SetOf(member_pairs), rule=lambda _m, a: y[a] <= s[pair_player[a]])
    outside = [a for a in range(data.n_pairs) if pair_player[a] < 0]

    def offer(_m: Any, a: int) -> Any:
        layer = pair_layer[a]
        share = capacity[a] / d_n[layer] if d_n[layer] > 0 else 0.0
        return k[a] - share * d_of(layer) <= 0
    m.separation_outside = pyo.Constraint(pyo.SetOf(outside), rule=offer)

    if hasattr(m, "supplier_share"):
        _supplier_share(m, ctx, d_of, d_n)
    extra = _diversification_price(m, ctx, s, d_li)
    cost_args = [arg for arg in m.objective.expr.args if not _is_diversification(m, arg)]
    split = [MonomialTermExpression((-m.split[i], s[i])) for i in range(n)]
    m.objective.set_value(LinearExpression([*cost_args, *extra, *split]))
    m.separation_size = pyo.Constraint(expr=pyo.inequality(1, sum(s), n - 1))
    return Separation(built=built, players=players)


def _substitute_rows(m: pyo.ConcreteModel, substitute: dict[int, Any]) -> None:
    """Put s into every active row in place of the demand and capacity parameters."""
    def put(e: Any) -> Any:
        if e is None or e.__class__ in (int, float):
            return e
        return replace_expressions(e, substitute)

    def variable(e: Any) -> bool:
        return e is not None and e.__class__ not in (int, float) and \
            e.is_potentially_variable()

    for con in m.component_data_objects(pyo.Constraint, active=True):
        lo, body, hi = con.to_bounded_expression()
        lo, body, hi = put(lo), put(body), put(hi)
        if con.equality and variable(lo):
            con.set_value((0.0, body - lo, 0.0))
        elif variable(lo) and hi is None:
            con.set_value((0.0, body - lo, None))
        elif variable(hi) and lo is None:
            con.set_value((None, body - hi, 0.0))
        elif variable(lo) or variable(hi):
            raise ValueError(f"row {con.name} has variables in both bounds")
        else:
            con.set_value((lo, body, hi))


def _supplier_share(m: pyo.ConcreteModel, ctx: Any, d_of: Any, d_n: np.ndarray) -> None:
    """``q[a] + slack[a] >= mss_l * v[a]`` with ``v[a] >= D_l(S) - D_l(N) (1 - y[a])``."""
    keys = m.row_keys["supplier_share"]
    pos = {key: a for a, key in enumerate(zip(ctx.pair_partner_id, ctx.pair_layer_id,
                                              strict=True))}
    pairs = [pos[key] for key in keys]
    mss = ctx.arrays["min_supplier_share"]
    m.supplier_share_v = pyo.Var(pyo.SetOf(range(len(pairs))), within=pyo.NonNegativeReals)
    below = m.supplier_share_below
    y, q, pl = ctx.var_y, ctx.var_q, ctx.pair_layer.tolist()

    def share(_m: Any, i: int) -> Any:
        a = pairs[i]
        return q[a] + below[i] - float(mss[pl[a]]) * m.supplier_share_v[i] >= 0

    def product(_m: Any, i: int) -> Any:
        a = pairs[i]
        layer = pl[a]
        return m.supplier_share_v[i] - d_of(layer) - float(d_n[layer]) * y[a] \
            >= -float(d_n[layer])

    m.separation_supplier_share = pyo.Constraint(pyo.SetOf(range(len(pairs))), rule=share)
    m.separation_supplier_product = pyo.Constraint(pyo.SetOf(range(len(pairs))), rule=product)


def _diversification_price(m: pyo.ConcreteModel, ctx: Any, s: list[Any],
                           d_li: np.ndarray) -> list[Any]:
    """Terms pricing each missing supplier at ``shortage_cost * D_l(S) / m_l``, linearised."""
    if not hasattr(m, "diversification_below"):
        return []
    price = float(ctx.arrays["shortage_cost"][0])
    need = ctx.arrays["min_suppliers"]
    below = m.diversification_below
    layers = [ctx.layer_pos[key[0]] for key in m.row_keys["diversification"]]
    cells = [(j, i) for j, layer in enumerate(layers) for i in range(len(s))
             if d_li[layer, i] > 0]
    m.diversification_w = pyo.Var(pyo.SetOf(range(len(cells))), within=pyo.NonNegativeReals)
    w = m.diversification_w
    bound = [float(need[layer]) for layer in layers]
    for j, v in enumerate(below.values()):
        v.setub(max(bound[j], 0.0))

    def mccormick(_m: Any, c: int) -> Any:
        j, i = cells[c]
        return w[c] - below[j] - bound[j] * s[i] >= -bound[j]

    m.separation_diversification = pyo.Constraint(pyo.SetOf(range(len(cells))),
                                                  rule=mccormick)
    return [MonomialTermExpression((price * float(d_li[layers[j], i])
                                    / max(float(need[layers[j]]), 1.0), w[c]))
            for c, (j, i) in enumerate(cells)]


def _is_diversification(m: pyo.ConcreteModel, arg: Any) -> bool:
    """Whether an objective term prices the diversification slack (in D_l, replaced)."""
    if not hasattr(m, "diversification_below"):
        return False
    var = arg.args[1] if isinstance(arg, MonomialTermExpression) else arg
    return getattr(var, "parent_component", lambda: None)() is m.diversification_below
