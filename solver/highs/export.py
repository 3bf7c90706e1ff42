"""The model as a file other solvers read: LP or MPS with readable names.

Rows and columns are named after what they stand for, in the words of the README's model:
``demand[US,semiconductors]``, ``y[TW,semiconductors]``, ``f[TW,US,semiconductors]``,
``built[energy]``, ``budget``. MPS (free format, written here: HiGHS's own writer refuses
names with brackets) keeps those names as they are. The LP format has no brackets (CPLEX's
LP names allow letters, digits and ``!"#$%&()/,.;?@_`'{}|~`` only), so an LP file names the
same row ``demand(US,semiconductors)``, and any other character becomes ``_``; HiGHS
writes it. Both are compiled from the same Pyomo model that ``solve`` hands to HiGHS.

An LP name holds at most :data:`LP_NAME_LIMIT` characters (CPLEX's limit; HiGHS's own reader
cuts a longer one, so that two columns of a 300-character id became one). A longer name is
shortened to its start and a hash of the whole, and ``OUT.names.csv`` beside the file maps
each shortened name back to the full one.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from solver.errors import UsageError
from solver.highs.model_names import column_names, row_names_of
from solver.report.writing import check_target, replacing, write_file

FORMATS = ("lp", "mps")

#: The longest row or column name an LP file holds.
LP_NAME_LIMIT = 255

_LP_BAD = re.compile(r"[^A-Za-z0-9!\"#$%&()/,.;?@_`'{}|~]")


@dataclass(frozen=True)
class Export:
    """What :func:`export_model` wrote."""

    path: Path
    format: str
    rows: int
    columns: int
    integers: int
    names: Path | None = None
    """``OUT.names.csv``, when some LP names were shortened (shortened name -> full name)."""


def export_model(case: Any, out: str | Path, fmt: str | None = None, *,
                 force: bool = False) -> Export:
    """Write the MILP of ``case`` (a :class:`~solver.case.loader.Case`) to ``out``.

    ``fmt`` is ``"lp"`` or ``"mps"``; by default the suffix of ``out`` says which. The file
    is written whole or not at all (a temporary file, then renamed); an existing ``out`` is
    replaced only with ``force`` and only if it is an ordinary file
    (:func:`solver.report.writing.check_target`).
    """
    from solver.case.periods import uses_pathway
    from solver.highs.compile import compile_model
    from solver.model.build import build

    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise UsageError(f"{out}: say --format lp or --format mps (or name the file .lp or "
                         ".mps)")
    names_file = out.with_name(f"{out.name}.names.csv")
    check_target(out, force=force)
    check_target(names_file, force=True)
    if uses_pathway(case):  # every period and the builds tying them (README, Pathways)
        from solver.highs.export_pathway import pathway_column_names, pathway_row_names
        from solver.model.pathway import build_pathway

        path = build_pathway(case)
        compiled = compile_model(path.m)
        col_names = pathway_column_names(path, compiled.declared)
        row_names = pathway_row_names(path, compiled.constraints)
    else:
        built = build(case)
        compiled = compile_model(built.m)
        col_names = column_names(built, compiled.declared)
        row_names = row_names_of(built, compiled.constraints)
    shortened: dict[str, str] = {}
    with replacing(out) as tmp:
        hinted = tmp.with_name(f"{tmp.name}.{fmt}")  # HiGHS writes by the suffix
        try:
            if fmt == "mps":
                write_mps(hinted, compiled, col_names, row_names, name=case.name)
            else:
                cols, rows = lp_names(col_names, shortened), lp_names(row_names, shortened)
                _write_lp(hinted, compiled, cols, rows)
                if shortened:
                    write_file(names_file, lambda names: _write_names(names, shortened))
            os.replace(hinted, tmp)
        finally:
            hinted.unlink(missing_ok=True)
    return Export(path=out, format=fmt, rows=compiled.n_rows, columns=compiled.n_cols,
                  integers=int(np.count_nonzero(compiled.bounds.integer)),
                  names=names_file if shortened else None)


def lp_name(name: str) -> str:
    """``name`` as the LP format allows it: brackets as parentheses, nothing else odd."""
    text = _LP_BAD.sub("_", name.replace("[", "(").replace("]", ")"))
    if not text or text[0].isdigit() or (text[0] in ".eE" and text[1:2].isdigit()):
        text = "_" + text
    return text


def lp_names(names: list[str], shortened: dict[str, str]) -> list[str]:
    """``names`` as LP names: :func:`lp_name`, unique, none longer than :data:`LP_NAME_LIMIT`.

    A longer name keeps its start and ends in ``~`` and 12 hex digits of the full name's
    SHA-1; each such name is added to ``shortened`` (LP name -> full name).
    """
    room = LP_NAME_LIMIT - 8  # leaves room for _unique's ~N
    out = []
    for name in names:
        text = lp_name(name)
        if len(text) > room:
            digest = hashlib.sha1(name.encode()).hexdigest()[:12]
            text = f"{text[:room - 13]}~{digest}"
        out.append(text)
    unique = _unique(out)
    for short, full, text in zip(unique, names, out, strict=True):
        if short != lp_name(full) and len(text) < len(lp_name(full)):
            shortened[short] = full
    return unique


def _write_names(path: Path, shortened: dict[str, str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["lp_name", "name"])
        writer.writerows(sorted(shortened.items()))


def _write_lp(path: Path, compiled: Any, cols: list[str], rows: list[str]) -> None:
    from solver.highs.runner import new_highs

    h = new_highs()
    h.setOptionValue("output_flag", False)
    compiled.pass_to(h)
    for j, name in enumerate(_unique(cols)):
        h.passColName(j, name)
    for i, name in enumerate(_unique(rows)):
        h.passRowName(i, name)
    h.writeModel(str(path))


def _unique(names: list[str]) -> list[str]:
    """``names`` with a ``~N`` suffix on any that a rewrite made equal to an earlier one."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}~{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def _num(x: float) -> str:
    return repr(float(x))


def write_mps(path: Path, compiled: Any, cols: list[str], rows: list[str],
              name: str = "coalition") -> None:
    """Write ``compiled`` (a :class:`~solver.highs.compile.Compiled`) as free MPS.

    A ranged row is a ``G`` row with a ``RANGES`` entry; every integer column gets explicit
    bounds (readers differ on the default bound of an integer column).
    """
    c = compiled
    obj = "COST"
    while obj in rows:
        obj += "_"
    lower, upper = c.row_lower, c.row_upper
    kinds: list[str | None] = []
    for lo, hi in zip(lower.tolist(), upper.tolist(), strict=True):
        if lo == hi:
            kinds.append("E")
        elif math.isinf(lo) and math.isinf(hi):
            kinds.append(None)  # a free row: nothing to write
        elif math.isinf(lo):
            kinds.append("L")
        else:
            kinds.append("G")
    row_of = np.repeat(np.arange(c.n_rows), np.diff(c.start))
    order = np.argsort(c.index, kind="stable")
    col_sorted, row_sorted, val_sorted = c.index[order], row_of[order], c.value[order]
    col_start = np.searchsorted(col_sorted, np.arange(c.n_cols + 1))
    integer = np.asarray(c.bounds.integer, dtype=bool)
    title = re.sub(r"\s+", "_", name) or "coalition"
    lines = [f"NAME {title}"]
    if c.sense == -1:
        lines += ["OBJSENSE", "    MAX"]
    lines += ["ROWS", f" N {obj}"]
    lines += [f" {k} {rows[i]}" for i, k in enumerate(kinds) if k is not None]
    lines.append("COLUMNS")
    in_int = False
    for j in range(c.n_cols):
        if integer[j] != in_int:
            marker = "'INTORG'" if integer[j] else "'INTEND'"
            lines.append(f"    MARKER 'MARKER' {marker}")
            in_int = bool(integer[j])
        entries = []
        if c.cost[j] != 0:
            entries.append(f"    {cols[j]} {obj} {_num(c.cost[j])}")
        for p in range(int(col_start[j]), int(col_start[j + 1])):
            r = int(row_sorted[p])
            if kinds[r] is not None and val_sorted[p] != 0:
                entries.append(f"    {cols[j]} {rows[r]} {_num(val_sorted[p])}")
        lines += entries or [f"    {cols[j]} {obj} 0"]
    if in_int:
        lines.append("    MARKER 'MARKER' 'INTEND'")
    lines.append("RHS")
    if c.offset:
        lines.append(f"    RHS {obj} {_num(-c.offset)}")
    ranges = []
    for i, k in enumerate(kinds):
        if k is None:
            continue
        rhs = upper[i] if k == "L" else lower[i]
        if rhs != 0:
            lines.append(f"    RHS {rows[i]} {_num(rhs)}")
        if k == "G" and not math.isinf(upper[i]):
            ranges.append(f"    RNG {rows[i]} {_num(upper[i] - lower[i])}")
    if ranges:
        lines += ["RANGES", *ranges]
    lines.append("BOUNDS")
    for j in range(c.n_cols):
        lines += _bounds(cols[j], float(c.bounds.lower[j]), float(c.bounds.upper[j]),
                         bool(integer[j]))
    lines.append("ENDATA")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _bounds(col: str, lo: float, hi: float, integer: bool) -> list[str]:
    if integer and lo == 0 and hi == 1:
        return [f" BV BND {col}"]
    if lo == hi:
        return [f" FX BND {col} {_num(lo)}"]
    if math.isinf(lo) and math.isinf(hi):
        return [f" FR BND {col}"]
    out = []
    if math.isinf(lo):
        out.append(f" MI BND {col}")
    elif lo != 0 or integer:
        out.append(f" LO BND {col} {_num(lo)}")
    if not math.isinf(hi):
        out.append(f" UP BND {col} {_num(hi)}")
    elif integer:
        out.append(f" PL BND {col}")
    return out
