"""What a sweep varies: ``--vary`` specs parsed into axes, and the grid of points they make.

A sweep varies override keys (README, The case format) over values, ``--vary K=SPEC``, where SPEC is
``a:b:step`` (inclusive), ``v1,v2,...``, or, after ``K*=``, multipliers ``f1,f2,...``.
``grid`` mode solves every combination; ``one-at-a-time`` mode solves the base case and
each key's values with the other keys at the base (the points of a tornado chart).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from solver.case.overrides import Op, OverrideError, make_override
from solver.errors import UsageError

MODES = ("grid", "one-at-a-time")

#: Most points one ``--vary`` may give (a guard against a mistyped step).
MAX_VALUES = 10_000

#: A sweep of more points than this says so (on stderr) before it starts.
SOFT_POINTS = 10_000
#: A sweep of more points than this is refused unless asked for (``--yes``, ``yes=True``).
HARD_POINTS = 1_000_000

#: Solver options a point may not change: HiGHS sets threads once per process.
FIXED_PER_PROCESS = {"solver.threads"}


@dataclass(frozen=True)
class Axis:
    """One varied key and its values: ``layers.max_share=0.2:0.6:0.1``."""

    key: str
    op: Op
    values: tuple[Any, ...]
    spec: str

    @property
    def column(self) -> str:
        """The key's column in ``sweep.csv`` (``*`` marks a multiplier)."""
        return f"{self.key}*" if self.op == "*=" else self.key

    @property
    def table_column(self) -> str:
        """``TABLE.COLUMN`` of the key, without a row index (``layers.max_share``)."""
        table, _, rest = self.key.partition("[")
        if not rest:
            return self.key
        return table + rest[rest.index("]") + 1:]

    def override(self, value: Any) -> str:
        """The override that sets this axis to ``value``."""
        return f"{self.key}{self.op}{_text(value)}"

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.spec}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def parse_vary(text: str) -> Axis:
    """Parse ``K=SPEC`` or ``K*=SPEC``; raise :class:`UsageError` naming what is wrong.

    SPEC is ``a:b:step`` (from a to b inclusive), or ``v1,v2,...``.
    """
    eq = text.find("=")
    if eq <= 0:
        raise UsageError(f"--vary {text!r}: expected KEY=SPEC or KEY*=FACTORS "
                         "(SPEC is a:b:step or v1,v2,...)")
    op: Op = "*=" if text[eq - 1] == "*" else "="
    key = (text[: eq - 1] if op == "*=" else text[:eq]).strip()
    spec = text[eq + 1:].strip()
    if not spec:
        raise UsageError(f"--vary {text!r}: no values after '{op}'")
    if ":" in spec:
        raw: list[Any] = _range(text, spec)
    else:
        raw = [part.strip() for part in spec.split(",")]
        if any(not part for part in raw):
            raise UsageError(f"--vary {text!r}: an empty value in {spec!r}")
    values = []
    for value in raw:
        try:
            override = make_override(key, op, value)
        except OverrideError as exc:
            raise UsageError(f"--vary {text!r}: {exc}") from None
        values.append(override.value)
    if key in FIXED_PER_PROCESS:
        raise UsageError(f"--vary {text!r}: {key} cannot vary within a sweep (HiGHS sets it "
                         "once per process); pass --threads instead")
    if len(set(map(_text, values))) != len(values):
        raise UsageError(f"--vary {text!r}: a value appears twice")
    return Axis(key=key, op=op, values=tuple(values), spec=spec)


def _range(text: str, spec: str) -> list[float]:
    parts = spec.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        a, b, step = (float(p) for p in parts)
    except ValueError:
        raise UsageError(f"--vary {text!r}: a range is a:b:step with three numbers") from None
    if not all(math.isfinite(x) for x in (a, b, step)) or step == 0:
        raise UsageError(f"--vary {text!r}: the step of a:b:step must be a nonzero number")
    count = (b - a) / step
    if count < -1e-9:
        raise UsageError(f"--vary {text!r}: a step of {step:g} never goes from {a:g} to {b:g}")
    n = math.floor(count + 1e-9) + 1
    if n > MAX_VALUES:
        raise UsageError(f"--vary {text!r}: {n} values (at most {MAX_VALUES})")
    # Rounding keeps 0.1 steps at 0.3, not 0.30000000000000004.
    return [float(f"{a + i * step:.12g}") for i in range(n)]


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its number, its overrides and the varied values."""

    index: int
    overrides: tuple[str, ...]
    values: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        """The overrides as one line, or ``base``."""
        return " ".join(self.overrides) if self.overrides else "base"


def check_keys(case: Any, axes: Sequence[Axis], option: str = "--vary") -> None:
    """Raise :class:`UsageError` if an axis's key names nothing in ``case``.

    Its values are checked point by point (a value out of range makes an ``invalid``
    point); a key that names no row or file would make every point invalid.
    """
    from solver.case.loader import names_nothing

    for axis in axes:
        why = names_nothing(case, make_override(axis.key, axis.op, axis.values[0]))
        if why:
            shown = axis if option == "--vary" else axis.key
            raise UsageError(f"{option} {shown}: {why}")


def count_points(axes: Sequence[Axis], mode: str = "grid") -> int:
    """How many points :func:`make_points` would make, from the axis lengths alone.

    ``grid``: the product of the lengths; ``one-at-a-time``: the base plus their sum.
    Nothing is materialised, so a grid of 10^20 points is counted as fast as one of 4.
    """
    if mode == "one-at-a-time":
        return 1 + sum(len(a.values) for a in axes)
    return math.prod(len(a.values) for a in axes)


def check_count(axes: Sequence[Axis], mode: str = "grid", *, yes: bool = False,
                warn: Callable[[str], None] | None = None) -> int:
    """The number of points, refused past :data:`HARD_POINTS` unless ``yes``.

    Past :data:`SOFT_POINTS` ``warn`` (default: a logged warning) is told the count first.
    Raises :class:`UsageError` (exit 2) for a grid too large to run without asking.
    """
    n = count_points(axes, mode)
    sizes = " x ".join(str(len(a.values)) for a in axes)
    what = f"{sizes} = {n:,}" if mode == "grid" and len(axes) > 1 else f"{n:,}"
    if n > HARD_POINTS and not yes:
        raise UsageError(f"--vary makes {what} points, more than the {HARD_POINTS:,} a sweep "
                         "runs without --yes; vary fewer values, or pass --yes to run "
                         "them all")
    if n > SOFT_POINTS:
        message = (f"--vary makes {what} points (more than {SOFT_POINTS:,}); each is a "
                   "solve")
        if warn is None:
            logging.getLogger(__name__).warning(message)
        else:
            warn(message)
    return n


def make_points(axes: Sequence[Axis], mode: str = "grid") -> list[Point]:
    """The points of a sweep: every combination (``grid``) or ``one-at-a-time``.

    Grid points run through the first key's values slowest. One-at-a-time starts with the
    base case (no override), then each key's values with the others left at the base.
    """
    if mode not in MODES:
        raise UsageError(f"sweep mode {mode!r}: expected one of {', '.join(MODES)}")
    if not axes:
        raise UsageError("nothing to vary: pass --vary KEY=SPEC, or give the model file a "
                         "[sweep] vary = [...]")
    columns = [a.column for a in axes]
    if len(set(columns)) != len(columns):
        raise UsageError("a key is varied twice: " + ", ".join(columns))
    points: list[Point] = []
    if mode == "grid":
        for combo in itertools.product(*(a.values for a in axes)):
            points.append(Point(
                index=len(points),
                overrides=tuple(a.override(v) for a, v in zip(axes, combo, strict=True)),
                values=tuple((a.column, v) for a, v in zip(axes, combo, strict=True))))
        return points
    points.append(Point(index=0, overrides=(), values=()))
    for axis in axes:
        for v in axis.values:
            points.append(Point(index=len(points), overrides=(axis.override(v),),
                                values=((axis.column, v),)))
    return points


def mutable_columns(axes: Sequence[Axis]) -> frozenset[str]:
    """The override columns that become mutable parameters (numbers, not structure)."""
    from solver.model.numbers import QUANTITIES, STRUCTURAL

    numeric = {c for _, cols in QUANTITIES.values() for c in cols}
    return frozenset(a.table_column for a in axes
                     if a.table_column in numeric and a.table_column not in STRUCTURAL)
