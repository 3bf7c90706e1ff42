"""The stronger solve, step by step: decide, bound, find a plan, fix, add rows, start.

:func:`strengthen` runs on the model HiGHS holds, before the solve, and leaves HiGHS a
reduced model (hosting decisions fixed, rows added) with a plan as its start. The caller
then solves it and reports :func:`true_bound`.

Why the reported bound is the whole problem's: let ``P`` be the cost of the plan used to fix
and ``B`` HiGHS's bound on the reduced model. Every plan the fixing removed costs more than
``P`` (:mod:`~solver.strengthen.fixing`), and the reduced model holds the plan, so the
optimum of the whole problem is the reduced model's optimum, which is at least ``B``. The
Lagrangian bound ``L`` is a bound of the whole problem by itself
(:mod:`~solver.strengthen.lagrangian`). So ``max(B, L)`` is, and never more than the
objective of the plan returned.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solver.model.data import ModelData
from solver.strengthen.fixing import decisions_to_fix, flipped_bounds
from solver.strengthen.hosts import KEPT, PER_HOST, Hosts, read_hosts
from solver.strengthen.lagrangian import Point, ascend, evaluate, first_multipliers
from solver.strengthen.primal import Plan, core, restricted_plan
from solver.strengthen.rows import add_layer_rows, add_strong_rows, separate

log = logging.getLogger(__name__)

#: ``auto`` (where it pays, see :func:`declines`), ``on`` (wherever the model allows), ``off``.
MODES = ("auto", "on", "off")
#: ``auto`` needs at least this many hosts with a fixed cost that may host.
AUTO_MIN_HOSTS = 50
#: Subgradient steps before the first plan, and in all.
FIRST_STEPS, ALL_STEPS = 300, 1200
#: Seconds the restricted MILP may take at most (it also gets at most half the time limit).
CORE_SECONDS = 120.0
#: Rounds of adding violated strong rows after fixing.
ROUNDS = 3


@dataclass
class Strengthening:
    """What the stronger solve did, for summary.json's ``strengthen``."""

    mode: str
    applied: bool = False
    reason: str = ""
    bound: float | None = None
    plan_cost: float | None = None
    hosts: int = 0
    closed: int = 0
    opened: int = 0
    rows: int = 0
    relaxed: tuple[str, ...] = ()
    seconds: float = 0.0
    start: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """The record of summary.json (no arrays)."""
        return {"mode": self.mode, "applied": self.applied, "reason": self.reason,
                "lagrangian_bound": self.bound, "plan_cost": self.plan_cost,
                "hosts": self.hosts, "closed": self.closed, "opened": self.opened,
                "rows_added": self.rows, "relaxed": list(self.relaxed),
                "seconds": self.seconds}


def coupling(families: dict[str, int]) -> str:
    """Why ``auto`` declines from the row families alone (no model read), or ``""``.

    A family that couples hosts and that the relaxation would drop (resilience, surplus,
    domestic, participation, budget) leaves the bound weak; a chain's input balances are
    not relaxed at all. Both are known from the row counts, so ``auto`` declines at once.
    """
    if families.get("input_balance"):
        return "a chain's input balances couple layers"
    names = sorted(name for name, n in families.items()
                   if n and name not in KEPT and name not in PER_HOST)
    return "rows that couple hosts (" + ", ".join(names) + ")" if names else ""


def declines(hosts: Hosts, mode: str) -> str:
    """Why ``auto`` leaves the model to HiGHS alone, or ``""`` if it strengthens it.

    ``auto`` strengthens only a facility-location structure where the bound can pay: no
    family that couples hosts is relaxed (:func:`coupling`) and at least ``AUTO_MIN_HOSTS``
    hosts that may host carry a fixed cost (below that HiGHS's own search is fast). ``on``
    strengthens wherever the model allows.
    """
    if mode == "on":
        return ""
    priced = int(np.count_nonzero(hosts.can_open & (hosts.fixed > 0)))
    if priced < AUTO_MIN_HOSTS:
        return f"{priced} hosts with a fixed cost (fewer than {AUTO_MIN_HOSTS})"
    return ""


def strengthen(highs: Any, columns: dict[str, np.ndarray], data: ModelData,
               families: dict[str, int], *, mode: str, threads: int, mip_gap: float,
               time_limit: float | None) -> Strengthening:
    """Strengthen the model ``highs`` holds before it is solved (see the module).

    ``columns`` maps variable groups to HiGHS columns, ``families`` row families to their
    row counts. Returns what was done; with ``applied`` false the model is unchanged.
    """
    started = time.perf_counter()
    done = Strengthening(mode=mode)
    if mode == "off":
        done.reason = "off"
        return done
    done.reason = coupling(families) if mode == "auto" else ""
    hosts = read_hosts(highs, columns, data, families) if not done.reason else ""
    if isinstance(hosts, str):
        done.reason = done.reason or hosts
    else:
        done.reason = declines(hosts, mode)
    if done.reason or isinstance(hosts, str):
        done.seconds = time.perf_counter() - started
        return done
    done.relaxed, done.hosts = hosts.relaxed, hosts.n_hosts
    budget = time_limit if time_limit is not None else math.inf
    point = bound_point(hosts, first_multipliers(hosts), None, FIRST_STEPS)
    chosen = core(hosts, point.opened, flipped_bounds(hosts, point),
                  max(3 * int(np.count_nonzero(point.opened)), 20))
    used = np.flatnonzero((point.taken > 0) & chosen[hosts.flow_pair])
    done.rows = add_layer_rows(highs, hosts) + add_strong_rows(highs, hosts, used)
    plan = first_plan(highs, hosts, chosen, threads=threads, mip_gap=mip_gap,
                      seconds=min(CORE_SECONDS, budget / 2))
    log.info("strengthen: bound %.10g, plan %s (%.1f s)", point.bound,
             plan.cost if plan else None, time.perf_counter() - started)
    if plan is not None:
        point = bound_point(hosts, point.u, plan.cost, ALL_STEPS - FIRST_STEPS, point)
    done.applied = True
    done.bound = point.bound if math.isfinite(point.bound) else None
    fixed = fix(highs, hosts, point, plan, done)
    free = np.setdiff1d(np.flatnonzero(hosts.can_open), fixed)
    log.info("strengthen: bound %.10g, %d hosts closed and %d opened for good (%.1f s)",
             point.bound, done.closed, done.opened, time.perf_counter() - started)
    done.rows += add_rows(highs, hosts, point, free, used, threads=threads,
                          seconds=budget / 4)
    log.info("strengthen: %d rows added (%.1f s)", done.rows, time.perf_counter() - started)
    if plan is not None:
        done.plan_cost, done.start = plan.cost, plan.columns
        set_start(highs, plan.columns)
    done.seconds = time.perf_counter() - started
    return done


def bound_point(hosts: Hosts, u: np.ndarray, target: float | None, steps: int,
                best: Point | None = None) -> Point:
    """The best relaxation point after ``steps`` subgradient steps from ``u``.

    Aimed at ``target`` (a plan's cost) when known, else just above the best bound so far
    (:func:`~solver.strengthen.lagrangian.ascend`).
    """
    point = ascend(hosts, evaluate(hosts, u), target, steps)
    return point if best is None or point.bound >= best.bound else best


def first_plan(highs: Any, hosts: Hosts, chosen: np.ndarray, *, threads: int,
               mip_gap: float, seconds: float) -> Plan | None:
    """A plan of the whole model from the ``chosen`` hosts; all hosts if they give none."""
    plan = restricted_plan(highs, hosts, chosen, threads=threads, mip_gap=mip_gap,
                           time_limit=seconds)
    if plan is not None or chosen[hosts.can_open].all():
        return plan
    everyone = np.ones(hosts.n_hosts, dtype=bool)
    return restricted_plan(highs, hosts, everyone, threads=threads, mip_gap=mip_gap,
                           time_limit=seconds)


def fix(highs: Any, hosts: Hosts, point: Point, plan: Plan | None,
        done: Strengthening) -> np.ndarray:
    """Fix the hosts whose flipped bound exceeds the plan's cost; the hosts fixed."""
    if plan is None or not math.isfinite(point.bound):
        return np.zeros(0, dtype=int)
    close, open_ = decisions_to_fix(hosts, point, plan.cost)
    for which, value in ((close, 0.0), (open_, 1.0)):
        if len(which):
            cols = hosts.y_col[which].astype(np.int32)
            level = np.full(len(cols), value)
            highs.changeColsBounds(len(cols), cols, level, level)
    done.closed, done.opened = len(close), len(open_)
    return np.concatenate([close, open_])


def add_rows(highs: Any, hosts: Hosts, point: Point, free: np.ndarray, done: np.ndarray, *,
             threads: int, seconds: float) -> int:
    """Strong rows on the free hosts' flows the relaxation uses, then where the LP violates.

    ``done`` are the flows whose rows are in already.
    """
    on_free = np.isin(hosts.flow_pair, free)
    on_free[done] = False
    used = np.flatnonzero(on_free & (point.taken > 0))
    added = add_strong_rows(highs, hosts, used)
    rest = np.flatnonzero(on_free & ~(point.taken > 0))
    return added + separate(highs, hosts, rest, threads=threads, rounds=ROUNDS,
                            time_limit=max(seconds, 1.0))


def set_start(highs: Any, columns: np.ndarray) -> None:
    """Give HiGHS the plan as its MIP start (after every change to the model)."""
    index = np.arange(len(columns), dtype=np.int32)
    highs.setSolution(len(index), index, columns)


def true_bound(bound: float | None, done: Strengthening,
               objective: float | None) -> float | None:
    """``max(B, L)``, at most the objective (why it is valid: the module)."""
    best = [b for b in (bound, done.bound) if b is not None and math.isfinite(b)]
    if not best:
        return None
    value = max(best)
    return min(value, objective) if objective is not None else value
