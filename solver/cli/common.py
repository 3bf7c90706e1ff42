"""What every command shares: the exit codes, error handling, options and loading a case."""

from __future__ import annotations

import errno
import functools
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
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


def set_flags(verbose: int = 0, quiet: bool = False, debug: bool = False) -> None:
    """Take ``-v``/``-q``/``--debug`` wherever they were given and set the log level.

    Given before the command (``coalition -q solve``) or after it (``coalition solve -q``),
    they mean the same: each place adds to what the other set.
    """
    State.verbose += verbose
    State.quiet = State.quiet or quiet
    State.debug = State.debug or debug
    level = logging.DEBUG if State.verbose > 1 else logging.INFO if State.verbose \
        else logging.WARNING
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    # -vv is this tool's debug log, not Pyomo's, which prints every component it builds.
    logging.getLogger("pyomo").setLevel(max(level, logging.INFO))


#: Help of the flags every command takes, before or after its name.
FLAG_HELP = {
    "verbose": "-v: HiGHS's log (instead of the progress line) and info messages; -vv: "
               "debug messages.",
    "quiet": "Print only errors.",
    "debug": "Show the full traceback of an error.",
}


def flag_options(func: F) -> F:
    """``-v``, ``-q`` and ``--debug`` as options of the group (before the command)."""
    func = click.option("--debug", is_flag=True, help=FLAG_HELP["debug"])(func)
    func = click.option("-q", "--quiet", is_flag=True, help=FLAG_HELP["quiet"])(func)
    return click.option("-v", "--verbose", count=True, help=FLAG_HELP["verbose"])(func)


def _flag_set(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value and param.name is not None:
        set_flags(**{param.name: value})


def take_flags(command: click.Command) -> click.Command:
    """``command`` taking ``-v``, ``-q`` and ``--debug`` after its name too (``solve ... -q``)."""
    names = {p.name for p in command.params}
    for decls, kind in ((("-v", "--verbose"), "count"), (("-q", "--quiet"), "flag"),
                        (("--debug",), "flag")):
        option = click.Option(decls, count=kind == "count", is_flag=kind == "flag",
                              expose_value=False, callback=_flag_set,
                              help=FLAG_HELP[decls[-1][2:]])
        if option.name not in names:
            command.params.append(option)
    return command


class Coalition(click.Group):
    """The ``coalition`` group: every refusal is one ``error: ...`` line, exit 2.

    click's own refusals (an unknown option, a bad value, a missing argument) would print
    a usage block and ``Error: ...``; here they print as the library's errors do, with
    where to read the options.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        """Run the command line; click's errors in this tool's one style."""
        State.verbose, State.quiet, State.debug = 0, False, False
        extra["windows_expand_args"] = windows_expand_args
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        try:
            code = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
                click.echo(ctx.get_help())  # a bare `coalition`: its help, not a refusal
                sys.exit(EXIT_OK)
            click.echo(f"error: {exc.format_message()}", err=True)
            if isinstance(exc, click.UsageError) and ctx is not None:
                click.echo(f"see '{ctx.command_path} --help'", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("interrupted", err=True)
            sys.exit(128 + 2)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


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


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a malformed ``--scheduler`` before the case is loaded or Dask imported (exit 2).

    The one validator is :func:`solver.studies.engine.scheduler.scheduler_address`; the library
    calls it too, for callers that do not come through the command line.
    """
    if scheduler is not None:
        from solver.studies.engine.scheduler import scheduler_address

        scheduler_address(scheduler)


def case_argument(func: F) -> F:
    """The PATH argument: a case folder, a workbook or a model file.

    Whether it exists is :func:`solver.load_case`'s to say: it tells a link loop or a FIFO
    from a missing path, which click's own check cannot.
    """
    return click.argument("path", type=click.Path(path_type=Path))(func)


def workers_option(what: str) -> Callable[[F], F]:
    """``--workers N``, the same in every study: default 1, in this process."""
    return click.option(
        "--workers", type=click.IntRange(min=1), default=1, show_default=True,
        help=f"Local processes {what}, each with its own persistent model (1: in this "
             "process).")


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
    from solver.case.override_sources import command_line_places

    case = load_case(path)
    if overrides:
        case = case.with_overrides(list(overrides), source="--set",
                                   where=command_line_places(len(overrides)))
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


def number(x: Any, fmt: str | None = None) -> str:
    """A number for a table on the screen (six significant digits, ``52,260.3``); "-" if missing.

    ``fmt`` is a format spec instead (``".1e"`` for a gap).
    """
    from solver.report.numbers import readable

    if fmt is None:
        return readable(x, 6)
    try:
        if x is None or math.isnan(float(x)):
            return "-"
        return format(float(x), fmt)
    except (TypeError, ValueError):
        return str(x)
