"""Sensitivity sweeps: the same case solved over a grid of overrides, locally or on Dask.

A sweep varies override keys (SPEC section 4) over values, ``--vary K=SPEC``, where SPEC is
``a:b:step`` (inclusive), ``v1,v2,...``, or, after ``K*=``, multipliers ``f1,f2,...``.
``grid`` mode solves every combination; ``one-at-a-time`` mode solves the base case and
each key's values with the other keys at the base (the points of a tornado chart).

Each worker keeps one persistent model: when a point changes only numbers (costs, shares,
capacities, demands), the model's mutable parameters are updated and HiGHS re-solves,
warm-started from the worker's previous plan. The model is rebuilt only when a point
changes its structure (trust, routes, membership) or a number that is not a parameter.

Points run in this process (``workers=1``), in local processes, or on an existing Dask
cluster (``scheduler=ADDRESS``). Each finished point is appended to the output folder at
once, so an interrupted sweep keeps what finished and ``resume=True`` computes only the
missing points:

``sweep.csv``
    one row per point: the varied values, status, reason, objective, cost terms, gap,
    seconds, and whether the point needed a new model (``rebuilt``).
``sweep_layers.csv``
    per point and layer: suppliers, HHI, N-1 coverage (the columns of ``layers.csv``).
``allocations.csv``
    per point and capability pair: the columns of ``allocation.csv``.
``sweep.json``
    what was swept (to check that ``resume`` continues the same sweep).
``plots/``
    objective and cost terms against each varied key; a tornado chart in one-at-a-time mode.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from solver.case import Case
from solver.errors import CaseError, CoalitionError, UsageError
from solver.overrides import Op, OverrideError, make_override
from solver.results import COST_TERMS

MODES = ("grid", "one-at-a-time")

#: Most points one ``--vary`` may give (a guard against a mistyped step).
MAX_VALUES = 10_000

#: The columns of ``sweep.csv`` after the varied keys.
RESULT_COLUMNS = ("status", "reason", "objective", "bound", "gap",
                  *(f"cost_{t}" for t in COST_TERMS),
                  "verified", "rebuilt", "seconds", "solve_seconds", "overrides")

#: Statuses that a resumed sweep computes again (not an answer about the point).
RETRY = {"error"}

#: Solver options a point may not change: HiGHS sets threads once per process.
FIXED_PER_PROCESS = {"solver.threads"}


# ------------------------------------------------------------------ what to vary


@dataclass(frozen=True)
class Axis:
    """One varied key and its values: ``layers.max_share=0.2:0.6:0.1``."""

    key: str
    op: Op
    values: tuple[Any, ...]
    spec: str

    @property
    def column(self) -> str:
        """The key's column in ``sweep.csv`` (``*`` marks a multiplier)."""
        return f"{self.key}*" if self.op == "*=" else self.key

    @property
    def table_column(self) -> str:
        """``TABLE.COLUMN`` of the key, without a row index (``layers.max_share``)."""
        table, _, rest = self.key.partition("[")
        if not rest:
            return self.key
        return table + rest[rest.index("]") + 1:]

    def override(self, value: Any) -> str:
        """The override that sets this axis to ``value``."""
        return f"{self.key}{self.op}{_text(value)}"

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.spec}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def parse_vary(text: str) -> Axis:
    """Parse ``K=SPEC`` or ``K*=SPEC``; raise :class:`UsageError` naming what is wrong.

    SPEC is ``a:b:step`` (from a to b inclusive), or ``v1,v2,...``.
    """
    eq = text.find("=")
    if eq <= 0:
        raise UsageError(f"--vary {text!r}: expected KEY=SPEC or KEY*=FACTORS "
                         "(SPEC is a:b:step or v1,v2,...)")
    op: Op = "*=" if text[eq - 1] == "*" else "="
    key = (text[: eq - 1] if op == "*=" else text[:eq]).strip()
    spec = text[eq + 1:].strip()
    if not spec:
        raise UsageError(f"--vary {text!r}: no values after '{op}'")
    if ":" in spec:
        raw: list[Any] = _range(text, spec)
    else:
        raw = [part.strip() for part in spec.split(",")]
        if any(not part for part in raw):
            raise UsageError(f"--vary {text!r}: an empty value in {spec!r}")
    values = []
    for value in raw:
        try:
            override = make_override(key, op, value)
        except OverrideError as exc:
            raise UsageError(f"--vary {text!r}: {exc}") from None
        values.append(override.value)
    if key in FIXED_PER_PROCESS:
        raise UsageError(f"--vary {text!r}: {key} cannot vary within a sweep (HiGHS sets it "
                         "once per process); pass --threads instead")
    if len(set(map(_text, values))) != len(values):
        raise UsageError(f"--vary {text!r}: a value appears twice")
    return Axis(key=key, op=op, values=tuple(values), spec=spec)


def _range(text: str, spec: str) -> list[float]:
    parts = spec.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        a, b, step = (float(p) for p in parts)
    except ValueError:
        raise UsageError(f"--vary {text!r}: a range is a:b:step with three numbers") from None
    if not all(math.isfinite(x) for x in (a, b, step)) or step == 0:
        raise UsageError(f"--vary {text!r}: the step of a:b:step must be a nonzero number")
    count = (b - a) / step
    if count < -1e-9:
        raise UsageError(f"--vary {text!r}: a step of {step:g} never goes from {a:g} to {b:g}")
    n = math.floor(count + 1e-9) + 1
    if n > MAX_VALUES:
        raise UsageError(f"--vary {text!r}: {n} values (at most {MAX_VALUES})")
    # Rounding keeps 0.1 steps at 0.3, not 0.30000000000000004.
    return [float(f"{a + i * step:.12g}") for i in range(n)]


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its number, its overrides and the varied values."""

    index: int
    overrides: tuple[str, ...]
    values: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        """The overrides as one line, or ``base``."""
        return " ".join(self.overrides) if self.overrides else "base"


def make_points(axes: Sequence[Axis], mode: str = "grid") -> list[Point]:
    """The points of a sweep: every combination (``grid``) or ``one-at-a-time``.

    Grid points run through the first key's values slowest. One-at-a-time starts with the
    base case (no override), then each key's values with the others left at the base.
    """
    if mode not in MODES:
        raise UsageError(f"sweep mode {mode!r}: expected one of {', '.join(MODES)}")
    if not axes:
        raise UsageError("nothing to vary: pass --vary KEY=SPEC, or give the model file a "
                         "[sweep] vary = [...]")
    columns = [a.column for a in axes]
    if len(set(columns)) != len(columns):
        raise UsageError("a key is varied twice: " + ", ".join(columns))
    points: list[Point] = []
    if mode == "grid":
        for combo in itertools.product(*(a.values for a in axes)):
            points.append(Point(
                index=len(points),
                overrides=tuple(a.override(v) for a, v in zip(axes, combo, strict=True)),
                values=tuple((a.column, v) for a, v in zip(axes, combo, strict=True))))
        return points
    points.append(Point(index=0, overrides=(), values=()))
    for axis in axes:
        for v in axis.values:
            points.append(Point(index=len(points), overrides=(axis.override(v),),
                                values=((axis.column, v),)))
    return points


def mutable_columns(axes: Sequence[Axis]) -> frozenset[str]:
    """The override columns that become mutable parameters (numbers, not structure)."""
    from solver.model.numbers import QUANTITIES, STRUCTURAL

    numeric = {c for _, cols in QUANTITIES.values() for c in cols}
    return frozenset(a.table_column for a in axes
                     if a.table_column in numeric and a.table_column not in STRUCTURAL)


# ------------------------------------------------------------------ one point


@dataclass
class PointOutcome:
    """A solved (or failed) point: its ``sweep.csv`` row and its per-layer and plan tables."""

    point: Point
    row: dict[str, Any]
    layers: pd.DataFrame | None = None
    allocation: pd.DataFrame | None = None

    @property
    def failed(self) -> bool:
        """Whether the point has no plan."""
        return self.row.get("objective") is None or self.row["status"] in RETRY


@dataclass(frozen=True)
class Settings:
    """How a worker solves points (sent to every worker process)."""

    mutable: frozenset[str] = frozenset()
    persistent: bool = True
    warm_start: bool = True


class PointSolver:
    """Solves points of one sweep in turn, keeping one persistent model between them.

    ``builds`` counts the models built; a numbers-only sweep builds one.
    """

    def __init__(self, base: Case, settings: Settings) -> None:
        self.base = base
        self.settings = settings
        self.builds = 0
        self._built: Any = None
        self._signature: tuple[Any, ...] | None = None
        self._runner: Any = None
        self._start: dict[str, np.ndarray] = {}

    def run(self, point: Point) -> PointOutcome:
        """Solve one point; a failure becomes a row with its status and reason."""
        start = time.perf_counter()
        try:
            case = self.base
            if point.overrides:
                case = case.with_overrides(list(point.overrides), source=f"point {point.index}")
        except CaseError as exc:
            reason = "; ".join(str(p) for p in exc.problems)
            return _failed(point, "invalid", reason, start)
        try:
            return self._solve(point, case, start)
        except KeyboardInterrupt:
            raise
        except CoalitionError as exc:
            return _failed(point, "error", str(exc), start)
        except Exception as exc:
            return _failed(point, "error", f"{type(exc).__name__}: {exc}", start)

    def _solve(self, point: Point, case: Case, start: float) -> PointOutcome:
        from solver.highs import HighsRunner
        from solver.model.build import build
        from solver.model.data import model_data
        from solver.model.numbers import mutable_quantities, values
        from solver.presolve import find_infeasibilities
        from solver.solve import finish, variable_groups

        # Provably infeasible points are answered from the tables, without HiGHS.
        findings = find_infeasibilities(case)
        if findings:
            more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
            return _failed(point, "infeasible", f"{findings[0]}{more}", start)

        quantities = mutable_quantities(set(self.settings.mutable))
        data = model_data(case, keep_zero_demand="demand" in quantities)
        mutable = self._mutable_for(case)
        signature = _signature(case, data, mutable, quantities)
        rebuild = (not self.settings.persistent or self._built is None
                   or signature != self._signature)
        if not rebuild:
            stale = self._built.num.update(self._built.m, values(case, data))
            rebuild = bool(stale)
        build_seconds = 0.0
        if rebuild:
            t = time.perf_counter()
            self._built = build(case, mutable=mutable)
            build_seconds = time.perf_counter() - t
            self._signature = signature
            self._start = {}
            self.builds += 1
        built = self._built
        built.data = data
        opts = case.solver
        if self._runner is None or not self.settings.persistent:
            self._runner = HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                                       threads=opts.threads)
        runner = self._runner
        runner.time_limit, runner.mip_gap = opts.time_limit, opts.mip_gap
        groups = variable_groups(built.m)
        if self.settings.warm_start and self._start and not rebuild:
            runner.warm_start(built.m, self._start)
        report = runner.solve(built.m, groups)
        result = finish(case, built, report, runner, build_seconds, raise_on_failure=False)
        if report.has_solution:
            self._start = report.values
        row = _row(point, result.status, _reason(result), start)
        row.update(objective=result.objective,
                   bound=result.bound if result.has_solution else None, gap=result.gap,
                   verified=result.verified if result.has_solution else None,
                   rebuilt=rebuild, solve_seconds=report.highs_seconds)
        if result.has_solution:
            row.update({f"cost_{t}": result.costs.get(t) for t in COST_TERMS})
        if result.has_solution and not result.verified:
            row["reason"] = "the independent checker rejected the plan: " + "; ".join(
                str(v) for v in result.violations[:3])
        row["seconds"] = time.perf_counter() - start
        layers = allocation = None
        if result.has_solution:
            layers = _with_point(result.layers, point.index)
            allocation = _with_point(result.allocation, point.index)
        return PointOutcome(point=point, row=row, layers=layers, allocation=allocation)

    def _mutable_for(self, case: Case) -> frozenset[str]:
        # An absent budget has no number to be a parameter of; the point that sets one
        # rebuilds (the mutable set is part of the signature).
        mutable = set(self.settings.mutable)
        if case.objective.budget is None:
            mutable.discard("objective.budget")
        return frozenset(mutable)


def _signature(case: Case, data: Any, mutable: frozenset[str],
               quantities: set[str]) -> tuple[Any, ...]:
    """What must not change between points that share a model: sets and absent numbers."""
    from pandas.util import hash_pandas_object

    def digest(frame: pd.DataFrame) -> bytes:
        return hash_pandas_object(frame, index=False).to_numpy().tobytes()

    parts: list[Any] = [
        mutable,
        digest(data.pairs[["partner", "layer"]]),
        digest(data.rows[["member", "layer"]]),
        digest(data.flows[["exporter", "importer", "layer"]]),
        tuple(data.partners["partner"]), tuple(data.layers["layer"]),
    ]
    if "demand" in quantities:
        parts.append((np.asarray(data.layer_demand) > 0).tobytes())
    if "max_surplus" in quantities:
        parts.append(case.layers["max_surplus"].isna().to_numpy().tobytes())
    return tuple(parts)


def _with_point(frame: pd.DataFrame, index: int) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "point", index)
    return out


def _reason(result: Any) -> str:
    if result.has_solution:
        if result.status == "time_limit":
            return f"stopped at the time limit with a gap of {result.gap:.2e}" \
                if result.gap is not None else "stopped at the time limit"
        return ""
    return {
        "infeasible": "no plan satisfies every requirement (coalition explain tells which)",
        "no_solution": "no feasible plan found within the limits",
        "unbounded": "the model is unbounded",
    }.get(result.status, f"HiGHS stopped: {result.status}")


def _row(point: Point, status: str, reason: str, start: float) -> dict[str, Any]:
    row: dict[str, Any] = {"point": point.index}
    row.update(dict(point.values))
    row.update(dict.fromkeys(RESULT_COLUMNS))
    row.update(status=status, reason=reason, overrides=point.label,
               seconds=time.perf_counter() - start)
    return row


def _failed(point: Point, status: str, reason: str, start: float) -> PointOutcome:
    return PointOutcome(point=point, row=_row(point, status, reason, start))


# ------------------------------------------------------------------ workers

_WORKERS: dict[str, PointSolver] = {}
_WORKER_LOCK = threading.Lock()
_WORKER_BASE: tuple[str, Case, Settings] | None = None


def _solver_for(token: str, case: Case, settings: Settings) -> PointSolver:
    solver = _WORKERS.get(token)
    if solver is None:
        _WORKERS.clear()
        solver = _WORKERS[token] = PointSolver(case, settings)
    return solver


def _init_process(token: str, case: Case, settings: Settings) -> None:
    """Start a local worker process: remember the sweep; Ctrl-C is the parent's to handle.

    The parent stops workers with SIGTERM; exiting through Python (not dying on the signal)
    lets the worker release what it holds (Pyomo creates a multiprocessing lock at import).
    """
    import signal

    global _WORKER_BASE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)
    _WORKER_BASE = (token, case, settings)


def _exit_on_term(signum: int, frame: Any) -> None:
    # Run multiprocessing's exit handlers (they unlink the semaphores), then leave at once:
    # a SystemExit would be caught by the pool's worker loop, and HiGHS may be mid-solve.
    from multiprocessing import util

    util._exit_function()  # type: ignore[attr-defined]
    os._exit(0)


def _run_in_process(point: Point) -> PointOutcome:
    assert _WORKER_BASE is not None
    token, case, settings = _WORKER_BASE
    return _solver_for(token, case, settings).run(point)


def run_on_dask(case: Case, settings: Settings, token: str, point: Point) -> PointOutcome:
    """Solve one point on a Dask worker, keeping the worker's model for its next point.

    HiGHS and Pyomo's output capture want one solve per process at a time: a worker with
    several threads solves its points one after another.
    """
    with _WORKER_LOCK:
        return _solver_for(token, case, settings).run(point)


def _serial(base: Case, settings: Settings, points: Sequence[Point]) -> Iterator[PointOutcome]:
    solver = PointSolver(base, settings)
    for point in points:
        yield solver.run(point)


def _local(base: Case, settings: Settings, token: str, points: Sequence[Point],
           workers: int) -> Iterator[PointOutcome]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_process,
                               initargs=(token, base, settings))
    try:
        pending = {pool.submit(_run_in_process, p) for p in points}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
    except BaseException:
        # Ctrl-C (or a broken worker): stop the points not started and end the workers
        # this sweep started; the points already written stay.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


def _dask(base: Case, settings: Settings, token: str, points: Sequence[Point],
          scheduler: Any) -> Iterator[PointOutcome]:
    from dask.distributed import Client, as_completed

    address = getattr(scheduler, "scheduler_address", scheduler)
    try:
        client = Client(address, set_as_default=False, timeout="30s")
    except OSError as exc:
        raise UsageError(f"--scheduler {address}: cannot connect ({exc})") from None
    futures: list[Any] = []
    try:
        case_future = client.scatter(base, broadcast=True, hash=False)
        futures = [client.submit(run_on_dask, case_future, settings, token, p, pure=False,
                                 key=f"coalition-point-{token}-{p.index}")
                   for p in points]
        for future in as_completed(futures, loop=client.loop):
            yield future.result()
    finally:
        if futures:
            client.cancel(futures)
        client.close()


# ------------------------------------------------------------------ output folder

FILES = {"sweep": "sweep.csv", "layers": "sweep_layers.csv", "allocations": "allocations.csv"}


class SweepFolder:
    """The output folder of a sweep, appended to as points finish."""

    def __init__(self, out: Path, meta: dict[str, Any], columns: list[str], *,
                 resume: bool, force: bool) -> None:
        self.out = out
        self.columns = columns
        self.done: dict[int, dict[str, Any]] = {}
        meta_path = out / "sweep.json"
        if out.exists() and any(out.iterdir()):
            if force:
                for name in [*FILES.values(), "sweep.json"]:
                    (out / name).unlink(missing_ok=True)
                shutil.rmtree(out / "plots", ignore_errors=True)
            elif not resume:
                raise UsageError(f"{out} already exists; pass --resume to continue the sweep "
                                 "in it, or --force to start again")
            elif not meta_path.exists():
                raise UsageError(f"{out} holds no sweep (no sweep.json) to resume")
            else:
                self._check_meta(json.loads(meta_path.read_text(encoding="utf-8")), meta)
                self._load()
        out.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        self._files: dict[str, TextIO] = {}

    def _check_meta(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for key, what in (("case_sha256", "the case or its overrides changed"),
                          ("vary", "the varied keys or values changed"),
                          ("mode", "the mode changed")):
            if old.get(key) != new.get(key):
                raise UsageError(f"cannot resume the sweep in {self.out}: {what} since it "
                                 "started; pass --force to start again")

    def _load(self) -> None:
        path = self.out / FILES["sweep"]
        if not path.exists():
            return
        table = _read(path)
        if table is None or "overrides" not in table or "point" not in table:
            return
        # A row torn by a crash lacks its last column (overrides): that point is not done.
        table = table[table["overrides"].notna() & table["status"].notna()
                      & ~table["status"].isin(RETRY)]
        table = table.drop_duplicates("point", keep="last")
        keep = set(table["point"].astype(int))
        # Keep only complete points, so that the per-point files agree with sweep.csv.
        self._rewrite(FILES["sweep"], table)
        for name in ("layers", "allocations"):
            frame = _read(self.out / FILES[name])
            if frame is not None:
                self._rewrite(FILES[name], frame[frame["point"].astype(int).isin(keep)])
        self.done = {int(r["point"]): {str(k): v for k, v in r.items()}
                     for r in table.to_dict("records")}

    def _rewrite(self, name: str, frame: pd.DataFrame) -> None:
        tmp = self.out / f".{name}.partial"
        frame.to_csv(tmp, index=False)
        os.replace(tmp, self.out / name)

    def is_done(self, point: Point) -> bool:
        """Whether ``point`` finished in an earlier run with the same overrides."""
        row = self.done.get(point.index)
        return row is not None and row.get("overrides") == point.label

    def append(self, outcome: PointOutcome) -> None:
        """Write one finished point to every file at once (one write per file)."""
        row = pd.DataFrame([outcome.row]).reindex(columns=self.columns)
        # The plan first and the row last: a point counts as done once it is in sweep.csv.
        if outcome.allocation is not None:
            self._write("allocations", outcome.allocation)
        if outcome.layers is not None:
            self._write("layers", outcome.layers)
        self._write("sweep", row)

    def _write(self, name: str, frame: pd.DataFrame) -> None:
        path = self.out / FILES[name]
        handle = self._files.get(name)
        if handle is None:
            header = not path.exists() or path.stat().st_size == 0
            handle = self._files[name] = path.open("a", encoding="utf-8", newline="")
            if header:
                handle.write(frame.iloc[:0].to_csv(index=False))
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False)
        handle.write(buf.getvalue())
        handle.flush()

    def close(self) -> None:
        """Close the files (everything written so far stays)."""
        for handle in self._files.values():
            handle.close()
        self._files = {}

    def finalize(self, table: pd.DataFrame) -> None:
        """Rewrite the files sorted by point once every point has finished."""
        self.close()
        self._rewrite(FILES["sweep"], table)
        for name in ("layers", "allocations"):
            frame = _read(self.out / FILES[name])
            if frame is not None:
                # A point solved again after a torn write appears twice: keep its last plan.
                keys = ["point"] + [c for c in ("partner", "layer") if c in frame]
                frame = frame.drop_duplicates(keys, keep="last")
                self._rewrite(FILES[name], frame.sort_values(keys, kind="stable"))


def _read(path: Path) -> pd.DataFrame | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path, keep_default_na=True)


# ------------------------------------------------------------------ progress


class Progress:
    """Told about a sweep's points as they finish; this one says nothing."""

    def start(self, total: int, done: int) -> None:
        """``total`` points, ``done`` of them from an earlier run."""

    def point(self, outcome: PointOutcome) -> None:
        """One more point finished."""

    def finish(self, interrupted: bool = False) -> None:
        """The sweep ended (or was interrupted)."""


@dataclass
class _Counts:
    total: int = 0
    done: int = 0
    failed: int = 0
    new: int = 0
    started: float = field(default_factory=time.perf_counter)

    def times(self) -> tuple[str, str]:
        elapsed = time.perf_counter() - self.started
        left = "?"
        if self.new:
            left = _clock(elapsed / self.new * (self.total - self.done))
        return _clock(elapsed), left


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60:02d}:{s % 60:02d}"


class LineProgress(Progress):
    """One plain line per finished point (for logs and pipes)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.counts = _Counts()

    def start(self, total: int, done: int) -> None:
        """Say how many points there are."""
        self.counts = _Counts(total=total, done=done)
        skipped = f" ({done} done earlier)" if done else ""
        print(f"sweep: {total} points{skipped}", file=self.stream, flush=True)

    def point(self, outcome: PointOutcome) -> None:
        """Print the point's status and objective."""
        c = self.counts
        c.done += 1
        c.new += 1
        c.failed += outcome.failed
        row = outcome.row
        what = row["status"] if row.get("objective") is None else \
            f"{row['status']}, objective {row['objective']:.6g}"
        elapsed, left = c.times()
        print(f"[{c.done}/{c.total}] point {outcome.point.index} ({outcome.point.label}): "
              f"{what}; {c.failed} failed, {elapsed} elapsed, {left} left",
              file=self.stream, flush=True)


class BarProgress(Progress):
    """A progress bar redrawn in place: points done, failed, elapsed and time left.

    A background thread redraws it every second, so the clock moves during a long solve.
    """

    def __init__(self, stream: TextIO, tick: float = 1.0) -> None:
        self.stream = stream
        self.counts = _Counts()
        self.tick = tick
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self, total: int, done: int) -> None:
        """Draw the empty bar and start the clock."""
        self.counts = _Counts(total=total, done=done)
        self._draw()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="sweep-progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            self._draw()

    def point(self, outcome: PointOutcome) -> None:
        """Advance the bar."""
        with self._lock:
            c = self.counts
            c.done += 1
            c.new += 1
            c.failed += outcome.failed
        self._draw()

    def finish(self, interrupted: bool = False) -> None:
        """Stop the clock and end the bar's line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self._draw()
        with self._lock:
            print(file=self.stream, flush=True)

    def _draw(self) -> None:
        with self._lock:
            c = self.counts
            columns = shutil.get_terminal_size((80, 20)).columns
            elapsed, left = c.times()
            text = f" {c.done}/{c.total} points, {c.failed} failed, {elapsed} elapsed, " \
                   f"{left} left"
            width = max(10, min(30, columns - len(text) - 3))
            filled = int(width * c.done / c.total) if c.total else width
            line = f"[{'#' * filled}{'.' * (width - filled)}]{text}"
            pad = max(self._width - len(line), 0)
            self._width = len(line)
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()


def progress_for(stream: TextIO | None = None) -> Progress:
    """A bar on a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)


# ------------------------------------------------------------------ the sweep


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
    warm_start: bool = True,
    progress: Progress | None = None,
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
    """
    axes = [parse_vary(v) for v in (vary if vary else case.sweep.vary)]
    mode = mode or case.sweep.mode
    points = make_points(axes, mode)
    columns = ["point", *(a.column for a in axes), *RESULT_COLUMNS]
    settings = Settings(mutable=mutable_columns(axes), persistent=persistent,
                        warm_start=warm_start)
    meta = {"case": case.name, "case_sha256": case.sha256, "vary": [str(a) for a in axes],
            "mode": mode, "points": len(points)}
    if resume and out is None:
        raise UsageError("resume needs the output folder of the sweep to continue")
    folder = SweepFolder(Path(out), meta, columns, resume=resume, force=force) \
        if out is not None else None
    done = {p.index: folder.done[p.index] for p in points if folder and folder.is_done(p)}
    todo = [p for p in points if p.index not in done]
    rows: dict[int, dict[str, Any]] = dict(done)
    progress = progress or Progress()
    progress.start(len(points), len(done))
    token = uuid.uuid4().hex
    n_workers = min(workers or os.cpu_count() or 1, max(len(todo), 1))
    outcomes: Iterable[PointOutcome]
    if scheduler is not None:
        outcomes = _dask(case, settings, token, todo, scheduler)
    elif n_workers <= 1:
        outcomes = _serial(case, settings, todo)
    else:
        outcomes = _local(case, settings, token, todo, n_workers)
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
    table = _table(rows, columns)
    if folder is not None:
        folder.finalize(table)
        if plots:
            from solver.plots import sweep_plots

            sweep_plots(table, axes, mode, Path(out) / "plots")  # type: ignore[arg-type]
    return table


def _table(rows: dict[int, dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    table = pd.DataFrame([rows[i] for i in sorted(rows)]).reindex(columns=columns)
    for col in ("objective", "bound", "gap", *(f"cost_{t}" for t in COST_TERMS), "seconds",
                "solve_seconds"):
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


def read_sweep(out: str | Path) -> dict[str, pd.DataFrame]:
    """The tables of a sweep folder: ``sweep``, ``layers`` and ``allocations``."""
    folder = Path(out)
    tables = {}
    for name, filename in FILES.items():
        frame = _read(folder / filename)
        if frame is not None:
            tables[name] = frame
    return tables


__all__ = ["Axis", "Point", "PointSolver", "make_points", "parse_vary", "read_sweep", "sweep"]
