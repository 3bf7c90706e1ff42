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

from solver.case import Case


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
    """Lay out the sets of SPEC section 3 for ``case``.

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

    left = pd.DataFrame({"pair": np.arange(len(pairs)), "exporter": pairs["partner"].to_numpy(),
                         "layer": pairs["layer"].to_numpy()})
    right = pd.DataFrame({"row": np.arange(len(rows)), "importer": rows["member"].to_numpy(),
                          "layer": rows["layer"].to_numpy()})
    flows = left.merge(right, on="layer", how="inner")
    trade = case.trade
    if not trade.empty:
        flows = flows.merge(trade[["exporter", "importer", "unit_cost", "allowed"]],
                            on=["exporter", "importer"], how="left")
        flows["allowed"] = flows["allowed"].fillna(True).astype(bool)
        flows["unit_cost"] = flows["unit_cost"].fillna(0.0).astype(float)
    else:
        flows["allowed"] = True
        flows["unit_cost"] = 0.0
    domestic = (flows["exporter"] == flows["importer"]).to_numpy()
    flows.loc[domestic, "unit_cost"] = 0.0
    flows = flows[flows["allowed"].to_numpy() | domestic]
    flows = flows.sort_values(["pair", "row"]).reset_index(drop=True)
    flows["domestic"] = (flows["exporter"] == flows["importer"]).to_numpy()

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


def group_positions(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """For each group 0..n-1, the positions ``i`` with ``keys[i] == group`` (vectorised)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[g]: bounds[g + 1]] for g in range(n)]
