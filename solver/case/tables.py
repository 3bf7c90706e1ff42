"""Read one case CSV file against its row model, collecting every problem.

Reading is vectorised (pandas over whole columns): the row models of :mod:`solver.case.schema`
say what each column is, and this module applies that description to all rows at once.
Each problem names the file, the line (header = line 1), the column and the value.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.files import FileRefused, read_capped
from solver.case.schema import ID_PATTERN, SAME_AS_KEY, ColumnSpec, TableSpec, columns
from solver.errors import Problem

#: Refuse files larger than this before reading them (a case file is a table, not a dump).
MAX_FILE_BYTES = 1024**3

#: At most this many problems are listed for one column and one kind of fault; the rest
#: are counted in one closing line (a file with a million bad cells needs one fix, not a
#: million lines of output).
MAX_PROBLEMS_PER_FAULT = 100

#: Values longer than this are cut in messages.
MAX_VALUE_CHARS = 60

TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}
NAN_WORDS = {"nan", "-nan", "+nan"}

#: The largest whole number an int column takes (beyond it a float loses integer precision).
MAX_INT = 2**53

#: pandas 3 copies a frame's data only once one of its copies is written (copy-on-write): a
#: case made by overrides needs no deep copy of the tables it leaves alone.
COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

#: The largest magnitude a number in a case may have. Case numbers become coefficients of
#: the model, and HiGHS refuses matrix values of 1e15 and more (it drops the rows holding
#: them and solves what is left); products such as ``min_supplier_share * demand`` must stay
#: below that too.
MAX_NUMBER = 1e12
TOO_LARGE = "too large: at most 1e12; use a larger unit (thousands, millions)"

LINE = "_line"
"""Column added to every table read from a file: the line number of the row."""


def read_table(path: Path, spec: TableSpec,
               digest: Any = None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read ``path`` as the table ``spec``; return the typed frame and the problems found.

    The frame has one column per field of the row model, defaults filled in, plus
    :data:`LINE`. It is ``None`` when the file cannot be read as a table at all.
    ``digest`` (a ``hashlib`` hash) is fed the file's name and the bytes read, so that the
    case's fingerprint is of what was read, without reading the file again.
    """
    fname = spec.filename
    try:
        raw = read_capped(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        return None, [Problem(fname, f"the file {exc}")]
    except OSError as exc:
        return None, [Problem(fname, f"cannot read the file: {exc.strerror or exc}")]
    if digest is not None:
        digest.update(fname.encode() + b"\0" + raw + b"\0")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(fname, "the file is UTF-16 text; save it as UTF-8 (in Excel: "
                                     "CSV UTF-8)")]
    if raw.startswith(b"PK\x03\x04"):
        return None, [Problem(fname, "the file is a zip archive (an Excel workbook?), not CSV "
                                     "text; export it as CSV UTF-8")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(fname, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                                     f"{exc.start}); save the file as UTF-8", line=line)]
    if "\x00" in text:
        return None, [Problem(fname, "contains NUL bytes: not a CSV text file")]
    try:
        return parse_table(text, spec)
    except MemoryError:
        return None, [Problem(fname, "the file is too large to read in the memory available")]


def parse_table(text: str, spec: TableSpec) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Parse CSV ``text`` as the table ``spec`` (see :func:`read_table`)."""
    fname = spec.filename
    cols = columns(spec.row)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return None, [Problem(fname, "the file is empty: it needs a header row and data rows")]
    if not text.partition("\n")[0].strip():
        return None, [Problem(fname, "the first line is empty: it must be the header row "
                                     f"({', '.join(cols)})", line=1)]
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            header=None,
            index_col=False,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        line, message = _parser_message(exc)
        return None, [Problem(fname, message, line=line)]

    lines, widths = _records(text, len(raw))
    return frame_from_cells(raw, lines, spec, widths)


def frame_from_cells(
    raw: pd.DataFrame, lines: np.ndarray, spec: TableSpec, widths: np.ndarray | None = None
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Type the cells of a table read as text: row 0 the header, ``lines[i]`` row i's line.

    ``widths[i]`` is how many cells row i has (a CSV row may be cut short: a mistake); without
    it every row is as wide as the header (a sheet's missing cell is an empty one).

    The common part of reading a CSV file and a workbook sheet (:mod:`solver.case.workbook`):
    every cell a string, empty for an empty cell. Problems name ``spec.filename``.
    """
    fname = spec.filename
    cols = columns(spec.row)
    header = [str(c).strip() for c in raw.iloc[0]]
    problems = _check_header(header, cols, fname)
    if problems:
        return None, problems

    if widths is None:
        widths = np.full(len(raw), len(header))
    data = raw.iloc[1:]
    data.columns = pd.Index(header)
    cells = data[[c for c in cols if c in header]].apply(lambda s: s.str.strip())
    blank = (cells == "").all(axis=1).to_numpy()
    cells = cells[~blank]
    line_numbers = pd.Series(lines[1:][~blank], index=cells.index)
    if cells.empty and spec.required:
        return None, [Problem(fname, "the table has a header but no data rows")]
    # pandas pads a short row with empty cells; an empty cell takes the default, a missing
    # one is a mistake (a row shifted or cut), so the reader counts the cells itself.
    row_widths = pd.Series(widths[1:][~blank], index=cells.index)
    problems.extend(_short_rows(row_widths, line_numbers, len(header), fname))

    out = pd.DataFrame(index=cells.index)
    for name, col in cols.items():
        if name in cells:
            absent = row_widths <= header.index(name)
            values, col_problems = _convert(cells[name], line_numbers, col, fname, absent)
            problems.extend(col_problems)
            out[name] = values
        else:
            out[name] = _default_column(col, len(cells), cells.index)
    key0 = spec.key[0]
    for name, col in cols.items():
        if col.default == SAME_AS_KEY:
            out[name] = out[name].where(out[name] != "", out[key0])
    out[LINE] = line_numbers.to_numpy()
    problems.extend(_duplicate_keys(out, spec))
    return out.reset_index(drop=True), problems


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF = re.compile(r"EOF inside string starting at row (\d+)")


def _parser_message(exc: Exception) -> tuple[int | None, str]:
    """The line and a plain message for a CSV parser error."""
    text = str(exc)
    match = _FIELDS.search(text)
    if match:
        want, line, saw = (int(g) for g in match.groups())
        return line, (f"this row has {saw} cells but the header has {want}; quote a cell "
                      "that contains a comma")
    match = _EOF.search(text)
    if match:
        return int(match[1]) + 1, "a quoted cell is never closed (a '\"' is missing)"
    return None, f"not a valid CSV table: {_short(exc)}"


def _check_header(header: list[str], cols: dict[str, ColumnSpec], fname: str) -> list[Problem]:
    """Problems of the header row: empty, duplicate, unknown and missing columns."""
    problems: list[Problem] = []
    if not any(header):
        return [Problem(fname, "the first line is empty: it must be the header row "
                               f"({', '.join(cols)})", line=1)]
    if len(header) == 1 and header[0] not in cols:
        for sep, word in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
            if sep in header[0]:
                return [Problem(fname, f"the header is a single cell: separate columns with "
                                       f"commas, not {word}", line=1, value=cut(header[0]))]
    seen: set[str] = set()
    for i, name in enumerate(header):
        if not name:
            problems.append(Problem(fname, f"header cell {i + 1} is empty (a trailing comma?)",
                                    line=1))
        elif name in seen:
            problems.append(Problem(fname, "column appears more than once", line=1, column=name))
        elif name not in cols:
            hint = difflib.get_close_matches(name, list(cols), n=1)
            if not hint:
                hint = [c for c in cols if c.lower() == name.lower()]
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(Problem(
                fname, f"unknown column{extra} (columns: {', '.join(cols)})",
                line=1, column=cut(name)))
        seen.add(name)
    for name, col in cols.items():
        if col.required and name not in header:
            problems.append(Problem(fname, "required column is missing", line=1, column=name))
    return problems


def _records(text: str, n_records: int) -> tuple[np.ndarray, np.ndarray]:
    """The line on which each CSV record starts (1 = the header) and its number of cells.

    Records and lines differ only when a quoted cell holds a line break.
    """
    if '"' not in text and text.count("\r") == text.count("\r\n"):
        pieces = text.split("\n")
        if text.endswith("\n"):
            pieces.pop()
        if len(pieces) == n_records:
            return (np.arange(1, n_records + 1),
                    np.fromiter((p.count(",") + 1 for p in pieces), dtype=np.int64,
                                count=n_records))
    starts: list[int] = []
    widths: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    previous = 0
    try:
        for row in reader:
            starts.append(previous + 1)
            widths.append(max(len(row), 1))
            previous = reader.line_num
    except csv.Error:
        starts = []
    if len(starts) != n_records:
        # The two readers disagree on where records end: no line numbers to trust, and no
        # cell count either, so no row is called short.
        return np.arange(1, n_records + 1), np.full(n_records, np.iinfo(np.int64).max)
    return np.asarray(starts), np.asarray(widths)


def _short_rows(widths: pd.Series, lines: pd.Series, want: int, fname: str) -> list[Problem]:
    """One problem per data row with fewer cells than the header."""
    short = widths < want
    problems = [
        Problem(fname, f"this row has {width} {'cell' if width == 1 else 'cells'} but the "
                       f"header has {want}; a missing cell is not taken as empty: write every "
                       "comma (an empty cell between two commas takes the default)",
                line=int(line))
        for width, line in zip(widths[short][:MAX_PROBLEMS_PER_FAULT],
                               lines[short][:MAX_PROBLEMS_PER_FAULT], strict=True)]
    n_short = int(short.sum())
    if n_short > MAX_PROBLEMS_PER_FAULT:
        problems.append(Problem(fname, f"... and {n_short - MAX_PROBLEMS_PER_FAULT} more rows "
                                       f"with fewer cells than the header's {want}"))
    return problems


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text.replace("Error tokenizing data. ", "").replace("C error: ", "")


def cut(value: str) -> str:
    """``value``, cut to :data:`MAX_VALUE_CHARS` for a message."""
    if len(value) <= MAX_VALUE_CHARS:
        return value
    return value[: MAX_VALUE_CHARS - 3] + "..."


def _default_column(col: ColumnSpec, n: int, index: pd.Index) -> pd.Series:
    if col.default == SAME_AS_KEY:
        return pd.Series([""] * n, index=index, dtype=object)
    if col.kind in ("float", "int"):
        fill = np.nan if col.default is None else col.default
        # An optional whole number keeps its empty cells as NaN (a float column).
        dtype = float if col.kind == "float" or col.default is None else np.int64
        return pd.Series(np.full(n, fill, dtype=dtype), index=index)
    return pd.Series([col.default] * n, index=index, dtype=object)


def _convert(
    cells: pd.Series, lines: pd.Series, col: ColumnSpec, fname: str, absent: pd.Series
) -> tuple[pd.Series, list[Problem]]:
    """Convert one column of stripped strings to its type; report every bad cell.

    ``absent`` marks the cells of rows too short to reach this column: their row is
    already reported, so a missing required value is not reported again.
    """
    problems: list[Problem] = []

    def bad(mask: pd.Series, message: str) -> None:
        mask = mask.fillna(False).astype(bool)
        n_bad = int(mask.sum())
        if not n_bad:
            return
        for line, value in zip(lines[mask][:MAX_PROBLEMS_PER_FAULT],
                               cells[mask][:MAX_PROBLEMS_PER_FAULT], strict=True):
            problems.append(Problem(fname, message, line=int(line), column=col.name,
                                    value=cut(str(value))))
        if n_bad > MAX_PROBLEMS_PER_FAULT:
            problems.append(Problem(fname, f"... and {n_bad - MAX_PROBLEMS_PER_FAULT} more "
                                           f"lines with the same problem: {message}",
                                    column=col.name))

    empty = cells == ""
    if col.required:
        bad(empty & ~absent, "a value is required")
    if col.kind in ("id", "text"):
        values = cells.astype(object)
        if col.kind == "id":
            bad(~empty & ~cells.str.fullmatch(ID_PATTERN[1:-1]),
                "not a valid id (letters, digits, '_', '.', '-' only)")
        elif col.default not in (None, SAME_AS_KEY):
            values = values.where(~empty, col.default)
        return values, problems
    lowered = cells.str.lower()
    if col.kind == "bool":
        known = lowered.isin(TRUE_WORDS | FALSE_WORDS)
        bad(~empty & ~known, "not a true/false value (true/false, yes/no, 1/0)")
        values = lowered.isin(TRUE_WORDS)
        if col.default is not None:
            values = values.where(~empty, bool(col.default))
        return values.astype(bool), problems

    nan_word = lowered.isin(NAN_WORDS)
    numbers = pd.to_numeric(cells.where(~empty & ~nan_word), errors="coerce")
    numbers = numbers.astype(float).fillna(np.nan)
    not_number = ~empty & ~nan_word & numbers.isna()
    bad(not_number, "not a number")
    nonfinite = ~empty & (nan_word | np.isinf(numbers.fillna(0.0)))
    bad(nonfinite, "must be a finite number (NaN and infinity are not allowed)")
    ok = ~empty & ~not_number & ~nonfinite
    if col.kind == "int":
        whole = numbers.fillna(0.0)
        not_whole = ok & (whole != np.floor(whole))
        bad(not_whole, "must be a whole number")
        ok &= ~not_whole
    too_big = ok & (numbers.abs() > MAX_NUMBER)
    bad(too_big, TOO_LARGE)
    ok &= ~too_big
    with np.errstate(invalid="ignore"):
        low_bad = pd.Series(False, index=cells.index)
        if col.lower is not None:
            low_bad = numbers <= col.lower if col.lower_strict else numbers < col.lower
        high_bad = pd.Series(False, index=cells.index)
        if col.upper is not None:
            high_bad = numbers >= col.upper if col.upper_strict else numbers > col.upper
    bad(ok & (low_bad | high_bad), f"out of range: must be {col.range_text()}")
    fill = np.nan if col.default is None else float(col.default)
    numbers = numbers.where(ok, fill)
    if col.kind == "int" and not (col.optional and col.default is None):
        return numbers.fillna(0).round().astype(np.int64), problems
    return numbers, problems


def _duplicate_keys(frame: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    key = list(spec.key)
    dup = frame.duplicated(subset=key, keep="first").to_numpy()
    if not dup.any():
        return []
    first = frame.groupby(key, sort=False)[LINE].transform("first").to_numpy()
    problems = []
    column = key[-1] if len(key) == 1 else ",".join(key)
    for i in np.flatnonzero(dup)[:MAX_PROBLEMS_PER_FAULT]:
        row = frame.iloc[i]
        value = ",".join(str(row[k]) for k in key)
        problems.append(Problem(
            spec.filename, f"duplicate key ({', '.join(key)}); first given on line {first[i]}",
            line=int(row[LINE]), column=column, value=cut(value)))
    if dup.sum() > MAX_PROBLEMS_PER_FAULT:
        problems.append(Problem(spec.filename, f"... and {dup.sum() - MAX_PROBLEMS_PER_FAULT} "
                                               "more duplicate keys", column=column))
    return problems


def check_range(frame: pd.DataFrame, spec: TableSpec, source: str,
                at: Callable[[str, int], Problem | None] | None = None,
                written: Collection[tuple[str, str]] | None = None) -> list[Problem]:
    """Re-check the ranges of the numeric columns of an already-typed ``frame``.

    Used after overrides, where a value did not come from a file line: a problem names
    ``source``, or the place ``at(column, row position)`` gives (the override that wrote it).
    With ``written`` (the ``(table, column)`` pairs overrides wrote in a valid case; column
    ``"*"``: a row added), only the columns written in this table are checked.
    """
    problems: list[Problem] = []
    only = None if written is None else {c for t, c in written if t == spec.table}
    if only is not None and "*" in only:
        only = None
    for name, col in columns(spec.row).items():
        if col.kind not in ("float", "int") or name not in frame:
            continue
        if only is not None and name not in only:
            continue
        values = frame[name].to_numpy(dtype=float)
        present = ~np.isnan(values)
        finite = np.isfinite(values) | ~present
        low = np.zeros(len(values), dtype=bool)
        high = np.zeros(len(values), dtype=bool)
        with np.errstate(invalid="ignore"):
            if col.lower is not None:
                low = values <= col.lower if col.lower_strict else values < col.lower
            if col.upper is not None:
                high = values >= col.upper if col.upper_strict else values > col.upper
        huge = np.abs(np.nan_to_num(values)) > MAX_NUMBER
        bad = np.flatnonzero(~finite | (present & (low | high | huge)))
        for i in bad[:MAX_PROBLEMS_PER_FAULT]:
            key = ",".join(str(frame[k].iloc[i]) for k in spec.key)
            value = values[i]
            text = "must be a finite number" if not math.isfinite(value) else (
                TOO_LARGE if abs(value) > MAX_NUMBER else
                f"out of range: must be {col.range_text()}")
            place = (at(name, int(i)) if at is not None else None) or Problem(source, "")
            problems.append(replace(place, message=f"{spec.table}[{key}].{name} = {value:g}: "
                                                   f"{text}"))
        if len(bad) > MAX_PROBLEMS_PER_FAULT:
            problems.append(Problem(source, f"... and {len(bad) - MAX_PROBLEMS_PER_FAULT} more "
                                            f"rows of {spec.table} with {name} out of range or "
                                            "too large"))
    return problems
