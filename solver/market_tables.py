"""The run folder's tables of markets outside the coalition (README, Markets outside the coalition).

``markets.csv`` (one row per market and layer), the market flows that join ``flows.csv`` (the
market id as importer), the total requirement with market supply in it, and the cost terms
``market_revenue`` (negative) and ``entry``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from solver.results import ZERO, clean

#: The cost terms markets add (:func:`market_cost_terms`): ``cost_<term>`` of study rows too.
MARKET_TERMS = ("market_revenue", "entry")

MARKET_COLUMNS = ("market", "layer", "demand", "floor", "ceiling", "supplied", "share",
                  "price", "revenue", "entered", "entry_cost", "largest_supplier",
                  "largest_quantity")


def market_flows_table(data: Any, values: dict[str, np.ndarray]) -> pd.DataFrame | None:
    """One row per nonzero market flow; None for a case without markets.

    Columns as flows.csv's: exporter, importer (the market), layer, quantity, unit_cost.
    """
    markets = data.markets
    if markets is None:
        return None
    h = markets.flows
    qty = clean(values.get("h", np.zeros(len(h))))
    keep = qty > ZERO
    return pd.DataFrame({
        "exporter": h["exporter"].to_numpy()[keep],
        "importer": h["importer"].to_numpy()[keep],
        "layer": h["layer"].to_numpy()[keep],
        "quantity": qty[keep],
        "unit_cost": h["unit_cost"].to_numpy(dtype=float)[keep],
    })


def market_supply(case: Any, market_flows: pd.DataFrame | None) -> pd.Series | None:
    """What the coalition sends markets, per layer of the case (None without markets)."""
    if not getattr(case, "has_markets", False) or market_flows is None:
        return None
    sent = market_flows.groupby("layer")["quantity"].sum()
    ids = case.layers["layer"].astype(str)
    return pd.Series(ids.map(sent).fillna(0.0).to_numpy(dtype=float), index=ids.to_numpy())


def markets_table(case: Any, data: Any, values: dict[str, np.ndarray],
                  market_flows: pd.DataFrame) -> pd.DataFrame:
    """Per market row of markets.csv: what the coalition supplied, its share and revenue.

    Also whether it entered (rows with an entry cost) and its largest supplier
    (``markets.csv``, README, Markets outside the coalition).
    """
    assert case.markets is not None
    rows = case.markets[["market", "layer", "demand", "min_share", "max_share", "price",
                         "entry_cost"]].astype({"market": str, "layer": str}).copy()
    keys = ["importer", "layer"]
    sent = market_flows.groupby(keys)["quantity"].sum()
    at = pd.MultiIndex.from_frame(rows[["market", "layer"]])
    rows["supplied"] = sent.reindex(at).fillna(0.0).to_numpy(dtype=float)
    demand = rows["demand"].to_numpy(dtype=float)
    rows["share"] = np.divide(rows["supplied"].to_numpy(), demand, out=np.zeros(len(rows)),
                              where=demand > 0)
    rows["revenue"] = rows["price"] * rows["supplied"]
    entered = rows["supplied"].to_numpy() > ZERO
    markets = data.markets
    if markets is not None and "e" in values and len(markets.entry_rows):
        chosen = pd.Series(np.round(values["e"]) > 0.5, index=pd.MultiIndex.from_frame(
            markets.rows[["market", "layer"]].iloc[markets.entry_rows].astype(str)))
        on = chosen.reindex(at).to_numpy()
        has = ~pd.isna(on)
        entered[has] = on[has].astype(bool)
    rows["entered"] = entered
    top = market_flows.sort_values(["quantity", "exporter"], ascending=[False, True],
                                   kind="stable").drop_duplicates(keys).set_index(keys)
    rows["largest_supplier"] = top["exporter"].reindex(at).fillna("").to_numpy()
    rows["largest_quantity"] = top["quantity"].reindex(at).fillna(0.0).to_numpy(dtype=float)
    rows = rows.rename(columns={"min_share": "floor", "max_share": "ceiling"})
    return rows[list(MARKET_COLUMNS)].sort_values(["market", "layer"]).reset_index(drop=True)


def market_cost_terms(markets: pd.DataFrame | None) -> dict[str, float]:
    """``market_revenue = - sum price * supplied`` and ``entry = sum entry_cost`` (entered rows).

    Empty without markets.
    """
    if markets is None:
        return {}
    entered = markets["entered"].astype(bool)
    # 0.0 - x rather than -x: no revenue is 0, not -0.
    return {"market_revenue": 0.0 - float(markets["revenue"].sum()),
            "entry": float(markets.loc[entered, "entry_cost"].sum())}
