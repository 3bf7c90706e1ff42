"""PNG charts of sweeps and frontiers, drawn with matplotlib's object API (no pyplot state).

* :func:`sweep_plots`: for each varied key, the objective and its cost terms against it;
  in one-at-a-time mode also a tornado chart of the objective's range per key.
* :func:`frontier_plot`: cost against a requirement, from loose to the tightest feasible
  value, with the infeasible side shaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.results import COST_TERMS

#: Line colours of the cost terms (matplotlib's tab10, in the order of COST_TERMS).
TERM_COLOURS = dict(zip(COST_TERMS, ("tab:blue", "tab:orange", "tab:green", "tab:purple",
                                     "tab:brown"), strict=True))

#: At most this many lines of "other keys" in one chart.
MAX_LINES = 8


def _figure(width: float = 7.5, height: float = 4.5) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def slug(key: str) -> str:
    """A file name for an override key (``[TW,*]`` becomes ``_TW_all_``, a final ``*`` ``_x``)."""
    text = key.replace("*]", "all]").replace(",*", ",all").replace("[*", "[all")
    text = text[:-1] + "_x" if text.endswith("*") else text
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "key"


def _axis_label(column: str) -> str:
    return f"{column[:-1]} (multiplier)" if column.endswith("*") else column


def sweep_plots(table: pd.DataFrame, axes: Sequence[Any], mode: str, folder: Path) -> list[Path]:
    """Write the charts of a sweep into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    columns = [a.column for a in axes]
    base = None
    if mode == "one-at-a-time":
        base_rows = table[table[columns].isna().all(axis=1)]
        if len(base_rows):
            base = base_rows["objective"].iloc[0]
    for column in columns:
        if mode == "one-at-a-time":
            part, others = table[table[column].notna()], []
        else:
            part, others = table, [c for c in columns if c != column]
        path = folder / f"{slug(column)}.png"
        _objective_chart(part, column, others, path, base)
        written.append(path)
    if mode == "one-at-a-time":
        path = folder / "tornado.png"
        tornado_plot(table, columns, path)
        written.append(path)
    return written


def _objective_chart(table: pd.DataFrame, column: str, others: list[str], path: Path,
                     base: float | None = None) -> None:
    """Left: total cost against ``column`` (a line per combination of ``others``).

    Right: how each cost term changes from the first value of ``column`` (for the first
    line), which shows what the total's change is made of.
    """
    fig = _figure(11, 4.5)
    left, right = fig.subplots(1, 2)
    frame = table.copy()
    frame[column] = pd.to_numeric(frame[column], errors="coerce")
    groups = list(frame.groupby(others, dropna=False, sort=True)) if others else [((), frame)]
    for i, (key, group) in enumerate(groups[:MAX_LINES]):
        g = group.sort_values(column)
        label = "total cost" if not others else ", ".join(
            f"{o}={v:g}" if isinstance(v, float) else f"{o}={v}"
            for o, v in zip(others, key if isinstance(key, tuple) else (key,), strict=True))
        left.plot(g[column], g["objective"], marker="o", lw=2 if not others else 1.5,
                  color="black" if not others else None, label=label, zorder=3)
        if i == 0:
            _mark_failures(left, g, column)
    if len(groups) > MAX_LINES:
        left.text(0.01, 0.01, f"{len(groups) - MAX_LINES} more combinations not drawn",
                  transform=left.transAxes, fontsize=8, color="grey")
    if base is not None and not pd.isna(base):
        left.axhline(float(base), color="grey", lw=1, ls=":", label="base case")
    first = groups[0][1].sort_values(column) if groups else frame
    solved = first[first["objective"].notna()]
    if len(solved):
        x0 = solved[column].iloc[0]
        for term in COST_TERMS:
            values = solved[f"cost_{term}"].fillna(0.0)
            if values.abs().sum() > 0:
                right.plot(solved[column], values - values.iloc[0], marker=".",
                           color=TERM_COLOURS[term], label=term)
        right.axhline(0.0, color="grey", lw=0.8)
        right.set_title(f"change of each cost term from {_axis_label(column)} = {x0:g}"
                        + (" (first line)" if others else ""), fontsize=9)
    right.set_xlabel(_axis_label(column))
    right.set_ylabel("change in cost")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    left.set_xlabel(_axis_label(column))
    left.set_ylabel("total cost")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    fig.suptitle(f"total cost against {_axis_label(column)}", fontsize=11)
    fig.savefig(path)


def _mark_failures(ax: Any, g: pd.DataFrame, column: str) -> None:
    failed = g[g["objective"].isna()]
    if failed.empty:
        return
    ok = g["objective"].dropna()
    y = float(ok.min()) if len(ok) else 0.0
    ax.scatter(failed[column], [y] * len(failed), marker="x", color="red", zorder=4,
               label="no plan (" + ", ".join(sorted(set(failed["status"].astype(str)))) + ")")


def tornado_plot(table: pd.DataFrame, columns: Sequence[str], path: Path) -> None:
    """Horizontal bars: how far each key moves the objective from the base point."""
    base_rows = table[table[list(columns)].isna().all(axis=1)]
    base = float(base_rows["objective"].iloc[0]) if len(base_rows) else float("nan")
    bars = []
    for column in columns:
        rows = table[table[column].notna()]
        objective = rows["objective"].to_numpy(dtype=float)
        at = rows[column].to_numpy()
        solved = ~np.isnan(objective)
        lo = float(objective[solved].min()) if solved.any() else float("nan")
        hi = float(objective[solved].max()) if solved.any() else float("nan")
        low_at = at[solved][np.argmin(objective[solved])] if solved.any() else None
        high_at = at[solved][np.argmax(objective[solved])] if solved.any() else None
        failed = int((~solved).sum())
        bars.append((column, lo, hi, low_at, high_at, failed))
    bars.sort(key=lambda b: -(np.nan_to_num(b[2] - b[1])))
    fig = _figure(8, 1.2 + 0.55 * len(bars))
    ax = fig.subplots(1, 1)
    for i, (_, lo, hi, low_at, high_at, failed) in enumerate(reversed(bars)):
        if np.isnan(lo):
            ax.text(base, i, "  no plan at any value", va="center", fontsize=8, color="red")
            continue
        ax.barh(i, hi - lo, left=lo, color="tab:blue", alpha=0.7)
        ax.text(lo, i, f"{low_at:g} ", va="center", ha="right", fontsize=8)
        ax.text(hi, i, f" {high_at:g}" + (f"  ({failed} infeasible)" if failed else ""),
                va="center", ha="left", fontsize=8)
    ax.set_yticks(range(len(bars)), [_axis_label(b[0]) for b in reversed(bars)], fontsize=8)
    if not np.isnan(base):
        ax.axvline(base, color="black", lw=1)
    ax.set_xlabel("total cost (line: base case)")
    ax.set_title("one at a time: range of the objective per key", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path)


def frontier_plot(curve: pd.DataFrame, column: str, tightest: float | None, tightens: int,
                  path: Path) -> Path:
    """Cost against a requirement; ``tightens`` is +1 if larger values are tighter."""
    fig = _figure(7.5, 4.5)
    ax = fig.subplots(1, 1)
    ok = curve[curve["objective"].notna()].sort_values(column)
    x = ok[column].to_numpy(dtype=float)
    bottom = np.zeros(len(ok))
    for term in COST_TERMS:
        values = ok[f"cost_{term}"].fillna(0.0).to_numpy()
        if np.abs(values).sum() > 0:
            ax.fill_between(x, bottom, bottom + values, alpha=0.35,
                            color=TERM_COLOURS[term], label=term)
            bottom = bottom + values
    ax.plot(x, ok["objective"], marker="o", color="black", label="total cost")
    if tightest is not None:
        ax.axvline(tightest, color="red", ls="--", lw=1,
                   label=f"tightest feasible: {tightest:.4g}")
        lo, hi = ax.get_xlim()
        if tightens > 0:
            ax.axvspan(tightest, max(hi, tightest), color="red", alpha=0.08)
        else:
            ax.axvspan(min(lo, tightest), tightest, color="red", alpha=0.08)
        ax.set_xlim(lo, hi)
    if tightens < 0:
        ax.invert_xaxis()
    ax.set_xlabel(f"{column} (tighter to the right)")
    ax.set_ylabel("total cost")
    ax.set_title(f"cost of the requirement {column}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path)
    return path
