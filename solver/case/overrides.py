"""Override keys (README, The case format): parsed, never evaluated.

``TABLE.COLUMN`` (every row), ``TABLE[KEY].COLUMN`` (one row; two-part keys for
capabilities, demand and trade, ``*`` a wildcard part), ``objective.NAME``, ``solver.NAME``.
``K=V`` sets, ``K*=V`` multiplies. The same code serves ``--set`` on the command line,
``[set]`` in a model file and :meth:`solver.case.loader.Case.with_overrides`.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from solver.case.schema import TABLES, columns

Op = Literal["=", "*="]

_KEY = re.compile(
    r"^(?P<table>[a-z_]+)(?:\[(?P<index>[^\]]*)\])?\.(?P<column>[A-Za-z_][A-Za-z0-9_]*)$"
)

OBJECTIVE_KEYS = {"redundancy_weight", "risk_weight", "budget", "shortage_cost", "discount_rate"}
SOLVER_KEYS = {"time_limit", "mip_gap", "threads"}


class OverrideError(ValueError):
    """An override that names nothing, or whose value does not fit."""


@dataclass(frozen=True)
class Override:
    """One parsed override: ``table[index].column op value``."""

    table: str
    column: str
    index: tuple[str, ...] | None
    op: Op
    value: Any

    @property
    def key(self) -> str:
        """The key as the user writes it."""
        idx = f"[{','.join(self.index)}]" if self.index is not None else ""
        return f"{self.table}{idx}.{self.column}"

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"


def parse_assignment(text: str) -> Override:
    """Parse ``K=V`` or ``K*=V`` (the ``--set`` form)."""
    eq = text.find("=")
    if eq <= 0:
        raise OverrideError(f"{text!r}: an override is KEY=VALUE or KEY*=FACTOR")
    op: Op = "*=" if text[eq - 1] == "*" else "="
    key = text[: eq - 1] if op == "*=" else text[:eq]
    value = text[eq + 1 :]
    return make_override(key.strip(), op, value.strip())


def make_override(key: str, op: Op, value: Any) -> Override:
    """Check ``key`` names something and convert ``value`` to the column's type."""
    match = _KEY.match(key)
    if not match:
        raise OverrideError(
            f"{key!r} is not an override key (TABLE.COLUMN, TABLE[KEY].COLUMN, "
            "objective.NAME or solver.NAME)"
        )
    table, column, index_text = match["table"], match["column"], match["index"]
    if table in ("objective", "solver"):
        names = OBJECTIVE_KEYS if table == "objective" else SOLVER_KEYS
        if index_text is not None or column not in names:
            hint = difflib.get_close_matches(column, sorted(names), n=1)
            raise OverrideError(f"{key!r} names nothing"
                                + (f"; did you mean {table}.{hint[0]}?" if hint else "")
                                + f" ({table} keys: {', '.join(sorted(names))})")
        kind = "int" if column == "threads" else "float"
        return Override(table, column, None, op, _convert(key, kind, value, op))
    if table not in TABLES:
        hint = difflib.get_close_matches(table, [*TABLES, "objective", "solver"], n=1)
        raise OverrideError(f"{key!r} names no table"
                            + (f"; did you mean {hint[0]!r}?" if hint else "")
                            + f" (tables: {', '.join(TABLES)}, objective, solver)")
    spec = TABLES[table]
    cols = columns(spec.row)
    if column not in cols or column in spec.key:
        settable = [c for c in cols if c not in spec.key]
        hint = difflib.get_close_matches(column, settable, n=1)
        raise OverrideError(f"{key!r} names no column of {table}"
                            + (f"; did you mean {hint[0]!r}?" if hint else "")
                            + f" (columns: {', '.join(settable)})")
    index = None
    if index_text is not None:
        index = tuple(part.strip() for part in index_text.split(","))
        # A trade row is named by its route, or by its route and layer.
        sizes = (2, 3) if table == "trade" else (len(spec.key),)
        if len(index) not in sizes or any(not p for p in index):
            parts = "2 or 3" if table == "trade" else str(len(spec.key))
            raise OverrideError(f"{key!r}: {table} rows are named by {parts} part(s) "
                                f"({', '.join(spec.key)})")
    kind = cols[column].kind
    if op == "*=" and kind not in ("float", "int"):
        raise OverrideError(f"{key!r}: only numeric columns can be multiplied")
    return Override(table, column, index, op, _convert(key, kind, value, op))


def _convert(key: str, kind: str, value: Any, op: Op) -> Any:
    if isinstance(value, bool) and kind != "bool":
        raise OverrideError(f"{key}: {value!r} is not a number")
    if kind in ("float", "int") or op == "*=":
        if isinstance(value, str) and "_" in value:
            # float() reads "1_000" as 1000; the case files do not.
            raise OverrideError(f"{key}: {value!r} is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise OverrideError(f"{key}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise OverrideError(f"{key}: {value!r} is not a finite number")
        if kind == "int" and op == "=":
            if not number.is_integer():
                raise OverrideError(f"{key}: {value!r} is not a whole number")
            if abs(number) > 2**53:
                raise OverrideError(f"{key}: {value!r} is too large for a whole number")
            return int(number)
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in ("true", "yes", "1"):
            return True
        if word in ("false", "no", "0"):
            return False
        raise OverrideError(f"{key}: {value!r} is not true/false")
    return str(value)
