"""Shocks cascade: the chain's input flows and balances in a re-routing LP.

README, The stack as a chain.

A re-routing LP has final flows ``f`` and a capacity row per capability pair. With a chain it
also gets the input flows ``g[p,r,l,m]`` of the model (same routes and source rules) and, per
producing pair and input, the balance

    sum_p g[p,r,l,m] - a[l,m] * (sum_n f[r,n,l] + sum g[r,.,.,l]) = 0

(production is final plus input deliveries), and every input flow counts in its supplier's
capacity row. Production is then limited by surviving capacity and by the inputs that still
arrive: a lost chip maker starves cloud compute and the AI models built on it.

:meth:`InputBlock.relax` lifts the balances, so that the LP re-solved without them tells how
much of the unmet demand a missing input caused (``through_inputs``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: HiGHS's infinity for bounds.
INF = 1e30


class InputBlock:
    """The input flows and balance rows added to one HiGHS re-routing LP."""

    def __init__(self, h: Any, data: Any, cap_rows: np.ndarray, flow_cols: np.ndarray) -> None:
        """Add the block to ``h``.

        ``cap_rows[a]`` is pair a's capacity row, ``flow_cols[j]`` the column of final flow j.
        """
        chain = data.chain
        self.data = data
        g = chain.flows
        balances = chain.balances
        n_b, n_g = len(balances), len(g)
        self.n_g = n_g
        self.cost = g["unit_cost"].to_numpy(dtype=float)
        per_unit = balances["per_unit"].to_numpy(dtype=float)
        producer = balances["producer"].to_numpy(dtype=np.int64)
        self.row0 = int(h.getNumRow())
        # Balance rows with their final-flow terms: -a * f for the producer pair's flows.
        flow_pair = np.asarray(data.flow_pair, dtype=np.int64)
        flows_of_pair = np.searchsorted(flow_pair, np.arange(data.n_pairs + 1))
        starts, index, value = [0], [], []
        for b in range(n_b):
            a = producer[b]
            js = np.arange(flows_of_pair[a], flows_of_pair[a + 1])
            index.append(np.asarray(flow_cols, dtype=np.int64)[js])
            value.append(np.full(len(js), -per_unit[b]))
            starts.append(starts[-1] + len(js))
        idx = np.concatenate(index) if index else np.zeros(0, dtype=np.int64)
        val = np.concatenate(value) if value else np.zeros(0)
        status = h.addRows(n_b, np.zeros(n_b), np.zeros(n_b), len(idx),
                           np.asarray(starts[:-1], dtype=np.int32), idx.astype(np.int32), val)
        if h.getNumRow() != self.row0 + n_b:
            raise RuntimeError(f"the re-routing LP refused the input balances ({status})")
        # Input-flow columns: +1 in the supplier's capacity row and in its own balance row,
        # -a in every balance row whose producer is its supplier pair.
        supplier = g["supplier"].to_numpy(dtype=np.int64)
        balance = g["balance"].to_numpy(dtype=np.int64)
        rows_of_producer = [np.flatnonzero(producer == a) for a in range(data.n_pairs)]
        starts, index, value = [0], [], []
        for j in range(n_g):
            a = supplier[j]
            downstream = rows_of_producer[a]
            rows = np.concatenate([[cap_rows[a], self.row0 + balance[j]],
                                   self.row0 + downstream]).astype(np.int64)
            coefs = np.concatenate([[1.0, 1.0], -per_unit[downstream]])
            # Own use (a layer its own input) meets its own balance row twice: one entry.
            rows, at = np.unique(rows, return_inverse=True)
            index.append(rows)
            value.append(np.bincount(at, weights=coefs, minlength=len(rows)))
            starts.append(starts[-1] + len(rows))
        idx = np.concatenate(index) if index else np.zeros(0, dtype=np.int64)
        val = np.concatenate(value) if value else np.zeros(0)
        self.col0 = int(h.getNumCol())
        status = h.addCols(n_g, np.zeros(n_g), np.zeros(n_g), np.full(n_g, INF), len(idx),
                           np.asarray(starts[:-1], dtype=np.int32), idx.astype(np.int32), val)
        if h.getNumCol() != self.col0 + n_g:
            raise RuntimeError(f"the re-routing LP refused the input flows ({status})")
        self.cols = (self.col0 + np.arange(n_g)).astype(np.int32)
        self.rows = (self.row0 + np.arange(n_b)).astype(np.int32)
        self.exporter = g["exporter"].to_numpy(dtype=object)
        self.importer = g["importer"].to_numpy(dtype=object)
        self.input = g["input"].to_numpy(dtype=object)
        self._closed: np.ndarray | None = None

    def open(self, h: Any, upper: np.ndarray) -> None:
        """Set the input flows' upper bounds (0 closes one, :data:`INF` opens it)."""
        if self.n_g:
            h.changeColsBounds(self.n_g, self.cols, np.zeros(self.n_g), upper)

    def costs(self, h: Any, on: bool) -> None:
        """Price the input flows at their routes' trade cost (``on``) or at nothing."""
        if self.n_g:
            h.changeColsCost(self.n_g, self.cols, self.cost if on else np.zeros(self.n_g))

    def relax(self, h: Any, relaxed: bool) -> None:
        """Lift the balances (inputs arrive whatever happens) or hold them again."""
        n = len(self.rows)
        if n:
            bound = np.full(n, INF if relaxed else 0.0)
            h.changeRowsBounds(n, self.rows, -bound, bound)

    def closed_by(self, case: Any, s: int) -> np.ndarray:
        """Which input flows scenario ``s`` of ``case`` closes (its route rows)."""
        from solver.case.scenarios import scenarios_over

        if self._closed is None:
            self._closed = scenarios_over(
                case.scenarios, self.data.pairs["partner"].to_numpy(dtype=object),
                self.data.pairs["layer"].to_numpy(dtype=object), self.exporter, self.importer,
                self.input).closed
        return np.asarray(self._closed[s], dtype=bool)

    def trade_cost(self, x: np.ndarray) -> float:
        """The trade cost of the input flows in the solution ``x`` (all columns)."""
        return float(self.cost @ np.maximum(x[self.col0:self.col0 + self.n_g], 0.0))


def through_inputs(with_chain: np.ndarray, without: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """The part of the unmet demand a missing input caused (per row; noise is none)."""
    gap = np.maximum(np.asarray(with_chain) - np.asarray(without), 0.0)
    gap[gap <= 1e-7 * (1.0 + np.asarray(demand))] = 0.0
    return gap
