"""The checker's part for markets outside the coalition (README, Markets outside the coalition).

A market flow is a row of ``flows.csv`` whose importer is a market of markets.csv. Recomputed
here from the case and the plan alone, with the checker's own arithmetic: each market flow
comes from a trusted host of its layer over a route trade.csv allows (a market row with
demand for the layer must exist), at the route's cost; what each market row is supplied,
``s = sum_p h``; its floor and ceiling, ``min_share demand e <= s <= max_share demand e``
(``e`` is ``entered`` of markets.csv for a row with an entry cost, else 1); the terms
``market_revenue = - sum price s`` and ``entry = sum entry_cost e``; and every cell of
``markets.csv``. The supply per layer then enters the total requirement the families check
(:meth:`solver.check.case_data.CaseData.with_market_supply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.check.case_data import CaseData
from solver.check.common import (
    FLOW_COLUMNS,
    Tolerance,
    Violation,
    codes,
    flow,
    fmt,
    hosted,
    missing_columns,
    numbers,
)

#: The columns of markets.csv the checker recomputes.
MARKET_NUMBERS = ("demand", "supplied", "share", "revenue", "largest_quantity")


@dataclass
class MarketPlan:
    """What the plan sends to markets, as the checker recomputed it."""

    supply: np.ndarray
    """Per layer of the case (``data.layer_ids``): what the coalition sends markets."""
    delivered: np.ndarray
    """Per capability pair (``data.pairs``): what it sends markets (part of its supply)."""
    exporter: pd.Series
    qty: np.ndarray
    trade_cost: np.ndarray
    costs: dict[str, float]
    """``market_revenue`` (negative) and ``entry``; the trade cost of the market flows."""
    supplied: np.ndarray | None = None
    """Per row of the case's markets.csv: what the plan supplies it (``s``)."""


def split_flows(case: Any, flows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """flows.csv's rows to members and its rows to markets (importer a market id)."""
    ids = set(case.markets["market"].astype(str)) if case.markets is not None else set()
    if "importer" not in flows.columns:
        return flows, flows.iloc[0:0]
    to_market = flows["importer"].astype(str).isin(ids).to_numpy()
    return flows[~to_market], flows[to_market]


def check_markets(case: Any, data: CaseData, flows: pd.DataFrame,
                  written: pd.DataFrame | None, out: list[Violation],
                  tol: Tolerance) -> MarketPlan:
    """Check the market flows and markets.csv; return what the plan sends markets."""
    rows = case.markets.astype({"market": str, "layer": str}).reset_index(drop=True)
    n_layers = len(data.layer_ids)
    file = "flows.csv"
    f = flows.reset_index(drop=True)
    empty = MarketPlan(np.zeros(n_layers), np.zeros(len(data.pairs)), pd.Series([], dtype=str),
                       np.zeros(0), np.zeros(0), {})
    if missing_columns(f, FLOW_COLUMNS, file, out):
        return empty

    def key(i: Any) -> str:
        return flow(str(f["exporter"].iloc[i]), str(f["importer"].iloc[i]),
                    str(f["layer"].iloc[i]))

    qty = numbers(f, "quantity", key, file, out)
    cost_w = numbers(f, "unit_cost", key, file, out)
    exporter, market, layer = (f[c].astype(str) for c in ("exporter", "importer", "layer"))
    row_of = {(m, la): i for i, (m, la) in enumerate(zip(rows["market"], rows["layer"],
                                                          strict=True))}
    at = np.array([row_of.get((m, la), -1) for m, la in zip(market, layer, strict=True)],
                  dtype=np.int64)
    row_at = [int(r) for r in at.tolist()]
    pair = data.pair_lookup.find(codes(data.partner_ids, exporter) * n_layers
                                 + codes(data.layer_ids, layer))
    pair = np.where(codes(data.layer_ids, layer) >= 0, pair, -1)
    trusted = data.pairs["trusted"].to_numpy(dtype=bool)
    cost, allowed = market_routes(case, exporter, market, layer)
    for j in np.flatnonzero(qty < -tol.absolute):
        out.append(Violation("table", key(j), float(-qty[j]),
                             f"{file}: quantity of {key(j)} is {fmt(qty[j])}, negative"))
    for i in range(len(f)):
        reasons = []
        if pair[i] < 0:
            reasons.append(f"{exporter.iloc[i]} cannot produce {layer.iloc[i]} (no "
                           "capabilities.csv row)")
        elif not trusted[pair[i]]:
            reasons.append(f"{exporter.iloc[i]}'s trust is below the layer's min_trust")
        if row_at[i] < 0 or rows["demand"].iloc[max(row_at[i], 0)] <= 0:
            reasons.append(f"market {market.iloc[i]} has no demand for {layer.iloc[i]} in "
                           "markets.csv")
        if not allowed[i]:
            reasons.append(f"the route {exporter.iloc[i]}->{market.iloc[i]} is forbidden "
                           "(trade.csv allowed = false)")
        if reasons:
            out.append(Violation("route", key(i), float(qty[i]),
                                 f"layer {layer.iloc[i]}: route: {exporter.iloc[i]} ships "
                                 f"{fmt(qty[i])} units to market {market.iloc[i]}, but "
                                 + "; and ".join(reasons)))
    bad, miss = tol.differ(cost_w, cost)
    for i in np.flatnonzero(bad).tolist():
        out.append(Violation("table", key(i), float(miss[i]),
                             f"{file}: unit_cost of {key(i)} is {fmt(cost_w[i])}, but the case's "
                             f"trade cost of the route is {fmt(cost[i])}"))
    ok = at >= 0
    supplied = np.bincount(at[ok], weights=qty[ok], minlength=len(rows))
    entered = _entered(rows, supplied, written, out)
    _check_band(rows, supplied, entered, out, tol)
    if written is not None:
        _check_table(rows, supplied, entered, exporter, market, layer, qty, written, out, tol)
    made = pair >= 0
    delivered = np.bincount(pair[made], weights=qty[made], minlength=len(data.pairs))
    layer_code = codes(data.layer_ids, rows["layer"])
    known = layer_code >= 0
    supply = np.bincount(layer_code[known], weights=supplied[known], minlength=n_layers)
    price, entry_cost = (rows[c].to_numpy(dtype=float) for c in ("price", "entry_cost"))
    costs = {"market_revenue": -float(price @ supplied),
             "entry": float(entry_cost @ entered.astype(float))}
    return MarketPlan(supply=supply, delivered=delivered, exporter=exporter, qty=qty,
                      trade_cost=cost, costs=costs, supplied=supplied)


def market_routes(case: Any, exporter: pd.Series, market: pd.Series,
            layer: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each market flow's route cost and whether it is allowed, looked up in trade.csv.

    The route's row for the layer wins over its row without a layer; no row: allowed, free.
    """
    trade = case.trade
    found: dict[tuple[str, str, str], tuple[float, bool]] = {}
    if not trade.empty:
        named = trade["layer"].fillna("").astype(str) if "layer" in trade else \
            pd.Series([""] * len(trade), index=trade.index)
        for e, i, la, c, a in zip(trade["exporter"].astype(str), trade["importer"].astype(str),
                                  named, trade["unit_cost"].astype(float),
                                  trade["allowed"].astype(bool), strict=True):
            found[(e, i, la)] = (float(c), bool(a))
    cost, allowed = np.zeros(len(exporter)), np.ones(len(exporter), dtype=bool)
    for j, (e, m, la) in enumerate(zip(exporter, market, layer, strict=True)):
        hit = found.get((e, m, la), found.get((e, m, "")))
        if hit is not None:
            cost[j], allowed[j] = hit
    return cost, allowed


def _entered(rows: pd.DataFrame, supplied: np.ndarray, written: pd.DataFrame | None,
             out: list[Violation]) -> np.ndarray:
    """``e`` per market row: markets.csv's ``entered`` where the row has an entry cost, else 1."""
    entered = np.ones(len(rows), dtype=bool)
    paid = rows["entry_cost"].to_numpy(dtype=float) > 0
    if not paid.any():
        return entered
    if written is None or "entered" not in written.columns:
        out.append(Violation("table", "markets.csv", 1.0,
                             "markets.csv: missing, or without the column entered; a market "
                             "with an entry cost counts as entered where it is supplied"))
        return np.where(paid, supplied > 0, True)
    said = {(str(m), str(la)): v for m, la, v in zip(
        written["market"], written["layer"], hosted(written["entered"]), strict=True)}
    for i in np.flatnonzero(paid):
        value = said.get((rows["market"].iloc[i], rows["layer"].iloc[i]), np.nan)
        entered[i] = bool(value >= 0.5) if np.isfinite(value) else bool(supplied[i] > 0)
    return entered


def _check_band(rows: pd.DataFrame, supplied: np.ndarray, entered: np.ndarray,
                out: list[Violation], tol: Tolerance) -> None:
    """``min_share demand e <= s <= max_share demand e`` for every market row."""
    demand = rows["demand"].to_numpy(dtype=float)
    e = entered.astype(float)
    floor = rows["min_share"].to_numpy(dtype=float) * demand * e
    ceiling = rows["max_share"].to_numpy(dtype=float) * demand * e
    short_bad, short = tol.over(floor, supplied, demand)
    over_bad, over = tol.over(supplied, ceiling, demand)
    for i in np.flatnonzero(short_bad):
        m, la = rows["market"].iloc[i], rows["layer"].iloc[i]
        out.append(Violation("market_floor", f"{m},{la}", float(short[i]),
                             f"market {m} {la}: market_floor: the coalition supplies "
                             f"{fmt(supplied[i])} of its demand {fmt(demand[i])}, min_share "
                             f"{fmt(rows['min_share'].iloc[i])} needs {fmt(floor[i])} (short by "
                             f"{fmt(short[i])} units)"))
    for i in np.flatnonzero(over_bad):
        m, la = rows["market"].iloc[i], rows["layer"].iloc[i]
        limit = (f"max_share {fmt(rows['max_share'].iloc[i])} allows {fmt(ceiling[i])}"
                 if entered[i] else "it does not enter the market (entered = false)")
        out.append(Violation("market_ceiling", f"{m},{la}", float(over[i]),
                             f"market {m} {la}: market_ceiling: the coalition supplies "
                             f"{fmt(supplied[i])}, {limit} (over by {fmt(over[i])} units)"))


def _check_table(rows: pd.DataFrame, supplied: np.ndarray, entered: np.ndarray,
                 exporter: pd.Series, market: pd.Series, layer: pd.Series, qty: np.ndarray,
                 written: pd.DataFrame, out: list[Violation], tol: Tolerance) -> None:
    """Every cell of markets.csv as recomputed from the case and the market flows."""
    file = "markets.csv"
    wanted = ("market", "layer", *MARKET_NUMBERS, "entered", "largest_supplier")
    if missing_columns(written, wanted, file, out):
        return
    demand = rows["demand"].to_numpy(dtype=float)
    largest, largest_qty = [], []
    for m, la in zip(rows["market"], rows["layer"], strict=True):
        mine = np.flatnonzero((market == m).to_numpy() & (layer == la).to_numpy() & (qty > 0))
        if len(mine):
            best = int(mine[np.argmax(qty[mine])])
            largest.append(str(exporter.iloc[best]))
            largest_qty.append(float(qty[best]))
        else:
            largest.append("")
            largest_qty.append(0.0)
    expected = {
        "demand": demand,
        "supplied": supplied,
        "share": np.divide(supplied, demand, out=np.zeros(len(rows)), where=demand > 0),
        "revenue": rows["price"].to_numpy(dtype=float) * supplied,
        "largest_quantity": np.array(largest_qty),
    }
    index = {(str(m), str(la)): i for i, (m, la) in enumerate(zip(
        written["market"], written["layer"], strict=True))}
    for r, (m, la) in enumerate(zip(rows["market"], rows["layer"], strict=True)):
        i = index.get((m, la))
        if i is None:
            out.append(Violation("table", f"{file}:{m},{la}", 1.0,
                                 f"{file}: no row for market {m} {la}"))
            continue
        for column, want in expected.items():
            got = pd.to_numeric(pd.Series([written[column].iloc[i]]), errors="coerce").iloc[0]
            bad, miss = tol.differ(np.nan_to_num(float(got), nan=np.inf), want[r])
            if bool(bad):
                out.append(Violation("report", f"{file}:{m},{la}", float(np.nan_to_num(miss)),
                                     f"{file}: {column} of market {m} {la} is "
                                     f"{written[column].iloc[i]}, recomputed from the case and "
                                     f"the plan {fmt(want[r])}"))
        said = str(written["largest_supplier"].iloc[i])
        said = "" if said in ("nan", "None") else said
        if largest_qty[r] > 0 and said != largest[r] and not np.isclose(
                qty[(exporter == said).to_numpy() & (market == m).to_numpy()
                    & (layer == la).to_numpy()].sum(), largest_qty[r]):
            out.append(Violation("report", f"{file}:{m},{la}", 1.0,
                                 f"{file}: largest_supplier of market {m} {la} is {said!r}, "
                                 f"recomputed {largest[r]!r}"))
