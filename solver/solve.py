"""Solve a case: build the model, run HiGHS, read back the tables, verify them."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from solver import __version__
from solver.case.loader import Case
from solver.errors import InfeasibleError, NoSolutionError, SolverError, VerificationError
from solver.highs.runner import (
    HighsRunner,
    SolveProgress,
    SolveReport,
    Status,
    highs_version,
    raise_if_stopped,
)
from solver.results import (
    Result,
    allocation_table,
    cost_terms,
    flows_table,
    layers_table,
    partners_table,
    shortage_table,
)

log = logging.getLogger(__name__)


def solve(
    case: Case,
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    tee: bool = False,
    raise_on_failure: bool = True,
    progress: Callable[[SolveProgress], None] | None = None,
) -> Result:
    """Solve ``case`` to (near-)optimality with HiGHS and verify the plan independently.

    Arguments left ``None`` take the case's ``[solver]`` options. Raises
    :class:`~solver.errors.InfeasibleError` (with an explanation) if no plan satisfies every
    requirement, :class:`~solver.errors.NoSolutionError` if a limit stopped HiGHS before
    it found a plan, :class:`~solver.errors.SolverError` if HiGHS failed, and
    :class:`~solver.errors.VerificationError` (carrying the result) if the independent
    checker rejects the plan; with ``raise_on_failure=False`` those outcomes return the
    Result instead (without a solution, or with ``verified`` false). ``progress``, if given,
    is called with a :class:`~solver.highs.runner.SolveProgress` (elapsed seconds,
    incumbent, bound, gap) each time HiGHS logs a line of its MIP search.
    """
    from solver.diagnose.presolve import find_infeasibilities
    from solver.model.build import build

    findings = find_infeasibilities(case)
    if findings and raise_on_failure:
        raise presolve_error(case, findings)
    opts = replace_opts(case.solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads)
    # The options hold for everything this solve runs, the explanation of an infeasible
    # case included.
    case = dataclasses.replace(case, solver=opts)
    start = time.perf_counter()
    built = build(case)
    build_seconds = time.perf_counter() - start
    runner = HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                         threads=opts.threads, tee=tee)
    runner.report_progress(progress)
    runner.set_model(built.m, variable_groups(built.m))
    # HiGHS has its own copy now; the Pyomo model would only sit beside it during the solve.
    # Freed before the solve, not while it runs: HiGHS makes its largest allocations at the
    # start (L: peak 989 MB freed before, 1287 MB freed in a thread during the solve).
    runner.forget_model()
    start = time.perf_counter()
    built.release()
    release_seconds = time.perf_counter() - start
    if findings:
        # Provably infeasible: the model is handed over (for its size) but not solved.
        report = SolveReport(status=Status.INFEASIBLE, has_solution=False, objective=None,
                             bound=None, gap=None, highs_seconds=0.0, wall_seconds=0.0,
                             termination="presolve")
    else:
        report = runner.solve(None)
    result = finish(case, built, report, runner, build_seconds,
                    raise_on_failure=raise_on_failure)
    result.summary["seconds"]["release"] = release_seconds
    if raise_on_failure and result.has_solution and not result.verified:
        raise VerificationError(result.violations, result=result)
    return result


def replace_opts(opts: Any, **changes: Any) -> Any:
    """A copy of solver options with the non-None ``changes`` applied."""
    return opts.model_copy(update={k: v for k, v in changes.items() if v is not None})


def variable_groups(m: Any) -> dict[str, Any]:
    """The variable components whose values make up a solution."""
    groups = {"y": m.y, "k": m.k, "q": m.q, "f": m.f, "built": m.built}
    if hasattr(m, "z"):
        groups.update(z=m.z, u=m.u)
    return groups


def finish(case: Case, built: Any, report: SolveReport, runner: HighsRunner,
           build_seconds: float, *, raise_on_failure: bool = True) -> Result:
    """Turn a HiGHS report into a verified :class:`Result` (or raise on failure)."""
    from solver.check.run import check_solution

    raise_if_stopped(report)
    if not report.has_solution:
        if raise_on_failure and report.status == Status.INFEASIBLE:
            raise infeasible_error(case)
        if raise_on_failure and report.status == Status.ERROR:
            raise SolverError(f"HiGHS failed ({report.termination}); run with -v for its log")
        if raise_on_failure:
            raise NoSolutionError(
                f"HiGHS stopped ({report.status}) before finding a feasible plan"
                + (f" within the time limit of {runner.time_limit:g} s; raise --time-limit"
                   if runner.time_limit else ""))
    start = time.perf_counter()
    values = report.values
    if report.has_solution:
        allocation = allocation_table(case, built.data, values)
        flows = flows_table(built.data, values)
    else:
        empty = {name: np.zeros(n) for name, n in runner.column_counts.items()}
        allocation = allocation_table(case, built.data, empty)
        flows = flows_table(built.data, empty)
    shortage = None
    if case.objective.shortage_cost is not None:
        shortage = shortage_table(built.data, values if report.has_solution else
                                  {"z": np.zeros(len(built.data.rows))})
    layers = layers_table(case, allocation, shortage)
    partners = partners_table(case, allocation, flows)
    costs = cost_terms(case, allocation, flows, layers, shortage)
    extract_seconds = time.perf_counter() - start
    columns = runner.column_counts
    n_vars = sum(columns.values())
    summary: dict[str, Any] = {
        "status": str(report.status),
        "objective": report.objective,
        "bound": report.bound,
        "gap": report.gap,
        "costs": costs,
        "seconds": {"load": case.load_seconds, "build": build_seconds,
                    "handover": runner.handover_seconds, "solve": report.highs_seconds,
                    "extract": extract_seconds, "check": 0.0, "write": 0.0},
        "size": {"variables": n_vars, "binaries": columns["y"],
                 "constraints": runner.highs.getNumRow(),
                 "nonzeros": runner.highs.getNumNz()},
        "solver": {"name": "highs", "version": highs_version(),
                   "termination": report.termination, "mip_gap": runner.mip_gap,
                   "time_limit": runner.time_limit, "threads": runner.threads},
        "case": case.name,
        "case_sha256": case.sha256,
        "overrides": list(case.overrides),
        "version": __version__,
        "verified": False,
    }
    violations: list[Any] = []
    if report.has_solution:
        start = time.perf_counter()
        violations = check_solution(case, allocation, flows, summary, layers=layers,
                                    partners=partners, shortage=shortage)
        summary["seconds"]["check"] = time.perf_counter() - start
        summary["verified"] = not violations
        for v in violations:
            log.warning("checker: %s", v)
    return Result(
        status=str(report.status),
        objective=report.objective,
        bound=report.bound,
        gap=report.gap,
        costs=costs,
        allocation=allocation,
        flows=flows,
        layers=layers,
        partners=partners,
        summary=summary,
        violations=violations,
        shortage=shortage,
    )


def presolve_error(case: Case, findings: list[Any]) -> InfeasibleError:
    """The error for a case that the checks before solving prove infeasible."""
    from solver.diagnose.wording import Explanation

    report = Explanation(case=case.name, findings=list(findings))
    return InfeasibleError(f"case {case.name!r} is infeasible:\n{report}", report=report)


def infeasible_error(case: Case) -> InfeasibleError:
    """The error for an infeasible case, carrying the elastic explanation when available."""
    from solver.diagnose.explain import explain

    report = explain(case)
    return InfeasibleError(f"case {case.name!r} is infeasible:\n{report}", report=report)

