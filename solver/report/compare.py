"""What changed between two runs (``coalition compare RUN_A RUN_B``).

A run is a run folder (as `coalition solve` writes it) or one point of a sweep folder,
named ``SWEEP:N``.
The comparison reads only the written tables, so it works on runs of different cases, of
different versions and on runs made elsewhere. It reports, each as a table with a column
for A, for B and the change: the cost terms; the hosts gained and lost and every share that
moved; suppliers, max share, HHI and N-1 coverage per layer; participation per partner.
:meth:`Comparison.table` is all of it as one tidy table (``compare.csv``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from solver.errors import UsageError
from solver.report.readback import read_csv

#: Changes smaller than this are no change (solver noise in written numbers).
NOISE = 1e-9

COST_ORDER = ("fixed", "capacity", "trade", "redundancy", "risk", "shortage", "recourse")
LAYER_METRICS = ("suppliers", "max_share", "hhi", "n1_coverage")
#: The columns of an allocation table a comparison reads.
ALLOCATION = ("partner", "layer", "hosted", "capacity", "share")
#: Columns that must hold numbers where present.
NUMERIC = ("point", "objective", "capacity", "share", "participation", *LAYER_METRICS)


@dataclass
class Run:
    """The tables of one written run, as :func:`read_run` finds them."""

    label: str
    status: str
    objective: float | None
    costs: dict[str, float]
    allocation: pd.DataFrame
    layers: pd.DataFrame
    partners: pd.DataFrame | None = None
    verified: bool | None = None
    periods: list[str] | None = None
    """A pathway's periods (README, Pathways): its rows are named by period."""


def read_run(spec: str | Path) -> Run:
    """Read a run folder, or point N of a sweep folder given as ``SWEEP:N``.

    Raises :class:`~solver.errors.UsageError` naming what is missing.
    """
    text = str(spec)
    folder, _, point = text.rpartition(":")
    if folder and point.isdigit() and Path(folder).is_dir():
        return _sweep_point(Path(folder), int(point), text)
    path = Path(text)
    if not path.is_dir():
        raise UsageError(f"{text}: no such run folder (a sweep's point is SWEEP_FOLDER:N)")
    if (path / "sweep.csv").is_file() and not (path / "summary.json").is_file():
        raise UsageError(f"{text} is a sweep folder: name one of its points as {text}:N")
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise UsageError(f"{text} is not a run folder: it has no summary.json")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{summary_path}: not valid JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise UsageError(f"{summary_path}: not a JSON object")
    costs = summary.get("costs")
    costs = costs if isinstance(costs, dict) else {}
    run = Run(
        label=text, status=str(summary.get("status", "?")),
        objective=_float(summary.get("objective")),
        costs={str(k): float(v) for k, v in costs.items() if _float(v) is not None},
        allocation=_csv(path / "allocation.csv", ALLOCATION),
        layers=_csv(path / "layers.csv", ("layer",)),
        partners=_csv(path / "partners.csv", ("partner", "participation"))
        if (path / "partners.csv").is_file() else None,
        verified=summary.get("verified") if isinstance(summary.get("verified"), bool) else None)
    return _by_period(run, summary) if "periods" in summary else run


def _by_period(run: Run, summary: dict[str, Any]) -> Run:
    """A pathway run with every row named by its period (``2030 semiconductors``).

    So that two pathways compare period by period (README, Pathways); the costs gain each
    period's terms (``2030 capacity``) beside the discounted totals.
    """
    def named(frame: pd.DataFrame | None, key: str) -> pd.DataFrame | None:
        if frame is None or "period" not in frame:
            return frame
        out = frame.drop(columns="period").copy()
        out[key] = frame["period"].astype(str) + " " + frame[key].astype(str)
        return out

    allocation = named(run.allocation, "layer")
    layers = named(run.layers, "layer")
    assert allocation is not None and layers is not None
    costs = dict(run.costs)
    by_period = summary.get("costs_by_period")
    for period, terms in (by_period.items() if isinstance(by_period, dict) else ()):
        for term, value in (terms.items() if isinstance(terms, dict) else ()):
            if _float(value) is not None:
                costs[f"{period} {term}"] = float(value)
    return Run(label=run.label, status=run.status, objective=run.objective, costs=costs,
               allocation=allocation, layers=layers, partners=named(run.partners, "partner"),
               verified=run.verified, periods=[str(p) for p in summary.get("periods") or []])


def _sweep_point(folder: Path, point: int, label: str) -> Run:
    table = _csv(folder / "sweep.csv", ("point", "status", "objective"))
    if table.empty:
        raise UsageError(f"{label}: the sweep has no finished point")
    rows = table[table["point"] == point]
    if rows.empty:
        raise UsageError(f"{label}: the sweep has no point {point} (points "
                         f"{int(table['point'].min())} to {int(table['point'].max())})")
    row = rows.iloc[-1]
    allocation = _csv(folder / "allocations.csv", ("point", *ALLOCATION))
    layers = _csv(folder / "sweep_layers.csv", ("point", "layer"))
    costs = {c[len("cost_"):]: float(row[c]) for c in table.columns
             if c.startswith("cost_") and _float(row[c]) is not None}
    return Run(label=label, status=str(row["status"]), objective=_float(row["objective"]),
               costs=costs,
               allocation=allocation[allocation["point"] == point].drop(columns="point"),
               layers=layers[layers["point"] == point].drop(columns="point"),
               verified=_flag(row["verified"]) if "verified" in row else None)


def _flag(cell: object) -> bool | None:
    """A yes/no cell of a CSV as written (``True``/``False``, any case, or 1/0); else None.

    Read back as text, ``bool("False")`` would be true: a point the checker rejected would
    show as verified.
    """
    text = str(cell).strip().lower()
    if text in ("true", "1", "1.0", "yes"):
        return True
    if text in ("false", "0", "0.0", "no"):
        return False
    return None


def _csv(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    if not path.is_file():
        raise UsageError(f"{path}: missing (not a complete run folder)")
    frame = read_csv(path, required=required, numeric=NUMERIC)
    if "hosted" in frame:
        frame["hosted"] = frame["hosted"].astype(str).str.lower().isin(["true", "1", "1.0"])
    return frame


def _float(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass
class Comparison:
    """Two runs side by side: each table has columns ``a``, ``b`` and ``change``."""

    a: Run
    b: Run
    costs: pd.DataFrame
    hosts: pd.DataFrame
    layers: pd.DataFrame
    partners: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def gained(self) -> pd.DataFrame:
        """The (partner, layer) pairs hosted in B but not in A."""
        return self.hosts[self.hosts["change"] == "gained"]

    @property
    def lost(self) -> pd.DataFrame:
        """The (partner, layer) pairs hosted in A but not in B."""
        return self.hosts[self.hosts["change"] == "lost"]

    def table(self) -> pd.DataFrame:
        """Everything as one tidy table: section, item, metric, a, b, change."""
        parts = [pd.DataFrame({"section": "cost", "item": self.costs["term"], "metric": "cost",
                               "a": self.costs["a"], "b": self.costs["b"],
                               "change": self.costs["change"]})]
        h = self.hosts
        item = h["partner"] + "/" + h["layer"]
        parts.append(pd.DataFrame({"section": "host", "item": item, "metric": "hosted",
                                   "a": h["hosted_a"], "b": h["hosted_b"],
                                   "change": h["change"]}))
        parts.append(pd.DataFrame({"section": "share", "item": item, "metric": "share",
                                   "a": h["share_a"], "b": h["share_b"],
                                   "change": h["share_b"] - h["share_a"]}))
        for section, frame, key in (("layer", self.layers, "layer"),
                                    ("partner", self.partners, "partner")):
            parts.append(pd.DataFrame({"section": section, "item": frame[key],
                                       "metric": frame["metric"], "a": frame["a"],
                                       "b": frame["b"], "change": frame["change"]}))
        return pd.concat(parts, ignore_index=True)

    def __repr__(self) -> str:
        return (f"Comparison({self.a.label!r} -> {self.b.label!r}: cost change "
                f"{_num(self.costs['change'].iloc[-1])}, {len(self.gained)} hosts gained, "
                f"{len(self.lost)} lost)")

    def _repr_html_(self) -> str:
        """The comparison as tables in a notebook."""
        from solver.report.notebook import comparison_html

        return comparison_html(self)

    def __str__(self) -> str:
        from solver.report.compare_text import format_comparison

        return format_comparison(self)


def compare_runs(a: str | Path | Run, b: str | Path | Run) -> Comparison:
    """Compare two runs (run folders or ``SWEEP:N`` points); see :class:`Comparison`."""
    run_a = a if isinstance(a, Run) else read_run(a)
    run_b = b if isinstance(b, Run) else read_run(b)
    if (run_a.periods is None) != (run_b.periods is None):
        raise UsageError("a pathway run and a one-period run cannot be compared: compare two "
                         "pathways period by period, or two one-period runs")
    notes = []
    if run_a.periods is not None and run_a.periods != run_b.periods:
        notes.append(f"the runs have different periods ({', '.join(run_a.periods)} against "
                     f"{', '.join(run_b.periods or [])}): a period in one only is compared "
                     "with nothing")
    if run_a.partners is None or run_b.partners is None:
        notes.append("participation needs each run's partners.csv; a sweep point has none, "
                     "so the partners table shows layers hosted only")
    return Comparison(a=run_a, b=run_b, costs=_costs(run_a, run_b),
                      hosts=_hosts(run_a, run_b), layers=_layers(run_a, run_b),
                      partners=_partners(run_a, run_b), notes=notes)


def _costs(a: Run, b: Run) -> pd.DataFrame:
    terms = [t for t in COST_ORDER if t in a.costs or t in b.costs]
    terms += sorted((set(a.costs) | set(b.costs)) - set(terms))
    rows = [{"term": t, "a": a.costs.get(t, 0.0), "b": b.costs.get(t, 0.0)} for t in terms]
    rows.append({"term": "total", "a": a.objective, "b": b.objective})
    frame = pd.DataFrame(rows, columns=["term", "a", "b"]).astype({"a": float, "b": float})
    frame["change"] = frame["b"] - frame["a"]
    frame["change_share"] = frame["change"] / frame["a"].where(frame["a"].abs() > NOISE)
    return frame


def _hosts(a: Run, b: Run) -> pd.DataFrame:
    """Pairs whose hosting or share changed: hosted, capacity and share in A and B."""
    cols = ["partner", "layer", "hosted", "capacity", "share"]
    merged = a.allocation[cols].merge(b.allocation[cols], on=["partner", "layer"],
                                      how="outer", suffixes=("_a", "_b"))
    for side in ("a", "b"):
        merged[f"hosted_{side}"] = merged[f"hosted_{side}"].astype("boolean").fillna(False)
        merged[f"hosted_{side}"] = merged[f"hosted_{side}"].astype(bool)
        for c in ("capacity", "share"):
            merged[f"{c}_{side}"] = merged[f"{c}_{side}"].astype(float).fillna(0.0)
    change = pd.Series("", index=merged.index, dtype=object)
    change[merged["hosted_b"] & ~merged["hosted_a"]] = "gained"
    change[merged["hosted_a"] & ~merged["hosted_b"]] = "lost"
    moved = (merged["share_b"] - merged["share_a"]).abs() > NOISE
    change[(change == "") & moved] = "share"
    merged["change"] = change
    keep = merged[merged["change"] != ""]
    order = ["partner", "layer", "change", "hosted_a", "hosted_b", "share_a", "share_b",
             "capacity_a", "capacity_b"]
    return keep[order].sort_values(["layer", "partner"]).reset_index(drop=True)


def _long(a: pd.DataFrame, b: pd.DataFrame, key: str, metrics: list[str]) -> pd.DataFrame:
    rows = []
    ia, ib = a.set_index(key), b.set_index(key)
    keys = sorted(set(ia.index) | set(ib.index))
    for k in keys:
        for m in metrics:
            va = _float(ia[m].get(k)) if m in ia else None
            vb = _float(ib[m].get(k)) if m in ib else None
            change = vb - va if va is not None and vb is not None else None
            rows.append({key: k, "metric": m, "a": va, "b": vb, "change": change})
    return pd.DataFrame(rows, columns=[key, "metric", "a", "b", "change"])


def _layers(a: Run, b: Run) -> pd.DataFrame:
    return _long(a.layers, b.layers, "layer", list(LAYER_METRICS))


def _partners(a: Run, b: Run) -> pd.DataFrame:
    def per_partner(run: Run) -> pd.DataFrame:
        alloc = run.allocation
        hosted = alloc[alloc["hosted"]].groupby("partner").size()
        frame = pd.DataFrame({"partner": sorted(alloc["partner"].unique())})
        frame["layers_hosted"] = frame["partner"].map(hosted).fillna(0).astype(float)
        if run.partners is not None:
            part = run.partners.set_index("partner")["participation"]
            frame["participation"] = frame["partner"].map(part)
            extra = sorted(set(part.index) - set(frame["partner"]))
            if extra:
                more = pd.DataFrame({"partner": extra, "layers_hosted": 0.0,
                                     "participation": [part[p] for p in extra]})
                frame = pd.concat([frame, more], ignore_index=True)
        return frame

    metrics = ["participation", "layers_hosted"]
    pa, pb = per_partner(a), per_partner(b)
    present = [m for m in metrics if m in pa or m in pb]
    return _long(pa, pb, "partner", present)


def _num(x: Any) -> str:
    value = _float(x)
    return "-" if value is None else f"{value:+,.6g}"
