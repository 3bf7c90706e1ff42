"""PNG charts of sweeps and frontiers, drawn with matplotlib's object API (no pyplot state).

* :func:`sweep_plots`: for each varied key, the objective and its cost terms against it;
  in one-at-a-time mode also a tornado chart of the objective's range per key.
* :func:`sensitivity_plots`: per output of a sensitivity study, Morris's mu* against sigma
  or Sobol's S1 and ST bars.
* :func:`frontier_plot`: cost against a requirement, from loose to the tightest feasible
  value, with the infeasible side shaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.report.numbers import with_unit
from solver.report.writing import save_figure
from solver.results import COST_TERMS

#: Line colours of the cost terms (matplotlib's tab10, in the order of COST_TERMS).
TERM_COLOURS = dict(zip(COST_TERMS, ("tab:blue", "tab:orange", "tab:green", "tab:purple",
                                     "tab:brown", "tab:red"), strict=True))

#: Titles wrap at this many characters, so that a long key never runs off the figure.
TITLE_WIDTH = 60


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


def sweep_plots(table: pd.DataFrame, axes: Sequence[Any], mode: str, folder: Path,
                unit: str | None = None) -> list[Path]:
    """Write the charts of a sweep into ``folder``, costs in ``unit``; return their paths."""
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
        save_figure(objective_figure(part, column, others, base, unit), path)
        written.append(path)
    if mode == "one-at-a-time":
        path = folder / "tornado.png"
        tornado_plot(table, columns, path, unit)
        written.append(path)
    return written


def objective_figure(table: pd.DataFrame, column: str, others: list[str],
                     base: float | None = None, unit: str | None = None) -> Any:
    """Left: total cost against ``column`` (a line per combination of ``others``, all drawn).

    Right: how each cost term changes from the first value of ``column`` (for the first
    line), which shows what the total's change is made of.
    """
    fig = _figure(11, 4.5)
    left, right = fig.subplots(1, 2)
    frame = table.copy()
    frame[column] = pd.to_numeric(frame[column], errors="coerce")
    groups = list(frame.groupby(others, dropna=False, sort=True)) if others else [((), frame)]
    colours = _series_colours(len(groups))
    labels = []
    for i, (key, group) in enumerate(groups):
        g = group.sort_values(column)
        label = "total cost" if not others else ", ".join(
            f"{o}={v:g}" if isinstance(v, float) else f"{o}={v}"
            for o, v in zip(others, key if isinstance(key, tuple) else (key,), strict=True))
        labels.append(label)
        left.plot(g[column], g["objective"], marker="o", lw=2 if not others else 1.5,
                  color="black" if not others else colours[i], label=label, zorder=3)
        if i == 0:
            _mark_failures(left, g, column)
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
        right.set_title(_wrap(f"change of each cost term from {_axis_label(column)} = {x0:g}"
                              + (f", at {labels[0]}" if others else "")), fontsize=9)
    right.set_xlabel(_axis_label(column))
    right.set_ylabel(with_unit("change in cost", unit))
    right.grid(alpha=0.3)
    left.set_xlabel(_axis_label(column))
    left.set_ylabel(with_unit("total cost", unit))
    left.grid(alpha=0.3)
    for ax in (left, right):
        if ax.get_legend_handles_labels()[0]:  # nothing to label when every point failed
            ax.legend(fontsize=8 if len(groups) <= 12 else 6,
                      ncol=1 + (len(groups) - 1) // 12 if ax is left else 1)
    fig.suptitle(_wrap(f"total cost against {_axis_label(column)}"), fontsize=11)
    return fig


def _series_colours(n: int) -> list[Any]:
    """``n`` distinct colours: tab10, tab20 up to 20 series, then a continuous map."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["viridis"](i / (n - 1)) for i in range(n)]


def _wrap(title: str) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(title, TITLE_WIDTH)) or title


def _mark_failures(ax: Any, g: pd.DataFrame, column: str) -> None:
    failed = g[g["objective"].isna()]
    if failed.empty:
        return
    ok = g["objective"].dropna()
    y = float(ok.min()) if len(ok) else 0.0
    ax.scatter(failed[column], [y] * len(failed), marker="x", color="red", zorder=4,
               label="no plan (" + ", ".join(sorted(set(failed["status"].astype(str)))) + ")")


def tornado_plot(table: pd.DataFrame, columns: Sequence[str], path: Path,
                 unit: str | None = None) -> None:
    """Horizontal bars: how far each key, alone, moves the total cost from the base case.

    Each bar runs from the cheapest to the dearest of the key's values (the base case
    included), cheaper than the base in green, dearer in red, widest bar on top.
    """
    base_rows = table[table[list(columns)].isna().all(axis=1)]
    base = float(base_rows["objective"].iloc[0]) if len(base_rows) else float("nan")
    bars = []
    for column in columns:
        rows = table[table[column].notna()]
        objective = rows["objective"].to_numpy(dtype=float)
        at = rows[column].to_numpy()
        solved = ~np.isnan(objective)
        cost = np.append(objective[solved], base)
        label = [f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v)
                 for v in at[solved]] + ["base"]
        keep = ~np.isnan(cost)
        cost = cost[keep]
        label = [lab for lab, k in zip(label, keep, strict=True) if k]
        failed = int((~solved).sum())
        if len(cost) == 0:
            bars.append((column, float("nan"), float("nan"), "", "", failed))
            continue
        i, j = int(np.argmin(cost)), int(np.argmax(cost))
        bars.append((column, float(cost[i]), float(cost[j]), label[i], label[j], failed))
    bars.sort(key=lambda b: -np.nan_to_num(b[2] - b[1]))
    fig = _figure(8.5, 1.4 + 0.55 * len(bars))
    ax = fig.subplots(1, 1)
    for i, (_, lo, hi, low_at, high_at, failed) in enumerate(reversed(bars)):
        note = f"  ({failed} without a plan)" if failed else ""
        if np.isnan(lo):
            ax.text(base, i, "  no plan at any value" + note, va="center", fontsize=8,
                    color="red")
            continue
        ref = base if not np.isnan(base) else lo
        ax.barh(i, ref - lo, left=lo, color="tab:green", alpha=0.7)
        ax.barh(i, hi - ref, left=ref, color="tab:red", alpha=0.7)
        ax.text(lo, i, f"{low_at} ", va="center", ha="right", fontsize=8)
        ax.text(hi, i, f" {high_at}{note}", va="center", ha="left", fontsize=8)
    ax.set_yticks(range(len(bars)), [_axis_label(b[0]) for b in reversed(bars)], fontsize=8)
    if not np.isnan(base):
        ax.axvline(base, color="black", lw=1)
    ax.use_sticky_edges = False  # bars would pin the axis to their ends: room for labels
    ax.margins(x=0.2)
    ax.set_xlabel(with_unit("total cost", unit)
                  + " (line: base case; labels: the value at each end)")
    ax.set_title("one at a time: how far each key moves the total cost", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    save_figure(fig, path)


def frontier_plot(curve: pd.DataFrame, column: str, tightest: float | None, tightens: int,
                  path: Path, unit: str | None = None) -> Path:
    """Total cost against a requirement (the side without a plan shaded), and its terms.

    The right panel shows how each cost term changes from the loose end. ``tightens`` is
    +1 if larger values are tighter (resilience), -1 if smaller are (max_share).
    """
    fig = _figure(11, 4.5)
    left, right = fig.subplots(1, 2)
    ok = curve[curve["objective"].notna()].sort_values(column, ascending=tightens > 0)
    x = ok[column].to_numpy(dtype=float)
    y = ok["objective"].to_numpy(dtype=float)
    left.plot(x, y, marker="o", color="black", label="total cost")
    if len(y) > 1:
        rise = y[-1] - y[0]
        pct = f" ({100 * rise / y[0]:+.1f}%)" if y[0] else ""
        left.annotate(f"{rise:+,.4g}{pct}", (x[-1], y[-1]), textcoords="offset points",
                      xytext=(-10, -4), ha="right", va="top", fontsize=8)
    for ax in (left, right):
        if tightest is not None:
            ax.axvline(tightest, color="red", ls="--", lw=1,
                       label=f"tightest feasible: {tightest:.4g}" if ax is left else None)
        ax.set_xlabel(f"{column} (tighter to the right)")
        ax.grid(alpha=0.3)
    if len(ok):
        for term in COST_TERMS:
            values = ok[f"cost_{term}"].fillna(0.0).to_numpy(dtype=float)
            if np.abs(values).sum() > 0:
                right.plot(x, values - values[0], marker=".", color=TERM_COLOURS[term],
                           label=term)
        right.axhline(0.0, color="grey", lw=0.8)
    for ax in (left, right):
        lo, hi = ax.get_xlim()
        if tightest is not None:
            if tightens > 0:
                ax.axvspan(tightest, max(hi, tightest), color="red", alpha=0.08)
            else:
                ax.axvspan(min(lo, tightest), tightest, color="red", alpha=0.08)
            ax.set_xlim(lo, hi)
        if tightens < 0:
            ax.invert_xaxis()
    left.set_ylabel(with_unit("total cost", unit))
    left.set_title("least total cost (shaded: no plan)", fontsize=9)
    right.set_ylabel(with_unit("change in cost", unit))
    right.set_title("change of each cost term from the loose end", fontsize=9)
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.suptitle(_wrap(f"cost of the requirement {column}"), fontsize=11)
    save_figure(fig, path)
    return path


def alternatives_plot(table: pd.DataFrame, key: str, path: Path) -> Path:
    """How far a direction goes against the slack allowed, and what pushing it costs.

    Left: the value of ``key`` in the optimum (slack 0) and in the plan found at each slack.
    Right: the cost increase of those plans, in percent of the optimum.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = _figure(11, 4.2)
    left, right = fig.subplots(1, 2)
    base = table[table["plan"] == "optimum"]
    plans = table[table["plan"] != "optimum"].sort_values("slack")
    x = np.concatenate([[0.0], 100 * plans["slack"].to_numpy(dtype=float)])
    value = np.concatenate([base["value"].to_numpy(dtype=float)[:1],
                            plans["value"].to_numpy(dtype=float)])
    rise = np.concatenate([[0.0], plans["increase_pct"].to_numpy(dtype=float)])
    # A share is drawn in percent, as the slack and the cost are: one scale on the page.
    fraction = key.startswith(("share[", "participation["))
    left.plot(x, 100 * value if fraction else value, marker="o", color="black")
    left.set_ylabel(f"{key} (%)" if fraction else key)
    left.set_title(f"{key} in the plan that pushes it furthest", fontsize=9)
    right.plot(x, rise, marker="o", color="tab:red")
    right.plot(x, x, ls="--", color="grey", lw=0.8, label="the slack allowed")
    right.set_ylabel("cost above the optimum (%)")
    right.set_title("what that plan costs", fontsize=9)
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_xlabel("slack on cost (% above the optimum)")
        ax.grid(alpha=0.3)
    fig.suptitle(f"how far {key} goes for a few percent more", fontsize=11)
    save_figure(fig, path)
    return path


def sensitivity_plots(indices: pd.DataFrame, method: str, folder: Path,
                      units: Mapping[str, str | None] | None = None) -> list[Path]:
    """Per output of a sensitivity study: Morris's mu* against sigma, or Sobol's S1 and ST.

    ``units`` gives each output's unit (sensitivity.json's ``units``): Morris's axes are in
    it; Sobol's indices are fractions of the output's variance whatever its unit. An output
    that no parameter moves (every index 0) gets no chart.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for output, rows in indices.groupby("output", sort=False):
        numbers = rows.drop(columns=["parameter", "output"]).to_numpy(dtype=float)
        if not np.nan_to_num(numbers).any():
            continue
        path = folder / f"{slug(str(output))}.png"
        if method == "morris":
            _morris_chart(rows, str(output), path, (units or {}).get(str(output)))
        else:
            _sobol_chart(rows, str(output), path)
        written.append(path)
    return written


def _morris_chart(rows: pd.DataFrame, output: str, path: Path, unit: str | None) -> None:
    fig = _figure(7, 5)
    ax = fig.subplots()
    mu_star = rows["mu_star"].to_numpy(dtype=float)
    sigma = rows["sigma"].to_numpy(dtype=float)
    ax.errorbar(mu_star, sigma, xerr=rows["mu_star_conf"].to_numpy(dtype=float), fmt="o",
                color="tab:blue", ecolor="lightgrey", capsize=3)
    for x, y, name in zip(mu_star, sigma, rows["parameter"], strict=True):
        ax.annotate(str(name), (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
    right = float(np.nanmax(mu_star)) * 1.15 or 1.0
    # The spread is often much smaller than the effect: the axis fits the spread, and the
    # diagonal (an effect that depends on the others as much as it exists) is cut by it.
    top = max(float(np.nanmax(sigma)) * 1.3, right * 0.05)
    ax.plot([0, right], [0, right], ls="--", color="grey", lw=0.8,
            label="sigma = mu* (effect depends on the others)")
    ax.set_xlim(0, right)
    ax.set_ylim(0, top)
    ax.set_xlabel(with_unit("mu*: mean absolute effect over the range (95% interval)", unit))
    ax.set_ylabel(with_unit("sigma: spread of the effect", unit))
    ax.set_title(f"Morris: what moves {output}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def _sobol_chart(rows: pd.DataFrame, output: str, path: Path) -> None:
    fig = _figure(7.5, 0.5 + 0.45 * max(len(rows), 3))
    ax = fig.subplots()
    y = np.arange(len(rows))
    ax.barh(y - 0.2, rows["S1"].to_numpy(dtype=float), height=0.4,
            xerr=rows["S1_conf"].to_numpy(dtype=float), color="tab:blue", label="S1 (alone)")
    ax.barh(y + 0.2, rows["ST"].to_numpy(dtype=float), height=0.4,
            xerr=rows["ST_conf"].to_numpy(dtype=float), color="tab:orange",
            label="ST (with interactions)")
    ax.set_yticks(y, [str(p) for p in rows["parameter"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of the output's variance (95% interval)")
    ax.set_title(f"Sobol: what moves {output}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    save_figure(fig, path)


def savings_plot(players: pd.DataFrame, path: Path, unit: str | None = None) -> Path:
    """Write :func:`savings_figure` to ``path``; its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(savings_figure(players, unit), path)
    return path


def savings_figure(players: pd.DataFrame, unit: str | None = None) -> Any:
    """Each player's saving against its standalone cost under each split, as bars."""
    fig = _figure(7.5, 4.0)
    ax = fig.add_subplot()
    at = np.arange(len(players))
    splits = [s for s in ("proportional", "shapley", "nucleolus")
              if players[f"saving_{s}"].notna().any()]
    width = 0.8 / max(len(splits), 1)
    for i, name in enumerate(splits):
        ax.bar(at + i * width, players[f"saving_{name}"].astype(float), width, label=name)
    ax.set_xticks(at + width * (len(splits) - 1) / 2, players["player"].astype(str),
                  rotation=30 if len(players) > 8 else 0)
    ax.set_ylabel(with_unit("saving against standing alone", unit))
    ax.set_xlabel("player")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title="split", fontsize=8)
    ax.set_title("what each player saves in the coalition, under each split of its cost",
                 fontsize=10)
    return fig
