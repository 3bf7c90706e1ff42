"""What the constraint families share while the model is built."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import MonomialTermExpression

from solver.case.chain import leontief_inverse
from solver.highs.reading import members
from solver.model.data import ModelData, group_positions
from solver.model.numbers import Numbers


@dataclass
class Context:
    """The model under construction, its data laid out for fast access, and its numbers.

    The variables are also held as plain lists (``var_f[j]`` is ``m.f[j]``), so that a row
    of many terms is a list slice or a numpy gather rather than one Pyomo lookup per term.
    Flows are sorted by pair, so the flows of pair ``a`` are
    ``var_f[pair_flow_start[a]:pair_flow_start[a + 1]]``.
    """

    m: pyo.ConcreteModel
    data: ModelData
    num: Numbers
    elastic: bool
    slacks: list[tuple[str, Any, list[float], str]] = field(default_factory=list)
    bounds: dict[str, Sequence[tuple[str, ...]]] = field(default_factory=dict)
    res_pairs: list[int] = field(default_factory=list)
    scenario_flows: list[np.ndarray] = field(default_factory=list)
    chain_recourse: Any = None
    """A two-stage design over a chain: its :class:`~solver.model.two_stage_chain.ChainRecourse`."""

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
        self.flow_domestic: np.ndarray = d.flows["domestic"].to_numpy(dtype=bool)
        self._cache: dict[str, Any] = {}
        self.pair_flow_start = np.searchsorted(d.flow_pair, np.arange(self.n_pairs + 1))
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
            if d.chain is not None:
                # D = (I - A^T)^-1 d: each total a fixed combination of the final demands.
                inverse = leontief_inverse(d.chain.matrix)
                final = self.D
                self.D = [sum(float(inverse[lay, m]) * final[m] for m in range(self.n_layers)
                              if inverse[lay, m] != 0) for lay in range(self.n_layers)]
        else:
            self.D = np.asarray(d.layer_demand, dtype=float).tolist()
        markets = d.markets
        self.market_upper = np.zeros(self.n_layers) if markets is None else markets.upper
        """The most markets add to each D_l (README, Markets outside the coalition)."""
        self.demand_upper = np.asarray(d.layer_demand, dtype=float) + self.market_upper
        """U_l: D_l's upper bound, every market at its max_share."""
        self.market_requirement: dict[int, Any] = {}
        """Layer -> the variable mk_l, D_l's market part (layers that markets reach)."""
        if markets is not None:
            self.market_requirement = dict(zip(markets.reached, self.m.mk.values(),
                                               strict=True))
        if self.num.is_mutable("demand") or self.num.is_mutable("unit_value"):
            self.V: Any = sum(value[i] * self.D[i] for i in range(self.n_layers))
        else:
            self.V = float(d.total_value)

    def market_terms(self, layer: int, coef: Any = 1.0) -> list[Any]:
        """The terms ``-coef * mk_l`` that move D's market part into a row's body.

        A row ``body >= coef * D_l`` is written ``body - coef * mk_l >= coef * D0_l`` (and so
        for ``<=``), ``D0_l`` the members' total requirement; empty for a layer that no
        market reaches (README, Markets outside the coalition).
        """
        var = self.market_requirement.get(layer)
        if var is None:
            return []
        return [MonomialTermExpression((-coef, var))]

    @property
    def market_flows_of_pair(self) -> list[list[Any]]:
        """For each pair, its market flows ``h`` (part of its supply); empty without markets."""
        markets = self.data.markets
        if markets is None or not markets.n_flows:
            return []
        h = members(self.m.h)
        start = np.searchsorted(markets.flows["pair"].to_numpy(),
                                np.arange(self.n_pairs + 1)).tolist()
        return [h[start[a]:start[a + 1]] for a in range(self.n_pairs)]

    def market_spending(self) -> tuple[list[Any], list[float]]:
        """The variables and coefficients of market trade and entry costs (the budget's part).

        ``sum unit_cost h + sum entry_cost e``, never the revenue
        (README, Markets outside the coalition).
        """
        markets = self.data.markets
        if markets is None:
            return [], []
        h, e = members(self.m.h), members(self.m.e)
        cost = markets.flows["unit_cost"].to_numpy(dtype=float)
        use = np.flatnonzero(cost != 0).tolist()
        entry = markets.rows["entry_cost"].to_numpy(dtype=float)[markets.entry_rows]
        return [h[j] for j in use] + e, cost[use].tolist() + entry.tolist()

    def _cached(self, name: str, make: Any) -> Any:
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    @property
    def var_y(self) -> list[Any]:
        """``m.y`` as a list (``var_y[a]`` is ``m.y[a]``)."""
        return self._cached("y", lambda: members(self.m.y))

    @property
    def var_k(self) -> list[Any]:
        """``m.k`` as a list."""
        return self._cached("k", lambda: members(self.m.k))

    @property
    def var_q(self) -> list[Any]:
        """``m.q`` as a list."""
        return self._cached("q", lambda: members(self.m.q))

    @property
    def var_f(self) -> list[Any]:
        """``m.f`` as a list."""
        return self._cached("f", lambda: members(self.m.f))

    @property
    def var_g(self) -> list[Any]:
        """``m.g`` (input flows, README, The stack as a chain) as a list; empty without inputs."""
        return self._cached("g", lambda: members(self.m.g) if hasattr(self.m, "g") else [])

    @property
    def var_built(self) -> list[Any]:
        """``m.built`` as a list."""
        return self._cached("built", lambda: members(self.m.built))

    @property
    def shortage(self) -> bool:
        """Whether demand may go unmet at ``objective.shortage_cost`` (variables z and u)."""
        return hasattr(self.m, "z")

    @property
    def var_z(self) -> list[Any]:
        """``m.z`` (unmet demand per demand row) as a list; empty without shortage."""
        return self._cached("z", lambda: members(self.m.z) if self.shortage else [])

    @property
    def var_u(self) -> list[Any]:
        """``m.u`` (surplus per layer, its positive part) as a list; empty without shortage."""
        return self._cached("u", lambda: members(self.m.u) if self.shortage else [])

    @property
    def flows_of_row(self) -> list[np.ndarray]:
        """For each demand row, the positions of its flows."""
        return self._cached("flows_of_row",
                            lambda: group_positions(self.data.flow_row, self.n_rows))

    def release(self) -> None:
        """Drop the lists made for building (a million entries each at 1M flows)."""
        self._cache.clear()

    @property
    def flows_of_pair(self) -> list[range]:
        """For each pair, the positions of its flows (a range: flows are sorted by pair)."""
        start = self.pair_flow_start.tolist()
        return [range(start[a], start[a + 1]) for a in range(self.n_pairs)]

    def flow_key(self, j: int) -> tuple[str, str, str]:
        """(exporter, importer, layer) of flow ``j``."""
        row = int(self.flow_row[j])
        a = int(self.data.flow_pair[j])
        return self.pair_partner_id[a], self.row_member_id[row], self.row_layer_id[row]

    def flow_keys(self, flows: np.ndarray) -> FlowKeys:
        """(exporter, importer, layer) of each flow in ``flows``, made when read."""
        return FlowKeys(self.data.flows, flows)


class FlowKeys(Sequence[tuple[str, str, str]]):
    """The (exporter, importer, layer) keys of some flows, without a tuple per flow.

    A bound family can hold a key for most of a million flows; nothing reads them on the
    solve path, so they are made only when read.
    """

    def __init__(self, flows: Any, positions: np.ndarray) -> None:
        self._flows, self._positions = flows, positions

    def __len__(self) -> int:
        return len(self._positions)

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        f, at = self._flows, self._positions
        return zip(f["exporter"].to_numpy()[at].tolist(), f["importer"].to_numpy()[at].tolist(),
                   f["layer"].to_numpy()[at].tolist(), strict=True)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        j = int(self._positions[i])
        f = self._flows
        return (f["exporter"].iat[j], f["importer"].iat[j], f["layer"].iat[j])
