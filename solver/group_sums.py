"""Per-group sums, counts and maxima of a plan's tables, as pandas computes them, from arrays.

The solution tables (:mod:`solver.results`) sum a column per layer or per partner. pandas'
``Series.groupby(keys).sum()`` does so one of two ways: with ``np.add.reduceat`` where the
groups' codes come in order and no value is missing, else with a compensated (Kahan) sum
row by row. :func:`sum_by` does the same arithmetic on arrays, without building the groupby
(a tenth of the time at the sizes of a study's point), so that every written number is the
same to the last bit; ``tests/test_group_sums.py`` holds it against pandas on random data.
Keys that are not all strings, values that are not float64, and large groups go to pandas
itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

#: Above this many rows in one group the compensated sum is left to pandas (one numpy step
#: per row of the largest group would cost more than the groupby).
MAX_GROUP = 64

#: Up to this many rows the compensated sum runs row by row in Python (:func:`_kahan_rows`).
SMALL = 2048


def _group_sum(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray | None:
    """The sum pandas makes of ``values`` per group ``codes`` (0..n-1); None: ask pandas."""
    out = np.zeros(n)
    if not len(codes):
        return out
    nan = np.isnan(values)
    if not nan.any() and bool((codes[1:] >= codes[:-1]).all()):
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        out[codes[starts]] = np.add.reduceat(values, starts)
        return out
    codes, values = codes[~nan], values[~nan]
    if len(codes) <= SMALL:
        return _kahan_rows(codes.tolist(), values.tolist(), out)
    counts = np.bincount(codes, minlength=n)
    if len(codes) and int(counts.max()) > MAX_GROUP:
        return None
    order = np.argsort(codes, kind="stable")
    codes, values = codes[order], values[order]
    rank = np.arange(len(codes)) - (np.cumsum(counts) - counts)[codes]
    compensation = np.zeros(n)
    with np.errstate(invalid="ignore"):
        for r in range(int(counts.max()) if len(codes) else 0):
            at = rank == r
            group = codes[at]
            y = values[at] - compensation[group]
            t = out[group] + y
            c = (t - out[group]) - y
            c[np.isnan(c)] = 0.0  # an infinite value: pandas keeps no compensation
            compensation[group] = c
            out[group] = t
    return out


def _kahan_rows(codes: list[int], values: list[float], out: np.ndarray) -> np.ndarray:
    """The compensated sum of pandas' ``group_sum``, row by row as it runs, in Python floats.

    The same IEEE operations in the same order as :func:`_group_sum`'s loop over ranks; for
    a table of a few hundred rows one pass in Python costs less than numpy's step per rank.
    """
    sums = out.tolist()
    compensation = [0.0] * len(sums)
    for g, x in zip(codes, values, strict=True):
        s = sums[g]
        y = x - compensation[g]
        t = s + y
        c = (t - s) - y
        compensation[g] = 0.0 if c != c else c  # an infinite value: no compensation kept
        sums[g] = t
    out[:] = sums
    return out


class Groups:
    """The rows of ``keys`` grouped as a groupby groups them (in sorted key order).

    Made once for several columns summed by the same keys; each result is read at ``ids``
    (the table's own order), 0 where no key names an id.
    """

    def __init__(self, keys: Any) -> None:
        self.keys = np.asarray(keys, dtype=object)
        self.codes: np.ndarray | None = None
        self.uniques: list[Any] = []
        if not len(self.keys) or infer_dtype(self.keys, skipna=False) == "string":
            codes, uniques = pd.factorize(self.keys, sort=True)
            self.codes, self.uniques = np.asarray(codes, dtype=np.int64), list(uniques)
        self._at: tuple[Any, np.ndarray] | None = None

    def _read(self, per_group: np.ndarray, ids: Any, missing: Any) -> np.ndarray:
        """Each of ``ids``'s group's number (``missing`` for an id no key names)."""
        if self._at is None or self._at[0] is not ids:
            where = {u: i for i, u in enumerate(self.uniques)}
            self._at = (ids, np.array([where.get(x, -1) for x in ids], dtype=np.int64))
        at = self._at[1]
        if not len(per_group):
            return np.full(len(at), missing, dtype=per_group.dtype)
        return np.where(at >= 0, per_group[np.maximum(at, 0)], missing)

    def _pandas(self, values: Any, ids: Any, how: str, missing: Any) -> np.ndarray:
        by = getattr(pd.Series(values).groupby(self.keys), how)()
        return pd.Series(np.asarray(ids, dtype=object)).map(by).fillna(missing).to_numpy()

    def sum(self, values: Any, ids: Any) -> np.ndarray:
        """``ids.map(Series(values).groupby(keys).sum()).fillna(0.0)``, as float64 numbers."""
        values = np.asarray(values)
        sums = None
        if self.codes is not None and values.dtype == np.float64:
            sums = _group_sum(self.codes, values, len(self.uniques))
        if sums is None:
            return self._pandas(values, ids, "sum", 0.0).astype(float)
        return self._read(sums, ids, 0.0)

    def count(self, ids: Any) -> np.ndarray:
        """How many keys each of ``ids`` is (``groupby(keys).size()``, 0 where none)."""
        if self.codes is None:
            return self._pandas(self.keys, ids, "size", 0).astype(np.int64)
        counts = np.bincount(self.codes, minlength=len(self.uniques)).astype(np.int64)
        return self._read(counts, ids, 0).astype(np.int64)

    def max(self, values: Any, ids: Any) -> np.ndarray:
        """``ids.map(Series(values).groupby(keys).max()).fillna(0.0)``, as float64 numbers."""
        values = np.asarray(values)
        if self.codes is None or values.dtype != np.float64 or np.isnan(values).any():
            return self._pandas(values, ids, "max", 0.0).astype(float)
        top = np.full(len(self.uniques), -np.inf)
        np.maximum.at(top, self.codes, values)
        return self._read(top, ids, 0.0)


def sum_by(keys: Any, values: Any, ids: Any) -> np.ndarray:
    """:meth:`Groups.sum` of ``keys``."""
    return Groups(keys).sum(values, ids)


def count_by(keys: Any, ids: Any) -> np.ndarray:
    """:meth:`Groups.count` of ``keys``."""
    return Groups(keys).count(ids)


def max_by(keys: Any, values: Any, ids: Any) -> np.ndarray:
    """:meth:`Groups.max` of ``keys``."""
    return Groups(keys).max(values, ids)


def total(x: Any) -> float:
    """What ``Series(x).sum()`` gives of float64 numbers: a missing one counts 0, numpy's sum."""
    x = np.asarray(x, dtype=float)
    missing = np.isnan(x)
    if missing.any():
        x = np.where(missing, 0.0, x)
    return float(x.sum())


def lookup(frame: pd.DataFrame, key: str, column: str, ids: Any) -> np.ndarray:
    """``ids.map(frame.set_index(key)[column])`` as float64 numbers (NaN where no row is)."""
    keys = frame[key].to_numpy(dtype=object)
    if len(set(keys.tolist())) != len(keys):  # pandas refuses to map through repeated keys
        return pd.Series(np.asarray(ids, dtype=object)).map(
            frame.set_index(key)[column]).to_numpy(dtype=float)
    where = {k: i for i, k in enumerate(keys.tolist())}
    at = np.fromiter((where.get(x, -1) for x in np.asarray(ids, dtype=object).tolist()),
                     dtype=np.int64, count=len(ids))
    values = frame[column].to_numpy(dtype=float)
    if not len(values):
        return np.full(len(at), np.nan)
    return np.where(at >= 0, values[np.maximum(at, 0)], np.nan)


def sort_order(*keys: Any) -> np.ndarray:
    """The positions of rows sorted by ``keys``, the first key first, ascending.

    As ``sort_values`` orders rows whose keys together are unique (ids: strings compared as
    Python compares them): each key is ranked among its sorted values, and the ranks sorted.
    """
    ranks = [np.unique(np.asarray(k, dtype=object), return_inverse=True)[1].reshape(-1)
             for k in keys]
    return np.asarray(np.lexsort(ranks[::-1]), dtype=np.int64)
