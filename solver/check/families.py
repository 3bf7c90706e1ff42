"""The checks of README, The model's constraint families, one function each."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from solver.check.case_data import (
    CaseData,
)
from solver.check.common import (
    Tolerance,
    Violation,
    as_text,
    codes,
    fmt,
    group_sum,
    largest_per_layer,
    resilience_k,
)
from solver.check.common import (
    pair as pair_name,
)
from solver.check.plan import (
    Flows,
    Pairs,
)

PairsLike = pd.DataFrame | Pairs
"""The capability pairs with the plan's numbers: :class:`Pairs`, or a frame of its columns."""


def column(pairs: PairsLike, name: str, dtype: Any = None) -> np.ndarray:
    """A column of the pairs as an array (``to_numpy(dtype)`` of a frame's column).

    Shared with the other checks that read the pairs (:mod:`solver.check.costs`,
    :mod:`solver.check.reports`).
    """
    if isinstance(pairs, Pairs):
        values = pairs[name]
        return values if dtype is None else values.astype(dtype, copy=False)
    return pairs[name].to_numpy(dtype=dtype)


def _at(pairs: PairsLike, name: str, i: Any) -> Any:
    """Row ``i``'s cell of column ``name``."""
    return pairs[name][i] if isinstance(pairs, Pairs) else pairs[name].iloc[i]


def _layer_codes(data: CaseData, pairs: PairsLike) -> np.ndarray:
    """Each pair's layer code."""
    if isinstance(pairs, Pairs):
        return pairs.layer_code
    return codes(data.layer_ids, pairs["layer"])


def _per_pair(data: CaseData, pairs: PairsLike, name: str) -> np.ndarray:
    """``pairs["layer"].map(data.layers[name])`` as floats."""
    if isinstance(pairs, Pairs):
        return data.per_pair(name)
    return pairs["layer"].map(data.layers[name]).to_numpy(dtype=float)


def layer_sum(data: CaseData, pairs: PairsLike, name: str) -> np.ndarray:
    """``pairs.groupby("layer")[name].sum()`` per layer of ``data`` (0 for a layer without)."""
    if isinstance(pairs, Pairs):
        return data.grouping("layer").sum(pairs[name])
    return group_sum(as_text(pairs["layer"]), column(pairs, name, float), data.layers.index)


def check_routes(data: CaseData, flows: Flows, out: list[Violation]) -> None:
    """Flows only from S(l), to consumers with demand for l, over allowed routes."""
    capable = flows.pair >= 0
    trusted_pairs = data.values("pairs", "trusted", bool)
    trusted = capable & trusted_pairs[np.where(capable, flows.pair, 0)] if len(
        trusted_pairs) else np.zeros(len(capable), dtype=bool)
    has_row = flows.row >= 0
    for i in np.flatnonzero(~(trusted & has_row & flows.allowed)):
        p, n, layer = flows.exporter.iloc[i], flows.importer.iloc[i], flows.layer.iloc[i]
        reasons = []
        if not capable[i]:
            reasons.append(f"{p} cannot produce {layer} (no capabilities.csv row)")
        elif not trusted[i]:
            at = int(flows.pair[i])
            reasons.append(f"{p}'s trust {fmt(data.pairs['trust'].iloc[at])} is below the "
                           f"layer's min_trust {fmt(data.pairs['min_trust'].iloc[at])}")
        if not has_row[i]:
            reasons.append(f"{n} has no demand row for {layer}")
        if not flows.allowed[i]:
            reasons.append(f"the route {p}->{n} is forbidden (trade.csv allowed = false)")
        out.append(Violation("route", flows.key(i), float(flows.qty[i]),
                             f"layer {layer}: route: {p} ships {fmt(flows.qty[i])} units to {n}, "
                             f"but {'; and '.join(reasons)}"))


def check_supplied(pairs: PairsLike, flows: Flows, out: list[Violation],
              tol: Tolerance, inputs: np.ndarray | None = None) -> None:
    """``allocation.supplied`` is the sum of the partner's flows of the layer, and >= 0.

    With a chain, ``inputs`` is what each pair delivers as inputs: supply is final plus input
    deliveries (README, The stack as a chain).
    """
    capable = flows.pair >= 0
    shipped = np.bincount(flows.pair[capable], weights=flows.qty[capable],
                          minlength=len(pairs))
    if inputs is not None:
        shipped = shipped + inputs
    q = column(pairs, "q")
    bad, miss = tol.differ(q, shipped)
    for i in np.flatnonzero(bad):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        out.append(Violation("supplied", pair_name(p, layer), float(miss[i]),
                             f"layer {layer}: supplied: allocation.csv says {p} supplies "
                             f"{fmt(q[i])} units, its flows sum to {fmt(shipped[i])} (off by "
                             f"{fmt(miss[i])} units)"))
    for i in np.flatnonzero(q < -tol.absolute):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        out.append(Violation("supplied", pair_name(p, layer), float(-q[i]),
                             f"layer {layer}: supplied: {p} supplies {fmt(q[i])} units, "
                             "a negative amount"))


def check_demand(data: CaseData, flows: Flows, out: list[Violation], tol: Tolerance,
                 unmet: np.ndarray | None = None) -> None:
    """Every demand row is met exactly: ``sum_p f[p,n,l] (+ z[n,l]) = d[n,l]``.

    ``unmet`` is ``z`` per demand row (with shortage, read from ``shortage.csv``).
    """
    rows = data.demand
    served = flows.row >= 0
    got = np.bincount(flows.row[served], weights=flows.qty[served], minlength=len(rows))
    if unmet is not None:
        got = got + unmet
    need = data.values("demand", "demand", float)
    bad, miss = tol.differ(got, need)
    for i in np.flatnonzero(bad):
        n, layer = rows["member"].iloc[i], rows["layer"].iloc[i]
        word = "over" if got[i] > need[i] else "short"
        out.append(Violation("demand", pair_name(n, layer), float(miss[i]),
                             f"layer {layer}: demand: {n} receives {fmt(got[i])} units, needs "
                             f"{fmt(need[i])} ({word} by {fmt(miss[i])} units)"))


def check_capacity(pairs: PairsLike, out: list[Violation], tol: Tolerance) -> None:
    """A partner supplies at most what it built: ``q <= k``."""
    q, k = column(pairs, "q"), column(pairs, "k")
    bad, excess = tol.over(q, k)
    for i in np.flatnonzero(bad):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        out.append(Violation("capacity", pair_name(p, layer), float(excess[i]),
                             f"layer {layer}: capacity: {p} supplies {fmt(q[i])} units but built "
                             f"only {fmt(k[i])} (over by {fmt(excess[i])} units)"))


def check_hosting(pairs: PairsLike, out: list[Violation], tol: Tolerance) -> None:
    """``min_capacity*y <= k <= capacity*y``; a partner outside S(l) does not host l."""
    y, k = column(pairs, "y"), column(pairs, "k")
    cap = column(pairs, "capacity", float)
    minc = column(pairs, "min_capacity", float)
    trusted = column(pairs, "trusted", bool)
    for i in np.flatnonzero(~trusted & (y > 0.5)):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        out.append(Violation("hosting", pair_name(p, layer), 1.0,
                             f"layer {layer}: hosting: {p} hosts the layer, but its trust "
                             f"{fmt(_at(pairs, 'trust', i))} is below the layer's min_trust "
                             f"{fmt(_at(pairs, 'min_trust', i))}"))
    upper = cap * y
    bad, excess = tol.over(k, upper)
    for i in np.flatnonzero(bad):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        limit = (f"its capacity {fmt(cap[i])}" if y[i] > 0.5
                 else "0, since it does not host the layer")
        out.append(Violation("hosting", pair_name(p, layer), float(excess[i]),
                             f"layer {layer}: hosting: {p} built {fmt(k[i])} units, above "
                             f"{limit} (over by {fmt(excess[i])} units)"))
    lower = minc * y
    bad, short = tol.over(lower, k)
    for i in np.flatnonzero(bad):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        limit = f"min_capacity {fmt(minc[i])}" if y[i] > 0.5 else "0"
        out.append(Violation("hosting", pair_name(p, layer), float(short[i]),
                             f"layer {layer}: hosting: {p} built {fmt(k[i])} units, below "
                             f"{limit} (short by {fmt(short[i])} units)"))


def check_supplier_share(data: CaseData, pairs: PairsLike, out: list[Violation],
                    tol: Tolerance) -> None:
    """A host of S(l) supplies at least ``min_supplier_share_l * D_l`` (untrusted: hosting)."""
    mss = _per_pair(data, pairs, "min_supplier_share")
    d, y, q = column(pairs, "D"), column(pairs, "y"), column(pairs, "q")
    need = mss * d * y
    bad, short = tol.over(need, q)
    for i in np.flatnonzero(bad & column(pairs, "trusted", bool)):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        out.append(Violation("supplier_share", pair_name(p, layer), float(short[i]),
                             f"layer {layer}: supplier_share: {p} hosts the layer but supplies "
                             f"{fmt(q[i])} units ({fmt(q[i] / d[i] if d[i] > 0 else 0.0)} of "
                             "demand), below "
                             f"min_supplier_share {fmt(mss[i])} x demand {fmt(d[i])} = "
                             f"{fmt(need[i])} (short by {fmt(short[i])} units)"))


def check_diversification(data: CaseData, pairs: PairsLike, out: list[Violation]) -> None:
    """At least ``min_suppliers_l`` partners of S(l) host a layer with demand."""
    layers = data.layers
    host = column(pairs, "trusted", bool) & (column(pairs, "y") > 0.5)
    host_layer = _layer_codes(data, pairs)[host]
    count = np.bincount(host_layer[host_layer >= 0], minlength=len(layers)).astype(float)
    need = data.values("layers", "min_suppliers", float)
    d = data.values("layers", "D", float)
    for i in np.flatnonzero((d > 0) & (count < need)):
        layer = str(layers.index[int(i)])
        out.append(Violation("diversification", layer, float(need[i] - count[i]),
                             f"layer {layer}: diversification: {int(count[i])} trusted partner(s) "
                             f"host the layer, min_suppliers is {int(need[i])} (short by "
                             f"{int(need[i] - count[i])})"))


def check_concentration(data: CaseData, pairs: PairsLike, out: list[Violation],
                   tol: Tolerance) -> None:
    """No partner supplies more than ``max_share_l * D_l`` (when max_share < 1)."""
    ms = _per_pair(data, pairs, "max_share")
    d, q = column(pairs, "D"), column(pairs, "q")
    bad, excess = tol.over(q, ms * d)
    for i in np.flatnonzero(bad & (ms < 1.0)):
        p, layer = _at(pairs, "partner", i), _at(pairs, "layer", i)
        share = q[i] / d[i] if d[i] > 0 else float("inf")
        out.append(Violation("concentration", pair_name(p, layer), float(excess[i]),
                             f"layer {layer}: concentration: {p} supplies {fmt(share)} of "
                             f"demand, max_share {fmt(ms[i])} (over by {fmt(excess[i])} units)"))


def check_resilience(data: CaseData, pairs: PairsLike, out: list[Violation],
                tol: Tolerance) -> None:
    """N-k: built capacity minus its ``K = resilience_k`` largest hosts >= ``resilience_l * D_l``.

    Recomputed by sorting each layer's capacities (partners of S(l)), largest first: the loss
    of the K largest hosts is the worst loss of any K, so one check per layer covers them all.
    """
    layers = data.layers
    res = data.values("layers", "resilience", float)
    d = data.values("layers", "D", float)
    n_layers = len(layers)
    big_k = resilience_k(layers)
    trusted = np.flatnonzero(column(pairs, "trusted", bool))
    layer = _layer_codes(data, pairs)[trusted]
    k = column(pairs, "k", float)[trusted]
    partner = np.asarray(column(pairs, "partner"), dtype=object)[trusted]
    # Each layer's K largest hosts (ties by partner id), lost together.
    by_name = np.unique(partner.astype(str), return_inverse=True)[1]
    top = largest_per_layer(layer, k, big_k, tiebreak=by_name)
    total = np.bincount(layer, weights=k, minlength=n_layers)
    lost = np.bincount(layer[top], weights=k[top], minlength=n_layers)
    rest = total - lost
    need = res * d
    bad, short = tol.over(need, rest, total)
    for i in np.flatnonzero(bad & (res > 0)):
        name = str(layers.index[int(i)])
        hosts = ", ".join(str(partner[j]) for j in top if layer[j] == i and k[j] > 0)
        n = int(big_k[i])
        if hosts and n == 1:
            lost_text = (f"without {hosts} (the largest host, {fmt(lost[i])} units) the "
                         f"rest of the built capacity is {fmt(rest[i])}")
        elif hosts:
            lost_text = (f"without its {n} largest hosts ({hosts}: {fmt(lost[i])} units) "
                         f"the rest of the built capacity is {fmt(rest[i])}")
        else:
            lost_text = ("no trusted partner builds capacity for the layer: built capacity is "
                         f"{fmt(total[i])}")
        out.append(Violation("resilience", name, float(short[i]),
                             f"layer {name}: resilience: {lost_text}, below resilience "
                             f"{fmt(res[i])} x demand {fmt(d[i])} = {fmt(need[i])} (short by "
                             f"{fmt(short[i])} units)"))


def check_surplus(data: CaseData, pairs: PairsLike, out: list[Violation],
             tol: Tolerance) -> None:
    """Surplus capacity is capped: ``sum_p k[p,l] - D_l <= max_surplus_l * D_l``."""
    layers = data.layers
    ms = data.values("layers", "max_surplus", float)
    d = data.values("layers", "D", float)
    total = layer_sum(data, pairs, "k")
    with np.errstate(invalid="ignore"):
        bad, excess = tol.over(total, d + ms * d)
    for i in np.flatnonzero(bad & ~np.isnan(ms)):
        layer = str(layers.index[int(i)])
        out.append(Violation("surplus", layer, float(excess[i]),
                             f"layer {layer}: surplus: built capacity {fmt(total[i])} exceeds "
                             f"demand {fmt(d[i])} by {fmt(total[i] - d[i])}, max_surplus "
                             f"{fmt(ms[i])} allows {fmt(ms[i] * d[i])} (over by "
                             f"{fmt(excess[i])} units)"))


def check_dependency(data: CaseData, flows: Flows, out: list[Violation],
                tol: Tolerance) -> None:
    """Exit rights: ``f[p,n,l] <= max_dependency[n,l] * d[n,l]`` for a foreign p."""
    served = flows.row >= 0
    at = np.where(served, flows.row, 0)
    rows = data.demand
    md = data.values("demand", "max_dependency", float)[at] if len(rows) else np.ones(len(at))
    d = data.values("demand", "demand", float)[at] if len(rows) else np.zeros(len(at))
    f = flows.qty
    use = ~flows.domestic & served & (md < 1.0)
    bad, excess = tol.over(f, md * d, d)
    for i in np.flatnonzero(bad & use):
        p, n, layer = flows.exporter.iloc[i], flows.importer.iloc[i], flows.layer.iloc[i]
        share = f[i] / d[i] if d[i] > 0 else float("inf")
        out.append(Violation("dependency", flows.key(i), float(excess[i]),
                             f"layer {layer}: dependency: {p} supplies {fmt(f[i])} units to {n}, "
                             f"{fmt(share)} of its demand {fmt(d[i])}, max_dependency "
                             f"{fmt(md[i])} (over by {fmt(excess[i])} units)"))


def check_domestic(data: CaseData, flows: Flows, out: list[Violation], tol: Tolerance) -> None:
    """Sovereignty: ``f[n,n,l] >= min_domestic[n,l] * d[n,l]``."""
    rows = data.demand
    home = flows.domestic & (flows.row >= 0)
    got = np.bincount(flows.row[home], weights=flows.qty[home], minlength=len(rows))
    md = data.values("demand", "min_domestic", float)
    d = data.values("demand", "demand", float)
    need = md * d
    bad, short = tol.over(need, got, d)
    for i in np.flatnonzero(bad & (md > 0)):
        n, layer = rows["member"].iloc[i], rows["layer"].iloc[i]
        out.append(Violation("domestic", pair_name(n, layer), float(short[i]),
                             f"layer {layer}: domestic: {n} produces {fmt(got[i])} of its "
                             f"{fmt(d[i])} units at home, min_domestic {fmt(md[i])} needs "
                             f"{fmt(need[i])} (short by {fmt(short[i])} units)"))


def check_participation(data: CaseData, pairs: PairsLike, out: list[Violation],
                   tol: Tolerance) -> None:
    """``min_part_p * V <= sum_l v_l q[p,l] <= max_part_p * V``, ``V = sum_l v_l D_l``."""
    partners = data.partners
    value = column(pairs, "unit_value") * column(pairs, "q")
    got = data.grouping("partner").sum(value) if isinstance(pairs, Pairs) else \
        group_sum(as_text(pairs["partner"]), value, partners.index)
    total = data.total_value
    lo = data.values("partners", "min_participation", float)
    hi = data.values("partners", "max_participation", float)
    low_bad, short = tol.over(lo * total, got, total)
    high_bad, excess = tol.over(got, hi * total, total)
    for i in np.flatnonzero(low_bad & (lo > 0)):
        p = str(partners.index[int(i)])
        out.append(Violation("participation", p, float(short[i]),
                             f"participation: {p} supplies value {fmt(got[i])} "
                             f"({fmt(got[i] / total if total > 0 else 0.0)} of the stack's "
                             f"value {fmt(total)}), below min_participation {fmt(lo[i])} (short "
                             f"by {fmt(short[i])})"))
    for i in np.flatnonzero(high_bad & (hi < 1)):
        p = str(partners.index[int(i)])
        out.append(Violation("participation", p, float(excess[i]),
                             f"participation: {p} supplies value {fmt(got[i])} "
                             f"({fmt(got[i] / total if total > 0 else float('inf'))} of the "
                             f"stack's value {fmt(total)}), above max_participation "
                             f"{fmt(hi[i])} (over by {fmt(excess[i])})"))
