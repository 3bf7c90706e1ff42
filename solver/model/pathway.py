"""The pathway model: one period model per period, tied by builds and the installed base.

README, Pathways. Each period t holds every family of README, The model (and The stack as a
chain) for its own case (:func:`solver.case.periods.period_case`), built by
:func:`solver.model.build.build` as a block ``m.period_<i>``. The capacity ``k[p,l,t]`` of
that block is tied to the pathway's own variables:

* ``b[c,tau] >= 0``: new capacity of capability ``c = (p,l)`` decided in period tau;
* ``x[c,t] in [0, ex[c,t]]``: the installed base kept in service, with ``ex[c,t] = existing``
  if ``year_t < existing_until``, else 0.

A build of period tau serves period t when ``year_tau + lead_time <= year_t < year_tau +
lead_time + lifetime``, with tau's lead time and lifetime (its vintage). Each block is built
without its capacity cost and its budget: both are the pathway's, over vintages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo

from solver.case.loader import Case
from solver.case.periods import Period, period_cases
from solver.model.build import Built, build


@dataclass
class PathwayTerms:
    """A pathway's periods, their cases, and the numbers of its builds and installed base."""

    periods: list[Period]
    cases: list[Case]
    capabilities: pd.DataFrame
    """One row per capability (partner, layer), in case order."""
    cost: np.ndarray
    """cost[c, tau]: unit_cost of a build of c decided in tau (its vintage)."""
    max_build: np.ndarray
    """max_build[c, tau]: the most new capacity of c decided in tau."""
    serves: np.ndarray
    """serves[c, tau, t]: whether a build of c decided in tau is in service in t."""
    base: np.ndarray
    """ex[c, t]: the installed base that may serve in t."""
    existing_cost: np.ndarray
    """existing_cost[c, t]: annual cost of a unit of the installed base kept in t."""
    service: list[tuple[float, float]]
    """Per (c, tau) in row-major order: the years a build is in service from and until."""

    @property
    def n_periods(self) -> int:
        """How many periods the pathway has."""
        return len(self.periods)


@dataclass
class Pathway(PathwayTerms):
    """A built pathway model: its terms, the model and each period's block."""

    m: pyo.ConcreteModel = field(default_factory=pyo.ConcreteModel)
    blocks: list[Built] = field(default_factory=list)


def _column(case: Case, name: str, default: str) -> np.ndarray:
    """A capabilities column as floats, empty cells taking column ``default``'s value."""
    cap = case.capabilities
    values = pd.to_numeric(cap[name], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(values), cap[default].to_numpy(dtype=float), values)


def pathway_numbers(case: Case, periods: list[Period], cases: list[Case]) -> dict[str, Any]:
    """The vintages' costs, build rates and service windows, and the installed base."""
    n_cap, n_t = len(case.capabilities), len(periods)
    year = np.array([p.year for p in periods], dtype=float)
    cost = np.zeros((n_cap, n_t))
    max_build = np.zeros((n_cap, n_t))
    serves = np.zeros((n_cap, n_t, n_t), dtype=bool)
    base = np.zeros((n_cap, n_t))
    existing_cost = np.zeros((n_cap, n_t))
    start = np.zeros((n_cap, n_t))
    stop = np.full((n_cap, n_t), math.inf)
    single = n_t == 1 and periods[0].name == ""
    for tau, c_t in enumerate(cases):
        cap = c_t.capabilities
        cost[:, tau] = cap["unit_cost"].to_numpy(dtype=float)
        max_build[:, tau] = _column(c_t, "max_build", "capacity")
        existing_cost[:, tau] = _column(c_t, "existing_cost", "unit_cost")
        until = pd.to_numeric(cap["existing_until"], errors="coerce").to_numpy(dtype=float)
        keep = np.isnan(until) | (year[tau] < until) | single
        base[:, tau] = np.where(keep, cap["existing"].to_numpy(dtype=float), 0.0)
        if single:
            # One period: lead times and lifetimes have no effect (README, Pathways).
            serves[:, 0, 0] = True
            continue
        lead = cap["lead_time"].to_numpy(dtype=float)
        life = pd.to_numeric(cap["lifetime"], errors="coerce").to_numpy(dtype=float)
        life = np.where(np.isnan(life), math.inf, life)
        start[:, tau] = year[tau] + lead
        stop[:, tau] = start[:, tau] + life
        for t in range(tau, n_t):
            serves[:, tau, t] = (start[:, tau] <= year[t]) & (year[t] < stop[:, tau])
    return {"cost": cost, "max_build": max_build, "serves": serves, "base": base,
            "existing_cost": existing_cost,
            "service": list(zip(start.ravel().tolist(), stop.ravel().tolist(), strict=True))}


def build_pathway(case: Case, *, priced: bool = False) -> Pathway:
    """Build the pathway MILP of README, Pathways for ``case`` (with or without periods.csv).

    Objective: ``sum_t w_t cost_t``, ``cost_t`` = the block's fixed, trade, redundancy, risk
    and shortage terms + ``sum over builds in service in t of unit_cost_tau * b[c,tau]`` +
    ``sum existing_cost_t * x[c,t]``. ``priced`` builds each period's block as the coalition
    game's priced model (:func:`solver.model.build.build`): its requirement rows may be
    violated at their price, which ``cost_t`` then holds too.
    """
    pairs = period_cases(case)
    periods = [p for p, _ in pairs]
    cases = [c for _, c in pairs]
    numbers = pathway_numbers(case, periods, cases)
    m = pyo.ConcreteModel(name=case.name)
    m.row_keys = {}
    blocks: list[Built] = []
    for i, c_t in enumerate(cases):
        free = c_t.capabilities.assign(unit_cost=0.0)
        block_case = replace(c_t, capabilities=free,
                             objective=c_t.objective.model_copy(update={"budget": None}))
        built = build(block_case, priced=priced)
        built.m.objective.deactivate()
        m.add_component(f"period_{i}", built.m)
        blocks.append(built)
    path = Pathway(m=m, periods=periods, cases=cases, blocks=blocks,
                   capabilities=case.capabilities[["partner", "layer"]].reset_index(drop=True),
                   **numbers)
    add_builds(path)
    add_installed_base(path)
    add_build_rate(path)
    add_retirement(path)
    add_in_service(path)
    add_period_budget(path)
    m.objective = pyo.Objective(expr=sum(p.weight * annual_cost(path, t)
                                         for t, p in enumerate(periods)),
                                sense=pyo.minimize)
    return path


def _builds(path: Pathway) -> list[tuple[int, int]]:
    """The (c, tau) whose build serves some period and may be positive."""
    return build_keys(path.serves, path.max_build)


def build_keys(serves: np.ndarray, max_build: np.ndarray) -> list[tuple[int, int]]:
    """The (c, tau) with ``serves[c, tau, t]`` for some t and ``max_build[c, tau] > 0``."""
    serves_any = serves.any(axis=2)
    return [(c, tau) for c, tau in np.argwhere(serves_any & (max_build > 0)).tolist()]


def add_builds(path: Pathway) -> None:
    """The variables: builds ``b[c,tau] >= 0`` and the installed base kept ``x[c,t] >= 0``.

    ``b`` exists only where a build can serve a period and the build rate is positive,
    ``x`` only where ``ex[c,t] > 0``.
    """
    m = path.m
    m.b = pyo.Var(_builds(path), within=pyo.NonNegativeReals)
    base = [tuple(ix) for ix in np.argwhere(path.base > 0).tolist()]
    m.x = pyo.Var(base, within=pyo.NonNegativeReals)


def add_installed_base(path: Pathway) -> None:
    """installed_base: ``x[c,t] <= ex[c,t]`` (existing, out of service from existing_until)."""
    for (c, t), var in path.m.x.items():
        var.setub(float(path.base[c, t]))


def add_build_rate(path: Pathway) -> None:
    """build_rate: ``b[c,tau] <= max_build[c,tau]`` (the most decided in one period)."""
    for (c, tau), var in path.m.b.items():
        var.setub(float(path.max_build[c, tau]))


def add_retirement(path: Pathway) -> None:
    """retirement: ``x[c,t] <= x[c,t-1]``: the installed base, once retired, is gone."""
    m = path.m
    keys = [(c, t) for c, t in m.x if t > 0]
    before = {key: m.x[key] for key in m.x}
    m.retirement = pyo.Constraint(
        keys, rule=lambda _, c, t: m.x[c, t] <= before.get((c, t - 1), 0.0))
    m.row_keys["retirement"] = keys


def in_service(path: Pathway, c: int, t: int) -> Any:
    """``x[c,t] + sum of b[c,tau] over the vintages tau in service in t``."""
    m = path.m
    terms: list[Any] = [m.x[c, t]] if (c, t) in m.x else []
    terms += [m.b[c, tau] for tau in range(t + 1)
              if path.serves[c, tau, t] and (c, tau) in m.b]
    return sum(terms) if terms else 0.0


def add_in_service(path: Pathway) -> None:
    """in_service: ``k[p,l,t] = x[p,l,t] + sum_{tau: in service in t} b[p,l,tau]``.

    For every pair of period t's model; a capability outside S(l) in t has no ``k`` there.
    """
    m = path.m
    index = {(p, lay): c for c, (p, lay) in enumerate(
        zip(path.capabilities["partner"], path.capabilities["layer"], strict=True))}
    m.in_service = pyo.ConstraintList()
    keys = []
    for t, built in enumerate(path.blocks):
        pairs = built.data.pairs
        for a, key in enumerate(zip(pairs["partner"], pairs["layer"], strict=True)):
            c = index[key]
            m.in_service.add(built.m.k[a] == in_service(path, c, t))
            keys.append((path.periods[t].name, *key))
    m.row_keys["in_service"] = keys


def capacity_cost(path: Pathway, t: int) -> Any:
    """``sum over builds in service in t of unit_cost_tau * b[c,tau]``."""
    m = path.m
    return sum(float(path.cost[c, tau]) * var for (c, tau), var in m.b.items()
               if path.serves[c, tau, t] and path.cost[c, tau] != 0)


def existing_cost(path: Pathway, t: int) -> Any:
    """``sum existing_cost_t * x[c,t]``."""
    return sum(float(path.existing_cost[c, s]) * var for (c, s), var in path.m.x.items()
               if s == t and path.existing_cost[c, s] != 0)


def annual_cost(path: Pathway, t: int) -> Any:
    """Period t's annual cost: its block's terms, the vintages in service and the base kept."""
    block = path.blocks[t].m
    return block.objective.expr + capacity_cost(path, t) + existing_cost(path, t)


def add_period_budget(path: Pathway) -> None:
    """budget: in every period, ``fixed + capacity + existing + trade <= objective.budget``.

    On that period's undiscounted annual costs; with markets the period's entry costs and
    its market flows' trade costs count too, never its market revenue
    (README, Markets outside the coalition).
    """
    m = path.m
    budgets = [c.objective.budget for c in path.cases]
    use = [t for t, b in enumerate(budgets) if b is not None]
    if not use:
        return

    def spent(t: int) -> Any:
        built = path.blocks[t]
        arrays, block = built.ctx.arrays, built.m
        total: Any = capacity_cost(path, t) + existing_cost(path, t)
        total += sum(float(c) * block.y[a] for a, c in enumerate(arrays["fixed_cost"]) if c)
        total += sum(float(c) * block.f[j] for j, c in enumerate(arrays["trade_cost"]) if c)
        if hasattr(block, "g"):
            total += sum(float(c) * block.g[j]
                         for j, c in enumerate(arrays["input_trade_cost"]) if c)
        market_vars, market_coefs = built.ctx.market_spending()
        total += sum(float(c) * var for var, c in zip(market_vars, market_coefs, strict=True))
        return total

    m.budget = pyo.Constraint(use, rule=lambda _, t: spent(t) <= float(budgets[t] or 0.0))
    m.row_keys["budget"] = [(path.periods[t].name,) for t in use]
