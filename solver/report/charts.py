"""The charts of the HTML report, as inline SVG text (matplotlib's object API, no pyplot).

Each function takes a run's tables and returns one ``<svg>`` element as a string, with its
text drawn as paths, so that the page needs no font and no network to show it.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pandas as pd

from solver.report.numbers import readable, with_unit
from solver.report.writing import save_figure

#: Bars of the flows chart.
TOP_FLOWS = 15

_BLUE, _ORANGE, _GREY = "#2f6db3", "#e07b39", "#9aa5b1"
TERM_COLOURS = {"fixed": "#2f6db3", "capacity": "#4f9a5a", "trade": "#e07b39",
                "redundancy": "#8e63b5", "risk": "#b5534f", "shortage": "#c9a227",
                "recourse": "#5b8fa8"}


def figure(width: float, height: float) -> Any:
    """A matplotlib figure of this size (inches), drawn to SVG, laid out to fit."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(fig)
    return fig


def svg_text(fig: Any, label: str) -> str:
    """The figure as one ``<svg>`` element, labelled for screen readers."""
    buf = io.StringIO()
    save_figure(fig, buf, format="svg", metadata={"Date": None, "Creator": None},
                rc={"svg.fonttype": "path", "svg.hashsalt": "coalition"})
    text = buf.getvalue()
    start = text.index("<svg")
    # The RDF metadata block names vocabularies by URL; a page to send needs none of it.
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", text[start:], flags=re.S)
    svg = re.sub(r"<svg ", f'<svg role="img" aria-label="{label}" class="chart" ', svg, count=1)
    return svg


def style_axes(ax: Any) -> None:
    """The page's look: no top and right spines, small ticks, a light grid behind."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9)
    ax.grid(axis="x", color="#e3e7ec", linewidth=0.8)
    ax.set_axisbelow(True)


def cost_chart(costs: dict[str, float], unit: str | None = None) -> str:
    """The objective's terms as horizontal bars, largest first, in ``unit``."""
    items = sorted(((k, float(v)) for k, v in costs.items() if v), key=lambda kv: -abs(kv[1]))
    fig = figure(7.0, 0.5 + 0.42 * max(len(items), 1))
    ax = fig.add_subplot()
    if items:
        names = [k for k, _ in items][::-1]
        values = [v for _, v in items][::-1]
        bars = ax.barh(names, values, color=[TERM_COLOURS.get(n, _GREY) for n in names])
        total = sum(abs(v) for v in values) or 1.0
        ax.bar_label(bars, labels=[f"{readable(v)} ({100 * abs(v) / total:.0f}%)" for v in values],
                     padding=3, fontsize=9)
        ax.margins(x=0.25)
    else:
        ax.text(0.5, 0.5, "no cost", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(with_unit("cost", unit), fontsize=9)
    style_axes(ax)
    return svg_text(fig, "cost split by term")


def participation_chart(partners: pd.DataFrame) -> str:
    """Each partner's share of the stack's value, members and outside suppliers coloured."""
    frame = partners.sort_values("participation", ascending=True)
    fig = figure(7.0, 0.6 + 0.26 * max(len(frame), 1))
    ax = fig.add_subplot()
    member = frame["member"].astype(str).str.lower().isin(["true", "1"]) \
        if "member" in frame else pd.Series(True, index=frame.index)
    ax.barh(frame["partner"].astype(str), 100 * frame["participation"].astype(float),
            color=np.where(member, _BLUE, _ORANGE))
    ax.set_xlabel("participation (% of the stack's value)", fontsize=9)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=_BLUE, label="member"),
                       Patch(color=_ORANGE, label="outside supplier")],
              fontsize=8, frameon=False, loc="lower right")
    style_axes(ax)
    return svg_text(fig, "participation per partner")


def main_flows(flows: pd.DataFrame, top: int = TOP_FLOWS) -> pd.DataFrame:
    """The largest flows between different partners, summed over layers."""
    cross = flows[flows["exporter"].astype(str) != flows["importer"].astype(str)]
    if cross.empty:
        return pd.DataFrame(columns=["exporter", "importer", "quantity", "layers"])
    grouped = cross.groupby(["exporter", "importer"], sort=False).agg(
        quantity=("quantity", "sum"), layers=("layer", lambda s: ", ".join(sorted(set(s)))))
    return grouped.reset_index().sort_values("quantity", ascending=False).head(top)


def flows_chart(top: pd.DataFrame, unit: str | None = None) -> str:
    """The main flows between partners as horizontal bars (exporter to importer)."""
    fig = figure(7.0, 0.6 + 0.3 * max(len(top), 1))
    ax = fig.add_subplot()
    if len(top):
        frame = top.iloc[::-1]
        labels = [f"{e} \u2192 {i}" for e, i in zip(frame["exporter"], frame["importer"],
                                                     strict=True)]
        bars = ax.barh(labels, frame["quantity"].astype(float), color=_BLUE)
        ax.bar_label(bars, labels=[readable(q) for q in frame["quantity"]], padding=3,
                     fontsize=8)
        ax.margins(x=0.15)
    else:
        ax.text(0.5, 0.5, "every consumer is supplied at home", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel(with_unit("quantity shipped", f"{unit} of output" if unit else None),
                  fontsize=9)
    style_axes(ax)
    return svg_text(fig, "main flows between partners")
