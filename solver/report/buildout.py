"""The build-out of a pathway in words: capacity in service and new builds per layer and period."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.patches import Patch


def buildout_lines(result: Any) -> list[str]:
    """Per layer and period: capacity in service, and ``+N`` decided that period (README, Pathways).

    Empty for a run without periods.
    """
    layers = result.layers
    if "period" not in layers or result.builds is None:
        return []
    periods = list(dict.fromkeys(layers["period"].astype(str)))
    builds = result.builds
    decided = builds.groupby(["layer", builds["period"].astype(str)])["built"].sum()
    width = max(12, *(len(p) + 2 for p in periods))
    lines = ["build-out: capacity in service (+ decided in the period)",
             f"{'layer':<24}" + "".join(f"{p:>{width + 8}}" for p in periods)]
    in_service = layers.assign(period=layers["period"].astype(str)).set_index(
        ["layer", "period"])["capacity"]
    for layer in sorted(set(layers["layer"])):
        cells = []
        for p in periods:
            new = float(decided.get((layer, p), 0.0))
            cell = f"{float(in_service.get((layer, p), 0.0)):,.4g}"
            cells.append(f"{cell:>{width}}" + (f" {'+' + format(new, ',.3g'):>7}" if new
                                               else " " * 8))
        lines.append(f"{layer!s:<24}" + "".join(cells))
    return lines


_BLOC_COLOURS = ("#2f6db3", "#4f9a5a", "#e07b39", "#8e63b5", "#b5534f", "#c9a227", "#5b8fa8",
                 "#7a7a7a", "#d4679a")


def in_service_by_bloc(allocation: pd.DataFrame) -> pd.DataFrame:
    """Capacity in service per (layer, period, bloc) of a pathway's ``allocation.csv``."""
    frame = allocation.assign(period=allocation["period"].astype(str),
                              bloc=allocation["bloc"].fillna(allocation["partner"]).astype(str))
    return frame.groupby(["layer", "period", "bloc"], sort=False)["capacity"].sum() \
        .reset_index()


def buildout_chart(allocation: pd.DataFrame) -> str:
    """Capacity in service per layer and period, stacked by bloc: one small panel per layer."""
    from solver.report.charts import figure, svg_text

    data = in_service_by_bloc(allocation)
    periods = list(dict.fromkeys(data["period"]))
    layers = sorted(set(data["layer"]))
    blocs = sorted(set(data["bloc"]))
    colour = {b: _BLOC_COLOURS[i % len(_BLOC_COLOURS)] for i, b in enumerate(blocs)}
    cols = min(3, len(layers))
    rows = (len(layers) + cols - 1) // cols
    fig = figure(2.6 * cols + 1.6, 2.0 * rows + 0.4)
    for i, layer in enumerate(layers):
        ax = fig.add_subplot(rows, cols, i + 1)
        bottom = np.zeros(len(periods))
        mine = data[data["layer"] == layer].set_index(["period", "bloc"])["capacity"]
        for bloc in blocs:
            heights = np.array([float(mine.get((p, bloc), 0.0)) for p in periods])
            if heights.any():
                ax.bar(periods, heights, bottom=bottom, color=colour[bloc],
                       label=bloc if i == 0 else None)
                bottom += heights
        ax.set_title(layer, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.legend(loc="outside right upper", fontsize=7, frameon=False,
               handles=[Patch(color=colour[b], label=b) for b in blocs])
    return svg_text(fig, "the build-out: capacity in service per layer and period, by bloc")


def buildout_section(allocation: pd.DataFrame) -> str:
    """The report's build-out section of a pathway run, or "" for a run without periods."""
    if "period" not in allocation or "bloc" not in allocation or allocation.empty:
        return ""
    return ('<section id="buildout"><h2>The build-out</h2><p>Capacity in service per layer '
            "and period, by bloc: the installed base kept and the builds in service "
            "(README, Pathways).</p>" + buildout_chart(allocation) + "</section>")
