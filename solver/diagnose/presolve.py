"""Obvious infeasibility, found from the tables before any model is built.

Each check compares what a requirement asks for with an upper bound on what the case can
give, computed from capacities, trust, shares and trade routes alone. A finding is certain:
if a check fires, no plan exists (the bounds are relaxations of README, The model). The checks
do not find every infeasible case; :mod:`solver.diagnose.explain` covers the rest with the model.

Each finding names the constraint family of README, The model that cannot hold, the entity,
the numbers, and says it in the planner's terms::

    layer semiconductors: min_suppliers 4 cannot hold; at most 3 partners with trust >= 0.8
    can supply it (short by 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from solver.case.chain import input_matrix, total_requirement
from solver.group_sums import Groups, lookup

if TYPE_CHECKING:
    from solver.case.loader import Case

#: Relative tolerance: a requirement holds if it is short by no more than this share.
TOL = 1e-9


def fmt(x: float) -> str:
    """A number for a message: up to 6 significant digits, no trailing zeros."""
    if not np.isfinite(x):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


@dataclass(frozen=True)
class Finding:
    """One requirement that cannot hold, with the numbers that show it.

    ``required`` is what the requirement asks for and ``available`` the most the case can
    give, in the same unit (units of demand, partners, shares of demand or of value);
    ``shortfall`` is the difference.
    """

    family: str
    """The constraint family of README, The model (``diversification``, ``demand``, ...)."""
    entity: tuple[str, ...]
    """Ids of the entity: ``(layer,)``, ``(partner,)``, ``(member, layer)`` or ``()``."""
    where: str
    """The entity in words: ``layer semiconductors``, ``member US, layer cloud``."""
    requirement: str
    """The requirement as the case states it: ``min_suppliers 4``."""
    reason: str
    """Why it cannot hold: ``at most 3 partners with trust >= 0.8 can supply it``."""
    required: float
    available: float
    excess: bool = False
    """True when the requirement asks for too much of a fixed whole (read "over by")."""

    @property
    def shortfall(self) -> float:
        """How far the case falls short of the requirement."""
        return self.required - self.available

    def __str__(self) -> str:
        word = "over" if self.excess else "short"
        return (f"{self.where}: {self.requirement} cannot hold; {self.reason} "
                f"({word} by {fmt(self.shortfall)})")


def _short(required: float, available: float) -> bool:
    return bool(required - available > TOL * max(abs(required), 1.0))


@dataclass
class _Data:
    """The tables laid out for the checks: eligible pairs, demand rows, routes."""

    layers: pd.DataFrame
    """One row per layer with demand D > 0 (indexed by layer id)."""
    pairs: pd.DataFrame
    """Eligible (partner, layer) pairs (trust >= min_trust) of layers with demand."""
    rows: pd.DataFrame
    """Demand rows (member, layer) with demand > 0."""
    total_value: float
    records: list[dict] | None = None
    """``layers`` as records, made once for the checks that read them (read, not changed)."""
    pair_sums: dict[tuple[str, str], dict] | None = None
    """Per-layer aggregates of ``pairs`` made once for the checks that read them."""


def _data(case: Case) -> _Data:
    demand = case.demand[case.demand["demand"] > 0]
    layer_demand = demand.groupby("layer")["demand"].sum()
    if case.has_inputs:
        # D is the total requirement (README, The stack as a chain); demand rows stay final.
        ids = case.layers["layer"].astype(str).tolist()
        final = layer_demand.reindex(ids).fillna(0.0).to_numpy(dtype=float)
        total = total_requirement(input_matrix(ids, case.inputs), final)
        layer_demand = pd.Series(total, index=ids)[total > 0]
    layers = case.layers.set_index("layer")
    layers = layers.loc[layers.index.isin(layer_demand.index)].copy()
    layers["D"] = layer_demand.reindex(layers.index).to_numpy(dtype=float)
    cap = case.capabilities[case.capabilities["layer"].isin(layers.index)]
    # Series.map of each pair's partner or layer, from arrays (solver/group_sums.py).
    by_layer = layers.reset_index()
    cap_layer = cap["layer"].to_numpy(dtype=object)
    pairs = cap.assign(
        trust=lookup(case.partners, "partner", "trust", cap["partner"].to_numpy(dtype=object)),
        min_trust=lookup(by_layer, "layer", "min_trust", cap_layer),
        D=lookup(by_layer, "layer", "D", cap_layer),
        max_share=lookup(by_layer, "layer", "max_share", cap_layer),
    )
    pairs = pairs[pairs["trust"] >= pairs["min_trust"]].reset_index(drop=True)
    # The most a partner can supply of a layer: its capacity, and its share of demand.
    pairs["reach"] = np.minimum(pairs["capacity"], pairs["max_share"] * pairs["D"])
    value = case.layers.set_index("layer")["unit_value"]
    total_value = float((layer_demand * value.reindex(layer_demand.index)).sum())
    return _Data(layers=layers, pairs=pairs, rows=demand.reset_index(drop=True),
                 total_value=total_value)


def _trusted(min_trust: float) -> str:
    return f" with trust >= {fmt(min_trust)}" if min_trust > 0 else ""


def _count(n: int, noun: str = "partner") -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _sums(frame: pd.DataFrame, by: str, column: str, how: str = "sum") -> dict:
    """``{group: aggregate}`` of ``column`` as a plain dict (empty frames give {}).

    ``how`` is "sum" or "size": string keys are grouped from arrays with pandas' own
    arithmetic (:class:`solver.group_sums.Groups`), other keys by pandas.
    """
    if frame.empty:
        return {}
    groups = Groups(frame[by])
    values = frame[column].to_numpy()
    if groups.codes is None or how not in ("sum", "size") or (
            how == "sum" and values.dtype != np.float64):
        return frame.groupby(by)[column].agg(how).to_dict()
    ids = groups.uniques
    got = groups.count(ids) if how == "size" else groups.sum(values, ids)
    return dict(zip(ids, got.tolist(), strict=True))


def _layer_records(data: _Data) -> list[dict]:
    if data.records is None:
        data.records = data.layers.reset_index().to_dict("records")
    return data.records


def _pair_sums(data: _Data, column: str, how: str = "sum") -> dict:
    """:func:`_sums` of ``data.pairs`` by layer, made once per :class:`_Data`."""
    if data.pair_sums is None:
        data.pair_sums = {}
    key = (column, how)
    if key not in data.pair_sums:
        data.pair_sums[key] = _sums(data.pairs, "layer", column, how)
    return data.pair_sums[key]


def check_layer_supply(case: Case, data: _Data) -> list[Finding]:
    """Demand of a layer above what its trusted partners can build or may supply.

    ``D_l <= sum_{p in S(l)} capacity`` (family ``demand``), and with each partner held to
    ``max_share_l * D_l``: ``D_l <= sum_p min(capacity, max_share_l * D_l)``
    (family ``concentration``).
    """
    out = []
    capacity = _pair_sums(data, "capacity")
    reach = _pair_sums(data, "reach")
    count = _pair_sums(data, "capacity", "size")
    for row in _layer_records(data):
        layer, D, t = str(row["layer"]), float(row["D"]), float(row["min_trust"])
        cap, n = float(capacity.get(layer, 0.0)), int(count.get(layer, 0))
        if _short(D, cap):
            reason = (f"the {_count(n)}{_trusted(t)} can build at most {fmt(cap)}" if n else
                      f"no partner{_trusted(t)} can supply it")
            out.append(Finding("demand", (layer,), f"layer {layer}", f"demand {fmt(D)}",
                               reason, D, cap))
            continue
        ms, got = float(row["max_share"]), float(reach.get(layer, 0.0))
        if ms < 1 and _short(D, got):
            reason = (f"with at most {fmt(ms * D)} from each, the {_count(n)}"
                      f"{_trusted(t)} can supply at most {fmt(got)} of its demand {fmt(D)}")
            out.append(Finding("concentration", (layer,), f"layer {layer}",
                               f"max_share {fmt(ms)}", reason, D, got))
    return out


def check_diversification(case: Case, data: _Data) -> list[Finding]:
    """Fewer partners able to host a layer than its ``min_suppliers``.

    A host must supply ``min_supplier_share_l * D_l``, so only eligible partners with at
    least that capacity count.
    """
    out = []
    pairs = data.pairs
    need = pairs["layer"].map(data.layers["min_supplier_share"] * data.layers["D"])
    able = pairs[pairs["capacity"] >= need * (1 - TOL)]
    count = _sums(able, "layer", "capacity", "size")
    trusted = _pair_sums(data, "capacity", "size")
    for row in _layer_records(data):
        layer, want = str(row["layer"]), int(row["min_suppliers"])
        n = int(count.get(layer, 0))
        if want <= n:
            continue
        reason = f"at most {_count(n)}{_trusted(float(row['min_trust']))} can supply it"
        small = int(trusted.get(layer, 0)) - n
        if small:
            share = float(row["min_supplier_share"])
            reason += (f"; {small} more cannot build the {fmt(share * row['D'])} "
                       f"a supplier must supply (min_supplier_share {fmt(share)})")
        out.append(Finding("diversification", (layer,), f"layer {layer}",
                           f"min_suppliers {want}", reason, want, n))
    return out


def check_supplier_share(case: Case, data: _Data) -> list[Finding]:
    """``min_suppliers * min_supplier_share > 1`` or ``min_supplier_share > max_share``.

    Every host supplies at least ``min_supplier_share`` of the demand and at most
    ``max_share`` of it, and the hosts together supply exactly the demand.
    """
    out = []
    for row in _layer_records(data):
        layer = str(row["layer"])
        n, s, ms = int(row["min_suppliers"]), float(row["min_supplier_share"]), \
            float(row["max_share"])
        if _short(s, ms):
            out.append(Finding(
                "supplier_share", (layer,), f"layer {layer}", f"min_supplier_share {fmt(s)}",
                f"a supplier may supply at most max_share {fmt(ms)} of the demand", s, ms,
                excess=True))
        elif _short(n * s, 1.0):
            out.append(Finding(
                "supplier_share", (layer,), f"layer {layer}",
                f"min_suppliers {n} with min_supplier_share {fmt(s)}",
                f"{n} suppliers of at least {fmt(s)} of the demand each need {fmt(n * s)} "
                "times the demand, and together they supply exactly the demand", n * s, 1.0,
                excess=True))
    return out


def check_resilience(case: Case, data: _Data) -> list[Finding]:
    """N-k impossible: without its ``K = resilience_k`` largest partners a layer falls short.

    ``sum_{p in S(l)} capacity - (the K largest capacities) >= resilience_l * D_l`` is
    necessary; a layer with at most K eligible hosts has nothing left after losing K.
    """
    out = []
    pairs = data.pairs.sort_values(["layer", "capacity", "partner"],
                                   ascending=[True, False, True])
    # Each layer's hosts, largest first: their capacities and names, in that order.
    capacity = pairs["capacity"].to_numpy(dtype=float).tolist()
    partner = pairs["partner"].astype(str).tolist()
    groups: dict[str, tuple[list[float], list[str]]] = {}
    for i, layer_id in enumerate(pairs["layer"].astype(str).tolist()):
        caps_of, names_of = groups.setdefault(layer_id, ([], []))
        caps_of.append(capacity[i])
        names_of.append(partner[i])
    for row in _layer_records(data):
        layer, res = str(row["layer"]), float(row["resilience"])
        if res <= 0:
            continue
        big_k = int(row.get("resilience_k", 1))
        need = res * float(row["D"])
        t = float(row["min_trust"])
        caps, names = groups.get(layer, ([], []))
        n = len(caps)
        cover = f"N-{big_k} cover of {fmt(need)}"
        requirement = f"resilience {fmt(res)} ({cover})"
        if big_k > 1 and n <= big_k:
            reason = (f"{'only ' if n else ''}{_count(n)}{_trusted(t)} can host it, and losing "
                      f"{big_k} at once (resilience_k {big_k}) leaves none")
            out.append(Finding("resilience", (layer,), f"layer {layer}", requirement, reason,
                               need, 0.0))
            continue
        lost = sum(caps[:big_k])
        left = sum(caps) - lost
        if not _short(need, left):
            continue
        if not n:
            reason = f"no partner{_trusted(t)} can supply it"
        elif big_k == 1:
            reason = (f"without its largest partner {names[0]} ({fmt(caps[0])}), the "
                      f"partners{_trusted(t)} can build at most {fmt(left)}")
        else:
            reason = (f"without its {big_k} largest partners {', '.join(names[:big_k])} "
                      f"({fmt(lost)}), the partners{_trusted(t)} can build at most "
                      f"{fmt(left)}")
        out.append(Finding("resilience", (layer,), f"layer {layer}", requirement, reason,
                           need, left))
    return out


def _row_reach(case: Case, data: _Data) -> pd.DataFrame:
    """Per eligible (partner, demand row) over an allowed route: the most it can send.

    One entry per (pair, row) of the same layer, made with integer codes rather than
    string merges: a million entries take a tenth of a second instead of most of one.
    Columns: ``row`` (position in ``data.rows``), ``route`` and ``dependent``.
    """
    rows, pairs = data.rows, data.pairs
    layer_ids = pd.Index(pd.unique(np.concatenate([
        pairs["layer"].to_numpy(dtype=object), rows["layer"].to_numpy(dtype=object)])))
    pair_layer = layer_ids.get_indexer(pairs["layer"].to_numpy(dtype=object))
    row_layer = layer_ids.get_indexer(rows["layer"].to_numpy(dtype=object))
    by_layer = np.argsort(row_layer, kind="stable")
    count = np.bincount(row_layer, minlength=len(layer_ids))
    first = np.cumsum(count) - count
    per_pair = count[pair_layer]
    pair = np.repeat(np.arange(len(pairs)), per_pair)
    offset = np.arange(len(pair)) - (np.cumsum(per_pair) - per_pair)[pair]
    row = by_layer[first[pair_layer[pair]] + offset]

    names = pd.Index(pd.unique(np.concatenate([
        pairs["partner"].to_numpy(dtype=object), rows["member"].to_numpy(dtype=object)])))
    exporter = names.get_indexer(pairs["partner"].to_numpy(dtype=object))[pair]
    importer = names.get_indexer(rows["member"].to_numpy(dtype=object))[row]
    domestic = exporter == importer
    trade = case.trade
    if not trade.empty:
        banned = trade.loc[~trade["allowed"].astype(bool)]
        ban_exp = names.get_indexer(banned["exporter"].to_numpy(dtype=object))
        ban_imp = names.get_indexer(banned["importer"].to_numpy(dtype=object))
        known = (ban_exp >= 0) & (ban_imp >= 0)
        width = len(names)
        ban_key = ban_exp[known].astype(np.int64) * width + ban_imp[known]
        key = exporter.astype(np.int64) * width + importer
        keep = ~np.isin(key, ban_key) | domestic
        pair, row, domestic = pair[keep], row[keep], domestic[keep]
    demand = rows["demand"].to_numpy(dtype=float)[row]
    cap = np.minimum(pairs["reach"].to_numpy(dtype=float)[pair], demand)
    dep = np.where(domestic, np.inf, rows["max_dependency"].to_numpy(dtype=float)[row] * demand)
    return pd.DataFrame({"row": row, "route": cap, "dependent": np.minimum(cap, dep)})


def check_rows(case: Case, data: _Data) -> list[Finding]:
    """A member's demand of a layer above what can reach it.

    Over allowed routes only (family ``demand``), then with each foreign partner held to
    ``max_dependency`` of the demand (family ``dependency``). Layers already short as a
    whole are left to :func:`check_layer_supply`.
    """
    if data.rows.empty:
        return []
    flows = _row_reach(case, data)
    n = len(data.rows)
    route = np.bincount(flows["row"], weights=flows["route"], minlength=n)
    dependent = np.bincount(flows["row"], weights=flows["dependent"], minlength=n)
    demand = data.rows["demand"].to_numpy(dtype=float)
    slack = TOL * np.maximum(np.abs(demand), 1.0)
    short = np.flatnonzero((demand - dependent > slack) | (demand - route > slack))
    if not len(short):
        return []
    layer_reach = _pair_sums(data, "reach")
    layer_demand = data.layers["D"].to_dict()
    records = data.rows.iloc[short].to_dict("records")
    out = []
    for r, row in zip(short.tolist(), records, strict=True):
        layer, member, d = str(row["layer"]), str(row["member"]), float(row["demand"])
        if _short(float(layer_demand[layer]), float(layer_reach.get(layer, 0.0))):
            continue
        where = f"member {member}, layer {layer}"
        got, dep_got = float(route[r]), float(dependent[r])
        if _short(d, got):
            out.append(Finding("demand", (member, layer), where, f"demand {fmt(d)}",
                               f"over the trade routes allowed to {member}, at most "
                               f"{fmt(got)} can reach it", d, got))
        elif _short(d, dep_got):
            dep = float(row["max_dependency"])
            out.append(Finding("dependency", (member, layer), where,
                               f"max_dependency {fmt(dep)}",
                               f"with at most {fmt(dep * d)} from each foreign partner, at "
                               f"most {fmt(dep_got)} of its demand {fmt(d)} can reach it",
                               d, dep_got))
    return out


def check_domestic(case: Case, data: _Data) -> list[Finding]:
    """``min_domestic`` for a member that cannot produce that much of the layer at home."""
    if case.demand_table is None:
        return []
    rows = data.rows[data.rows["min_domestic"] > 0]
    if rows.empty:
        return []
    home = {(p, la): float(x) for p, la, x in zip(
        data.pairs["partner"], data.pairs["layer"], data.pairs["reach"], strict=True)}
    capable = set(zip(case.capabilities["partner"], case.capabilities["layer"], strict=True))
    trust = case.partners.set_index("partner")["trust"].to_dict()
    min_trust = data.layers["min_trust"].to_dict()
    out = []
    for row in rows.to_dict("records"):
        member, layer = str(row["member"]), str(row["layer"])
        need = float(row["min_domestic"]) * float(row["demand"])
        got = home.get((member, layer), 0.0)
        if not _short(need, got):
            continue
        t = float(min_trust[layer])
        if (member, layer) not in capable:
            reason = f"{member} has no capability for {layer}"
        elif float(trust[member]) < t:
            reason = (f"{member}'s trust {fmt(trust[member])} is below the layer's "
                      f"min_trust {fmt(t)}")
        else:
            reason = f"{member} can supply at most {fmt(got)} of it at home"
        out.append(Finding("domestic", (member, layer), f"member {member}, layer {layer}",
                           f"min_domestic {fmt(row['min_domestic'])} ({fmt(need)} of "
                           f"{fmt(row['demand'])})", reason, need, got))
    return out


def check_participation(case: Case, data: _Data) -> list[Finding]:
    """Participation floors and ceilings that no split of the stack's value can meet.

    Floors summing above 1; a partner whose floor is above the value it can supply at most;
    ceilings (each capped by that most) summing below 1. With markets only the first: the
    value a partner can supply grows with its market supply.
    """
    V = data.total_value
    if V <= 0:
        return []
    pairs = data.pairs
    value = pairs["layer"].map(data.layers["unit_value"]).to_numpy(dtype=float)
    most = _sums(pairs.assign(v=pairs["reach"].to_numpy() * value / V), "partner", "v")
    partners = case.partners.to_dict("records")
    out = []
    floors = sum(float(p["min_participation"]) for p in partners)
    if _short(floors, 1.0):
        out.append(Finding(
            "participation", (), "partners", f"min_participation floors summing to "
            f"{fmt(floors)}", "the partners' shares of the stack's value add up to exactly 1",
            floors, 1.0, excess=True))
    if case.has_markets:
        # A partner's value grows with what it sends markets: the most below is no bound.
        return out
    for p in partners:
        pid, floor = str(p["partner"]), float(p["min_participation"])
        can = float(most.get(pid, 0.0))
        if floor > 0 and _short(floor, can):
            out.append(Finding(
                "participation", (pid,), f"partner {pid}", f"min_participation {fmt(floor)}",
                f"it can supply at most {fmt(can)} of the stack's value", floor, can))
    if any(float(p["max_participation"]) < 1 for p in partners):
        ceilings = sum(min(float(p["max_participation"]), float(most.get(p["partner"], 0.0)))
                       for p in partners)
        if _short(1.0, ceilings):
            out.append(Finding(
                "participation", (), "partners", "max_participation ceilings",
                f"with them the partners can supply at most {fmt(ceilings)} of the stack's "
                "value", 1.0, ceilings))
    return out


CHECKS: list[Callable[[Case, _Data], list[Finding]]] = [
    check_layer_supply,
    check_rows,
    check_diversification,
    check_supplier_share,
    check_resilience,
    check_domestic,
    check_participation,
]


def find_infeasibilities(case: Case) -> list[Finding]:
    """Every requirement of ``case`` that provably cannot hold, found without solving."""
    data = _data(case)
    out: list[Finding] = []
    # With a shortage price, demand may go unmet: what cannot reach a member is no longer
    # infeasible (the other requirements still refer to the demand).
    soft = case.objective.shortage_cost is not None
    for check in CHECKS:
        if soft and check in (check_layer_supply, check_rows):
            continue
        out.extend(check(case, data))
    return out
