"""Every claim of a run folder's scenarios.csv, checked (README, Shocks).

Each row's numbers are finite and not negative; its ``probability`` is the case's; its
``unmet_share`` is ``unmet`` over the total final demand (with a chain, not D);
``worst_layer`` is a layer (empty only when nothing is unmet), ``worst_layer_unmet`` at most
``unmet`` and ``worst_layer_share`` it over the layer's final demand; ``shortage_cost`` is
``shortage_cost * unmet`` (empty without a price) and ``second_stage_cost`` is
``trade_cost + shortage_cost`` (with markets, ``+ lost_revenue``: the columns
``market_unmet`` and ``lost_revenue`` say apart what markets lose; ``unmet`` is members'
alone, its shares of members' final demand); every scenario of the case has one row. For a two-stage
design, whose scenario flows are in the run folder, :mod:`solver.check.design` recomputes
``unmet``, ``trade_cost``, the worst layer and ``rerouted`` from them and passes them here
to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.check.case_data import CaseData
from solver.check.common import Tolerance, Violation, fmt, line_of

FILE = "scenarios.csv"
NUMBERS = ("probability", "unmet", "unmet_share", "worst_layer_unmet", "worst_layer_share",
           "rerouted", "trade_cost")
COLUMNS = ("scenario", *NUMBERS, "worst_layer", "shortage_cost", "second_stage_cost")
#: With markets: what the markets lose, apart from members' unmet demand.
MARKET_NUMBERS = ("market_unmet", "lost_revenue")


def check_scenario_table(case: Case, data: CaseData, table: pd.DataFrame | None,
                         recomputed: Mapping[str, Mapping[str, Any]], out: list[Violation],
                         tol: Tolerance) -> None:
    """Check ``table`` (scenarios.csv as text cells) against the case and ``recomputed``.

    ``recomputed`` maps a scenario to values recomputed from its flows (empty without them).
    """
    if case.scenarios is None or case.scenarios.empty:
        return
    if table is None:
        out.append(Violation("table", FILE, 1.0, f"{FILE}: missing for a case with scenarios"))
        return
    markets = bool(getattr(case, "has_markets", False))
    missing = [c for c in (*COLUMNS, *(MARKET_NUMBERS if markets else ()))
               if c not in table.columns]
    if missing:
        out.append(Violation("table", FILE, float(len(missing)),
                             f"{FILE}: missing column(s) {', '.join(missing)}"))
        return
    probability = case.scenarios.groupby("scenario", sort=False)["probability"].first()
    ids = table["scenario"].astype(str)
    for sid in sorted(set(probability.index.astype(str)) - set(ids)):
        out.append(Violation("table", FILE, 1.0, f"{FILE}: scenario {sid} has no row"))
    for j in np.flatnonzero(ids.duplicated().to_numpy()):
        out.append(Violation("table", FILE, 1.0, f"{FILE}, line {line_of(j)}: scenario "
                                                 f"{ids.iloc[j]} has a second row"))
    # Scenarios leave members' final demand unmet (a chain's inputs and markets' supply are
    # not demand rows).
    final = data.layers["final_demand"].astype(float) if "final_demand" in data.layers.columns \
        else data.demand.groupby("layer")["demand"].sum().reindex(data.layers.index,
                                                                 fill_value=0.0).astype(float)
    total = float(final.sum())
    price = case.objective.shortage_cost
    for i, row in enumerate(table.to_dict("records")):
        sid = str(row["scenario"])
        where = f"{FILE}, line {line_of(i)} (scenario {sid})"
        if sid not in probability.index:
            out.append(Violation("table", FILE, 1.0, f"{where}: not a scenario of the case"))
            continue
        v = {c: _number(str(row[c]), c, where, out)
             for c in (*NUMBERS, *(MARKET_NUMBERS if markets else ()))}
        claims: dict[str, Any] = {"probability": float(probability[sid]),
                                  "unmet_share": v["unmet"] / total if total > 0 else 0.0}
        layer = "" if pd.isna(row["worst_layer"]) else str(row["worst_layer"]).strip()
        if layer:
            if layer not in data.layers.index:
                out.append(Violation("table", FILE, 1.0, f"{where}: column worst_layer: "
                                                         f"{layer!r} is not a layer"))
            else:
                demand = float(final[layer])
                claims["worst_layer_share"] = v["worst_layer_unmet"] / demand if demand > 0 \
                    else 0.0
        else:
            claims["worst_layer_unmet"] = claims["worst_layer_share"] = 0.0
        if v["worst_layer_unmet"] > v["unmet"] + tol.absolute + tol.relative * v["unmet"]:
            out.append(Violation("table", FILE, v["worst_layer_unmet"] - v["unmet"],
                                 f"{where}: worst_layer_unmet {fmt(v['worst_layer_unmet'])} is "
                                 f"above the scenario's unmet {fmt(v['unmet'])}"))
        if price is not None:
            claims["shortage_cost"] = price * v["unmet"]
            claims["second_stage_cost"] = v["trade_cost"] + price * v["unmet"] + (
                v["lost_revenue"] if markets else 0.0)
        for col in ("shortage_cost", "second_stage_cost"):
            if price is None and not pd.isna(row[col]) and str(row[col]).strip():
                out.append(Violation("table", FILE, 1.0, f"{where}: column {col}: "
                                                         f"{row[col]!r} without a shortage price"))
        claims.update(recomputed.get(sid, {}))
        tied = claims.pop("worst_layer_tied", None)
        if tied is not None and layer in tied:
            claims["worst_layer_unmet"] = tied[layer]
        elif tied is not None:
            out.append(Violation("table", FILE, 1.0, f"{where}: column worst_layer is {layer!r}, "
                                                     f"recomputed one of {', '.join(tied)}"))
        worst = claims.pop("worst_layer", layer)
        if str(worst) != layer:
            out.append(Violation("table", FILE, 1.0, f"{where}: column worst_layer is {layer!r}, "
                                                     f"recomputed {worst!r}"))
        for col, value in claims.items():
            written = v[col] if col in v else _number(str(row[col]), col, where, out)
            bad, miss = tol.differ(written, value)
            if bool(bad):
                out.append(Violation("table", FILE, float(np.nan_to_num(miss, nan=1.0)),
                                     f"{where}: column {col} is {fmt(written)}, recomputed "
                                     f"{fmt(float(value))}"))


def _number(cell: str, col: str, where: str, out: list[Violation]) -> float:
    """A cell as a finite number >= 0; a ``table`` violation (and NaN) otherwise."""
    try:
        value = float(cell.strip() or "nan")
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        out.append(Violation("table", FILE, 1.0, f"{where}: column {col}: {cell!r} is not a "
                                                 "finite number >= 0"))
        return float("nan")
    return value
