"""Ctrl-C (SIGINT) and SIGTERM, handled in one place.

Three kinds of process see them, and each wants something different:

* the command (:func:`stop_signals`): either signal unwinds like an exception, so what is
  being written is cleaned up and every finished row kept; SIGTERM raises
  :class:`~solver.errors.Terminated` (exit 143), SIGINT ``KeyboardInterrupt`` (exit 130);
* a running HiGHS solve (:func:`noting_stops`): nothing may be raised inside HiGHS's
  callbacks, so the signal is noted and HiGHS asked to stop; the caller raises afterwards;
* a worker process (:func:`worker_signals`): Ctrl-C is its parent's to handle, and SIGTERM
  (how the parent stops it) ends it at once, through multiprocessing's exit handlers.

Handlers are set only in the main thread (Python allows nothing else) and the previous ones
are restored on the way out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

#: The signals that stop a command.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _handled(handler: Callable[[int, Any], None]) -> Iterator[dict[int, Any]]:
    """Within, SIGINT and SIGTERM call ``handler``; yields the handlers they had before."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s in previous:
        signal.signal(s, handler)
    try:
        yield previous
    finally:
        for s, old in previous.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)


def raise_for(signum: int) -> NoReturn:
    """Raise the exception a stop signal stands for: Terminated for SIGTERM, else Ctrl-C's."""
    from solver.errors import Terminated

    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise_for(signum)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within, SIGINT raises KeyboardInterrupt and SIGTERM :class:`~solver.errors.Terminated`.

    Set explicitly, whatever the process inherited: a process started in the background by a
    shell without job control inherits SIGINT ignored, and Python then leaves it ignored, so
    Ctrl-C (or ``kill -INT``) would let a solve run on and exit 0. SIGTERM's default action
    kills the process at once, leaving a half-written temporary folder behind; as an
    exception it unwinds like Ctrl-C. Outside the main thread nothing is changed.
    """
    with _handled(_raise_interrupt):
        yield


@contextlib.contextmanager
def noting_stops(cancel: Callable[[], Any]) -> Iterator[list[int]]:
    """Note a Ctrl-C (SIGINT) or SIGTERM that arrives within, and call ``cancel``.

    The signal's number goes into the list; nothing is raised where the signal lands (inside
    HiGHS's callbacks), so the solver returns normally and its caller raises the exception
    the signal stands for (:func:`raise_for`). A signal that the process ignores stays
    ignored.
    """
    seen: list[int] = []
    previous: dict[int, Any] = {}

    def note(signum: int, frame: Any) -> None:
        if previous.get(signal.Signals(signum)) == signal.SIG_IGN:
            return
        seen.append(signum)
        cancel()

    with _handled(note) as before:
        previous.update(before)
        yield seen


def worker_signals() -> None:
    """Set a worker process's handlers: Ctrl-C is the parent's; SIGTERM ends it at once.

    The parent stops workers with SIGTERM; exiting through Python (not dying on the signal)
    lets the worker release what it holds (Pyomo creates a multiprocessing lock at import).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)


def _exit_on_term(signum: int, frame: Any) -> None:
    # Run multiprocessing's exit handlers (they unlink the semaphores), then leave at once:
    # a SystemExit would be caught by the pool's worker loop, and HiGHS may be mid-solve.
    from multiprocessing import util

    util._exit_function()  # type: ignore[attr-defined]
    os._exit(0)
