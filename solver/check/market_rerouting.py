"""The markets in the checker's re-routing LP (README, Markets outside the coalition).

In a disruption a market's floor does not hold: each row of markets.csv asks for what the
plan supplied it and takes what members leave. The columns are written here from the case
alone: a market flow from every trusted host of the row's layer over a route trade.csv allows
(at the route's cost), and the row's unmet supply, priced at the market's price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.check.markets import market_routes


@dataclass
class MarketColumns:
    """The market flows and unmet supply of the checker's re-routing LP."""

    pair: np.ndarray
    """Per market flow: its position among the LP's (trusted) pairs."""
    row: np.ndarray
    """Per market flow: its market row (a position in ``target``)."""
    cost: np.ndarray
    """Per market flow: the route's trade cost."""
    target: np.ndarray
    """Per market row: what the plan supplied it."""
    price: np.ndarray
    """Per market row: what a unit not delivered costs (lost revenue)."""
    keys: tuple[np.ndarray, np.ndarray, np.ndarray]
    """Per market flow: exporter, importer (the market) and layer ids."""


def market_columns(case: Any, supplied: np.ndarray, pair_partner: np.ndarray,
                   pair_layer: np.ndarray) -> MarketColumns:
    """The market columns over the pairs (``pair_partner``, ``pair_layer`` ids).

    ``supplied`` is what the plan supplies each row of the case's markets.csv.
    """
    rows = case.markets.astype({"market": str, "layer": str}).reset_index(drop=True)
    target = np.maximum(np.asarray(supplied, dtype=float), 0.0)
    pair_layer = np.asarray(pair_layer).astype(str)
    pos, row = [], []
    for r in np.flatnonzero(target > 0).tolist():
        hosts = np.flatnonzero(pair_layer == rows["layer"].iloc[r])
        pos.append(hosts)
        row.append(np.full(len(hosts), r, dtype=np.int64))
    pair = np.concatenate([*pos, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    at = np.concatenate([*row, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    exporter = np.asarray(pair_partner).astype(str)[pair]
    market = rows["market"].to_numpy(dtype=object)[at]
    layer = rows["layer"].to_numpy(dtype=object)[at]
    cost, allowed = market_routes(case, pd.Series(exporter), pd.Series(market),
                                  pd.Series(layer))
    return MarketColumns(pair=pair[allowed], row=at[allowed], cost=cost[allowed], target=target,
                         price=rows["price"].to_numpy(dtype=float),
                         keys=(exporter[allowed].astype(object), market[allowed],
                               layer[allowed]))
