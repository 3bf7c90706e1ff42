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


def _codes(keys: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Each key's group (groups in sorted key order, as a groupby numbers them), or None."""
    keys = np.asarray(keys, dtype=object)
    if len(keys) and infer_dtype(keys, skipna=False) != "string":
        return None
    codes, uniques = pd.factorize(keys, sort=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _read(per_group: np.ndarray, uniques: np.ndarray, ids: Any, missing: Any) -> np.ndarray:
    """Each of ``ids``'s group's number (``missing`` for an id no key names)."""
    at = pd.Index(uniques, dtype=object).get_indexer(np.asarray(ids, dtype=object))
    if not len(per_group):
        return np.full(len(at), missing, dtype=per_group.dtype)
    return np.where(at >= 0, per_group[np.maximum(at, 0)], missing)


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


def sum_by(keys: Any, values: Any, ids: Any) -> np.ndarray:
    """``ids.map(Series(values).groupby(keys).sum()).fillna(0.0)``, as float64 numbers."""
    values = np.asarray(values)
    coded = _codes(keys) if values.dtype == np.float64 else None
    sums = None
    if coded is not None:
        sums = _group_sum(coded[0], values, len(coded[1]))
    if coded is None or sums is None:
        by = pd.Series(values).groupby(np.asarray(keys, dtype=object)).sum()
        return pd.Series(np.asarray(ids, dtype=object)).map(by).fillna(0.0).to_numpy(
            dtype=float)
    return _read(sums, coded[1], ids, 0.0)


def count_by(keys: Any, ids: Any) -> np.ndarray:
    """How many of ``keys`` each of ``ids`` is (``groupby(keys).size()``, 0 where none)."""
    coded = _codes(keys)
    if coded is None:
        size = pd.Series(np.asarray(keys, dtype=object)).groupby(
            np.asarray(keys, dtype=object)).size()
        return pd.Series(np.asarray(ids, dtype=object)).map(size).fillna(0).to_numpy(
            dtype=np.int64)
    counts = np.bincount(coded[0], minlength=len(coded[1])).astype(np.int64)
    return _read(counts, coded[1], ids, 0).astype(np.int64)


def max_by(keys: Any, values: Any, ids: Any) -> np.ndarray:
    """``ids.map(Series(values).groupby(keys).max()).fillna(0.0)``, as float64 numbers."""
    values = np.asarray(values)
    coded = _codes(keys) if values.dtype == np.float64 else None
    if coded is None or np.isnan(values).any():
        by = pd.Series(values).groupby(np.asarray(keys, dtype=object)).max()
        return pd.Series(np.asarray(ids, dtype=object)).map(by).fillna(0.0).to_numpy(
            dtype=float)
    top = np.full(len(coded[1]), -np.inf)
    np.maximum.at(top, coded[0], values)
    return _read(top, coded[1], ids, 0.0)
