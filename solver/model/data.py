"""The index sets and numbers of the model, computed from a case with pandas.

Everything the Pyomo formulation needs is laid out here as flat arrays, so the model is
built without per-row DataFrame access: pairs ``A`` (capability rows whose partner is
trusted for the layer), demand rows ``R`` (consumer, layer), and flows ``F`` (pair x demand
row over an allowed route). Variables are created only over these sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from solver.case.loader import Case


@dataclass(frozen=True)
class ModelData:
    """Flat arrays describing the model's sets and parameters.

    Attributes ending in ``_of_*`` are integer positions into another set: e.g.
    ``flow_pair[j]`` is the pair (row of ``pairs``) that flow ``j`` comes from.
    """

    partners: pd.DataFrame
    layers: pd.DataFrame
    pairs: pd.DataFrame
    rows: pd.DataFrame
    flows: pd.DataFrame
    pair_layer: np.ndarray
    pair_partner: np.ndarray
    row_layer: np.ndarray
    flow_pair: np.ndarray
    flow_row: np.ndarray
    layer_demand: np.ndarray
    total_value: float

    @property
    def n_pairs(self) -> int:
        """Number of (partner, layer) pairs that may host."""
        return len(self.pairs)

    @property
    def n_flows(self) -> int:
        """Number of flow variables."""
        return len(self.flows)


def model_data(case: Case, keep_zero_demand: bool = False) -> ModelData:
    """Lay out the sets of README, The model for ``case``.

    Demand rows with zero demand carry no flows unless ``keep_zero_demand`` (a sweep that
    varies demand keeps them so that the structure does not change between points).
    """
    partners = case.partners.reset_index(drop=True)
    layers = case.layers.reset_index(drop=True)
    p_pos = pd.Series(np.arange(len(partners)), index=partners["partner"].to_numpy())
    l_pos = pd.Series(np.arange(len(layers)), index=layers["layer"].to_numpy())

    cap = case.capabilities
    trust = cap["partner"].map(partners.set_index("partner")["trust"]).to_numpy(dtype=float)
    min_trust = cap["layer"].map(layers.set_index("layer")["min_trust"]).to_numpy(dtype=float)
    pairs = cap[trust >= min_trust].sort_values(["layer", "partner"]).reset_index(drop=True)
    pair_layer = l_pos[pairs["layer"].to_numpy()].to_numpy()
    pair_partner = p_pos[pairs["partner"].to_numpy()].to_numpy()

    demand = case.demand
    if not keep_zero_demand:
        demand = demand[demand["demand"] > 0]
    rows = demand.sort_values(["layer", "member"]).reset_index(drop=True)
    row_layer = l_pos[rows["layer"].to_numpy()].to_numpy()
    layer_demand = np.bincount(row_layer, weights=rows["demand"].to_numpy(dtype=float),
                               minlength=len(layers))

    flows = _flows(case, pairs, rows, pair_layer, row_layer, len(layers))
    unit_value = layers["unit_value"].to_numpy(dtype=float)
    return ModelData(
        partners=partners,
        layers=layers,
        pairs=pairs,
        rows=rows,
        flows=flows,
        pair_layer=pair_layer,
        pair_partner=pair_partner,
        row_layer=row_layer,
        flow_pair=flows["pair"].to_numpy(),
        flow_row=flows["row"].to_numpy(),
        layer_demand=layer_demand,
        total_value=float(unit_value @ layer_demand),
    )


def _flows(case: Case, pairs: pd.DataFrame, rows: pd.DataFrame, pair_layer: np.ndarray,
           row_layer: np.ndarray, n_layers: int) -> pd.DataFrame:
    """Every (pair, demand row) of the same layer over an allowed route, sorted by both.

    Vectorised: rows are sorted by layer, so the rows of a pair's layer are one contiguous
    block; routes are looked up by integer code (no string merge).
    """
    n_pairs = len(pairs)
    row_count = np.bincount(row_layer, minlength=n_layers).astype(np.int64)
    row_first = np.full(n_layers, len(row_layer), dtype=np.int64)
    np.minimum.at(row_first, row_layer, np.arange(len(row_layer), dtype=np.int64))
    per_pair = row_count[pair_layer]
    pair = np.repeat(np.arange(n_pairs, dtype=np.int64), per_pair)
    first = np.cumsum(per_pair) - per_pair
    row = row_first[pair_layer][pair] + np.arange(len(pair), dtype=np.int64) - first[pair]

    names = pd.Index(pd.unique(np.concatenate([
        pairs["partner"].to_numpy(dtype=object), rows["member"].to_numpy(dtype=object)])))
    exporter_code = names.get_indexer(pairs["partner"].to_numpy(dtype=object))[pair]
    importer_code = names.get_indexer(rows["member"].to_numpy(dtype=object))[row]
    domestic = exporter_code == importer_code
    unit_cost = np.zeros(len(pair))
    allowed = np.ones(len(pair), dtype=bool)
    trade = case.trade
    if not trade.empty:
        t_exp = names.get_indexer(trade["exporter"].to_numpy(dtype=object))
        t_imp = names.get_indexer(trade["importer"].to_numpy(dtype=object))
        known = (t_exp >= 0) & (t_imp >= 0)
        width = len(names)
        t_key = t_exp[known].astype(np.int64) * width + t_imp[known]
        order = np.argsort(t_key, kind="stable")
        t_key = t_key[order]
        key = exporter_code.astype(np.int64) * width + importer_code
        at = np.minimum(np.searchsorted(t_key, key), max(len(t_key) - 1, 0))
        found = (t_key[at] == key) if len(t_key) else np.zeros(len(key), dtype=bool)
        t_cost = trade["unit_cost"].to_numpy(dtype=float)[known][order]
        t_allowed = trade["allowed"].to_numpy(dtype=bool)[known][order]
        unit_cost[found] = t_cost[at[found]]
        allowed[found] = t_allowed[at[found]]
    unit_cost[domestic] = 0.0
    keep = allowed | domestic
    pair, row = pair[keep], row[keep]
    flows = pd.DataFrame({
        "pair": pair,
        "exporter": pd.Series(pairs["partner"].to_numpy(dtype=object)[pair], dtype=object),
        "layer": pd.array(pairs["layer"].to_numpy(dtype=object)[pair], dtype="str"),
        "row": row,
        "importer": pd.Series(rows["member"].to_numpy(dtype=object)[row], dtype=object),
        "unit_cost": unit_cost[keep],
        "allowed": allowed[keep],
        "domestic": domestic[keep],
    })
    return flows


def group_positions(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """For each group 0..n-1, the positions ``i`` with ``keys[i] == group`` (vectorised)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[g]: bounds[g + 1]] for g in range(n)]
