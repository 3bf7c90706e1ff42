"""The planner's desk: workbooks out, ``report``, ``compare`` and ``export``.

The commands are thin: each calls one library function of :mod:`solver.report` or
:mod:`solver.studies` and prints what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from solver.cli.common import case_argument, echo, handle_errors, load, set_option

if TYPE_CHECKING:
    from solver.case.loader import Case

F = TypeVar("F", bound=Callable[..., Any])


def format_option(func: F) -> F:
    """``--format csv|xlsx``: xlsx also writes the tables as one workbook beside the CSV."""
    return click.option(
        "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
        show_default=True,
        help="xlsx: also write the tables as one workbook (a sheet per table) beside the "
             "CSV files.")(func)


def solver_name_option(func: F) -> F:
    """``--solver NAME``: another MILP solver that Pyomo drives (default: the case's, highs)."""
    return click.option(
        "--solver", "solver_name", default=None, metavar="NAME",
        help="MILP solver: highs (default, or the model file's [solver] name), or any that "
             "Pyomo drives and is installed: scip (pyscipopt), gurobi, cplex, cbc, glpk, "
             "...")(func)


def with_solver(case: Case, name: str | None) -> Case:
    """The case with ``--solver`` applied; UsageError (exit 2) if that solver cannot run."""
    from dataclasses import replace

    if name is not None:
        case = replace(case, solver=case.solver.model_copy(update={"name": name}))
    if case.solver.name.strip().lower() != "highs":
        from solver.highs.pyomo_runner import resolve

        resolve(case.solver.name)
    return case


def study_workbook(folder: Path, name: str, files: list[str]) -> Path:
    """Write the CSV tables ``files`` of a study's ``folder`` as ``NAME.xlsx``; its path."""
    from solver.report.readback import read_csv
    from solver.report.xlsx import write_workbook

    tables = {}
    for file in files:
        path = folder / file
        if path.is_file() and path.stat().st_size:
            tables[path.stem] = read_csv(path)
    return write_workbook(folder / f"{name}.xlsx", tables)


@click.command()
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the comparison as one tidy CSV table here (default: print "
                   "only).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@handle_errors
def compare(run_a: str, run_b: str, out: Path | None, force: bool) -> None:
    """What changed from RUN_A to RUN_B: costs, hosts, shares, layer metrics, participation.

    A run is a run folder, or one point of a sweep folder as SWEEP_FOLDER:N. Prints the
    cost terms, the hosts gained and lost (and shares that moved), suppliers, max share,
    HHI and N-1 coverage per layer (* marks a change) and participation per partner; with
    --out, writes all of it as one table (section, item, metric, a, b, change).

    \b
    Example:
      coalition compare out/baseline out/tight
      coalition compare out/sweep:0 out/sweep:3 --out out/sweep-0-3.csv
    """
    from solver.report.compare import compare_runs
    from solver.report.writing import check_target, write_file

    if out is not None:
        check_target(out, force=force)
    comparison = compare_runs(run_a, run_b)
    echo(str(comparison))
    if out is not None:
        from solver.report.cells import safe_frame

        out.parent.mkdir(parents=True, exist_ok=True)
        table = safe_frame(comparison.table())
        write_file(out, lambda tmp: table.to_csv(tmp, index=False))
        echo(f"written: {out}")


@click.command()
@case_argument
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["lp", "mps"]), default=None,
              help="File format (default: from OUT's suffix, .lp or .mps).")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@set_option
@handle_errors
def export(path: Path, out: Path, fmt: str | None, force: bool,
           overrides: tuple[str, ...]) -> None:
    """Write the model as an LP or MPS file that other solvers read.

    Rows and columns carry readable names: demand[US,semiconductors], y[TW,semiconductors]
    (in an LP file, whose names have no brackets: demand(US,semiconductors)). The file is
    the model solve hands to HiGHS, overrides applied.

    \b
    Example:
      coalition export models/allied-ai-stack.toml --format mps out/allied.mps
    """
    from solver.highs.export import export_model

    written = export_model(load(path, overrides), out, fmt, force=force)
    echo(f"written: {written.path} ({written.format.upper()}, {written.rows} rows, "
         f"{written.columns} columns, {written.integers} integer)")
    if written.names is not None:
        echo(f"written: {written.names} (names longer than an LP file holds, shortened: "
             "the full name of each)")


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the page (default: FOLDER/report.html).")
@click.option("--force", is_flag=True, help="Replace --out if it is an existing file.")
@handle_errors
def report(folder: Path, out: Path | None, force: bool) -> None:
    """Write one self-contained HTML page of a run or a study's folder, to send to anyone.

    A run: status and verification, the cost split, the layer table, a partner-by-layer
    map of who hosts what, the main flows between partners, participation per partner,
    and the scenarios when the run has them. A study's folder (sweep, stress, frontier,
    share, alternatives): its verdict in words, its chart and its table. Charts are
    inline SVG: the page opens in any browser without a network.

    \b
    Example:
      coalition report out/baseline
      coalition report out/share
    """
    from solver.report.html import write_report

    echo(f"written: {write_report(folder, out, force=force)}")
