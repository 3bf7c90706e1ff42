"""The array form of each constraint family: the rows its ``add_<family>`` adds, as numpy.

Each ``<family>_rows(asm)`` mirrors one function of :mod:`solver.model.constraints` for a
case with fixed numbers outside the elastic model (README, The model; the math is in the
Pyomo family's docstring): the same rows in the same order, the same terms in each row, the
same coefficients computed the same way, and the same variable bounds where the Pyomo family
sets bounds instead of rows. :data:`ARRAY_FORMS` maps each Pyomo family to its array form; a
family without one sends the whole case down the Pyomo path
(:func:`solver.model.assembly.assemble`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from solver.model import constraints as c
from solver.model.matrix_blocks import Assembly


def _ones(n: int) -> np.ndarray:
    return np.ones(n)


def supplied_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_supplied`: ``sum_n f + sum g - q = 0`` per pair."""
    P, col = asm.n_pairs, asm.col
    rows, cols, vals = [asm.flow_pair], [col["f"] + np.arange(asm.n_flows)], \
        [_ones(asm.n_flows)]
    chain = asm.data.chain
    if chain is not None and chain.n_flows:
        rows.append(chain.flows["supplier"].to_numpy())
        cols.append(col["g"] + np.arange(chain.n_flows))
        vals.append(_ones(chain.n_flows))
    rows.append(np.arange(P))
    cols.append(col["q"] + np.arange(P))
    vals.append(-_ones(P))
    asm.add_rows("define_supplied", P, rows, cols, vals, 0.0, 0.0)


def built_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_built`: ``sum_p k - built = 0`` per layer."""
    P, L, col = asm.n_pairs, asm.n_layers, asm.col
    asm.add_rows("define_built", L, [asm.pair_layer, np.arange(L)],
                 [col["k"] + np.arange(P), col["built"] + np.arange(L)],
                 [_ones(P), -_ones(L)], 0.0, 0.0)


def demand_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_demand`: ``sum_p f (+ z) = d`` per demand row."""
    R, col = asm.n_rows, asm.col
    rows, cols, vals = [asm.flow_row], [col["f"] + np.arange(asm.n_flows)], \
        [_ones(asm.n_flows)]
    if asm.shortage:
        rows.append(np.arange(R))
        cols.append(col["z"] + np.arange(R))
        vals.append(_ones(R))
    d = asm.arrays["demand"]
    asm.add_rows("demand", R, rows, cols, vals, d, d)


def input_balance_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_input_balance`: ``sum_p g - a q = 0``."""
    chain = asm.data.chain
    if chain is None or chain.balances.empty:
        return
    b = chain.balances
    n = len(b)
    producer = b["producer"].to_numpy(dtype=np.int64)
    asm.add_rows("input_balance", n, [chain.flows["balance"].to_numpy(), np.arange(n)],
                 [asm.col["g"] + np.arange(chain.n_flows), asm.col["q"] + producer],
                 [_ones(chain.n_flows), -b["per_unit"].to_numpy(dtype=float)], 0.0, 0.0)


def surplus_part_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_surplus_part`: ``u - built >= -D``."""
    if not asm.shortage:
        return
    L = np.arange(asm.n_layers)
    asm.add_rows("surplus_part", asm.n_layers, [L, L], [asm.col["u"] + L, asm.col["built"] + L],
                 [_ones(len(L)), -_ones(len(L))], -asm.D, None)


def _pair_rows(asm: Assembly, name: str, use: np.ndarray, first: str, second: str,
               coef: np.ndarray, lower: Any, upper: Any) -> None:
    """Rows ``x_first[a] + coef * x_second[a]`` for the pairs ``use``."""
    n = len(use)
    at = np.arange(n)
    asm.add_rows(name, n, [at, at], [asm.col[first] + use, asm.col[second] + use],
                 [_ones(n), coef], lower, upper)


def capacity_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_capacity`: ``q - k <= 0``."""
    use = np.arange(asm.n_pairs)
    _pair_rows(asm, "capacity", use, "q", "k", -_ones(len(use)), None, 0.0)


def hosting_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_hosting`: ``k - cap y <= 0``, ``k - minc y >= 0``.

    A pair of a layer without demand does not host (``y <= 0``).
    """
    idle = np.flatnonzero(asm.D[asm.pair_layer] <= 0)
    asm.set_bounds("y", idle, upper=np.zeros(len(idle)))
    use = np.arange(asm.n_pairs)
    _pair_rows(asm, "hosting", use, "k", "y", -asm.arrays["capacity"], None, 0.0)
    use = np.flatnonzero(asm.arrays["min_capacity"] > 0)
    _pair_rows(asm, "hosting_min", use, "k", "y", -asm.arrays["min_capacity"][use], 0.0, None)


def supplier_share_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_supplier_share`: ``q - share D y >= 0``."""
    pl = asm.pair_layer
    share = asm.arrays["min_supplier_share"]
    use = np.flatnonzero(share[pl] * asm.D[pl] > 0)
    _pair_rows(asm, "supplier_share", use, "q", "y", -share[pl[use]] * asm.D[pl[use]], 0.0,
               None)


def diversification_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_diversification`: ``sum_p y >= m_l``."""
    need = asm.arrays["min_suppliers"]
    use = np.flatnonzero((asm.D > 0) & (need > 0))
    row_of = np.full(asm.n_layers, -1)
    row_of[use] = np.arange(len(use))
    pairs = np.flatnonzero(row_of[asm.pair_layer] >= 0)
    asm.add_rows("diversification", len(use), [row_of[asm.pair_layer[pairs]]],
                 [asm.col["y"] + pairs], [_ones(len(pairs))], need[use], None)


def concentration_bounds(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_concentration`: ``q <= max_share D``, a bound."""
    pl = asm.pair_layer
    share = asm.arrays["max_share"]
    use = np.flatnonzero(share[pl] < 1.0)
    asm.set_bounds("q", use, upper=share[pl[use]] * asm.D[pl[use]])


def resilience_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_resilience`: N-1 rows per host, N-k by the dual.

    ``built - k >= res D`` per host of an N-1 layer (``built >= res D`` for a layer nobody
    hosts); for ``K > 1`` the columns ``res_t``, ``res_s``, the rows ``resilience_top``
    (``s + t - k >= 0``) and a layer row ``built - K t - sum s >= res D``.
    """
    pl, col, D = asm.pair_layer, asm.col, asm.D
    res = asm.arrays["resilience"]
    big_k = np.asarray(c.layer_resilience_k(asm.data.layers), dtype=np.int64)
    wanted = res > 0
    single = wanted & (big_k == 1)
    use = np.flatnonzero(single[pl])
    n_use = len(use)
    rows = [np.arange(n_use), np.arange(n_use)]
    cols = [col["built"] + pl[use], col["k"] + use]
    vals = [_ones(n_use), -_ones(n_use)]
    lower = [res[pl[use]] * D[pl[use]]]
    bare = np.flatnonzero(single & (np.bincount(pl, minlength=asm.n_layers) == 0))
    n = n_use + len(bare)
    rows.append(np.arange(n_use, n))
    cols.append(col["built"] + bare)
    vals.append(_ones(len(bare)))
    lower.append(res[bare] * D[bare])
    many = np.flatnonzero(wanted & (big_k > 1))
    if len(many):
        t = asm.add_columns("res_t", len(many))
        t_of = np.full(asm.n_layers, -1)
        t_of[many] = np.arange(len(many))
        top = np.concatenate([np.flatnonzero(pl == layer) for layer in many.tolist()])
        s = asm.add_columns("res_s", len(top))
        at = np.arange(len(top))
        asm.add_rows("resilience_top", len(top), [at, at, at],
                     [s + at, t + t_of[pl[top]], col["k"] + top],
                     [_ones(len(top)), _ones(len(top)), -_ones(len(top))], 0.0, None)
        layer_row = np.full(asm.n_layers, -1)
        layer_row[many] = np.arange(n, n + len(many))
        rows += [layer_row[many], layer_row[many], layer_row[pl[top]]]
        cols += [col["built"] + many, t + np.arange(len(many)), s + at]
        vals += [_ones(len(many)), -big_k[many].astype(float), -_ones(len(top))]
        lower.append(res[many] * D[many])
        n += len(many)
    asm.add_rows("resilience", n, rows, cols, vals, np.concatenate(lower), None)


def surplus_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_surplus`: ``built <= (1 + max_surplus) D``."""
    ms = asm.arrays["max_surplus"]
    use = np.flatnonzero(~np.isnan(ms))
    asm.add_rows("surplus", len(use), [np.arange(len(use))], [asm.col["built"] + use],
                 [_ones(len(use))], None, (1.0 + ms[use]) * asm.D[use])


def dependency_bounds(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_dependency`: ``f <= max_dependency d``, a bound."""
    dep, rows = asm.arrays["max_dependency"], asm.flow_row
    use = np.flatnonzero(~asm.flow_domestic & (dep[rows] < 1.0))
    per_row = dep * asm.arrays["demand"]
    asm.set_bounds("f", use, upper=per_row[rows[use]])


def domestic_bounds(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_domestic`: ``f[n,n,l] >= min_domestic d``.

    A row without a domestic flow (the member cannot host the layer) is an empty row
    ``0 >= min_domestic d``, as in the Pyomo model.
    """
    dom, d = asm.arrays["min_domestic"], asm.arrays["demand"]
    home = np.full(asm.n_rows, -1, dtype=np.int64)
    at = np.flatnonzero(asm.flow_domestic)
    home[asm.flow_row[at]] = at
    use = np.flatnonzero((dom > 0) & (home >= 0))
    asm.set_bounds("f", home[use], lower=dom[use] * d[use])
    homeless = np.flatnonzero((dom > 0) & (home < 0))
    none = np.zeros(0, dtype=np.int64)
    asm.add_rows("domestic", len(homeless), [none], [none], [np.zeros(0)],
                 dom[homeless] * d[homeless], None)


def participation_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_participation`: ``lo V <= sum v q <= hi V``."""
    lo, hi = asm.arrays["min_participation"], asm.arrays["max_participation"]
    has_lo, has_hi = lo > 0, hi < 1
    use = np.flatnonzero(has_lo | has_hi)
    row_of = np.full(asm.n_partners, -1)
    row_of[use] = np.arange(len(use))
    pairs = np.flatnonzero(row_of[asm.pair_partner] >= 0)
    V = float(asm.data.total_value)
    asm.add_rows("participation", len(use), [row_of[asm.pair_partner[pairs]]],
                 [asm.col["q"] + pairs], [asm.arrays["unit_value"][asm.pair_layer[pairs]]],
                 np.where(has_lo[use], lo[use] * V, 0.0),
                 np.where(has_hi[use], hi[use] * V, np.inf))


def _costs(asm: Assembly) -> list[tuple[str, str]]:
    """The cost quantities and the column groups they price (input flows with a chain)."""
    out = [("fixed_cost", "y"), ("unit_cost", "k"), ("trade_cost", "f")]
    if "g" in asm.col:
        out.append(("input_trade_cost", "g"))
    return out


def budget_rows(asm: Assembly) -> None:
    """:func:`~solver.model.constraints.add_budget`: fixed + capacity + trade <= budget."""
    budget = asm.arrays["budget"][0]
    if np.isnan(budget):
        return
    cols, vals = [], []
    for name, group in _costs(asm):
        cost = asm.arrays[name]
        use = np.flatnonzero(cost != 0)
        cols.append(asm.col[group] + use)
        vals.append(cost[use])
    n = sum(len(x) for x in cols)
    asm.add_rows("budget", 1, [np.zeros(n, dtype=np.int64)], [np.concatenate(cols)],
                 [np.concatenate(vals)], None, float(budget))


def objective(asm: Assembly) -> tuple[np.ndarray, float]:
    """The costs and the constant of :func:`solver.model.build._cost` (no two-stage terms)."""
    a = asm.arrays
    cost = np.zeros(asm.n_cols)
    for name, group in _costs(asm):
        use = np.flatnonzero(a[name] != 0)
        cost[asm.col[group] + use] = a[name][use]
    rw, rc = float(a["redundancy_weight"][0]), a["redundancy_cost"]
    constant = 0.0
    for layer in np.flatnonzero(rc * rw != 0).tolist():
        weight = rw * float(rc[layer])
        if asm.shortage:
            cost[asm.col["u"] + layer] = weight
            continue
        cost[asm.col["built"] + layer] = weight
        constant = constant - weight * float(asm.D[layer])
    if asm.shortage:
        cost[asm.col["z"]:asm.col["z"] + asm.n_rows] = float(a["shortage_cost"][0])
    kw, risk, v = float(a["risk_weight"][0]), a["disruption_risk"], a["unit_value"]
    pp, pl = asm.pair_partner, asm.pair_layer
    use = np.flatnonzero(kw * risk[pp] != 0)
    cost[asm.col["q"] + use] = kw * risk[pp[use]] * v[pl[use]]
    return cost, constant


#: The array form of each Pyomo family of :data:`~solver.model.constraints.FAMILIES`.
ARRAY_FORMS: dict[Callable[..., Any], Callable[[Assembly], None]] = {
    c.add_supplied: supplied_rows,
    c.add_built: built_rows,
    c.add_demand: demand_rows,
    c.add_input_balance: input_balance_rows,
    c.add_surplus_part: surplus_part_rows,
    c.add_capacity: capacity_rows,
    c.add_hosting: hosting_rows,
    c.add_supplier_share: supplier_share_rows,
    c.add_diversification: diversification_rows,
    c.add_concentration: concentration_bounds,
    c.add_resilience: resilience_rows,
    c.add_surplus: surplus_rows,
    c.add_dependency: dependency_bounds,
    c.add_domestic: domestic_bounds,
    c.add_participation: participation_rows,
    c.add_budget: budget_rows,
}
