"""Progress of one long solve, and of a command's few solves in a row (stress, frontier).

* :class:`SolveWatch` shows where a MIP solve stands, from HiGHS's callbacks: elapsed,
  incumbent, bound, gap. On a terminal one line is redrawn in place and wiped at the end;
  otherwise a plain line is printed for each new incumbent and at most one every
  ``every`` seconds for a moved bound.
* :class:`Steps` counts the solves of a command: ``[3/21] lost TW: ...`` with the time
  elapsed and left, redrawn in place on a terminal, one line each otherwise.

``-q`` shows neither: the commands then pass no progress at all.
"""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from solver.highs.runner import SolveProgress


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60:02d}:{s % 60:02d}"


def _value(x: float | None) -> str:
    return "-" if x is None else f"{x:,.6g}"


def describe(p: SolveProgress) -> str:
    """``00:03 elapsed, incumbent 896.103, bound 895.071, gap 0.12%``."""
    gap = "-" if p.gap is None else f"{100 * p.gap:.2f}%"
    return (f"{_clock(p.elapsed)} elapsed, incumbent {_value(p.incumbent)}, "
            f"bound {_value(p.bound)}, gap {gap}")


class SolveWatch:
    """A callable for :func:`solver.solve`'s ``progress``: prints where the solve stands."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None, every: float = 5.0,
                 label: str = "solve") -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every
        self.label = label
        self._width = 0
        self._printed = -float("inf")
        self._incumbent: float | None = None

    def __call__(self, p: SolveProgress) -> None:
        """Show one event of the solve."""
        line = f"{self.label}: {describe(p)}"
        if self.tty:
            pad = max(self._width - len(line), 0)
            self._width = len(line)
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()
            return
        now = time.monotonic()
        better = p.incumbent is not None and p.incumbent != self._incumbent
        if better or now - self._printed >= self.every:
            self._incumbent = p.incumbent
            self._printed = now
            print(line + (" (new incumbent)" if better else ""), file=self.stream, flush=True)

    def done(self) -> None:
        """Wipe the in-place line, so that what follows starts on a clean line."""
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


class Steps:
    """The solves of a command, counted; :meth:`step` after each one."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.total: int | None = None
        self.done = 0
        self.label = ""
        self._started = time.perf_counter()
        self._width = 0

    def start(self, label: str, total: int | None, unit: str = "solve") -> None:
        """``total`` solves (or other ``unit``) to come (None: not known), called ``label``."""
        self.label, self.total, self.done = label, total, 0
        self._started = time.perf_counter()
        if not self.tty:
            count = (f"{total} {unit}" + "s" * (total != 1)) if total is not None \
                else f"{unit}s"
            print(f"{label}: {count}", file=self.stream, flush=True)

    def step(self, text: str) -> None:
        """One more solve finished; ``text`` says which and how it went."""
        self.done += 1
        elapsed = time.perf_counter() - self._started
        total = self.total
        left = ""
        if total is not None and total >= self.done:
            left = f", {_clock(elapsed / self.done * (total - self.done))} left"
        count = f"{self.done}/{total}" if total is not None else f"{self.done}"
        line = f"[{count}] {text}; {_clock(elapsed)} elapsed{left}"
        if not self.tty:
            print(line, file=self.stream, flush=True)
            return
        columns = shutil.get_terminal_size((100, 20)).columns
        line = f"{self.label} {line}"[: max(columns - 1, 20)]
        pad = max(self._width - len(line), 0)
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def finish(self) -> None:
        """End the in-place line."""
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
