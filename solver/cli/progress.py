"""Progress of one solve on the screen: a live line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from solver.highs.runner import SolveProgress

#: Off a terminal, a line when the incumbent improves, else at most one per this many
#: seconds of HiGHS's own clock (as HiGHS reports it: no timer of ours).
PLAIN_EVERY = 10.0


def describe(p: SolveProgress) -> str:
    """One line: elapsed, incumbent, bound and gap."""
    incumbent = "none yet" if p.incumbent is None else f"{p.incumbent:,.6g}"
    bound = "-" if p.bound is None else f"{p.bound:,.6g}"
    gap = "-" if p.gap is None else f"{100 * p.gap:.2f}%"
    return (f"solving: {p.seconds:6.1f} s, incumbent {incumbent}, bound {bound}, gap {gap}, "
            f"{p.nodes:,} nodes")


class SolvePrinter:
    """Shows :class:`~solver.highs.runner.SolveProgress` as HiGHS reports it, on stderr."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = False
        self.last_seconds = -PLAIN_EVERY
        self.last_incumbent: float | None = None

    def __call__(self, p: SolveProgress) -> None:
        """Show ``p``: over the previous line on a terminal, as a new line (throttled) else."""
        if self.live:
            self.stream.write("\r\x1b[K" + describe(p))
            self.stream.flush()
            self.shown = True
            return
        improved = p.incumbent is not None and p.incumbent != self.last_incumbent
        if improved or p.seconds - self.last_seconds >= PLAIN_EVERY:
            self.stream.write(describe(p) + "\n")
            self.stream.flush()
            self.last_seconds, self.last_incumbent = p.seconds, p.incumbent

    def close(self) -> None:
        """End the live line, so that what follows starts on a line of its own."""
        if self.live and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


class StepPrinter:
    """One line per finished solve of a study (a frontier's probes): live on a terminal."""

    def __init__(self, what: str, stream: IO[str] | None = None) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.count = 0

    def __call__(self, text: str) -> None:
        """Show that one more solve finished, with what it found."""
        self.count += 1
        line = f"{self.what} [{self.count}] {text}"
        self.stream.write(("\r\x1b[K" + line) if self.live else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the live line."""
        if self.live and self.count:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
