"""Many solves of one case: ``sweep``, ``stress`` and ``frontier``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from solver.cli.common import (
    FiniteFloat,
    State,
    case_argument,
    check_scheduler,
    default_out,
    echo,
    handle_errors,
    interrupt_exit_code,
    interruption,
    load,
    number,
    set_option,
    solver_options,
    with_solver_options,
    workers_option,
)
from solver.cli.desk import format_option, solver_name_option, study_workbook, with_solver
from solver.cli.shocks import shock_options


@click.command()
@case_argument
@click.option("--vary", multiple=True, metavar="KEY=SPEC",
              help="A key to vary (override keys as for --set) over SPEC: a:b:step "
                   "(inclusive), v1,v2,..., or KEY*=f1,f2,... for multipliers. Repeatable; "
                   "default: the model file's [sweep] vary.")
@click.option("--mode", type=click.Choice(["grid", "one-at-a-time"]), default=None,
              help="grid: every combination (default); one-at-a-time: the base case and "
                   "each key alone (a tornado chart).")
@workers_option("solving points")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Send points to the Dask distributed scheduler at ADDRESS "
                   "(tcp://host:8786) instead of local processes. Start its workers with "
                   "--nthreads 1; they need this package installed.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: out/NAME-sweep-YYYYmmdd-HHMMSS).")
@click.option("--resume", is_flag=True,
              help="Continue the sweep in --out: solve only the points not yet done.")
@click.option("--force", is_flag=True, help="Start again in an existing --out folder.")
@click.option("--no-plots", is_flag=True, help="Do not draw the PNG charts.")
@click.option("--yes", is_flag=True,
              help="Run a sweep of more than 1,000,000 points (refused without it; above "
                   "10,000 a warning gives the count).")
@set_option
@solver_options
@format_option
@solver_name_option
@handle_errors
def sweep(path: Path, vary: tuple[str, ...], mode: str | None, workers: int,
          scheduler: str | None, out: Path | None, resume: bool, force: bool, no_plots: bool,
          yes: bool, overrides: tuple[str, ...], time_limit: float | None,
          mip_gap: float | None, threads: int | None, fmt: str,
          solver_name: str | None) -> None:
    """Solve a case over a grid of values; write one tidy row per point.

    Points that change only numbers re-solve the same model; every finished point is
    written at once (Ctrl-C keeps them; --resume continues).

    On a pathway (periods.csv) a point's values apply to the case's data in every period,
    targets.csv's rows still on top in their periods; its cost is the discounted total,
    and the pathway is solved anew at each point.

    \b
    Writes in --out: sweep.csv (one row per point), sweep_layers.csv (per point and
    layer: suppliers, HHI, N-1 coverage), allocations.csv (every point's plan),
    sweep.json (what was swept, for --resume), plots/*.png.

    \b
    Example:
      coalition sweep models/allied-ai-stack.toml
      coalition sweep data/allied-ai-stack --vary layers.max_share=0.3:0.6:0.1 \\
          --vary "capabilities[TW,*].unit_cost*=1,2,4" --workers 4 --out out/tw
    """
    from solver.studies.engine.progress import progress_for
    from solver.studies.sweep.sweep import sweep as run_sweep

    check_scheduler(scheduler)
    case = with_solver(with_solver_options(load(path, overrides), time_limit, mip_gap,
                                           threads), solver_name)
    if resume and out is None:
        raise click.UsageError("--resume needs the --out folder of the sweep to continue")
    out = out or default_out(path, "sweep")
    progress = None if State.quiet else progress_for(sys.stderr)
    try:
        table = run_sweep(case, list(vary) or None, mode=mode, workers=workers,
                          scheduler=scheduler, out=out, resume=resume, force=force,
                          plots=not no_plots, progress=progress, yes=yes,
                          warn=lambda text: click.echo(f"warning: {text}", err=True))
    except KeyboardInterrupt as exc:
        done = _count_rows(out / "sweep.csv")
        click.echo(f"{interruption(exc)}: {done} finished point(s) kept in {out}; run the "
                   "same command with --resume to continue", err=True)
        sys.exit(interrupt_exit_code(exc))
    echo(format_sweep(table))
    files = [f for f in ("sweep.csv", "sweep_layers.csv", "allocations.csv", "sweep.json")
             if (out / f).exists()]
    if fmt == "xlsx":
        files.append(study_workbook(out, "sweep", [f for f in files if f.endswith(".csv")]).name)
    if (out / "plots").is_dir() and any((out / "plots").iterdir()):
        files.append("plots/")
    echo(f"written: {out} ({', '.join(files)})")


def _count_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def format_sweep(table: Any, limit: int = 40) -> str:
    """The table ``coalition sweep`` prints: varied values, status, cost, gap."""
    from solver.studies.sweep.point_solver import RESULT_COLUMNS

    keys = [c for c in table.columns if c not in RESULT_COLUMNS and c != "point"
            and not c.startswith("cost_")]
    failed = int(table["objective"].isna().sum())
    lines = [f"{len(table)} points, {len(table) - failed} with a plan, {failed} without"]
    widths = [max(len(k), 8) + 2 for k in keys]
    head = f"{'point':>5}" + "".join(f"{k:>{w}}" for k, w in zip(keys, widths, strict=True)) \
        + f"{'status':>12}{'total cost':>14}{'gap':>10}"
    lines.append(head)
    for row in table.head(limit).to_dict("records"):
        values = "".join(f"{number(row[k], '.6g'):>{w}}"
                         for k, w in zip(keys, widths, strict=True))
        lines.append(f"{row['point']:>5}{values}{row['status']!s:>12}"
                     f"{number(row['objective']):>14}{number(row['gap'], '.1e'):>10}")
    if len(table) > limit:
        lines.append(f"... {len(table) - limit} more rows in sweep.csv")
    return "\n".join(lines)


@click.command()
@case_argument
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for stress.csv (default: out/NAME-stress-YYYYmmdd-HHMMSS).")
@click.option("--redesign", is_flag=True,
              help="Also solve a full redesign without each lost partner (one MILP each).")
@click.option("--partner", "partners", multiple=True, metavar="ID",
              help="Lose only this partner (repeatable; default: every partner in turn).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many of the worst cases to print.")
@click.option("--force", is_flag=True, help="Replace stress.csv if --out already has one.")
@shock_options
@set_option
@solver_options
@format_option
@solver_name_option
@handle_errors
def stress(path: Path, out: Path | None, redesign: bool, partners: tuple[str, ...], top: int,
           force: bool, overrides: tuple[str, ...], time_limit: float | None,
           mip_gap: float | None, threads: int | None, fmt: str,
           solver_name: str | None, **shocks: Any) -> None:
    """Lose each partner in turn from the optimal design and re-route supply.

    The design (what is hosted, the capacity built) is kept; an LP re-routes supply over
    the remaining capacity and allowed routes to serve as much demand as it can. Writes
    stress.csv: per lost partner a total row (unmet demand, cost of re-routing, and with
    --redesign the cost of a new design without it), then one row per layer and per
    member. Prints the worst cases first.

    With --scenarios the design is re-routed in each scenario of scenarios.csv instead;
    with --sample N in N random disruptions (each partner lost with its disruption_risk),
    reporting the mean, P95 and CVaR of unmet demand and a histogram.

    \b
    Example:
      coalition stress models/allied-ai-stack.toml --redesign --out out/stress
      coalition stress models/allied-ai-stack.toml --sample 2000 --seed 1 --workers 2
    """
    from solver.report.run_folder import check_writable
    from solver.studies.shocks.stress import stress as run_stress
    from solver.studies.shocks.stress import worst_cases

    check_scheduler(shocks["scheduler"])
    case = with_solver(with_solver_options(load(path, overrides), time_limit, mip_gap,
                                           threads), solver_name)
    out = out or default_out(path, "stress")
    check_writable(out)
    from solver.studies.shocks.period import chosen_period

    if shocks["period"] is None and chosen_period(case, None) is not None:
        shocks["period"] = chosen_period(case, None)
        if not State.quiet:
            click.echo(f"stress: the pathway's last period, {shocks['period']} (--period "
                       "chooses another)", err=True)
    if shocks["named"] or shocks["sample"]:
        from solver.cli.shocks import stress_sample, stress_scenarios

        if shocks["named"]:
            stress_scenarios(case, out, shocks["run"], shocks["period"])
        if shocks["sample"]:
            stress_sample(case, shocks["sample"], shocks["seed"], out, shocks["run"],
                          shocks["workers"], shocks["scheduler"], shocks["resume"], force,
                          shocks["period"])
        return
    design = None
    if shocks["run"] is not None:
        from solver.cli.shocks import written_design

        design = written_design(case, shocks["run"], shocks["period"])
    if (out / "stress.csv").exists() and not force:
        raise click.UsageError(f"{out / 'stress.csv'} already exists; pass --force to replace it")
    from solver.studies.engine.steps import Steps

    steps = None if State.quiet else Steps(sys.stderr)
    table = run_stress(case, redesign=redesign, partners=list(partners) or None, out=out,
                       progress=steps, result=design, period=shocks["period"])
    echo(format_stress(worst_cases(table, top), redesign))
    echo(f"written: {out / 'stress.csv'}")
    if fmt == "xlsx":
        echo(f"written: {study_workbook(out, 'stress', ['stress.csv'])}")


def format_stress(worst: Any, redesign: bool) -> str:
    """The worst losses, one line each."""
    lines = ["worst losses first (unmet demand after re-routing the built capacity):"]
    head = f"{'lost':<10}{'hosted':>7}{'unmet':>12}{'unmet %':>9}  {'worst layer':<22}" \
           f"{'layer %':>8}{'re-routing':>12}"
    if redesign:
        head += f"{'redesign':>14}{'extra':>12}"
    lines.append(head)
    for row in worst.to_dict("records"):
        line = (f"{row['lost']!s:<10}{row['layers_hosted']:>7}{number(row['unmet']):>12}"
                f"{100 * row['unmet_share']:>8.1f}%  {row['worst_layer']!s:<22}"
                f"{100 * row['worst_layer_unmet_share']:>7.1f}%"
                f"{number(row['rerouting_cost']):>12}")
        if redesign:
            cost = number(row["redesign_cost"]) if row["redesign_status"] in (
                "optimal", "time_limit") else str(row["redesign_status"])
            line += f"{cost:>14}{number(row['redesign_extra_cost']):>12}"
        lines.append(line)
    return "\n".join(lines)


@click.command()
@case_argument
@click.option("--trade-off", "key", required=True, metavar="KEY",
              help="The requirement to trade against cost: layers.max_share, "
                   "layers.resilience, layers.min_supplier_share, demand.max_dependency, "
                   "demand.min_domestic, partners.min_participation or "
                   "partners.max_participation, for every row or one "
                   "(layers[semiconductors].max_share); with markets, a floor on "
                   "reach[MARKET] or reach (the share of markets' demand).")
@click.option("--points", type=click.IntRange(min=2), default=10, show_default=True,
              help="Points on the curve, from the loose end to the tightest feasible value.")
@click.option("--tol", type=click.FloatRange(min=0, min_open=True), default=1e-3,
              show_default=True, help="Precision of the bisection for the tightest value.")
@click.option("--from", "loose", type=FiniteFloat(), default=None,
              help="Loose end of the curve (default: where the requirement does not bind, "
                   "e.g. max_share 1, resilience 0).")
@click.option("--to", "limit", type=FiniteFloat(), default=None,
              help="Tightest value to try (default: the requirement's limit, e.g. "
                   "max_share 0, resilience 1).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for frontier.csv, frontier_search.csv and frontier.png "
                   "(default: out/NAME-frontier-YYYYmmdd-HHMMSS).")
@click.option("--force", is_flag=True, help="Replace frontier.csv if --out already has one.")
@set_option
@solver_options
@format_option
@solver_name_option
@handle_errors
def frontier(path: Path, key: str, points: int, tol: float, loose: float | None,
             limit: float | None, out: Path | None, force: bool, overrides: tuple[str, ...],
             time_limit: float | None, mip_gap: float | None, threads: int | None,
             fmt: str, solver_name: str | None) -> None:
    """Cost against one requirement, from loose to the tightest feasible value.

    The epsilon-constraint method: the requirement is fixed at each value and cost is
    minimised. The tightest feasible value is found first by bisection.

    On a pathway (periods.csv) the value applies in every period, targets.csv's rows
    still on top in their periods (a 2026 target keeps 2026's value), and the cost is the
    discounted total.

    \b
    Example:
      coalition frontier models/allied-ai-stack.toml --trade-off layers.max_share --points 8
    """
    from solver.report.run_folder import check_writable
    from solver.studies.sweep.frontier import frontier as run_frontier

    case = with_solver(with_solver_options(load(path, overrides), time_limit, mip_gap,
                                           threads), solver_name)
    out = out or default_out(path, "frontier")
    check_writable(out)
    if (out / "frontier.csv").exists() and not force:
        raise click.UsageError(f"{out / 'frontier.csv'} already exists; pass --force to "
                               "replace it")
    from solver.studies.engine.steps import Steps

    steps = None if State.quiet else Steps(sys.stderr)
    curve = run_frontier(case, key, points, tol=tol, loose=loose, limit=limit, out=out,
                         progress=steps)
    tightest = curve[key].iloc[-1]
    echo(f"{key}: tightest feasible value {tightest:.6g} (bisection to within {tol:g})")
    from solver.studies.sweep.frontier import undecided

    unsure = undecided(curve, key)
    if unsure:
        click.echo(f"warning: at {', '.join(f'{v:.6g}' for v in unsure)} a limit stopped HiGHS "
                   "before it found a plan or proved there is none; the bisection took them "
                   "as infeasible, so a tighter value may be feasible (raise --time-limit)",
                   err=True)
    echo(f"{key:>30}{'status':>12}{'total cost':>14}{'gap':>10}")
    for row in curve.to_dict("records"):
        echo(f"{row[key]:>30.6g}{row['status']!s:>12}{number(row['objective']):>14}"
              f"{number(row['gap'], '.1e'):>10}")
    files = ["frontier.csv", "frontier_search.csv", "frontier.png"]
    if fmt == "xlsx":
        files.append(study_workbook(out, "frontier", files[:2]).name)
    echo(f"written: {out} ({', '.join(files)})")
