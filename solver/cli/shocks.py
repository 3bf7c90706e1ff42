"""``stress --scenarios`` and ``stress --sample N``: a design under named or random shocks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from solver.cli.common import State, echo, workers_option
from solver.report.numbers import readable

if TYPE_CHECKING:
    import pandas as pd

    from solver.case.loader import Case


def design_of(case: Case, run: Path | None,
              period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The design to stress: a written run folder's allocation and flows, or a fresh solve.

    With ``period`` (a pathway): the rows of that period (README, Pathways).
    """
    from solver.errors import UsageError
    from solver.report.readback import read_csv
    from solver.studies.shocks.period import rows_of

    if run is None:
        from solver.solve import solve

        result = solve(case)
        return rows_of(result.allocation, period), rows_of(result.flows, period)
    for name in ("allocation.csv", "flows.csv"):
        if not (run / name).is_file():
            raise UsageError(f"--run {run}: not a run folder (it has no {name})")
    allocation = read_csv(run / "allocation.csv", required=("partner", "layer", "capacity"))
    flows = read_csv(run / "flows.csv", required=("exporter", "importer", "layer", "quantity"))
    if period is not None and "period" not in allocation:
        raise UsageError(f"--run {run}: a run of one period, not of the pathway")
    return rows_of(allocation, period), rows_of(flows, period)


def written_design(case: Case, run: Path, period: str | None = None) -> Any:
    """The design of the run folder ``run`` as plain ``stress`` takes it (``result``).

    Its ``allocation`` (capacity as numbers, hosted as booleans; on a pathway, the rows of
    ``period``), ``flows`` (what it sends markets) and ``objective`` (from summary.json, what
    a redesign is compared with).
    """
    import json
    import math
    from types import SimpleNamespace

    import pandas as pd

    from solver.errors import UsageError

    allocation, flows = design_of(case, run, period)
    try:
        capacity = pd.to_numeric(allocation["capacity"], errors="raise").astype(float)
    except (ValueError, TypeError):
        raise UsageError(f"--run {run}: allocation.csv's capacity is not a number in every "
                         "row") from None
    hosted = allocation["hosted"].astype(str).str.lower().eq("true") \
        if "hosted" in allocation else capacity > 0
    try:
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        objective = float(summary["objective"])
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        objective = math.nan
    if not math.isfinite(objective):
        raise UsageError(f"--run {run}: summary.json has no finite objective")
    frame = allocation[["partner", "layer"]].astype(str).assign(capacity=capacity,
                                                                hosted=hosted)
    return SimpleNamespace(allocation=frame, objective=objective, flows=flows)


def stress_scenarios(case: Case, out: Path, run: Path | None,
                     period: str | None = None) -> None:
    """Re-route the design in each scenario of scenarios.csv; write out/scenarios.csv.

    On a pathway, the design of ``period`` under that period's case.
    """
    from solver.case.scenarios import has_scenarios
    from solver.errors import UsageError
    from solver.studies.engine.recourse import evaluate_scenarios
    from solver.studies.shocks.period import period_of

    if not has_scenarios(case.scenarios):
        raise UsageError("--scenarios: the case has no scenarios.csv (or one without rows)")
    one = period_of(case, period, "coalition stress --scenarios")
    allocation, flows = design_of(case, run, None if one is case else period)
    table = evaluate_scenarios(one, allocation, flows)
    out.mkdir(parents=True, exist_ok=True)
    from solver.report.cells import safe_frame
    from solver.report.writing import write_csv

    write_csv(out / "scenarios.csv", safe_frame(table))
    lines = [f"{'scenario':<24}{'probability':>12}{'unmet':>12}{'share':>8}  worst layer"]
    for row in table.to_dict("records"):
        lines.append(f"{row['scenario']!s:<24}{row['probability']:>12.3g}{readable(row['unmet']):>12}"
                     f"{row['unmet_share']:>8.1%}  {row['worst_layer'] or '-'}")
    echo("\n".join(lines))
    echo(f"written: {out / 'scenarios.csv'}")


def stress_sample(case: Case, n: int, seed: int, out: Path, run: Path | None,
                  workers: int | None, scheduler: str | None, resume: bool,
                  force: bool = False, period: str | None = None) -> None:
    """Monte Carlo: ``n`` random disruptions of the design; write the distribution."""
    from solver.studies.engine.progress import Progress, progress_for
    from solver.studies.shocks.monte_carlo import sample
    from solver.studies.shocks.period import period_of

    one = period_of(case, period, "coalition stress --sample")  # refused before a solve
    allocation, flows = design_of(case, run, None if one is case else period)
    progress: Any = Progress() if State.quiet else progress_for(sys.stderr, study="stress",
                                                                 unit="batch")
    try:
        result = sample(case, n, seed=seed, allocation=allocation, flows=flows,
                        workers=workers or 1,
                        scheduler=scheduler, out=out, resume=resume, progress=progress,
                        force=force, period=period)
    except KeyboardInterrupt as exc:
        from solver.cli.common import interrupt_exit_code, interruption

        click.echo(f"{interruption(exc)}: the finished draws are kept in {out}; run the "
                   "same command with --resume to continue", err=True)
        sys.exit(interrupt_exit_code(exc))
    echo(format_distribution(result.distribution, result.worst_partners))
    for name in ("draws.csv", "distribution.csv", "worst_partners.csv", "unmet_histogram.png"):
        echo(f"written: {out / name}")


def format_distribution(table: pd.DataFrame, worst: pd.DataFrame) -> str:
    """Mean, P95 and CVaR of unmet demand per layer and in all; the worst draws' partners."""
    lines = [f"{'unmet demand':<24}{'demand':>12}{'mean':>12}{'P95':>12}{'CVaR 95%':>12}"]
    for row in table.to_dict("records"):
        name = "all layers" if row["scope"] == "total" else row["layer"]
        lines.append(f"{name!s:<24}{readable(row['demand']):>12}{readable(row['mean']):>12}"
                     f"{readable(row['p95']):>12}{readable(row['cvar95']):>12}")
    if not worst.empty:
        shown = ", ".join(f"{r['partner']} ({r['lost_in_worst']:.0%})"
                          for r in worst.head(8).to_dict("records"))
        lines.append(f"lost in the worst 5% of draws: {shown}")
    return "\n".join(lines)


def shock_options(f: Any) -> Any:
    """The options of ``stress`` for named and random shocks."""
    for option in reversed([
        click.option("--scenarios", "named", is_flag=True,
                     help="Re-route the design in each scenario of scenarios.csv instead "
                          "(writes scenarios.csv)."),
        click.option("--sample", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Monte Carlo: N random disruptions, each partner lost with its "
                          "disruption_risk (writes draws.csv, distribution.csv, "
                          "worst_partners.csv, unmet_histogram.png)."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Seed of --sample: the same seed gives the same draws."),
        click.option("--period", default=None, metavar="P",
                     help="On a pathway (periods.csv): shock period P's plan, the capacity "
                          "in service in P, under P's demand and targets (default: the last)."),
        click.option("--run", "run", type=click.Path(path_type=Path, file_okay=False),
                     default=None, help="Stress the design of this run folder instead of "
                                        "solving the case."),
        workers_option("drawing --sample's disruptions"),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Send --sample's draws to the Dask scheduler at ADDRESS."),
        click.option("--resume", is_flag=True,
                     help="Continue an interrupted --sample in the same --out."),
    ]):
        f = option(f)
    return f
