"""Lagrangian reduced-cost fixing: hosting decisions no optimal plan can take.

At multipliers ``u`` the relaxation's bound with host ``a``'s decision flipped (held open if
the master closed it, closed if it opened it) is again a lower bound, now of every plan that
takes the flipped decision (the relaxation restricted the same way is a relaxation of the
model restricted the same way). If it exceeds the cost of a known plan, no plan with that
decision is optimal: the decision is fixed to the master's. The optimum is never removed.
"""

from __future__ import annotations

import math

import numpy as np

from solver.strengthen.hosts import Hosts
from solver.strengthen.lagrangian import Point

#: A flipped bound must exceed the plan's cost by this much (relative) to fix: room for the
#: rounding of the sums that make the bound.
MARGIN = 1e-9


def flipped_bounds(hosts: Hosts, point: Point) -> np.ndarray:
    """Per host, ``L(u)`` with its decision flipped (inf where it cannot flip).

    Opening a closed host ``a`` adds ``v_a`` and drops the dearest host the master opened only
    to reach ``need_l`` (if any); closing an open host removes ``v_a`` and, if the layer then
    has fewer than ``need_l`` hosts, adds the cheapest closed one (inf if there is none).
    Hosts the model fixes cannot flip.
    """
    value, opened = point.value, point.opened
    out = np.full(hosts.n_hosts, math.inf)
    for layer in np.unique(hosts.layer).tolist():
        mine = hosts.layer == layer
        filler = mine & opened & ~hosts.must_open & (value >= 0)
        dearest = float(value[filler].max()) if filler.any() else 0.0
        spare = mine & hosts.can_open & ~opened
        cheapest = float(value[spare].min()) if spare.any() else math.inf
        at_need = int(np.count_nonzero(mine & opened)) <= int(hosts.need[layer])
        closed = np.flatnonzero(spare)
        out[closed] = point.bound + value[closed] - dearest
        shut = np.flatnonzero(mine & opened & ~hosts.must_open)
        out[shut] = point.bound - value[shut] + (cheapest if at_need else 0.0)
    return out


def decisions_to_fix(hosts: Hosts, point: Point, plan_cost: float) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Hosts to close and hosts to open for good: their flipped bound exceeds ``plan_cost``."""
    flipped = flipped_bounds(hosts, point)
    beyond = flipped > plan_cost + MARGIN * max(abs(plan_cost), 1.0)
    close = np.flatnonzero(beyond & ~point.opened)
    open_ = np.flatnonzero(beyond & point.opened)
    return close, open_
