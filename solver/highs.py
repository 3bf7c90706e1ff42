"""HiGHS through Pyomo's ``pyomo.contrib.solver`` interface, behind a small adapter.

The interface is a preview in Pyomo 6.10 (pinned in pyproject.toml); this module is the
only place that touches it. A :class:`HighsRunner` is persistent: solving the same model
again sends only what changed (mutable parameters, bounds) to HiGHS.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


#: Pyomo's checks for model changes, all skipped by a solve that follows a warm start.
_AUTO_UPDATES = (
    "check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
    "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
    "update_vars", "update_parameters", "update_named_expressions", "update_objective",
)


@contextlib.contextmanager
def _noting_sigint() -> Iterator[list[bool]]:
    """Note a Ctrl-C (SIGINT) that arrives while HiGHS runs; the list is true if one did.

    Pyomo turns on HiGHS's user interrupt, so Ctrl-C stops HiGHS at once, but the
    KeyboardInterrupt is raised inside HiGHS's callback and HiGHS reports a solve error
    (kSolveError). The note lets :meth:`HighsRunner.solve` say "interrupted" instead.
    """
    seen: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return
    previous = signal.getsignal(signal.SIGINT)

    def note(signum: int, frame: Any) -> None:
        if previous == signal.SIG_IGN:
            return
        seen.append(True)
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


class Status(StrEnum):
    """Outcome of a solve, as written to ``summary.json``."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass
class SolveReport:
    """What HiGHS reported for one solve."""

    status: Status
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    highs_seconds: float
    wall_seconds: float
    termination: str
    log: str = ""
    values: dict[str, np.ndarray] = field(default_factory=dict)


@functools.cache
def highs_version() -> str:
    """The HiGHS version, e.g. ``1.16.0`` (asked once: a new ``Highs`` prints a banner)."""
    import highspy

    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


class HighsRunner:
    """A persistent HiGHS solver for one Pyomo model at a time."""

    def __init__(self, *, time_limit: float | None = None, mip_gap: float = 1e-4,
                 threads: int = 1, tee: bool = False) -> None:
        from pyomo.contrib.solver.solvers.highs import Highs

        self._opt = Highs()
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.threads = threads
        self.tee = tee
        self._model: Any = None
        self._columns: dict[str, np.ndarray] = {}
        self._last_runtime = 0.0
        self._started = False
        self.handover_seconds = 0.0

    @property
    def highs(self) -> Any:
        """The underlying ``highspy.Highs`` object (for warm starts and fixed LPs)."""
        return self._opt._solver_model

    def set_model(self, m: Any, groups: dict[str, Any]) -> None:
        """Hand model ``m`` over to HiGHS; ``groups`` names the variables to read back."""
        start = time.perf_counter()
        self._opt.config.tee = False
        self._opt.set_instance(m)
        self._model = m
        vmap = self._opt._pyomo_var_to_solver_var_map
        self._columns = {
            name: np.fromiter((vmap[id(v)] for v in var.values()), dtype=np.int64,
                              count=len(var))
            for name, var in groups.items()
        }
        self._last_runtime = self.highs.getRunTime()
        self.handover_seconds = time.perf_counter() - start

    def warm_start(self, m: Any, values: dict[str, np.ndarray]) -> bool:
        """Give HiGHS ``values`` (as a :class:`SolveReport` holds them) as a MIP start.

        Only for the model HiGHS already holds; the next :meth:`solve` of ``m`` uses the
        start. Any change to the model discards a start in HiGHS, so the model's pending
        changes (mutable parameters, bounds) are sent first and the next solve sends none.
        Return whether a start was set.
        """
        if m is not self._model or not values:
            return False
        self._opt.update()
        names = [name for name in values if name in self._columns]
        index = np.concatenate([self._columns[name] for name in names]).astype(np.int32)
        value = np.concatenate([np.asarray(values[name], dtype=float) for name in names])
        # HiGHS prints why a start does not fit the new bounds; a sweep expects that.
        got = self.highs.getOptionValue("output_flag")
        flag = bool(got[1] if isinstance(got, tuple) else got)
        self.highs.setOptionValue("output_flag", False)
        self.highs.setSolution(len(index), index, value)
        self.highs.setOptionValue("output_flag", flag)
        self._started = True
        return True

    def solve(self, m: Any, groups: dict[str, Any]) -> SolveReport:
        """Solve ``m`` (handing it over first if it is new) and read the solution back."""
        from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

        if m is not self._model:
            self.set_model(m, groups)
        start = time.perf_counter()
        options: dict[str, Any] = {"mip_rel_gap": self.mip_gap}
        kwargs: dict[str, Any] = {}
        if self._started and m is self._model:
            kwargs["auto_updates"] = dict.fromkeys(_AUTO_UPDATES, False)
        self._started = False
        with _noting_sigint() as sigint:
            results = self._opt.solve(
                m,
                tee=self.tee,
                load_solutions=False,
                raise_exception_on_nonoptimal_result=False,
                time_limit=self.time_limit,
                threads=self.threads,
                solver_options=options,
                **kwargs,
            )
        wall = time.perf_counter() - start
        runtime = self.highs.getRunTime()
        highs_seconds = max(runtime - self._last_runtime, 0.0)
        self._last_runtime = runtime
        tc = results.termination_condition
        has_solution = results.solution_status in (SolutionStatus.optimal,
                                                   SolutionStatus.feasible)
        if tc == TerminationCondition.convergenceCriteriaSatisfied:
            status = Status.OPTIMAL
        elif tc == TerminationCondition.provenInfeasible:
            status = Status.INFEASIBLE
        elif tc == TerminationCondition.unbounded:
            status = Status.UNBOUNDED
        elif tc == TerminationCondition.infeasibleOrUnbounded:
            status = Status.INFEASIBLE
        elif tc == TerminationCondition.interrupted:
            status = Status.INTERRUPTED
        elif tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                    TerminationCondition.objectiveLimit):
            status = Status.TIME_LIMIT if has_solution else Status.NO_SOLUTION
        else:
            status = Status.ERROR
        if sigint:
            status = Status.INTERRUPTED
        objective = results.incumbent_objective if has_solution else None
        bound = results.objective_bound
        gap = None
        if objective is not None and bound is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-10)
        values: dict[str, np.ndarray] = {}
        if has_solution:
            col_value = np.asarray(self.highs.getSolution().col_value, dtype=float)
            values = {name: col_value[idx] for name, idx in self._columns.items()}
        log.info("HiGHS: %s in %.3f s (objective %s, bound %s)", status, highs_seconds,
                 objective, bound)
        return SolveReport(
            status=status,
            has_solution=has_solution,
            objective=objective,
            bound=bound,
            gap=gap,
            highs_seconds=highs_seconds,
            wall_seconds=wall,
            termination=str(tc.name),
            log=results.solver_log or "",
            values=values,
        )
