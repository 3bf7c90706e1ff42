"""What every command shares: the exit codes, error handling, options and loading a case."""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from solver.case.loader import Case

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_UNVERIFIED = range(6)
EXIT_BROKEN_PIPE = 128 + 13  # killed by SIGPIPE, as a shell would say


#: Faults of the place written to, not of the tool: a full disk or quota, a read-only
#: file system, a file too large for it, no permission.
PLACE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES,
                          errno.EPERM})


class State:
    """Options of the ``coalition`` group that every command sees."""

    debug = False
    verbose = 0
    quiet = False


def echo(text: str = "", err: bool = False) -> None:
    """Print, unless ``--quiet`` (errors always)."""
    if err or not State.quiet:
        click.echo(text, err=err)


def handle_errors(func: F) -> F:
    """Turn library errors into one message and its documented exit code (README, Commands)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from solver.errors import CoalitionError

        try:
            return func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except CoalitionError as exc:
            if State.debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            click.echo(f"{interruption(exc)}: nothing was written", err=True)
            sys.exit(interrupt_exit_code(exc))
        except BrokenPipeError:
            # The reader went away (``coalition solve ... | head``). Files are written
            # before anything is printed, so stop quietly, as a shell reports SIGPIPE.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except OSError as exc:
            # A path of the user's the system refuses (read-only, full, under /proc): the
            # user's to fix, named, not an internal error. Without a path it is ours.
            if State.debug:
                raise
            if isinstance(exc.filename, str | bytes):
                click.echo(f"error: {os.fsdecode(exc.filename)}: "
                           f"{exc.strerror or type(exc).__name__}", err=True)
            elif exc.errno in PLACE_ERRORS:
                # A write to an open file has no file name: the disk (or quota) is full.
                click.echo(f"error: cannot write the output: {exc.strerror or exc}", err=True)
            else:
                internal_error(exc)
            sys.exit(EXIT_INPUT)
        except Exception as exc:
            if State.debug:
                raise
            internal_error(exc)

    return wrapper  # type: ignore[return-value]


def internal_error(exc: BaseException) -> NoReturn:
    """Say that ``exc`` is the tool's fault, in one line, and exit 1."""
    click.echo(f"internal error: {type(exc).__name__}: {exc} "
               "(run with --debug for the traceback)", err=True)
    sys.exit(EXIT_INTERNAL)


def interruption(exc: KeyboardInterrupt) -> str:
    """What stopped the command, for its last message: Ctrl-C or SIGTERM."""
    from solver.errors import Terminated

    return "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"


def interrupt_exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C (SIGINT), 143 for SIGTERM, as a shell reports a process they stopped."""
    from solver.errors import Terminated

    return Terminated.exit_code if isinstance(exc, Terminated) else 128 + 2


def _raise_interrupt(signum: int, frame: Any) -> None:
    from solver.errors import Terminated

    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within, SIGINT raises KeyboardInterrupt and SIGTERM :class:`~solver.errors.Terminated`.

    Set explicitly, whatever the process inherited: a process started in the background by a
    shell without job control inherits SIGINT ignored, and Python then leaves it ignored, so
    Ctrl-C (or ``kill -INT``) would let a solve run on and exit 0. SIGTERM's default action
    kills the process at once, leaving a half-written temporary folder behind; as an
    exception it unwinds like Ctrl-C. Outside the main thread nothing is changed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, _raise_interrupt)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a malformed ``--scheduler`` before the case is loaded or Dask imported (exit 2).

    The one validator is :func:`solver.studies.scheduler.scheduler_address`; the library
    calls it too, for callers that do not come through the command line.
    """
    if scheduler is not None:
        from solver.studies.scheduler import scheduler_address

        scheduler_address(scheduler)


def case_argument(func: F) -> F:
    """The PATH argument: a case folder, a workbook or a model file.

    Whether it exists is :func:`solver.load_case`'s to say: it tells a link loop or a FIFO
    from a missing path, which click's own check cannot.
    """
    return click.argument("path", type=click.Path(path_type=Path))(func)


def set_option(func: F) -> F:
    """``--set KEY=VALUE`` overrides, repeatable."""
    return click.option(
        "--set", "overrides", multiple=True, metavar="KEY=VALUE",
        help="Override a case value: TABLE.COLUMN, TABLE[KEY].COLUMN (two parts for "
             "capabilities, demand, trade; * is a wildcard), objective.NAME or solver.NAME. "
             "KEY*=FACTOR multiplies. Repeatable.")(func)


class FiniteFloat(click.FloatRange):
    """A ``click.FloatRange`` that refuses ``nan`` and ``inf`` (exit 2, not "no limit")."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        """Convert as ``FloatRange`` does, then refuse what is not finite."""
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def solver_options(func: F) -> F:
    """``--time-limit``, ``--mip-gap`` and ``--threads``."""
    func = click.option("--threads", type=click.IntRange(min=1), default=None,
                        help="HiGHS threads (default: the model file's, else 1).")(func)
    func = click.option("--mip-gap", type=FiniteFloat(min=0), default=None,
                        help="Relative MIP gap at which HiGHS stops (default: the model "
                             "file's [solver] mip_gap, else 1e-4).")(func)
    return click.option("--time-limit", type=FiniteFloat(min=0, min_open=True),
                        default=None, metavar="SECONDS",
                        help="Stop HiGHS after this many seconds and keep the best plan "
                             "found (default: the model file's [solver] time_limit, else "
                             "no limit).")(func)


def load(path: Path, overrides: tuple[str, ...] = ()) -> Case:
    """Load a case folder or model file and apply ``--set`` overrides."""
    from solver.case.loader import load_case

    case = load_case(path)
    if overrides:
        case = case.with_overrides(list(overrides), source="--set")
    return case


def default_out(path: Path, what: str) -> Path:
    """The default output folder of a study: out/NAME-WHAT-YYYYmmdd-HHMMSS."""
    return Path("out") / f"{path.stem}-{what}-{datetime.now():%Y%m%d-%H%M%S}"


def with_solver_options(case: Case, time_limit: float | None, mip_gap: float | None,
                         threads: int | None) -> Case:
    """The case with the solver options given on the command line."""
    opts = {f"solver.{k}": v for k, v in (("time_limit", time_limit), ("mip_gap", mip_gap),
                                          ("threads", threads)) if v is not None}
    return case.with_overrides(opts, source="command line") if opts else case


def number(x: Any, fmt: str = ",.6g") -> str:
    """A number for a table on the screen; "-" for a missing one."""
    try:
        if x is None or math.isnan(float(x)):
            return "-"
        return format(float(x), fmt)
    except (TypeError, ValueError):
        return str(x)
