"""Output tables as one workbook (``--format xlsx``).

A sheet per table, the header row bold and frozen, numbers as numbers, true/false as
booleans, empty for a missing number; a text cell that a spreadsheet would run as a formula
(``-2-3``, ``=cmd``) is stored as a text cell, never as a formula. The workbook is written
to a temporary file and renamed, so it appears complete or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.report.cells import runs_as_formula
from solver.report.writing import write_file

#: Excel's last row; a longer table is cut there, with a note in its last row.
MAX_ROWS = 1_048_576

#: Widest column, in characters.
MAX_WIDTH = 40


def write_workbook(path: str | Path, tables: Mapping[str, pd.DataFrame],
                   summary: Mapping[str, Any] | None = None) -> Path:
    """Write ``tables`` (sheet name -> frame) to the workbook ``path``; return the path.

    With ``summary`` (a run's ``summary.json`` content) a first sheet ``summary`` lists its
    entries, nested keys joined with a dot (``costs.fixed``).
    """
    import openpyxl
    from openpyxl.styles import Font

    path = Path(path)
    wb = openpyxl.Workbook()
    wb.remove(wb.worksheets[0])
    bold = Font(bold=True)
    if summary is not None:
        rows = [{"key": k, "value": v} for k, v in _flatten(summary)]
        _sheet(wb, "summary", pd.DataFrame(rows, columns=["key", "value"]), bold)
    for name, frame in tables.items():
        _sheet(wb, name[:31], frame, bold)
    return write_file(path, wb.save)


def _sheet(wb: Any, name: str, frame: pd.DataFrame, bold: Any) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = bold
    widths = [len(str(c)) for c in frame.columns]
    body = frame.head(MAX_ROWS - 2)
    for r, row in enumerate(body.itertuples(index=False, name=None), start=2):
        for j, value in enumerate(row):
            plain = cell_value(value)
            cell = ws.cell(row=r, column=j + 1, value=plain)
            if isinstance(plain, str):
                if runs_as_formula(plain):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                widths[j] = max(widths[j], len(plain))
            elif isinstance(plain, float):
                widths[j] = max(widths[j], 12)
    if len(frame) > len(body):
        ws.cell(row=MAX_ROWS, column=1,
                value=f"... {len(frame) - len(body)} more rows in the CSV file")
    ws.freeze_panes = "A2"
    for j, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(j + 1)].width = min(width + 2, MAX_WIDTH)


def cell_value(value: Any) -> Any:
    """A table's value as a workbook cell takes it (None for a missing number)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, int | str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, f"{name}."))
        else:
            out.append((name, value))
    return out
