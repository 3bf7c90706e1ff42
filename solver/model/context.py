"""What the constraint families share while the model is built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from solver.model.data import ModelData, group_positions
from solver.model.numbers import Numbers


@dataclass
class Context:
    """The model under construction, its data laid out for fast access, and its numbers."""

    m: pyo.ConcreteModel
    data: ModelData
    num: Numbers
    elastic: bool
    slacks: list[tuple[str, Any, list[float], str]] = field(default_factory=list)
    bounds: dict[str, Sequence[tuple[str, ...]]] = field(default_factory=dict)
    unmet_domestic: Sequence[tuple[str, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        d = self.data
        self.arrays = self.num.arrays
        self.n_pairs, self.n_rows, self.n_flows = d.n_pairs, len(d.rows), d.n_flows
        self.n_layers, self.n_partners = len(d.layers), len(d.partners)
        self.layer_id: list[str] = d.layers["layer"].tolist()
        self.layer_pos = {name: i for i, name in enumerate(self.layer_id)}
        self.partner_id: list[str] = d.partners["partner"].tolist()
        self.pair_layer = d.pair_layer
        self.pair_partner_id: list[str] = d.pairs["partner"].tolist()
        self.pair_layer_id: list[str] = d.pairs["layer"].tolist()
        self.row_member_id: list[str] = d.rows["member"].tolist()
        self.row_layer_id: list[str] = d.rows["layer"].tolist()
        self.flow_row = d.flow_row
        self.flow_domestic: list[bool] = d.flows["domestic"].tolist()
        self.flows_of_pair = [g.tolist() for g in group_positions(d.flow_pair, self.n_pairs)]
        self.flows_of_row = [g.tolist() for g in group_positions(d.flow_row, self.n_rows)]
        self.pairs_of_layer = [g.tolist() for g in group_positions(d.pair_layer, self.n_layers)]
        self.pairs_of_partner = [
            g.tolist() for g in group_positions(d.pair_partner, self.n_partners)]
        # Layer demand D_l and total value V: floats, or expressions of mutable params.
        self.demand_value = d.layer_demand
        self.total_value = d.total_value
        demand, value = self.num["demand"], self.num["unit_value"]
        if self.num.is_mutable("demand"):
            rows_of_layer = group_positions(d.row_layer, self.n_layers)
            self.D: list[Any] = [sum(demand[r] for r in rows.tolist()) for rows in rows_of_layer]
        else:
            self.D = np.asarray(d.layer_demand, dtype=float).tolist()
        if self.num.is_mutable("demand") or self.num.is_mutable("unit_value"):
            self.V: Any = sum(value[i] * self.D[i] for i in range(self.n_layers))
        else:
            self.V = float(d.total_value)

    def flow_key(self, j: int) -> tuple[str, str, str]:
        """(exporter, importer, layer) of flow ``j``."""
        row = int(self.flow_row[j])
        a = int(self.data.flow_pair[j])
        return self.pair_partner_id[a], self.row_member_id[row], self.row_layer_id[row]
