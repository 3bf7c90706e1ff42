"""Reading a plan's tables for checking: allocation.csv and flows.csv, and their cost columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from solver.check.case_data import (
    CaseData,
)
from solver.check.common import (
    ALLOCATION_COLUMNS,
    FLOW_COLUMNS,
    Row,
    Tolerance,
    Violation,
    codes,
    flow,
    fmt,
    line_of,
    missing_columns,
    numbers,
)
from solver.check.common import (
    hosted as read_hosted,
)
from solver.check.common import (
    pair as pair_name,
)


def read_allocation(data: CaseData, allocation: pd.DataFrame, out: list[Violation],
                tol: Tolerance) -> pd.DataFrame | None:
    """The capability pairs (in case order) with the plan's y, k, q and written costs."""
    file = "allocation.csv"
    if missing_columns(allocation, ALLOCATION_COLUMNS, file, out):
        return None
    a = allocation[list(ALLOCATION_COLUMNS)].reset_index(drop=True)
    partner = a["partner"].astype(str)
    layer = a["layer"].astype(str)

    def key(i: Row) -> str:
        return pair_name(str(partner.iloc[i]), str(layer.iloc[i]))

    hosted = read_hosted(a["hosted"])
    unreadable = ~np.isfinite(hosted)
    for i in np.flatnonzero(unreadable):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}, line {line_of(i)}, column hosted: hosted of {key(i)} is "
                             f"{a['hosted'].iloc[i]!r}, not a true/false value; counted as "
                             "false"))
    hosted = np.where(unreadable, 0.0, hosted)
    not_binary = np.minimum(np.abs(hosted), np.abs(hosted - 1.0))
    for i in np.flatnonzero(not_binary > tol.absolute):
        out.append(Violation("hosting", key(i), float(not_binary[i]),
                             f"layer {layer.iloc[i]}: hosting: hosted of {partner.iloc[i]} is "
                             f"{fmt(hosted[i])}, not 0 or 1"))
    values = {"y": (hosted >= 0.5).astype(float)}
    for col, name in (("capacity", "k"), ("supplied", "q"), ("share", "share_w"),
                      ("unit_cost", "unit_cost_w"), ("fixed_cost", "fixed_cost_w"),
                      ("cost", "cost_w")):
        values[name] = numbers(a, col, key, file, out)

    n_layers = len(data.layer_ids)
    p_code = codes(data.partner_ids, partner)
    l_code = codes(data.layer_ids, layer)
    pair = np.where((p_code >= 0) & (l_code >= 0),
                    data.pair_lookup.find(p_code * n_layers + l_code), -1)
    for i in np.flatnonzero(pair < 0):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}: {key(i)} is not a capability pair of the case (no "
                             "capabilities.csv row); ignored"))
    dup = pd.Series(pair).duplicated(keep="first").to_numpy() & (pair >= 0)
    for i in np.flatnonzero(dup):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}: {key(i)} has more than one row; the first counts"))
    use = (pair >= 0) & ~dup
    pairs = data.pairs.copy()
    present = np.zeros(len(pairs), dtype=bool)
    present[pair[use]] = True
    for name, column in values.items():
        filled = np.zeros(len(pairs))
        filled[pair[use]] = column[use]
        pairs[name] = filled
    for i in np.flatnonzero(~present):
        k = pair_name(pairs["partner"].iloc[i], pairs["layer"].iloc[i])
        out.append(Violation("table", k, 1.0,
                             f"{file}: no row for capability pair {k}; counted as not hosted, "
                             "nothing built or supplied"))
    cost_columns(pairs, present, out, tol)
    return pairs


def cost_columns(pairs: pd.DataFrame, present: np.ndarray, out: list[Violation],
                  tol: Tolerance) -> None:
    """The written unit_cost, fixed_cost, cost and share agree with the case and the plan."""
    file = "allocation.csv"
    d = pairs["D"].to_numpy()
    q = pairs["q"].to_numpy()
    share = np.divide(q, d, out=np.zeros(len(pairs)), where=d > 0)
    cost = (pairs["fixed_cost"].to_numpy() * pairs["y"].to_numpy()
            + pairs["unit_cost"].to_numpy() * pairs["k"].to_numpy())
    checks = (
        ("unit_cost", pairs["unit_cost_w"].to_numpy(), pairs["unit_cost"].to_numpy(),
         "the case's unit_cost"),
        ("fixed_cost", pairs["fixed_cost_w"].to_numpy(), pairs["fixed_cost"].to_numpy(),
         "the case's fixed_cost"),
        ("cost", pairs["cost_w"].to_numpy(), cost, "fixed_cost*hosted + unit_cost*capacity"),
        ("share", pairs["share_w"].to_numpy(), share, "supplied / layer demand"),
    )
    for col, written, want, what in checks:
        bad, miss = tol.differ(written, want)
        for i in np.flatnonzero(bad & present):
            key = pair_name(pairs["partner"].iloc[i], pairs["layer"].iloc[i])
            out.append(Violation("table", key, float(miss[i]),
                                 f"{file}: {col} of {key} is {fmt(written[i])}, but {what} is "
                                 f"{fmt(want[i])} (off by {fmt(miss[i])})"))


@dataclass
class Flows:
    """The plan's flows with known ids, one per (exporter, importer, layer), as arrays.

    ``pair`` is the capability row the flow comes from and ``row`` the demand row it serves
    (``-1`` when there is none); ``trade_cost`` and ``allowed`` describe the route.
    """

    exporter: pd.Series
    importer: pd.Series
    layer: pd.Series
    qty: np.ndarray
    pair: np.ndarray
    row: np.ndarray
    domestic: np.ndarray
    allowed: np.ndarray
    trade_cost: np.ndarray

    def key(self, i: Row) -> str:
        """``exporter->importer,layer`` of flow ``i``."""
        return flow(str(self.exporter.iloc[i]), str(self.importer.iloc[i]),
                     str(self.layer.iloc[i]))


def read_flows(data: CaseData, flows: pd.DataFrame, out: list[Violation],
           tol: Tolerance) -> Flows | None:
    """The plan's flows, with ids checked, duplicates merged and the case's route data."""
    file = "flows.csv"
    if missing_columns(flows, FLOW_COLUMNS, file, out):
        return None
    f = flows[list(FLOW_COLUMNS)].reset_index(drop=True)

    def key(i: Row) -> str:
        return flow(str(f["exporter"].iloc[i]), str(f["importer"].iloc[i]),
                     str(f["layer"].iloc[i]))

    qty = numbers(f, "quantity", key, file, out)
    cost_w = numbers(f, "unit_cost", key, file, out)
    for i in np.flatnonzero(qty < -tol.absolute):
        out.append(Violation("table", key(i), float(-qty[i]),
                             f"{file}: quantity of {key(i)} is {fmt(qty[i])}, negative"))

    n_layers, n_consumers = len(data.layer_ids), len(data.consumer_ids)
    ex = codes(data.partner_ids, f["exporter"])
    im = codes(data.consumer_ids, f["importer"])
    la = codes(data.layer_ids, f["layer"])
    known = (ex >= 0) & (im >= 0) & (la >= 0)
    for i in np.flatnonzero(~known):
        what = [f"{name} {str(f[name].iloc[i])!r}"
                for name, code in (("exporter", ex), ("importer", im), ("layer", la))
                if code[i] < 0]
        out.append(Violation("table", key(i), float(abs(qty[i])),
                             f"{file}: {key(i)} names an unknown {' and '.join(what)}; "
                             "ignored"))

    # One integer per (exporter, importer, layer); rows with an unknown id get their own.
    code = np.where(known, (ex * n_consumers + im) * n_layers + la,
                    -1 - np.arange(len(known), dtype=np.int64))
    later = pd.Series(code).duplicated(keep="first").to_numpy()
    keep = known.copy()
    if later.any():
        repeated = pd.Series(code).duplicated(keep=False).to_numpy()
        for i in np.flatnonzero(repeated & ~later):
            out.append(Violation("table", key(i), 1.0,
                                 f"{file}: {key(i)} has more than one row; their quantities "
                                 "are added"))
        keep = known & ~later
        unique, inverse = np.unique(code[known], return_inverse=True)
        totals = np.bincount(inverse, weights=qty[known])
        qty = qty.copy()
        qty[keep] = totals[np.searchsorted(unique, code[keep])]
    idx = np.flatnonzero(keep)
    ex, im, la, qty, cost_w = ex[idx], im[idx], la[idx], qty[idx], cost_w[idx]

    domestic = ex == im
    trade_cost, allowed = data.routes(ex, im, la)
    result = Flows(
        exporter=f["exporter"].iloc[idx].reset_index(drop=True),
        importer=f["importer"].iloc[idx].reset_index(drop=True),
        layer=f["layer"].iloc[idx].reset_index(drop=True),
        qty=qty,
        pair=data.pair_lookup.find(ex * n_layers + la),
        row=data.row_lookup.find(im * n_layers + la),
        domestic=domestic,
        allowed=allowed,
        trade_cost=trade_cost,
    )
    bad, miss = tol.differ(cost_w, trade_cost)
    for i in np.flatnonzero(bad):
        out.append(Violation("table", result.key(i), float(miss[i]),
                             f"{file}: unit_cost of {result.key(i)} is {fmt(cost_w[i])}, but the "
                             f"case's trade cost of the route is {fmt(trade_cost[i])}"))
    return result


# ---------------------------------------------------------------------------------------
