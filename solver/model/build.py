"""Build the Pyomo model of a case: variables where they can be nonzero, every family."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from solver.case import Case
from solver.model.constraints import FAMILIES
from solver.model.context import Context
from solver.model.data import ModelData, model_data
from solver.model.numbers import Numbers, mutable_quantities, values

log = logging.getLogger(__name__)


@dataclass
class Built:
    """A built model with what is needed to read its solution and update its numbers."""

    m: pyo.ConcreteModel
    ctx: Context
    data: ModelData
    mutable: frozenset[str]

    @property
    def num(self) -> Numbers:
        """The model's numbers (fixed or mutable)."""
        return self.ctx.num


def build(case: Case, mutable: set[str] | frozenset[str] = frozenset(),
          elastic: bool = False) -> Built:
    """Build the MILP of SPEC section 3 for ``case``.

    ``mutable`` names override columns (``"layers.max_share"``, ``"demand.demand"``, ...)
    whose numbers become mutable parameters, so that a sweep can change them and re-solve;
    families that depend on them are then built for every entity, whatever the value.
    ``elastic`` builds the explanation model: each requirement may be violated at a price.
    """
    quantities = mutable_quantities(set(mutable))
    data = model_data(case, keep_zero_demand="demand" in quantities)
    m = pyo.ConcreteModel(name=case.name)
    m.row_keys = {}
    arrays = values(case, data)
    num = Numbers(m, arrays, quantities)

    m.y = pyo.Var(range(data.n_pairs), within=pyo.Binary)
    m.k = pyo.Var(range(data.n_pairs), within=pyo.NonNegativeReals)
    m.q = pyo.Var(range(data.n_pairs), within=pyo.NonNegativeReals)
    m.f = pyo.Var(range(data.n_flows), within=pyo.NonNegativeReals)
    m.built = pyo.Var(range(len(data.layers)), within=pyo.NonNegativeReals)

    ctx = Context(m=m, data=data, num=num, elastic=elastic)
    for family in FAMILIES:
        family(ctx)
    if elastic:
        m.objective = pyo.Objective(expr=_violation(ctx), sense=pyo.minimize)
    else:
        m.objective = pyo.Objective(expr=_cost(ctx), sense=pyo.minimize)
    log.debug("built %d pairs, %d flows, %d demand rows", data.n_pairs, data.n_flows,
              len(data.rows))
    return Built(m=m, ctx=ctx, data=data, mutable=frozenset(mutable))


def _cost(ctx: Context) -> LinearExpression:
    """Fixed + capacity + trade + redundancy + risk, as one linear expression."""
    m, num = ctx.m, ctx.num
    vars_: list[Any] = []
    coefs: list[Any] = []
    fixed, unit = num["fixed_cost"], num["unit_cost"]
    for a in range(ctx.n_pairs):
        if num.is_mutable("fixed_cost") or ctx.arrays["fixed_cost"][a] != 0:
            vars_.append(m.y[a])
            coefs.append(fixed[a])
        if num.is_mutable("unit_cost") or ctx.arrays["unit_cost"][a] != 0:
            vars_.append(m.k[a])
            coefs.append(unit[a])
    trade = num["trade_cost"]
    for j in range(ctx.n_flows):
        if num.is_mutable("trade_cost") or ctx.arrays["trade_cost"][j] != 0:
            vars_.append(m.f[j])
            coefs.append(trade[j])
    rw, rc = num.scalar("redundancy_weight"), num["redundancy_cost"]
    constant: Any = 0.0
    for layer in range(ctx.n_layers):
        if num.is_mutable("redundancy_cost") or num.is_mutable("redundancy_weight") or (
                ctx.arrays["redundancy_cost"][layer] * ctx.arrays["redundancy_weight"][0] != 0):
            vars_.append(m.built[layer])
            coefs.append(rw * rc[layer])
            constant = constant - rw * rc[layer] * ctx.D[layer]
    kw, risk, v = num.scalar("risk_weight"), num["disruption_risk"], num["unit_value"]
    pair_partner = ctx.data.pair_partner
    for a in range(ctx.n_pairs):
        p, layer = int(pair_partner[a]), int(ctx.pair_layer[a])
        if num.is_mutable("risk_weight") or num.is_mutable("disruption_risk") or (
                ctx.arrays["risk_weight"][0] * ctx.arrays["disruption_risk"][p] != 0):
            vars_.append(m.q[a])
            coefs.append(kw * risk[p] * v[layer])
    return LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=vars_)


def _violation(ctx: Context) -> LinearExpression:
    """Sum of every requirement's slack, each weighted by the inverse of its scale."""
    vars_: list[Any] = []
    coefs: list[float] = []
    for _name, var, weights, _side in ctx.slacks:
        for i, w in enumerate(weights):
            vars_.append(var[i])
            coefs.append(w)
    return LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=vars_)


def solution_arrays(built: Built) -> dict[str, np.ndarray]:
    """The values of y, k, q, f and built as arrays (after a solution is loaded)."""
    m = built.m

    def get(var: Any) -> np.ndarray:
        return np.array([v.value if v.value is not None else 0.0 for v in var.values()],
                        dtype=float)

    return {"y": np.round(get(m.y)), "k": get(m.k), "q": get(m.q), "f": get(m.f),
            "built": get(m.built)}
