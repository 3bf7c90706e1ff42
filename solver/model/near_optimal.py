"""The near-optimal search model: the cost model with a cost cap, a distance and a direction.

Added once to a built cost model (README, Near-optimal alternatives), so that every search
of ``coalition alternatives`` re-solves the same model with only bounds and parameters
changed:

- ``C = cost``: a free column equal to the model's cost, whose upper bound is the cost cap
  ``(1 + e) c*``;
- distance rows, one per reference plan ``j`` (the optimum and the alternatives found
  before), ``t <= d_j(y) = sum_a [y_a differs from Y_ja]
  = |Y_j| + sum_a (1 - 2 Y_ja) y_a``, with ``t`` in ``[0, n_pairs]``; a slot not yet in use
  has an offset ``n_pairs + 1`` that makes its row never bind;
- optionally a direction ``X = expr`` (participation, suppliers, share, hosts or reach);
- the objective ``w_c C + w_t t + w_x X`` with mutable weights.

Minimising ``C`` alone is the cost model; ``-t`` is the most different plan; ``+-X`` pushes
the direction. Floors on ``t`` or ``X`` (column bounds) then let ``C`` be minimised among
the plans that reach them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from solver.model.build import Built
from solver.model.constraints import add_bodies, minus


@dataclass(frozen=True)
class Direction:
    """A linear quantity of the plan: ``sum coef * var`` over pairs' ``y`` or ``q``.

    With ``variable`` ``s``, over market rows' supplied ``s`` (``pairs`` are row positions).
    """

    key: str
    """As the user wrote it, ``participation[IN]``."""
    variable: str
    """``y`` (hosting), ``q`` (supply) or ``s`` (supplied to a market row)."""
    pairs: tuple[int, ...]
    coefs: tuple[float, ...]


@dataclass
class NearOptimal:
    """Handles on the search components of one model (see the module docstring)."""

    built: Built
    slots: int

    @property
    def m(self) -> Any:
        """The Pyomo model."""
        return self.built.m

    def minimise_cost(self) -> None:
        """Objective ``C``: the cost model (floors stay as they are)."""
        self._weights(cost=1.0)

    def maximise_distance(self) -> None:
        """Objective ``-t``: the plan farthest from the nearest reference plan."""
        self._weights(distance=-1.0)

    def push(self, sense: int) -> None:
        """Objective ``-sense * X``: ``sense`` +1 maximises the direction, -1 minimises it."""
        self._weights(direction=-float(sense))

    def _weights(self, cost: float = 0.0, distance: float = 0.0,
                 direction: float = 0.0) -> None:
        m = self.m
        m.no_w_cost.set_value(cost)
        m.no_w_distance.set_value(distance)
        if hasattr(m, "no_w_direction"):
            m.no_w_direction.set_value(direction)

    def cap(self, value: float | None) -> None:
        """The cost cap (``None``: no cap)."""
        self.m.no_cost.setub(value)

    def distance_floor(self, value: float) -> None:
        """Every reference plan at least ``value`` hosts away."""
        self.m.no_t.setlb(value)

    def direction_bounds(self, lower: float | None, upper: float | None) -> None:
        """Bounds on the direction ``X`` (``None``: free on that side)."""
        self.m.no_x.setlb(lower)
        self.m.no_x.setub(upper)

    def set_reference(self, slot: int, hosted: np.ndarray) -> None:
        """Make plan ``hosted`` (0/1 per pair) reference ``slot``: ``t`` counts from it."""
        m = self.m
        ones = np.asarray(hosted, dtype=float).round()
        for a, y in enumerate(ones.tolist()):
            m.no_sign[slot, a].set_value(-1.0 if y else 1.0)
        m.no_ones[slot].set_value(float(ones.sum()))
        m.no_offset[slot].set_value(0.0)

    def groups(self) -> dict[str, Any]:
        """The search's own columns, to read back and warm-start with the plan's."""
        out = {"no_cost": [self.m.no_cost], "no_t": [self.m.no_t]}
        if hasattr(self.m, "no_x"):
            out["no_x"] = [self.m.no_x]
        return out


def add_near_optimal(built: Built, slots: int, direction: Direction | None = None) -> NearOptimal:
    """Add the search components to ``built`` (its objective becomes ``w_c C + ...``).

    ``slots`` reference plans can be compared against (the optimum and each alternative
    before the last). Starts as the cost model: ``w_c = 1``, no cap, no slot in use.
    """
    m, ctx = built.m, built.ctx
    n_pairs = ctx.n_pairs
    cost = m.objective.expr
    # The cost row copies the objective's terms: they must be flat (monomials, variables,
    # constants), as build() makes them, not nested sums a copy would take for constants.
    if not isinstance(cost, LinearExpression) or not all(map(_flat, cost.args)):
        raise TypeError("add_near_optimal needs the flat linear cost objective of build()")
    m.objective.deactivate()
    m.no_cost = pyo.Var(within=pyo.Reals)
    m.no_t = pyo.Var(bounds=(0.0, float(n_pairs)))
    add_bodies(ctx, "no_cost_row", [("cost",)],
               [[*cost.args, minus(m.no_cost)]], [0.0], [0.0], requirement=False)
    _add_distance(built, slots)
    m.no_w_cost = pyo.Param(mutable=True, initialize=1.0)
    m.no_w_distance = pyo.Param(mutable=True, initialize=0.0)
    terms: list[Any] = [MonomialTermExpression((m.no_w_cost, m.no_cost)),
                        MonomialTermExpression((m.no_w_distance, m.no_t))]
    if direction is not None:
        m.no_x = pyo.Var(within=pyo.Reals)
        m.no_w_direction = pyo.Param(mutable=True, initialize=0.0)
        var = ctx.var_y if direction.variable == "y" else ctx.var_q \
            if direction.variable == "q" else list(m.s.values())
        body = [MonomialTermExpression((c, var[a]))
                for a, c in zip(direction.pairs, direction.coefs, strict=True)]
        add_bodies(ctx, "no_direction", [(direction.key,)], [[*body, minus(m.no_x)]],
                   [0.0], [0.0], requirement=False)
        terms.append(MonomialTermExpression((m.no_w_direction, m.no_x)))
    m.no_objective = pyo.Objective(sense=pyo.minimize)
    m.no_objective.set_value(LinearExpression(terms))
    return NearOptimal(built=built, slots=slots)


def _flat(arg: Any) -> bool:
    """A term of a flat linear expression: a monomial, a variable or a constant."""
    if isinstance(arg, MonomialTermExpression | int | float):
        return True
    return bool(arg.is_variable_type() or not arg.is_potentially_variable())


def _add_distance(built: Built, slots: int) -> None:
    """``sum_a sign[j,a] y_a - t >= -(ones_j + offset_j)`` for each slot ``j``."""
    m, ctx = built.m, built.ctx
    n_pairs = ctx.n_pairs
    index = pyo.SetOf(range(slots))
    m.no_sign = pyo.Param(index, pyo.SetOf(range(n_pairs)), mutable=True, initialize=1.0)
    m.no_ones = pyo.Param(index, mutable=True, initialize=0.0)
    m.no_offset = pyo.Param(index, mutable=True, initialize=float(n_pairs + 1))
    y = ctx.var_y
    args: list[list[Any]] = []
    lower: list[Any] = []
    for j in range(slots):
        args.append([*(MonomialTermExpression((m.no_sign[j, a], y[a])) for a in range(n_pairs)),
                     minus(m.no_t)])
        lower.append(-(m.no_ones[j] + m.no_offset[j]))
    add_bodies(ctx, "no_distance", [(str(j),) for j in range(slots)], args, lower, None,
               requirement=False)

