"""Solving the points of a sweep one after another with one persistent model.

When a point changes only numbers (costs, shares, capacities, demands), the model's mutable
parameters are updated and the engine's one re-solver
(:class:`~solver.studies.engine.resolver.Resolver`) solves again, cold: a point's answer
never depends on the points solved before it on the same model. The model
is rebuilt only when a point changes its structure (trust, routes, membership) or a number
that is not a parameter. Each point becomes one row of ``sweep.csv`` (a failure too, with
its status and reason) and its per-layer and plan tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.errors import CaseError, CoalitionError
from solver.studies.engine.resolver import Resolver, runner_for
from solver.studies.sweep.grid import Point
from solver.studies.sweep.outcome import (
    RESULT_COLUMNS,
    RETRY,
    NoPlan,
    PointOutcome,
    solved_row,
)
from solver.studies.sweep.outcome import failed_outcome as _failed
from solver.studies.sweep.outcome import with_point as _with_point


@dataclass(frozen=True)
class Settings:
    """How a worker solves points (sent to every worker process)."""

    mutable: frozenset[str] = frozenset()
    persistent: bool = True
    presolve: bool = True
    """Answer points that counting rules out from the tables, with the count's reason: before
    a model is built for the point, or once HiGHS finds no plan on the held model (the count
    is a pass over the case that a feasible point does not need)."""

    def make_solver(self, case: Case) -> PointSolver:
        """The solver of a worker's points (the executor's hook)."""
        return PointSolver(case, self)


class PointSolver:
    """Solves points of one sweep in turn on the engine's one persistent re-solver.

    A point is a numbers-only change of the model the :class:`Resolver` holds when its sets
    and absent numbers are those of the model (:func:`_signature`); otherwise the model is
    built again. ``builds`` counts the models built; a numbers-only sweep builds one.
    """

    def __init__(self, base: Case, settings: Settings) -> None:
        self.base = base
        self.settings = settings
        self._signature: tuple[Any, ...] | None = None
        self._resolver: Resolver | None = None
        self._like: tuple[Case, Any] | None = None
        """The last point's case and model data (its flows lent to the next point's)."""
        self._layout_held: tuple[Any, tuple[Any, ...]] | None = None
        """The last flow layout seen and its ids (:meth:`_layout_of`)."""
        self._check_data: Any = None
        """The checker's case data of the points (:class:`CaseDataCache`), made at first use."""

    @property
    def builds(self) -> int:
        """How many models were built."""
        return self._resolver.builds if self._resolver is not None else 0

    def run(self, point: Point) -> PointOutcome:
        """Solve one point; a failure becomes a row with its status and reason."""
        start = time.perf_counter()
        try:
            case = self.base
            if point.overrides:
                case = case.with_overrides(list(point.overrides), source=f"point {point.index}")
        except CaseError as exc:
            reason = "; ".join(str(p) for p in exc.problems)
            return _failed(point, "invalid", reason, start)
        try:
            from solver.case.periods import uses_pathway

            if uses_pathway(case):  # the whole pathway, anew (studies/sweep/pathway_point.py)
                from solver.studies.sweep.pathway_point import solve_pathway_point

                return solve_pathway_point(point, case, start, self.outputs)
            return self._solve(point, case, start)
        except KeyboardInterrupt:
            raise
        except CoalitionError as exc:
            return _failed(point, "error", str(exc), start)
        except Exception as exc:
            return _failed(point, "error", f"{type(exc).__name__}: {exc}", start)

    def _resolver_for(self, case: Case) -> Resolver:
        """The resolver, with a runner of the case's solver (one per point if not persistent)."""
        if self._resolver is None or not self.settings.persistent:
            self._resolver = Resolver(runner_for(case.solver))
        return self._resolver

    def _solve(self, point: Point, case: Case, start: float) -> PointOutcome:
        from solver.diagnose.presolve import find_infeasibilities
        from solver.model.build import build
        from solver.model.data import model_data
        from solver.model.numbers import mutable_quantities, values
        from solver.solve import finish

        def infeasible() -> PointOutcome | None:
            """The point's row if counting rules it out from the tables, without HiGHS."""
            findings = find_infeasibilities(case) if self.settings.presolve else []
            if not findings:
                return None
            more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
            return _failed(point, "infeasible", f"{findings[0]}{more}", start)

        quantities = mutable_quantities(set(self.settings.mutable))
        # The last point's flows are lent where this point lays them out the same (the same
        # pairs, rows, trade, partners and layers: model_data checks).
        data = model_data(case, keep_zero_demand="demand" in quantities, like=self._like)
        self._like = (case, data)
        mutable = self._mutable_for(case)
        signature = _signature(case, data, mutable, quantities, self._layout_of(data))
        resolver = self._resolver_for(case)
        # With markets every point's model is built anew: the markets' numbers (demand, shares,
        # prices, entry costs, and their upper bound on each layer's requirement, which the
        # supplier-share rows use) are fixed coefficients, not parameters a point can change.
        rebuild = (not self.settings.persistent or resolver.built is None
                   or data.markets is not None
                   or not _same_signature(signature, self._signature))
        if not rebuild:
            num, m = resolver.built.num, resolver.built.m
            stale = num.update(m, values(case, data))
            rebuild = bool(stale)
        build_seconds = 0.0
        if rebuild:
            # A model is built only for a point counting does not rule out. A point re-solved
            # on the held model is counted only if HiGHS finds no plan (the same row: the
            # count is a pass over the case that a feasible point does not need).
            ruled_out = infeasible()
            if ruled_out is not None:
                return ruled_out
            build_seconds = resolver.build(lambda: build(case, mutable=mutable))
            self._signature = signature
        built = resolver.built
        built.data = data
        runner = resolver.runner
        runner.time_limit, runner.mip_gap = case.solver.time_limit, case.solver.mip_gap

        def check(report: Any) -> tuple[Any, bool]:
            result = finish(case, built, report, runner, build_seconds,
                            raise_on_failure=False, check_data=lambda: self._checker_data(case))
            return result, bool(result.verified)

        outcome = resolver.solve(check)
        if not outcome.has_solution and not rebuild:
            ruled_out = infeasible()
            if ruled_out is not None:
                return ruled_out
        report = outcome.report
        result: Any = outcome.checked
        if not outcome.has_solution:
            # No plan: the row is the status and its reason, no tables are made (finish
            # would read an all-zero plan into tables that nothing shows).
            result = NoPlan(str(report.status), report.gap) if report.objective is None \
                else finish(case, built, report, runner, build_seconds, raise_on_failure=False)
        row = solved_row(point, result, start)
        row.update(rebuilt=rebuild, solve_seconds=outcome.highs_seconds)
        if result.has_solution:
            row.update(self.outputs(result))
        row["seconds"] = time.perf_counter() - start
        layers = allocation = None
        if result.has_solution:
            layers = _with_point(result.layers, point.index)
            allocation = _with_point(result.allocation, point.index)
        return PointOutcome(point=point, row=row, layers=layers, allocation=allocation)

    def _layout_of(self, data: Any) -> tuple[Any, ...]:
        """:func:`_layout` of ``data``, made once per flow layout.

        Model data lends its flows only to a point with the same pair and demand row ids
        (:func:`solver.model.data.model_data`): data holding the same flows object has the
        same layout.
        """
        held = self._layout_held
        if held is None or held[0] is not data.flows:
            held = self._layout_held = (data.flows, _layout(data))
        return held[1]

    def _checker_data(self, case: Case) -> Any:
        """The independent checker's case data of this point's ``case``.

        The checker derives it from the case alone; what a point's overrides cannot have
        changed is derived once per study (:class:`solver.check.case_data.CaseDataCache`).
        """
        from solver.check.case_data import CaseDataCache

        if self._check_data is None or self._check_data.base is not self.base:
            self._check_data = CaseDataCache(self.base)
        return self._check_data.data_for(case)

    def outputs(self, result: Any) -> dict[str, Any]:
        """What a study adds to a solved point's row from its result (a sweep: nothing)."""
        return {}

    def _mutable_for(self, case: Case) -> frozenset[str]:
        # An absent budget has no number to be a parameter of; the point that sets one
        # rebuilds (the mutable set is part of the signature).
        mutable = set(self.settings.mutable)
        if case.objective.budget is None:
            mutable.discard("objective.budget")
        if case.objective.shortage_cost is None:
            mutable.discard("objective.shortage_cost")
        return frozenset(mutable)


def _digest(frame: pd.DataFrame) -> tuple[Any, ...]:
    """``frame``'s columns as (dtype, a copy of the values)."""
    return tuple((str(frame[c].dtype), frame[c].to_numpy(copy=True)) for c in frame.columns)


def _layout(data: Any) -> tuple[Any, ...]:
    """The ids of the pairs, demand rows and flows of ``data``, as arrays (a copy)."""
    return (_digest(data.pairs[["partner", "layer"]]), _digest(data.rows[["member", "layer"]]),
            _digest(data.flows[["exporter", "importer", "layer"]]))


def _signature(case: Case, data: Any, mutable: frozenset[str],
               quantities: set[str], layout: tuple[Any, ...] | None = None) -> tuple[Any, ...]:
    """What must not change between points that share a model: sets and absent numbers.

    Two signatures are compared with :func:`_same_signature` (the id columns as arrays,
    element by element: cheaper than hashing their strings at every point). ``layout``
    is :func:`_layout` of ``data`` if the caller has it.
    """
    parts: list[Any] = [
        mutable,
        case.objective.shortage_cost is None,
        *(layout if layout is not None else _layout(data)),
        tuple(data.partners["partner"]), tuple(data.layers["layer"]),
        tuple(data.layers["resilience_k"]) if "resilience_k" in data.layers else (),
    ]
    if data.chain is not None:
        # The input coefficients shape D's expressions and the input flows: not numbers of
        # a persistent model (README, The stack as a chain).
        parts.append(data.chain.matrix.tobytes())
        parts.append(_digest(data.chain.flows[["exporter", "importer", "layer", "input"]]))
    if "demand" in quantities:
        parts.append((np.asarray(data.layer_demand) > 0).tobytes())
    if "max_surplus" in quantities:
        parts.append(case.layers["max_surplus"].isna().to_numpy().tobytes())
    return tuple(parts)


def _same_signature(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    """Whether two :func:`_signature` are equal (:func:`solver.results.same_parts`).

    None (no model held) equals only None.
    """
    from solver.results import same_parts

    return a is b if a is None or b is None else same_parts(a, b)


#: RESULT_COLUMNS, RETRY and PointOutcome live in studies/sweep/outcome.py, kept importable here.
__all__ = ["RESULT_COLUMNS", "RETRY", "PointOutcome", "PointSolver", "Settings"]
