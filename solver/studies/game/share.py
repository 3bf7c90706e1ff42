"""The coalition game (README, Sharing the cost): standalone costs, fair splits, who would leave.

c(N) is the plan of ``solve`` with every rule; every smaller group's c(S) is re-solved on
one persistent priced model (:mod:`solver.studies.game.groups`); the arithmetic is
:mod:`solver.studies.game.arithmetic`. Groups run in this process, one after another.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from solver.case.loader import Case
from solver.errors import UsageError
from solver.studies.game.groups import GROUP_COLUMNS, GroupSolver, GroupTask, game_case

PLAYER_COLUMNS = ("player", "members", "standalone", "proportional", "shapley", "shapley_se",
                  "nucleolus", "saving_proportional", "saving_shapley", "saving_nucleolus")


@dataclass
class ShareResult:
    """The coalition game's tables: ``players``, ``groups`` and ``summary``."""

    players: pd.DataFrame
    groups: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def player_members(case: Case, players: str) -> dict[str, list[str]]:
    """Each player's member partners (``member``: itself; ``bloc``: the bloc's members)."""
    if players not in ("member", "bloc"):
        raise UsageError(f"--players {players}: must be member or bloc")
    if not case.has_demand_file:
        raise UsageError("share needs demand.csv: the game splits the members' demand")
    if case.objective.shortage_cost is None:
        raise UsageError("share needs objective.shortage_cost: the price of what a group "
                         "cannot supply (set it in [objective] or [share] of the model file, "
                         "or with --set objective.shortage_cost=PRICE)")
    members = case.partners[case.partners["member"].astype(bool)]
    key = "partner" if players == "member" or "bloc" not in members else "bloc"
    out: dict[str, list[str]] = {}
    for partner, who in zip(members["partner"], members[key].fillna(members["partner"]),
                            strict=True):
        out.setdefault(str(who), []).append(str(partner))
    if len(out) < 2:
        raise UsageError(f"share needs at least two players; the case has {len(out)}")
    return out


def share(case: Case, players: str | None = None, exact_up_to: int | None = None,
          samples: int | None = None, out: str | Path | None = None, workers: int = 1,
          scheduler: Any = None, resume: bool = False, progress: Any = None,
          seed: int | None = None) -> ShareResult:
    """Play the coalition game of ``case``; write ``out`` if given (README, Sharing the cost).

    ``players`` is ``member`` or ``bloc``. Up to ``exact_up_to`` players every group is
    evaluated (exact Shapley value and nucleolus); beyond, the Shapley value is estimated
    from ``samples`` random orders drawn with ``seed`` (with its standard error) and the
    nucleolus is empty. Each of the four left None takes the case's ``[share]`` table
    (defaults member, 12, 200, 0), and without ``objective.shortage_cost`` the game
    prices shortfalls at ``[share] shortage_cost``.
    Groups run here (``workers=1``), in ``workers`` local processes or on the Dask cluster
    at ``scheduler``, each worker re-solving one persistent model; with ``out`` each group's
    row is appended to ``groups.csv`` as it finishes, and ``resume=True`` evaluates only the
    groups not in it. ``progress`` (a :class:`~solver.studies.engine.progress.Progress`) is told
    of each group. Raises :class:`~solver.errors.UsageError` for a case the game cannot
    be played on and
    :class:`~solver.errors.InfeasibleError` if the grand coalition is infeasible.
    """
    from solver.case.periods import refuse_pathway

    refuse_pathway(case, "coalition share")
    from solver.solve import solve
    from solver.studies.engine.scheduler import scheduler_address
    from solver.studies.game import arithmetic as game

    if scheduler is not None:
        scheduler_address(scheduler)  # a malformed address is refused before any solve
    started = time.perf_counter()
    opts = case.share_options
    players = opts.players if players is None else players
    exact_up_to = opts.exact_up_to if exact_up_to is None else exact_up_to
    samples = opts.samples if samples is None else samples
    seed = opts.seed if seed is None else seed
    if case.objective.shortage_cost is None and opts.shortage_cost is not None:
        price = {"shortage_cost": opts.shortage_cost}
        case = replace(case, objective=case.objective.model_copy(update=price))
    members = player_members(case, players)
    names = sorted(members)
    grand_result = solve(case)
    grand_cost = float(grand_result.objective or 0.0)
    grand = frozenset(names)
    exact = len(names) <= exact_up_to
    if exact:
        wanted = [g for g in game.groups_of(names) if g != grand]
    else:
        needed: set[frozenset[str]] = set()

        def note(g: frozenset[str]) -> float:
            needed.add(g)
            return 0.0

        game.shapley_sampled(names, note, samples, seed=seed)
        needed |= {frozenset([p]) for p in names}
        wanted = sorted((g for g in needed if g != grand), key=lambda g: (len(g), sorted(g)))
    tasks = [GroupTask(i, tuple(sorted(g))) for i, g in enumerate(wanted)]
    done = _done_groups(Path(out)) if (out is not None and resume) else {}
    if out is not None and not resume:
        (Path(out) / "groups.csv").unlink(missing_ok=True)
    rows = [done[t.label] for t in tasks if t.label in done]
    todo = [t for t in tasks if t.label not in done]
    solver = GroupSolver(game_case(case), members)
    priced_grand = solver.run(GroupTask(len(tasks), tuple(names))).row
    rows += _evaluate(solver, todo, workers, scheduler, out, progress, len(tasks), len(done))
    rows.append({"group": "+".join(names), "size": len(names), "cost": grand_cost,
                 "shortfall_cost": float(grand_result.costs.get("shortage", 0.0)),
                 "status": grand_result.status,
                 "seconds": grand_result.summary["seconds"].get("solve")})
    groups = pd.DataFrame(rows).reindex(columns=list(GROUP_COLUMNS))
    failed = groups[groups["cost"].isna()]
    if len(failed):
        raise UsageError(f"group {failed['group'].iloc[0]} could not be evaluated: "
                         f"{failed['status'].iloc[0]}")
    c = {frozenset(str(g).split("+")): float(v) for g, v in zip(groups["group"],
                                                               groups["cost"], strict=True)}
    standalone = {p: c[frozenset([p])] for p in names}
    value = _demand_value(case, members)
    splits: dict[str, dict[str, float]] = {
        "proportional": game.proportional(names, value, grand_cost)}
    se: dict[str, float] = {}
    if exact:
        splits["shapley"] = game.shapley(names, c)
        splits["nucleolus"] = game.nucleolus(names, c)
    else:
        splits["shapley"], se = game.shapley_sampled(names, lambda g: c[g] if g else 0.0,
                                                     samples, seed=seed)
    eps, _ = game.least_core(names, c)
    table = []
    for p in names:
        row: dict[str, Any] = {"player": p, "members": "+".join(members[p]),
                               "standalone": standalone[p], "shapley_se": se.get(p)}
        for name in ("proportional", "shapley", "nucleolus"):
            x = splits.get(name)
            row[name] = x[p] if x else None
            row[f"saving_{name}"] = standalone[p] - x[p] if x else None
        table.append(row)
    players_table = pd.DataFrame(table).reindex(columns=list(PLAYER_COLUMNS))
    total = sum(standalone.values())
    blocking = {}
    for name, x in splits.items():
        excess, where = game.max_excess(names, c, x)
        blocking[name] = {"excess": excess, "group": "+".join(sorted(where))}
    summary: dict[str, Any] = {
        "grand_cost": grand_cost, "standalone_total": total, "gain": total - grand_cost,
        "gain_share": (total - grand_cost) / total if total else None,
        "least_core": eps, "core_empty": bool(eps > 1e-6 * max(abs(grand_cost), 1.0)),
        "method": "exact" if exact else "sampled", "groups_evaluated": len(groups),
        "groups_total": 2 ** len(names) - 1, "most_blocking": blocking,
        "grand_priced_cost": priced_grand["cost"],
        # The whole coalition, priced, would rather fall short than meet its rules.
        "price_too_low": bool((priced_grand["shortfall_cost"] or 0.0)
                              > 1e-6 * max(abs(grand_cost), 1.0)),
        "seconds": time.perf_counter() - started, "builds": solver.builds}
    result = ShareResult(players=players_table, groups=groups, summary=summary)
    if out is not None:
        write_share(result, Path(out))
    return result


def _done_groups(out: Path) -> dict[str, dict[str, Any]]:
    path = out / "groups.csv"
    if not path.exists() or path.stat().st_size == 0:
        return {}
    table = pd.read_csv(path)
    table = table[table["cost"].notna()].drop_duplicates("group", keep="last")
    return {str(r["group"]): {str(k): v for k, v in r.items()}
            for r in table.to_dict("records")}


def _evaluate(solver: GroupSolver, todo: list[GroupTask], workers: int, scheduler: Any,
              out: str | Path | None, progress: Any, total: int,
              done: int) -> list[dict[str, Any]]:
    """Evaluate ``todo``; append each row to ``groups.csv`` as it finishes.

    In this process the groups go on re-solving ``solver``'s model (built and solved for
    the whole coalition already); each worker process or Dask worker builds its own.
    """
    import uuid
    from collections.abc import Iterable

    from solver.studies.engine.executor import in_local_processes, on_dask
    from solver.studies.engine.progress import Progress
    from solver.studies.engine.scheduler import connect
    from solver.studies.game.groups import GameSettings

    case, settings = solver.case, GameSettings(solver.members)
    token = uuid.uuid4().hex
    outcomes: Iterable[Any]
    if scheduler is not None:
        outcomes = on_dask(case, settings, token, todo,  # type: ignore[arg-type]
                           connect(scheduler))
    elif workers <= 1 or len(todo) <= 1:
        outcomes = (solver.run(task) for task in todo)
    else:
        outcomes = in_local_processes(case, settings, token, todo,  # type: ignore[arg-type]
                                      workers)
    progress = progress or Progress()
    progress.start(total, done)
    path = Path(out) / "groups.csv" if out is not None else None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    interrupted = True
    try:
        for outcome in outcomes:
            row = {k: outcome.row.get(k) for k in GROUP_COLUMNS}
            rows.append(row)
            if path is not None:
                header = not path.exists() or path.stat().st_size == 0
                pd.DataFrame([row]).to_csv(path, mode="a", header=header, index=False)
            progress.point(outcome)
        interrupted = False
    finally:
        progress.finish(interrupted)
    return rows


def _demand_value(case: Case, members: dict[str, list[str]]) -> dict[str, float]:
    unit = case.layers.set_index("layer")["unit_value"]
    d = case.demand
    val = d["demand"].to_numpy(dtype=float) * d["layer"].map(unit).to_numpy(dtype=float)
    by_member = pd.Series(val).groupby(d["member"].to_numpy()).sum()
    return {p: float(sum(by_member.get(m, 0.0) for m in ms)) for p, ms in members.items()}


def write_share(result: ShareResult, out: Path) -> None:
    """Write ``players.csv``, ``groups.csv``, ``summary.json`` and ``plots/`` in ``out``."""
    from solver.report.cells import safe_frame

    out.mkdir(parents=True, exist_ok=True)
    safe_frame(result.players).to_csv(out / "players.csv", index=False)
    safe_frame(result.groups).to_csv(out / "groups.csv", index=False)
    (out / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n",
                                      encoding="utf-8")
    savings_plot(result.players, out / "plots" / "savings.png")


def savings_plot(players: pd.DataFrame, path: Path) -> Path:
    """Each player's saving against its standalone cost under each split, as bars."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(7, 3.5), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    at = np.arange(len(players))
    splits = [s for s in ("proportional", "shapley", "nucleolus")
              if players[f"saving_{s}"].notna().any()]
    width = 0.8 / max(len(splits), 1)
    for i, name in enumerate(splits):
        ax.bar(at + i * width, players[f"saving_{name}"].astype(float), width, label=name)
    ax.set_xticks(at + width * (len(splits) - 1) / 2, players["player"].astype(str))
    ax.set_ylabel("saving against standing alone")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.legend()
    fig.savefig(path)
    return path


def verdict(result: ShareResult, split: str = "shapley") -> str:
    """The stability of a split in a minister's words."""
    info = result.summary["most_blocking"].get(split)
    if not info or info["excess"] <= 1e-6 * max(abs(result.summary["grand_cost"]), 1.0):
        return "no group of members pays less alone"
    return f"{info['group']} would pay {info['excess']:.3g} less alone"


__all__ = ["ShareResult", "share", "verdict"]
