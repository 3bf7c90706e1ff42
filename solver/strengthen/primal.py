"""A plan of the whole model from the hosts the relaxation favours (a restricted MILP).

HiGHS solves the model it holds with every host outside a core closed: the hosts the
relaxation opens plus the closed ones whose flipped bound is lowest. Whatever it returns is
a plan of the whole model (every row is there), so its cost is an upper bound for fixing and
the plan a start for the final solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from solver.highs.runner import set_threads
from solver.strengthen.hosts import Hosts


@dataclass(frozen=True)
class Plan:
    """A feasible plan: its cost and the value of every HiGHS column."""

    cost: float
    columns: np.ndarray


def core(hosts: Hosts, opened: np.ndarray, flipped: np.ndarray, extra: int) -> np.ndarray:
    """The hosts of the restricted MILP: those opened and the ``extra`` cheapest to flip open."""
    chosen = opened.copy()
    closed = np.flatnonzero(hosts.can_open & ~opened)
    chosen[closed[np.argsort(flipped[closed], kind="stable")[:extra]]] = True
    return chosen


def run_highs(highs: Any, *, threads: int, mip_gap: float, time_limit: float) -> float | None:
    """Run HiGHS quietly on what it holds; the objective if it has a feasible point."""
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    highs.setOptionValue("time_limit", float(time_limit))
    set_threads(highs, threads)
    highs.run()
    info = highs.getInfo()
    if int(info.primal_solution_status) != 2:
        return None
    cost = float(info.objective_function_value)
    return cost if math.isfinite(cost) else None


def restricted_plan(highs: Any, hosts: Hosts, chosen: np.ndarray, *, threads: int,
                    mip_gap: float, time_limit: float) -> Plan | None:
    """Solve with every host outside ``chosen`` closed; the plan, or None if none found.

    The hosts' bounds are put back as they were before returning.
    """
    shut = hosts.y_col[~chosen & hosts.can_open].astype(np.int32)
    if len(shut):
        highs.changeColsBounds(len(shut), shut, np.zeros(len(shut)), np.zeros(len(shut)))
    try:
        cost = run_highs(highs, threads=threads, mip_gap=mip_gap, time_limit=time_limit)
        columns = np.asarray(highs.getSolution().col_value, dtype=float) \
            if cost is not None else None
    finally:
        if len(shut):
            highs.changeColsBounds(len(shut), shut, np.zeros(len(shut)), np.ones(len(shut)))
    if cost is None or columns is None:
        return None
    return Plan(cost=cost, columns=columns)
