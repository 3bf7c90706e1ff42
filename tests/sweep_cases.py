"""Small case folders for the sweep, stress and frontier tests, written as CSV text."""

from __future__ import annotations

import textwrap
from pathlib import Path

from solver.studies.engine.progress import Progress
from solver.studies.sweep.point_solver import PointOutcome

SMALL = {
    "partners": """
        partner,member,trust
        A,true,1
        B,true,0.9
        C,true,0.8
        D,false,0.6
    """,
    "layers": """
        layer,min_suppliers,min_supplier_share,max_share,min_trust,redundancy_cost
        chips,1,0.05,1,0.5,0.1
        cloud,1,0.05,1,0,0.05
    """,
    "capabilities": """
        partner,layer,capacity,unit_cost,fixed_cost,min_capacity
        A,chips,100,1.01,5.3,0
        B,chips,100,1.53,3.1,0
        C,chips,100,2.07,2.2,0
        D,chips,100,0.83,4.7,0
        A,cloud,60,2.11,1.3,0
        B,cloud,80,1.23,1.1,0
        C,cloud,80,1.02,2.9,5
        D,cloud,80,0.91,2.3,0
    """,
    "demand": """
        member,layer,demand
        A,chips,30
        B,chips,20
        C,chips,10
        A,cloud,15
        B,cloud,15
        C,cloud,10
    """,
    "trade": """
        exporter,importer,unit_cost,allowed
        D,A,0.21,true
        D,B,0.33,true
        D,C,0.12,true
        A,C,0.05,true
        B,A,0.07,true
    """,
}
"""Four partners (D an outside supplier), two layers, per-member demand, some trade costs.

Concentration, costs and trade all matter, so sweeping ``layers.max_share`` or the unit
costs of one partner changes the plan.
"""

SOLE_SUPPLIER = {
    "partners": """
        partner
        A
        B
        C
    """,
    "layers": """
        layer,min_suppliers,min_supplier_share
        chips,1,0
        cloud,2,0
    """,
    "capabilities": """
        partner,layer,capacity,unit_cost
        A,chips,100,1
        B,cloud,100,1.5
        C,cloud,100,2
    """,
    "demand": """
        member,layer,demand
        A,chips,10
        B,chips,20
        A,cloud,15
        C,cloud,5
    """,
}
"""A is the only partner that can make chips (demand 30); B and C host cloud (demand 20)."""


def write_case(folder: Path, tables: dict[str, str]) -> Path:
    """Write each CSV text of ``tables`` as ``folder/<name>.csv``; return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n",
                                            encoding="utf-8")
    return folder


class StopAfter(Progress):
    """Counts the points (or samples) solved in this run; presses Ctrl-C after ``n`` of them."""

    def __init__(self, n: int | None = None) -> None:
        self.n = n
        self.solved: list[int] = []

    def point(self, outcome: PointOutcome) -> None:
        self.solved.append(outcome.point.index)
        if self.n is not None and len(self.solved) == self.n:
            raise KeyboardInterrupt
