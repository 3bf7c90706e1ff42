"""Build the Pyomo model of a case: variables where they can be nonzero, every family."""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from solver.case.loader import Case
from solver.highs.reading import release_freed_memory
from solver.model.constraints import FAMILIES
from solver.model.context import Context
from solver.model.data import ModelData, model_data
from solver.model.market_families import (
    MARKET_FAMILIES,
    add_market_variables,
    market_cost_terms,
    market_trade_terms,
)
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

    def release(self) -> None:
        """Free the model's variables, rows and expressions; keep ``data`` for the tables.

        For a one-shot solve once HiGHS holds its copy (``HighsRunner.forget_model``): at
        1M flows the Pyomo model is 250 MB that would otherwise sit beside HiGHS for the
        whole solve. Almost nothing of a model is in a reference cycle (a component data
        refers to its component weakly), but a scalar component (the model itself, the
        objective) holds itself in its own ``_data``, so dropping the model would leave the
        whole graph for a full scan of the cyclic collector (3.5 s at 1M flows). Emptying
        the objective and deleting every component lets reference counting free it all.
        After this, only ``data`` may be used.
        """
        from pyomo.common.gc_manager import PauseGC

        m = self.m
        with PauseGC():
            if hasattr(m, "objective"):
                m.objective.set_value(0.0)
            for component in list(m.component_objects(descend_into=False)):
                m.del_component(component)
            m.row_keys = {}
            self.ctx.release()
        release_freed_memory()


def build(case: Case, mutable: set[str] | frozenset[str] = frozenset(),
          elastic: bool = False, priced: bool = False) -> Built:
    """Build the MILP of README, The model for ``case``.

    ``mutable`` names override columns (``"layers.max_share"``, ``"demand.demand"``, ...)
    whose numbers become mutable parameters, so that a sweep can change them and re-solve;
    families that depend on them are then built for every entity, whatever the value.
    ``elastic`` builds the explanation model: each requirement may be violated at a price.
    ``priced`` builds the model of the coalition game (README, Sharing the cost; the case must set
    ``objective.shortage_cost``): demand may go unmet as with shortage, and every other
    requirement row may be violated at ``shortage_cost`` per unit of product it lacks (a
    missing supplier of layer l counts as ``D_l / min_suppliers_l`` units), on top of the
    costs (:func:`slack_prices`).
    """
    from pyomo.common.gc_manager import PauseGC

    # Building creates millions of small objects and frees none: the cyclic garbage
    # collector would rescan them all, again and again (half the build time at 1M flows).
    with PauseGC():
        quantities = mutable_quantities(set(mutable))
        data = model_data(case, keep_zero_demand="demand" in quantities)
        m = pyo.ConcreteModel(name=case.name)
        m.row_keys = {}
        arrays = values(case, data)
        num = Numbers(m, arrays, quantities)

        # Indexed by a SetOf over a range: Pyomo then keeps no ordered copy of the index.
        m.y = pyo.Var(pyo.SetOf(range(data.n_pairs)), within=pyo.Binary)
        m.k = pyo.Var(pyo.SetOf(range(data.n_pairs)), within=pyo.NonNegativeReals)
        m.q = pyo.Var(pyo.SetOf(range(data.n_pairs)), within=pyo.NonNegativeReals)
        m.f = pyo.Var(pyo.SetOf(range(data.n_flows)), within=pyo.NonNegativeReals)
        m.built = pyo.Var(pyo.SetOf(range(len(data.layers))), within=pyo.NonNegativeReals)
        if data.chain is not None:
            # Input flows g[p,r,l,m] (README, The stack as a chain).
            m.g = pyo.Var(pyo.SetOf(range(data.chain.n_flows)), within=pyo.NonNegativeReals)
        if data.markets is not None:
            add_market_variables(m, data.markets)
        if has_shortage(case) and (priced or not elastic):
            # Unmet demand per demand row, and the surplus as a positive part (README, The model).
            m.z = pyo.Var(pyo.SetOf(range(len(data.rows))), within=pyo.NonNegativeReals)
            m.u = pyo.Var(pyo.SetOf(range(len(data.layers))), within=pyo.NonNegativeReals)

        ctx = Context(m=m, data=data, num=num, elastic=elastic or priced)
        for family in FAMILIES + MARKET_FAMILIES:
            family(ctx)
        # Set after construction rather than passed as ``expr``: a component keeps what it
        # was constructed from, and the objective is a scalar component, in a reference
        # cycle with itself (see Built.release).
        recourse = None
        if designs(case) and not elastic:
            from solver.model.two_stage import add_two_stage, scenarios_of

            recourse = add_two_stage(ctx, case, scenarios_of(case, data))
        m.objective = pyo.Objective(sense=pyo.minimize)
        if priced:
            m.objective.set_value(LinearExpression([*_cost(ctx, recourse).args,
                                                    *_priced(ctx).args]))
        else:
            m.objective.set_value(_violation(ctx) if elastic else _cost(ctx, recourse))
        ctx.release()
    _promote_to_oldest_generation()
    release_freed_memory()
    log.debug("built %d pairs, %d flows, %d demand rows", data.n_pairs, data.n_flows,
              len(data.rows))
    return Built(m=m, ctx=ctx, data=data, mutable=frozenset(mutable))


def designs(case: Case) -> bool:
    """Whether the design is two-stage against scenarios.csv (README, Shocks)."""
    return case.scenario_options.design != "none" and case.scenarios is not None \
        and not case.scenarios.empty


def has_shortage(case: Case) -> bool:
    """Whether demand may go unmet at a price (``objective.shortage_cost`` is set)."""
    return case.objective.shortage_cost is not None


def _promote_to_oldest_generation() -> None:
    """Move every object the collector tracks to its oldest generation, without a scan.

    The model's millions of objects were made with the collector paused, so they all sit in
    the youngest generation: the next collections would scan them all as young objects,
    twice, before they reach the oldest one (0.4-0.7 s at 1M flows, landing in whatever runs
    next). ``freeze`` then ``unfreeze`` moves them straight to the oldest generation, which is
    scanned only when many new objects have survived; nothing becomes uncollectable.
    """
    gc.freeze()
    gc.unfreeze()


def _cost(ctx: Context, recourse: list[Any] | None = None) -> LinearExpression:
    """Fixed + capacity + trade + redundancy + risk (+ shortage, + market revenue and entry).

    A term is left out where its coefficient is zero and cannot change. With shortage the
    redundancy term prices the positive part ``u_l`` instead of ``built_l - D_l``, and
    ``shortage = shortage_cost * sum z``. A two-stage design passes its ``recourse`` terms:
    they replace trade and shortage (which are the no-disruption outcome's share of them).
    """
    num, arrays = ctx.num, ctx.arrays
    args: list[Any] = []

    def terms(variables: list[Any], name: str) -> None:
        if num.is_mutable(name):
            args.extend(map(MonomialTermExpression, zip(num[name], variables, strict=True)))
            return
        use = np.flatnonzero(arrays[name] != 0)
        args.extend(map(MonomialTermExpression, zip(
            arrays[name][use].tolist(), [variables[i] for i in use.tolist()], strict=True)))

    terms(ctx.var_y, "fixed_cost")
    terms(ctx.var_k, "unit_cost")
    if recourse is None:
        terms(ctx.var_f, "trade_cost")
        terms(ctx.var_g, "input_trade_cost")
    else:  # the no-disruption outcome's trade cost, inputs' too, is in the recourse
        args.extend(recourse)
    args.extend(market_trade_terms(ctx))
    args.extend(market_cost_terms(ctx))
    rw, rc = num.scalar("redundancy_weight"), num["redundancy_cost"]
    mutable = num.is_mutable("redundancy_cost") or num.is_mutable("redundancy_weight")
    layers = range(ctx.n_layers) if mutable else np.flatnonzero(
        arrays["redundancy_cost"] * arrays["redundancy_weight"][0] != 0).tolist()
    constant: Any = 0.0
    for layer in layers:
        if ctx.shortage:
            args.append(MonomialTermExpression((rw * rc[layer], ctx.var_u[layer])))
            continue
        args.append(MonomialTermExpression((rw * rc[layer], ctx.var_built[layer])))
        args.extend(ctx.market_terms(layer, rw * rc[layer]))
        constant = constant - rw * rc[layer] * ctx.D[layer]
    if ctx.shortage and recourse is None:
        price = num.scalar("shortage_cost")
        args.extend(MonomialTermExpression((price, z)) for z in ctx.var_z)
    kw, risk, v = num.scalar("risk_weight"), num["disruption_risk"], num["unit_value"]
    pair_partner, pair_layer = ctx.data.pair_partner, ctx.pair_layer
    if num.is_mutable("risk_weight") or num.is_mutable("disruption_risk"):
        use = list(range(ctx.n_pairs))
    else:
        use = np.flatnonzero(arrays["risk_weight"][0] * arrays["disruption_risk"][pair_partner]
                             != 0).tolist()
    pp, pl = pair_partner.tolist(), pair_layer.tolist()
    args.extend(MonomialTermExpression((kw * risk[pp[a]] * v[pl[a]], ctx.var_q[a]))
                for a in use)
    if constant.__class__ is not float or constant != 0.0:
        args.append(constant)
    return LinearExpression(args)


def _violation(ctx: Context) -> LinearExpression:
    """Sum of every requirement's slack, each weighted by the inverse of its scale."""
    args: list[Any] = []
    for _name, var, weights, _side in ctx.slacks:
        args.extend(MonomialTermExpression((w, v)) for v, w in zip(var.values(), weights,
                                                                    strict=True))
    return LinearExpression(args)


def slack_prices(ctx: Context, name: str) -> list[Any]:
    """The price per unit of slack of family ``name``'s rows in the priced model.

    ``shortage_cost`` for every family; for diversification ``shortage_cost * D_l /
    min_suppliers_l`` (a missing supplier stands for that much product).
    """
    price = ctx.num.scalar("shortage_cost")
    keys = ctx.m.row_keys[name]
    if name != "diversification":
        return [price] * len(keys)
    need = ctx.arrays["min_suppliers"]
    out = []
    for key in keys:
        layer = ctx.layer_pos[key[0]]
        out.append(price * ctx.D[layer] * (1.0 / max(float(need[layer]), 1.0)))
    return out


def priced_slack_cost(ctx: Context, read: Any) -> float:
    """What a plan of the priced model pays for the rows it violates: slack at its price.

    ``read(var)`` gives the plan's values of a slack variable (one per row), or None where
    the plan holds none.
    """
    from pyomo.core import value

    total = 0.0
    for name, var, _weights, _side in ctx.slacks:
        got = read(var)
        if got is not None:
            prices = np.array([float(value(p)) for p in slack_prices(ctx, name)])
            total += float(prices @ np.asarray(got, dtype=float))
    return total


def _priced(ctx: Context) -> LinearExpression:
    """Every requirement's slack at its price (:func:`slack_prices`)."""
    args: list[Any] = []
    for name, var, _weights, _side in ctx.slacks:
        args.extend(MonomialTermExpression((w, v)) for v, w in zip(
            var.values(), slack_prices(ctx, name), strict=True))
    return LinearExpression(args)


def solution_arrays(built: Built) -> dict[str, np.ndarray]:
    """The values of y, k, q, f and built as arrays (after a solution is loaded)."""
    m = built.m

    def get(var: Any) -> np.ndarray:
        return np.array([v.value if v.value is not None else 0.0 for v in var.values()],
                        dtype=float)

    out = {"y": np.round(get(m.y)), "k": get(m.k), "q": get(m.q), "f": get(m.f),
           "built": get(m.built)}
    if hasattr(m, "h"):
        out.update(h=get(m.h), s=get(m.s), e=np.round(get(m.e)))
    if hasattr(m, "g"):
        out["g"] = get(m.g)
    if hasattr(m, "z"):
        out.update(z=get(m.z), u=get(m.u))
    from solver.model.two_stage import two_stage_variables

    out.update({name: get(var) for name, var in two_stage_variables(m).items()})
    return out
