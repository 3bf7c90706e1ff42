"""``coalition alternatives``: near-optimal plans (README, Near-optimal alternatives)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

from solver.cli.common import (
    State,
    case_argument,
    check_scheduler,
    default_out,
    echo,
    handle_errors,
    load,
    number,
    set_option,
    solver_options,
    with_solver_options,
    workers_option,
)
from solver.cli.desk import format_option, study_workbook


class Slacks(click.ParamType):
    """``0.03`` or ``0.01,0.03,0.05``: fractions of the optimum's cost, each >= 0."""

    name = "E[,E...]"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[float, ...]:
        """Each comma-separated value as a finite float >= 0."""
        if isinstance(value, tuple):
            return value
        out = []
        for text in str(value).split(","):
            try:
                x = float(text)
            except ValueError:
                self.fail(f"{text.strip()!r} is not a number", param, ctx)
            if not math.isfinite(x) or x < 0:
                self.fail(f"{text.strip()}: must be >= 0, the extra cost allowed as a "
                          "fraction of the optimum (0.03 is 3%)", param, ctx)
            out.append(x)
        return tuple(out)


@click.command()
@case_argument
@click.option("--slack", type=Slacks(), default="0.05", show_default=True,
              help="Extra cost allowed, as a fraction of the optimum (0.03 is 3%); several "
                   "values separated by commas give one search each (0 asks for plans "
                   "exactly as cheap).")
@click.option("--count", type=click.IntRange(min=1, max=100), default=3, show_default=True,
              help="Most different plans to find at each slack (at most 100).")
@click.option("--maximize", "maximize", default=None, metavar="KEY",
              help="Instead, the plan that pushes KEY highest: participation[PARTNER], "
                   "suppliers[LAYER], share[PARTNER,LAYER], hosts[PARTNER], or with "
                   "markets reach[MARKET] or reach.")
@click.option("--minimize", "minimize", default=None, metavar="KEY",
              help="Instead, the plan that pushes KEY lowest (the same keys).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: out/NAME-alternatives-YYYYmmdd-HHMMSS).")
@click.option("--force", is_flag=True, help="Replace an earlier search's --out folder.")
@workers_option("running the searches of several slacks at once")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the searches of several slacks on the Dask scheduler at ADDRESS.")
@click.option("--resume", is_flag=True,
              help="Go on in --out after an interruption: keep the plans written there and "
                   "search only for the rest (the same case, slacks, count and direction).")
@set_option
@solver_options
@format_option
@handle_errors
def alternatives(path: Path, slack: tuple[float, ...], count: int, maximize: str | None,
                 minimize: str | None, out: Path | None, force: bool, workers: int,
                 scheduler: str | None, resume: bool, overrides: tuple[str, ...],
                 time_limit: float | None, mip_gap: float | None, threads: int | None,
                 fmt: str) -> None:
    """Plans within a few percent of the least cost that host as differently as possible.

    Each plan costs at most (1 + slack) times the optimum and differs from the optimum and
    from the plans found before it in as many hosting decisions (who hosts which layer) as
    it can; among those, it is the cheapest. With --maximize or --minimize KEY, the plan
    that pushes one quantity furthest instead, at each slack (a curve with several).

    \b
    Writes in --out: optimum/ and one run folder per plan, alternatives.csv (the plans
    side by side), plots/alternatives.png for a direction.

    \b
    Example:
      coalition alternatives models/allied-ai-stack.toml --slack 0.03 --count 3
      coalition alternatives models/allied-ai-stack.toml --slack 0.01,0.03,0.05 \\
          --maximize participation[IN]
    """
    from solver.cli.common import interrupt_exit_code, interruption
    from solver.studies.alternatives.alternatives import alternatives as run_alternatives
    from solver.studies.engine.steps import Steps

    if maximize is not None and minimize is not None:
        raise click.UsageError("give --maximize or --minimize, not both")
    if resume and out is None:
        raise click.UsageError("--resume needs the --out folder of the search to continue")
    check_scheduler(scheduler)
    case = with_solver_options(load(path, overrides), time_limit, mip_gap, threads)
    out = out or default_out(path, "alternatives")
    steps = None if State.quiet else Steps(sys.stderr)
    try:
        found = run_alternatives(case, list(slack), count, maximize=maximize,
                                 minimize=minimize, out=out, force=force, workers=workers,
                                 scheduler=scheduler, progress=steps, resume=resume)
    except KeyboardInterrupt as exc:
        click.echo(f"{interruption(exc)}: the plans found so far are kept in {out} "
                   "(alternatives.csv lists them); run the same command with --resume to "
                   "go on", err=True)
        sys.exit(interrupt_exit_code(exc))
    echo(format_alternatives(found))
    files = ["alternatives.json", "alternatives.csv", "optimum/",
             *(f"{n}/" for n in found.plans)]
    if fmt == "xlsx":
        files.append(study_workbook(out, "alternatives", ["alternatives.csv"]).name)
    if found.key is not None and found.plans:
        files.append("plots/alternatives.png")
    echo(f"written: {out} ({', '.join(files)})")


def format_alternatives(found: Any) -> str:
    """The plans on screen: one line each, then the layers whose supply base changes.

    A plan's line: cost, +%, how many hosts it gains and loses, the biggest participation
    shifts; a layer's: its suppliers (HHI) in each plan.
    """
    table = found.table
    key = found.key
    width = max([len("plan"), *map(len, table["plan"].astype(str))]) + 2
    head = f"{'plan':<{width}}{'cost':>11}{'+%':>9}{'gained':>8}{'lost':>6}"
    if key:
        head += f"  {key:>{max(len(key), 8)}}"
    lines = [head + "  participation shifts"]
    for r in table.to_dict("records"):
        gained = len(r["gained"].split("; ")) if r["gained"] else 0
        lost = len(r["lost"].split("; ")) if r["lost"] else 0
        line = (f"{r['plan']:<{width}}{number(r['cost']):>11}{r['increase_pct']:>+8.2f}%"
                f"{gained:>8}{lost:>6}")
        if key:
            line += f"  {r['value']:>{max(len(key), 8)}.4g}"
        lines.append(f"{line}  {r['shifts'] or ''}".rstrip())
    layers = [c[len("suppliers["):-1] for c in table.columns if c.startswith("suppliers[")]
    changed = [layer for layer in layers
               if table[f"suppliers[{layer}]"].nunique() > 1
               or (table[f"hhi[{layer}]"] - table[f"hhi[{layer}]"].iloc[0]).abs().max() > 5e-3]
    if changed and len(table) > 1:
        lines.append("suppliers (HHI) of the layers whose supply base changes, plan by plan:")
        for layer in changed:
            cells = [f"{int(s)} ({h:.2f})" for s, h in zip(
                table[f"suppliers[{layer}]"], table[f"hhi[{layer}]"], strict=True)]
            lines.append(f"  {layer:<22}" + "".join(f"{c:>12}" for c in cells))
    lines.extend(found.stopped)
    if len(table) == 1 and not found.stopped:
        lines.append("no alternative found")
    lines.append("which hosts each plan gains and loses: the gained and lost columns of "
                 "alternatives.csv")
    return "\n".join(lines)
