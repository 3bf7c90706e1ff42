"""Read one case CSV file against its row model, collecting every problem.

Reading is vectorised (pandas over whole columns): the row models of :mod:`solver.schema`
say what each column is, and this module applies that description to all rows at once.
Each problem names the file, the line (header = line 1), the column and the value.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from solver.errors import Problem
from solver.schema import ID_PATTERN, SAME_AS_KEY, ColumnSpec, TableSpec, columns

#: Refuse files larger than this before reading them (a case file is a table, not a dump).
MAX_FILE_BYTES = 2 * 1024**3

TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}

LINE = "_line"
"""Column added to every table read from a file: the line number of the row."""


def read_table(path: Path, spec: TableSpec) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read ``path`` as the table ``spec``; return the typed frame and the problems found.

    The frame has one column per field of the row model, defaults filled in, plus
    :data:`LINE`. It is ``None`` when the file cannot be read as a table at all.
    """
    fname = spec.filename
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, [Problem(fname, f"cannot read the file: {exc.strerror}")]
    if size > MAX_FILE_BYTES:
        return None, [Problem(fname, f"file is {size} bytes; the most a case file may be is "
                                     f"{MAX_FILE_BYTES}")]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(fname, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                                     f"{exc.start}); save the file as UTF-8", line=line)]
    if "\x00" in text:
        return None, [Problem(fname, "contains NUL bytes: not a CSV text file")]
    return parse_table(text, spec)


def parse_table(text: str, spec: TableSpec) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Parse CSV ``text`` as the table ``spec`` (see :func:`read_table`)."""
    fname = spec.filename
    cols = columns(spec.row)
    if not text.strip():
        return None, [Problem(fname, "the file is empty: it needs a header row and data rows")]
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        return None, [Problem(fname, f"not a valid CSV table: {_short(exc)}")]

    problems: list[Problem] = []
    header = [str(c).strip() for c in frame.columns]
    frame.columns = pd.Index(header)
    for i, name in enumerate(header):
        if name.startswith("Unnamed: ") or not name:
            problems.append(Problem(fname, f"header cell {i + 1} is empty", line=1))
        elif header.count(name) > 1 and header.index(name) == i:
            problems.append(Problem(fname, "column appears more than once", line=1, column=name))
        elif name not in cols:
            hint = difflib.get_close_matches(name, list(cols), n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(Problem(
                fname, f"unknown column{extra} (columns: {', '.join(cols)})",
                line=1, column=name))
    for name, col in cols.items():
        if col.required and name not in header:
            problems.append(Problem(fname, "required column is missing", line=1, column=name))
    if problems:
        return None, problems

    frame[LINE] = np.arange(2, len(frame) + 2)
    cells = frame[list(cols.keys() & set(header))].apply(lambda s: s.str.strip())
    blank = (cells == "").all(axis=1)
    frame, cells = frame[~blank], cells[~blank]
    if frame.empty:
        return None, [Problem(fname, "the table has a header but no data rows")]

    out = pd.DataFrame(index=frame.index)
    for name, col in cols.items():
        if name in cells:
            values, col_problems = _convert(cells[name], frame[LINE], col, fname)
            problems.extend(col_problems)
            out[name] = values
        else:
            out[name] = _default_column(col, len(frame))
    key0 = spec.key[0]
    for name, col in cols.items():
        if col.default == SAME_AS_KEY:
            out[name] = out[name].where(out[name] != "", out[key0])
    out[LINE] = frame[LINE].to_numpy()
    problems.extend(_duplicate_keys(out, spec))
    return out.reset_index(drop=True), problems


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text.replace("C error: ", "")


def _default_column(col: ColumnSpec, n: int) -> pd.Series:
    if col.default == SAME_AS_KEY:
        return pd.Series([""] * n, dtype=object)
    if col.kind in ("float", "int"):
        fill = np.nan if col.default is None else col.default
        return pd.Series(np.full(n, fill, dtype=float if col.kind == "float" else type(fill)))
    return pd.Series([col.default] * n, dtype=object)


def _convert(
    cells: pd.Series, lines: pd.Series, col: ColumnSpec, fname: str
) -> tuple[pd.Series, list[Problem]]:
    """Convert one column of stripped strings to its type; report every bad cell."""
    problems: list[Problem] = []

    def bad(mask: pd.Series, message: str) -> None:
        for line, value in zip(lines[mask], cells[mask], strict=True):
            problems.append(Problem(fname, message, line=int(line), column=col.name,
                                    value=value))

    empty = cells == ""
    if col.required:
        bad(empty, "a value is required")
    if col.kind in ("id", "text"):
        values = cells.astype(object)
        if col.kind == "id":
            bad(~empty & ~cells.str.fullmatch(ID_PATTERN[1:-1]),
                "not a valid id (letters, digits, '_', '.', '-' only)")
        elif col.default not in (None, SAME_AS_KEY):
            values = values.where(~empty, col.default)
        return values, problems
    if col.kind == "bool":
        low = cells.str.lower()
        known = low.isin(TRUE_WORDS | FALSE_WORDS)
        bad(~empty & ~known, "not a true/false value (true/false, yes/no, 1/0)")
        values = low.isin(TRUE_WORDS)
        if col.default is not None:
            values = values.where(~empty, bool(col.default))
        return values.astype(bool), problems

    numbers = pd.to_numeric(cells.where(~empty), errors="coerce").astype(float)
    not_number = ~empty & numbers.isna() & ~cells.str.lower().isin({"nan", "-nan", "+nan"})
    bad(not_number, "not a number")
    nan_text = ~empty & ~not_number & ~np.isfinite(numbers.fillna(0.0)) | (
        ~empty & ~not_number & numbers.isna())
    bad(nan_text, "must be a finite number (NaN and infinity are not allowed)")
    ok = ~empty & ~not_number & ~nan_text
    if col.kind == "int":
        bad(ok & (numbers != np.floor(numbers.fillna(0.0))), "must be a whole number")
    low_bad = pd.Series(False, index=cells.index)
    if col.lower is not None:
        low_bad = numbers <= col.lower if col.lower_strict else numbers < col.lower
    high_bad = pd.Series(False, index=cells.index)
    if col.upper is not None:
        high_bad = numbers >= col.upper if col.upper_strict else numbers > col.upper
    bad(ok & (low_bad | high_bad), f"out of range: must be {col.range_text()}")
    fill = np.nan if col.default is None else float(col.default)
    numbers = numbers.where(ok, fill)
    if col.kind == "int":
        return numbers.fillna(0).round().astype(np.int64), problems
    return numbers, problems


def _duplicate_keys(frame: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    key = list(spec.key)
    dup = frame.duplicated(subset=key, keep="first")
    problems = []
    for _, row in frame[dup].iterrows():
        first = frame[(frame[key] == row[key]).all(axis=1)][LINE].iloc[0]
        value = ",".join(str(row[k]) for k in key)
        problems.append(Problem(
            spec.filename, f"duplicate key ({', '.join(key)}); first given on line {first}",
            line=int(row[LINE]), column=key[-1] if len(key) == 1 else ",".join(key),
            value=value))
    return problems


def check_range(frame: pd.DataFrame, spec: TableSpec, source: str) -> list[Problem]:
    """Re-check the ranges of the numeric columns of an already-typed ``frame``.

    Used after overrides, where a value did not come from a file line.
    """
    problems = []
    for name, col in columns(spec.row).items():
        if col.kind not in ("float", "int") or name not in frame:
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
        for i in np.flatnonzero(~finite | (present & (low | high))):
            key = ",".join(str(frame[k].iloc[i]) for k in spec.key)
            value = values[i]
            text = "must be a finite number" if not math.isfinite(value) else (
                f"out of range: must be {col.range_text()}")
            problems.append(Problem(source, f"{spec.table}[{key}].{name} = {value:g}: {text}"))
    return problems
