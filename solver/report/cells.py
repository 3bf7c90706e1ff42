"""Text cells that a spreadsheet would run as a formula, written as text instead.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return) as a formula: an id such as ``-2-3`` shows as -5, and a crafted name
could call out of the sheet (CSV injection). Output CSV files therefore carry such a text
cell with a leading apostrophe, the mark spreadsheets read as "this is text"; readers of
run folders (the checker, ``compare``, ``report``) take it off again with :func:`plain_text`.
Workbooks store such cells as text cells instead (:mod:`solver.report.xlsx`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: What a spreadsheet takes as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The mark before such a text in a CSV cell.
TEXT_MARK = "'"


def runs_as_formula(value: Any) -> bool:
    """Whether ``value`` is text that a spreadsheet would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_text(value: Any) -> Any:
    """``value``, with :data:`TEXT_MARK` before it if it would run as a formula."""
    return TEXT_MARK + value if runs_as_formula(value) else value


def plain_text(value: Any) -> Any:
    """The inverse of :func:`safe_text`: the text without its mark."""
    if isinstance(value, str) and value.startswith(TEXT_MARK) and \
            value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _text_columns(frame: pd.DataFrame) -> list[Any]:
    return [c for c, dtype in frame.dtypes.items()
            if (isinstance(dtype, np.dtype) and dtype.kind == "O")
            or isinstance(dtype, pd.StringDtype)]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that would run as a formula marked (a copy if any)."""
    cols = [c for c in _text_columns(frame)
            if any(map(runs_as_formula, frame[c].to_numpy(dtype=object)))]
    if not cols:
        return frame
    out = frame.copy()
    for c in cols:
        out[c] = out[c].map(safe_text, na_action="ignore")
    return out


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` read from a CSV output, with the marks of :func:`safe_frame` taken off."""
    cols = [c for c in _text_columns(frame)
            if frame[c].astype(str).str.startswith(TEXT_MARK).any()]
    if not cols:
        return frame
    out = frame.copy()
    for c in cols:
        out[c] = out[c].map(plain_text, na_action="ignore")
    return out
