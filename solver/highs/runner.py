"""HiGHS for a Pyomo model, behind a small adapter.

The model is handed over as matrices compiled from the Pyomo model (:mod:`solver.highs.compile`),
the fastest route measured: Pyomo's contrib HiGHS interface (a preview in Pyomo 6.10) took
ten times as long and twice the memory at a million variables. A :class:`HighsRunner` is
persistent: solving the same model again sends only what changed (mutable parameters,
bounds) to HiGHS.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from solver.signals import noting_stops, raise_for

log = logging.getLogger(__name__)


def raise_if_stopped(report: SolveReport) -> None:
    """Raise the exception of the signal that stopped a solve (KeyboardInterrupt or SIGTERM's)."""
    if report.status != Status.INTERRUPTED:
        return
    raise_for(signal.SIGTERM if report.termination == "terminated" else signal.SIGINT)


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


@dataclass(frozen=True)
class SolveProgress:
    """Where a running MIP solve stands: what HiGHS's MIP callbacks report."""

    elapsed: float
    incumbent: float | None
    bound: float | None
    gap: float | None
    improved: bool = False
    """Whether this event is a new incumbent (else a periodic log line)."""


@functools.cache
def highs_version() -> str:
    """The HiGHS version, e.g. ``1.16.0``."""
    h = new_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


_BANNER = [True]
#: The thread count HiGHS's one global task scheduler of this process was started with.
_SCHEDULER_THREADS: list[int] = []


def set_threads(h: Any, threads: int) -> None:
    """Give ``h`` ``threads`` threads, restarting the process's HiGHS scheduler if it differs.

    HiGHS keeps one task scheduler per process: once a solve has started it with N threads,
    a solve asking for another number fails with no status (kNotset). Every ``Highs`` of
    the tool sets its threads here, so an LP of the game after a MIP of the model (or the
    other way round) gets the scheduler it asks for.
    """
    import highspy

    threads = int(threads)
    if _SCHEDULER_THREADS and _SCHEDULER_THREADS[0] != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _SCHEDULER_THREADS[:] = [threads]
    h.setOptionValue("threads", threads)


def new_highs() -> Any:
    """A ``highspy.Highs``, without the banner the first one of a process prints."""
    import highspy

    if not _BANNER[0]:
        return highspy.Highs()
    _BANNER[0] = False
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


#: HiGHS model status -> (our status, Pyomo's name for the termination, as before).
_OUTCOMES: dict[str, tuple[Status | None, str]] = {
    "kOptimal": (Status.OPTIMAL, "convergenceCriteriaSatisfied"),
    "kModelEmpty": (Status.OPTIMAL, "convergenceCriteriaSatisfied"),
    "kInfeasible": (Status.INFEASIBLE, "provenInfeasible"),
    "kUnboundedOrInfeasible": (Status.INFEASIBLE, "infeasibleOrUnbounded"),
    "kUnbounded": (Status.UNBOUNDED, "unbounded"),
    "kTimeLimit": (None, "maxTimeLimit"),
    "kIterationLimit": (None, "iterationLimit"),
    "kSolutionLimit": (None, "iterationLimit"),
    "kObjectiveBound": (None, "objectiveLimit"),
    "kObjectiveTarget": (None, "objectiveLimit"),
    "kInterrupt": (Status.INTERRUPTED, "interrupted"),
    "kHighsInterrupt": (Status.INTERRUPTED, "interrupted"),
}


def _take(values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``values[columns]``; a view when the columns are consecutive (a Var's own span)."""
    n = len(columns)
    if n and int(columns[-1]) - int(columns[0]) == n - 1 and \
            (n < 3 or int(columns[n // 2]) == int(columns[0]) + n // 2):
        first = int(columns[0])
        if np.array_equal(columns, np.arange(first, first + n, dtype=columns.dtype)):
            return values[first:first + n]
    return values[columns]


class HighsRunner:
    """A persistent HiGHS solver for one Pyomo model at a time.

    The model is compiled to matrices and passed to HiGHS in one call
    (:mod:`solver.highs.compile`). Solving the same model again re-reads only what can change
    without a rebuild (mutable parameters, variable bounds, domains and fixing) and sends
    HiGHS just the differences; a model whose variables, active constraints or objective
    changed is handed over again in full.
    """

    def __init__(self, *, time_limit: float | None = None, mip_gap: float = 1e-4,
                 threads: int = 1, tee: bool = False) -> None:
        self._highs = new_highs()
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        cores = os.cpu_count() or 1
        if threads > cores:
            # HiGHS starts every thread asked for: 100000 of them stall the machine.
            log.warning("threads %d is more than this machine's %d cores; using %d",
                        threads, cores, cores)
            threads = cores
        self.threads = threads
        self.tee = tee
        self._model: Any = None
        self._compiled: Any = None
        self._groups: dict[str, Any] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._is_mip = False
        self._last_runtime = 0.0
        self._run_started = time.perf_counter()
        self._log: list[str] = []
        self.handover_seconds = 0.0
        self._highs.cbLogging += self._note_log
        self.progress: Callable[[SolveProgress], None] | None = None
        """Told where a MIP solve stands at each HiGHS log line and each new incumbent."""
        self._watching = False

    def _watch(self) -> None:
        """Subscribe to HiGHS's MIP callbacks (once, and only when progress is wanted)."""
        if self._watching:
            return
        self._watching = True
        self._highs.cbMipLogging += self._note_mip
        self._highs.cbMipImprovingSolution += self._note_incumbent

    def _note_mip(self, event: Any, improved: bool = False) -> None:
        if self.progress is None:
            return
        d = event.data_out
        incumbent = float(d.objective_function_value if improved else d.mip_primal_bound)
        bound, gap = float(d.mip_dual_bound), float(d.mip_gap)
        self.progress(SolveProgress(
            # The wall time of this run: HiGHS's own clock in a callback is not always on
            # the scale of getRunTime (after a strengthening it read minutes below zero).
            elapsed=time.perf_counter() - self._run_started,
            incumbent=incumbent if math.isfinite(incumbent) else None,
            bound=bound if math.isfinite(bound) else None,
            gap=gap if math.isfinite(gap) else None, improved=improved))

    def _note_incumbent(self, event: Any) -> None:
        self._note_mip(event, improved=True)

    def _note_log(self, event: Any) -> None:
        self._log.append(event.message)
        if self.tee:
            # HiGHS's own console output goes to stdout, where the summary goes.
            sys.stderr.write(event.message)
            sys.stderr.flush()

    @property
    def highs(self) -> Any:
        """The underlying ``highspy.Highs`` object (for warm starts and fixed LPs)."""
        return self._highs

    solver_name = "highs"

    @property
    def solver_version(self) -> str:
        """HiGHS's version, for summary.json."""
        return highs_version()

    @property
    def num_rows(self) -> int:
        """Rows of the model HiGHS holds."""
        return int(self._highs.getNumRow())

    @property
    def num_nonzeros(self) -> int:
        """Nonzeros of the model HiGHS holds."""
        return int(self._highs.getNumNz())

    def set_model(self, m: Any, groups: dict[str, Any]) -> None:
        """Hand model ``m`` over to HiGHS; ``groups`` names the variables to read back."""
        from pyomo.common.gc_manager import PauseGC

        from solver.highs.compile import compile_model, group_columns
        from solver.highs.reading import release_freed_memory

        start = time.perf_counter()
        self._compiled = None  # the old model's arrays go before the new ones come
        with PauseGC():
            compiled = compile_model(m)
            self._highs.setOptionValue("output_flag", False)
            compiled.pass_to(self._highs)
            self._columns = group_columns(compiled, groups)
            compiled.slim()
        self._compiled, self._model, self._groups = compiled, m, dict(groups)
        self._is_mip = compiled.is_mip
        release_freed_memory()
        self._last_runtime = self._highs.getRunTime()
        self.handover_seconds = time.perf_counter() - start

    def set_matrices(self, compiled: Any, columns: dict[str, np.ndarray]) -> None:
        """Hand HiGHS matrices built without Pyomo (:mod:`solver.model.assembly`).

        ``columns`` names the columns to read back. As after :meth:`forget_model`, there is
        no model to re-solve: :meth:`solve` with ``m=None`` solves what HiGHS holds.
        """
        from solver.highs.reading import release_freed_memory

        start = time.perf_counter()
        self._compiled = None
        self._highs.setOptionValue("output_flag", False)
        compiled.pass_to(self._highs)
        self._model, self._groups, self._columns = None, {}, dict(columns)
        self._is_mip = compiled.is_mip
        release_freed_memory()
        self._last_runtime = self._highs.getRunTime()
        self.handover_seconds = time.perf_counter() - start

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """The HiGHS columns of each variable group of the handed-over model."""
        return dict(self._columns)

    def restart_clock(self) -> None:
        """Count the next solve's HiGHS time from now (work on the model since is not in it)."""
        self._last_runtime = self._highs.getRunTime()

    @property
    def column_counts(self) -> dict[str, int]:
        """How many HiGHS columns each variable group of the handed-over model has."""
        return {name: len(cols) for name, cols in self._columns.items()}

    def forget_model(self) -> None:
        """Keep only HiGHS's copy of the model, so that the Pyomo model can be freed.

        A one-shot solve needs nothing of the Pyomo model once HiGHS holds the matrices;
        :meth:`solve` with ``m=None`` then solves what HiGHS holds. Re-solving after a
        parameter change needs the model: hand a model over again for that.
        """
        self._model, self._compiled, self._groups = None, None, {}

    def _sync(self, m: Any, groups: dict[str, Any]) -> None:
        """Send HiGHS what changed in ``m`` since the last hand-over or solve."""
        from solver.highs.compile import group_columns

        if m is not self._model or not self._compiled.same_structure(m):
            self.set_model(m, groups)
            return
        changes = self._compiled.refresh(self._highs)
        if changes:
            changes.send(self._highs)
        if groups.keys() != self._groups.keys() or any(
                groups[k] is not self._groups[k] for k in groups):
            self._columns = group_columns(self._compiled, groups)
            self._groups = dict(groups)

    def warm_start(self, m: Any, values: dict[str, np.ndarray]) -> bool:
        """Give HiGHS ``values`` (as a :class:`SolveReport` holds them) as a MIP start.

        Only for the model HiGHS already holds; the next :meth:`solve` of ``m`` uses the
        start. Any change to the model discards a start in HiGHS, so the model's pending
        changes (mutable parameters, bounds) are sent first and the next solve sends none.
        Return whether a start was set.
        """
        if m is not self._model or not values:
            return False
        self._sync(m, self._groups)
        names = [name for name in values if name in self._columns]
        index = np.concatenate([self._columns[name] for name in names]).astype(np.int32)
        value = np.concatenate([np.asarray(values[name], dtype=float) for name in names])
        # HiGHS prints why a start does not fit the new bounds; a sweep expects that.
        self._highs.setOptionValue("output_flag", False)
        self._highs.setSolution(len(index), index, value)
        return True

    def solve(self, m: Any | None, groups: dict[str, Any] | None = None) -> SolveReport:
        """Solve ``m`` (handing it over first if it is new) and read the solution back.

        ``m=None`` solves the model HiGHS already holds, as :meth:`forget_model` left it.
        """
        start = time.perf_counter()
        if m is not None:
            self._sync(m, groups or {})
        elif not self._columns:
            raise RuntimeError("no model has been handed over to HiGHS")
        h = self._highs
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("mip_rel_gap", float(self.mip_gap))
        h.setOptionValue("time_limit", float(self.time_limit or math.inf))
        set_threads(h, self.threads)
        self._log = []
        if self.progress is not None:
            self._watch()
        h.HandleKeyboardInterrupt = True
        self._run_started = time.perf_counter()
        with noting_stops(h.cancelSolve) as stops:
            h.run()
        runtime = h.getRunTime()
        highs_seconds = max(runtime - self._last_runtime, 0.0)
        self._last_runtime = runtime
        info = h.getInfo()
        name = h.getModelStatus().name
        has_solution = int(info.primal_solution_status) == 2
        status, termination = _OUTCOMES.get(name, (Status.ERROR, name))
        if status is None:
            status = Status.TIME_LIMIT if has_solution else Status.NO_SOLUTION
        elif status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.ERROR):
            has_solution = False  # HiGHS may still hold a feasible point of an unbounded LP
        if stops:
            status = Status.INTERRUPTED
            termination = "terminated" if stops[0] == signal.SIGTERM else "interrupted"
        objective = float(info.objective_function_value) if has_solution else None
        bound: float | None
        if self._is_mip:
            bound = float(info.mip_dual_bound)
            if not math.isfinite(bound):
                bound = None
        else:
            bound = objective if status == Status.OPTIMAL else None
        gap = None
        if objective is not None and bound is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-10)
        values: dict[str, np.ndarray] = {}
        if has_solution:
            col_value = np.asarray(h.getSolution().col_value, dtype=float)
            values = {name: _take(col_value, idx) for name, idx in self._columns.items()}
        log.info("HiGHS: %s in %.3f s (objective %s, bound %s)", status, highs_seconds,
                 objective, bound)
        return SolveReport(
            status=status,
            has_solution=has_solution,
            objective=objective,
            bound=bound,
            gap=gap,
            highs_seconds=highs_seconds,
            wall_seconds=time.perf_counter() - start,
            termination=termination,
            log="".join(self._log),
            values=values,
        )
