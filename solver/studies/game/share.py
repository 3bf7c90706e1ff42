"""The coalition game (README, Sharing the cost): standalone costs, fair splits, who would leave.

c(N) is the plan of ``solve`` with every rule; every smaller group's c(S) is re-solved on
one persistent priced model (:mod:`solver.studies.game.groups`); the arithmetic is
:mod:`solver.studies.game.arithmetic`. Groups run in this process, one after another.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from solver.case.loader import Case
from solver.errors import UsageError
from solver.report.writing import append_text
from solver.studies.engine.folder import (
    FolderLock,
    check_request,
    entries,
    keep_rows,
    read_request,
    read_rows,
    refuse_existing,
    write_request,
)
from solver.studies.game.groups import GROUP_COLUMNS, GroupTask, game_case
from solver.studies.game.solvers import group_solver

log = logging.getLogger(__name__)

#: What made a game's folder (compared on --resume).
REQUEST = "share.json"
#: The type of each column of groups.csv, checked when a resumed game reads it back.
GROUP_TYPES = {"group": "str", "size": "int", "cost": "float?", "shortfall_cost": "float?",
               "status": "str", "seconds": "float?"}

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


#: A game of more groups than this is said to be large (a warning with the count).
SOFT_GROUPS = 10_000
#: A game of more groups than this is refused unless asked for (``--yes``, ``yes=True``).
HARD_GROUPS = 1_000_000


def check_group_count(players: int, exact_up_to: int, samples: int, *, yes: bool = False,
                      warn: Callable[[str], None] | None = None) -> int:
    """The groups a game of ``players`` evaluates, refused past :data:`HARD_GROUPS`.

    Exact (``players <= exact_up_to``): every group but the grand coalition, 2^n - 2;
    sampled: at most the ``samples`` orders' n - 1 proper prefixes each plus the n single
    players. Counted, never listed, so 2^60 groups are refused at once. Raises
    :class:`UsageError` (exit 2) unless ``yes``; past :data:`SOFT_GROUPS` ``warn`` (default:
    a logged warning) is told the count.
    """
    whole = 2**players - 2
    n = whole if players <= exact_up_to else min(whole, samples * (players - 1) + players)
    how = (f"every group of {players} players" if players <= exact_up_to
           else f"{samples:,} sampled orders of {players} players")
    if n > HARD_GROUPS and not yes:
        raise UsageError(f"the game evaluates {n:,} groups ({how}), more than the "
                         f"{HARD_GROUPS:,} it runs without --yes; lower --exact-up-to or "
                         "--samples, play blocs (--players bloc), or pass --yes")
    if n > SOFT_GROUPS:
        message = f"the game evaluates {n:,} groups ({how}); each is a solve"
        if warn is None:
            log.warning(message)
        else:
            warn(message)
    return n


def share(case: Case, players: str | None = None, exact_up_to: int | None = None,
          samples: int | None = None, out: str | Path | None = None, workers: int = 1,
          scheduler: Any = None, resume: bool = False, progress: Any = None,
          seed: int | None = None, force: bool = False, prenucleolus: bool = False,
          say: Callable[[str], None] | None = None, yes: bool = False,
          warn: Callable[[str], None] | None = None) -> ShareResult:
    """Play the coalition game of ``case``; write ``out`` if given (README, Sharing the cost).

    ``players`` is ``member`` or ``bloc``. Up to ``exact_up_to`` players every group is
    evaluated (exact Shapley value and nucleolus); beyond, the Shapley value is estimated
    from ``samples`` random orders drawn with ``seed`` (with its standard error) and the
    nucleolus is empty (``summary["notes"]`` says why a split is blank). The nucleolus is
    on the imputation set (no player pays more than alone); ``prenucleolus=True`` adds the
    prenucleolus, which may, as columns of its own. Each of the four left None takes the
    case's ``[share]`` table
    (defaults member, 12, 200, 0), and without ``objective.shortage_cost`` the game
    prices shortfalls at ``[share] shortage_cost``.
    Groups run here (``workers=1``), in ``workers`` local processes or on the Dask cluster
    at ``scheduler``, each worker re-solving one persistent model; with ``out`` each group's
    row is appended to ``groups.csv`` as it finishes, and ``resume=True`` evaluates only the
    groups not in it. An ``out`` that holds anything is taken only with ``force`` or
    ``resume`` (the protocol of :mod:`solver.studies.engine.folder`). ``progress`` (a
    :class:`~solver.studies.engine.progress.Progress`) is told of each group, ``say`` of
    each step of the separation (a line of text). The groups are counted before anything
    is solved or allocated (:func:`check_group_count`): past :data:`SOFT_GROUPS` ``warn`` is
    told, past :data:`HARD_GROUPS` the game is refused unless ``yes``. Raises
    :class:`~solver.errors.UsageError` for a case the game cannot be played on and
    :class:`~solver.errors.InfeasibleError` if the grand coalition is infeasible.
    """
    from solver.case.markets import refuse_markets
    from solver.studies.engine.scheduler import connect, scheduler_address

    refuse_markets(case, "coalition share")

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
    check_group_count(len(members), exact_up_to, samples, yes=yes, warn=warn)
    request = {"command": "share", "case_sha256": case.sha256,
               "overrides": [str(o) for o in case.overrides], "players": players,
               "exact_up_to": exact_up_to, "samples": samples, "seed": seed,
               "shortage_cost": case.objective.shortage_cost,
               "time_limit": case.solver.time_limit, "mip_gap": case.solver.mip_gap}
    folder = Path(out) if out is not None else None
    # Joined before the folder is made: a scheduler that does not answer leaves nothing.
    client = connect(scheduler) if scheduler is not None else None
    lock = None
    try:
        lock = _claim(folder, request, resume=resume, force=force)
        return _play(case, members, exact_up_to, samples, seed, folder, resume, workers,
                     client, progress, started, prenucleolus, say)
    finally:
        if lock is not None:
            lock.release()
        if client is not None:
            client.close()


def _claim(folder: Path | None, request: dict[str, Any], *, resume: bool,
           force: bool) -> FolderLock | None:
    """Lock ``folder`` for the game; check a resume's request, or start the folder again."""
    if folder is None:
        return None
    refuse_existing(folder, resume=resume, force=force, request=REQUEST, study="game")
    lock = FolderLock(folder).acquire()
    try:
        if resume:
            check_request(folder, read_request(folder, REQUEST), request)
        else:
            for name in entries(folder):
                path = folder / name
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            write_request(folder, REQUEST, request)
    except BaseException:
        lock.release()
        raise
    return lock


def _play(case: Case, members: dict[str, list[str]], exact_up_to: int, samples: int,
          seed: int, folder: Path | None, resume: bool, workers: int, client: Any,
          progress: Any, started: float, prenucleolus: bool = False,
          say: Callable[[str], None] | None = None) -> ShareResult:
    from solver.solve import solve
    from solver.studies.game import arithmetic as game

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
    done = _done_groups(folder) if (folder is not None and resume) else {}
    rows = [done[t.label] for t in tasks if t.label in done]
    todo = [t for t in tasks if t.label not in done]
    solver = group_solver(game_case(case), members)
    priced_grand = solver.run(GroupTask(len(tasks), tuple(names))).row
    rows += _evaluate(solver, todo, workers, client, folder, progress, len(tasks),
                      len(rows))
    # Groups in the order of the work list, not the order they finished in: the least-core
    # LP and the ties between groups then read them alike on every executor.
    position = {t.label: t.index for t in tasks}
    rows.sort(key=lambda row: position[str(row["group"])])
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
    notes: dict[str, str] = {}
    se: dict[str, float] = {}
    if exact:
        splits["shapley"] = game.shapley(names, c)
        splits.update(_nucleoli(names, c, prenucleolus, notes))
    else:
        for name in ("nucleolus", *(("prenucleolus",) if prenucleolus else ())):
            notes[name] = (f"not computed: it needs every group, and {len(names)} players "
                           f"are more than --exact-up-to {exact_up_to}")
        splits["shapley"], se = game.shapley_sampled(names, lambda g: c[g] if g else 0.0,
                                                     samples, seed=seed)
    tol = 1e-6 * max(abs(grand_cost), 1.0)
    extra: list[dict[str, Any]] = []
    stable = _stability(solver, members, c, grand_cost, splits, exact, extra, tol, say)
    if extra:
        groups = pd.concat([groups, pd.DataFrame(extra).reindex(columns=list(GROUP_COLUMNS))],
                           ignore_index=True)
    table = []
    for p in names:
        row: dict[str, Any] = {"player": p, "members": "+".join(members[p]),
                               "standalone": standalone[p], "shapley_se": se.get(p)}
        for name in ("proportional", "shapley", "nucleolus",
                     *(("prenucleolus",) if prenucleolus else ())):
            x = splits.get(name)
            row[name] = x[p] if x else None
            row[f"saving_{name}"] = standalone[p] - x[p] if x else None
        table.append(row)
    more = ("prenucleolus", "saving_prenucleolus") if prenucleolus else ()
    players_table = pd.DataFrame(table).reindex(columns=[*PLAYER_COLUMNS, *more])
    total = sum(standalone.values())
    summary: dict[str, Any] = {
        "grand_cost": grand_cost, "standalone_total": total, "gain": total - grand_cost,
        "gain_share": (total - grand_cost) / total if total else None,
        "least_core": stable.least_core, "least_core_bound": stable.least_core_bound,
        # True or False only when established (every group, or separation); else null.
        "core_empty": stable.core_empty,
        "stability": {"method": stable.method, "checked": stable.checked,
                      "separation_solves": stable.solves,
                      "separation_seconds": stable.seconds},
        "method": "exact" if exact else "sampled", "groups_evaluated": len(groups),
        "groups_total": 2 ** len(names) - 1, "most_blocking": stable.blocking,
        "grand_priced_cost": priced_grand["cost"],
        # The whole coalition, priced, would rather fall short than meet its rules.
        "price_too_low": bool((priced_grand["shortfall_cost"] or 0.0)
                              > 1e-6 * max(abs(grand_cost), 1.0)),
        "notes": notes, "seconds": time.perf_counter() - started, "builds": solver.builds}
    result = ShareResult(players=players_table, groups=groups, summary=summary)
    if folder is not None:
        write_share(result, folder, unit=case.unit)
    return result


def _stability(solver: Any, members: dict[str, list[str]],
               c: dict[frozenset[str], float], grand: float,
               splits: dict[str, dict[str, float]], exact: bool,
               extra: list[dict[str, Any]], tol: float,
               note: Callable[[str], None] | None = None) -> Any:
    """Each split's most blocking group and the least core, as far as established.

    Every group evaluated: by enumeration. Otherwise by the separation MIP, the groups it
    finds evaluated on ``solver`` (their rows go to ``extra``); a game without a separation
    model falls back to the groups evaluated, and says so.
    """
    from solver.case.periods import uses_pathway
    from solver.studies.game import separation as game_separation

    names = sorted(members)
    if exact:
        return game_separation.by_enumeration(names, c, splits, tol)
    if uses_pathway(solver.case):
        return game_separation.by_evaluated_groups(
            names, c, splits, tol, why="the separation MIP is of one period, and this case "
            "is a pathway")

    def cost(group: frozenset[str]) -> float:
        outcome = solver.run(GroupTask(len(c) + len(extra), tuple(sorted(group))))
        row = {k: outcome.row.get(k) for k in GROUP_COLUMNS}
        if row["cost"] is None:
            raise ValueError(f"group {row['group']} could not be evaluated: {row['status']}")
        extra.append(row)
        return float(row["cost"])

    try:
        return game_separation.by_separation(solver.case, members, c, grand, splits, cost,
                                             tol, note)
    except ValueError as exc:
        return game_separation.by_evaluated_groups(names, c, splits, tol, why=str(exc))


def _nucleoli(names: list[str], c: dict[frozenset[str], float], prenucleolus: bool,
              notes: dict[str, str]) -> dict[str, dict[str, float]]:
    """The nucleolus (and the prenucleolus if asked); why the nucleolus is blank in ``notes``."""
    from solver.studies.game import nucleolus as game_nucleolus

    out = {}
    try:
        out["nucleolus"] = game_nucleolus.nucleolus(names, c)
    except game_nucleolus.EmptyImputations as exc:
        notes["nucleolus"] = f"not defined: {exc}"
    if prenucleolus:
        out["prenucleolus"] = game_nucleolus.prenucleolus(names, c)
    return out


def _done_groups(out: Path) -> dict[str, dict[str, Any]]:
    """The groups an earlier run evaluated, each row checked (a torn last row is dropped)."""
    table = read_rows(out / "groups.csv", GROUP_TYPES)
    table = table[table["cost"].notna()].drop_duplicates("group", keep="last")
    keep_rows(out / "groups.csv", table)  # the next rows go after whole ones
    return {str(r["group"]): {str(k): v for k, v in r.items()}
            for r in table.to_dict("records")}


def _evaluate(solver: Any, todo: list[GroupTask], workers: int, client: Any,
              out: str | Path | None, progress: Any, total: int,
              done: int) -> list[dict[str, Any]]:
    """Evaluate ``todo``; append each row to ``groups.csv`` as it finishes.

    In this process the groups go on re-solving ``solver``'s model (built and solved for
    the whole coalition already); each worker process or Dask worker builds its own.
    """
    from solver.studies.engine.executor import execute
    from solver.studies.engine.progress import Progress
    from solver.studies.game.solvers import GameSettings

    outcomes = execute(solver.case, GameSettings(solver.members), todo, workers=workers,
                       client=client, here=solver)
    progress = progress or Progress()
    progress.start(total, done)
    if hasattr(progress, "expect"):  # a group costs more the more players it has
        progress.expect({t.index: float(len(t.players)) for t in todo})
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
                append_text(path, pd.DataFrame([row]).to_csv(header=header, index=False))
            progress.point(outcome)
        interrupted = False
    finally:
        progress.finish(interrupted)
    return rows


def _demand_value(case: Case, members: dict[str, list[str]]) -> dict[str, float]:
    """Each player's demand at its layers' unit value: the weights of the proportional split.

    On a pathway, summed over the periods with their weights (each period's demand after
    its targets), as the costs are.
    """
    from solver.case.periods import period_cases, uses_pathway

    if not uses_pathway(case):
        return _one_period_value(case, members)
    total = dict.fromkeys(members, 0.0)
    for period, case_t in period_cases(case):
        for player, value in _one_period_value(case_t, members).items():
            total[player] += period.weight * value
    return total


def _one_period_value(case: Case, members: dict[str, list[str]]) -> dict[str, float]:
    unit = case.layers.set_index("layer")["unit_value"]
    d = case.demand
    val = d["demand"].to_numpy(dtype=float) * d["layer"].map(unit).to_numpy(dtype=float)
    by_member = pd.Series(val).groupby(d["member"].to_numpy()).sum()
    return {p: float(sum(by_member.get(m, 0.0) for m in ms)) for p, ms in members.items()}


def write_share(result: ShareResult, out: Path, unit: str | None = None) -> None:
    """Write ``players.csv``, ``groups.csv``, ``summary.json`` and ``plots/`` in ``out``."""
    from solver.report.cells import safe_frame
    from solver.report.writing import write_csv, write_json

    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "players.csv", safe_frame(result.players))
    write_csv(out / "groups.csv", safe_frame(result.groups))
    write_json(out / "summary.json", result.summary)
    from solver.report.plots import savings_plot

    savings_plot(result.players, out / "plots" / "savings.png", unit=unit)


def verdict(result: ShareResult, split: str = "shapley") -> str:
    """The stability of a split in a minister's words, claiming only what was established."""
    info = result.summary["most_blocking"].get(split)
    tol = 1e-6 * max(abs(result.summary["grand_cost"]), 1.0)
    if not info or info.get("excess") is None:
        status = info.get("status", "not run") if info else "not run"
        return f"not established (the search for a blocking group ended: {status})"
    group, excess = info["group"], float(info["excess"])
    if excess > tol:
        return f"{group} would pay {excess:,.4g} less alone"
    saves = f"saves {-excess:,.4g} inside" if -excess > tol else "saves nothing inside"
    closest = f"the closest, {group}, {saves}" if group else ""
    if info.get("established", True):
        return "no group of members pays less alone" + (f"; {closest}" if closest else "")
    if info.get("method") == "separation":
        bound = "none" if info.get("bound") is None else f"{float(info['bound']):,.4g}"
        return (f"not established: the separation MIP stopped ({info.get('status')}) with "
                f"no group found that pays less alone, its bound on the excess {bound}; "
                f"{closest}")
    return f"no group found that pays less alone, but not every group was checked; {closest}"


def core_verdict(result: ShareResult) -> str:
    """Whether some split leaves no group better off alone, as far as established."""
    s = result.summary
    low, high = s["least_core"], s.get("least_core_bound", s["least_core"])
    if s["core_empty"] is True:
        return (f"the core is empty (least-core value {low:,.4g}): every split leaves some "
                "group paying less alone")
    if s["core_empty"] is False:
        return f"the core is not empty (least-core value {low:,.4g})"
    where = f"at least {low:,.4g}" if high is None else f"between {low:,.4g} and {high:,.4g}"
    return f"whether the core is empty is not established (least-core value {where})"


__all__ = ["ShareResult", "core_verdict", "share", "verdict"]
