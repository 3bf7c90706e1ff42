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
    as_text,
    codes,
    duplicated,
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


class Pairs:
    """The case's capability pairs (``data.pairs``' rows, in case order) with the plan's numbers.

    ``pairs[name]`` is a column as a numpy array: one of ``data.pairs`` (read once) or one
    the plan gives: ``y``, ``k``, ``q`` and the written ``share_w``, ``unit_cost_w``,
    ``fixed_cost_w``, ``cost_w``. :attr:`frame` is all of them as one DataFrame (the case's
    columns, then the plan's), for the checks that read a frame.
    """

    def __init__(self, data: CaseData, values: dict[str, np.ndarray]) -> None:
        self.data = data
        self.plan = values
        self._columns: dict[str, np.ndarray] = dict(values)
        self._frame: pd.DataFrame | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        got = self._columns.get(name)
        if got is None:
            got = self._columns[name] = self.data.values("pairs", name)
        return got

    def __contains__(self, name: object) -> bool:
        return name in self._columns or name in self.data.pairs.columns

    def __len__(self) -> int:
        return len(self.data.pairs)

    @property
    def layer_code(self) -> np.ndarray:
        """Each pair's layer code (position in ``data.layer_ids``)."""
        return self.data.pair_codes()[1]

    @property
    def frame(self) -> pd.DataFrame:
        """The pairs as one frame: ``data.pairs``' columns, then the plan's."""
        if self._frame is None:
            self._frame = self.data.pairs.assign(**self.plan)
        return self._frame


def read_allocation(data: CaseData, allocation: pd.DataFrame, out: list[Violation],
                    tol: Tolerance) -> Pairs | None:
    """The capability pairs (in case order) with the plan's y, k, q and written costs."""
    file = "allocation.csv"
    if missing_columns(allocation, ALLOCATION_COLUMNS, file, out):
        return None
    a = allocation
    partner = as_text(a["partner"])
    layer = as_text(a["layer"])

    def key(i: Row) -> str:
        return pair_name(str(partner[i]), str(layer[i]))

    written_hosted = a["hosted"]
    hosted = read_hosted(written_hosted)
    unreadable = ~np.isfinite(hosted)
    for i in np.flatnonzero(unreadable):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}, line {line_of(i)}, column hosted: hosted of {key(i)} is "
                             f"{written_hosted.iloc[i]!r}, not a true/false value; counted as "
                             "false"))
    hosted = np.where(unreadable, 0.0, hosted)
    not_binary = np.minimum(np.abs(hosted), np.abs(hosted - 1.0))
    for i in np.flatnonzero(not_binary > tol.absolute):
        out.append(Violation("hosting", key(i), float(not_binary[i]),
                             f"layer {layer[i]}: hosting: hosted of {partner[i]} is "
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
    dup = duplicated(pair) & (pair >= 0)
    for i in np.flatnonzero(dup):
        out.append(Violation("table", key(i), 1.0,
                             f"{file}: {key(i)} has more than one row; the first counts"))
    use = (pair >= 0) & ~dup
    n_pairs = len(data.pairs)
    present = np.zeros(n_pairs, dtype=bool)
    present[pair[use]] = True
    for name, column in values.items():
        filled = np.zeros(n_pairs)
        filled[pair[use]] = column[use]
        values[name] = filled
    pairs = Pairs(data, values)
    if not present.all():
        case_partner, case_layer = pairs["partner"], pairs["layer"]
        for i in np.flatnonzero(~present):
            k = pair_name(case_partner[i], case_layer[i])
            out.append(Violation("table", k, 1.0,
                                 f"{file}: no row for capability pair {k}; counted as not "
                                 "hosted, nothing built or supplied"))
    cost_columns(pairs, present, out, tol)
    return pairs


def cost_columns(pairs: Pairs, present: np.ndarray, out: list[Violation],
                 tol: Tolerance) -> None:
    """The written unit_cost, fixed_cost, cost and share agree with the case and the plan."""
    file = "allocation.csv"
    d = pairs["D"]
    q = pairs["q"]
    share = np.divide(q, d, out=np.zeros(len(pairs)), where=d > 0)
    cost = pairs["fixed_cost"] * pairs["y"] + pairs["unit_cost"] * pairs["k"]
    checks = (
        ("unit_cost", pairs["unit_cost_w"], pairs["unit_cost"], "the case's unit_cost"),
        ("fixed_cost", pairs["fixed_cost_w"], pairs["fixed_cost"], "the case's fixed_cost"),
        ("cost", pairs["cost_w"], cost, "fixed_cost*hosted + unit_cost*capacity"),
        ("share", pairs["share_w"], share, "supplied / layer demand"),
    )
    for col, written, want, what in checks:
        bad, miss = tol.differ(written, want)
        for i in np.flatnonzero(bad & present):
            key = pair_name(pairs["partner"][i], pairs["layer"][i])
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
    f = flows
    exporter, importer, layer = f["exporter"], f["importer"], f["layer"]

    def key(i: Row) -> str:
        return flow(str(exporter.iloc[i]), str(importer.iloc[i]), str(layer.iloc[i]))

    qty = numbers(f, "quantity", key, file, out)
    cost_w = numbers(f, "unit_cost", key, file, out)
    for i in np.flatnonzero(qty < -tol.absolute):
        out.append(Violation("table", key(i), float(-qty[i]),
                             f"{file}: quantity of {key(i)} is {fmt(qty[i])}, negative"))

    n_layers, n_consumers = len(data.layer_ids), len(data.consumer_ids)
    ex = codes(data.partner_ids, exporter)
    im = codes(data.consumer_ids, importer)
    la = codes(data.layer_ids, layer)
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
    later = duplicated(code)
    keep = known.copy()
    if later.any():
        repeated = later.copy()
        repeated[np.isin(code, code[later])] = True
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
    every = len(idx) == len(f)
    ex, im, la, qty, cost_w = ex[idx], im[idx], la[idx], qty[idx], cost_w[idx]

    domestic = ex == im
    trade_cost, allowed = data.routes(ex, im, la)
    result = Flows(
        exporter=(exporter if every else exporter.iloc[idx]).reset_index(drop=True),
        importer=(importer if every else importer.iloc[idx]).reset_index(drop=True),
        layer=(layer if every else layer.iloc[idx]).reset_index(drop=True),
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
