"""Solve a case: build the model, run HiGHS, read back the tables, verify them."""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from solver import __version__
from solver.case.loader import Case
from solver.case.scenarios import has_scenarios
from solver.chain_tables import input_flows_table, inputs_table
from solver.errors import (
    InfeasibleError,
    NoSolutionError,
    SolverError,
    UsageError,
    VerificationError,
)
from solver.highs.runner import (
    HighsRunner,
    SolveProgress,
    SolveReport,
    Status,
    raise_if_stopped,
)
from solver.market_tables import (
    market_cost_terms,
    market_flows_table,
    market_supply,
    markets_table,
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
    solver: str | None = None,
    progress: Callable[[SolveProgress], None] | None = None,
    strengthen: str = "auto",
) -> Result:
    """Solve ``case`` to (near-)optimality with HiGHS and verify the plan independently.

    Arguments left ``None`` take the case's ``[solver]`` options; ``solver`` names another
    MILP solver that Pyomo drives (``"scip"``; default ``highs``, see
    :mod:`solver.highs.pyomo_runner`), whose plan is checked just the same. ``progress``
    is told where a HiGHS MIP solve stands (elapsed, incumbent, bound, gap) as it runs;
    other solvers do not report it. Raises
    :class:`~solver.errors.InfeasibleError` (with an explanation) if no plan satisfies every
    requirement, :class:`~solver.errors.NoSolutionError` if a limit stopped HiGHS before
    it found a plan, :class:`~solver.errors.SolverError` if HiGHS failed, and
    :class:`~solver.errors.VerificationError` (carrying the result) if the independent
    checker rejects the plan; with ``raise_on_failure=False`` those outcomes return the
    Result instead (without a solution, or with ``verified`` false). ``progress``, if given,
    is called with a :class:`~solver.highs.runner.SolveProgress` (elapsed seconds,
    incumbent, bound, gap) each time HiGHS logs a line of its MIP search. ``strengthen``
    (``auto``, ``on`` or ``off``) runs :mod:`solver.strengthen` before HiGHS: a Lagrangian
    bound, hosting decisions fixed that no optimal plan takes, strong rows and a start;
    ``auto`` does so only where it pays (:func:`solver.strengthen.run.declines`).
    """
    from solver.diagnose.presolve import find_infeasibilities
    from solver.model.build import build

    check_arguments(time_limit=time_limit, mip_gap=mip_gap, threads=threads)
    check_strengthen(strengthen)
    if solver is not None and not isinstance(solver, str):
        raise UsageError(f"solve(): solver={solver!r}: must be a solver's name, such as 'scip'")
    from solver.case.markets import check_markets_scope
    from solver.case.periods import uses_pathway
    from solver.solve_pathway import solve_pathway

    check_markets_scope(case)

    if uses_pathway(case):
        if (solver or case.solver.name).strip().lower() != "highs":
            raise UsageError(f"solver {solver or case.solver.name!r}: a pathway (periods.csv, "
                             "existing or max_build) is solved with HiGHS only, for now")
        return solve_pathway(case, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                             raise_on_failure=raise_on_failure)
    check_design(case)
    findings = find_infeasibilities(case)
    if findings and raise_on_failure:
        raise presolve_error(case, findings)
    opts = replace_opts(case.solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                        name=solver)
    # The options hold for everything this solve runs, the explanation of an infeasible
    # case included.
    case = dataclasses.replace(case, solver=opts)
    start = time.perf_counter()
    if opts.name.strip().lower() != "highs":
        model = build(case)
        return _solve_other(case, model, findings, time.perf_counter() - start, tee,
                            raise_on_failure)
    # HiGHS alone needs only the matrices: made with numpy where every family has an array
    # form (solver.model.assembly), else compiled from the Pyomo model.
    from solver.model.assembly import assemble

    built: Any = assemble(case) or build(case)
    build_seconds = time.perf_counter() - start
    runner = HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                         threads=opts.threads, tee=tee)
    runner.progress = progress
    hand_over(runner, built)
    families = row_families(built)
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
        done = None
    else:
        report, done = _solve_strengthened(runner, built.data, families, strengthen)
    result = finish(case, built, report, runner, build_seconds,
                    raise_on_failure=raise_on_failure)
    result.summary["seconds"]["release"] = release_seconds
    if done is not None:
        result.summary["strengthen"] = done.summary()
        result.summary["seconds"]["strengthen"] = done.seconds
    if raise_on_failure and result.has_solution and not result.verified:
        raise VerificationError(result.violations, result=result)
    return result


def check_strengthen(mode: Any) -> None:
    """Raise :class:`~solver.errors.UsageError` unless ``mode`` is auto, on or off."""
    from solver.strengthen import MODES

    if not isinstance(mode, str) or mode not in MODES:
        raise UsageError(f"solve(): strengthen={mode!r}: must be one of {', '.join(MODES)}")


def _solve_strengthened(runner: HighsRunner, data: Any, families: dict[str, int],
                        mode: str) -> tuple[SolveReport, Any]:
    """Strengthen the model HiGHS holds (:mod:`solver.strengthen`), solve it, merge the bounds.

    The time limit covers both: the final solve gets what the strengthening left. The
    report's bound is :func:`~solver.strengthen.run.true_bound`, its gap recomputed.
    """
    from solver.strengthen import strengthen
    from solver.strengthen.run import true_bound

    done = strengthen(runner.highs, runner.columns, data, families, mode=mode,
                      threads=runner.threads, mip_gap=runner.mip_gap,
                      time_limit=runner.time_limit)
    if not done.applied:
        return runner.solve(None), done
    runner.restart_clock()
    limit = runner.time_limit
    if limit is not None:
        runner.time_limit = max(limit - done.seconds, 1.0)
    try:
        report = runner.solve(None)
    finally:
        runner.time_limit = limit
    if report.has_solution or report.bound is not None:
        report.bound = true_bound(report.bound, done, report.objective)
        if report.objective is not None and report.bound is not None:
            report.gap = abs(report.objective - report.bound) / max(abs(report.objective),
                                                                    1e-10)
    return report, done


def _solve_other(case: Case, built: Any, findings: list[Any], build_seconds: float, tee: bool,
                 raise_on_failure: bool) -> Result:
    """:func:`solve` with a solver other than HiGHS, through Pyomo (the model kept whole)."""
    from solver.highs.pyomo_runner import PyomoRunner

    opts = case.solver
    runner = PyomoRunner(opts.name, time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                         threads=opts.threads, tee=tee)
    runner.set_model(built.m, variable_groups(built.m))
    if findings:
        report = SolveReport(status=Status.INFEASIBLE, has_solution=False, objective=None,
                             bound=None, gap=None, highs_seconds=0.0, wall_seconds=0.0,
                             termination="presolve")
    else:
        report = runner.solve()
    result = finish(case, built, report, runner, build_seconds,
                    raise_on_failure=raise_on_failure)
    built.release()
    if raise_on_failure and result.has_solution and not result.verified:
        raise VerificationError(result.violations, result=result)
    return result


#: What :func:`solve` accepts for each solver option, as the command line does.
_ARGUMENTS = {
    "time_limit": ("a number of seconds > 0", lambda x: x > 0 and math.isfinite(x)),
    "mip_gap": ("a number >= 0", lambda x: x >= 0 and math.isfinite(x)),
    "threads": ("a whole number >= 1", lambda x: x >= 1 and float(x).is_integer()),
}


def check_arguments(**arguments: Any) -> None:
    """Raise :class:`~solver.errors.UsageError` for a solver argument the CLI would refuse.

    ``None`` means "the case's value"; anything else must be a number in range (a bool or
    a string is not a number): ``time_limit`` > 0, ``mip_gap`` >= 0, ``threads`` >= 1.
    """
    for name, value in arguments.items():
        if value is None or name not in _ARGUMENTS:
            continue
        what, ok = _ARGUMENTS[name]
        number = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
        if not number or not ok(value):
            raise UsageError(f"solve(): {name}={value!r}: must be {what} (or None for the "
                             "case's [solver] value)")


def replace_opts(opts: Any, **changes: Any) -> Any:
    """A copy of solver options with the non-None ``changes`` applied (checked first)."""
    check_arguments(**changes)
    update = {k: v for k, v in changes.items() if v is not None}
    for name in ("time_limit", "mip_gap"):
        if name in update:
            update[name] = float(update[name])
    if "threads" in update:
        update["threads"] = int(update["threads"])
    return opts.model_copy(update=update)


def check_design(case: Case) -> None:
    """A two-stage design needs scenarios and a price of unmet demand (UsageError: exit 2)."""
    design = case.scenario_options.design
    if design == "none":
        return
    if not has_scenarios(case.scenarios):
        raise UsageError(f"design {design!r}: the case has no scenarios.csv to design against "
                         "(or one without rows)")
    if case.objective.shortage_cost is None:
        raise UsageError(f"design {design!r} needs objective.shortage_cost: the price of the "
                         "demand a scenario leaves unmet (set it in [objective] or with --set "
                         "objective.shortage_cost=...)")


def hand_over(runner: HighsRunner, built: Any) -> None:
    """Hand ``built`` (a Pyomo model's :class:`Built`, or :class:`Assembled` matrices) to HiGHS."""
    from solver.model.assembly import Assembled

    if isinstance(built, Assembled):
        runner.set_matrices(built.compiled, built.columns)
    else:
        runner.set_model(built.m, variable_groups(built.m))


def row_families(built: Any) -> dict[str, int]:
    """Each row family of ``built`` (a Pyomo model's or the matrices') to its number of rows."""
    from solver.model.assembly import Assembled

    if isinstance(built, Assembled):
        counts: dict[str, int] = {}
        names: Any = built.compiled.constraints if built.compiled is not None else None
        for block in names.blocks if names is not None else ():
            counts[block.name] = counts.get(block.name, 0) + block.n
        return counts
    return {name: len(keys) for name, keys in built.m.row_keys.items()}


def variable_groups(m: Any) -> dict[str, Any]:
    """The variable components whose values make up a solution."""
    groups = {"y": m.y, "k": m.k, "q": m.q, "f": m.f, "built": m.built}
    if hasattr(m, "g"):
        groups["g"] = m.g
    if hasattr(m, "h"):
        groups.update(h=m.h, s=m.s, e=m.e, mk=m.mk)
        if hasattr(m, "market_on"):
            groups["market_on"] = m.market_on
    if hasattr(m, "z"):
        groups.update(z=m.z, u=m.u)
    if hasattr(m, "res_t"):
        groups.update(res_t=m.res_t, res_s=m.res_s)
    from solver.model.two_stage import two_stage_variables

    groups.update(two_stage_variables(m))
    return groups


def finish(case: Case, built: Any, report: SolveReport, runner: Any,
           build_seconds: float, *, raise_on_failure: bool = True,
           check_data: Any = None) -> Result:
    """Turn a HiGHS report into a verified :class:`Result` (or raise on failure).

    ``check_data`` is the checker's own case data of ``case`` if the caller has it, or a
    function giving it, called only if a plan is checked (a study keeps it across points:
    :class:`solver.check.case_data.CaseDataCache`).
    """
    from solver.check.run import check_solution

    raise_if_stopped(report)
    if not report.has_solution:
        if raise_on_failure and report.status == Status.INFEASIBLE:
            raise infeasible_error(case)
        solver_name = "HiGHS" if runner.solver_name == "highs" else runner.solver_name
        if raise_on_failure and report.status == Status.ERROR:
            raise SolverError(f"{solver_name} failed ({report.termination}); run with -v "
                              "for its log")
        if raise_on_failure:
            raise NoSolutionError(
                f"{solver_name} stopped ({report.status}) before finding a feasible plan"
                + (f" within the time limit of {runner.time_limit:g} s; raise --time-limit"
                   if runner.time_limit else ""))
    start = time.perf_counter()
    values = report.values
    if not report.has_solution:
        values = {name: np.zeros(n) for name, n in runner.column_counts.items()}
    allocation = allocation_table(case, built.data, values)
    flows = flows_table(built.data, values)
    market_flows = market_flows_table(built.data, values)
    markets = supply = None
    if market_flows is not None:
        markets = markets_table(case, built.data, values, market_flows)
        supply = market_supply(case, market_flows)
        flows = pd.concat([flows, market_flows]).sort_values(
            ["exporter", "importer", "layer"]).reset_index(drop=True)
    shortage = None
    if case.objective.shortage_cost is not None:
        shortage = shortage_table(built.data, values if report.has_solution else
                                  {"z": np.zeros(len(built.data.rows))})
    layers = layers_table(case, allocation, shortage, supply)
    input_flows = input_flows_table(built.data, values if report.has_solution else {})
    shipped = flows if input_flows is None else pd.concat([flows, input_flows])
    partners = partners_table(case, allocation, shipped, supply)
    costs = {**cost_terms(case, allocation, shipped, layers, shortage),
             **market_cost_terms(markets)}
    inputs = None if input_flows is None else inputs_table(case, allocation, input_flows)
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
                 "constraints": runner.num_rows,
                 "nonzeros": runner.num_nonzeros},
        "solver": {"name": runner.solver_name, "version": runner.solver_version,
                   "termination": report.termination, "mip_gap": runner.mip_gap,
                   "time_limit": runner.time_limit, "threads": runner.threads},
        "case": case.name,
        "case_sha256": case.sha256,
        "overrides": list(case.overrides),
        "unit": case.unit,
        "version": __version__,
        "verified": False,
    }
    scenarios = scenario_flows = None
    if report.has_solution and has_scenarios(case.scenarios):
        from solver.studies.engine.design_outcomes import design_tables
        from solver.studies.engine.recourse import evaluate_scenarios

        start = time.perf_counter()
        # What the design was solved as (a run records every option that changes the model;
        # `check` applies it): with the model file's or --design's options.
        summary["design"] = case.scenario_options.model_dump(exclude={"file"}) \
            if case.scenario_options.design != "none" else {"design": "none"}
        if "sc_g" in values:
            scenarios, scenario_flows, recourse = design_tables(
                case, built.data, built.ctx, values, flows, costs["trade"] + costs["shortage"])
            costs["recourse"] = recourse
        else:
            scenarios = evaluate_scenarios(case, allocation, flows)
        summary["seconds"]["scenarios"] = time.perf_counter() - start
    violations: list[Any] = []
    if report.has_solution:
        start = time.perf_counter()
        violations = check_solution(case, allocation, flows, summary, layers=layers,
                                    partners=partners, shortage=shortage,
                                    scenario_flows=scenario_flows, scenarios=scenarios,
                                    input_flows=input_flows, markets=markets,
                                    data=check_data() if callable(check_data) else check_data)
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
        scenarios=scenarios,
        scenario_flows=scenario_flows,
        input_flows=input_flows,
        inputs=inputs,
        markets=markets,
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

