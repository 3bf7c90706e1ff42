"""Progress of a sweep as its points finish: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from solver.studies.sweep.point_solver import PointOutcome


class Progress:
    """Told about a sweep's points as they finish; this one says nothing."""

    def start(self, total: int, done: int) -> None:
        """``total`` points, ``done`` of them from an earlier run."""

    def point(self, outcome: PointOutcome) -> None:
        """One more point finished."""

    def finish(self, interrupted: bool = False) -> None:
        """The sweep ended (or was interrupted)."""


@dataclass
class _Counts:
    total: int = 0
    done: int = 0
    failed: int = 0
    new: int = 0
    started: float = field(default_factory=time.perf_counter)

    def times(self) -> tuple[str, str]:
        elapsed = time.perf_counter() - self.started
        left = "?"
        if self.new:
            left = _clock(elapsed / self.new * (self.total - self.done))
        return _clock(elapsed), left


def _plural(unit: str) -> str:
    return unit + ("es" if unit.endswith(("s", "x", "ch", "sh")) else "s")


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60:02d}:{s % 60:02d}"


class LineProgress(Progress):
    """One plain line per finished point (for logs and pipes).

    ``study`` names the work in the header ("sweep: 12 points") and ``unit`` what each
    item is ("point", "group", "draw").
    """

    def __init__(self, stream: TextIO, study: str = "sweep", unit: str = "point") -> None:
        self.stream = stream
        self.study = study
        self.unit = unit
        self.counts = _Counts()

    def start(self, total: int, done: int) -> None:
        """Say how many points there are."""
        self.counts = _Counts(total=total, done=done)
        skipped = f" ({done} done earlier)" if done else ""
        print(f"{self.study}: {total} {_plural(self.unit)}{skipped}", file=self.stream,
              flush=True)

    def point(self, outcome: PointOutcome) -> None:
        """Print the point's status and objective."""
        c = self.counts
        c.done += 1
        c.new += 1
        c.failed += outcome.failed
        row = outcome.row
        what = row["status"] if row.get("objective") is None else \
            f"{row['status']}, objective {row['objective']:.6g}"
        elapsed, left = c.times()
        print(f"[{c.done}/{c.total}] {self.unit} {outcome.point.index} "
              f"({outcome.point.label}): "
              f"{what}; {c.failed} failed, {elapsed} elapsed, {left} left",
              file=self.stream, flush=True)


class BarProgress(Progress):
    """A progress bar redrawn in place: points done, failed, elapsed and time left.

    A background thread redraws it every second, so the clock moves during a long solve.
    """

    def __init__(self, stream: TextIO, tick: float = 1.0, unit: str = "point") -> None:
        self.stream = stream
        self.unit = unit
        self.counts = _Counts()
        self.tick = tick
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self, total: int, done: int) -> None:
        """Draw the empty bar and start the clock."""
        self.counts = _Counts(total=total, done=done)
        self._draw()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="sweep-progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            self._draw()

    def point(self, outcome: PointOutcome) -> None:
        """Advance the bar."""
        with self._lock:
            c = self.counts
            c.done += 1
            c.new += 1
            c.failed += outcome.failed
        self._draw()

    def finish(self, interrupted: bool = False) -> None:
        """Stop the clock and end the bar's line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self._draw()
        with self._lock:
            print(file=self.stream, flush=True)

    def _draw(self) -> None:
        with self._lock:
            c = self.counts
            columns = shutil.get_terminal_size((80, 20)).columns
            elapsed, left = c.times()
            text = f" {c.done}/{c.total} {_plural(self.unit)}, {c.failed} failed, " \
                   f"{elapsed} elapsed, {left} left"
            width = max(10, min(30, columns - len(text) - 3))
            filled = int(width * c.done / c.total) if c.total else width
            line = f"[{'#' * filled}{'.' * (width - filled)}]{text}"
            pad = max(self._width - len(line), 0)
            self._width = len(line)
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()


def progress_for(stream: TextIO | None = None, study: str = "sweep",
                 unit: str = "point") -> Progress:
    """A bar on a terminal, plain lines otherwise; ``study`` and ``unit`` name the work."""
    stream = stream or sys.stderr
    return BarProgress(stream, unit=unit) if stream.isatty() else \
        LineProgress(stream, study=study, unit=unit)
