"""The numbers of the model, fixed or mutable.

Each quantity of README, The model is an array over one set (pairs, demand rows, layers,
partners, flows, or a scalar). A quantity is a plain list of floats unless a sweep varies it,
in which case it becomes a mutable Pyomo ``Param`` so that HiGHS can be updated in place and
re-solved without rebuilding the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyomo.core as pyo

from solver.case.loader import Case
from solver.model.data import ModelData

#: quantity -> (set it is indexed by, the override columns that change it)
QUANTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "capacity": ("pair", ("capabilities.capacity",)),
    "unit_cost": ("pair", ("capabilities.unit_cost",)),
    "fixed_cost": ("pair", ("capabilities.fixed_cost",)),
    "min_capacity": ("pair", ("capabilities.min_capacity",)),
    "demand": ("row", ("demand.demand", "layers.demand")),
    "max_dependency": ("row", ("demand.max_dependency",)),
    "min_domestic": ("row", ("demand.min_domestic",)),
    "unit_value": ("layer", ("layers.unit_value",)),
    "min_suppliers": ("layer", ("layers.min_suppliers",)),
    "min_supplier_share": ("layer", ("layers.min_supplier_share",)),
    "max_share": ("layer", ("layers.max_share",)),
    "resilience": ("layer", ("layers.resilience",)),
    "redundancy_cost": ("layer", ("layers.redundancy_cost",)),
    "max_surplus": ("layer", ("layers.max_surplus",)),
    "min_participation": ("partner", ("partners.min_participation",)),
    "max_participation": ("partner", ("partners.max_participation",)),
    "disruption_risk": ("partner", ("partners.disruption_risk",)),
    "trade_cost": ("flow", ("trade.unit_cost",)),
    "input_trade_cost": ("input_flow", ("trade.unit_cost",)),
    "redundancy_weight": ("scalar", ("objective.redundancy_weight",)),
    "risk_weight": ("scalar", ("objective.risk_weight",)),
    "budget": ("scalar", ("objective.budget",)),
    "shortage_cost": ("scalar", ("objective.shortage_cost",)),
}

#: Override columns that change the model's structure (its sets), not just its numbers.
STRUCTURAL = {"partners.trust", "layers.min_trust", "trade.allowed", "partners.member"}


def values(case: Case, data: ModelData) -> dict[str, np.ndarray]:
    """Every quantity of :data:`QUANTITIES` as a float array over its set.

    ``data`` must be ``model_data(case)``: the numbers are read from its frames.
    """
    pairs, rows, layers, partners = data.pairs, data.rows, data.layers, data.partners
    obj = case.objective

    def col(frame: Any, name: str) -> np.ndarray:
        return np.asarray(frame[name].to_numpy(dtype=float), dtype=float)

    return {
        "capacity": col(pairs, "capacity"),
        "unit_cost": col(pairs, "unit_cost"),
        "fixed_cost": col(pairs, "fixed_cost"),
        "min_capacity": col(pairs, "min_capacity"),
        "demand": col(rows, "demand"),
        "max_dependency": col(rows, "max_dependency"),
        "min_domestic": col(rows, "min_domestic"),
        "unit_value": col(layers, "unit_value"),
        "min_suppliers": col(layers, "min_suppliers"),
        "min_supplier_share": col(layers, "min_supplier_share"),
        "max_share": col(layers, "max_share"),
        "resilience": col(layers, "resilience"),
        "redundancy_cost": col(layers, "redundancy_cost"),
        "max_surplus": col(layers, "max_surplus"),
        "min_participation": col(partners, "min_participation"),
        "max_participation": col(partners, "max_participation"),
        "disruption_risk": col(partners, "disruption_risk"),
        "trade_cost": col(data.flows, "unit_cost"),
        "input_trade_cost": (col(data.chain.flows, "unit_cost") if data.chain is not None
                             else np.zeros(0)),
        "redundancy_weight": np.array([obj.redundancy_weight]),
        "risk_weight": np.array([obj.risk_weight]),
        "budget": np.array([np.nan if obj.budget is None else obj.budget]),
        "shortage_cost": np.array([np.nan if obj.shortage_cost is None
                                   else obj.shortage_cost]),
    }


def mutable_quantities(columns: set[str]) -> set[str]:
    """The quantities that the override columns in ``columns`` change."""
    return {q for q, (_, cols) in QUANTITIES.items() if set(cols) & columns}


#: A budget that is not set, as a mutable parameter: finite, so that HiGHS keeps the row and
#: a later point can set a real budget, but far above any cost (HiGHS takes 1e20 as infinite).
NO_BUDGET = 1e19


def _fill(name: str, array: np.ndarray) -> np.ndarray:
    """Values for a mutable parameter: an unset budget is :data:`NO_BUDGET`, other gaps 0."""
    return np.nan_to_num(array, nan=NO_BUDGET if name == "budget" else 0.0)


class Numbers:
    """Access to the model's numbers: floats, or mutable ``Param`` entries when swept."""

    def __init__(self, m: pyo.ConcreteModel, arrays: dict[str, np.ndarray],
                 mutable: set[str]) -> None:
        self.arrays = arrays
        self.mutable = set(mutable)
        self._seq: dict[str, Sequence[Any]] = {}
        self.changed: set[str] = set()
        """The mutable quantities the last :meth:`update` changed."""
        for name, array in arrays.items():
            if name in self.mutable and len(array):
                init = dict(enumerate(_fill(name, array).tolist()))
                param = pyo.Param(range(len(array)), mutable=True, initialize=init,
                                  within=pyo.Reals)
                m.add_component(f"param_{name}", param)
                self._seq[name] = [param[i] for i in range(len(array))]

    def __getitem__(self, name: str) -> Sequence[Any]:
        """The quantity's numbers: a list of floats, or of ``Param`` entries if mutable.

        A fixed quantity's list is made on each call and not kept: a flow-level one holds a
        million Python floats (33 MB) that the built model does not need.
        """
        if name in self._seq:
            return self._seq[name]
        seq: list[Any] = self.arrays[name].tolist()
        return seq

    def is_mutable(self, name: str) -> bool:
        """Whether ``name`` is a mutable parameter (a family must then apply everywhere)."""
        return name in self.mutable

    def scalar(self, name: str) -> Any:
        """A scalar quantity (objective weights, budget)."""
        return self[name][0]

    def update(self, m: pyo.ConcreteModel, arrays: dict[str, np.ndarray]) -> list[str]:
        """Set the mutable params to ``arrays``.

        Return the names of the fixed quantities whose values differ (they need a rebuild).
        """
        stale = []
        self.changed = set()
        for name, array in arrays.items():
            if name in self.mutable and name in self._seq:
                if np.array_equal(array, self.arrays[name], equal_nan=True):
                    continue
                if np.shape(array) != np.shape(self.arrays[name]):
                    stale.append(name)  # another layout: the model is built again
                    continue
                self.changed.add(name)
                # Only the entries that differ are set: the params hold the last arrays
                # (nothing else sets them), and a Param entry is slow to set.
                new, old = _fill(name, array), _fill(name, self.arrays[name])
                entries = self._seq[name]
                for i in np.flatnonzero(new != old).tolist():
                    entries[i].set_value(float(new[i]))
            elif not np.array_equal(array, self.arrays[name], equal_nan=True):
                stale.append(name)
        self.arrays = {**self.arrays, **{k: arrays[k] for k in self.mutable}}
        return stale
