"""``coalition sensitivity``: which assumptions move the answer (README, Global sensitivity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from solver.cli.common import (
    case_argument,
    check_scheduler,
    default_out,
    echo,
    handle_errors,
    load,
    set_option,
    solver_options,
    with_solver_options,
)


@click.command()
@case_argument
@click.option("--param", "params", multiple=True, metavar="KEY=LOW:HIGH",
              help="An assumption and its range, uniform on it; KEY*=LOW:HIGH is a range of "
              "multipliers. Repeatable (default: the model file's [sensitivity] params).")
@click.option("--method", type=click.Choice(["morris", "sobol"]), default=None,
              help="morris: elementary effects, N (k + 1) solves; sobol: first and total "
              "indices, N (k + 2) solves (default: [sensitivity] method, else morris).")
@click.option("--samples", type=click.IntRange(min=2), default=None,
              help="N: Morris trajectories or Sobol base points (default: [sensitivity] "
              "samples, else 20).")
@click.option("--output", "outputs", multiple=True, metavar="METRIC",
              help="Also measure share[P,L], participation[P], suppliers[L], hosts[P], "
              "hhi[L], n1_coverage[L] or unmet[SCENARIO]; the total cost and each cost term "
              "always are. Repeatable.")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=None,
              help="Seed of the sampling (default: [sensitivity] seed, else 0).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: out/NAME-sensitivity-YYYYmmdd-HHMMSS).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local processes solving samples, each with its own persistent model.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Send samples to the Dask distributed scheduler at ADDRESS.")
@click.option("--resume", is_flag=True,
              help="Continue in --out: solve only the samples not yet in samples.csv.")
@click.option("--force", is_flag=True, help="Start again in an --out that holds a study.")
@set_option
@solver_options
@handle_errors
def sensitivity(path: Path, params: tuple[str, ...], method: str | None, samples: int | None,
                outputs: tuple[str, ...], seed: int | None, out: Path | None, workers: int,
                scheduler: str | None, resume: bool, force: bool, overrides: tuple[str, ...],
                time_limit: float | None, mip_gap: float | None, threads: int | None) -> None:
    """Which assumptions move the plan's cost and metrics, alone and together.

    \b
    Writes in --out: samples.csv, indices.csv, sensitivity.json, plots/.
    Prints, per output, the parameters ranked by Morris's mu* (or Sobol's ST).
    Exit 3 when some sample has no plan (they are kept; no index is computed).

    \b
    Example:
      coalition sensitivity models/allied-ai-stack.toml \\
        --param "capabilities[US,semiconductors].unit_cost*=1:2" \\
        --param "layers.max_share*=0.8:1.2" --output "share[TW,semiconductors]"
    """
    import sys

    from solver.cli.common import State, interrupt_exit_code, interruption
    from solver.report.run_folder import check_writable
    from solver.studies.engine.progress import progress_for
    from solver.studies.sensitivity.study import sensitivity as run_sensitivity

    check_scheduler(scheduler)
    case = with_solver_options(load(path, overrides), time_limit, mip_gap, threads)
    if resume and out is None:
        raise click.UsageError("--resume needs the --out folder of the study to continue")
    out = out or default_out(path, "sensitivity")
    check_writable(out)
    progress = None if State.quiet else progress_for(sys.stderr, study="sensitivity",
                                                     unit="sample")
    try:
        result = run_sensitivity(case, list(params), method=method, samples=samples,
                                 outputs=list(outputs) if outputs else None, seed=seed,
                                 workers=workers, scheduler=scheduler, out=out,
                                 resume=resume, force=force, progress=progress)
    except KeyboardInterrupt as exc:
        click.echo(f"{interruption(exc)}: the finished samples are kept in {out}; run the "
                   "same command with --resume to continue", err=True)
        sys.exit(interrupt_exit_code(exc))
    echo(format_ranking(result))
    echo(f"written: {out} (samples.csv, indices.csv, sensitivity.json, plots/)")


def format_ranking(result: Any) -> str:
    """Per output (the total cost, the requested metrics), the parameters ranked, with units.

    Each table has the method's indices and their confidence (mu* and its 95% interval, or
    S1 and ST and theirs). Each cost term that some parameter moves gets one line: its three
    largest effects, each with its interval (every index is in indices.csv).
    """
    from solver.cli.common import number
    from solver.report.numbers import with_unit
    from solver.studies.sensitivity.methods import INDICES, RANK_BY
    from solver.studies.sensitivity.outputs import ALWAYS, label

    m = result.meta
    how = (f"Morris, {m['samples']} trajectories on {m['levels']} levels"
           if result.method == "morris" else f"Sobol, {m['samples']} base points")
    lines = [f"{how}: {len(result.samples)} samples, each with a verified plan"]
    columns = INDICES[result.method]
    rank = RANK_BY[result.method]
    conf = f"{rank}_conf"
    width = max(len(p) for p in result.params) + 2
    terms = []
    at = len(lines)  # the cost terms' lines go after the total cost's table
    for output in result.outputs:
        ranked = result.ranking(output)
        if output in ALWAYS[1:]:
            moved = ranked[ranked[rank] > 0].head(3)
            if len(moved):
                terms.append(f"  {label(output):<18}" + ", ".join(
                    f"{r['parameter']} {number(r[rank], ',.4g')} "
                    f"(+/- {number(r[conf], ',.2g')})" for r in moved.to_dict("records")))
            continue
        lines.append("")
        lines.append(with_unit(label(output), result.unit(output)) + ":")
        lines.append(f"  {'parameter':<{width}}" + "".join(f"{c:>14}" for c in columns))
        for row in ranked.to_dict("records"):
            lines.append(f"  {row['parameter']:<{width}}"
                         + "".join(f"{number(row[c], ',.4g'):>14}" for c in columns))
        if output == ALWAYS[0]:
            at = len(lines)
    if terms:
        cost_unit = result.unit(ALWAYS[0])
        head = ["", with_unit("cost terms", cost_unit)
                + f", the largest {rank} of each (+/- its 95% interval):", *terms]
        lines[at:at] = head
    if result.method == "sobol":
        lines += ["", "S1 and ST are fractions of the output's variance, whatever its unit; "
                      "S1_conf and ST_conf are half their 95% intervals."]
    else:
        lines += ["", "mu, mu* and sigma are in the output's unit, over the parameter's whole "
                      "range; mu_star_conf is half the 95% interval of mu*."]
    return "\n".join(lines)
