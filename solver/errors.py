"""Typed errors of the library: what went wrong, in the planner's terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem found in a case: where it is and what is wrong.

    ``file`` is the case file (``partners.csv``) or the source of an override
    (``--set``, a model file); ``line`` counts from 1 with the header as line 1.
    """

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        value = f" {self.value!r}:" if self.value is not None else ""
        return f"{', '.join(where)}:{value} {self.message}"


class CoalitionError(Exception):
    """Base class of every error the library raises on purpose."""

    exit_code = 1


class UsageError(CoalitionError):
    """A bad argument: an unknown override key, a path that is not a case, ..."""

    exit_code = 2


class CaseError(CoalitionError):
    """The case's inputs are invalid; ``problems`` lists every one found."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"... and {len(self.problems) - 50} more problems")
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun} in the case:\n  " + "\n  ".join(lines))


class InfeasibleError(CoalitionError):
    """No plan satisfies every requirement; ``report`` says which cannot hold together."""

    exit_code = 3

    def __init__(self, message: str, report: Any = None) -> None:
        self.report = report
        super().__init__(message)


class NoSolutionError(CoalitionError):
    """The solver stopped at a limit before finding any feasible plan."""

    exit_code = 4


class SolverError(CoalitionError):
    """HiGHS itself failed (a solve, load or presolve error), not the case."""

    exit_code = 1


class VerificationError(CoalitionError):
    """The independent checker found a violated constraint in a solution.

    ``result``, when set, is the rejected :class:`~solver.results.Result`, for inspection
    (``result.write`` keeps it; its ``summary`` says ``verified: false``).
    """

    exit_code = 5

    def __init__(self, violations: list[Any], result: Any = None) -> None:
        self.violations = list(violations)
        self.result = result
        lines = [str(v) for v in self.violations[:50]]
        super().__init__("the independent checker rejected the plan:\n  " + "\n  ".join(lines))


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stopped as Ctrl-C stops (nothing half-written), exit code 143.

    A subclass of :class:`KeyboardInterrupt`, so that everything that keeps finished work on
    Ctrl-C keeps it on SIGTERM too.
    """

    exit_code = 128 + 15
