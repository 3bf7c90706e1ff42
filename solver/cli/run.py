"""One case at a time: ``solve``, ``validate``, ``explain`` and ``check``."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from solver.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_UNVERIFIED,
    FiniteFloat,
    State,
    case_argument,
    echo,
    handle_errors,
    load,
    set_option,
    solver_options,
)
from solver.cli.desk import format_option, solver_name_option, with_solver

if TYPE_CHECKING:
    from solver.case.loader import Case
    from solver.results import Result


@click.command()
@case_argument
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run folder to write (default: out/NAME-YYYYmmdd-HHMMSS, NAME from PATH).")
@click.option("--force", is_flag=True, help="Replace the run folder if it exists.")
@set_option
@solver_options
@format_option
@solver_name_option
@click.option("--report", "html_report", is_flag=True,
              help="Also write report.html, one self-contained page of the run.")
@click.option("--design", type=click.Choice(["expected", "cvar", "none"]), default=None,
              help="Design against scenarios.csv: two-stage on the expected recourse cost, "
                   "or its blend with the CVaR; none only reports each scenario (default: "
                   "[scenarios] design of the model file, else none).")
@click.option("--strengthen", type=click.Choice(["auto", "on", "off"]), default="auto",
              show_default=True,
              help="Before HiGHS: a Lagrangian bound (demand rows relaxed, one small problem "
                   "per host), hosting decisions fixed that no optimal plan takes, strong "
                   "rows where the LP needs them, a plan as start; summary.json reports the "
                   "bound of the whole problem. auto does it only where it pays: no chain, "
                   "shortage or two-stage design, no rows coupling hosts (resilience, "
                   "surplus, domestic, participation, budget) and at least 50 hosts with a "
                   "fixed cost; on wherever the model allows; off never.")
@handle_errors
def solve(path: Path, out: Path | None, force: bool, overrides: tuple[str, ...],
          time_limit: float | None, mip_gap: float | None, threads: int | None,
          fmt: str, solver_name: str | None, html_report: bool, design: str | None,
          strengthen: str) -> None:
    """Solve a case and write its run folder (allocation, flows, layers, partners, summary).

    \b
    Example:
      coalition solve models/allied-ai-stack.toml --out out/baseline
      coalition solve data/allied-ai-stack --set layers.max_share=0.4 --time-limit 60
    """
    from solver.report.run_folder import check_out
    from solver.solve import solve as solve_case

    case = with_solver(load(path, overrides), solver_name)
    if design is not None:
        case = replace(case, scenario_options=case.scenario_options.model_copy(
            update={"design": design}))
    if out is None:
        out = Path("out") / f"{path.stem}-{datetime.now():%Y%m%d-%H%M%S}"
    check_out(out, force=force)
    from solver.errors import VerificationError
    from solver.studies.engine.steps import SolveWatch

    # HiGHS's own log (-v) and the progress line would interleave: one or the other.
    watch = None if State.quiet or State.verbose else SolveWatch(sys.stderr)
    try:
        result = solve_case(case, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                            tee=State.verbose > 0, progress=watch, strengthen=strengthen)
    except VerificationError as exc:
        if exc.result is None:
            raise
        result = exc.result  # written all the same, marked verified: false, then exit 5
    finally:
        if watch is not None:
            watch.done()
    written = result.write(out, force=force, xlsx=fmt == "xlsx")
    if html_report:
        from solver.report.html import write_report

        write_report(written)
    echo(format_summary(case, result))
    echo(f"written: {written}")
    if not result.verified:
        click.echo("error: the independent checker rejected the plan:", err=True)
        for v in result.violations[:20]:
            click.echo(f"  {v}", err=True)
        sys.exit(EXIT_UNVERIFIED)


def format_summary(case: Case, result: Result) -> str:
    """The short human summary ``coalition solve`` prints."""
    from solver.report.numbers import readable

    lines = [f"case {case.name}: {result.status}"]
    if result.objective is not None:
        gap = f", gap {result.gap:.2e}" if result.gap is not None else ""
        lines.append(f"total cost {readable(result.objective)}{gap}")
        parts = ", ".join(f"{k} {readable(v)}" for k, v in result.costs.items() if v)
        lines.append(f"  {parts}" if parts else "  (no cost)")
    lines.append("")
    header = f"{'layer':<24}{'demand':>12}{'suppliers':>10}{'max share':>10}{'HHI':>7}" \
             f"{'N-1':>7}"
    lines.append(header)
    for row in result.layers.to_dict("records"):
        n1 = "-" if math.isnan(row["n1_coverage"]) else f"{row['n1_coverage']:.2f}"
        name = f"{row['period']} {row['layer']}" if "period" in row else row["layer"]
        lines.append(f"{name!s:<24}{readable(row['demand']):>12}{row['suppliers']:>10}"
                     f"{row['max_share']:>10.2f}{row['hhi']:>7.2f}{n1:>7}")
    from solver.report.buildout import buildout_lines

    buildout = buildout_lines(result)
    if buildout:
        lines += ["", *buildout]
    from solver.case.periods import unused_columns

    for column in unused_columns(case):
        lines.append(f"note: capabilities.csv's {column} has no effect without periods.csv")
    if result.scenarios is not None:
        lines.append("")
        what = "designed against" if "recourse" in result.costs else "re-routed"
        lines.append(f"scenarios ({what}){'probability':>14}{'unmet':>10}{'share':>7}  worst "
                     "layer")
        for row in result.scenarios.to_dict("records"):
            lines.append(f"  {row['scenario']!s:<26}{row['probability']:>10.3g}"
                         f"{readable(row['unmet']):>10}{row['unmet_share']:>7.1%}  "
                         f"{row['worst_layer'] or '-'}")
    if result.markets is not None:
        lines.append("")
        lines.append(f"{'market':<32}{'demand':>8}{'supplied':>10}{'share':>7}{'revenue':>9}  "
                     "largest supplier")
        for row in result.markets.to_dict("records"):
            name = f"{row['market']} {row['layer']}"
            name = f"{row['period']} {name}" if "period" in row else name
            lines.append(f"{name!s:<32}{readable(row['demand']):>8}{readable(row['supplied']):>10}"
                         f"{row['share']:>7.1%}{readable(row['revenue']):>9}  "
                         f"{row['largest_supplier'] or '-'}")
    lines.append(f"verified: {'yes' if result.verified else 'NO'}")
    return "\n".join(lines)


@click.command()
@case_argument
@set_option
@handle_errors
def validate(path: Path, overrides: tuple[str, ...]) -> None:
    """Check a case's inputs without solving; list every problem found.

    Reads every file against its columns (types, ranges, ids, duplicates), then the tables
    against each other, then looks for requirements that provably cannot hold (a layer's
    demand above its trusted partners' capacity, fewer eligible partners than
    min_suppliers, ...). Runs no solver.

    Exit codes: 0 the inputs are valid and no obvious infeasibility was found; 2 bad
    input, every problem listed with file, line, column and value; 3 the inputs are valid
    but the case cannot be feasible (with the numbers).
    """
    from solver.diagnose.presolve import find_infeasibilities
    from solver.errors import CaseError

    try:
        case = load(path, overrides)
    except CaseError as exc:
        n = len(exc.problems)
        click.echo(f"error: {path}: {n} problem{'s' if n != 1 else ''}:", err=True)
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
    echo(f"{case.name}: valid ({len(case.partners)} partners, {len(case.layers)} layers, "
          f"{len(case.capabilities)} capabilities, {len(case.demand)} demand rows, "
          f"{len(case.trade)} trade rows)")


@click.command()
@case_argument
@set_option
@click.option("--time-limit", type=FiniteFloat(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Limit on each of the explanation's solves "
              "(default: the model file's, else 120 s).")
@handle_errors
def explain(path: Path, overrides: tuple[str, ...], time_limit: float | None) -> None:
    """Explain why a case is infeasible: the fewest requirements that must give way.

    Solves an elastic version of the model in which every requirement may be violated at
    a price, finds the smallest set of rows that must give way, and reports each in the
    case's terms with the shortfall (e.g. "layer chips: min_suppliers 4 cannot hold; at
    most 3 partners with trust >= 0.8 can supply it (short by 1)").

    Exit codes: 0 the case is feasible, 2 bad input, 3 infeasible (report printed).
    """
    from solver.diagnose.explain import explain as explain_case

    case = load(path, overrides)
    if time_limit is not None:
        case = replace(case, solver=case.solver.model_copy(update={"time_limit": time_limit}))
    from solver.case.periods import uses_pathway

    if uses_pathway(case):
        from solver.solve_pathway import explain_pathway

        text = explain_pathway(case)
        if text is None:
            echo(f"case {case.name!r} is feasible: every period's requirements can hold")
            return
        click.echo(text)
        sys.exit(EXIT_INFEASIBLE)
    report = explain_case(case)
    if report.feasible:
        echo(str(report))
        return
    click.echo(f"case {case.name!r} is infeasible:\n{report}")
    sys.exit(EXIT_INFEASIBLE)


@click.command()
@case_argument
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@set_option
@handle_errors
def check(path: Path, run_dir: Path, overrides: tuple[str, ...]) -> None:
    """Re-verify a written run folder against its case, independently of the model code.

    Exit 5 and name each violated constraint, entity and amount if the plan is wrong.
    """
    from solver.check.run import check_run, provenance_note

    case = load(path, overrides)
    violations = check_run(case, run_dir)
    note = provenance_note(case, run_dir)
    if note:
        click.echo(note, err=True)
    if violations:
        click.echo(f"error: {run_dir}: {len(violations)} violation(s):", err=True)
        for v in violations:
            click.echo(f"  {v}", err=True)
        sys.exit(EXIT_UNVERIFIED)
    echo(f"{run_dir}: verified against {case.name}")
