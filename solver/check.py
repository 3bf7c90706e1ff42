"""The independent solution checker: re-verify a written plan against its case.

The checker recomputes every constraint family of SPEC section 3, and every term of the
objective, from the case tables and the solution tables of SPEC section 5 alone
(``allocation.csv``, ``flows.csv``, ``summary.json``), and recomputes the report tables
(``layers.csv``, ``partners.csv``) from them. It never imports the model code or
Pyomo, so a bug in the formulation cannot hide itself.

Tolerance
---------
Two quantities ``a`` and ``b`` are compared with an absolute tolerance of ``1e-6`` plus a
relative tolerance of ``1e-6`` of the larger magnitude::

    allowed = 1e-6 + 1e-6 * max(|a|, |b|)

``a <= b`` holds when ``a - b <= allowed``; ``a == b`` holds when ``|a - b| <= allowed``.
For a sum the magnitude is that of the sum and of the bound it is compared with (every flow,
capacity and supplied quantity is non-negative, so this is also the sum of magnitudes). The
same rule applies to the objective and its terms, compared with ``summary.json``. It is
:data:`TOLERANCE`; :func:`check_solution` takes another :class:`Tolerance` if asked.

What is checked
---------------
* ``table``: the written tables are well formed: required columns, finite numbers, no
  negative flow, ids that exist, one allocation row per capability pair, no duplicate keys,
  the cost columns agree with the case (``unit_cost``, ``fixed_cost``, ``cost``, ``share``,
  a flow's trade ``unit_cost``), and ``summary.json`` carries a status, an objective and its
  cost terms.
* ``route``: a flow comes from a partner of S(l) (a capability pair whose partner is trusted
  enough for the layer), goes to a consumer with a demand row for the layer, and uses a route
  that ``trade.csv`` does not forbid (domestic supply is always allowed).
* ``supplied``: ``allocation.supplied`` equals the sum of the partner's flows of the layer.
* ``hosting``: ``hosted`` is 0/1, ``min_capacity*y <= k <= capacity*y``, and a partner
  outside S(l) does not host the layer.
* the families of SPEC section 3 (``demand``, ``capacity``, ``supplier_share``,
  ``diversification``, ``concentration``, ``resilience``, ``surplus``, ``dependency``,
  ``domestic``, ``participation``, ``budget``), with ``q`` read from
  ``allocation.supplied`` and ``y``, ``k`` from ``allocation.hosted`` and ``capacity``.
  ``hosted`` counts as 1 from 0.5 up (after a value other than 0/1 is reported). Lower
  bounds (supplier_share, diversification, resilience) count only partners of S(l), whose
  hosting outside S(l) is a ``hosting`` violation; upper bounds (surplus) count all built
  capacity. Resilience is reported once per layer, for the loss of its largest host.
* ``report``: ``layers.csv`` and ``partners.csv`` (HHI, N-1 coverage, participation, ...)
  agree with the same metrics recomputed from the case and the checked plan
  (:mod:`solver.check_reports`).
* ``objective``: when the run has a solution (status ``optimal`` or ``time_limit``), each
  cost term and the objective recomputed from the case's costs agree with ``summary.json``,
  and the reported bound is not above the objective.

The constraints are checked whatever the status; only the objective needs a solution.
A violation's ``entity`` is ``LAYER`` (diversification, resilience, surplus),
``PARTNER,LAYER`` (a capability pair), ``MEMBER,LAYER`` (a demand row),
``EXPORTER->IMPORTER,LAYER`` (a flow), ``PARTNER`` (participation), ``budget``,
``objective``/``costs.TERM``/``bound``, or a file name.

Everything is vectorised with pandas/numpy over flows and pairs; only the violations found
are turned into Python objects.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case import Case
from solver.schema import COALITION

#: The family words a violation may carry.
FAMILIES = (
    "table", "route", "supplied", "demand", "capacity", "hosting", "supplier_share",
    "diversification", "concentration", "resilience", "surplus", "dependency", "domestic",
    "participation", "budget", "objective", "report",
)

#: Statuses whose run folder carries a plan with an objective value.
SOLVED = frozenset({"optimal", "time_limit"})

#: The objective's terms, as written under ``summary.json``'s ``costs``.
COST_TERMS = ("fixed", "capacity", "trade", "redundancy", "risk")

ALLOCATION_COLUMNS = ("partner", "layer", "hosted", "capacity", "supplied", "share",
                      "unit_cost", "fixed_cost", "cost")
FLOW_COLUMNS = ("exporter", "importer", "layer", "quantity", "unit_cost")

_TRUE = {"true", "yes", "1", "1.0"}
#: A row position: numpy's loops over ``np.flatnonzero`` give numpy integers.
_Row = int | np.integer[Any]
_FALSE = {"false", "no", "0", "0.0"}


@dataclass(frozen=True)
class Violation:
    """One violated requirement of a solution, in the planner's words.

    ``family`` is the SPEC family word (or ``table``, ``route``, ``supplied``, ``objective``),
    ``entity`` names what is violated (``semiconductors``, ``TW,semiconductors``,
    ``TW->DE,semiconductors``, ``TW``, ``budget``, ``costs.trade``, a file name), and
    ``amount`` is by how much (positive, in the constraint's units).
    """

    family: str
    entity: str
    amount: float
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Tolerance:
    """How far a compared quantity may miss: ``absolute + relative * magnitude``."""

    absolute: float = 1e-6
    relative: float = 1e-6

    def allowed(self, *magnitudes: Any) -> np.ndarray:
        """The allowed miss for quantities of the given magnitudes (largest one counts)."""
        scale: np.ndarray = np.zeros(())
        for m in magnitudes:
            scale = np.maximum(scale, np.abs(np.asarray(m, dtype=float)))
        return np.asarray(self.absolute + self.relative * scale, dtype=float)

    def over(self, lhs: Any, rhs: Any, *magnitudes: Any) -> tuple[np.ndarray, np.ndarray]:
        """Where ``lhs <= rhs`` fails beyond tolerance, and ``lhs - rhs`` (the excess)."""
        lhs = np.asarray(lhs, dtype=float)
        rhs = np.asarray(rhs, dtype=float)
        excess = lhs - rhs
        return np.asarray(excess > self.allowed(lhs, rhs, *magnitudes)), excess

    def differ(self, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
        """Where ``a == b`` fails beyond tolerance, and ``|a - b|``."""
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        miss = np.abs(a - b)
        return np.asarray(miss > self.allowed(a, b)), miss


#: The tolerance of every comparison: abs 1e-6 plus rel 1e-6 of the magnitudes compared.
TOLERANCE = Tolerance()


def _n(x: float) -> str:
    """A number for a message: six significant digits."""
    return f"{float(x):.6g}"


def _pair(p: str, layer: str) -> str:
    return f"{p},{layer}"


def _flow(p: str, n: str, layer: str) -> str:
    return f"{p}->{n},{layer}"


# ---------------------------------------------------------------------------------------
# The case, laid out for checking


class _Lookup:
    """Positions of integer keys in a table (``-1`` where absent), by binary search."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = np.asarray(keys, dtype=np.int64)[self.order]

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The table position of each key, or -1."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(self.sorted) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.sorted, keys), len(self.sorted) - 1)
        hit = self.sorted[pos] == keys
        return np.where(hit, self.order[pos], -1).astype(np.int64)


def _codes(ids: pd.Index, values: Any) -> np.ndarray:
    """The position of each value in ``ids`` (``-1`` if unknown)."""
    return np.asarray(ids.get_indexer(pd.Index(values).astype(object)), dtype=np.int64)


@dataclass
class _CaseData:
    """The case's numbers the checker needs, indexed for fast lookups.

    Ids are turned into integer codes: partners ``0..P-1``, consumers the partners followed by
    ``coalition`` (so a partner has the same code as exporter and as importer), layers
    ``0..L-1``. Pairs, demand rows and trade routes are found by integer keys.
    """

    layers: pd.DataFrame  # index: layer id; parameters plus D (layer demand)
    partners: pd.DataFrame  # index: partner id
    pairs: pd.DataFrame  # one row per capability row, with trusted, D, unit_value
    demand: pd.DataFrame  # one row per (member, layer) demand row
    trade: pd.DataFrame  # exporter, importer, unit_cost, allowed
    partner_ids: pd.Index
    consumer_ids: pd.Index
    layer_ids: pd.Index
    pair_lookup: _Lookup
    row_lookup: _Lookup
    trade_lookup: _Lookup
    total_value: float

    @classmethod
    def of(cls, case: Case) -> _CaseData:
        partners = case.partners.copy()
        partners["partner"] = partners["partner"].astype(str)
        partners = partners.set_index("partner")
        layers = case.layers.copy()
        layers["layer"] = layers["layer"].astype(str)
        layers = layers.set_index("layer")
        demand = case.demand[["member", "layer", "demand", "max_dependency", "min_domestic"]]
        demand = demand.astype({"member": str, "layer": str}).reset_index(drop=True)
        layer_demand = demand.groupby("layer")["demand"].sum()
        layers["D"] = layer_demand.reindex(layers.index).fillna(0.0).astype(float)
        pairs = case.capabilities[["partner", "layer", "capacity", "unit_cost", "fixed_cost",
                                   "min_capacity"]]
        pairs = pairs.astype({"partner": str, "layer": str}).reset_index(drop=True)
        trust = pairs["partner"].map(partners["trust"]).to_numpy(dtype=float)
        min_trust = pairs["layer"].map(layers["min_trust"]).to_numpy(dtype=float)
        pairs["trust"] = trust
        pairs["min_trust"] = min_trust
        pairs["trusted"] = trust >= min_trust
        pairs["D"] = pairs["layer"].map(layers["D"]).to_numpy(dtype=float)
        pairs["unit_value"] = pairs["layer"].map(layers["unit_value"]).to_numpy(dtype=float)
        trade = case.trade
        if trade.empty:
            trade = pd.DataFrame({"exporter": pd.Series([], dtype=object),
                                  "importer": pd.Series([], dtype=object),
                                  "unit_cost": pd.Series([], dtype=float),
                                  "allowed": pd.Series([], dtype=bool)})
        else:
            trade = trade[["exporter", "importer", "unit_cost", "allowed"]].astype(
                {"exporter": str, "importer": str, "unit_cost": float, "allowed": bool})
        trade = trade.reset_index(drop=True)

        partner_ids = pd.Index(partners.index.astype(object))
        consumers = list(partner_ids)
        if not case.has_demand_file:
            consumers.append(COALITION)
        consumer_ids = pd.Index(consumers, dtype=object)
        layer_ids = pd.Index(layers.index.astype(object))
        n_layers, n_consumers = len(layer_ids), len(consumer_ids)
        pair_keys = (_codes(partner_ids, pairs["partner"]) * n_layers
                     + _codes(layer_ids, pairs["layer"]))
        row_keys = (_codes(consumer_ids, demand["member"]) * n_layers
                    + _codes(layer_ids, demand["layer"]))
        trade_keys = (_codes(partner_ids, trade["exporter"]) * n_consumers
                      + _codes(consumer_ids, trade["importer"]))
        value = layers["unit_value"].to_numpy(dtype=float) @ layers["D"].to_numpy(dtype=float)
        return cls(layers=layers, partners=partners, pairs=pairs, demand=demand, trade=trade,
                   partner_ids=partner_ids, consumer_ids=consumer_ids, layer_ids=layer_ids,
                   pair_lookup=_Lookup(pair_keys), row_lookup=_Lookup(row_keys),
                   trade_lookup=_Lookup(trade_keys), total_value=float(value))


# ---------------------------------------------------------------------------------------
# Reading the solution tables


def _numbers(frame: pd.DataFrame, col: str, key: Callable[[_Row], str], file: str,
             out: list[Violation]) -> np.ndarray:
    """Column ``col`` as finite floats; a bad cell is a ``table`` violation and counts as 0.

    ``key(i)`` names row ``i`` in the message.
    """
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(key(i) for i in where[:5]) + (" ..." if len(where) > 5 else "")
        out.append(Violation("table", file, float(bad.sum()),
                             f"{file}: column {col} has {int(bad.sum())} missing, non-numeric "
                             f"or non-finite value(s) (rows {shown}); counted as 0"))
        values = np.where(bad, 0.0, values)
    return values


def _hosted(series: pd.Series) -> np.ndarray:
    """``hosted`` as floats: bools, 0/1 numbers or true/false words; NaN if unreadable."""
    if series.dtype == bool:
        return series.to_numpy(dtype=float)
    text = series.astype(str).str.strip().str.lower()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    values = np.where(text.isin(_TRUE).to_numpy(), 1.0, values)
    values = np.where(text.isin(_FALSE).to_numpy(), 0.0, values)
    return values


def _missing_columns(frame: pd.DataFrame, wanted: tuple[str, ...], file: str,
                     out: list[Violation]) -> bool:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        out.append(Violation("table", file, float(len(missing)),
                             f"{file}: missing column(s) {', '.join(missing)}; cannot check "
                             "the solution"))
    return bool(missing)


def _allocation(data: _CaseData, allocation: pd.DataFrame, out: list[Violation],
                tol: Tolerance) -> pd.DataFrame | None:
    """The capability pairs (in case order) with the plan's y, k, q and written costs."""
    file = "allocation.csv"
    if _missing_columns(allocation, ALLOCATION_COLUMNS, file, out):
        return None
    a = allocation[list(ALLOCATION_COLUMNS)].reset_index(drop=True)
    partner = a["partner"].astype(str)
    layer = a["layer"].astype(str)

    def key(i: _Row) -> str:
        return _pair(str(partner.iloc[i]), str(layer.iloc[i]))

    hosted = _hosted(a["hosted"])
    unreadable = np.isnan(hosted)
    for i in np.flatnonzero(unreadable):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}: hosted of {key(i)} is {a['hosted'].iloc[i]!r}, "
                             "not a true/false value; counted as false"))
    hosted = np.where(unreadable, 0.0, hosted)
    not_binary = np.minimum(np.abs(hosted), np.abs(hosted - 1.0))
    for i in np.flatnonzero(not_binary > tol.absolute):
        out.append(Violation("hosting", key(i), float(not_binary[i]),
                             f"layer {layer.iloc[i]}: hosting: hosted of {partner.iloc[i]} is "
                             f"{_n(hosted[i])}, not 0 or 1"))
    values = {"y": (hosted >= 0.5).astype(float)}
    for col, name in (("capacity", "k"), ("supplied", "q"), ("share", "share_w"),
                      ("unit_cost", "unit_cost_w"), ("fixed_cost", "fixed_cost_w"),
                      ("cost", "cost_w")):
        values[name] = _numbers(a, col, key, file, out)

    n_layers = len(data.layer_ids)
    p_code = _codes(data.partner_ids, partner)
    l_code = _codes(data.layer_ids, layer)
    pair = np.where((p_code >= 0) & (l_code >= 0),
                    data.pair_lookup.find(p_code * n_layers + l_code), -1)
    for i in np.flatnonzero(pair < 0):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}: {key(i)} is not a capability pair of the case (no "
                             "capabilities.csv row); ignored"))
    dup = pd.Series(pair).duplicated(keep="first").to_numpy() & (pair >= 0)
    for i in np.flatnonzero(dup):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}: {key(i)} has more than one row; the first counts"))
    use = (pair >= 0) & ~dup
    pairs = data.pairs.copy()
    present = np.zeros(len(pairs), dtype=bool)
    present[pair[use]] = True
    for name, column in values.items():
        filled = np.zeros(len(pairs))
        filled[pair[use]] = column[use]
        pairs[name] = filled
    for i in np.flatnonzero(~present):
        k = _pair(pairs["partner"].iloc[i], pairs["layer"].iloc[i])
        out.append(Violation("table", k, 1.0,
                             f"{file}: no row for capability pair {k}; counted as not hosted, "
                             "nothing built or supplied"))
    _cost_columns(pairs, present, out, tol)
    return pairs


def _cost_columns(pairs: pd.DataFrame, present: np.ndarray, out: list[Violation],
                  tol: Tolerance) -> None:
    """The written unit_cost, fixed_cost, cost and share agree with the case and the plan."""
    file = "allocation.csv"
    d = pairs["D"].to_numpy()
    q = pairs["q"].to_numpy()
    share = np.divide(q, d, out=np.zeros(len(pairs)), where=d > 0)
    cost = (pairs["fixed_cost"].to_numpy() * pairs["y"].to_numpy()
            + pairs["unit_cost"].to_numpy() * pairs["k"].to_numpy())
    checks = (
        ("unit_cost", pairs["unit_cost_w"].to_numpy(), pairs["unit_cost"].to_numpy(),
         "the case's unit_cost"),
        ("fixed_cost", pairs["fixed_cost_w"].to_numpy(), pairs["fixed_cost"].to_numpy(),
         "the case's fixed_cost"),
        ("cost", pairs["cost_w"].to_numpy(), cost, "fixed_cost*hosted + unit_cost*capacity"),
        ("share", pairs["share_w"].to_numpy(), share, "supplied / layer demand"),
    )
    for col, written, want, what in checks:
        bad, miss = tol.differ(written, want)
        for i in np.flatnonzero(bad & present):
            key = _pair(pairs["partner"].iloc[i], pairs["layer"].iloc[i])
            out.append(Violation("table", key, float(miss[i]),
                                 f"{file}: {col} of {key} is {_n(written[i])}, but {what} is "
                                 f"{_n(want[i])} (off by {_n(miss[i])})"))


@dataclass
class _Flows:
    """The plan's flows with known ids, one per (exporter, importer, layer), as arrays.

    ``pair`` is the capability row the flow comes from and ``row`` the demand row it serves
    (``-1`` when there is none); ``trade_cost`` and ``allowed`` describe the route.
    """

    exporter: pd.Series
    importer: pd.Series
    layer: pd.Series
    qty: np.ndarray
    pair: np.ndarray
    row: np.ndarray
    domestic: np.ndarray
    allowed: np.ndarray
    trade_cost: np.ndarray

    def key(self, i: _Row) -> str:
        """``exporter->importer,layer`` of flow ``i``."""
        return _flow(str(self.exporter.iloc[i]), str(self.importer.iloc[i]),
                     str(self.layer.iloc[i]))


def _flows(data: _CaseData, flows: pd.DataFrame, out: list[Violation],
           tol: Tolerance) -> _Flows | None:
    """The plan's flows, with ids checked, duplicates merged and the case's route data."""
    file = "flows.csv"
    if _missing_columns(flows, FLOW_COLUMNS, file, out):
        return None
    f = flows[list(FLOW_COLUMNS)].reset_index(drop=True)

    def key(i: _Row) -> str:
        return _flow(str(f["exporter"].iloc[i]), str(f["importer"].iloc[i]),
                     str(f["layer"].iloc[i]))

    qty = _numbers(f, "quantity", key, file, out)
    cost_w = _numbers(f, "unit_cost", key, file, out)
    for i in np.flatnonzero(qty < -tol.absolute):
        out.append(Violation("table", key(i), float(-qty[i]),
                             f"{file}: quantity of {key(i)} is {_n(qty[i])}, negative"))

    n_layers, n_consumers = len(data.layer_ids), len(data.consumer_ids)
    ex = _codes(data.partner_ids, f["exporter"])
    im = _codes(data.consumer_ids, f["importer"])
    la = _codes(data.layer_ids, f["layer"])
    known = (ex >= 0) & (im >= 0) & (la >= 0)
    for i in np.flatnonzero(~known):
        what = [f"{name} {str(f[name].iloc[i])!r}"
                for name, code in (("exporter", ex), ("importer", im), ("layer", la))
                if code[i] < 0]
        out.append(Violation("table", key(i), float(abs(qty[i])),
                             f"{file}: {key(i)} names an unknown {' and '.join(what)}; "
                             "ignored"))

    # One integer per (exporter, importer, layer); rows with an unknown id get their own.
    code = np.where(known, (ex * n_consumers + im) * n_layers + la,
                    -1 - np.arange(len(known), dtype=np.int64))
    later = pd.Series(code).duplicated(keep="first").to_numpy()
    keep = known.copy()
    if later.any():
        repeated = pd.Series(code).duplicated(keep=False).to_numpy()
        for i in np.flatnonzero(repeated & ~later):
            out.append(Violation("table", key(i), 1.0,
                                 f"{file}: {key(i)} has more than one row; their quantities "
                                 "are added"))
        keep = known & ~later
        unique, inverse = np.unique(code[known], return_inverse=True)
        totals = np.bincount(inverse, weights=qty[known])
        qty = qty.copy()
        qty[keep] = totals[np.searchsorted(unique, code[keep])]
    idx = np.flatnonzero(keep)
    ex, im, la, qty, cost_w = ex[idx], im[idx], la[idx], qty[idx], cost_w[idx]

    domestic = ex == im
    route = data.trade_lookup.find(ex * n_consumers + im)
    has_route = route >= 0
    trade_cost = np.zeros(len(idx))
    allowed = np.ones(len(idx), dtype=bool)
    if has_route.any():
        trade_cost[has_route] = data.trade["unit_cost"].to_numpy(dtype=float)[route[has_route]]
        allowed[has_route] = data.trade["allowed"].to_numpy(dtype=bool)[route[has_route]]
    trade_cost[domestic] = 0.0
    allowed |= domestic
    result = _Flows(
        exporter=f["exporter"].iloc[idx].reset_index(drop=True),
        importer=f["importer"].iloc[idx].reset_index(drop=True),
        layer=f["layer"].iloc[idx].reset_index(drop=True),
        qty=qty,
        pair=data.pair_lookup.find(ex * n_layers + la),
        row=data.row_lookup.find(im * n_layers + la),
        domestic=domestic,
        allowed=allowed,
        trade_cost=trade_cost,
    )
    bad, miss = tol.differ(cost_w, trade_cost)
    for i in np.flatnonzero(bad):
        out.append(Violation("table", result.key(i), float(miss[i]),
                             f"{file}: unit_cost of {result.key(i)} is {_n(cost_w[i])}, but the "
                             f"case's trade cost of the route is {_n(trade_cost[i])}"))
    return result


# ---------------------------------------------------------------------------------------
# The checks


def _routes(data: _CaseData, flows: _Flows, out: list[Violation]) -> None:
    """Flows only from S(l), to consumers with demand for l, over allowed routes."""
    capable = flows.pair >= 0
    trusted_pairs = data.pairs["trusted"].to_numpy(dtype=bool)
    trusted = capable & trusted_pairs[np.where(capable, flows.pair, 0)] if len(
        trusted_pairs) else np.zeros(len(capable), dtype=bool)
    has_row = flows.row >= 0
    for i in np.flatnonzero(~(trusted & has_row & flows.allowed)):
        p, n, layer = flows.exporter.iloc[i], flows.importer.iloc[i], flows.layer.iloc[i]
        reasons = []
        if not capable[i]:
            reasons.append(f"{p} cannot produce {layer} (no capabilities.csv row)")
        elif not trusted[i]:
            pair = data.pairs.iloc[flows.pair[i]]
            reasons.append(f"{p}'s trust {_n(pair['trust'])} is below the layer's min_trust "
                           f"{_n(pair['min_trust'])}")
        if not has_row[i]:
            reasons.append(f"{n} has no demand row for {layer}")
        if not flows.allowed[i]:
            reasons.append(f"the route {p}->{n} is forbidden (trade.csv allowed = false)")
        out.append(Violation("route", flows.key(i), float(flows.qty[i]),
                             f"layer {layer}: route: {p} ships {_n(flows.qty[i])} units to {n}, "
                             f"but {'; and '.join(reasons)}"))


def _supplied(pairs: pd.DataFrame, flows: _Flows, out: list[Violation],
              tol: Tolerance) -> None:
    """``allocation.supplied`` is the sum of the partner's flows of the layer, and >= 0."""
    capable = flows.pair >= 0
    shipped = np.bincount(flows.pair[capable], weights=flows.qty[capable],
                          minlength=len(pairs))
    q = pairs["q"].to_numpy()
    bad, miss = tol.differ(q, shipped)
    for i in np.flatnonzero(bad):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        out.append(Violation("supplied", _pair(p, layer), float(miss[i]),
                             f"layer {layer}: supplied: allocation.csv says {p} supplies "
                             f"{_n(q[i])} units, its flows sum to {_n(shipped[i])} (off by "
                             f"{_n(miss[i])} units)"))
    for i in np.flatnonzero(q < -tol.absolute):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        out.append(Violation("supplied", _pair(p, layer), float(-q[i]),
                             f"layer {layer}: supplied: {p} supplies {_n(q[i])} units, "
                             "a negative amount"))


def _demand(data: _CaseData, flows: _Flows, out: list[Violation], tol: Tolerance) -> None:
    """Every demand row is met exactly: ``sum_p f[p,n,l] = d[n,l]``."""
    rows = data.demand
    served = flows.row >= 0
    got = np.bincount(flows.row[served], weights=flows.qty[served], minlength=len(rows))
    need = rows["demand"].to_numpy(dtype=float)
    bad, miss = tol.differ(got, need)
    for i in np.flatnonzero(bad):
        n, layer = rows["member"].iloc[i], rows["layer"].iloc[i]
        word = "over" if got[i] > need[i] else "short"
        out.append(Violation("demand", _pair(n, layer), float(miss[i]),
                             f"layer {layer}: demand: {n} receives {_n(got[i])} units, needs "
                             f"{_n(need[i])} ({word} by {_n(miss[i])} units)"))


def _capacity(pairs: pd.DataFrame, out: list[Violation], tol: Tolerance) -> None:
    """A partner supplies at most what it built: ``q <= k``."""
    q, k = pairs["q"].to_numpy(), pairs["k"].to_numpy()
    bad, excess = tol.over(q, k)
    for i in np.flatnonzero(bad):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        out.append(Violation("capacity", _pair(p, layer), float(excess[i]),
                             f"layer {layer}: capacity: {p} supplies {_n(q[i])} units but built "
                             f"only {_n(k[i])} (over by {_n(excess[i])} units)"))


def _hosting(pairs: pd.DataFrame, out: list[Violation], tol: Tolerance) -> None:
    """``min_capacity*y <= k <= capacity*y``; a partner outside S(l) does not host l."""
    y, k = pairs["y"].to_numpy(), pairs["k"].to_numpy()
    cap = pairs["capacity"].to_numpy(dtype=float)
    minc = pairs["min_capacity"].to_numpy(dtype=float)
    trusted = pairs["trusted"].to_numpy(dtype=bool)
    for i in np.flatnonzero(~trusted & (y > 0.5)):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        out.append(Violation("hosting", _pair(p, layer), 1.0,
                             f"layer {layer}: hosting: {p} hosts the layer, but its trust "
                             f"{_n(pairs['trust'].iloc[i])} is below the layer's min_trust "
                             f"{_n(pairs['min_trust'].iloc[i])}"))
    upper = cap * y
    bad, excess = tol.over(k, upper)
    for i in np.flatnonzero(bad):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        limit = (f"its capacity {_n(cap[i])}" if y[i] > 0.5
                 else "0, since it does not host the layer")
        out.append(Violation("hosting", _pair(p, layer), float(excess[i]),
                             f"layer {layer}: hosting: {p} built {_n(k[i])} units, above "
                             f"{limit} (over by {_n(excess[i])} units)"))
    lower = minc * y
    bad, short = tol.over(lower, k)
    for i in np.flatnonzero(bad):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        limit = f"min_capacity {_n(minc[i])}" if y[i] > 0.5 else "0"
        out.append(Violation("hosting", _pair(p, layer), float(short[i]),
                             f"layer {layer}: hosting: {p} built {_n(k[i])} units, below "
                             f"{limit} (short by {_n(short[i])} units)"))


def _supplier_share(data: _CaseData, pairs: pd.DataFrame, out: list[Violation],
                    tol: Tolerance) -> None:
    """A host of S(l) supplies at least ``min_supplier_share_l * D_l`` (untrusted: hosting)."""
    mss = pairs["layer"].map(data.layers["min_supplier_share"]).to_numpy(dtype=float)
    d, y, q = pairs["D"].to_numpy(), pairs["y"].to_numpy(), pairs["q"].to_numpy()
    need = mss * d * y
    bad, short = tol.over(need, q)
    for i in np.flatnonzero(bad & pairs["trusted"].to_numpy(dtype=bool)):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        out.append(Violation("supplier_share", _pair(p, layer), float(short[i]),
                             f"layer {layer}: supplier_share: {p} hosts the layer but supplies "
                             f"{_n(q[i])} units ({_n(q[i] / d[i] if d[i] > 0 else 0.0)} of "
                             "demand), below "
                             f"min_supplier_share {_n(mss[i])} x demand {_n(d[i])} = "
                             f"{_n(need[i])} (short by {_n(short[i])} units)"))


def _diversification(data: _CaseData, pairs: pd.DataFrame, out: list[Violation]) -> None:
    """At least ``min_suppliers_l`` partners of S(l) host a layer with demand."""
    hosts = pairs[pairs["trusted"] & (pairs["y"] > 0.5)].groupby("layer").size()
    layers = data.layers
    count = hosts.reindex(layers.index).fillna(0).to_numpy(dtype=float)
    need = layers["min_suppliers"].to_numpy(dtype=float)
    d = layers["D"].to_numpy(dtype=float)
    for i in np.flatnonzero((d > 0) & (count < need)):
        layer = str(layers.index[int(i)])
        out.append(Violation("diversification", layer, float(need[i] - count[i]),
                             f"layer {layer}: diversification: {int(count[i])} trusted partner(s) "
                             f"host the layer, min_suppliers is {int(need[i])} (short by "
                             f"{int(need[i] - count[i])})"))


def _concentration(data: _CaseData, pairs: pd.DataFrame, out: list[Violation],
                   tol: Tolerance) -> None:
    """No partner supplies more than ``max_share_l * D_l`` (when max_share < 1)."""
    ms = pairs["layer"].map(data.layers["max_share"]).to_numpy(dtype=float)
    d, q = pairs["D"].to_numpy(), pairs["q"].to_numpy()
    bad, excess = tol.over(q, ms * d)
    for i in np.flatnonzero(bad & (ms < 1.0)):
        p, layer = pairs["partner"].iloc[i], pairs["layer"].iloc[i]
        share = q[i] / d[i] if d[i] > 0 else float("inf")
        out.append(Violation("concentration", _pair(p, layer), float(excess[i]),
                             f"layer {layer}: concentration: {p} supplies {_n(share)} of "
                             f"demand, max_share {_n(ms[i])} (over by {_n(excess[i])} units)"))


def _resilience(data: _CaseData, pairs: pd.DataFrame, out: list[Violation],
                tol: Tolerance) -> None:
    """N-1: ``sum_{p' != p} k[p',l] >= resilience_l * D_l`` for every p (partners of S(l))."""
    layers = data.layers
    res = layers["resilience"].to_numpy(dtype=float)
    d = layers["D"].to_numpy(dtype=float)
    trusted = pairs[pairs["trusted"]]
    total = trusted.groupby("layer")["k"].sum().reindex(layers.index).fillna(0.0)
    biggest = trusted.groupby("layer")["k"].max().reindex(layers.index).fillna(0.0)
    order = trusted.sort_values(["layer", "k", "partner"], ascending=[True, False, True])
    who = order.drop_duplicates("layer").set_index("layer")["partner"].reindex(layers.index)
    rest = total.to_numpy(dtype=float) - biggest.to_numpy(dtype=float)
    need = res * d
    bad, short = tol.over(need, rest, total.to_numpy(dtype=float))
    for i in np.flatnonzero(bad & (res > 0)):
        layer = str(layers.index[int(i)])
        p = who.iloc[i]
        if isinstance(p, str) and biggest.iloc[i] > 0:
            lost = (f"without {p} (the largest host, {_n(biggest.iloc[i])} units) the rest of "
                    f"the built capacity is {_n(rest[i])}")
        else:
            lost = ("no trusted partner builds capacity for the layer: built capacity is "
                    f"{_n(total.iloc[i])}")
        out.append(Violation("resilience", layer, float(short[i]),
                             f"layer {layer}: resilience: {lost}, below resilience "
                             f"{_n(res[i])} x demand {_n(d[i])} = {_n(need[i])} (short by "
                             f"{_n(short[i])} units)"))


def _surplus(data: _CaseData, pairs: pd.DataFrame, out: list[Violation],
             tol: Tolerance) -> None:
    """Surplus capacity is capped: ``sum_p k[p,l] - D_l <= max_surplus_l * D_l``."""
    layers = data.layers
    ms = layers["max_surplus"].to_numpy(dtype=float)
    d = layers["D"].to_numpy(dtype=float)
    built = pairs.groupby("layer")["k"].sum().reindex(layers.index).fillna(0.0)
    total = built.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad, excess = tol.over(total, d + ms * d)
    for i in np.flatnonzero(bad & ~np.isnan(ms)):
        layer = str(layers.index[int(i)])
        out.append(Violation("surplus", layer, float(excess[i]),
                             f"layer {layer}: surplus: built capacity {_n(total[i])} exceeds "
                             f"demand {_n(d[i])} by {_n(total[i] - d[i])}, max_surplus "
                             f"{_n(ms[i])} allows {_n(ms[i] * d[i])} (over by "
                             f"{_n(excess[i])} units)"))


def _dependency(data: _CaseData, flows: _Flows, out: list[Violation],
                tol: Tolerance) -> None:
    """Exit rights: ``f[p,n,l] <= max_dependency[n,l] * d[n,l]`` for a foreign p."""
    served = flows.row >= 0
    at = np.where(served, flows.row, 0)
    rows = data.demand
    md = rows["max_dependency"].to_numpy(dtype=float)[at] if len(rows) else np.ones(len(at))
    d = rows["demand"].to_numpy(dtype=float)[at] if len(rows) else np.zeros(len(at))
    f = flows.qty
    use = ~flows.domestic & served & (md < 1.0)
    bad, excess = tol.over(f, md * d, d)
    for i in np.flatnonzero(bad & use):
        p, n, layer = flows.exporter.iloc[i], flows.importer.iloc[i], flows.layer.iloc[i]
        share = f[i] / d[i] if d[i] > 0 else float("inf")
        out.append(Violation("dependency", flows.key(i), float(excess[i]),
                             f"layer {layer}: dependency: {p} supplies {_n(f[i])} units to {n}, "
                             f"{_n(share)} of its demand {_n(d[i])}, max_dependency "
                             f"{_n(md[i])} (over by {_n(excess[i])} units)"))


def _domestic(data: _CaseData, flows: _Flows, out: list[Violation], tol: Tolerance) -> None:
    """Sovereignty: ``f[n,n,l] >= min_domestic[n,l] * d[n,l]``."""
    rows = data.demand
    home = flows.domestic & (flows.row >= 0)
    got = np.bincount(flows.row[home], weights=flows.qty[home], minlength=len(rows))
    md = rows["min_domestic"].to_numpy(dtype=float)
    d = rows["demand"].to_numpy(dtype=float)
    need = md * d
    bad, short = tol.over(need, got, d)
    for i in np.flatnonzero(bad & (md > 0)):
        n, layer = rows["member"].iloc[i], rows["layer"].iloc[i]
        out.append(Violation("domestic", _pair(n, layer), float(short[i]),
                             f"layer {layer}: domestic: {n} produces {_n(got[i])} of its "
                             f"{_n(d[i])} units at home, min_domestic {_n(md[i])} needs "
                             f"{_n(need[i])} (short by {_n(short[i])} units)"))


def _participation(data: _CaseData, pairs: pd.DataFrame, out: list[Violation],
                   tol: Tolerance) -> None:
    """``min_part_p * V <= sum_l v_l q[p,l] <= max_part_p * V``, ``V = sum_l v_l D_l``."""
    partners = data.partners
    value = (pairs["unit_value"] * pairs["q"]).groupby(pairs["partner"]).sum()
    got = value.reindex(partners.index).fillna(0.0).to_numpy(dtype=float)
    total = data.total_value
    lo = partners["min_participation"].to_numpy(dtype=float)
    hi = partners["max_participation"].to_numpy(dtype=float)
    low_bad, short = tol.over(lo * total, got, total)
    high_bad, excess = tol.over(got, hi * total, total)
    for i in np.flatnonzero(low_bad & (lo > 0)):
        p = str(partners.index[int(i)])
        out.append(Violation("participation", p, float(short[i]),
                             f"participation: {p} supplies value {_n(got[i])} "
                             f"({_n(got[i] / total if total > 0 else 0.0)} of the stack's "
                             f"value {_n(total)}), below min_participation {_n(lo[i])} (short "
                             f"by {_n(short[i])})"))
    for i in np.flatnonzero(high_bad & (hi < 1)):
        p = str(partners.index[int(i)])
        out.append(Violation("participation", p, float(excess[i]),
                             f"participation: {p} supplies value {_n(got[i])} "
                             f"({_n(got[i] / total if total > 0 else float('inf'))} of the "
                             f"stack's value {_n(total)}), above max_participation "
                             f"{_n(hi[i])} (over by {_n(excess[i])})"))


def _cost_terms(case: Case, data: _CaseData, pairs: pd.DataFrame,
                flows: _Flows) -> dict[str, float]:
    """The objective's terms of SPEC section 3, from the case's costs and the plan."""
    obj = case.objective
    fixed = float((pairs["fixed_cost"] * pairs["y"]).sum())
    capacity = float((pairs["unit_cost"] * pairs["k"]).sum())
    trade = float(flows.trade_cost @ flows.qty)
    layers = data.layers
    built = pairs.groupby("layer")["k"].sum().reindex(layers.index).fillna(0.0)
    surplus = built.to_numpy(dtype=float) - layers["D"].to_numpy(dtype=float)
    rc = layers["redundancy_cost"].to_numpy(dtype=float)
    redundancy = obj.redundancy_weight * float(rc @ surplus)
    risk_p = pairs["partner"].map(data.partners["disruption_risk"]).to_numpy(dtype=float)
    value = pairs["unit_value"].to_numpy(dtype=float) * pairs["q"].to_numpy(dtype=float)
    risk = obj.risk_weight * float(risk_p @ value)
    return {"fixed": fixed, "capacity": capacity, "trade": trade, "redundancy": redundancy,
            "risk": risk}


def _budget(case: Case, costs: Mapping[str, float], out: list[Violation],
            tol: Tolerance) -> None:
    """Spending cap: ``fixed + capacity + trade <= objective.budget``."""
    budget = case.objective.budget
    if budget is None:
        return
    spent = costs["fixed"] + costs["capacity"] + costs["trade"]
    bad, excess = tol.over(spent, budget)
    if bool(bad):
        out.append(Violation("budget", "budget", float(excess),
                             f"budget: fixed + capacity + trade costs are {_n(spent)}, budget "
                             f"{_n(budget)} (over by {_n(float(excess))})"))


def _number(x: Any) -> float | None:
    """A JSON number as a float; None for anything else (null, text, bool)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x)


def _objective(summary: Mapping[str, Any], costs: Mapping[str, float], out: list[Violation],
               tol: Tolerance) -> None:
    """The reported objective and cost terms agree with the recomputed ones."""
    file = "summary.json"
    status = summary.get("status")
    if not isinstance(status, str):
        out.append(Violation("table", file, 1.0, f"{file}: no status"))
        return
    if status not in SOLVED:
        return
    written = summary.get("costs")
    if not isinstance(written, Mapping):
        out.append(Violation("table", file, 1.0, f"{file}: status {status} but no costs"))
        written = {}
    for term in COST_TERMS:
        value = _number(written.get(term))
        if value is None:
            if written:
                out.append(Violation("table", f"costs.{term}", 1.0,
                                     f"{file}: costs.{term} is missing or not a number"))
            continue
        bad, miss = tol.differ(value, costs[term])
        if bool(bad):
            out.append(Violation("objective", f"costs.{term}", float(miss),
                                 f"objective: {file} says costs.{term} = {_n(value)}, recomputed "
                                 f"from the case and the tables {_n(costs[term])} (off by "
                                 f"{_n(float(miss))})"))
    total = float(sum(costs.values()))
    objective = _number(summary.get("objective"))
    if objective is None:
        out.append(Violation("table", "objective", 1.0,
                             f"{file}: status {status} but the objective is missing or not a "
                             "number"))
        return
    bad, miss = tol.differ(objective, total)
    if bool(bad):
        out.append(Violation("objective", "objective", float(miss),
                             f"objective: {file} says {_n(objective)}, recomputed from the case "
                             f"and the tables {_n(total)} (off by {_n(float(miss))})"))
    bound = _number(summary.get("bound"))
    if bound is not None and np.isfinite(bound):
        bad, excess = tol.over(bound, objective)
        if bool(bad):
            out.append(Violation("objective", "bound", float(excess),
                                 f"objective: {file}'s bound {_n(bound)} is above the objective "
                                 f"{_n(objective)} of a minimisation (by {_n(float(excess))})"))


# ---------------------------------------------------------------------------------------
# Entry points


def check_solution(case: Case, allocation: pd.DataFrame, flows: pd.DataFrame,
                   summary: Mapping[str, Any], *, layers: pd.DataFrame | None = None,
                   partners: pd.DataFrame | None = None,
                   tolerance: Tolerance = TOLERANCE) -> list[Violation]:
    """Every violation of the case's requirements by a written solution (empty: verified).

    ``allocation`` and ``flows`` are the tables of SPEC section 5 (as written or as read back
    from CSV), ``summary`` the content of ``summary.json``; ``layers`` and ``partners``, if
    given, are checked against the metrics recomputed from the plan. The objective
    comparison is made only when the status says the run has a solution (``optimal`` or
    ``time_limit``).
    """
    from solver.check_reports import check_layers, check_partners

    out: list[Violation] = []
    data = _CaseData.of(case)
    pairs = _allocation(data, allocation, out, tolerance)
    fl = _flows(data, flows, out, tolerance)
    if pairs is None or fl is None:
        return out
    _routes(data, fl, out)
    _supplied(pairs, fl, out, tolerance)
    _demand(data, fl, out, tolerance)
    _capacity(pairs, out, tolerance)
    _hosting(pairs, out, tolerance)
    _supplier_share(data, pairs, out, tolerance)
    _diversification(data, pairs, out)
    _concentration(data, pairs, out, tolerance)
    _resilience(data, pairs, out, tolerance)
    _surplus(data, pairs, out, tolerance)
    _dependency(data, fl, out, tolerance)
    _domestic(data, fl, out, tolerance)
    _participation(data, pairs, out, tolerance)
    costs = _cost_terms(case, data, pairs, fl)
    _budget(case, costs, out, tolerance)
    _objective(summary, costs, out, tolerance)
    if layers is not None:
        check_layers(data, pairs, layers, out, tolerance)
    if partners is not None:
        check_partners(data, pairs, fl, partners, out, tolerance)
    return out


def _read_csv(path: Path, out: list[Violation]) -> pd.DataFrame | None:
    """A run folder's CSV table with every cell as text; a ``table`` violation if unreadable."""
    name = path.name
    if not path.is_file():
        out.append(Violation("table", name, 1.0, f"{name}: missing from the run folder"))
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            ValueError, csv.Error) as exc:
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        out.append(Violation("table", name, 1.0, f"{name}: cannot be read as a table: {text}"))
        return None


def _read_summary(path: Path, out: list[Violation]) -> Mapping[str, Any] | None:
    """``summary.json`` as a mapping; a ``table`` violation if missing or malformed."""
    name = path.name
    if not path.is_file():
        out.append(Violation("table", name, 1.0, f"{name}: missing from the run folder"))
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        out.append(Violation("table", name, 1.0, f"{name}: not valid JSON: {exc}"))
        return None
    if not isinstance(content, dict):
        out.append(Violation("table", name, 1.0, f"{name}: not a JSON object"))
        return None
    return content


def check_run(case: Case, run_dir: Path, *, tolerance: Tolerance = TOLERANCE) -> list[Violation]:
    """Check a written run folder (the five files of SPEC section 5) against ``case``.

    A missing, unreadable or malformed file is a ``table`` violation, never an exception.
    """
    run_dir = Path(run_dir)
    out: list[Violation] = []
    if not run_dir.is_dir():
        return [Violation("table", str(run_dir.name), 1.0,
                          f"{run_dir.name}: no such run folder")]
    allocation = _read_csv(run_dir / "allocation.csv", out)
    flows = _read_csv(run_dir / "flows.csv", out)
    summary = _read_summary(run_dir / "summary.json", out)
    layers = _read_csv(run_dir / "layers.csv", out)
    partners = _read_csv(run_dir / "partners.csv", out)
    if allocation is None or flows is None or summary is None:
        return out
    return out + check_solution(case, allocation, flows, summary, layers=layers,
                                partners=partners, tolerance=tolerance)


def provenance_note(case: Case, run_dir: Path) -> str | None:
    """A note if the run folder was solved from other inputs than ``case`` (else None).

    ``summary.json`` records the case's fingerprint and overrides; a run checked against
    other inputs (most often: without the run's ``--set``) shows violations that are not
    the plan's fault.
    """
    try:
        summary = json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(summary, dict) or summary.get("case_sha256") in (None, case.sha256):
        return None
    ran = summary.get("overrides") or []
    given = list(case.overrides)
    if isinstance(ran, list) and ran != given:
        return (f"note: the run was solved with overrides {', '.join(map(str, ran)) or '(none)'}"
                f"; checking with {', '.join(given) or '(none)'}: pass the run's --set to "
                "check it against what was solved")
    return ("note: the run was solved from case files that differ from these (its "
            "case_sha256 differs)")

