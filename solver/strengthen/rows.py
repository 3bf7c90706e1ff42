"""Valid rows that tighten the LP: strong linking rows, host counts, aggregate capacity.

All three hold in every plan of the model, so adding them removes no plan:

- strong linking: ``x_f <= min(xmax_f, U_a) y_a`` (a flow only from a host, and never more
  than its row's demand or its host's supply);
- count: ``sum_{a in l} y_a >= need_l`` (:func:`~solver.strengthen.hosts.fewest_hosts`);
- aggregate capacity: ``sum_{a in l} U_a y_a >= D_l`` (demand is met from hosts' supply).

The strong rows are many (one per flow) and few bind: they are added for the flows the
relaxation uses and then, round by round, where the LP violates them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solver.strengthen.hosts import Hosts
from solver.strengthen.primal import run_highs

#: How far the LP may exceed a strong row before it is added.
VIOLATION = 1e-6


def add_strong_rows(highs: Any, hosts: Hosts, flows: np.ndarray) -> int:
    """Add ``x_f - min(xmax_f, U_a) y_a <= 0`` for ``flows``; how many were added."""
    n = len(flows)
    if n == 0:
        return 0
    pair = hosts.flow_pair[flows]
    coef = np.minimum(hosts.flow_max[flows], hosts.supply_max[pair])
    index = np.empty(2 * n, dtype=np.int32)
    index[0::2] = hosts.flow_col[flows]
    index[1::2] = hosts.y_col[pair]
    value = np.empty(2 * n)
    value[0::2] = 1.0
    value[1::2] = -coef
    starts = np.arange(0, 2 * n, 2, dtype=np.int32)
    highs.addRows(n, np.full(n, -np.inf), np.zeros(n), 2 * n, starts, index, value)
    return n


def add_layer_rows(highs: Any, hosts: Hosts) -> int:
    """Add the count and aggregate capacity rows of every layer that needs a host."""
    added = 0
    for layer in np.flatnonzero(hosts.need > 0).tolist():
        mine = np.flatnonzero((hosts.layer == layer) & hosts.can_open)
        cols = hosts.y_col[mine].astype(np.int32)
        highs.addRow(float(hosts.need[layer]), np.inf, len(cols), cols, np.ones(len(cols)))
        highs.addRow(float(hosts.layer_demand[layer]), np.inf, len(cols), cols,
                     hosts.supply_max[mine].astype(float))
        added += 2
    return added


def violated(hosts: Hosts, columns: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The ``candidates`` flows whose strong row the point ``columns`` violates."""
    pair = hosts.flow_pair[candidates]
    coef = np.minimum(hosts.flow_max[candidates], hosts.supply_max[pair])
    excess = columns[hosts.flow_col[candidates]] - coef * columns[hosts.y_col[pair]]
    return candidates[excess > VIOLATION * np.maximum(coef, 1.0)]


def separate(highs: Any, hosts: Hosts, candidates: np.ndarray, *, threads: int,
             rounds: int, time_limit: float) -> int:
    """Solve the LP relaxation and add the violated strong rows, up to ``rounds`` times.

    ``candidates`` are the flows whose rows are not in yet. Integrality is lifted for the LP
    and put back. Returns how many rows were added.
    """
    y = hosts.y_col.astype(np.int32)
    added = 0
    remaining = np.asarray(candidates)
    for _ in range(rounds):
        highs.changeColsIntegrality(len(y), y, np.zeros(len(y), dtype=np.uint8))
        try:
            cost = run_highs(highs, threads=threads, mip_gap=0.0, time_limit=time_limit)
            columns = np.asarray(highs.getSolution().col_value, dtype=float)
        finally:
            highs.changeColsIntegrality(len(y), y, np.ones(len(y), dtype=np.uint8))
        if cost is None:
            break
        new = violated(hosts, columns, remaining)
        if len(new) == 0:
            break
        added += add_strong_rows(highs, hosts, new)
        remaining = np.setdiff1d(remaining, new, assume_unique=True)
    return added
