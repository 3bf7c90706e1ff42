"""Tiny cases written as CSV text, and lookups into a result's tables, for the core tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

TWO_SUPPLIERS = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand\nchips,10\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n",
}
"""One layer with demand 10 and two partners that can host it at unit cost 1 (A) and 2 (B).

The optimum is A building and supplying all 10: cost 10.
"""


def write_case(folder: Path, **csv_texts: str) -> Path:
    """Write ``partners=..., layers=..., ...`` as ``partners.csv``, ... into ``folder``.

    The texts are dedented, so they may be written as indented triple-quoted strings.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in csv_texts.items():
        body = textwrap.dedent(text).strip() + "\n"
        (folder / f"{table}.csv").write_text(body, encoding="utf-8")
    return folder


def alloc(result: Any, partner: str, layer: str, column: str) -> Any:
    """One cell of ``result.allocation`` for the pair (partner, layer)."""
    frame = result.allocation
    row = frame[(frame["partner"] == partner) & (frame["layer"] == layer)]
    assert len(row) == 1, f"no single allocation row for ({partner}, {layer})"
    return row[column].iloc[0]


def flow(result: Any, exporter: str, importer: str, layer: str) -> float:
    """The quantity shipped on one route of one layer (0 when flows.csv has no row)."""
    frame = result.flows
    row = frame[(frame["exporter"] == exporter) & (frame["importer"] == importer)
                & (frame["layer"] == layer)]
    return float(row["quantity"].sum())


def layer_value(result: Any, layer: str, column: str) -> Any:
    """One cell of ``result.layers``."""
    frame = result.layers
    row = frame[frame["layer"] == layer]
    assert len(row) == 1, f"no single layers row for {layer}"
    return row[column].iloc[0]


def partner_value(result: Any, partner: str, column: str) -> Any:
    """One cell of ``result.partners``."""
    frame = result.partners
    row = frame[frame["partner"] == partner]
    assert len(row) == 1, f"no single partners row for {partner}"
    return row[column].iloc[0]
