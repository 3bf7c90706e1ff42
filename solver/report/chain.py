"""The chain drawn for the report: value flowing from layer to layer (README, The stack as a chain).

A Sankey-style diagram of a run's ``input_flows.csv``: the layers supplied as inputs on the
left, the layers that consume them on the right, one band per link as wide as the quantity
that flows along it (summed over partners).
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from solver.report.charts import figure, svg_text

_COLOURS = ("#2f6db3", "#4f9a5a", "#e07b39", "#8e63b5", "#b5534f", "#c9a227", "#5b8fa8",
            "#7a7a7a", "#d4679a")

#: Vertical gap between the nodes of a column, as a share of the larger column's total.
GAP = 0.04


def links(input_flows: pd.DataFrame) -> pd.DataFrame:
    """Quantity per (input, layer): what flows from one layer into another's production."""
    if input_flows.empty:
        return pd.DataFrame(columns=["input", "layer", "quantity"])
    grouped = input_flows.groupby(["input", "layer"])["quantity"].sum().reset_index()
    return grouped[grouped["quantity"] > 0].sort_values(["input", "layer"]).reset_index(
        drop=True)


def chain_chart(flows: pd.DataFrame) -> str:
    """The links of :func:`links` as a Sankey-style SVG (inputs left, consumers right)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    left = flows.groupby("input")["quantity"].sum()
    right = flows.groupby("layer")["quantity"].sum()
    total = max(float(left.sum()), float(right.sum()), 1e-12)
    gap = GAP * total
    fig = figure(7.0, 0.8 + 0.45 * max(len(left), len(right)))
    ax = fig.add_subplot()

    def stack(sizes: pd.Series) -> dict[str, float]:
        tops, y = {}, 0.0
        for name, size in sizes.items():
            tops[str(name)] = y
            y += float(size) + gap
        return tops

    left_top, right_top = stack(left), stack(right)
    left_used = {k: 0.0 for k in left_top}
    right_used = {k: 0.0 for k in right_top}
    colour = {str(name): _COLOURS[i % len(_COLOURS)] for i, name in enumerate(left.index)}
    for inp, layer, quantity in zip(flows["input"].astype(str), flows["layer"].astype(str),
                                    flows["quantity"].astype(float), strict=True):
        q = float(quantity)
        y0 = left_top[inp] + left_used[inp]
        y1 = right_top[layer] + right_used[layer]
        left_used[inp] += q
        right_used[layer] += q
        verts = [(0.1, y0), (0.5, y0), (0.5, y1), (0.9, y1), (0.9, y1 + q), (0.5, y1 + q),
                 (0.5, y0 + q), (0.1, y0 + q), (0.1, y0)]
        codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
                 MplPath.LINETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
                 MplPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=colour[inp],
                               edgecolor="none", alpha=0.55))
    for tops, sizes, x, align in ((left_top, left, 0.1, "right"),
                                  (right_top, right, 0.9, "left")):
        for name, top in tops.items():
            size = float(sizes[name])
            ax.add_patch(PathPatch(MplPath([(x - 0.01, top), (x + 0.01, top),
                                            (x + 0.01, top + size), (x - 0.01, top + size),
                                            (x - 0.01, top)]), facecolor="#333333",
                                   edgecolor="none"))
            ax.text(x - 0.02 if align == "right" else x + 0.02, top + size / 2,
                    f"{name} {size:,.4g}", ha=align, va="center", fontsize=8)
    height = max(sum(float(v) for v in left) + gap * len(left),
                 sum(float(v) for v in right) + gap * len(right))
    ax.set_xlim(-0.45, 1.45)
    ax.set_ylim(height, -gap)
    ax.axis("off")
    return svg_text(fig, "the chain: value flowing from layer to layer")


def chain_section(run_dir: Path, unit: str | None = None) -> str:
    """The report's section on the chain, or "" when the run has no input flows.

    ``unit`` names the quantities (the model file's ``unit``), or nothing.
    """
    path = Path(run_dir) / "input_flows.csv"
    if not path.is_file():
        return ""
    flows = links(pd.read_csv(path))
    if flows.empty:
        body = "<p>No layer feeds another in this plan.</p>"
    else:
        rows = "".join(f"<tr><td>{html.escape(str(r.input))}</td><td>"
                       f"{html.escape(str(r.layer))}</td><td class=\"num\">{r.quantity:,.4g}"
                       "</td></tr>" for r in flows.itertuples(index=False))
        of = f" ({html.escape(unit)} of output)" if unit else ""
        body = (f"<p>Value flowing from layer to layer{of}: each band is "
                "what the layer on the left supplies as an input to the production of the "
                "layer on the right, summed over partners.</p>" + chain_chart(flows)
                + '<table id="chain-table"><thead><tr><th>input</th><th>layer</th>'
                f"<th>quantity</th></tr></thead><tbody>{rows}</tbody></table>")
    return f'<section id="chain"><h2>The chain</h2>{body}</section>'
