"""Shocks cascade: the chain's input flows, balances and rationing in a re-routing LP.

README, The stack as a chain, and Shocks cascade.

A re-routing LP has final flows ``f``, unmet final demand ``u`` per demand row and a
capacity row per capability pair. With a chain it also gets the input flows ``g[p,r,l,m]`` of
the model (same routes and source rules), every input flow counting in its supplier's
capacity row, a fill ratio ``x[m]`` in [0, 1] per layer, and three families of rows:

- input balance, per producing pair (r, l) and input m of l: a producer makes no more than
  the inputs that arrive allow,
  ``sum_p g[p,r,l,m] - a[l,m] * (sum_n f[r,n,l] + sum g[r,.,.,l]) >= 0``;
- rationing (claims), per link (l, m): layer m's output is shared in proportion to the
  planned claims on it, final demand d_m and each using layer's need a[l,m] D_l, so every
  using layer receives the same share ``x[m]`` of its claim as final demand gets,
  ``sum_{p,r} g[p,r,l,m] = x[m] * a[l,m] * D_l``;
- fill, per layer m with final demand: ``sum_{r of m} u[r] + x[m] * d_m = d_m``.

So a layer short of capacity is rationed (proportional rationing of planned claims): its
final buyers and the layers it feeds lose the same share, and a layer whose input is short
makes only what that input allows, which shows in its own final demand and further down (a
lost chip maker leaves chips, cloud compute and the AI models built on it short). An input
delivered beyond what a producer can use (it is short of another input or of capacity) is
not re-allocated: a claim is the planned need, not what is used.

:meth:`InputBlock.relax` lifts the input balances (every producer makes what its capacity
allows, whatever arrives) but keeps the rationing: the LP re-solved so tells how much of a
layer's unmet final demand a missing input caused (``through_inputs``), apart from what its
own capacity, routes and the claims of the layers it feeds cause.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: HiGHS's infinity for bounds.
INF = 1e30


def csc(columns: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Starts, indices and values of sparse vectors given as (indices, values) pairs."""
    lengths = np.array([len(i) for i, _ in columns], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    index = np.concatenate([i for i, _ in columns] + [np.zeros(0)]).astype(np.int32)
    value = np.concatenate([v for _, v in columns] + [np.zeros(0)]).astype(float)
    return starts, index, value


class InputBlock:
    """The input flows, fill ratios and chain rows added to one HiGHS re-routing LP."""

    def __init__(self, h: Any, data: Any, cap_rows: np.ndarray, flow_cols: np.ndarray,
                 unmet_cols: np.ndarray) -> None:
        """Add the block to ``h``.

        ``cap_rows[a]`` is pair a's capacity row, ``flow_cols[j]`` the column of final flow j,
        ``unmet_cols[r]`` the column of demand row r's unmet demand.
        """
        chain = data.chain
        self.data = data
        g, balances, links = chain.flows, chain.balances, chain.links
        n_b, n_g, n_k, n_l = len(balances), len(g), len(links), len(data.layers)
        self.n_g = n_g
        self.cost = g["unit_cost"].to_numpy(dtype=float)
        per_unit = balances["per_unit"].to_numpy(dtype=float)
        producer = balances["producer"].to_numpy(dtype=np.int64)
        link_of_balance = balances["link"].to_numpy(dtype=np.int64)
        total = np.asarray(data.layer_demand, dtype=float)
        final = np.asarray(data.final_demand, dtype=float)
        row_layer = np.asarray(data.row_layer, dtype=np.int64)
        filled = np.flatnonzero(final > 0)

        # Rows: balances [row0, +n_b) (>= 0), claims [+n_b, +n_k) (= 0), fills (= d_m), and
        # one row of the total unmet final demand (open; a lexicographic re-routing caps it).
        self.row0 = int(h.getNumRow())
        claim0, fill0 = self.row0 + n_b, self.row0 + n_b + n_k
        self.total_row = fill0 + len(filled)
        flow_pair = np.asarray(data.flow_pair, dtype=np.int64)
        flows_of_pair = np.searchsorted(flow_pair, np.arange(data.n_pairs + 1))
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        for b in range(n_b):  # a producer's final flows: -a * f
            js = np.asarray(flow_cols, dtype=np.int64)[
                flows_of_pair[producer[b]]:flows_of_pair[producer[b] + 1]]
            rows.append((js, np.full(len(js), -per_unit[b])))
        rows += [(np.zeros(0), np.zeros(0))] * n_k
        rows_of_layer = [np.flatnonzero(row_layer == m) for m in range(n_l)]
        for m in filled:
            us = np.asarray(unmet_cols, dtype=np.int64)[rows_of_layer[m]]
            rows.append((us, np.ones(len(us))))
        rows.append((np.asarray(unmet_cols, dtype=np.int64), np.ones(len(unmet_cols))))
        lower = np.concatenate([np.zeros(n_b + n_k), final[filled], [-INF]])
        upper = np.concatenate([np.full(n_b, INF), np.zeros(n_k), final[filled], [INF]])
        starts, index, value = csc(rows)
        status = h.addRows(len(rows), lower, upper, len(index), starts, index, value)
        if h.getNumRow() != self.row0 + len(rows):
            raise RuntimeError(f"the re-routing LP refused the chain's rows ({status})")

        # Input-flow columns: +1 in the supplier's capacity row, its own balance row and its
        # link's claim row; -a in every balance row whose producer is its supplier pair.
        supplier = g["supplier"].to_numpy(dtype=np.int64)
        balance = g["balance"].to_numpy(dtype=np.int64)
        rows_of_producer = [np.flatnonzero(producer == a) for a in range(data.n_pairs)]
        cols: list[tuple[np.ndarray, np.ndarray]] = []
        for j in range(n_g):
            a = supplier[j]
            downstream = rows_of_producer[a]
            at = np.concatenate([[cap_rows[a], self.row0 + balance[j],
                                  claim0 + link_of_balance[balance[j]]],
                                 self.row0 + downstream]).astype(np.int64)
            coefs = np.concatenate([[1.0, 1.0, 1.0], -per_unit[downstream]])
            # Own use (a layer its own input) meets its own balance row twice: one entry.
            at, where = np.unique(at, return_inverse=True)
            cols.append((at, np.bincount(where, weights=coefs, minlength=len(at))))
        # Fill-ratio columns x[m]: -a[l,m] D_l in each claim row on m, d_m in m's fill row.
        link_layer = links["layer"].to_numpy(dtype=np.int64)
        link_input = links["input"].to_numpy(dtype=np.int64)
        link_need = links["per_unit"].to_numpy(dtype=float) * total[link_layer]
        fill_row = {int(m): fill0 + i for i, m in enumerate(filled)}
        for layer in range(n_l):
            ks = np.flatnonzero(link_input == layer)
            fill = [fill_row[layer]] if layer in fill_row else []
            at = np.concatenate([claim0 + ks, fill]).astype(np.int64)
            val = np.concatenate([-link_need[ks], final[layer:layer + 1] if fill else []])
            cols.append((at, val))
        self.col0 = int(h.getNumCol())
        n_new = n_g + n_l
        starts, index, value = csc(cols)
        upper_col = np.concatenate([np.full(n_g, INF), np.ones(n_l)])
        status = h.addCols(n_new, np.zeros(n_new), np.zeros(n_new), upper_col, len(index),
                           starts, index, value)
        if h.getNumCol() != self.col0 + n_new:
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
        """Lift the input balances (inputs arrive whatever happens) or hold them again."""
        n = len(self.rows)
        if n:
            h.changeRowsBounds(n, self.rows, np.full(n, -INF if relaxed else 0.0),
                               np.full(n, INF))

    def cap_unmet(self, h: Any, most: float) -> None:
        """Cap the total unmet final demand at ``most`` (:data:`INF`: no cap)."""
        h.changeRowsBounds(1, np.array([self.total_row], dtype=np.int32),
                           np.array([-INF]), np.array([most]))

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
    """The part of the unmet demand a missing input caused (per layer; noise is none)."""
    gap = np.maximum(np.asarray(with_chain) - np.asarray(without), 0.0)
    gap[gap <= 1e-7 * (1.0 + np.asarray(demand))] = 0.0
    return gap
