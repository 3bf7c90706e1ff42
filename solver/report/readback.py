"""The one reader of the CSV tables the tool writes and reads back: ids stay ids.

pandas reads ``NA``, ``None``, ``null``, ``nan`` (and a dozen other words) as a missing value
unless told otherwise, and an id of digits (``001``) as a number. A partner named ``NA``
(Namibia) would then vanish from a run folder read back: the report crashes, a sweep's
allocations lose the partner, a stress test of a written design misses its capacity. Every
run, sweep and study table is therefore read by :func:`read_csv`, which

* takes only an empty cell as missing (a word is a word);
* keeps the id columns (:data:`ID_COLUMNS`, and any the caller names) as text;
* takes off the mark :func:`solver.report.cells.safe_frame` put before a text cell that a
  spreadsheet would run as a formula;
* turns a malformed file into a :class:`~solver.errors.UsageError` naming the file (and the
  columns missing from it), never a parser's traceback.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from solver.errors import UsageError
from solver.report.cells import plain_frame

#: Columns that hold ids (or ids joined by ``+``) in the tables the tool writes.
ID_COLUMNS = frozenset({
    "partner", "layer", "member", "exporter", "importer", "scenario", "worst_layer", "lost",
    "player", "players", "members", "group", "bloc", "plan", "input", "source", "market",
    "period", "name", "largest_source", "largest_supplier", "key", "entity",
})


def read_csv(path: str | Path, *, ids: Iterable[str] = (), text: bool = False,
             required: Iterable[str] = (), numeric: Iterable[str] = (),
             label: str | None = None) -> pd.DataFrame:
    """The CSV table at ``path``: ids as text, numbers as numbers, only an empty cell missing.

    ``ids`` adds id columns to :data:`ID_COLUMNS`; ``text=True`` keeps every cell as text
    (an empty cell as ``""``), for a reader that types and checks each cell itself.
    ``required`` names columns the caller needs; ``numeric`` columns (those present) must
    hold numbers or be empty. A file of zero bytes is an empty table. ``label`` names the
    file in messages (default: the path).

    Raises :class:`~solver.errors.UsageError` for a file that is not a CSV table (not UTF-8,
    unbalanced quotes, ragged rows), that lacks a required column or has a word where a
    number belongs (naming its line and column); :class:`OSError` for a file that cannot be
    opened.
    """
    path = Path(path)
    name = label or str(path)
    keep = ID_COLUMNS.union(ids)
    try:
        if text:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        else:
            frame = pd.read_csv(path, keep_default_na=False, na_values=[""], encoding="utf-8",
                                dtype={c: str for c in keep})
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise UsageError(f"{name}: cannot be read as a table: {_last_line(exc)}") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UsageError(f"{name}: missing column(s) {', '.join(missing)}")
    for col in numeric:
        if col in frame.columns and not text:
            frame[col] = _numbers(frame[col], name, col)
    return plain_frame(frame)


def _numbers(cells: pd.Series, name: str, col: str) -> pd.Series:
    """``cells`` as floats; UsageError naming the first cell that is neither a number nor empty."""
    values = pd.to_numeric(cells, errors="coerce")
    bad = values.isna() & cells.notna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise UsageError(f"{name}, line {i + 2}, column {col}: {cells.iloc[i]!r} is not a "
                         "number")
    return values.astype(float)


def _last_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[-1] if lines else type(exc).__name__
