"""The ``coalition`` command line: thin click commands over the library.

Every command parses its arguments, calls one library function, prints, and exits with the
code of SPEC section 6. Errors are one clear message; ``--debug`` shows the traceback.
Heavy imports (Pyomo, pandas) happen inside the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from solver.case import Case
    from solver.results import Result

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_UNVERIFIED = range(6)


class State:
    """Options of the ``coalition`` group that every command sees."""

    debug = False
    verbose = 0
    quiet = False


def _echo(text: str = "", err: bool = False) -> None:
    if err or not State.quiet:
        click.echo(text, err=err)


def handle_errors(func: F) -> F:
    """Turn library errors into one message and the SPEC's exit code."""

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
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written", err=True)
            sys.exit(130)
        except Exception as exc:
            if State.debug:
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} "
                       "(run with --debug for the traceback)", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def case_argument(func: F) -> F:
    """The PATH argument: a case folder or a model file."""
    return click.argument("path", type=click.Path(exists=True, path_type=Path))(func)


def set_option(func: F) -> F:
    """``--set KEY=VALUE`` overrides, repeatable."""
    return click.option(
        "--set", "overrides", multiple=True, metavar="KEY=VALUE",
        help="Override a case value: TABLE.COLUMN, TABLE[KEY].COLUMN (two parts for "
             "capabilities, demand, trade; * is a wildcard), objective.NAME or solver.NAME. "
             "KEY*=FACTOR multiplies. Repeatable.")(func)


def solver_options(func: F) -> F:
    """``--time-limit``, ``--mip-gap`` and ``--threads``."""
    func = click.option("--threads", type=click.IntRange(min=1), default=None,
                        help="HiGHS threads (default: the model file's, else 1).")(func)
    func = click.option("--mip-gap", type=click.FloatRange(min=0), default=None,
                        help="Relative MIP gap at which HiGHS stops (default 1e-4).")(func)
    return click.option("--time-limit", type=click.FloatRange(min=0, min_open=True),
                        default=None, metavar="SECONDS",
                        help="Stop HiGHS after this many seconds and keep the best plan "
                             "found (default: no limit).")(func)


def load(path: Path, overrides: tuple[str, ...] = ()) -> Case:
    """Load a case folder or model file and apply ``--set`` overrides."""
    from solver.case import load_case

    case = load_case(path)
    if overrides:
        case = case.with_overrides(list(overrides), source="--set")
    return case


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Show progress; -v also shows HiGHS's log.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="coalition", prog_name="coalition")
def main(verbose: int, quiet: bool, debug: bool) -> None:
    """Design coalition supply chains: who co-produces each layer of the technology stack.

    A case is a folder of CSV files (partners, layers, capabilities, demand, trade) or a
    model file (models/*.toml) naming one. Exit codes: 0 solved, 1 internal error, 2 bad
    input or usage, 3 infeasible, 4 no feasible plan within the limits, 5 verification
    failed.
    """
    State.debug, State.verbose, State.quiet = debug, verbose, quiet
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


@main.command()
@case_argument
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run folder to write (default: out/CASE-YYYYmmdd-HHMMSS).")
@click.option("--force", is_flag=True, help="Replace the run folder if it exists.")
@set_option
@solver_options
@handle_errors
def solve(path: Path, out: Path | None, force: bool, overrides: tuple[str, ...],
          time_limit: float | None, mip_gap: float | None, threads: int | None) -> None:
    r"""Solve a case and write its run folder (allocation, flows, layers, partners, summary).

    \b
    Example:
      coalition solve models/allied-ai-stack.toml --out out/baseline
      coalition solve data/allied-ai-stack --set layers.max_share=0.4 --time-limit 60
    """
    from solver.solve import solve as solve_case

    case = load(path, overrides)
    if out is None:
        out = Path("out") / f"{case.name}-{datetime.now():%Y%m%d-%H%M%S}"
    if out.exists() and not force:
        raise click.UsageError(f"{out} already exists; pass --force to replace it")
    result = solve_case(case, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                        tee=State.verbose > 0)
    written = result.write(out, force=force)
    _echo(format_summary(case, result))
    _echo(f"written: {written}")
    if not result.verified:
        click.echo("error: the independent checker rejected the plan:", err=True)
        for v in result.violations[:20]:
            click.echo(f"  {v}", err=True)
        sys.exit(EXIT_UNVERIFIED)


def format_summary(case: Case, result: Result) -> str:
    """The short human summary ``coalition solve`` prints."""
    lines = [f"case {case.name}: {result.status}"]
    if result.objective is not None:
        gap = f", gap {result.gap:.2e}" if result.gap is not None else ""
        lines.append(f"total cost {result.objective:,.4g}{gap}")
        parts = ", ".join(f"{k} {v:,.4g}" for k, v in result.costs.items() if v)
        lines.append(f"  {parts}" if parts else "  (no cost)")
    lines.append("")
    header = f"{'layer':<24}{'demand':>12}{'suppliers':>10}{'max share':>10}{'HHI':>7}" \
             f"{'N-1':>7}"
    lines.append(header)
    for row in result.layers.to_dict("records"):
        n1 = "-" if math.isnan(row["n1_coverage"]) else f"{row['n1_coverage']:.2f}"
        lines.append(f"{row['layer']!s:<24}{row['demand']:>12,.4g}{row['suppliers']:>10}"
                     f"{row['max_share']:>10.2f}{row['hhi']:>7.2f}{n1:>7}")
    lines.append(f"verified: {'yes' if result.verified else 'NO'}")
    return "\n".join(lines)


@main.command()
@case_argument
@set_option
@handle_errors
def validate(path: Path, overrides: tuple[str, ...]) -> None:
    r"""Check a case's inputs without solving; list every problem found.

    Reads every file against its columns (types, ranges, ids, duplicates), then the tables
    against each other, then looks for requirements that provably cannot hold (a layer's
    demand above its trusted partners' capacity, fewer eligible partners than
    min_suppliers, ...). Runs no solver.

    \b
    Exit codes:
      0  the inputs are valid and no obvious infeasibility was found
      2  bad input: every problem is listed with file, line, column and value
      3  the inputs are valid but the case cannot be feasible (with the numbers)
    """
    from solver.errors import CaseError
    from solver.presolve import find_infeasibilities

    try:
        case = load(path, overrides)
    except CaseError as exc:
        n = len(exc.problems)
        click.echo(f"{path}: {n} problem{'s' if n != 1 else ''}:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_INPUT)
    found = find_infeasibilities(case)
    if found:
        click.echo(f"{case.name}: the inputs are valid, but the case cannot be feasible:",
                   err=True)
        for item in found:
            click.echo(f"  {item}", err=True)
        sys.exit(EXIT_INFEASIBLE)
    _echo(f"{case.name}: valid ({len(case.partners)} partners, {len(case.layers)} layers, "
          f"{len(case.capabilities)} capabilities, {len(case.demand)} demand rows, "
          f"{len(case.trade)} trade rows)")


@main.command()
@case_argument
@set_option
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Limit on each of the explanation's solves "
              "(default: the model file's, else 120 s).")
@handle_errors
def explain(path: Path, overrides: tuple[str, ...], time_limit: float | None) -> None:
    r"""Explain why a case is infeasible: the fewest requirements that must give way.

    Solves an elastic version of the model in which every requirement may be violated at
    a price, finds the smallest set of rows that must give way, and reports each in the
    case's terms with the shortfall (e.g. "layer chips: min_suppliers 4 cannot hold; at
    most 3 partners with trust >= 0.8 can supply it (short by 1)").

    \b
    Exit codes: 0 the case is feasible, 2 bad input, 3 infeasible (report printed).
    """
    from solver.explain import explain as explain_case

    case = load(path, overrides)
    if time_limit is not None:
        case = replace(case, solver=case.solver.model_copy(update={"time_limit": time_limit}))
    report = explain_case(case)
    if report.feasible:
        _echo(str(report))
        return
    click.echo(f"case {case.name!r} is infeasible:\n{report}")
    sys.exit(EXIT_INFEASIBLE)


@main.command()
@case_argument
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@set_option
@handle_errors
def check(path: Path, result_dir: Path, overrides: tuple[str, ...]) -> None:
    """Re-verify a written run folder against its case, independently of the model code.

    Exit 5 and name each violated constraint, entity and amount if the plan is wrong.
    """
    from solver.check import check_run

    case = load(path, overrides)
    violations = check_run(case, result_dir)
    if violations:
        click.echo(f"{result_dir}: {len(violations)} violation(s):", err=True)
        for v in violations:
            click.echo(f"  {v}", err=True)
        sys.exit(EXIT_UNVERIFIED)
    _echo(f"{result_dir}: verified against {case.name}")


if __name__ == "__main__":  # pragma: no cover
    main()
