"""Read a case from one ``.xlsx`` workbook: a sheet per table (README: the planner's desk).

The reader is openpyxl: it is the workbook library the Python world keeps up (it also writes
the ``--format xlsx`` outputs, so the project needs one library for both ways), and unlike a
values-only reader it shows what a planner's workbook may hide: a formula behind a value, a
merged cell, a date that Excel made of an entry. Each sheet is turned into text cells and
typed by :func:`solver.case.tables.frame_from_cells`, exactly as a CSV file is, so a case
gives the same tables from either form. Problems name the sheet, the row and the column
(with its letter) as CSV problems name the file, line and column.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.files import FileRefused, read_capped
from solver.case.schema import TABLES, columns
from solver.case.tables import MAX_FILE_BYTES, MAX_PROBLEMS_PER_FAULT, cut, frame_from_cells
from solver.case.workbook_limits import MAX_CELLS, Extent, WorkbookTooLarge, workbook_limits
from solver.errors import Problem
from solver.report.writing import write_file

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class SheetProblem(Problem):
    """A problem in a workbook: ``file`` is the workbook, ``line`` the sheet's row number."""

    sheet: str = ""
    letter: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"sheet {self.sheet}")
        if self.line is not None:
            where.append(f"row {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}" + (f" ({self.letter})" if self.letter else ""))
        value = f" {self.value!r}:" if self.value is not None else ""
        return f"{', '.join(where)}:{value} {_sheet_words(self.message)}"


def _sheet_words(message: str) -> str:
    """A CSV reader's message in a sheet's words (lines are rows, the file is the sheet)."""
    for csv_word, sheet_word in (("more lines", "more rows"), ("on line", "in row"),
                                 ("the file is empty", "the sheet is empty"),
                                 ("the first line is empty", "row 1 is empty"),
                                 (" (a trailing comma?)", "")):
        message = message.replace(csv_word, sheet_word)
    return message


def is_workbook(path: Path) -> bool:
    """Whether ``path`` names a workbook file (by its suffix)."""
    return path.suffix.lower() in WORKBOOK_SUFFIXES or path.suffix.lower() == ".xls"


@dataclass
class Book:
    """The tables read from a workbook, the problems found, and how to name them."""

    name: str
    frames: dict[str, pd.DataFrame | None]
    problems: list[Problem]
    digest: str
    sheets: dict[str, str] = field(default_factory=dict)
    """Table -> the sheet's name as written in the workbook."""
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    """Table -> column name -> its column letter in the sheet."""

    def relabel(self, problems: list[Problem]) -> list[Problem]:
        """``problems`` with every one about a table's CSV file named by sheet and row."""
        by_file = {TABLES[t].filename: t for t in TABLES}
        out: list[Problem] = []
        for p in problems:
            table = by_file.get(p.file)
            if table is None or isinstance(p, SheetProblem):
                out.append(p)
                continue
            letter = self.letters.get(table, {}).get(p.column or "")
            out.append(SheetProblem(self.name, p.message, line=p.line, column=p.column,
                                    value=p.value, sheet=self.sheets.get(table, table),
                                    letter=letter))
        return out


def read_workbook(path: Path) -> Book:
    """Read every table of the workbook ``path``; problems already named by sheet and row."""
    name = path.name
    book = Book(name=name, frames=dict.fromkeys(TABLES), problems=[], digest="")
    if path.suffix.lower() == ".xls":
        book.problems.append(SheetProblem(name, "an Excel 97-2003 workbook (.xls); save it "
                                                "as an Excel workbook (.xlsx)"))
        return book
    try:
        raw = read_capped(path, MAX_FILE_BYTES, "a case workbook")
    except FileRefused as exc:
        book.problems.append(SheetProblem(name, f"the file {exc}"))
        return book
    except OSError as exc:
        book.problems.append(SheetProblem(name, f"cannot read the file: {exc.strerror or exc}"))
        return book
    book.digest = hashlib.sha256(b"xlsx\0" + raw).hexdigest()
    opened = _open(raw, name, book.problems)
    if opened is None:
        return book
    wb, extents = opened
    seen: dict[str, str] = {}
    for ws in wb.worksheets:
        title = ws.title
        table = title.strip()
        if table.endswith(".csv"):
            table = table[:-4]
        if table not in TABLES:
            hint = difflib.get_close_matches(table.lower(), list(TABLES), n=1)
            book.problems.append(SheetProblem(
                name, "not a case table" + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (sheets: {', '.join(TABLES)})", sheet=title))
            continue
        if table in seen:
            book.problems.append(SheetProblem(name, f"a second sheet for table {table!r} "
                                                    f"(the first is {seen[table]!r})",
                                              sheet=title))
            continue
        seen[table] = title
        book.sheets[table] = title
        frame, found, letters = _read_sheet(ws, table, extents.get(title))
        book.frames[table] = frame
        book.letters[table] = letters
        book.problems.extend(found)
    for chart in getattr(wb, "chartsheets", []):
        book.problems.append(SheetProblem(name, "a chart sheet is not a case table; move the "
                                                "chart to another workbook", sheet=chart.title))
    for table, spec in TABLES.items():
        if spec.required and table not in seen:
            book.problems.append(SheetProblem(
                name, f"required sheet {table!r} is missing (sheets found: "
                      f"{', '.join(repr(s.title) for s in wb.worksheets) or 'none'})"))
    book.problems = book.relabel(book.problems)
    return book


def _open(raw: bytes, name: str,
          problems: list[Problem]) -> tuple[Any, dict[str, Extent]] | None:
    """The openpyxl workbook of ``raw`` and its sheets' value extents, or None with a problem.

    Formulas are kept as formulas; extents are :mod:`solver.case.workbook_limits`'s. A
    workbook beyond the bounds is refused before openpyxl reads it; a damaged one (a cut XML
    part, a shared string that is not there, a part openpyxl cannot make sense of) is a
    problem naming the workbook, whatever openpyxl raises for it.
    """
    import openpyxl

    if not raw.startswith(b"PK\x03\x04"):
        hint = " (it looks like CSV text: give a case folder of .csv files)" \
            if raw[:200].count(b",") >= 2 else ""
        problems.append(SheetProblem(name, f"not an .xlsx workbook{hint}"))
        return None
    try:
        extents = workbook_limits(raw)
        with warnings.catch_warnings():
            # openpyxl warns of workbook features it does not keep (data validation, ...);
            # they carry nothing a case needs.
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(raw), data_only=False, read_only=False)
    except WorkbookTooLarge as exc:
        problems.append(SheetProblem(name, f"the workbook {exc}"))
        return None
    except MemoryError:
        problems.append(SheetProblem(name, "the workbook is too large to read in the memory "
                                           "available; give the tables as CSV files"))
        return None
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        problems.append(SheetProblem(name, "cannot read the workbook (damaged or not saved by "
                                           f"a spreadsheet program): {type(exc).__name__}"
                                           + (f": {detail}" if detail else "")))
        return None
    return wb, extents


def _read_sheet(ws: Any, table: str, extent: Extent | None
                ) -> tuple[pd.DataFrame | None, list[Problem], dict[str, str]]:
    """One sheet as the typed table; problems named by the table's CSV file, for relabel.

    Only the ``extent`` of the cells that hold values is read (a formatted blank cell far
    away is not data); without one, the sheet's own dimension.
    """
    from openpyxl.utils import get_column_letter

    spec = TABLES[table]
    fname = spec.filename
    problems: list[Problem] = []
    if extent is None:
        extent = Extent(rows=ws.max_row, columns=ws.max_column)
        if extent.rows * extent.columns > MAX_CELLS:
            return None, [Problem(fname, f"the sheet spans {extent.rows:,} rows and "
                                         f"{extent.columns:,} columns, more than the "
                                         f"{MAX_CELLS:,} cells a case sheet may have")], {}
    grid = [list(row) for row in ws.iter_rows(min_row=1, max_row=extent.rows, min_col=1,
                                             max_col=extent.columns)] if extent.rows else []
    n_rows = max((i + 1 for i, row in enumerate(grid) if any(_filled(c) for c in row)),
                 default=0)
    n_cols = max((j + 1 for row in grid[:n_rows] for j, c in enumerate(row) if _filled(c)),
                 default=0)
    if n_rows == 0:
        return None, [Problem(fname, "the sheet is empty: it needs a header row and data rows")], {}
    grid = [row[:n_cols] + [None] * (n_cols - len(row)) for row in grid[:n_rows]]
    merged_header: set[int] = set()
    for merged in ws.merged_cells.ranges:
        if merged.min_row > n_rows or merged.min_col > n_cols:
            continue
        where = "header" if merged.min_row == 1 else "data"
        if merged.min_row == 1:
            merged_header.update(range(merged.min_col, merged.max_col + 1))
        problems.append(Problem(fname, f"merged {where} cells {merged.coord}: unmerge them; "
                                       "every cell needs its own value", line=merged.min_row))
    # A column with neither a header nor data is a spacer; it is left out.
    used = [j for j in range(n_cols) if any(_filled(row[j]) for row in grid)]
    grid = [[row[j] for j in used] for row in grid]
    header: list[str] = []
    letters: dict[str, str] = {}
    for j, cell in zip(used, grid[0], strict=True):
        letter = get_column_letter(j + 1)
        text = "" if cell is None or cell.value is None else str(cell.value).strip()
        if cell is not None and _is_formula(cell):
            problems.append(Problem(fname, f"header cell {letter}1 is a formula; type the "
                                           "column's name", line=1, value=cut(str(cell.value))))
            text = ""
        elif not text and j + 1 not in merged_header:
            problems.append(Problem(fname, f"header cell {letter}1 is empty but column "
                                           f"{letter} holds data: name the column", line=1))
        header.append(text)
        letters.setdefault(text, letter)
    if problems:
        return None, problems, letters
    cols = columns(spec.row)
    texts = [header]
    faults: dict[str, int] = {}
    for i, row in enumerate(grid[1:], start=2):
        out = []
        for j, cell in enumerate(row):
            text, fault = _cell_text(cell, cols.get(header[j]))
            if fault:
                faults[fault] = faults.get(fault, 0) + 1
                if faults[fault] <= MAX_PROBLEMS_PER_FAULT:
                    problems.append(Problem(fname, fault, line=i, column=header[j],
                                            value=cut(str(cell.value))))
            out.append(text)
        texts.append(out)
    for fault, n in faults.items():
        if n > MAX_PROBLEMS_PER_FAULT:
            problems.append(Problem(fname, f"... and {n - MAX_PROBLEMS_PER_FAULT} more cells "
                                           f"with the same problem: {fault}"))
    raw = pd.DataFrame(texts, dtype=object)
    frame, found = frame_from_cells(raw, np.arange(1, len(texts) + 1), spec)
    return frame, problems + found, letters


def _filled(cell: Any) -> bool:
    return cell is not None and cell.value is not None and str(cell.value).strip() != ""


def _is_formula(cell: Any) -> bool:
    return cell.data_type == "f" or type(cell.value).__name__ in ("ArrayFormula",
                                                                   "DataTableFormula")


def _cell_text(cell: Any, col: Any) -> tuple[str, str | None]:
    """A cell as the text a CSV file would hold, and the fault that stops it, if any.

    A faulty cell becomes empty text, so that the rest of the sheet is still checked (the
    fault is reported; an empty required cell is not reported a second time).
    """
    value = None if cell is None else cell.value
    if value is None:
        return "", None
    if _is_formula(cell):
        return "", ("a formula; the case needs its value: copy the column and paste it as "
                    "values (Paste Special > Values)")
    if cell.data_type == "e":
        return "", f"an error value {value}: the cell holds no value"
    kind = col.kind if col is not None else "text"
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        what = {"float": "a number", "int": "a whole number", "bool": "true or false",
                "id": "an id", "text": "text"}.get(kind, "a value")
        return "", (f"a date or time where {what} belongs (Excel may have read the entry as "
                    "a date: format the cells as Text or Number and type it again)")
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value), None
        if kind in ("id", "text") and value.is_integer():
            return str(int(value)), None
        return repr(value), None
    if isinstance(value, int):
        return str(value), None
    return str(value), None


def write_case_workbook(frames: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write case tables (``{"partners": frame, ...}``) as a case workbook, a sheet each.

    Empty cells (NaN, None, "") stay empty, so a column's default applies as in a CSV
    file; numbers are written as numbers. Used to turn a case folder into a workbook.
    """
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.worksheets[0])
    for table, frame in frames.items():
        ws = wb.create_sheet(table)
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([_plain(v) for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # an id such as '-2-3' is text, not a formula
    return write_file(Path(path), wb.save)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def case_folder_to_workbook(folder: str | Path, path: str | Path) -> Path:
    """Write the CSV files of a case folder as one workbook, cell text as in the files.

    Numbers become numbers and true/false stays text, as a planner would type them.
    ``folder`` and ``path`` may be ``str`` or :class:`~pathlib.Path`; returns the path.
    """
    frames = {}
    for table, spec in TABLES.items():
        file = Path(folder) / spec.filename
        if file.exists():
            frame = pd.read_csv(file, dtype=str, keep_default_na=False)
            frames[table] = frame.map(_number_or_text)
    return write_case_workbook(frames, path)


def _number_or_text(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in \
        text.lower() else number


__all__ = ["Book", "SheetProblem", "case_folder_to_workbook", "is_workbook", "read_workbook",
           "write_case_workbook"]
