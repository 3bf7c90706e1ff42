"""How library results show in a notebook (``_repr_html_``): small tables, not a dump."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd


def _number(x: Any, fmt: str = ",.6g") -> str:
    try:
        return format(float(x), fmt)
    except (TypeError, ValueError):
        return "-"


def _facts(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                    f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _frame(title: str, frame: pd.DataFrame, limit: int = 20) -> str:
    more = f" (first {limit} of {len(frame)})" if len(frame) > limit else ""
    return (f"<details open><summary><b>{html.escape(title)}</b>{more}</summary>"
            f"{frame.head(limit).to_html(index=False, float_format=lambda x: f'{x:,.6g}')}"
            "</details>")


def result_html(result: Any) -> str:
    """A :class:`~solver.results.Result` as HTML: the facts, costs, layers, partners."""
    s = result.summary
    solver = s.get("solver") if isinstance(s.get("solver"), dict) else {}
    facts = _facts([
        ("case", str(s.get("case", ""))), ("status", result.status),
        ("total cost", _number(result.objective)), ("gap", _number(result.gap, ".2e")),
        ("verified", "yes" if result.verified else "NO"),
        ("solver", f"{solver.get('name', '')} {solver.get('version', '')}".strip()),
    ])
    costs = pd.DataFrame([{"term": k, "cost": v} for k, v in result.costs.items()])
    hosted = result.allocation[result.allocation["hosted"]]
    return ("<div>" + facts + _frame("costs", costs)
            + _frame("layers", result.layers) + _frame("partners", result.partners)
            + _frame("hosts", hosted[["partner", "layer", "capacity", "supplied", "share"]])
            + "</div>")


def comparison_html(comparison: Any) -> str:
    """A :class:`~solver.report.compare.Comparison` as HTML: costs, hosts, layers."""
    head = _facts([("A", comparison.a.label), ("B", comparison.b.label)])
    layers = comparison.layers.pivot_table(index="layer", columns="metric",
                                           values="change", aggfunc="first")
    return ("<div>" + head + _frame("costs", comparison.costs)
            + _frame("hosts gained, lost and moved", comparison.hosts)
            + _frame("change per layer", layers.reset_index()) + "</div>")
