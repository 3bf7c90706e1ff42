"""The checker's part for unmet demand: ``shortage.csv`` (README, The model, shortage).

With ``objective.shortage_cost`` set, a run folder holds ``shortage.csv``: one row per
demand row left partly unmet (``member, layer, demand, unmet``; rows with nothing unmet are
left out). The checker reads the unmet amount ``z[n,l]`` from it, and the demand family
becomes ``sum_p f[p,n,l] + z[n,l] = d[n,l]`` with ``0 <= z <= d``. Without a shortage cost
demand is hard and the table is not read: every ``z`` is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from solver.check.case_data import CaseData
from solver.check.common import Row, Tolerance, Violation, codes, fmt, missing_columns, numbers
from solver.check.common import pair as pair_name

FILE = "shortage.csv"
COLUMNS = ("member", "layer", "unmet")


def read_unmet(data: CaseData, shortage: pd.DataFrame | None, out: list[Violation],
               tol: Tolerance) -> np.ndarray:
    """The unmet demand of each demand row of ``data.demand`` (0 where the table has none).

    A row naming no demand row of the case, a duplicate, or an amount below 0 or above the
    row's demand is a ``table`` violation (the amount is then clipped into ``[0, d]``).
    """
    rows = data.demand
    unmet = np.zeros(len(rows))
    if shortage is None or missing_columns(shortage, COLUMNS, FILE, out):
        return unmet
    s = shortage.reset_index(drop=True)

    def key(i: Row) -> str:
        return pair_name(str(s["member"].iloc[i]), str(s["layer"].iloc[i]))

    amount = numbers(s, "unmet", key, FILE, out)
    n_layers = len(data.layer_ids)
    member = codes(data.consumer_ids, s["member"].astype(str))
    layer = codes(data.layer_ids, s["layer"].astype(str))
    row = np.where((member >= 0) & (layer >= 0),
                   data.row_lookup.find(member * n_layers + layer), -1)
    seen: set[int] = set()
    need = rows["demand"].to_numpy(dtype=float)
    for i, r in enumerate(row.tolist()):
        if r < 0:
            out.append(Violation("table", key(i), abs(float(amount[i])),
                                 f"{FILE}: {key(i)} is not a demand row of the case; ignored"))
            continue
        if r in seen:
            out.append(Violation("table", key(i), 1.0,
                                 f"{FILE}: {key(i)} has more than one row; ignored"))
            continue
        seen.add(r)
        value = float(amount[i])
        bad_low, below = tol.over(0.0, value)
        bad_high, above = tol.over(value, float(need[r]))
        if bool(bad_low) or bool(bad_high):
            out.append(Violation("table", key(i), float(max(below, above)),
                                 f"{FILE}: unmet of {key(i)} is {fmt(value)}, outside "
                                 f"[0, {fmt(float(need[r]))}] (its demand)"))
        unmet[r] = min(max(value, 0.0), float(need[r]))
    return unmet
