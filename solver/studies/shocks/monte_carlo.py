"""``stress --sample N``: random disruptions of a design, re-routed by the recourse LP.

In each draw every partner is lost independently with its ``disruption_risk`` (all its
layers). The draws are made up front from the seed, one row of uniform numbers per draw, so
the same seed gives the same draws whatever the number of workers, the batch size or a
resumed run. Each draw is re-routed by :class:`solver.studies.engine.recourse.Recourse` over the
design's built capacity; batches of draws run in this process, in ``workers`` local
processes, or on a Dask cluster, and each batch is appended to ``draws.csv`` as it finishes
(``resume`` skips the draws already there). The distribution of unmet demand (mean, P95,
CVaR at 95%) per layer and in all goes to ``distribution.csv``, the partners lost in the
worst 5% of draws to ``worst_partners.csv``, and a histogram to ``unmet_histogram.png``.
Over a chain (inputs.csv) each draw also says how much of its unmet final demand a missing
input caused (``through_inputs`` and ``through_<layer>`` in ``draws.csv``, the mean per layer
and in all as ``through_inputs_mean`` in ``distribution.csv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.errors import UsageError
from solver.report.writing import append_text, save_figure, write_csv
from solver.studies.engine.folder import (
    FolderLock,
    check_request,
    read_request,
    read_rows,
    refuse_existing,
    write_request,
)

#: The tail of the distribution reported (P95, CVaR at 95%, worst 5% of draws).
TAIL = 0.95
#: What made a sample's folder (compared on --resume).
REQUEST = "sample.json"
#: The files a sample writes (replaced by --force).
OWN_FILES = ("draws.csv", "distribution.csv", "worst_partners.csv", "unmet_histogram.png")

@dataclass
class Sample:
    """The draws and what they add up to."""

    draws: pd.DataFrame
    distribution: pd.DataFrame
    worst_partners: pd.DataFrame


def draw_losses(case: Case, n: int, seed: int) -> np.ndarray:
    """``lost[i, p]``: whether partner ``p`` is lost in draw ``i`` (same seed, same draws)."""
    risk = case.partners["disruption_risk"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    return rng.random((n, len(risk))) < risk


@dataclass(frozen=True, eq=False)
class Batch:
    """A batch of draws: its number, its first draw and who is lost in each draw."""

    index: int
    first: int
    lost: np.ndarray

    @property
    def label(self) -> str:
        """The draws of the batch, for progress."""
        return f"draws {self.first}-{self.first + len(self.lost) - 1}"


@dataclass
class BatchOutcome:
    """A re-routed batch: unmet demand per layer of each of its draws.

    Over a chain, each row holds the unmet demand per layer and then, per layer, the part of
    it a missing input caused.
    """

    point: Batch
    unmet: np.ndarray
    failed: int = 0
    row: dict[str, Any] = field(default_factory=lambda: {"status": "done", "objective": None})


class BatchSolver:
    """Re-routes batches of draws on one recourse LP, kept between batches."""

    def __init__(self, case: Case, allocation: pd.DataFrame) -> None:
        from solver.studies.engine.recourse import Recourse

        self.lp = Recourse(case, allocation)
        pos = {p: i for i, p in enumerate(case.partners["partner"].tolist())}
        self.pair_partner = np.array([pos[p] for p in self.lp.data.pairs["partner"]],
                                     dtype=np.int64)

    def run(self, batch: Batch) -> BatchOutcome:
        """Unmet demand per layer of each draw of ``batch``."""
        data = self.lp.data
        closed = np.zeros(data.n_flows, dtype=bool)
        n_l = len(data.layers)
        out = np.zeros((len(batch.lost), n_l if self.lp.chain is None else 2 * n_l))
        for i, row in enumerate(batch.lost):
            factor = np.where(row[self.pair_partner], 0.0, 1.0) if len(self.pair_partner) \
                else np.ones(0)
            outcome = self.lp.solve(factor, closed)
            out[i, :n_l] = np.bincount(data.row_layer, weights=outcome.unmet, minlength=n_l)
            if outcome.through_inputs is not None:
                out[i, n_l:] = outcome.through_inputs
        return BatchOutcome(point=batch, unmet=out)


@dataclass(frozen=True, eq=False)
class SampleSettings:
    """What a worker needs to re-route batches (the executor's ``make_solver``)."""

    allocation: pd.DataFrame

    def make_solver(self, case: Case) -> BatchSolver:
        """A solver of batches for ``case``."""
        return BatchSolver(case, self.allocation)


def sample(case: Case, n: int, *, seed: int = 0, allocation: pd.DataFrame | None = None,
           workers: int = 1, scheduler: Any = None, out: str | Path | None = None,
           resume: bool = False, batch: int | None = None, progress: Any = None,
           force: bool = False, period: str | None = None) -> Sample:
    """Draw ``n`` random disruptions of the design and re-route each; see the module.

    ``allocation`` is the design (partner, layer, capacity; default: the case's optimal
    plan). With ``out`` the tables and the histogram are written there; ``resume`` keeps
    the draws an interrupted run of the same request (case, design, ``n``, ``seed``) wrote
    to ``draws.csv``. An ``out`` that holds anything is taken only with ``force`` or
    ``resume`` (the protocol of :mod:`solver.studies.engine.folder`). On a pathway the
    draws of ``period`` (default: the last) hit the capacity in service then (a pathway
    ``allocation`` is taken in that period), under that period's case
    (:mod:`solver.studies.shocks.period`).
    """
    from solver.case.markets import refuse_markets

    refuse_markets(case, "coalition stress --sample")
    from solver.studies.shocks.period import chosen_period, period_of, rows_of

    full = case
    period = chosen_period(full, period)
    case = period_of(full, period, "coalition stress --sample")
    if case is not full:
        from solver.solve import solve

        allocation = rows_of(solve(full).allocation if allocation is None else allocation,
                             period)
    from solver.studies.engine.scheduler import connect, scheduler_address

    if n < 1:
        raise UsageError("--sample must be at least 1")
    if scheduler is not None:
        scheduler_address(scheduler)  # a malformed address is refused before any solve
    batch = batch or max(25, -(-n // 40))
    if allocation is None:
        from solver.solve import solve

        allocation = solve(case).allocation
    layers = case.layers["layer"].astype(str).tolist()
    partners = case.partners["partner"].astype(str).tolist()
    lost = draw_losses(case, n, seed)
    folder = Path(out) if out is not None else None
    done: dict[int, np.ndarray] = {}
    # Joined before the folder is made: a scheduler that does not answer leaves nothing.
    client = connect(scheduler) if scheduler is not None else None
    lock = None
    if folder is not None:
        request = {"command": "stress --sample", "case_sha256": case.sha256,
                   "overrides": [str(o) for o in case.overrides], "sample": n, "seed": seed,
                   "batch": batch, "design_sha256": _design_sha256(allocation),
                   "unit": case.unit}
        try:
            lock, done = _start_folder(folder, request, _columns(layers, case.has_inputs),
                                       resume, force)
        except BaseException:
            if client is not None:
                client.close()
            raise
    try:
        return _draw(case, n, seed, batch, allocation, lost, layers, partners, folder, done,
                     workers, client, progress)
    finally:
        if lock is not None:
            lock.release()


def _design_sha256(allocation: pd.DataFrame) -> str:
    """A fingerprint of the design stressed: the capacity of each pair."""
    import hashlib

    cells = allocation[["partner", "layer", "capacity"]].to_csv(index=False)
    return hashlib.sha256(cells.encode()).hexdigest()


def _draw(case: Case, n: int, seed: int, batch: int, allocation: pd.DataFrame,
          lost: np.ndarray, layers: list[str], partners: list[str], folder: Path | None,
          done: dict[int, np.ndarray], workers: int, client: Any, progress: Any) -> Sample:
    """Draw the batches not ``done``, appending each to ``draws.csv``; the whole sample."""
    from solver.studies.engine.executor import execute

    todo = [i for i in range(0, n, batch) if i not in done]
    batches = [Batch(i // batch, i, lost[i:i + batch]) for i in todo]
    if progress is not None:
        progress.start(len(todo) + len(done), len(done))
    interrupted = True
    try:
        for outcome in execute(case, SampleSettings(allocation), batches, workers=workers,
                               client=client):
            first, unmet = outcome.point.first, outcome.unmet
            done[first] = unmet
            if folder is not None:
                append_text(folder / "draws.csv", _draw_rows(
                    first, unmet, lost, partners, layers).to_csv(header=False, index=False))
            if progress is not None:
                progress.point(outcome)
        interrupted = False
    finally:
        if progress is not None:
            progress.finish(interrupted)
    both = np.vstack([done[i] for i in sorted(done)])
    unmet = both[:, :len(layers)]
    through = both[:, len(layers):] if case.has_inputs else None
    draws = _draw_rows(0, both, lost, partners, layers)
    result = Sample(draws=draws, distribution=distribution(case, unmet, through),
                    worst_partners=worst_partners(case, unmet, lost))
    if folder is not None:
        write_csv(folder / "draws.csv", draws)
        write_csv(folder / "distribution.csv", result.distribution)
        write_csv(folder / "worst_partners.csv", result.worst_partners)
        histogram(draws["unmet"].to_numpy(), folder / "unmet_histogram.png", n, seed,
                  unit=case.unit)
    return result


def _columns(layers: Sequence[str], chained: bool) -> list[str]:
    """The per-layer columns of ``draws.csv``: unmet, then (a chain) through inputs."""
    unmet = [f"unmet_{lay}" for lay in layers]
    return unmet + ([f"through_{lay}" for lay in layers] if chained else [])


def _start_folder(folder: Path, request: dict[str, Any], per_layer: Sequence[str],
                  resume: bool, force: bool) -> tuple[FolderLock, dict[int, np.ndarray]]:
    """Lock ``folder``; with ``resume`` the complete batches of ``draws.csv``, checked."""
    n, batch = int(request["sample"]), int(request["batch"])
    refuse_existing(folder, resume=resume, force=force, request=REQUEST, study="sample")
    lock = FolderLock(folder).acquire()
    chained = any(c.startswith("through_") for c in per_layer)
    header = ["draw", "lost", "unmet", *(["through_inputs"] if chained else []), *per_layer]
    done: dict[int, np.ndarray] = {}
    path = folder / "draws.csv"
    try:
        if resume:
            check_request(folder, read_request(folder, REQUEST), request)
            types = {c: "float" for c in header}
            frame = read_rows(path, {**types, "draw": "int", "lost": "str"})
            frame = frame.drop_duplicates("draw").sort_values("draw")
            starts = frame["draw"].to_numpy(dtype=int) // batch * batch
            for start in np.unique(starts).tolist():
                group = frame[starts == start]
                if len(group) == min(batch, n - start):
                    done[start] = group[list(per_layer)].to_numpy(dtype=float)
            kept = frame[np.isin(starts, list(done))]
            write_csv(path, kept[header])  # the next rows go after whole ones
            return lock, done
        for name in (*OWN_FILES, REQUEST):
            (folder / name).unlink(missing_ok=True)
        write_request(folder, REQUEST, request)
        write_csv(path, pd.DataFrame(columns=header))
    except BaseException:
        lock.release()
        raise
    return lock, done


def _draw_rows(first: int, values: np.ndarray, lost: np.ndarray, partners: Sequence[str],
               layers: Sequence[str]) -> pd.DataFrame:
    """Rows of ``draws.csv``.

    ``values`` holds, per draw, the unmet demand per layer, then (a chain) the part of it
    a missing input caused, per layer.
    """
    idx = np.arange(first, first + len(values))
    names = np.asarray(partners, dtype=object)
    n_l = len(layers)
    chained = values.shape[1] > n_l
    frame = pd.DataFrame({"draw": idx,
                          "lost": [";".join(names[lost[i]]) for i in idx],
                          "unmet": values[:, :n_l].sum(axis=1)})
    if chained:
        frame["through_inputs"] = values[:, n_l:].sum(axis=1)
    for j, name in enumerate(_columns(layers, chained)):
        frame[name] = values[:, j]
    return frame


def _tail(x: np.ndarray) -> tuple[float, float, float]:
    """Mean, P95 and CVaR at 95% (the mean of the worst 5% of draws) of ``x``."""
    ordered = np.sort(x)[::-1]
    k = max(1, int(np.ceil((1 - TAIL) * len(x))))
    return float(x.mean()), float(np.quantile(x, TAIL)), float(ordered[:k].mean())


def distribution(case: Case, unmet: np.ndarray, through: np.ndarray | None = None
                 ) -> pd.DataFrame:
    """Per layer and in all: demand, and the mean, P95 and CVaR of unmet demand.

    With ``through`` (a chain: per draw and layer, the unmet demand a missing input caused)
    also its mean, ``through_inputs_mean``.
    """
    demand = case.demand.groupby("layer")["demand"].sum()
    layers = case.layers["layer"].astype(str).tolist()
    caused = np.zeros_like(unmet) if through is None else through
    rows = []
    for name, x, d, t in [("total", unmet.sum(axis=1), float(demand.sum()), caused.sum(axis=1)),
                          *((lay, unmet[:, j], float(demand.get(lay, 0.0)), caused[:, j])
                            for j, lay in enumerate(layers))]:
        mean, p95, tail = _tail(x)
        rows.append({"scope": "total" if name == "total" else "layer",
                     "layer": "" if name == "total" else name, "demand": d, "mean": mean,
                     "p95": p95, "cvar95": tail, "mean_share": mean / d if d > 0 else 0.0,
                     "cvar95_share": tail / d if d > 0 else 0.0,
                     **({} if through is None else {"through_inputs_mean": float(t.mean())})})
    return pd.DataFrame(rows)


def worst_partners(case: Case, unmet: np.ndarray, lost: np.ndarray) -> pd.DataFrame:
    """How often each partner is lost in the worst 5% of draws, against its risk."""
    total = unmet.sum(axis=1)
    k = max(1, int(np.ceil((1 - TAIL) * len(total))))
    worst = np.argsort(-total, kind="stable")[:k]
    risk = case.partners["disruption_risk"].to_numpy(dtype=float)
    share = lost[worst].mean(axis=0) if len(worst) else np.zeros(len(risk))
    frame = pd.DataFrame({"partner": case.partners["partner"].astype(str),
                          "disruption_risk": risk, "lost_in_worst": share,
                          "lift": np.divide(share, risk, out=np.zeros(len(risk)),
                                            where=risk > 0)})
    frame = frame[frame["lost_in_worst"] > 0]
    return frame.sort_values(["lost_in_worst", "partner"], ascending=[False, True]) \
        .reset_index(drop=True)


def histogram(values: np.ndarray, path: Path, n: int, seed: int,
              unit: str | None = None) -> Path:
    """A histogram of total unmet demand per draw, with the mean, P95 and CVaR marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.hist(values, bins=min(40, max(5, len(values) // 10)), color="#4c72b0")
    mean, p95, tail = _tail(values)
    for x, label, style in ((mean, "mean", "-"), (p95, "P95", "--"), (tail, "CVaR 95%", ":")):
        ax.axvline(x, color="#c44e52", linestyle=style, label=f"{label} {x:,.4g}")
    ax.set_xlabel(f"unmet demand in the draw, all layers ({unit or 'units'})")
    ax.set_ylabel("draws")
    ax.set_title(f"{n} random disruptions (seed {seed}): unmet demand after re-routing")
    ax.legend()
    save_figure(fig, path)
    return path
