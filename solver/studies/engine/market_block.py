"""Markets outside the coalition in the re-routing LP (README, Markets outside the coalition).

In a disruption a market's floor does not hold: each market row ``r`` asks for what the plan
sent it, ``target[r]``, and takes what members leave. Columns: market flows ``h[j]`` (the
case's market flows, in their pair's capacity row) and the market's unmet supply ``v[r]``;
rows ``sum_{j of r} h[j] + v[r] = target[r]`` and one row of the members' total unmet demand
``sum_r u[r]`` (open; the re-routing caps it at its least before markets are served). A unit
not delivered to a market costs its ``price`` (lost revenue): members are served first
(lexicographically: members' unmet demand, then trade cost plus lost revenue).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solver.errors import UsageError
from solver.studies.engine.chain import INF, csc


class MarketBlock:
    """The market flows, their unmet supply and the members' total row of one re-routing LP."""

    def __init__(self, h: Any, data: Any, unmet_cols: np.ndarray, target: np.ndarray) -> None:
        """Add the block to ``h``: ``unmet_cols[r]`` is members' demand row r's unmet column.

        ``target[r]`` is what the plan sent market row r (of ``data.markets.rows``).
        """
        if data.chain is not None:  # refused by name before (solver.case.markets)
            raise UsageError("a disruption of a case with both markets.csv and inputs.csv is "
                             "not yet supported")
        markets = data.markets
        self.n_h, self.n_m = markets.n_flows, markets.n_rows
        self.trade = markets.flows["unit_cost"].to_numpy(dtype=float)
        self.price = markets.rows["price"].to_numpy(dtype=float)
        self.target = np.maximum(np.asarray(target, dtype=float), 0.0)
        pair = markets.flows["pair"].to_numpy(dtype=np.int64)
        row = markets.flows["row"].to_numpy(dtype=np.int64)
        self.exporter = markets.flows["exporter"].to_numpy(dtype=object)
        self.importer = markets.flows["importer"].to_numpy(dtype=object)
        self.layer = markets.flows["layer"].to_numpy(dtype=object)
        self.row_layer = markets.rows["layer"].astype(str).to_numpy(dtype=object)
        # The layers some market asks for in a disruption (the plan sent it some).
        self.targeted = set(self.row_layer[self.target > 0].tolist())

        self.row0 = int(h.getNumRow())
        self.total_row = self.row0 + self.n_m
        us = np.asarray(unmet_cols, dtype=np.int64)
        starts, index, value = csc([(np.zeros(0), np.zeros(0))] * self.n_m
                                    + [(us, np.ones(len(us)))])
        h.addRows(self.n_m + 1, np.concatenate([self.target, [-INF]]),
                  np.concatenate([self.target, [INF]]), len(index), starts, index, value)
        if h.getNumRow() != self.total_row + 1:
            raise RuntimeError("the re-routing LP refused the markets' rows")
        # h[j]: +1 in its pair's capacity row (rows [0, n_pairs)) and its market row.
        cols = [(np.array([pair[j], self.row0 + row[j]]), np.ones(2)) for j in range(self.n_h)]
        cols += [(np.array([self.row0 + r]), np.ones(1)) for r in range(self.n_m)]
        self.col0 = int(h.getNumCol())
        n_new = self.n_h + self.n_m
        starts, index, value = csc(cols)
        h.addCols(n_new, np.zeros(n_new), np.zeros(n_new),
                  np.concatenate([np.full(self.n_h, INF), self.target]), len(index), starts,
                  index, value)
        if h.getNumCol() != self.col0 + n_new:
            raise RuntimeError("the re-routing LP refused the market flows")
        self.flow_cols = (self.col0 + np.arange(self.n_h)).astype(np.int32)
        self.unmet_cols = (self.col0 + self.n_h + np.arange(self.n_m)).astype(np.int32)

    def open(self, h: Any, closed: np.ndarray) -> None:
        """Shut the ``closed`` market flows and open the rest."""
        if self.n_h:
            h.changeColsBounds(self.n_h, self.flow_cols, np.zeros(self.n_h),
                               np.where(closed, 0.0, INF))

    def costs(self, h: Any, on: bool) -> None:
        """Price market flows at their trade cost and unmet supply at its price, or at nothing."""
        cols = np.concatenate([self.flow_cols, self.unmet_cols]).astype(np.int32)
        cost = np.concatenate([self.trade, self.price])
        if len(cols):
            h.changeColsCost(len(cols), cols, cost if on else np.zeros(len(cols)))

    def cap_members(self, h: Any, most: float) -> None:
        """Cap the members' total unmet demand at ``most`` (:data:`INF`: no cap)."""
        h.changeRowsBounds(1, np.array([self.total_row], dtype=np.int32),
                           np.array([-INF]), np.array([most]))

    def closed_by(self, case: Any, s: int, pairs: Any) -> np.ndarray:
        """Which market flows scenario ``s`` of ``case`` closes (its route rows)."""
        from solver.case.scenarios import scenarios_over

        return np.asarray(scenarios_over(
            case.scenarios, pairs["partner"].to_numpy(dtype=object),
            pairs["layer"].to_numpy(dtype=object), self.exporter, self.importer,
            self.layer).closed[s], dtype=bool)

    def unmet(self, x: np.ndarray) -> np.ndarray:
        """Each market row's unmet supply in the solution ``x`` (all columns)."""
        v = np.clip(x[self.unmet_cols], 0.0, None)
        v[v <= 1e-7 * (1.0 + self.target)] = 0.0
        return v

    def trade_cost(self, x: np.ndarray) -> float:
        """The trade cost of the market flows in the solution ``x``."""
        return float(self.trade @ np.maximum(x[self.flow_cols], 0.0))

    def lost_revenue(self, unmet: np.ndarray) -> float:
        """What the market rows' unmet supply ``unmet`` would have paid."""
        return float(self.price @ unmet)


def market_target(data: Any, flows: Any) -> np.ndarray:
    """What a plan's ``flows`` (exporter, importer, layer, quantity) send each market row."""
    import pandas as pd

    rows = data.markets.rows
    out = np.zeros(len(rows))
    if flows is None or len(flows) == 0:
        return out
    given = flows.astype({"importer": str, "layer": str}).groupby(
        ["importer", "layer"])["quantity"].sum()
    at = pd.MultiIndex.from_arrays([rows["market"].astype(str), rows["layer"].astype(str)])
    return given.reindex(at).fillna(0.0).to_numpy(dtype=float)
