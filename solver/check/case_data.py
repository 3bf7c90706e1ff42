"""The case laid out for checking: integer codes and lookups of its tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.schema import COALITION
from solver.check.common import (
    Grouping,
    Lookup,
    codes,
)
from solver.check.inputs import coefficients, requirement


@dataclass
class CaseData:
    """The case's numbers the checker needs, indexed for fast lookups.

    Ids are turned into integer codes: partners ``0..P-1``, consumers the partners followed by
    ``coalition`` (so a partner has the same code as exporter and as importer), layers
    ``0..L-1``. Pairs, demand rows and trade routes are found by integer keys.
    """

    layers: pd.DataFrame  # index: layer id; parameters plus D (layer demand)
    partners: pd.DataFrame  # index: partner id
    pairs: pd.DataFrame  # one row per capability row, with trusted, D, unit_value
    demand: pd.DataFrame  # one row per (member, layer) demand row
    trade: pd.DataFrame  # exporter, importer, unit_cost, allowed
    partner_ids: pd.Index
    consumer_ids: pd.Index
    layer_ids: pd.Index
    pair_lookup: Lookup
    row_lookup: Lookup
    trade_lookup: Lookup
    total_value: float
    inputs: pd.DataFrame | None = None
    """inputs.csv's links with per_unit > 0 (layer, input, per_unit, source), or None."""
    _codes: tuple[np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False,
                                                         compare=False)
    _cache: dict[tuple[str, str, Any], Any] = field(default_factory=dict, init=False,
                                                    repr=False, compare=False)

    def values(self, frame: str, column: str, dtype: Any = None) -> np.ndarray:
        """``getattr(self, frame)[column].to_numpy(dtype=dtype)``, read once (read-only)."""
        key = (frame, column, dtype)
        got = self._cache.get(key)
        if got is None:
            got = np.asarray(getattr(self, frame)[column].to_numpy(dtype=dtype))
            got.flags.writeable = False
            self._cache[key] = got
        return got

    def grouping(self, column: str) -> Grouping:
        """The pairs grouped by ``column`` (``partner`` or ``layer``), read at its ids."""
        key = ("grouping", column, None)
        got = self._cache.get(key)
        if got is None:
            ids = self.partners.index if column == "partner" else self.layers.index
            got = self._cache[key] = Grouping(self.pairs[column].to_numpy(dtype=object), ids)
        return got

    def pair_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each capability pair's partner code and layer code (``-1`` if unknown), made once."""
        if self._codes is None:
            self._codes = (codes(self.partner_ids, self.pairs["partner"]),
                           codes(self.layer_ids, self.pairs["layer"]))
        return self._codes

    def _demand_grouping(self) -> Grouping:
        """The demand rows grouped by layer, read at the layers (made once)."""
        key = ("grouping", "demand.layer", None)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = Grouping(self.demand["layer"].to_numpy(dtype=object),
                                              self.layers.index)
        return got

    def _per_pair(self, values: np.ndarray) -> np.ndarray:
        """A number per layer (in ``layer_ids`` order) on each pair of its layer (NaN if none)."""
        layer = self.pair_codes()[1]
        if not len(values):
            return np.full(len(layer), np.nan)
        return np.where(layer >= 0, np.asarray(values, dtype=float)[np.maximum(layer, 0)],
                        np.nan)

    def per_pair(self, column: str) -> np.ndarray:
        """``pairs["layer"].map(layers[column])`` as floats: a layer's number on its pairs."""
        values = self.values("layers", column, float)
        layer = self.pair_codes()[1]
        if not len(values):
            return np.full(len(layer), np.nan)
        return np.where(layer >= 0, values[np.maximum(layer, 0)], np.nan)

    @classmethod
    def of(cls, case: Case) -> CaseData:
        """The case's tables, coded and indexed."""
        partners = case.partners.copy()
        partners["partner"] = partners["partner"].astype(str)
        partners = partners.set_index("partner")
        layers = case.layers.copy()
        layers["layer"] = layers["layer"].astype(str)
        layers = layers.set_index("layer")
        demand = case.demand[["member", "layer", "demand", "max_dependency", "min_domestic"]]
        demand = demand.astype({"member": str, "layer": str}).reset_index(drop=True)
        layer_demand = demand.groupby("layer")["demand"].sum()
        layers["D"] = layer_demand.reindex(layers.index).fillna(0.0).astype(float)
        inputs = coefficients(layers.index, case.inputs)
        if inputs is not None:
            layers["final_demand"] = layers["D"]
            layers["D"] = requirement(inputs, layers["final_demand"].to_numpy(dtype=float))
        pairs = case.capabilities[["partner", "layer", "capacity", "unit_cost", "fixed_cost",
                                   "min_capacity"]]
        pairs = pairs.astype({"partner": str, "layer": str}).reset_index(drop=True)
        trust = pairs["partner"].map(partners["trust"]).to_numpy(dtype=float)
        min_trust = pairs["layer"].map(layers["min_trust"]).to_numpy(dtype=float)
        pairs["trust"] = trust
        pairs["min_trust"] = min_trust
        pairs["trusted"] = trust >= min_trust
        pairs["D"] = pairs["layer"].map(layers["D"]).to_numpy(dtype=float)
        pairs["unit_value"] = pairs["layer"].map(layers["unit_value"]).to_numpy(dtype=float)
        trade = case.trade
        if trade.empty:
            trade = pd.DataFrame({"exporter": pd.Series([], dtype=object),
                                  "importer": pd.Series([], dtype=object),
                                  "unit_cost": pd.Series([], dtype=float),
                                  "allowed": pd.Series([], dtype=bool)})
        else:
            layer_of = (trade["layer"].fillna("").astype(str) if "layer" in trade
                        else pd.Series([""] * len(trade), index=trade.index))
            trade = trade[["exporter", "importer", "unit_cost", "allowed"]].astype(
                {"exporter": str, "importer": str, "unit_cost": float, "allowed": bool})
            trade = trade.assign(layer=layer_of.to_numpy())
        if "layer" not in trade:
            trade["layer"] = pd.Series([], dtype=object)
        trade = trade.reset_index(drop=True)

        partner_ids = pd.Index(partners.index.astype(object))
        consumers = list(partner_ids)
        if not case.has_demand_file:
            consumers.append(COALITION)
        consumer_ids = pd.Index(consumers, dtype=object)
        layer_ids = pd.Index(layers.index.astype(object))
        n_layers, n_consumers = len(layer_ids), len(consumer_ids)
        # Routes to markets of markets.csv are checked apart (solver/check/markets.py).
        trade = trade[codes(consumer_ids, trade["importer"].astype(str)) >= 0].reset_index(
            drop=True)
        pair_keys = (codes(partner_ids, pairs["partner"]) * n_layers
                     + codes(layer_ids, pairs["layer"]))
        row_keys = (codes(consumer_ids, demand["member"]) * n_layers
                    + codes(layer_ids, demand["layer"]))
        # A route's row without a layer has layer code 0, its row for layer l code l + 1.
        trade_layer = np.where(trade["layer"].astype(str) == "", -1,
                               codes(layer_ids, trade["layer"].astype(str))) + 1
        trade_keys = ((codes(partner_ids, trade["exporter"]) * n_consumers
                       + codes(consumer_ids, trade["importer"])) * (n_layers + 1) + trade_layer)
        value = layers["unit_value"].to_numpy(dtype=float) @ layers["D"].to_numpy(dtype=float)
        return cls(layers=layers, partners=partners, pairs=pairs, demand=demand, trade=trade,
                   partner_ids=partner_ids, consumer_ids=consumer_ids, layer_ids=layer_ids,
                   pair_lookup=Lookup(pair_keys), row_lookup=Lookup(row_keys),
                   trade_lookup=Lookup(trade_keys), total_value=float(value),
                   inputs=inputs)

    def routes(self, exporter: np.ndarray, importer: np.ndarray,
               layer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each shipment's trade cost and whether its route is allowed (codes in, arrays out).

        trade.csv's row for the route and the layer wins over the route's row without a
        layer; a route without a row is allowed at no cost; domestic supply always is.
        """
        n_layers, n_consumers = len(self.layer_ids), len(self.consumer_ids)
        cost = np.zeros(len(exporter))
        allowed = np.ones(len(exporter), dtype=bool)
        route = (np.asarray(exporter, dtype=np.int64) * n_consumers + importer) * (n_layers + 1)
        for key in (route, route + np.asarray(layer, dtype=np.int64) + 1):
            at = self.trade_lookup.find(key)
            hit = at >= 0
            cost[hit] = self.values("trade", "unit_cost", float)[at[hit]]
            allowed[hit] = self.values("trade", "allowed", bool)[at[hit]]
        domestic = self.partner_ids.to_numpy()[np.maximum(exporter, 0)] == \
            self.consumer_ids.to_numpy()[np.maximum(importer, 0)]
        cost[domestic] = 0.0
        return cost, allowed | domestic

    def with_numbers(self, case: Case) -> CaseData:
        """The same case data with ``case``'s capacities and demands, the rest kept.

        ``case`` must be the case this was made of but for ``capabilities.capacity`` and
        ``demand.demand`` (a group of the coalition game, README, Sharing the cost): the same
        rows in the same order. Reading two columns again is much cheaper than :meth:`of`.
        """
        capacity = case.capabilities["capacity"].to_numpy(dtype=float)
        demand_values = case.demand["demand"].to_numpy(dtype=float)
        if len(capacity) != len(self.pairs) or len(demand_values) != len(self.demand):
            raise ValueError("with_numbers needs the same capability and demand rows")
        demand = self.demand.assign(demand=demand_values)
        # The demand rows' layer sums, as demand.groupby("layer")["demand"].sum() adds them.
        final = self._demand_grouping().sum(demand_values)
        total = final if self.inputs is None else requirement(self.inputs, final)
        layers = self.layers.assign(D=total) if self.inputs is None else \
            self.layers.assign(final_demand=final, D=total)  # both columns of the data
        pairs = self.pairs.assign(capacity=capacity, D=self._per_pair(total))
        value = self.values("layers", "unit_value", float) @ total
        return replace(self, layers=layers, pairs=pairs, demand=demand, total_value=float(value))

    def with_market_supply(self, supply: np.ndarray) -> CaseData:
        """The case data with what the plan sends markets in the total requirement.

        ``supply`` is per layer; ``D = (I - A^T)^-1 (d + s)``
        (README, Markets outside the coalition), and the stack's value V with it.
        ``market_supplied`` is kept per layer.
        """
        final = (self.layers["final_demand"] if self.inputs is not None
                 else self.layers["D"]).to_numpy(dtype=float)
        total = final + np.asarray(supply, dtype=float)
        if self.inputs is not None:
            total = requirement(self.inputs, total)
        layers = self.layers.assign(D=total, market_supplied=np.asarray(supply, dtype=float))
        pairs = self.pairs.assign(D=self.pairs["layer"].map(layers["D"]).to_numpy(dtype=float))
        value = layers["unit_value"].to_numpy(dtype=float) @ total
        return replace(self, layers=layers, pairs=pairs, total_value=float(value))


# ---------------------------------------------------------------------------------------


#: Overrides of these columns change no number of :class:`CaseData` but the ones
#: :meth:`CaseData.with_numbers` reads again.
_NUMBERS = frozenset({("capabilities", "capacity"), ("demand", "demand")})

#: Columns that :meth:`CaseData.of` copies as they are into one of its frames (table: the
#: frame and its columns), no other number being derived from them: an override of one
#: changes that column alone (:func:`_with_columns`). Ids, trust, min_trust, unit_value and
#: a layer's demand are not among them (pairs, D and the stack's value are derived).
_COPIED = {
    "partners": ("partners", frozenset({"min_participation", "max_participation",
                                        "disruption_risk"})),
    "layers": ("layers", frozenset({"min_suppliers", "min_supplier_share", "max_share",
                                    "resilience", "resilience_k", "redundancy_cost",
                                    "max_surplus"})),
    "capabilities": ("pairs", frozenset({"unit_cost", "fixed_cost", "min_capacity"})),
    "demand": ("demand", frozenset({"max_dependency", "min_domestic"})),
    "trade": ("trade", frozenset({"unit_cost", "allowed"})),
}


def _copied(table: str, column: str) -> bool:
    """Whether an override of ``table.column`` changes only that column of the case data."""
    return table in _COPIED and column in _COPIED[table][1]


def _with_columns(data: CaseData, base: Case, case: Case,
                  written: set[tuple[str, str]]) -> CaseData:
    """``data`` (of ``base``) with the ``written`` copied columns read again from ``case``.

    ``case`` is ``base`` with overrides: the same rows in the same order (checked; a trade
    override of an absent route adds a row, and then ValueError). Each column is read as
    :meth:`CaseData.of` reads it.
    """
    columns: dict[str, dict[str, np.ndarray]] = {}
    for table, column in sorted(written):
        source = case.table(table)
        before = base.table(table)
        if source is None or before is None or len(source) != len(before):
            raise ValueError(f"{table}: not the base's rows")
        name = _COPIED[table][0]
        if column not in getattr(data, name).columns:
            raise ValueError(f"{table}.{column}: not a column of the base's data")
        values = source[column]
        if table == "trade":
            if not (source["exporter"].to_numpy() == before["exporter"].to_numpy()).all() or \
                    not (source["importer"].to_numpy() == before["importer"].to_numpy()).all():
                raise ValueError("trade: not the base's routes")
            kept = codes(data.consumer_ids, source["importer"].astype(str)) >= 0
            values = values.astype(float if column == "unit_cost" else bool)[kept]
        columns.setdefault(name, {})[column] = values.to_numpy()
    # One new frame per frame of the data, with all its columns read again.
    return replace(data, **{name: getattr(data, name).assign(**new)
                            for name, new in columns.items()})


class CaseDataCache:
    """The checker's case data of the points of one study, derived once where it can be.

    A study's points are ``base`` with a few overrides each. A point whose overrides set
    only ``objective.*`` or ``solver.*`` has ``base``'s case data (none of it is read from
    those); one whose overrides set only capacities and demands, and columns that
    :meth:`CaseData.of` copies as they are (costs, shares, levels, floors: ``_COPIED``),
    gets ``base``'s with those read again (:meth:`CaseData.with_numbers`,
    :func:`_with_columns`); any other point (or a case that is not ``base`` with overrides)
    has its own :meth:`CaseData.of`. Each point is still checked
    against its own numbers: only what the overrides cannot have changed is reused.
    """

    def __init__(self, base: Case) -> None:
        self.base = base
        self._base_data: CaseData | None = None

    def _of_base(self) -> CaseData:
        if self._base_data is None:
            self._base_data = CaseData.of(self.base)
        return self._base_data

    def data_for(self, case: Case) -> CaseData:
        """The checker's case data of ``case`` (a point of the study)."""
        from solver.case.overrides import OverrideError, parse_assignment

        base = self.base
        n = len(base.overrides)
        if (case.files_sha256 != base.files_sha256 or case.path != base.path
                or tuple(case.overrides[:n]) != tuple(base.overrides)
                or case.has_demand_file != base.has_demand_file):
            return CaseData.of(case)
        try:
            written = {(o.table, o.column) for o in map(parse_assignment, case.overrides[n:])}
        except OverrideError:
            return CaseData.of(case)
        # objective.* and solver.* are read from the case, not from its data.
        written = {(t, c) for t, c in written if t not in ("objective", "solver")}
        copied = {(t, c) for t, c in written if _copied(t, c)}
        if written - copied <= _NUMBERS:
            try:
                data = self._of_base()
                if written & _NUMBERS:
                    data = data.with_numbers(case)
                return _with_columns(data, base, case, copied) if copied else data
            except ValueError:
                return CaseData.of(case)
        return CaseData.of(case)
