"""One persistent re-solver under every study: build once, change numbers, solve, check.

A :class:`Resolver` holds one built model and a persistent solver runner
(:class:`~solver.highs.runner.HighsRunner`, which keeps the model compiled,
:class:`~solver.highs.compile.Compiled`, and sends HiGHS only what changed). A study:

1. builds the model once with :meth:`Resolver.build`, from a function of its own (the
   one-period model of :func:`solver.model.build.build`, the game's priced model, the
   near-optimal search model; a pathway model plugs in the same way, with its own
   ``groups``);
2. changes numbers only, through the model (mutable parameters, variable bounds, a row's
   or an objective's weights: whatever :meth:`Compiled.refresh` re-reads);
3. calls :meth:`Resolver.solve` with its ``check``: the resolver clears what HiGHS kept of
   the last solve, sends the changes and the study's MIP start (:attr:`Resolver.start`, if
   it set one) in one pass, solves, raises if Ctrl-C or SIGTERM stopped the solve, hands
   the report to ``check`` (the independent checker, through the study's tables) and
   returns one :class:`Outcome`. A warm-started plan that ``check`` refuses is solved
   again cold: HiGHS can lose a MIP start's objective offset in its presolved space and
   stop at a wrong "optimum", which the checker refuses.

A solve's answer depends only on the model's numbers and the study's start, never on what
was solved before on the same model. A MIP solved to a gap has many right answers (another
start, or the basis of the change before, stops HiGHS elsewhere within the gap, and moves
the bound and the last bits of the costs); were it to follow the last plan, a study's rows
would depend on which worker solved which units in which order. So the last plan is never
the next start, and the same seed gives the same answer, bit for bit, on every executor
(:mod:`solver.studies.engine.executor`), and when a study is resumed unit by unit.

What a study keeps for itself: how its unit of work (a point, a group, a search step) maps
to a change of numbers, and which row it makes of the outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")

#: A study's check of a plan: what it makes of the report, and whether the plan is accepted
#: (verified by the independent checker). Called only for a report with a plan.
Check = Callable[[Any], tuple[T, bool]]

log = logging.getLogger(__name__)


class _Held(logging.Handler):
    """Keeps the warnings a check logs, to be shown only if its plan is the one kept."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _held_warnings(hold: bool) -> Iterator[_Held]:
    """Hold the package's warnings while ``hold`` (a warm plan's check) instead of printing.

    A warm plan the checker refuses is solved again cold, so its violations are not the
    study's result: they go to the debug log, not to the planner's screen.
    """
    held = _Held()
    if not hold:
        yield held
        return
    root = logging.getLogger("solver")
    saved = root.propagate, root.handlers[:]
    root.addHandler(held)
    root.propagate = False
    for h in saved[1]:
        root.removeHandler(h)
    try:
        yield held
    finally:
        root.removeHandler(held)
        root.propagate = saved[0]
        for h in saved[1]:
            root.addHandler(h)


@dataclass
class Outcome(Generic[T]):
    """One solve of the resolver: HiGHS's report and what the study's check made of it."""

    report: Any
    """The :class:`~solver.highs.runner.SolveReport` of the last attempt."""
    checked: T | None
    """What ``check`` returned for the plan; None when the solve found no plan."""
    accepted: bool
    """Whether ``check`` accepted the plan (False without a plan)."""
    warm: bool
    """Whether the last attempt started from the study's MIP start."""
    retried: bool
    """Whether a warm-started plan was refused and the change solved again cold."""
    highs_seconds: float
    """HiGHS's own time over every attempt of this solve."""

    @property
    def has_solution(self) -> bool:
        """Whether HiGHS returned a plan."""
        return bool(self.report.has_solution)


def runner_for(opts: Any) -> Any:
    """A runner of the case's ``[solver]`` options: HiGHS's, or Pyomo's for another solver."""
    if opts.name.strip().lower() == "highs":
        from solver.highs.runner import HighsRunner

        return HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                           threads=opts.threads)
    from solver.highs.pyomo_runner import PyomoRunner

    return PyomoRunner(opts.name, time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                       threads=opts.threads)


def model_groups(built: Any) -> dict[str, Any]:
    """The variables a one-period model's plan is read back as (``variable_groups``)."""
    from solver.solve import variable_groups

    return variable_groups(built.m)


class Resolver:
    """A built model re-solved after numbers-only changes, each plan checked.

    ``runner`` solves (a :class:`~solver.highs.runner.HighsRunner`, or a runner of another
    solver without warm starts); ``groups`` names the variables a plan is read back as, for
    a built model (default: the one-period model's). Each solve starts from the study's
    :attr:`start` if it set one, else cold; the resolver never makes the plan it solved the
    next start. A study that sets a start keeps it a function of its unit alone (an
    alternatives search starts from the optimum and goes on from its own plans).
    ``builds`` counts the models built, ``retries`` the warm plans refused and solved again
    cold, ``highs_seconds`` HiGHS's time over every solve.
    """

    def __init__(self, runner: Any, *,
                 groups: Callable[[Any], dict[str, Any]] = model_groups) -> None:
        self.runner = runner
        self.group_names = groups
        self.built: Any = None
        self.groups: dict[str, Any] = {}
        self.builds = 0
        self.retries = 0
        self.highs_seconds = 0.0
        self.build_seconds = 0.0
        self.start: dict[str, np.ndarray] = {}
        """The study's MIP start for every solve, by variable group (empty: none); a study
        sets it, the resolver never changes it but to forget it at a build."""

    def build(self, make: Callable[[], Any]) -> float:
        """Build the model with ``make()`` (an object with its Pyomo model as ``.m``).

        Replaces the model held, forgets the start, returns the seconds it took. The
        runner is handed the model at the next solve.
        """
        started = time.perf_counter()
        self.built = make()
        self.groups = dict(self.group_names(self.built))
        self.build_seconds = time.perf_counter() - started
        self.builds += 1
        self.start = {}
        return self.build_seconds

    def add_groups(self, groups: dict[str, Any]) -> None:
        """Read back these variables too (a study's own components of the model)."""
        self.groups.update(groups)

    def solve(self, check: Check[T] | None = None) -> Outcome[T]:
        """Solve the model as it now stands; return HiGHS's report and ``check``'s verdict.

        ``check`` None accepts every plan unchecked (a step whose plan is not kept, such as
        the distance-maximising solve of a search). What HiGHS kept of the solve before (its
        solution and basis) is cleared first, so that the answer is the same whatever was
        solved before. A plan ``check`` refuses from the study's start is solved again cold.
        Raises KeyboardInterrupt or SIGTERM's exception if a signal stopped the solve.
        """
        if self.built is None:
            raise RuntimeError("the resolver has no model: build one first")
        self._clear()
        warm = self._warm()
        outcome = self._attempt(check, warm)
        if warm and outcome.has_solution and not outcome.accepted:
            self.retries += 1
            self._clear()
            spent = outcome.highs_seconds
            outcome = self._attempt(check, warm=False)
            outcome.retried = True
            outcome.highs_seconds += spent
        return outcome

    def _clear(self) -> None:
        """Forget HiGHS's solution and basis of the last solve (the model stays)."""
        highs = getattr(self.runner, "highs", None)
        if highs is not None:
            highs.clearSolver()

    def _warm(self) -> bool:
        """Send the pending changes and the study's start; whether a start was set."""
        if not self.start:
            return False
        set_start = getattr(self.runner, "warm_start", None)
        return bool(set_start is not None and set_start(self.built.m, self.start))

    def _attempt(self, check: Check[T] | None, warm: bool) -> Outcome[T]:
        from solver.highs.runner import raise_if_stopped

        # A warm start has sent the model's changes already: the solve has none to send.
        report = self.runner.solve(None if warm else self.built.m, self.groups)
        raise_if_stopped(report)
        self.highs_seconds += report.highs_seconds
        checked: Any = None
        accepted = False
        if report.has_solution:
            if check is None:
                accepted = True
            else:
                with _held_warnings(warm) as held:
                    checked, accepted = check(report)
                for record in held.records:
                    if accepted:
                        logging.getLogger(record.name).handle(record)
                    else:
                        log.debug("warm plan refused, solved again cold: %s",
                                  record.getMessage())
        return Outcome(report=report, checked=checked, accepted=accepted, warm=warm,
                       retried=False, highs_seconds=report.highs_seconds)
