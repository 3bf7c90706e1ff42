"""What the checker's modules share: violations, tolerance, table helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: The family words a violation may carry.
FAMILIES = (
    "table", "route", "supplied", "demand", "capacity", "hosting", "supplier_share",
    "diversification", "concentration", "resilience", "surplus", "dependency", "domestic",
    "participation", "budget", "objective", "report", "input_balance",
)

#: Statuses whose run folder carries a plan with an objective value.
SOLVED = frozenset({"optimal", "time_limit"})
#: Every status the tool writes to ``summary.json``; any other is a violation.
KNOWN_STATUSES = SOLVED | {"infeasible", "unbounded", "no_solution", "interrupted", "error"}

#: The objective's terms, as written under ``summary.json``'s ``costs``.
COST_TERMS = ("fixed", "capacity", "trade", "redundancy", "risk", "shortage", "market_revenue",
              "entry")
#: Terms a run without them may leave out of summary.json (their cost is then 0).
OPTIONAL_TERMS = ("shortage", "market_revenue", "entry")

ALLOCATION_COLUMNS = ("partner", "layer", "hosted", "capacity", "supplied", "share",
                      "unit_cost", "fixed_cost", "cost")
FLOW_COLUMNS = ("exporter", "importer", "layer", "quantity", "unit_cost")

TRUE_WORDS = {"true", "yes", "1", "1.0"}
#: A row position: numpy's loops over ``np.flatnonzero`` give numpy integers.
Row = int | np.integer[Any]
FALSE_WORDS = {"false", "no", "0", "0.0"}


@dataclass(frozen=True)
class Violation:
    """One violated requirement of a solution, in the planner's words.

    ``family`` is the constraint family (or ``table``, ``route``, ``supplied``, ``objective``),
    ``entity`` names what is violated (``semiconductors``, ``TW,semiconductors``,
    ``TW->DE,semiconductors``, ``TW``, ``budget``, ``costs.trade``, a file name), and
    ``amount`` is by how much (positive, in the constraint's units).
    """

    family: str
    entity: str
    amount: float
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Tolerance:
    """How far a compared quantity may miss: ``absolute + relative * magnitude``."""

    absolute: float = 1e-6
    relative: float = 1e-6

    def allowed(self, *magnitudes: Any) -> np.ndarray:
        """The allowed miss for quantities of the given magnitudes (largest one counts)."""
        scale: np.ndarray = np.zeros(())
        for m in magnitudes:
            scale = np.maximum(scale, np.abs(np.asarray(m, dtype=float)))
        return np.asarray(self.absolute + self.relative * scale, dtype=float)

    def over(self, lhs: Any, rhs: Any, *magnitudes: Any) -> tuple[np.ndarray, np.ndarray]:
        """Where ``lhs <= rhs`` fails beyond tolerance, and ``lhs - rhs`` (the excess).

        A comparison that NaN makes undecidable (a NaN side, ``inf - inf``) fails: it is
        written as "holds" (``excess <= allowed``) negated, never as "fails" (``>``).
        """
        lhs = np.asarray(lhs, dtype=float)
        rhs = np.asarray(rhs, dtype=float)
        with np.errstate(invalid="ignore"):
            excess = lhs - rhs
            holds = excess <= self.allowed(lhs, rhs, *magnitudes)
        return np.asarray(~holds), excess

    def differ(self, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
        """Where ``a == b`` fails beyond tolerance, and ``|a - b|`` (NaN fails, as in over)."""
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        with np.errstate(invalid="ignore"):
            miss = np.abs(a - b)
            holds = miss <= self.allowed(a, b)
        return np.asarray(~holds), miss


#: The tolerance of every comparison: abs 1e-6 plus rel 1e-6 of the magnitudes compared.
TOLERANCE = Tolerance()


def fmt(x: float) -> str:
    """A number for a message: six significant digits."""
    return f"{float(x):.6g}"


def pair(p: str, layer: str) -> str:
    """A capability pair as a violation names it: ``PARTNER,LAYER``."""
    return f"{p},{layer}"


def flow(p: str, n: str, layer: str) -> str:
    """A flow as a violation names it: ``EXPORTER->IMPORTER,LAYER``."""
    return f"{p}->{n},{layer}"


# ---------------------------------------------------------------------------------------


class Lookup:
    """Positions of integer keys in a table (``-1`` where absent), by binary search."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = np.asarray(keys, dtype=np.int64)[self.order]

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The table position of each key, or -1."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(self.sorted) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.sorted, keys), len(self.sorted) - 1)
        hit = self.sorted[pos] == keys
        return np.where(hit, self.order[pos], -1).astype(np.int64)


def codes(ids: pd.Index, values: Any) -> np.ndarray:
    """The position of each value in ``ids`` (``-1`` if unknown).

    Unique ids without a missing one are looked up in a dict (pandas' ``get_indexer`` costs
    a new index per call, and the checker codes a dozen columns per plan); the answer is
    the same: a value equal to an id (``==`` and the same hash) finds it, any other ``-1``.
    """
    if not (ids.is_unique and not ids.hasnans):
        return np.asarray(ids.get_indexer(pd.Index(values).astype(object)), dtype=np.int64)
    if isinstance(values, pd.Series | pd.Index):
        values = values.to_numpy(dtype=object, na_value=np.nan)
    at = {key: i for i, key in enumerate(ids.to_numpy(dtype=object))}
    try:
        return np.fromiter((at.get(v, -1) for v in np.asarray(values, dtype=object).ravel()),
                           dtype=np.int64)
    except TypeError:  # an unhashable cell: pandas says -1 for it
        return np.asarray(ids.get_indexer(pd.Index(values).astype(object)), dtype=np.int64)


def resilience_k(layers: pd.DataFrame) -> np.ndarray:
    """Each layer's ``resilience_k`` (the hosts lost at once; 1 where the column is absent)."""
    if "resilience_k" in layers:
        return layers["resilience_k"].to_numpy(dtype=np.int64)
    return np.ones(len(layers), dtype=np.int64)


def largest_per_layer(layer: np.ndarray, k: np.ndarray, count: np.ndarray,
                      tiebreak: np.ndarray | None = None) -> np.ndarray:
    """The positions of each layer's ``count[layer]`` largest ``k``, layer by layer, largest first.

    ``layer`` holds layer codes; ties go to the smaller ``tiebreak`` (then the earlier row).
    """
    keys = (-k, layer) if tiebreak is None else (tiebreak, -k, layer)
    order = np.lexsort(keys)
    sorted_layer = layer[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_layer, sorted_layer, side="left")
    return order[rank < count[sorted_layer]]


def line_of(i: Row) -> int:
    """The CSV line of table row ``i`` (the header is line 1)."""
    return int(i) + 2


def numbers(frame: pd.DataFrame, col: str, key: Callable[[Row], str], file: str,
             out: list[Violation]) -> np.ndarray:
    """Column ``col`` as finite floats; a bad cell is a ``table`` violation and counts as 0.

    NaN, Infinity and a number too large for a float (``1e400``) are bad cells as much as an
    empty or non-numeric one. ``key(i)`` names row ``i`` in the message, with its line.
    """
    values = as_floats(frame[col])
    bad = ~np.isfinite(values)
    if bad.any():
        where = np.flatnonzero(bad)
        cells = frame[col].reset_index(drop=True)
        shown = "; ".join(f"line {line_of(i)} ({key(i)}) {str(cells.iloc[i])!r}"
                          for i in where[:5]) + (" ..." if len(where) > 5 else "")
        out.append(Violation("table", file, float(bad.sum()),
                             f"{file}: column {col} has {int(bad.sum())} missing, non-numeric "
                             f"or non-finite value(s): {shown}; counted as 0"))
        values = np.where(bad, 0.0, values)
    return values


def hosted(series: pd.Series) -> np.ndarray:
    """``hosted`` as floats: bools, 0/1 numbers or true/false words; NaN if unreadable."""
    if series.dtype == bool or _numeric(series):
        # A number's text (repr) reads back as the same number; 0/1 are the true/false words.
        return series.to_numpy(dtype=float)
    text = series.astype(str).str.strip().str.lower()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    values = np.where(text.isin(TRUE_WORDS).to_numpy(), 1.0, values)
    values = np.where(text.isin(FALSE_WORDS).to_numpy(), 0.0, values)
    return values


def _numeric(series: pd.Series) -> bool:
    """Whether ``series`` holds plain numpy numbers (int, unsigned, float or bool)."""
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf"


def as_floats(series: pd.Series) -> np.ndarray:
    """``pd.to_numeric(series, errors="coerce")`` as floats (NaN where not a number).

    A column of numpy numbers is read as it is (what ``to_numeric`` returns for it).
    """
    if _numeric(series):
        return series.to_numpy(dtype=float)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def as_text(series: pd.Series) -> np.ndarray:
    """``series.astype(str)`` as an object array (a column of str alone is read as it is)."""
    values = series.to_numpy(dtype=object)
    if all(type(v) is str for v in values):
        return values
    return series.astype(str).to_numpy(dtype=object)


def duplicated(values: np.ndarray) -> np.ndarray:
    """``pd.Series(values).duplicated(keep="first")``: each value after its first row."""
    out = np.zeros(len(values), dtype=bool)
    if values.dtype.kind in "iu":
        if len(values):
            out[:] = True
            out[np.unique(values, return_index=True)[1]] = False
        return out
    seen: set[Any] = set()
    for i, v in enumerate(values.tolist()):
        if v in seen:
            out[i] = True
        else:
            seen.add(v)
    return out


#: Above this many rows in a group, :func:`group_sum` leaves the sum to pandas.
_MAX_GROUP = 64

#: Up to this many rows the compensated sum runs row by row in Python, as pandas' loop
#: does (numpy's step per rank costs more at a plan's sizes).
_ROW_BY_ROW = 2048


class Grouping:
    """Rows grouped by str ``keys`` as ``groupby(keys)`` groups them, read at ``ids``.

    Made once for the sums of several columns by the same keys (:meth:`sum`).
    """

    def __init__(self, keys: Any, ids: pd.Index) -> None:
        uniques, code = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
        self.code = code.astype(np.int64).ravel()
        self.n = len(uniques)
        self.ordered = bool((self.code[1:] >= self.code[:-1]).all())
        self.at = codes(pd.Index(uniques, dtype=object), ids.to_numpy(dtype=object)) \
            if self.n else np.full(len(ids), -1, dtype=np.int64)

    def sum(self, values: Any) -> np.ndarray:
        """``pd.Series(values).groupby(keys).sum().reindex(ids).fillna(0.0)`` as an array.

        pandas adds a group's values one of two ways: with ``np.add.reduceat`` where the
        groups' codes (the keys' sorted ranks) come in order and no value is NaN, else with
        a compensated (Kahan) sum row by row, NaN skipped; both are done here the same way,
        so that every sum is the same to the last bit.
        """
        values = np.asarray(values, dtype=float)
        code, n = self.code, self.n
        per = np.zeros(n)
        nan = np.isnan(values)
        if len(code) and self.ordered and not nan.any():
            starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
            with np.errstate(invalid="ignore"):  # inf - inf: NaN, as pandas makes it
                per[code[starts]] = np.add.reduceat(values, starts)
        elif len(code):
            per = _kahan(code, values, nan, n)
        out = np.where(self.at >= 0, per[np.maximum(self.at, 0)] if n else 0.0, 0.0)
        out[np.isnan(out)] = 0.0  # fillna
        return out


def _kahan(code: np.ndarray, values: np.ndarray, nan: np.ndarray, n: int) -> np.ndarray:
    """The compensated sum pandas makes of ``values`` per group ``code`` (0..n-1), in row order.

    ``nan`` marks the NaN values (skipped); a large group is left to pandas itself.
    """
    if int(np.bincount(code, minlength=n).max()) > _MAX_GROUP:
        return np.asarray(pd.Series(values).groupby(code).sum().reindex(
            range(n), fill_value=0.0).to_numpy(dtype=float))
    code, values = code[~nan], values[~nan]
    if len(code) <= _ROW_BY_ROW:  # a few hundred rows: one pass in Python floats
        sums, kept = [0.0] * n, [0.0] * n
        for g, x in zip(code.tolist(), values.tolist(), strict=True):
            y = x - kept[g]
            t = sums[g] + y
            c = (t - sums[g]) - y
            kept[g] = 0.0 if c != c else c  # an infinite value: pandas keeps no compensation
            sums[g] = t
        return np.array(sums, dtype=float)
    counts = np.bincount(code, minlength=n)
    per = np.zeros(n)
    order = np.argsort(code, kind="stable")
    code, values = code[order], values[order]
    rank = np.arange(len(code)) - (np.cumsum(counts) - counts)[code]
    compensation = np.zeros(n)
    with np.errstate(invalid="ignore"):
        for r in range(int(counts.max()) if len(code) else 0):
            at = rank == r
            group = code[at]
            y = values[at] - compensation[group]
            t = per[group] + y
            c = (t - per[group]) - y
            c[np.isnan(c)] = 0.0  # an infinite value: pandas keeps no compensation
            compensation[group] = c
            per[group] = t
    return per


def group_sum(keys: Any, values: Any, ids: pd.Index) -> np.ndarray:
    """``pd.Series(values).groupby(keys).sum().reindex(ids).fillna(0.0)`` (str ``keys``)."""
    return Grouping(keys, ids).sum(values)


def missing_columns(frame: pd.DataFrame, wanted: tuple[str, ...], file: str,
                    out: list[Violation]) -> bool:
    """True (and a ``table`` violation) if ``frame`` lacks any of the ``wanted`` columns."""
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        out.append(Violation("table", file, float(len(missing)),
                             f"{file}: missing column(s) {', '.join(missing)}; cannot check "
                             "the solution"))
    return bool(missing)
