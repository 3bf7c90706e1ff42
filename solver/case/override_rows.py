"""Which rows of a case table an override names, and what to say when it names none.

The ``case`` arguments are :class:`~solver.case.loader.Case` objects (typed ``Any`` here,
since the loader imports this module).

``--set "layers[semiconductors].max_share=0.3"`` names rows by their key; an override of a
trade route that the case lacks adds the route (README, The case format).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from solver.case.overrides import Override
from solver.case.schema import COALITION, TABLES
from solver.case.tables import MAX_INT
from solver.case.validate import blank_ids
from solver.errors import Problem

#: A frame's key columns as strings (:func:`blank_ids`), by the frame's id: the frame and
#: its column's ids (an override writes no key column, so they hold while the frame does).
IdCache = dict[tuple[int, str], tuple[pd.DataFrame, np.ndarray]]


def _ids(frame: pd.DataFrame, col: str, cache: IdCache | None) -> np.ndarray:
    if cache is None:
        return blank_ids(frame[col]).to_numpy()
    got = cache.get((id(frame), col))
    if got is None or got[0] is not frame:
        got = cache[(id(frame), col)] = (frame, blank_ids(frame[col]).to_numpy())
    return got[1]


def write_rows(frame: pd.DataFrame, o: Override, mask: np.ndarray) -> str | None:
    """Write the override's value into ``frame`` at ``mask``; why it cannot, or None.

    ``KEY=VALUE`` sets the rows (a text column becomes an object column); ``KEY*=FACTOR``
    multiplies them, and a whole-number column must stay whole and at most 2^53.
    """
    column = frame[o.column]
    if o.op == "=":
        if column.dtype == bool or column.dtype.kind in "if":
            frame.loc[mask, o.column] = o.value
        else:
            frame[o.column] = column.astype(object)
            frame.loc[mask, o.column] = o.value
        return None
    if column.dtype == "float64":  # one multiply in numpy (a study's point makes many)
        values = column.to_numpy(copy=True)
        values[mask] = values[mask] * o.value
        frame[o.column] = values
        return None
    product = frame.loc[mask, o.column] * o.value
    if column.dtype.kind in "iu":
        whole = product.isna() | (product == product.round())
        if not whole.all():
            return f"{o} gives {product[~whole].iloc[0]:g}: {o.column} is a whole number"
        if (product.abs() > MAX_INT).any():
            return (f"{o} gives {product.abs().max():g}: too large for a whole number "
                    "(at most 2^53)")
        product = product.round().astype(column.dtype)
    frame.loc[mask, o.column] = product
    return None


def named_rows(o: Override, frame: pd.DataFrame, cache: IdCache | None = None) -> np.ndarray:
    """Which rows of ``frame`` the override's ``[KEY]`` names (all rows without one).

    ``cache`` keeps the key columns read as strings across the overrides of one call.
    """
    mask = np.ones(len(frame), dtype=bool)
    if o.index is not None:
        key = TABLES[o.table].key
        if o.table == "trade" and len(o.index) == 2:
            # trade[E,I] is the route's row without a layer (README, The stack as a chain).
            mask &= _ids(frame, "layer", cache) == ""
        for part, col in zip(o.index, key, strict=False):
            if part != "*":
                mask &= _ids(frame, col, cache) == part
    return mask


def names_nothing(case: Any, o: Override, frame: pd.DataFrame | None = None,
                  mask: np.ndarray | None = None) -> str | None:
    """Why the override's key names nothing in ``case``, or None if it names something.

    The key's table and column are checked when it is parsed; this checks what depends
    on the case: the table's file exists, and ``[KEY]`` names at least one row (``mask``:
    the rows of ``frame`` it names, if known).
    """
    if o.table in ("objective", "solver"):
        return None
    frame = case.table(o.table) if frame is None else frame
    if frame is None:
        return f"{o.key}: the case has no {o.table}.csv"
    if o.table == "layers" and o.column == "demand" and case.has_demand_file:
        return (f"{o.key}: layers.demand is used only without demand.csv; override "
                "demand[MEMBER,LAYER].demand")
    named = named_rows(o, frame) if mask is None else mask
    if not named.any() and new_route(case, o) is None:
        return f"{o.key} names no row of {o.table}.csv{_row_hint(o, frame)}"
    return None


def _row_hint(o: Override, frame: pd.DataFrame) -> str:
    """"; did you mean 'semiconductors'?" for a part of ``[KEY]`` close to an id of its column."""
    for part, col in zip(o.index or (), TABLES[o.table].key, strict=False):
        ids = frame[col].astype(str).unique().tolist()
        if part != "*" and part not in ids:
            hint = difflib.get_close_matches(part, ids, n=1)
            if hint:
                return f"; did you mean {hint[0]!r}?"
    return ""


def new_route(case: Any, o: Override) -> dict[str, Any] | None:
    """The trade row an override of an absent route adds, with its defaults; else None.

    A route missing from trade.csv is allowed at zero cost, so ``trade[US,DE].allowed``
    names it even without a row: setting it adds the row (an embargo or a tariff as a
    what-if). Both partners must exist and differ; ``*`` names only rows that exist.
    """
    if o.table != "trade" or o.index is None or "*" in o.index:
        return None
    exporter, importer = o.index[:2]
    layer = o.index[2] if len(o.index) == 3 else None
    partners = set(case.partners["partner"].astype(str))
    importers = partners if case.has_demand_file else partners | {COALITION}
    if case.markets is not None:
        importers = importers | set(case.markets["market"].astype(str))
    if exporter == importer or exporter not in partners or importer not in importers:
        return None
    if layer is not None and layer not in set(case.layers["layer"].astype(str)):
        return None
    if layer is not None:
        # The layer's row starts from what the route's row without a layer says.
        route = case.trade[(case.trade["exporter"] == exporter)
                           & (case.trade["importer"] == importer)
                           & (blank_ids(case.trade["layer"]) == "")]
        if len(route):
            return {"exporter": exporter, "importer": importer, "layer": layer,
                    "unit_cost": float(route["unit_cost"].iloc[0]),
                    "allowed": bool(route["allowed"].iloc[0])}
    return {"exporter": exporter, "importer": importer, "layer": layer, "unit_cost": 0.0,
            "allowed": True}


@dataclass
class Writers:
    """Which override wrote each value, so that a value out of range names its override."""

    places: dict[tuple[str, str], list[tuple[np.ndarray | None, Problem]]] = field(
        default_factory=dict)
    grown: set[str] = field(default_factory=set)
    """The tables an override added a row to (a trade route): every column of it is new."""

    def written(self) -> set[tuple[str, str]]:
        """The ``(table, column)`` pairs the overrides wrote.

        ``(table, "*")`` where they added a row.
        """
        return {*self.places, *((table, "*") for table in self.grown)}

    def note(self, table: str, column: str, rows: np.ndarray | None, place: Problem) -> None:
        """``place``'s override wrote ``table.column`` in ``rows`` (a mask; None: the option)."""
        self.places.setdefault((table, column), []).append((rows, place))

    def last(self, table: str, column: str, row: int | None) -> Problem | None:
        """The place of the last override that wrote ``table.column`` at position ``row``."""
        for rows, place in reversed(self.places.get((table, column), [])):
            if rows is None or (row is not None and row < len(rows) and rows[row]):
                return place
        return None

    def blame(self, problem: Problem, book: str | None = None) -> Problem:
        """``problem`` of a case table, named by the last override that wrote that table.

        The case was valid before its overrides, so what a cross-table check finds now is
        theirs; the table (the sheet of workbook ``book``), column and value stay in the
        message.
        """
        table = next((t for t, spec in TABLES.items() if spec.filename == problem.file), None)
        place = next((place for (t, _), writes in reversed(self.places.items()) if t == table
                      for _, place in reversed(writes)), None)
        if place is None:
            return problem
        where = problem.file if book is None or table is None else f"{book}, sheet {table}"
        where += f", column {problem.column}" if problem.column else ""
        value = f" {problem.value!r}" if problem.value is not None else ""
        return replace(place, message=f"{where}{value}: {problem.message}")

    def at(self, table: str) -> Callable[[str, int], Problem | None]:
        """:meth:`last` for one table: ``at(column, row)``."""
        return lambda column, row: self.last(table, column, row)
