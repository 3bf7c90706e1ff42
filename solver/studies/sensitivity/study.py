"""The sensitivity study (README, Global sensitivity): which assumptions move the answer.

The points SALib samples are numbers-only changes of one persistent model, solved on the
engine of every study: re-solved (:class:`~solver.studies.sweep.point_solver.PointSolver`),
here, in local worker processes or on Dask, each verified by the independent checker and
appended to samples.csv as it finishes, so that Ctrl-C keeps them and ``resume`` solves only
the rest. Indices are computed from the rows of samples.csv once every point has a plan:

``samples.csv``
    a row per point: the parameter values, status, reason, the total cost (``objective``),
    each cost term, each requested output, and the point's overrides.
``indices.csv``
    a row per (parameter, output): the method's indices and their confidence.
``sensitivity.json``
    what was run (the case, method, parameters, samples, seed, outputs), for ``resume``; the
    model file's ``unit`` and each output's unit (``units``).
``plots/``
    per output, Morris's mu* against sigma, or Sobol's S1 and ST bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from solver.case.loader import Case
from solver.errors import CoalitionError, UsageError
from solver.market_tables import MARKET_TERMS
from solver.report.cells import safe_frame
from solver.report.writing import write_csv
from solver.studies.engine.progress import Progress
from solver.studies.engine.scheduler import scheduler_address
from solver.studies.sensitivity import methods
from solver.studies.sensitivity.outputs import (
    ALWAYS,
    Metric,
    check_outputs,
    parse_output,
    unit,
)
from solver.studies.sensitivity.params import check_params, parse_param, points
from solver.studies.sweep.folder import SweepFolder, cannot_write, refuse_existing
from solver.studies.sweep.grid import HARD_POINTS, Axis, mutable_columns
from solver.studies.sweep.point_solver import (
    RESULT_COLUMNS,
    RETRY,
    PointOutcome,
    PointSolver,
    Settings,
)
from solver.studies.sweep.sweep import solve_points


class FailedSamples(CoalitionError):
    """Some points have no plan: no index is computed (exit 3); ``samples`` has every row."""

    exit_code = 3

    def __init__(self, message: str, samples: pd.DataFrame) -> None:
        self.samples = samples
        super().__init__(message)


@dataclass(frozen=True)
class SampleSettings(Settings):
    """How a worker solves points of a sensitivity study: a sweep's, plus the outputs."""

    metrics: tuple[Metric, ...] = ()

    def make_solver(self, case: Case) -> SampleSolver:
        """The worker's persistent solver (``executor.new_solver``)."""
        return SampleSolver(case, self)


class SampleSolver(PointSolver):
    """A sweep's point solver that measures the study's outputs of each plan."""

    settings: SampleSettings

    def outputs(self, result: Any) -> dict[str, Any]:
        """The requested metrics of the plan."""
        return {m.name: m.measure(result) for m in self.settings.metrics}

    def run(self, point: Any) -> PointOutcome:
        """Solve one point; only its row is kept (samples.csv has no per-layer tables)."""
        outcome = super().run(point)
        outcome.layers = outcome.allocation = None
        return outcome


class SampleFolder(SweepFolder):
    """The output folder of a sensitivity study: samples.csv appended as points finish."""

    study = "sensitivity"
    files: ClassVar[dict[str, str]] = {"sweep": "samples.csv"}
    resumed = (("case_sha256", "the case or its overrides changed"),
               ("method", "the method changed"),
               ("params", "the parameters or their ranges changed"),
               ("samples", "the number of samples changed"),
               ("seed", "the seed changed"),
               ("outputs", "the outputs changed"))

    def __init__(self, out: Path, meta: dict[str, Any], columns: list[str], *,
                 resume: bool, force: bool) -> None:
        super().__init__(out, meta, columns, resume=resume, force=force)
        # indices.csv is written only when every sample has a plan, in this run: one left
        # from an earlier run would stand for samples that are no longer all there.
        try:
            for stale in ("indices.csv", ".indices.csv.partial"):
                (out / stale).unlink(missing_ok=True)
        except OSError as exc:
            self.release()
            raise cannot_write(out, exc) from None


@dataclass
class SensitivityResult:
    """A finished study: ``samples`` (samples.csv) and ``indices`` (indices.csv)."""

    method: str
    params: list[str]
    outputs: list[str]
    samples: pd.DataFrame
    indices: pd.DataFrame
    meta: dict[str, Any]

    def ranking(self, output: str) -> pd.DataFrame:
        """The parameters by their effect on ``output``, largest first (mu* or ST)."""
        rows = self.indices[self.indices["output"] == output]
        return rows.sort_values(methods.RANK_BY[self.method], ascending=False,
                                kind="stable").reset_index(drop=True)

    def unit(self, output: str) -> str | None:
        """The unit of ``output`` (and of Morris's mu, mu* and sigma of it), if it has one.

        As sensitivity.json records it; a folder written before units were recorded there
        gets its cost terms in no unit and its metrics in theirs.
        """
        units = self.meta.get("units")
        if isinstance(units, dict) and output in units:
            return units[output]
        return unit(output, self.meta.get("unit"))


def sensitivity(
    case: Case,
    params: Sequence[str] | None = None,
    *,
    method: str | None = None,
    samples: int | None = None,
    outputs: Sequence[str] | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    scheduler: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    plots: bool = True,
    progress: Progress | None = None,
) -> SensitivityResult:
    """Which of ``params`` move the plan's cost and ``outputs``, alone and together.

    ``params`` are ``KEY=LOW:HIGH`` (or ``KEY*=LOW:HIGH``, multipliers), each uniform on its
    range; ``method`` is ``morris`` (``samples`` trajectories on 4 levels) or ``sobol``
    (``samples`` base points of Saltelli's sampling); ``outputs`` are metrics such as
    ``share[TW,semiconductors]`` (the total cost and each term are always measured).
    Defaults come from the model file's ``[sensitivity]``. Points run here
    (``workers=1``), in local processes, or on the Dask cluster at ``scheduler``; with
    ``out`` each finished point is appended to samples.csv at once and ``resume=True``
    solves only the missing ones. Raises :class:`FailedSamples` (exit 3) when some point
    has no plan, :class:`~solver.errors.UsageError` (exit 2) for a bad parameter or output.
    """
    opts = case.sensitivity_options
    method = method or opts.method
    samples = samples if samples is not None else opts.samples
    seed = seed if seed is not None else opts.seed
    if scheduler is not None:
        scheduler_address(scheduler)
    methods.check_method(method, samples)
    axes = [parse_param(p) for p in (params if params else opts.params)]
    check_params(case, axes)
    metrics = [parse_output(o) for o in (outputs if outputs is not None else opts.outputs)]
    check_outputs(case, metrics)
    total = methods.count(method, samples, len(axes))
    if total > HARD_POINTS:
        raise UsageError(f"--samples {samples} with {len(axes)} parameters makes {total:,} "
                         f"points, more than {HARD_POINTS:,}")
    if resume and out is None:
        raise UsageError("resume needs the output folder of the study to continue")
    if out is not None:
        refuse_existing(Path(out), resume=resume, force=force, study=SampleFolder.study)
    spec = methods.problem(axes)
    todo_all = points(axes, methods.sample(method, spec, samples, seed))
    names = [m.name for m in metrics]
    # With markets.csv their revenue and entry are cost terms too (each sample's model is
    # built anew: studies/sweep/point_solver.py).
    terms = [f"cost_{t}" for t in MARKET_TERMS] if case.has_markets else []
    columns = ["point", *spec["names"], *RESULT_COLUMNS[:-1], *terms, *names,
               RESULT_COLUMNS[-1]]
    meta = {"case": case.name, "case_sha256": case.sha256, "method": method,
            "params": [str(a) for a in axes], "samples": samples, "seed": seed,
            "outputs": names, "terms": terms, "points": len(todo_all), "levels": methods.LEVELS,
            "resamples": methods.RESAMPLES, "confidence": methods.CONFIDENCE}
    # Most samples have a plan: the counting rules are left to HiGHS, not run each time.
    settings = SampleSettings(mutable=mutable_columns(axes), presolve=False,
                              metrics=tuple(metrics))
    measured = [*ALWAYS, *terms, *names]
    units = {o: unit(o, case.unit) for o in measured}
    meta.update(unit=case.unit, units=units)
    found: dict[str, pd.DataFrame] = {}

    def analyse(table: pd.DataFrame) -> None:
        # Under the folder's lock: indices.csv and plots/ are this study's to write.
        for name in [*terms, *names]:
            table[name] = pd.to_numeric(table[name], errors="coerce").astype(float)
        failed = _failed(table)
        if len(failed):
            raise FailedSamples(_failure_message(table, failed, axes, out), table)
        found["indices"] = indices = methods.indices_table(
            method, spec, table[spec["names"]].to_numpy(dtype=float),
            {o: table[o].to_numpy(dtype=float) for o in measured}, seed)
        if out is not None:
            _write_whole(Path(out), "indices.csv", indices)
            if plots:
                from solver.report.plots import sensitivity_plots

                sensitivity_plots(indices, method, Path(out) / "plots", units=units)

    table = solve_points(case, settings, todo_all, columns, meta, workers=workers,
                         scheduler=scheduler, out=out, resume=resume, force=force,
                         progress=progress, folder_type=SampleFolder, then=analyse)
    return SensitivityResult(method=method, params=spec["names"], outputs=measured,
                             samples=table, indices=found["indices"], meta=meta)


def read_study(out: str | Path) -> SensitivityResult:
    """A finished study from its folder: sensitivity.json, samples.csv and indices.csv."""
    import json

    folder = Path(out)
    meta = json.loads((folder / "sensitivity.json").read_text(encoding="utf-8"))
    samples = pd.read_csv(folder / "samples.csv")
    indices = pd.read_csv(folder / "indices.csv")
    params = [parse_param(p).column for p in meta["params"]]
    return SensitivityResult(method=meta["method"], params=params,
                             outputs=[*ALWAYS, *meta.get("terms", []), *meta["outputs"]],
                             samples=samples,
                             indices=indices, meta=meta)


def _failed(table: pd.DataFrame) -> pd.DataFrame:
    """The points without a verified plan."""
    bad = table["objective"].isna() | table["status"].isin(RETRY) | \
        table["verified"].eq(False).fillna(False)
    return table[bad.to_numpy(dtype=bool)]


def _failure_message(table: pd.DataFrame, failed: pd.DataFrame, axes: Sequence[Axis],
                     out: str | Path | None) -> str:
    """How many points failed, over which ranges, the first few, and where they are kept."""
    ranges = ", ".join(f"{a.column} {failed[a.column].min():g} to {failed[a.column].max():g}"
                       for a in axes)
    lines = [f"{len(failed)} of {len(table)} samples have no plan, so no index is computed; "
             f"they fail at {ranges}:"]
    for row in failed.head(5).to_dict("records"):
        why = row["reason"] or row["status"]
        lines.append(f"  point {row['point']} ({row['overrides']}): {row['status']}: {why}")
    if len(failed) > 5:
        lines.append(f"  ... and {len(failed) - 5} more")
    if out is not None:
        lines.append(f"every sample is kept in {Path(out) / 'samples.csv'}")
    return "\n".join(lines)


def _write_whole(out: Path, name: str, frame: pd.DataFrame) -> None:
    """Write a whole table (indices.csv) at once: complete or not at all."""
    try:
        write_csv(out / name, safe_frame(frame))
    except OSError as exc:
        raise cannot_write(out, exc) from None


__all__ = ["FailedSamples", "SensitivityResult", "read_study", "sensitivity"]
