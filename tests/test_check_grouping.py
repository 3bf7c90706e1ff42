"""The checker's own per-group sums (solver/check/common.py) are pandas' groupby sums, bit for bit.

The checker shares no code with the tables it checks, so it has its own :class:`Grouping`
(the tables' is :mod:`solver.group_sums`); both are held to pandas here and in
``tests/test_group_sums.py``: sorted and unsorted keys, NaN and infinite values, groups
above the size left to pandas, and both ways of the compensated sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import solver.check.common
from solver.check.common import Grouping
from tests.float_bits import same_bits


@pytest.mark.parametrize("row_by_row", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_grouping_sums_are_pandas_groupby_sums(seed: int, row_by_row: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if not row_by_row:  # every table the numpy way, rank by rank
        monkeypatch.setattr(solver.check.common, "_ROW_BY_ROW", 0)
    rng = np.random.default_rng(seed)
    for trial in range(300):
        n, m = int(rng.integers(1, 9)), int(rng.integers(0, 90 if trial % 10 else 300))
        code = rng.integers(0, n, m)
        if trial % 3 == 0:
            code = np.sort(code)
        values = [rng.normal(size=m) * 10.0 ** rng.integers(-12, 12, m), rng.random(m) * 1e3,
                  np.round(rng.random(m) * 100, 3) * 0.1, -np.zeros(m)][trial % 4]
        if trial % 7 == 6:
            values[rng.random(m) < 0.2] = np.nan
        if trial % 11 == 10:
            values[rng.random(m) < 0.1] = np.inf
        keys = np.array([f"L{c}" for c in code], dtype=object)
        ids = pd.Index([f"L{i}" for i in range(n + 1)], dtype=object)  # one id with no key
        want = pd.Series(ids).map(pd.Series(values).groupby(keys).sum()).fillna(0.0)
        same_bits(Grouping(keys, ids).sum(values), want.to_numpy(dtype=float))
