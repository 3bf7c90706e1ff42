"""Sensitivity sweeps: the same case solved over a grid of overrides, locally or on Dask.

A sweep varies override keys (README, The case format) over values, ``--vary K=SPEC``, where SPEC is
``a:b:step`` (inclusive), ``v1,v2,...``, or, after ``K*=``, multipliers ``f1,f2,...``.
``grid`` mode solves every combination; ``one-at-a-time`` mode solves the base case and
each key's values with the other keys at the base (the points of a tornado chart).

Each worker keeps one persistent model: when a point changes only numbers (costs, shares,
capacities, demands), the model's mutable parameters are updated and HiGHS re-solves
(cold: a point's answer is the same whichever worker solves it after whichever point). The
model is rebuilt only when a point
changes its structure (trust, routes, membership) or a number that is not a parameter.

Points run in this process (``workers=1``), in local processes, or on an existing Dask
cluster (``scheduler=ADDRESS``). Each finished point is appended to the output folder at
once, so an interrupted sweep keeps what finished and ``resume=True`` computes only the
missing points: the files of :mod:`solver.studies.sweep.folder` (``sweep.csv``,
``sweep_layers.csv``, ``allocations.csv``, ``sweep.json``) and ``plots/`` (objective and
cost terms against each varied key; a tornado chart in one-at-a-time mode).

The parts: :mod:`~solver.studies.sweep.grid` (the axes and points),
:mod:`~solver.studies.sweep.point_solver` (one persistent model),
:mod:`~solver.studies.engine.executor` (where points run), :mod:`~solver.studies.sweep.folder`
(the files, appended and resumed) and :mod:`~solver.studies.engine.progress`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.errors import UsageError
from solver.market_tables import MARKET_TERMS
from solver.results import COST_TERMS
from solver.studies.engine.executor import execute
from solver.studies.engine.progress import Progress
from solver.studies.engine.scheduler import connect, scheduler_address
from solver.studies.sweep.folder import SweepFolder, refuse_existing
from solver.studies.sweep.grid import (
    MODES,
    Point,
    check_count,
    check_keys,
    make_points,
    mutable_columns,
    parse_vary,
)
from solver.studies.sweep.point_solver import RESULT_COLUMNS, Settings


def sweep(
    case: Case,
    vary: Sequence[str] | None = None,
    *,
    mode: str | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    plots: bool = True,
    persistent: bool = True,
    progress: Progress | None = None,
    yes: bool = False,
    warn: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Solve ``case`` at every point of a sweep; return one row per point (``sweep.csv``).

    ``vary`` is a list of ``KEY=SPEC`` strings (default: the model file's ``[sweep]``),
    ``mode`` is ``grid`` or ``one-at-a-time``. Points run in ``workers`` local processes
    (default: the machine's cores; 1 runs them in this process) or on the Dask cluster at
    ``scheduler`` (an address, or a cluster or client object with ``scheduler_address``).
    With ``out`` each finished point is appended to the folder's files at once;
    ``resume=True`` continues a sweep in ``out``, computing only missing points.
    ``persistent=False`` rebuilds the model for every point (for comparison).
    A point that fails is a row with its status and reason; the sweep goes on.
    Ctrl-C (KeyboardInterrupt) stops the sweep; what finished stays written.
    More than :data:`~solver.studies.sweep.grid.SOFT_POINTS` points are told to ``warn`` (default:
    a logged warning); more than :data:`~solver.studies.sweep.grid.HARD_POINTS` raise
    :class:`~solver.errors.UsageError` unless ``yes`` (counted from the axes, before any
    point is made).
    """
    from solver.case.periods import uses_pathway

    if scheduler is not None:
        scheduler_address(scheduler)  # a malformed address is refused before anything else
    axes = [parse_vary(v) for v in (vary if vary else case.sweep.vary)]
    check_keys(case, axes)
    mode = mode or case.sweep.mode
    if mode in MODES:
        check_count(axes, mode, yes=yes, warn=warn)  # before a single point is made
    if resume and out is None:
        raise UsageError("resume needs the output folder of the sweep to continue")
    if out is not None:
        refuse_existing(Path(out), resume=resume, force=force)
    points = make_points(axes, mode)
    columns = ["point", *(a.column for a in axes), *RESULT_COLUMNS]
    if uses_pathway(case):  # the installed base's discounted cost (README, Pathways)
        columns.append("cost_existing")
    if case.has_markets:  # their revenue and entry (README, Markets outside the coalition)
        columns += [f"cost_{t}" for t in MARKET_TERMS]
    settings = Settings(mutable=mutable_columns(axes), persistent=persistent)
    meta = {"case": case.name, "case_sha256": case.sha256, "vary": [str(a) for a in axes],
            "mode": mode, "points": len(points), "unit": case.unit}

    def draw(table: pd.DataFrame) -> None:
        if out is not None and plots:
            from solver.report.plots import sweep_plots

            sweep_plots(table, axes, mode, Path(out) / "plots", unit=case.unit)

    return solve_points(case, settings, points, columns, meta, workers=workers,
                        scheduler=scheduler, out=out, resume=resume, force=force,
                        progress=progress, then=draw)


def solve_points(case: Case, settings: Settings, points: Sequence[Point], columns: list[str],
                 meta: dict[str, Any], *, workers: int | None, scheduler: Any,
                 out: str | Path | None, resume: bool, force: bool,
                 progress: Progress | None, folder_type: type[SweepFolder] = SweepFolder,
                 then: Callable[[pd.DataFrame], None] | None = None) -> pd.DataFrame:
    """Solve a study's ``points`` on the engine; return their table (:func:`point_table`).

    With ``out``, a ``folder_type`` folder (made with ``meta``) gets each finished point at
    once, and with ``resume`` only the points it lacks are solved. ``scheduler`` is joined
    before the folder is made, so that one that does not answer leaves nothing behind.
    ``then`` is given the table while the folder is still this study's alone (to write its
    plots and other files).
    """
    client = connect(scheduler) if scheduler is not None else None
    try:
        folder = folder_type(Path(out), meta, columns, resume=resume, force=force) \
            if out is not None else None
    except BaseException:
        if client is not None:
            client.close()
        raise
    try:
        table = _run(case, points, columns, settings, folder, client, workers, progress)
        if then is not None:
            then(table)
        return table
    finally:
        if folder is not None:
            folder.release()


def _run(case: Case, points: Sequence[Point], columns: list[str], settings: Settings,
         folder: SweepFolder | None, client: Any, workers: int | None,
         progress: Progress | None) -> pd.DataFrame:
    """Solve the points not yet done in ``folder``; the table of every point."""
    done = {p.index: folder.done[p.index] for p in points if folder and folder.is_done(p)}
    todo = [p for p in points if p.index not in done]
    rows: dict[int, dict[str, Any]] = dict(done)
    progress = progress or Progress()
    progress.start(len(points), len(done))
    n_workers = min(workers or os.cpu_count() or 1, max(len(todo), 1))
    outcomes = execute(case, settings, todo, workers=n_workers, client=client)
    interrupted = True
    try:
        for outcome in outcomes:
            rows[outcome.point.index] = outcome.row
            if folder is not None:
                folder.append(outcome)
            progress.point(outcome)
        interrupted = False
    finally:
        if folder is not None:
            folder.close()
        progress.finish(interrupted)
    table = point_table(rows, columns)
    if folder is not None:
        folder.finalize(table)
    return table


def point_table(rows: dict[int, dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """The rows of a study's points, in point order, with typed columns (``sweep.csv``)."""
    table = pd.DataFrame([rows[i] for i in sorted(rows)]).reindex(columns=columns)
    extra = [c for c in ("cost_existing", *(f"cost_{t}" for t in MARKET_TERMS)) if c in table]
    for col in ("objective", "bound", "gap", *(f"cost_{t}" for t in COST_TERMS), "seconds",
                "solve_seconds", *extra):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    table["point"] = table["point"].astype(int)
    for col in ("verified", "rebuilt"):
        table[col] = table[col].map(_bool).astype("boolean")
    table["reason"] = table["reason"].astype(object).where(table["reason"].notna(), "")
    table["reason"] = table["reason"].astype(str)
    return table.reset_index(drop=True)


def _bool(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, str) and x in ("True", "False"):
        return x == "True"
    return pd.NA


__all__ = ["sweep"]
