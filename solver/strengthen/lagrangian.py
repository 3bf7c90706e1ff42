"""The Lagrangian relaxation of the demand rows, its subproblems and subgradient steps.

With multipliers ``u_r`` on the demand rows ``sum_{f in r} x_f = d_r``, the model without the
coupling rows falls apart into one problem per host ``a`` and a master over the hosts:

    L(u) = offset + sum_r u_r d_r + min { sum_a v_a(u) y_a : sum_{a in l} y_a >= need_l,
                                           y_a in {0,1}, y fixed where the model fixes it }
    v_a(u) = F_a + min { sum_{f of a} (c_f - u_r(f)) x_f : sum_f x_f <= U_a,
                                                          0 <= x_f <= xmax_f }

``c_f`` is the flow's cost per unit delivered (trade, plus its host's unit costs of capacity,
risk and redundancy: capacity built is what is supplied in the relaxation's optimum),
``U_a`` the most the host may supply, ``xmax_f`` the flow's own bound (at most its row's
demand). ``v_a`` is a continuous knapsack, solved exactly by taking the flows of negative
reduced cost cheapest first; the master is solved exactly by opening every host of negative
value and then the cheapest others up to ``need_l``.

Why ``L(u)`` is a lower bound of the whole problem, for every ``u``: an optimal plan of the
model meets every demand row exactly, so its cost equals its Lagrangian cost for any ``u``;
it satisfies every constraint the relaxation keeps (each is a row or bound of the model, or
implied by them: ``need_l`` by :func:`~solver.strengthen.hosts.fewest_hosts`); so the
relaxation's minimum is at most the optimum. Dropping rows (the ``relaxed`` families) only
lowers that minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from solver.strengthen.hosts import Hosts


@dataclass(frozen=True)
class Point:
    """The relaxation at one ``u``: bound, host values, hosts opened, flows taken."""

    u: np.ndarray
    bound: float
    value: np.ndarray
    opened: np.ndarray
    taken: np.ndarray
    """Per flow, ``x_f`` of its host's subproblem (as if the host were open)."""


def host_values(hosts: Hosts, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``v_a(u)`` per host and the flows ``x_f`` of each host's knapsack (see the module)."""
    reduced = hosts.flow_cost - u[hosts.flow_row]
    negative = np.flatnonzero(reduced < 0)
    order = negative[np.lexsort((reduced[negative], hosts.flow_pair[negative]))]
    pair = hosts.flow_pair[order]
    amount = hosts.flow_max[order]
    reach = np.cumsum(amount)
    first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else \
        np.zeros(0, dtype=int)
    base = np.repeat((reach - amount)[first], np.diff(np.r_[first, len(pair)]))
    before = reach - amount - base
    taken = np.zeros(len(reduced))
    taken[order] = np.clip(hosts.supply_max[pair] - before, 0.0, amount)
    value = hosts.fixed + np.bincount(hosts.flow_pair, weights=reduced * taken,
                                      minlength=hosts.n_hosts)
    return value, taken


def master(hosts: Hosts, value: np.ndarray) -> tuple[np.ndarray, float]:
    """The hosts opened and ``sum_a v_a y_a`` of the master (math: the module); inf if none."""
    opened = hosts.must_open | (hosts.can_open & (value < 0))
    for layer in np.flatnonzero(hosts.need > 0).tolist():
        mine = hosts.layer == layer
        short = int(hosts.need[layer]) - int(np.count_nonzero(opened & mine))
        if short <= 0:
            continue
        spare = np.flatnonzero(mine & hosts.can_open & ~opened)
        if len(spare) < short:
            return opened, math.inf
        opened[spare[np.argsort(value[spare], kind="stable")[:short]]] = True
    return opened, float(value[opened].sum())


def evaluate(hosts: Hosts, u: np.ndarray) -> Point:
    """The relaxation at multipliers ``u``: ``L(u)`` and its solution."""
    value, taken = host_values(hosts, u)
    opened, total = master(hosts, value)
    bound = hosts.offset + float(u @ hosts.demand) + total
    return Point(u=u, bound=bound, value=value, opened=opened, taken=taken)


def first_multipliers(hosts: Hosts) -> np.ndarray:
    """Start: ``u_r`` the cheapest cost per unit of any flow into row ``r``."""
    u = np.full(len(hosts.demand), np.inf)
    np.minimum.at(u, hosts.flow_row, hosts.flow_cost)
    u[~np.isfinite(u)] = 0.0
    return u


def subgradient(hosts: Hosts, point: Point) -> np.ndarray:
    """``d_r - sum_{f in r} x_f y_a(f)``: how far the relaxation's plan misses each row."""
    delivered = np.bincount(hosts.flow_row, weights=point.taken * point.opened[hosts.flow_pair],
                            minlength=len(hosts.demand))
    return hosts.demand - delivered


#: Without a plan's cost, the steps aim this far (relative) above the best bound so far.
AHEAD = 0.05


def ascend(hosts: Hosts, start: Point, target: float | None, steps: int,
           patience: int = 30, shrink: float = 0.7) -> Point:
    """Subgradient steps ``u += lam (target - L(u)) g / |g|^2`` from ``start``; the best point.

    ``lam`` starts at 1 and shrinks by ``shrink`` after ``patience`` steps without a better
    bound (Polyak's step aimed at ``target``, a plan's cost). Without one (None) the aim moves
    with the best bound, ``AHEAD`` above it, so the steps do not vanish while the bound is
    still far below the optimum. Stops early when the relaxation's plan meets every demand
    row or ``lam`` is negligible.
    """
    best = point = start
    lam, stale = 1.0, 0
    for _ in range(steps):
        g = subgradient(hosts, point)
        norm = float(g @ g)
        if norm <= 1e-18 or lam < 1e-6 or not math.isfinite(point.bound):
            break
        aim = target if target is not None else best.bound + AHEAD * max(abs(best.bound), 1.0)
        step = lam * max(aim - point.bound, 1e-9 * max(abs(aim), 1.0)) / norm
        point = evaluate(hosts, point.u + step * g)
        if point.bound > best.bound:
            best, stale = point, 0
        else:
            stale += 1
            if stale >= patience:
                lam, stale = lam * shrink, 0
    return best
