"""The hosting decisions and their flows, read from the model HiGHS holds.

A :class:`Hosts` is the part of the model the Lagrangian relaxation keeps, as flat arrays:
per pair ``a = (p, l)`` its columns ``y``, ``k``, ``q``, its fixed cost, the most it can
supply ``U_a``, whether it may (or must) host; per flow ``f = (a, n)`` its column, its cost
per unit delivered (trade, plus the pair's unit cost of capacity, risk and the layer's
redundancy price, all read from the objective HiGHS holds) and its upper bound; per demand
row its demand; per layer how many hosts it needs at least.

Every number comes from the model as handed over, so the relaxation is one of that exact
model. Families the relaxation does not keep are named in ``relaxed``: dropping a row can
only lower the relaxation's optimum, so its bound stays valid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from solver.model.data import ModelData

#: Row families the relaxation keeps, exactly or as bounds of a host's own problem.
KEPT = frozenset({"define_supplied", "define_built", "demand", "capacity", "hosting",
                  "concentration", "dependency", "diversification"})
#: Families of one host's own rows that the relaxation drops (a weaker bound, still valid).
PER_HOST = frozenset({"hosting_min", "supplier_share"})
#: The variable groups whose costs the relaxation prices; any other cost means another model.
PRICED = ("y", "k", "q", "f", "built")


@dataclass(frozen=True)
class Hosts:
    """The relaxation's data: hosts (pairs), flows and demand rows (see the module)."""

    y_col: np.ndarray
    fixed: np.ndarray
    supply_max: np.ndarray
    """``U_a = min(capacity_a, upper bounds of k_a and q_a)``."""
    can_open: np.ndarray
    must_open: np.ndarray
    layer: np.ndarray
    flow_col: np.ndarray
    flow_pair: np.ndarray
    flow_row: np.ndarray
    flow_cost: np.ndarray
    flow_max: np.ndarray
    """``min(d_row, upper bound of f)``: a flow never exceeds its row's demand."""
    demand: np.ndarray
    need: np.ndarray
    """Per layer, the fewest hosts: ``max(min_suppliers_l, count_l)`` (:func:`fewest_hosts`)."""
    layer_demand: np.ndarray
    offset: float
    relaxed: tuple[str, ...]

    @property
    def n_hosts(self) -> int:
        """Number of hosting decisions."""
        return len(self.y_col)


def read_hosts(highs: Any, columns: dict[str, np.ndarray], data: ModelData,
               families: dict[str, int]) -> Hosts | str:
    """The :class:`Hosts` of the model ``highs`` holds, or why it has none (a sentence).

    ``columns`` maps variable groups to HiGHS columns, ``families`` every row family of the
    model to its number of rows. A model with a chain, shortage or a two-stage design has
    costs or rows outside ``PRICED``/``KEPT`` that change what the demand rows mean: refused.
    """
    if data.chain is not None or families.get("input_balance"):
        return "a chain's input balances couple layers"
    if set(columns) - set(PRICED):
        return "unmet demand or scenarios are priced (shortage or a two-stage design)"
    lp = highs.getLp()
    cost = np.asarray(lp.col_cost_, dtype=float)
    lower = np.asarray(lp.col_lower_, dtype=float)
    upper = np.asarray(lp.col_upper_, dtype=float)
    priced = np.zeros(len(cost), dtype=bool)
    for name in PRICED:
        priced[columns[name]] = True
    if np.any(cost[~priced] != 0):
        return "the objective prices variables other than hosting, capacity and flows"
    y, k, q, f, built = (columns[name] for name in PRICED)
    layer = np.asarray(data.pair_layer)
    per_unit = cost[k] + cost[built][layer]
    if np.any(per_unit < 0) or np.any(lower[k] > 0) or np.any(lower[q] > 0):
        return "capacity is priced below zero or bounded from below"
    pair = np.asarray(data.flow_pair)
    row = np.asarray(data.flow_row)
    demand = data.rows["demand"].to_numpy(dtype=float)
    capacity = data.pairs["capacity"].to_numpy(dtype=float)
    supply_max = np.minimum(capacity, np.minimum(upper[k], upper[q]))
    can_open = upper[y] >= 0.5
    relaxed = tuple(sorted(name for name, n in families.items() if n and name not in KEPT))
    hosts = Hosts(
        y_col=np.asarray(y), fixed=cost[y], supply_max=supply_max, can_open=can_open,
        must_open=lower[y] >= 0.5, layer=layer, flow_col=np.asarray(f), flow_pair=pair,
        flow_row=row, flow_cost=cost[f] + cost[q][pair] + per_unit[pair],
        flow_max=np.minimum(demand[row], upper[f]), demand=demand,
        need=np.zeros(len(data.layer_demand), dtype=int),
        layer_demand=np.asarray(data.layer_demand, dtype=float),
        offset=float(lp.offset_), relaxed=relaxed)
    need = fewest_hosts(hosts, data)
    if need is None:
        return "some layer's hosts cannot cover its demand"
    return _with_need(hosts, need)


def _with_need(hosts: Hosts, need: np.ndarray) -> Hosts:
    from dataclasses import replace

    return replace(hosts, need=need)


def fewest_hosts(hosts: Hosts, data: ModelData) -> np.ndarray | None:
    """Per layer, the fewest hosts any plan has: ``max(min_suppliers_l, count_l)``.

    ``count_l`` is the smallest number of hosts whose largest ``U_a`` add up to the layer's
    demand ``D_l``: demand is met exactly from what hosts supply, each at most ``U_a``, so
    ``sum_a U_a y_a >= D_l`` and no fewer hosts can reach it. ``min_suppliers_l`` holds for
    layers with demand (the diversification row). None if some layer cannot be covered.
    """
    need = np.zeros(len(hosts.layer_demand), dtype=int)
    minimum = data.layers["min_suppliers"].to_numpy(dtype=float) \
        if "min_suppliers" in data.layers else np.zeros(len(need))
    for layer, total in enumerate(hosts.layer_demand.tolist()):
        if total <= 0:
            continue
        mine = (hosts.layer == layer) & hosts.can_open
        sizes = np.sort(hosts.supply_max[mine])[::-1]
        reach = np.cumsum(sizes)
        # A hair of tolerance: a layer covered exactly must not count one host too many.
        count = int(np.searchsorted(reach, total * (1 - 1e-9)))
        if count >= len(sizes):
            return None
        need[layer] = max(count + 1, math.ceil(minimum[layer] - 1e-9))
    return need
