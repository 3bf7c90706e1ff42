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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from solver.case.chain import input_matrix, total_requirement
from solver.group_sums import Groups, lookup, total
from solver.model.data import route_terms

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
    """The tables laid out for the checks, as lists and arrays (see :func:`_data`)."""

    layers: list[dict[str, Any]]
    """One record per layer with demand D > 0 (in layers.csv's order): ``layer``, ``D`` and
    the columns the checks read, as ``to_dict("records")`` gives them."""
    layer_values: dict[str, np.ndarray]
    """``D``, ``min_supplier_share`` and ``unit_value`` of ``layers`` as float arrays."""
    pairs: dict[str, np.ndarray]
    """Eligible (partner, layer) pairs (trust >= min_trust) of layers with demand, in
    capabilities.csv's order: ``partner``, ``layer``, ``capacity``, ``reach`` and ``at``
    (the position of the pair's layer in ``layers``)."""
    rows: dict[str, np.ndarray]
    """Demand rows (member, layer) with demand > 0: the columns of the case's demand."""
    total_value: float
    by_layer: Groups
    """``pairs`` grouped by layer, for :func:`_pair_sums`."""
    pair_sums: dict[tuple[str, str], dict] = field(default_factory=dict)
    """Per-layer aggregates of ``pairs`` made once for the checks that read them."""


def _ids(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=object)


def _data(case: Case) -> _Data:
    # Lists and arrays, not frames: on a few hundred rows pandas' own overhead would be most
    # of the time. Every number is made as pandas made it (solver/group_sums.py).
    demand = case.demand
    keep = demand["demand"].to_numpy() > 0
    rows = {c: demand[c].to_numpy(dtype=object if c in ("member", "layer") else None)[keep]
            for c in ("member", "layer", "demand", "max_dependency", "min_domestic")}
    layer_demand = _sums(rows["layer"], rows["demand"])  # in the groupby's order
    if case.has_inputs:
        # D is the total requirement (README, The stack as a chain); demand rows stay final.
        ids = case.layers["layer"].astype(str).tolist()
        final = np.array([layer_demand.get(i, 0.0) for i in ids], dtype=float)  # no NaN sums
        total_d = total_requirement(input_matrix(ids, case.inputs), final).tolist()
        layer_demand = {i: x for i, x in zip(ids, total_d, strict=True) if x > 0}
    # Layers with demand, each a record (as data.layers.reset_index().to_dict("records")).
    table = case.layers
    layer_ids = _ids(table, "layer")
    kept = np.array([x in layer_demand for x in layer_ids.tolist()], dtype=bool)
    ids = layer_ids[kept].tolist()
    columns = {c: table[c].to_numpy()[kept].tolist() for c in (
        "min_trust", "max_share", "min_suppliers", "min_supplier_share", "resilience",
        "resilience_k") if c in table}
    records: list[dict[str, Any]] = [
        {"layer": i, "D": float(layer_demand[i]), **{c: v[k] for c, v in columns.items()}}
        for k, i in enumerate(ids)]
    values = {c: table[c].to_numpy(dtype=float)[kept]
              for c in ("min_trust", "max_share", "min_supplier_share", "unit_value")}
    values["D"] = np.array([r["D"] for r in records], dtype=float)
    # Eligible pairs: capabilities of those layers whose partner has the layer's min_trust.
    cap = case.capabilities
    cap_layer, cap_partner = _ids(cap, "layer"), _ids(cap, "partner")
    where = {x: i for i, x in enumerate(ids)}
    at = np.array([where.get(x, -1) for x in cap_layer.tolist()], dtype=np.int64)
    pick = np.flatnonzero(at >= 0)
    trust = lookup(case.partners, "partner", "trust", cap_partner[pick])
    pick = pick[trust >= values["min_trust"][at[pick]]]
    at = at[pick]
    capacity = cap["capacity"].to_numpy()[pick]
    # The most a partner can supply of a layer: its capacity, and its share of demand.
    reach = np.minimum(capacity, values["max_share"][at] * values["D"][at])
    pairs = {"partner": cap_partner[pick], "layer": cap_layer[pick], "capacity": capacity,
             "at": at, "reach": reach}
    unit_value = lookup(table, "layer", "unit_value", list(layer_demand))
    total_value = total(np.array(list(layer_demand.values()), dtype=float) * unit_value)
    return _Data(layers=records, layer_values=values, pairs=pairs, rows=rows,
                 total_value=total_value, by_layer=Groups(pairs["layer"]))


def _trusted(min_trust: float) -> str:
    return f" with trust >= {fmt(min_trust)}" if min_trust > 0 else ""


def _count(n: int, noun: str = "partner") -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _sums(keys: np.ndarray, values: np.ndarray | None, groups: Groups | None = None) -> dict:
    """``{key: sum of values}`` as pandas' groupby makes it (no rows give {}).

    In sorted key order; ``values`` None: how many rows each key has. String keys are grouped
    from arrays with pandas' own arithmetic (:class:`solver.group_sums.Groups`), other keys
    by pandas.
    """
    if not len(keys):
        return {}
    groups = groups if groups is not None else Groups(keys)
    if groups.codes is None or (values is not None and values.dtype != np.float64):
        by = pd.Series(keys if values is None else values).groupby(keys)
        return (by.size() if values is None else by.sum()).to_dict()
    ids = groups.uniques
    got = groups.count(ids) if values is None else groups.sum(values, ids)
    return dict(zip(ids, got.tolist(), strict=True))


def _pair_sums(data: _Data, column: str, how: str = "sum") -> dict:
    """:func:`_sums` of ``data.pairs``'s ``column`` by layer, made once per :class:`_Data`."""
    key = (column, how)
    if key not in data.pair_sums:
        values = data.pairs[column] if how == "sum" else None
        data.pair_sums[key] = _sums(data.pairs["layer"], values, data.by_layer)
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
    for row in data.layers:
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
    pairs, values = data.pairs, data.layer_values
    need = (values["min_supplier_share"] * values["D"])[pairs["at"]]
    count = _sums(pairs["layer"][pairs["capacity"] >= need * (1 - TOL)], None)
    trusted = _pair_sums(data, "capacity", "size")
    for row in data.layers:
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
    for row in data.layers:
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


def _hosts(data: _Data) -> dict[str, tuple[list[float], list[str]]]:
    """Each layer's hosts, largest first (then by partner): their capacities and names.

    As ``sort_values(["layer", "capacity", "partner"], ascending=[True, False, True])``
    orders the pairs (a missing capacity last), keyed by the layer's id as a string.
    """
    capacity = data.pairs["capacity"].astype(float).tolist()
    partner = data.pairs["partner"].tolist()
    order = [(c != c, 0.0 if c != c else -c, p) for c, p in zip(capacity, partner, strict=True)]
    by_layer: dict[Any, list[int]] = {}
    for i, layer_id in enumerate(data.pairs["layer"].tolist()):
        by_layer.setdefault(layer_id, []).append(i)
    return {str(layer_id): ([capacity[i] for i in at], [str(partner[i]) for i in at])
            for layer_id, at in ((k, sorted(v, key=order.__getitem__))
                                 for k, v in by_layer.items())}


def check_resilience(case: Case, data: _Data) -> list[Finding]:
    """N-k impossible: without its ``K = resilience_k`` largest partners a layer falls short.

    ``sum_{p in S(l)} capacity - (the K largest capacities) >= resilience_l * D_l`` is
    necessary; a layer with at most K eligible hosts has nothing left after losing K.
    """
    out = []
    groups = _hosts(data)
    for row in data.layers:
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


def _codes(*ids: np.ndarray) -> tuple[list[np.ndarray], dict]:
    """Integer codes of ids, shared by the arrays ``ids`` (as ``pd.unique`` numbers them)."""
    code: dict = {}
    return [np.fromiter((code.setdefault(x, len(code)) for x in a.tolist()), dtype=np.int64,
                        count=len(a)) for a in ids], code


def _row_reach(case: Case, data: _Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per eligible (partner, demand row) over an allowed route: the most it can send.

    One entry per (pair, row) of the same layer, made with integer codes rather than
    string merges: a million entries take a tenth of a second instead of most of one.
    Arrays: ``row`` (position in ``data.rows``), ``route`` and ``dependent``.
    """
    rows, pairs = data.rows, data.pairs
    (pair_layer, row_layer), layer_ids = _codes(pairs["layer"], rows["layer"])
    by_layer = np.argsort(row_layer, kind="stable")
    count = np.bincount(row_layer, minlength=len(layer_ids))
    first = np.cumsum(count) - count
    per_pair = count[pair_layer]
    pair = np.repeat(np.arange(len(pair_layer)), per_pair)
    offset = np.arange(len(pair)) - (np.cumsum(per_pair) - per_pair)[pair]
    row = by_layer[first[pair_layer[pair]] + offset]

    (exporter, importer), names = _codes(pairs["partner"], rows["member"])
    exporter, importer = exporter[pair], importer[row]
    domestic = exporter == importer
    if not case.trade.empty:
        # The model's routes: a trade row for one layer overrides the route's general row.
        layers = [str(x) for x in case.layers["layer"].tolist()]
        at = {x: i for i, x in enumerate(layers)}
        layer = np.array([at.get(str(x), -1) for x in pairs["layer"].tolist()], dtype=np.int64)
        _, allowed = route_terms(case, pd.Index([str(x) for x in names]), exporter, importer,
                                 layers, layer[pair])
        keep = allowed | domestic
        pair, row, domestic = pair[keep], row[keep], domestic[keep]
    demand = rows["demand"].astype(float)[row]
    cap = np.minimum(pairs["reach"].astype(float)[pair], demand)
    dep = np.where(domestic, np.inf, rows["max_dependency"].astype(float)[row] * demand)
    return row, cap, np.minimum(cap, dep)


def check_rows(case: Case, data: _Data) -> list[Finding]:
    """A member's demand of a layer above what can reach it.

    Over allowed routes only (family ``demand``), then with each foreign partner held to
    ``max_dependency`` of the demand (family ``dependency``). Layers already short as a
    whole are left to :func:`check_layer_supply`.
    """
    rows = data.rows
    n = len(rows["demand"])
    if not n:
        return []
    flows, route_of, dependent_of = _row_reach(case, data)
    route = np.bincount(flows, weights=route_of, minlength=n)
    dependent = np.bincount(flows, weights=dependent_of, minlength=n)
    demand = rows["demand"].astype(float)
    slack = TOL * np.maximum(np.abs(demand), 1.0)
    short = np.flatnonzero((demand - dependent > slack) | (demand - route > slack))
    if not len(short):
        return []
    layer_reach = _pair_sums(data, "reach")
    layer_demand = {row["layer"]: row["D"] for row in data.layers}
    out = []
    for r in short.tolist():
        layer, member = str(rows["layer"][r]), str(rows["member"][r])
        d = float(rows["demand"][r])
        if _short(float(layer_demand[layer]), float(layer_reach.get(layer, 0.0))):
            continue
        where = f"member {member}, layer {layer}"
        got, dep_got = float(route[r]), float(dependent[r])
        if _short(d, got):
            out.append(Finding("demand", (member, layer), where, f"demand {fmt(d)}",
                               f"over the trade routes allowed to {member}, at most "
                               f"{fmt(got)} can reach it", d, got))
        elif _short(d, dep_got):
            dep = float(rows["max_dependency"][r])
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
    wanted = data.rows["min_domestic"] > 0
    if not wanted.any():
        return []
    rows = [data.rows[c][wanted].tolist() for c in ("member", "layer", "demand", "min_domestic")]
    home = {(p, la): float(x) for p, la, x in zip(*(
        data.pairs[c].tolist() for c in ("partner", "layer", "reach")), strict=True)}
    capable = set(zip(_ids(case.capabilities, "partner").tolist(),
                      _ids(case.capabilities, "layer").tolist(), strict=True))
    trust = dict(zip(_ids(case.partners, "partner").tolist(),
                     case.partners["trust"].tolist(), strict=True))
    min_trust = {row["layer"]: row["min_trust"] for row in data.layers}
    out = []
    for member_id, layer_id, demand, share in zip(*rows, strict=True):
        member, layer = str(member_id), str(layer_id)
        need = float(share) * float(demand)
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
                           f"min_domestic {fmt(share)} ({fmt(need)} of {fmt(demand)})",
                           reason, need, got))
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
    value = data.layer_values["unit_value"][pairs["at"]]
    most = _sums(pairs["partner"], pairs["reach"] * value / V)
    ids, floor_of, ceiling_of = (case.partners[c].tolist() for c in (
        "partner", "min_participation", "max_participation"))
    out = []
    floors = sum(float(x) for x in floor_of)
    if _short(floors, 1.0):
        out.append(Finding(
            "participation", (), "partners", f"min_participation floors summing to "
            f"{fmt(floors)}", "the partners' shares of the stack's value add up to exactly 1",
            floors, 1.0, excess=True))
    if case.has_markets:
        # A partner's value grows with what it sends markets: the most below is no bound.
        return out
    for p, x in zip(ids, floor_of, strict=True):
        pid, floor = str(p), float(x)
        can = float(most.get(pid, 0.0))
        if floor > 0 and _short(floor, can):
            out.append(Finding(
                "participation", (pid,), f"partner {pid}", f"min_participation {fmt(floor)}",
                f"it can supply at most {fmt(can)} of the stack's value", floor, can))
    if any(float(x) < 1 for x in ceiling_of):
        ceilings = sum(min(float(x), float(most.get(p, 0.0)))
                       for p, x in zip(ids, ceiling_of, strict=True))
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
