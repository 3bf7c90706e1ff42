"""Near-optimal alternatives (README, Near-optimal alternatives): how different can plans be.

The least-cost plan is one of many that cost almost the same. :func:`alternatives` finds,
within a slack ``e`` on cost, the plans that host as differently as possible from the optimum
and from each other, or the plan that pushes one quantity (``participation[IN]``,
``suppliers[telecom]``, ``share[TW,semiconductors]``, ``hosts[IN]``, with markets
``reach[BR]`` or ``reach``) furthest. The searches run
on one persistent model (:mod:`solver.studies.alternatives.search`); every plan is a verified
run folder, and ``alternatives.csv`` lists them side by side.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from solver.case.loader import Case
from solver.errors import UsageError, VerificationError
from solver.studies.alternatives.folder import (
    TABLE,
    check_folder,
    prepare,
    write_plan,
    write_table,
)
from solver.studies.alternatives.pathway import keyed
from solver.studies.alternatives.search import (
    AlternativeSolver,
    Found,
    SearchOutcome,
    SearchSettings,
    SearchTask,
    key_parts,
)
from solver.studies.engine.folder import FolderLock

#: The first columns of ``alternatives.csv``; per-partner and per-layer columns follow.
TABLE_COLUMNS = ("plan", "search", "slack", "cost", "increase", "increase_pct", "verified",
                 "hosts_changed", "distance", "gained", "lost", "value", "shifts")

#: The most plans one search looks for: each is two MILP solves and a row of the model.
MAX_COUNT = 100

#: How many partners' participation ``alternatives.csv`` shows (those that changed most).
SHIFTED_PARTNERS = 5


@dataclass
class Alternatives:
    """The plans found: ``table`` (``alternatives.csv``), the Results, and why searches ended.

    ``plans`` maps each plan's name to its Result (a plan a resumed search read back from
    its run folder is a :class:`~solver.studies.alternatives.folder.WrittenPlan`).
    """

    table: pd.DataFrame
    optimum: Any
    plans: dict[str, Any] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    key: str | None = None


def alternatives(
    case: Case,
    slack: float | Sequence[float] = 0.05,
    count: int = 3,
    *,
    maximize: str | None = None,
    minimize: str | None = None,
    out: str | Path | None = None,
    force: bool = False,
    workers: int = 1,
    scheduler: Any = None,
    progress: Any = None,
    plots: bool = True,
    resume: bool = False,
) -> Alternatives:
    """Plans costing at most ``(1 + slack)`` times the optimum, as different as possible.

    Without a direction: up to ``count`` plans for each slack, each maximising the number of
    hosting decisions in which it differs from the nearest of the optimum and the plans
    found before it, then the cheapest at that distance; a search ends early when no plan
    within the slack differs (``Alternatives.stopped`` says so). With ``maximize`` or
    ``minimize`` KEY: for each slack, the plan that pushes KEY furthest, then the cheapest
    plan that reaches it (``count`` is not used). ``slack`` 0 asks for plans exactly as cheap.

    Several slacks are independent searches: with ``workers`` > 1 they run in local
    processes, or on the Dask cluster at ``scheduler``. With ``out``: ``optimum/`` and one
    run folder per plan, ``alternatives.csv`` (rewritten as each plan is found, so an
    interruption keeps the plans found) and, for a direction, ``plots/alternatives.png``.
    ``resume=True`` goes on in ``out`` after an interruption: the plans written there are
    read back (a search continues from them) and only the rest are searched for; the
    folder must have been made for the same case, slacks, count and direction.
    ``progress`` (a :class:`~solver.studies.engine.steps.Steps`) is told of each plan.
    Raises :class:`~solver.errors.UsageError` for a bad slack, count (1 to
    :data:`MAX_COUNT`) or key, :class:`~solver.errors.InfeasibleError` for a case with no
    plan, and :class:`~solver.errors.VerificationError` if the independent checker rejects a
    plan (the plans found before it are kept).
    """
    slacks = _slacks(slack)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise UsageError(f"count {count!r}: must be a whole number from 1 to {MAX_COUNT}")
    if maximize is not None and minimize is not None:
        raise UsageError("give --maximize or --minimize, not both")
    key = maximize if maximize is not None else minimize
    sense = 0 if key is None else (1 if maximize is not None else -1)
    if key is not None:
        key_parts(key)  # the form, before anything is solved; the ids once the model is built
        key = "".join(key.split())
    if resume and out is None:
        raise UsageError("resume needs the out folder of the search to continue")
    from solver.studies.engine.scheduler import scheduler_address

    if scheduler is not None:
        scheduler_address(scheduler)  # a malformed address is refused before any solve
    if out is None:
        return _search(case, slacks, count, key, sense, None, resume, workers, scheduler,
                       progress, plots)
    check_folder(Path(out), force=force, resume=resume)
    with FolderLock(Path(out)):  # one writer at a time
        return _search(case, slacks, count, key, sense, Path(out), resume, workers,
                       scheduler, progress, plots)


def _search(case: Case, slacks: list[float], count: int, key: str | None, sense: int,
            folder: Path | None, resume: bool, workers: int, scheduler: Any, progress: Any,
            plots: bool) -> Alternatives:
    """The searches of :func:`alternatives`, once its arguments and folder are checked."""
    from solver.case.periods import uses_pathway
    from solver.diagnose.presolve import find_infeasibilities
    from solver.solve import check_design, presolve_error
    from solver.studies.engine.scheduler import connect

    pathway = uses_pathway(case)
    solver: Any
    if pathway:  # built anew per solve (studies/alternatives/pathway.py)
        from solver.studies.alternatives.pathway import PathwaySearch

        solver = PathwaySearch(case, key=key)
    else:
        check_design(case)
        findings = find_infeasibilities(case)
        if findings:
            raise presolve_error(case, findings)
        solver = AlternativeSolver(case, slots=count if sense == 0 else 1, key=key)
    meta = {"case_sha256": case.sha256, "slacks": slacks, "count": count, "key": key,
            "sense": sense}
    # The cluster is joined, and the optimum found, before the folder is made or emptied:
    # a cluster that does not answer or an optimum that fails leaves an earlier search whole.
    # Only several slacks are searches to send out.
    client = connect(scheduler) \
        if scheduler is not None and len(slacks) > 1 and not pathway else None
    try:
        optimum = solver.solve_optimum()
        if not optimum.verified:
            raise VerificationError(optimum.violations, result=optimum)
        written = prepare(folder, meta, resume=resume, case=case) \
            if folder is not None else {}
    except BaseException:
        if client is not None:
            client.close()
        raise
    found = Alternatives(table=pd.DataFrame(), optimum=optimum, key=key)
    tasks = []
    for i, s in enumerate(slacks):
        task = SearchTask(index=i, slack=s, count=count if sense == 0 else 1, key=key,
                          sense=sense)
        earlier = []
        for number in range(1, task.count + 1):
            name = plan_name(task, number, len(slacks) > 1)
            before = written.get(name)
            if before is None:
                break
            distance = int(before.summary.get("alternative", {}).get("distance", 0))
            found.plans[name] = Found(task=task, number=number, result=before,
                                      distance=distance, seconds=0.0)
            earlier.append(before.hosts)
        if len(earlier) < task.count:
            tasks.append(replace(task, earlier=tuple(earlier)))
    if folder is not None and not (resume and (folder / "optimum" / "summary.json").is_file()):
        write_plan(optimum, folder / "optimum")
    if progress is not None:
        progress.start("alternatives", sum(t.count - len(t.earlier) for t in tasks),
                       unit="plan")
    assert solver.optimum is not None
    if client is not None and len(tasks) <= 1:
        client.close()
        client = None
    outcomes = _outcomes(case, solver, tasks, workers, client)
    try:
        for outcome in outcomes:
            for plan in outcome.plans:
                name = plan_name(plan.task, plan.number, len(slacks) > 1)
                if not plan.result.verified:
                    # Kept out of the folder and the table; the plans before it stay.
                    raise VerificationError(plan.result.violations, result=plan.result)
                found.plans[name] = plan
                if folder is not None:
                    write_plan(plan.result, folder / name)
                found.table = plan_table(optimum, found.plans, key)
                if folder is not None:
                    write_table(found.table, folder / TABLE)
                if progress is not None:
                    progress.step(_step_text(name, plan, solver.optimum.cost))
            if outcome.stopped:
                found.stopped.append(f"slack {outcome.task.slack:g}: {outcome.stopped}")
    finally:
        if progress is not None:
            progress.finish()
    found.table = plan_table(optimum, found.plans, key)
    if folder is not None:
        write_table(found.table, folder / TABLE)
        if plots and key is not None and found.plans:
            from solver.report.plots import alternatives_plot

            alternatives_plot(found.table, key, folder / "plots" / "alternatives.png")
    found.plans = {name: plan.result for name, plan in found.plans.items()}
    return found


def _slacks(slack: float | Sequence[float]) -> list[float]:
    values = [slack] if isinstance(slack, int | float) else list(slack)
    if not values:
        raise UsageError("--slack: give at least one value")
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value) or value < 0:
            raise UsageError(f"--slack {value!r}: must be a number >= 0, the extra cost "
                             "allowed as a fraction of the optimum (0.03 is 3%)")
        out.append(float(value))
    return sorted(set(out))


def _outcomes(case: Case, solver: AlternativeSolver, tasks: list[SearchTask], workers: int,
              client: Any) -> Iterable[SearchOutcome]:
    """Each search's outcome: here, plan by plan, or whole searches from workers.

    ``client`` (a Dask client, closed when the searches end) sends them to its cluster.
    """
    if len(tasks) > 1 and (client is not None or workers > 1) and \
            isinstance(solver, AlternativeSolver):  # a pathway's searches run here
        from solver.studies.engine.executor import execute

        assert solver.optimum is not None
        settings: Any = SearchSettings(slots=solver.near.slots, key=tasks[0].key,
                                       optimum=solver.optimum)
        # The engine of every study, with searches for tasks: it only calls solver.run(task).
        return execute(case, settings, tasks, workers=min(workers, len(tasks)), client=client)
    return _here(solver, tasks)


def _here(solver: AlternativeSolver, tasks: list[SearchTask]) -> Iterable[SearchOutcome]:
    """The searches in this process, on the model that found the optimum, one plan at a time.

    Each plan is sent on as soon as it is found (an outcome holding just that plan), so that
    it is written before the next search starts.
    """
    for task in tasks:
        outcome = SearchOutcome(task=task)
        for plan in solver.search(task, outcome):
            yield SearchOutcome(task=task, plans=[plan])
        yield SearchOutcome(task=task, stopped=outcome.stopped)


def plan_name(task: SearchTask, number: int, several_slacks: bool) -> str:
    """The plan's folder name.

    ``alternative-2``, ``slack-0.03-alternative-1`` (several slacks) or
    ``maximize-participation-IN-slack-0.03``.
    """
    if task.sense:
        verb = "maximize" if task.sense > 0 else "minimize"
        key = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(task.key)).strip("-")
        return f"{verb}-{key}-slack-{task.slack:g}"
    prefix = f"slack-{task.slack:g}-" if several_slacks else ""
    return f"{prefix}alternative-{number}"


def _step_text(name: str, plan: Found, optimum: float) -> str:
    cost = float(plan.result.objective)
    rise = (cost - optimum) / abs(optimum) if optimum else 0.0
    return f"{name}: cost {cost:,.6g} ({rise:+.2%}), {plan.distance} hosting decisions differ"


def _hosted(result: Any) -> pd.Series:
    frame = keyed(result.allocation, "layer")
    return pd.Series(frame["hosted"].to_numpy(dtype=bool),
                     index=pd.MultiIndex.from_frame(frame[["partner", "layer"]]))


def direction_value(result: Any, key: str) -> float:
    """The value of a direction KEY in a plan, read from its (checked) tables.

    On a pathway, the sum over its periods (:mod:`solver.studies.alternatives.pathway`).
    """
    kind, first, second = key_parts(key)
    if kind == "reach":
        markets = getattr(result, "markets", None)
        if markets is None or markets.empty:
            return 0.0
        mine = markets[markets["market"].astype(str) == first] if first else markets
        if "period" not in mine:
            total = float(mine["demand"].sum())
            return float(mine["supplied"].sum()) / total if total > 0 else 0.0
        return float(sum(float(rows["supplied"].sum()) / float(rows["demand"].sum())
                         for _, rows in mine.groupby(mine["period"].astype(str))
                         if float(rows["demand"].sum()) > 0))
    if kind in ("participation", "hosts"):
        frame, column = result.partners, ("participation" if kind == "participation"
                                          else "layers_hosted")
        return float(frame.loc[frame["partner"].astype(str) == first, column].sum())
    if kind == "suppliers":
        frame = result.layers
        return float(frame.loc[frame["layer"].astype(str) == first, "suppliers"].sum())
    frame = result.allocation
    row = frame[(frame["partner"] == first) & (frame["layer"] == second)]
    return float(row["share"].sum())


def plan_table(optimum: Any, plans: dict[str, Found], key: str | None) -> pd.DataFrame:
    """``alternatives.csv``: the optimum, then each plan, side by side (module docstring)."""
    base_cost = float(optimum.objective)
    base_hosted = _hosted(optimum)
    base_part = keyed(optimum.partners, "partner").set_index("partner")["participation"]
    # Workers finish in any order; the table follows the searches' order.
    plans = dict(sorted(plans.items(), key=lambda kv: (kv[1].task.index, kv[1].number)))
    results = {"optimum": optimum, **{n: p.result for n, p in plans.items()}}
    shifts = {n: keyed(r.partners, "partner").set_index("partner")["participation"]
              .reindex(base_part.index)
              - base_part for n, r in results.items()}
    moved = pd.concat(shifts, axis=1).abs().max(axis=1) if shifts else pd.Series(dtype=float)
    shown = [p for p in moved.sort_values(ascending=False, kind="stable").index
             if moved[p] > 1e-9][:SHIFTED_PARTNERS]
    rows = []
    for name, result in results.items():
        plan = plans.get(name)
        cost = float(result.objective)
        hosted = _hosted(result).reindex(base_hosted.index, fill_value=False)
        gained = hosted & ~base_hosted
        lost = base_hosted & ~hosted
        row: dict[str, Any] = {
            "plan": name,
            "search": "least cost" if plan is None else _search_label(plan.task),
            "slack": None if plan is None else plan.task.slack,
            "cost": cost, "increase": cost - base_cost,
            "increase_pct": 100.0 * (cost - base_cost) / abs(base_cost) if base_cost else 0.0,
            "verified": bool(result.verified),
            "hosts_changed": int(gained.sum() + lost.sum()),
            "distance": 0 if plan is None else plan.distance,
            "gained": _pairs(gained), "lost": _pairs(lost),
            "value": direction_value(result, key) if key is not None else None,
            "shifts": _shifts(shifts[name], shown),
        }
        part = keyed(result.partners, "partner").set_index("partner")["participation"]
        for p in shown:
            row[f"participation[{p}]"] = float(part.get(p, 0.0))
        layers: Any = keyed(result.layers, "layer").set_index("layer")
        for layer in layers.index:
            row[f"suppliers[{layer}]"] = int(layers.at[layer, "suppliers"])
        for layer in layers.index:
            row[f"hhi[{layer}]"] = float(layers.at[layer, "hhi"])
        rows.append(row)
    table = pd.DataFrame(rows)
    if key is None:
        table = table.drop(columns="value")
    return table


def _search_label(task: SearchTask) -> str:
    if task.sense:
        return f"{'maximize' if task.sense > 0 else 'minimize'} {task.key}"
    return "most different"


def _pairs(mask: pd.Series) -> str:
    return "; ".join(f"{key[0]}:{key[1]}" for key, on in mask.items()  # type: ignore[index]
                     if on)


def _shifts(change: pd.Series, shown: list[str]) -> str:
    parts = [f"{p} {100 * change[p]:+.1f} pt" for p in shown
             if abs(float(change.get(p, 0.0))) > 5e-4]
    return ", ".join(parts)


__all__ = ["Alternatives", "alternatives", "direction_value", "plan_table"]
