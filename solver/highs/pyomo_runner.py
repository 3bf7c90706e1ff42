"""Any MILP solver that Pyomo drives, behind the same small adapter as HiGHS.

``solve --solver NAME`` (or ``[solver] name``) hands the same Pyomo model that HiGHS gets to
another solver through Pyomo, and reads the plan back in the same shape, so that the tables,
the summary and the independent checker are the same for every solver. HiGHS stays the
default and the fast path (:class:`solver.highs.runner.HighsRunner`); this adapter is for
comparing solvers and for sites that license a commercial one.

Names: ``scip`` (through pyscipopt, Pyomo's ``scip_direct``), ``gurobi`` (gurobipy, else the
``gurobi`` program), ``cbc``, ``glpk``, ``cplex``, ``xpress`` (their programs on PATH), or any
name of Pyomo's solver factories (``scip_persistent``, ``gurobi_direct``, ``appsi_highs``).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from solver.errors import UsageError
from solver.highs.runner import SolveReport, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """How one name reaches a solver: Pyomo's newer interface or its classic one."""

    name: str
    contrib: str | None = None
    legacy: str | None = None
    gap_option: str | None = None
    time_option: str | None = None


#: The names ``--solver`` knows, in the order they are listed; classic interfaces take the
#: gap and time limit under the solver's own option names.
KNOWN: dict[str, Choice] = {c.name: c for c in (
    Choice("highs"),
    Choice("scip", contrib="scip_direct", legacy="scip", gap_option="limits/gap",
           time_option="limits/time"),
    Choice("gurobi", contrib="gurobi_direct", legacy="gurobi", gap_option="MIPGap",
           time_option="TimeLimit"),
    Choice("cplex", legacy="cplex", gap_option="mipgap", time_option="timelimit"),
    Choice("xpress", legacy="xpress", gap_option="miprelstop", time_option="maxtime"),
    Choice("cbc", legacy="cbc", gap_option="ratioGap", time_option="sec"),
    Choice("glpk", legacy="glpk", gap_option="mipgap", time_option="tmlim"),
)}


#: The MILP solvers a name outside :data:`KNOWN` may be a variant of (``gurobi_persistent``,
#: ``appsi_highs``, ``cplex_direct``). Pyomo's factories also hold methods that are not MILP
#: solvers (``mindtpy``, ``gdpopt``, ``multistart``: decompositions and wrappers for nonlinear
#: models, which fail on this one): they are refused before anything is solved.
MILP_FAMILIES = ("highs", "scip", "gurobi", "cplex", "xpress", "cbc", "glpk", "mosek", "copt")


def is_milp_name(key: str) -> bool:
    """Whether the lower-case solver name ``key`` names a MILP solver (or a variant of one)."""
    bare = key.removeprefix("appsi_")
    return key in KNOWN or bare.startswith(MILP_FAMILIES)


def _contrib_available(name: str) -> bool:
    try:
        import pyomo.environ  # noqa: F401  (loads the solver plugins into the factory)
        from pyomo.contrib.solver.common.factory import SolverFactory

        solver = SolverFactory(name)
        return solver is not None and bool(solver.available())
    except Exception:
        return False


def _legacy_available(name: str) -> bool:
    try:
        import pyomo.environ  # noqa: F401  (registers the classic solver plugins)
        from pyomo.opt import SolverFactory

        with _quiet_logs():
            return bool(SolverFactory(name).available(exception_flag=False))
    except Exception:
        return False


class _quiet_logs:
    """Silence Pyomo's warnings while probing for solvers that are not there."""

    def __enter__(self) -> None:
        self._logger = logging.getLogger("pyomo")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self._logger.setLevel(self._level)


def resolve(name: str) -> tuple[str, str]:
    """``(interface, pyomo_name)`` for a solver name: ``("contrib"|"legacy", name)``.

    Raises :class:`~solver.errors.UsageError` naming the installed solvers if ``name`` is
    unknown or not installed.
    """
    key = name.strip().lower()
    choice = KNOWN.get(key)
    if choice is not None:
        if choice.contrib and _contrib_available(choice.contrib):
            return "contrib", choice.contrib
        if choice.legacy and _legacy_available(choice.legacy):
            return "legacy", choice.legacy
    elif key and (_contrib_available(key) or _legacy_available(key)):
        if not is_milp_name(key):
            raise UsageError(f"solver {name!r} is not a MILP solver (the model is a "
                             "mixed-integer linear program); installed: "
                             f"{', '.join(installed())}")
        return ("contrib", key) if _contrib_available(key) else ("legacy", key)
    state = "is not installed" if choice is not None else "is not a solver Pyomo knows"
    raise UsageError(f"solver {name!r} {state}; installed: {', '.join(installed())}")


def installed() -> list[str]:
    """The names of :data:`KNOWN` whose solver can be run here (``highs`` always)."""
    out = ["highs"]
    for choice in KNOWN.values():
        if choice.name == "highs":
            continue
        if (choice.contrib and _contrib_available(choice.contrib)) or (
                choice.legacy and _legacy_available(choice.legacy)):
            out.append(choice.name)
    return out


#: Pyomo's termination conditions (both interfaces' names) -> our status; None: by solution.
_TERMINATION: dict[str, Status | None] = {
    "convergenceCriteriaSatisfied": Status.OPTIMAL, "optimal": Status.OPTIMAL,
    "provenInfeasible": Status.INFEASIBLE, "infeasible": Status.INFEASIBLE,
    "locallyInfeasible": Status.INFEASIBLE, "infeasibleOrUnbounded": Status.INFEASIBLE,
    "unbounded": Status.UNBOUNDED, "interrupted": Status.INTERRUPTED,
    "maxTimeLimit": None, "iterationLimit": None, "objectiveLimit": None,
    "maxIterations": None, "maxEvaluations": None, "minStepLength": None,
    "userInterrupt": Status.INTERRUPTED,
}


class PyomoRunner:
    """Solve a Pyomo model with another solver; the interface :func:`solver.solve` uses."""

    def __init__(self, name: str, *, time_limit: float | None = None, mip_gap: float = 1e-4,
                 threads: int = 1, tee: bool = False) -> None:
        self.interface, self.pyomo_name = resolve(name)
        self.name = name.strip().lower()
        self.time_limit, self.mip_gap, self.threads, self.tee = time_limit, mip_gap, threads, tee
        self.handover_seconds = 0.0
        self.num_rows = 0
        self.num_nonzeros = 0
        self._model: Any = None
        self._groups: dict[str, Any] = {}

    @property
    def solver_name(self) -> str:
        """The name written to summary.json."""
        return self.name

    @property
    def solver_version(self) -> str:
        """The solver's version as Pyomo reports it, or ``unknown``."""
        try:
            opt = self._solver()
            version = opt.version()
        except Exception:
            return "unknown"
        if isinstance(version, tuple):
            return ".".join(str(x) for x in version)
        return str(version) if version is not None else "unknown"

    @property
    def column_counts(self) -> dict[str, int]:
        """How many variables each group of the model has."""
        return {name: len(var) for name, var in self._groups.items()}

    def set_model(self, m: Any, groups: dict[str, Any]) -> None:
        """Keep the model for :meth:`solve`; count its rows and nonzeros for the summary."""
        from solver.highs.compile import compile_model

        start = time.perf_counter()
        compiled = compile_model(m)
        self.num_rows, self.num_nonzeros = compiled.n_rows, len(compiled.value)
        self._model, self._groups = m, dict(groups)
        self.handover_seconds = time.perf_counter() - start

    def _solver(self) -> Any:
        if self.interface == "contrib":
            from pyomo.contrib.solver.common.factory import SolverFactory

            return SolverFactory(self.pyomo_name)
        import pyomo.environ  # noqa: F401
        from pyomo.opt import SolverFactory as LegacyFactory

        return LegacyFactory(self.pyomo_name)

    def solve(self, m: Any | None = None, groups: dict[str, Any] | None = None) -> SolveReport:
        """Solve ``m`` (the model given to :meth:`set_model` when None); read the plan back."""
        if m is not None and m is not self._model:
            self.set_model(m, groups or self._groups)
        m = self._model
        start = time.perf_counter()
        opt = self._solver()
        if self.interface == "contrib":
            status, objective, bound, termination = self._solve_contrib(opt, m)
        else:
            status, objective, bound, termination = self._solve_legacy(opt, m)
        seconds = time.perf_counter() - start
        has_solution = objective is not None and status not in (
            Status.INFEASIBLE, Status.UNBOUNDED, Status.ERROR)
        if status is None:
            status = Status.TIME_LIMIT if has_solution else Status.NO_SOLUTION
        values: dict[str, np.ndarray] = {}
        if has_solution:
            values = {name: np.array([v.value if v.value is not None else 0.0
                                      for v in var.values()], dtype=float)
                      for name, var in self._groups.items()}
        else:
            objective = None
        gap = None
        if objective is not None and bound is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-10)
        log.info("%s: %s in %.3f s (objective %s, bound %s)", self.name, status, seconds,
                 objective, bound)
        return SolveReport(status=status, has_solution=has_solution, objective=objective,
                           bound=bound, gap=gap, highs_seconds=seconds, wall_seconds=seconds,
                           termination=termination, values=values)

    def _solve_contrib(self, opt: Any, m: Any) -> tuple[Status | None, float | None,
                                                        float | None, str]:
        from pyomo.contrib.solver.common.results import SolutionStatus

        kwargs: dict[str, Any] = {"load_solutions": False,
                                  "raise_exception_on_nonoptimal_result": False,
                                  "rel_gap": float(self.mip_gap),
                                  "tee": [sys.stderr] if self.tee else False}
        if self.time_limit:
            kwargs["time_limit"] = float(self.time_limit)
        if self.threads > 1:
            kwargs["threads"] = int(self.threads)
        try:
            results = opt.solve(m, **kwargs)
        except KeyboardInterrupt:
            return Status.INTERRUPTED, None, None, "interrupted"
        except Exception as exc:
            return Status.ERROR, None, None, f"{type(exc).__name__}: {exc}"
        termination = getattr(results.termination_condition, "name", "unknown")
        status = _TERMINATION.get(termination, Status.ERROR)
        feasible = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        objective = None
        if feasible:
            results.solution_loader.load_vars()
            objective = _finite(results.incumbent_objective)
        return status, objective, _finite(results.objective_bound), termination

    def _solve_legacy(self, opt: Any, m: Any) -> tuple[Status | None, float | None,
                                                       float | None, str]:
        choice = KNOWN.get(self.name)
        options: dict[str, Any] = {}
        if choice is not None and choice.gap_option:
            options[choice.gap_option] = float(self.mip_gap)
        if choice is not None and choice.time_option and self.time_limit:
            options[choice.time_option] = float(self.time_limit)
        try:
            results = opt.solve(m, load_solutions=False, tee=self.tee, options=options)
        except KeyboardInterrupt:
            return Status.INTERRUPTED, None, None, "interrupted"
        except Exception as exc:
            return Status.ERROR, None, None, f"{type(exc).__name__}: {exc}"
        termination = str(results.solver.termination_condition)
        status = _TERMINATION.get(termination, Status.ERROR)
        objective = None
        if len(results.solution) > 0 and status not in (Status.INFEASIBLE, Status.UNBOUNDED):
            m.solutions.load_from(results)
            objective = _finite(_objective_value(m))
        bound = _finite(getattr(results.problem, "lower_bound", None))
        return status, objective, bound, termination


def _objective_value(m: Any) -> float | None:
    import pyomo.environ as pyo

    for obj in m.component_data_objects(pyo.Objective, active=True):
        return float(pyo.value(obj))
    return None


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
