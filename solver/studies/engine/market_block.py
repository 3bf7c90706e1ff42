"""Markets outside the coalition in the re-routing LP (README, Markets outside the coalition).

In a disruption a market's floor does not hold: each market row ``r`` asks for what the plan
sent it, ``target[r]``, and takes what members leave. Columns: market flows ``h[j]`` (the
case's market flows, in their pair's capacity row) and the market's unmet supply ``v[r]``;
rows ``sum_{j of r} h[j] + v[r] = target[r]`` and one row of the members' total unmet demand
``sum_r u[r]`` (open; the re-routing caps it at its least before markets are served). A unit
not delivered to a market costs its ``price`` (lost revenue): members are served first
(lexicographically: members' unmet demand, then trade cost plus lost revenue).

With a chain (inputs.csv) goods sent to markets need their inputs
(README, The stack as a chain). What is made for markets is routed apart from what is made
for members: market input flows ``g'[p,r,l,m]`` (the chain's input flows: same routes,
source rules and costs, in the supplier's capacity row) and, per producing pair (r, l) and
input m of l, a market balance

    sum_p g'[p,r,l,m] - a[l,m] * (sum h[r,.,l] + sum g'[r,.,.,l]) >= 0.

Members' claims are rationed down the chain as without markets (the chain's claims are on
members' total requirement, :mod:`solver.studies.engine.chain`); markets have no claims: their
goods and the inputs of their goods take the capacity members leave, upstream as at the
market, so a shock cuts a market before any member. Only the layers the plan's market supply
reaches (``Linv @ s``, s what the plan sent markets per layer) get market input flows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solver.studies.engine.chain import INF, csc


class MarketBlock:
    """The market flows, their unmet supply and the members' total row of one re-routing LP."""

    def __init__(self, h: Any, data: Any, unmet_cols: np.ndarray, target: np.ndarray) -> None:
        """Add the block to ``h``: ``unmet_cols[r]`` is members' demand row r's unmet column.

        ``target[r]`` is what the plan sent market row r (of ``data.markets.rows``). Pair a's
        capacity row is row a of ``h``.
        """
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
        inputs = _MarketInputs(data, self.target)
        self.inputs = inputs

        self.row0 = int(h.getNumRow())
        self.total_row = self.row0 + self.n_m
        self.balance_rows = (self.total_row + 1 + np.arange(inputs.n_b)).astype(np.int32)
        us = np.asarray(unmet_cols, dtype=np.int64)
        empty = (np.zeros(0), np.zeros(0))
        starts, index, value = csc([empty] * self.n_m + [(us, np.ones(len(us)))]
                                   + [empty] * inputs.n_b)
        n_rows = self.n_m + 1 + inputs.n_b
        h.addRows(n_rows, np.concatenate([self.target, [-INF], np.zeros(inputs.n_b)]),
                  np.concatenate([self.target, [INF], np.full(inputs.n_b, INF)]), len(index),
                  starts, index, value)
        if h.getNumRow() != self.row0 + n_rows:
            raise RuntimeError("the re-routing LP refused the markets' rows")
        # h[j]: +1 in its pair's capacity row (rows [0, n_pairs)) and its market row, -a in
        # the market balances its pair produces for.
        b0 = int(self.balance_rows[0]) if inputs.n_b else 0
        cols = []
        for j in range(self.n_h):
            bs = inputs.of_producer(int(pair[j]))
            cols.append((np.concatenate([[pair[j], self.row0 + row[j]], b0 + bs]),
                         np.concatenate([np.ones(2), -inputs.per_unit[bs]])))
        cols += [(np.array([self.row0 + r]), np.ones(1)) for r in range(self.n_m)]
        cols += inputs.columns(b0)
        self.col0 = int(h.getNumCol())
        n_new = self.n_h + self.n_m + inputs.n_g
        starts, index, value = csc(cols)
        h.addCols(n_new, np.zeros(n_new), np.zeros(n_new),
                  np.concatenate([np.full(self.n_h, INF), self.target, np.full(inputs.n_g, INF)]),
                  len(index), starts, index, value)
        if h.getNumCol() != self.col0 + n_new:
            raise RuntimeError("the re-routing LP refused the market flows")
        self.flow_cols = (self.col0 + np.arange(self.n_h)).astype(np.int32)
        self.unmet_cols = (self.col0 + self.n_h + np.arange(self.n_m)).astype(np.int32)
        self.input_cols = (self.col0 + self.n_h + self.n_m
                           + np.arange(inputs.n_g)).astype(np.int32)

    def open(self, h: Any, closed: np.ndarray, closed_inputs: np.ndarray | None = None) -> None:
        """Shut the ``closed`` market flows and open the rest.

        With a chain, ``closed_inputs`` are the chain's input flows whose routes close (the
        market input flows over them close with them).
        """
        if self.n_h:
            h.changeColsBounds(self.n_h, self.flow_cols, np.zeros(self.n_h),
                               np.where(closed, 0.0, INF))
        n_g = self.inputs.n_g
        if n_g:
            shut = np.zeros(n_g, dtype=bool) if closed_inputs is None \
                else np.asarray(closed_inputs, dtype=bool)[self.inputs.flows]
            h.changeColsBounds(n_g, self.input_cols, np.zeros(n_g), np.where(shut, 0.0, INF))

    def costs(self, h: Any, on: bool) -> None:
        """Price market flows (and their inputs) at trade cost and unmet supply at its price.

        Or at nothing (``on`` false).
        """
        cols = np.concatenate([self.flow_cols, self.unmet_cols,
                               self.input_cols]).astype(np.int32)
        cost = np.concatenate([self.trade, self.price, self.inputs.cost])
        if len(cols):
            h.changeColsCost(len(cols), cols, cost if on else np.zeros(len(cols)))

    def relax(self, h: Any, relaxed: bool) -> None:
        """Lift the market balances (inputs arrive whatever happens) or hold them again."""
        n = len(self.balance_rows)
        if n:
            h.changeRowsBounds(n, self.balance_rows, np.full(n, -INF if relaxed else 0.0),
                               np.full(n, INF))

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
        """The trade cost of the market flows and their input flows in the solution ``x``."""
        return float(self.trade @ np.maximum(x[self.flow_cols], 0.0)
                     + self.inputs.cost @ np.maximum(x[self.input_cols], 0.0))

    def lost_revenue(self, unmet: np.ndarray) -> float:
        """What the market rows' unmet supply ``unmet`` would have paid."""
        return float(self.price @ unmet)


class _MarketInputs:
    """The market input flows and balances: the chain's, over the layers markets reach."""

    def __init__(self, data: Any, target: np.ndarray) -> None:
        chain, markets = data.chain, data.markets
        self.n_b = self.n_g = 0
        self.flows = np.zeros(0, dtype=np.int64)
        self.cost = self.per_unit = np.zeros(0)
        self._by_producer: dict[int, np.ndarray] = {}
        if chain is None:
            return
        sent = np.bincount(markets.rows["layer_pos"].to_numpy(dtype=np.int64), weights=target,
                           minlength=len(data.layers))
        reached = np.asarray(markets.reach, dtype=float) @ sent > 0
        balances = chain.balances
        producer = balances["producer"].to_numpy(dtype=np.int64)
        # The market balances: those of a producer whose layer market supply reaches.
        kept = np.flatnonzero(reached[np.asarray(data.pair_layer)[producer]])
        self.n_b = len(kept)
        at = np.full(len(balances), -1, dtype=np.int64)
        at[kept] = np.arange(self.n_b)
        self.producer = producer[kept]
        self.per_unit = balances["per_unit"].to_numpy(dtype=float)[kept]
        grouped: dict[int, list[int]] = {}
        for b, a in enumerate(self.producer.tolist()):
            grouped.setdefault(a, []).append(b)
        self._by_producer = {a: np.asarray(bs, dtype=np.int64) for a, bs in grouped.items()}
        g = chain.flows
        self.flows = np.flatnonzero(at[g["balance"].to_numpy(dtype=np.int64)] >= 0)
        self.n_g = len(self.flows)
        self.balance = at[g["balance"].to_numpy(dtype=np.int64)[self.flows]]
        self.supplier = g["supplier"].to_numpy(dtype=np.int64)[self.flows]
        self.cost = g["unit_cost"].to_numpy(dtype=float)[self.flows]

    def of_producer(self, pair: int) -> np.ndarray:
        """The market balances (positions) whose producer is ``pair``."""
        return self._by_producer.get(pair, np.zeros(0, dtype=np.int64))

    def columns(self, b0: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each market input flow's column (the market balances start at row ``b0``).

        +1 in its supplier's capacity row and its own balance, -a in the balances its
        supplier produces for.
        """
        cols = []
        for j in range(self.n_g):
            a = int(self.supplier[j])
            downstream = self.of_producer(a)
            at = np.concatenate([[a, b0 + self.balance[j]], b0 + downstream]).astype(np.int64)
            coefs = np.concatenate([[1.0, 1.0], -self.per_unit[downstream]])
            # Own use (a layer its own input) meets its own balance row twice: one entry.
            at, where = np.unique(at, return_inverse=True)
            cols.append((at, np.bincount(where, weights=coefs, minlength=len(at))))
        return cols


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
