"""The checker's part for the report tables: ``layers.csv`` and ``partners.csv``.

The plan itself is in ``allocation.csv`` and ``flows.csv``, which :mod:`solver.check.run`
verifies against the case. The report tables are derived from the plan; a planner reads
them (HHI, N-1 coverage, participation), so they are recomputed here from the case and the
checked plan, with the checker's own arithmetic (never :mod:`solver.results`), and every
cell compared within the checker's tolerance. A difference is a ``report`` violation naming
the file, the row and the column.

Per layer ``l`` with demand ``D_l`` (from the case), and ``y``, ``k``, ``q`` of its pairs:
``capacity = sum k``, ``supplied = sum q``, ``suppliers = sum y``,
``max_share = max q / D_l``, ``hhi = sum (q / D_l)^2``, ``effective_suppliers = 1 / hhi``
(0 when nothing is supplied), ``n1_coverage = (capacity - max k) / D_l`` (empty when
``D_l = 0``), with some ``resilience_k > 1`` also ``nk_coverage = (capacity - the
resilience_k largest k) / D_l``, and ``surplus = capacity - D_l`` (with a shortage cost:
its positive part, and ``unmet`` = the layer's unmet demand from ``shortage.csv``).
Per partner ``p``: ``value = sum_l v_l q[p,l]``, ``participation = value / V``,
``layers_hosted = sum_l y[p,l]``, and ``cost`` its hosting and capacity costs plus the trade
cost of what it ships.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from solver.check.common import (
    Tolerance,
    Violation,
    as_text,
    codes,
    duplicated,
    fmt,
    hosted,
    largest_per_layer,
    resilience_k,
)
from solver.check.families import column as pair_column
from solver.check.plan import Pairs

LAYER_COLUMNS = ("layer", "demand", "capacity", "supplied", "suppliers", "max_share", "hhi",
                 "effective_suppliers", "n1_coverage", "surplus")
PARTNER_COLUMNS = ("partner", "member", "value", "participation", "layers_hosted", "cost")


def check_layers(data: Any, pairs: pd.DataFrame | Pairs, written: pd.DataFrame,
                 out: list[Violation], tol: Tolerance,
                 unmet: np.ndarray | None = None) -> None:
    """``layers.csv`` against the layer metrics of the checked plan.

    ``unmet`` (per demand row of ``data.demand``) is given with a shortage cost.
    """
    ids = data.layer_ids
    n = len(ids)
    demand = data.layers["D"].to_numpy(dtype=float)
    code = pairs.layer_code if isinstance(pairs, Pairs) else codes(ids, as_text(pairs["layer"]))
    y, k, q = (pair_column(pairs, c, float) for c in ("y", "k", "q"))
    d_pair = demand[code]
    share = np.divide(q, d_pair, out=np.zeros(len(q)), where=d_pair > 0)
    capacity = np.bincount(code, weights=k, minlength=n)
    hhi = np.bincount(code, weights=share**2, minlength=n)
    max_share, biggest = np.zeros(n), np.zeros(n)
    np.maximum.at(max_share, code, share)
    np.maximum.at(biggest, code, k)
    expected = {
        "demand": demand,
        "capacity": capacity,
        "supplied": np.bincount(code, weights=q, minlength=n),
        "suppliers": np.bincount(code, weights=(y >= 0.5).astype(float), minlength=n),
        "max_share": max_share,
        "hhi": hhi,
        "effective_suppliers": np.divide(1.0, hhi, out=np.zeros(n), where=hhi > 0),
        "n1_coverage": np.divide(capacity - biggest, demand, out=np.full(n, np.nan),
                                 where=demand > 0),
        "surplus": capacity - demand,
    }
    big_k = resilience_k(data.layers)
    if (big_k > 1).any():
        top = largest_per_layer(code, k, big_k)  # the K largest of a layer, lost together
        lost = np.bincount(code[top], weights=k[top], minlength=n)
        expected["nk_coverage"] = np.divide(capacity - lost, demand, out=np.full(n, np.nan),
                                            where=demand > 0)
    if "market_supplied" in data.layers:
        expected["market_supplied"] = data.layers["market_supplied"].to_numpy(dtype=float)
    if unmet is not None:
        expected["surplus"] = np.maximum(capacity - demand, 0.0)
        row_layer = codes(ids, as_text(data.demand["layer"]))
        expected["unmet"] = np.bincount(row_layer, weights=unmet, minlength=n)
    _compare("layers.csv", "layer", ids, written, expected, out, tol)


def check_partners(data: Any, pairs: pd.DataFrame | Pairs, flows: Any, written: pd.DataFrame,
                   out: list[Violation], tol: Tolerance) -> None:
    """``partners.csv`` against the participation and costs of the checked plan."""
    ids = data.partner_ids
    n = len(ids)
    code = pairs.data.pair_codes()[0] if isinstance(pairs, Pairs) else \
        codes(ids, as_text(pairs["partner"]))
    y, k, q = (pair_column(pairs, c, float) for c in ("y", "k", "q"))
    value = np.bincount(code, weights=q * pair_column(pairs, "unit_value", float), minlength=n)
    own = pair_column(pairs, "fixed_cost", float) * y + pair_column(pairs, "unit_cost", float) * k
    exporter = codes(ids, as_text(flows.exporter))
    shipped = np.bincount(exporter, weights=flows.qty * flows.trade_cost, minlength=n)
    total = data.total_value
    expected = {
        "member": data.partners["member"].to_numpy(dtype=float),
        "value": value,
        "participation": value / total if total > 0 else np.zeros(n),
        "layers_hosted": np.bincount(code, weights=(y >= 0.5).astype(float), minlength=n),
        "cost": np.bincount(code, weights=own, minlength=n) + shipped,
    }
    _compare("partners.csv", "partner", ids, written, expected, out, tol)


def _compare(file: str, key: str, ids: pd.Index, written: pd.DataFrame,
             expected: dict[str, np.ndarray], out: list[Violation], tol: Tolerance) -> None:
    """One row per id, and every cell of ``expected``'s columns as recomputed."""
    missing = [c for c in (key, *expected) if c not in written.columns]
    if missing:
        out.append(Violation("table", file, float(len(missing)),
                             f"{file}: missing column(s) {', '.join(missing)}"))
        return
    names = as_text(written[key])
    row = codes(ids, names)
    for i in np.flatnonzero(row < 0):
        out.append(Violation("table", f"{file}:{names[i]}", 1.0,
                             f"{file}: {key} {names[i]!r} is not in the case"))
    dup = duplicated(names) & (row >= 0)
    for i in np.flatnonzero(dup):
        out.append(Violation("table", f"{file}:{names[i]}", 1.0,
                             f"{file}: {key} {names[i]} has more than one row"))
    use = np.flatnonzero((row >= 0) & ~dup)
    present = np.zeros(len(ids), dtype=bool)
    present[row[use]] = True
    for j in np.flatnonzero(~present).tolist():
        out.append(Violation("table", f"{file}:{ids[j]}", 1.0,
                             f"{file}: no row for {key} {ids[j]}"))
    at = row[use]
    every = len(use) == len(written)
    for column, want in expected.items():
        series = written[column]
        cells = series if every else series.iloc[use]  # by position
        if column == "member":
            got = hosted(cells)
        elif cells.dtype.kind in "fiub":  # numbers already (a table in memory): as they are
            got = cells.to_numpy(dtype=float)
        else:
            got = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
        want_at = want[at]
        both = np.isfinite(got) & np.isfinite(want_at)
        bad, miss = tol.differ(np.where(both, got, 0.0), np.where(both, want_at, 0.0))
        wrong = (both & bad) | (np.isfinite(got) != np.isfinite(want_at))
        for i in np.flatnonzero(wrong):
            name = ids[at[i]]
            shown = _cell(cells.iloc[i])
            expect = "empty" if not np.isfinite(want_at[i]) else fmt(want_at[i])
            amount = float(miss[i]) if both[i] else 1.0
            off = f" (off by {fmt(amount)})" if both[i] else ""
            if column == "member":
                shown, expect, off = repr(str(cells.iloc[i])), str(want_at[i] > 0).lower(), ""
            out.append(Violation("report", f"{file}:{name}", amount,
                                 f"{file}: {column} of {key} {name} is {shown}, recomputed "
                                 f"from the case and the plan {expect}{off}"))


def _cell(value: Any) -> str:
    """A written cell for a message: its number, or its text."""
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if pd.notna(number):
        return fmt(float(number))
    return "empty" if str(value).strip() in ("", "nan") else repr(str(value))
