"""``coalition share``: the coalition game (README, Sharing the cost) over :func:`solver.share`."""

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
    workers_option,
)
from solver.cli.desk import format_option, solver_name_option, study_workbook, with_solver


@click.command()
@case_argument
@click.option("--players", type=click.Choice(["member", "bloc"]), default=None,
              help="The players: each member, or each bloc of members (default: the model "
              "file's [share] players, else member).")
@click.option("--exact-up-to", type=click.IntRange(min=1), default=None,
              help="Evaluate every group up to this many players; beyond, sample orders "
              "(default: [share] exact_up_to, else 12).")
@click.option("--samples", type=click.IntRange(min=2), default=None,
              help="Random orders for the sampled Shapley value (default: [share] samples, "
              "else 200).")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=None,
              help="Seed of the random orders (default: [share] seed, else 0).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: out/NAME-share-YYYYmmdd-HHMMSS).")
@workers_option("evaluating groups")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Send groups to the Dask distributed scheduler at ADDRESS.")
@click.option("--resume", is_flag=True,
              help="Continue in --out: evaluate only the groups not yet in groups.csv.")
@click.option("--force", is_flag=True, help="Replace what an existing --out holds.")
@click.option("--prenucleolus", is_flag=True,
              help="Also compute the prenucleolus (which may charge a player more than it "
              "pays alone), in players.csv's prenucleolus column.")
@click.option("--yes", is_flag=True,
              help="Play a game of more than 1,000,000 groups (refused without it; above "
                   "10,000 a warning gives the count).")
@set_option
@solver_options
@format_option
@solver_name_option
@handle_errors
def share(path: Path, players: str | None, exact_up_to: int | None, samples: int | None,
          seed: int | None, out: Path | None, workers: int, scheduler: str | None,
          resume: bool, force: bool, prenucleolus: bool, yes: bool,
          overrides: tuple[str, ...], time_limit: float | None, mip_gap: float | None,
          threads: int | None, fmt: str, solver_name: str | None) -> None:
    """What each member pays alone, a fair split of the coalition's cost, who would leave.

    \b
    Writes in --out: players.csv, groups.csv, summary.json, plots/savings.png.
    A model file's [share] table gives the defaults; the command line wins.

    \b
    Example:
      coalition share models/allied-ai-stack.toml --players bloc
    """
    import sys

    from solver.cli.common import State, interrupt_exit_code, interruption
    from solver.report.run_folder import check_writable
    from solver.studies.engine.progress import progress_for
    from solver.studies.game.share import share as run_share

    check_scheduler(scheduler)
    case = with_solver(with_solver_options(load(path, overrides), time_limit, mip_gap,
                                           threads), solver_name)
    if resume and out is None:
        raise click.UsageError("--resume needs the --out folder of the game to continue")
    out = out or default_out(path, "share")
    check_writable(out)
    # The whole coalition is solved first; summary.json's groups_evaluated counts it too.
    progress = None if State.quiet else progress_for(
        sys.stderr, study="share, besides the whole coalition", unit="group")
    try:
        result = run_share(case, players=players, exact_up_to=exact_up_to, samples=samples,
                           seed=seed, out=out, workers=workers, scheduler=scheduler,
                           resume=resume, force=force, progress=progress,
                           prenucleolus=prenucleolus, say=None if State.quiet else _say,
                           yes=yes,
                           warn=lambda text: click.echo(f"warning: {text}", err=True))
    except KeyboardInterrupt as exc:
        click.echo(f"{interruption(exc)}: the finished groups are kept in {out}; run the "
                   "same command with --resume to continue", err=True)
        sys.exit(interrupt_exit_code(exc))
    echo(format_share(result))
    files = ["players.csv", "groups.csv", "summary.json"]
    if fmt == "xlsx":
        files.append(study_workbook(out, "share", ["players.csv", "groups.csv"]).name)
    echo(f"written: {out} ({', '.join([*files, 'plots/'])})")


def _say(text: str) -> None:
    click.echo(f"share: {text}", err=True)


def format_share(result: Any) -> str:
    """A line per player, the gain, each split's most blocking group, the core, the notes.

    Players: standalone cost, Shapley (with its standard error when sampled), nucleolus
    and the saving under Shapley. Stability says how it was checked and claims only what
    was established (README, Sharing the cost).
    """
    from solver.cli.common import number
    from solver.studies.game.share import core_verdict, verdict

    s = result.summary
    players = result.players
    sampled = players["shapley_se"].notna().any()
    se_head = f"{'± se':>10}" if sampled else ""
    lines = [f"{'player':<16}{'standalone':>14}{'shapley':>14}{se_head}{'nucleolus':>14}"
             f"{'saving':>14}"]
    for r in players.to_dict("records"):
        nuc = "" if r["nucleolus"] is None or r["nucleolus"] != r["nucleolus"] else \
            number(r["nucleolus"])
        se = f"{number(r['shapley_se'], ',.3g'):>10}" if sampled else ""
        lines.append(f"{r['player']:<16}{number(r['standalone']):>14}"
                     f"{number(r['shapley']):>14}{se}{nuc:>14}"
                     f"{number(r['saving_shapley']):>14}")
    share_txt = f" ({s['gain_share']:.1%})" if s["gain_share"] is not None else ""
    lines.append(f"gain of cooperation: {number(s['gain'])}{share_txt} "
                 f"(alone {number(s['standalone_total'])}, together {number(s['grand_cost'])})")
    stability = s.get("stability", {})
    lines.append(f"stability, {stability.get('checked', 'as evaluated')}:")
    for split in s["most_blocking"]:
        lines.append(f"  {split}: {verdict(result, split)}")
    lines.append(core_verdict(result))
    for split, note in s.get("notes", {}).items():
        lines.append(f"{split}: {note}")
    if s.get("price_too_low"):
        lines.append("warning: the shortage cost is too low to mean anything: the whole "
                     "coalition would rather pay it than meet its rules")
    return "\n".join(lines)
