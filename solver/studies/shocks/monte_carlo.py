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
and in all as ``through_inputs_mean`` in ``distribution.csv``). With markets (markets.csv) a
market asks for what the design sent it and takes what members leave (members are served
first): each draw says apart what the markets lose (``market_unmet`` and ``lost_revenue``, and
``market_<layer>`` and ``lost_<layer>`` in ``draws.csv``; their means per layer and in all as
``market_unmet_mean`` and ``lost_revenue_mean`` in ``distribution.csv``).
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
#: Per layer, the blocks of a draw's values after its unmet demand, and their totals'
#: columns in ``draws.csv``: a chain's unmet demand through inputs; markets' losses.
TOTALS = {"through": "through_inputs", "market": "market_unmet", "lost": "lost_revenue"}
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
    it a missing input caused; with markets, then per layer the markets' unmet supply and
    lost revenue.
    """

    point: Batch
    unmet: np.ndarray
    failed: int = 0
    row: dict[str, Any] = field(default_factory=lambda: {"status": "done", "objective": None})


class BatchSolver:
    """Re-routes batches of draws on one recourse LP, kept between batches."""

    def __init__(self, case: Case, allocation: pd.DataFrame,
                 flows: pd.DataFrame | None = None) -> None:
        from solver.studies.engine.recourse import Recourse

        self.lp = Recourse(case, allocation, flows=flows)
        pos = {p: i for i, p in enumerate(case.partners["partner"].tolist())}
        self.pair_partner = np.array([pos[p] for p in self.lp.data.pairs["partner"]],
                                     dtype=np.int64)

    def run(self, batch: Batch) -> BatchOutcome:
        """Unmet demand per layer of each draw of ``batch``.

        Each batch starts cold and its draws go on from the basis of the draw before them in
        the batch: a batch's answer depends on the batch alone, never on which worker ran it
        after which batch (a degenerate LP has many optimal routings, and a basis carried
        over from another batch picks another one).
        """
        data = self.lp.data
        self.lp.start_afresh()
        closed = np.zeros(data.n_flows, dtype=bool)
        n_l = len(data.layers)
        markets = self.lp.markets
        blocks = 1 + (self.lp.chain is not None) + 2 * (markets is not None)
        out = np.zeros((len(batch.lost), blocks * n_l))
        for i, row in enumerate(batch.lost):
            factor = np.where(row[self.pair_partner], 0.0, 1.0) if len(self.pair_partner) \
                else np.ones(0)
            outcome = self.lp.solve(factor, closed)
            out[i, :n_l] = np.bincount(data.row_layer, weights=outcome.unmet, minlength=n_l)
            if outcome.through_inputs is not None:
                out[i, n_l:2 * n_l] = outcome.through_inputs
            if markets is not None and outcome.market_unmet is not None:
                at = np.array([data.layers["layer"].tolist().index(x)
                               for x in markets.row_layer], dtype=np.int64)
                # After the through-inputs block when there is a chain.
                m0 = (blocks - 2) * n_l
                out[i, m0:m0 + n_l] = np.bincount(at, weights=outcome.market_unmet,
                                                  minlength=n_l)
                out[i, m0 + n_l:] = np.bincount(
                    at, weights=markets.price * outcome.market_unmet, minlength=n_l)
        return BatchOutcome(point=batch, unmet=out)


@dataclass(frozen=True, eq=False)
class SampleSettings:
    """What a worker needs to re-route batches (the executor's ``make_solver``)."""

    allocation: pd.DataFrame
    flows: pd.DataFrame | None = None

    def make_solver(self, case: Case) -> BatchSolver:
        """A solver of batches for ``case``."""
        return BatchSolver(case, self.allocation, self.flows)


def sample(case: Case, n: int, *, seed: int = 0, allocation: pd.DataFrame | None = None,
           flows: pd.DataFrame | None = None, workers: int = 1, scheduler: Any = None,
           out: str | Path | None = None, resume: bool = False, batch: int | None = None,
           progress: Any = None,
           force: bool = False, period: str | None = None) -> Sample:
    """Draw ``n`` random disruptions of the design and re-route each; see the module.

    ``allocation`` is the design (partner, layer, capacity; default: the case's optimal plan;
    ``flows``, its flows, say what it sends markets). With ``out`` the tables and the histogram
    are written there; ``resume`` keeps the draws an interrupted run of the same request (case,
    design, ``n``, ``seed``) wrote to ``draws.csv``. An ``out`` that holds anything is taken
    only with ``force`` or ``resume`` (the protocol of :mod:`solver.studies.engine.folder`). On
    a pathway the draws of ``period`` (default: the last) hit the capacity in service then (a
    pathway ``allocation`` is taken in that period), under that period's case
    (:mod:`solver.studies.shocks.period`).
    """
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

        plan = solve(case)
        allocation, flows = plan.allocation, plan.flows
    blocks = ("unmet", *(["through"] if case.has_inputs else []),
              *(["market", "lost"] if case.has_markets else []))
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
                   "batch": batch,
                   "design_sha256": _design_sha256(allocation,
                                                   flows if case.has_markets else None),
                   "unit": case.unit}
        try:
            lock, done = _start_folder(folder, request, _columns(layers, blocks),
                                       resume, force)
        except BaseException:
            if client is not None:
                client.close()
            raise
    try:
        return _draw(case, n, seed, batch, SampleSettings(allocation, flows), lost, layers,
                     blocks, partners, folder, done, workers, client, progress)
    finally:
        if lock is not None:
            lock.release()


def _design_sha256(allocation: pd.DataFrame, flows: pd.DataFrame | None = None) -> str:
    """A fingerprint of the design stressed: the capacity of each pair (and its flows)."""
    import hashlib

    cells = allocation[["partner", "layer", "capacity"]].to_csv(index=False)
    if flows is not None:
        cells += flows[["exporter", "importer", "layer", "quantity"]].to_csv(index=False)
    return hashlib.sha256(cells.encode()).hexdigest()


def _draw(case: Case, n: int, seed: int, batch: int, settings: SampleSettings,
          lost: np.ndarray, layers: list[str], blocks: Sequence[str], partners: list[str],
          folder: Path | None, done: dict[int, np.ndarray], workers: int, client: Any,
          progress: Any) -> Sample:
    """Draw the batches not ``done``, appending each to ``draws.csv``; the whole sample."""
    from solver.studies.engine.executor import execute

    todo = [i for i in range(0, n, batch) if i not in done]
    batches = [Batch(i // batch, i, lost[i:i + batch]) for i in todo]
    if progress is not None:
        progress.start(len(todo) + len(done), len(done))
    interrupted = True
    try:
        for outcome in execute(case, settings, batches, workers=workers,
                               client=client):
            first, unmet = outcome.point.first, outcome.unmet
            done[first] = unmet
            if folder is not None:
                append_text(folder / "draws.csv", _draw_rows(
                    first, unmet, lost, partners, layers, blocks).to_csv(header=False,
                                                                         index=False))
            if progress is not None:
                progress.point(outcome)
        interrupted = False
    finally:
        if progress is not None:
            progress.finish(interrupted)
    both = np.vstack([done[i] for i in sorted(done)])
    n_l = len(layers)
    block = {name: both[:, i * n_l:(i + 1) * n_l] for i, name in enumerate(blocks)}
    unmet = block["unmet"]
    markets = (block["market"], block["lost"]) if "market" in block else None
    draws = _draw_rows(0, both, lost, partners, layers, blocks)
    result = Sample(draws=draws, distribution=distribution(case, unmet, block.get("through"),
                                                           markets),
                    worst_partners=worst_partners(case, unmet, lost))
    if folder is not None:
        write_csv(folder / "draws.csv", draws)
        write_csv(folder / "distribution.csv", result.distribution)
        write_csv(folder / "worst_partners.csv", result.worst_partners)
        histogram(draws["unmet"].to_numpy(), folder / "unmet_histogram.png", n, seed,
                  unit=case.unit)
    return result


def _columns(layers: Sequence[str], blocks: Sequence[str]) -> list[str]:
    """The per-layer columns of ``draws.csv``: ``<block>_<layer>`` for each of ``blocks``.

    Unmet demand, then (a chain) through inputs, then (markets) market unmet and lost revenue.
    """
    return [f"{block}_{lay}" for block in blocks for lay in layers]


def _start_folder(folder: Path, request: dict[str, Any], per_layer: Sequence[str],
                  resume: bool, force: bool) -> tuple[FolderLock, dict[int, np.ndarray]]:
    """Lock ``folder``; with ``resume`` the complete batches of ``draws.csv``, checked."""
    n, batch = int(request["sample"]), int(request["batch"])
    refuse_existing(folder, resume=resume, force=force, request=REQUEST, study="sample")
    lock = FolderLock(folder).acquire()
    header = ["draw", "lost", "unmet",
              *(total for block, total in TOTALS.items()
                if any(c.startswith(f"{block}_") for c in per_layer)), *per_layer]
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
               layers: Sequence[str], blocks: Sequence[str]) -> pd.DataFrame:
    """Rows of ``draws.csv``.

    ``values`` holds, per draw, a block per layer for each of ``blocks``: the unmet demand,
    then (a chain) the part of it a missing input caused, then (markets) the markets' unmet
    supply and lost revenue.
    """
    idx = np.arange(first, first + len(values))
    names = np.asarray(partners, dtype=object)
    n_l = len(layers)
    frame = pd.DataFrame({"draw": idx,
                          "lost": [";".join(names[lost[i]]) for i in idx],
                          "unmet": values[:, :n_l].sum(axis=1)})
    for i, block in enumerate(blocks[1:], start=1):
        frame[TOTALS[block]] = values[:, i * n_l:(i + 1) * n_l].sum(axis=1)
    for j, name in enumerate(_columns(layers, blocks)):
        frame[name] = values[:, j]
    return frame


def _tail(x: np.ndarray) -> tuple[float, float, float]:
    """Mean, P95 and CVaR at 95% (the mean of the worst 5% of draws) of ``x``."""
    ordered = np.sort(x)[::-1]
    k = max(1, int(np.ceil((1 - TAIL) * len(x))))
    return float(x.mean()), float(np.quantile(x, TAIL)), float(ordered[:k].mean())


def distribution(case: Case, unmet: np.ndarray, through: np.ndarray | None = None,
                 markets: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Per layer and in all: demand, and the mean, P95 and CVaR of unmet demand.

    With ``through`` (a chain: per draw and layer, the unmet demand a missing input caused)
    also its mean, ``through_inputs_mean``. With ``markets`` (per draw and layer, the
    markets' unmet supply and lost revenue) their means, ``market_unmet_mean`` and
    ``lost_revenue_mean``, apart from members' unmet demand.
    """
    demand = case.demand.groupby("layer")["demand"].sum()
    layers = case.layers["layer"].astype(str).tolist()
    caused = np.zeros_like(unmet) if through is None else through
    rows = []
    sent, lost = (np.zeros_like(unmet), np.zeros_like(unmet)) if markets is None else markets
    for j, (name, x, d, t) in enumerate(
            [("total", unmet.sum(axis=1), float(demand.sum()), caused.sum(axis=1)),
             *((lay, unmet[:, j], float(demand.get(lay, 0.0)), caused[:, j])
               for j, lay in enumerate(layers))]):
        own = slice(None) if j == 0 else slice(j - 1, j)
        mean, p95, tail = _tail(x)
        rows.append({"scope": "total" if name == "total" else "layer",
                     "layer": "" if name == "total" else name, "demand": d, "mean": mean,
                     "p95": p95, "cvar95": tail, "mean_share": mean / d if d > 0 else 0.0,
                     "cvar95_share": tail / d if d > 0 else 0.0,
                     **({} if through is None else {"through_inputs_mean": float(t.mean())}),
                     **({} if markets is None else {
                         "market_unmet_mean": float(sent[:, own].sum(axis=1).mean()),
                         "lost_revenue_mean": float(lost[:, own].sum(axis=1).mean())})})
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
