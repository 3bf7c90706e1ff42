"""The parameters of a sensitivity study: ``--param KEY=LOW:HIGH`` (or ``KEY*=LOW:HIGH``).

Each parameter is an override key (README, The case format) uniform on its range; ``*=``
makes the range one of multipliers. A range is checked before any solve: its key must name
something in the case, LOW and HIGH must be finite with LOW < HIGH, and the case with
either end must be a valid case (exit 2 otherwise, naming the parameter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from solver.case.overrides import Op, OverrideError, make_override
from solver.errors import CaseError, UsageError
from solver.studies.sweep.grid import FIXED_PER_PROCESS, Axis, Point, check_keys

USAGE = "expected KEY=LOW:HIGH or KEY*=LOW:HIGH (multipliers)"


def parse_param(text: str) -> Axis:
    """Parse ``KEY=LOW:HIGH`` into an axis whose values are ``(LOW, HIGH)``.

    Raises :class:`UsageError` naming the parameter and what is wrong with it.
    """
    eq = text.find("=")
    if eq <= 0:
        raise UsageError(f"--param {text!r}: {USAGE}")
    op: Op = "*=" if text[eq - 1] == "*" else "="
    key = (text[: eq - 1] if op == "*=" else text[:eq]).strip()
    spec = text[eq + 1:].strip()
    parts = spec.split(":")
    if len(parts) != 2:
        raise UsageError(f"--param {text!r}: {USAGE}")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise UsageError(f"--param {text!r}: LOW and HIGH must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise UsageError(f"--param {text!r}: LOW and HIGH must be finite numbers")
    if low >= high:
        raise UsageError(f"--param {text!r}: LOW ({low:g}) must be less than HIGH ({high:g})")
    if key in FIXED_PER_PROCESS:
        raise UsageError(f"--param {text!r}: {key} cannot vary within a study (HiGHS sets it "
                         "once per process); pass --threads instead")
    try:
        make_override(key, op, low)
    except OverrideError as exc:
        raise UsageError(f"--param {text!r}: {exc}") from None
    try:
        make_override(key, op, (2 * low + high) / 3)
    except OverrideError as exc:
        raise UsageError(f"--param {text!r}: {exc}; a parameter takes every number of its "
                         "range") from None
    return Axis(key=key, op=op, values=(low, high), spec=spec)


def check_params(case: Any, axes: Sequence[Axis]) -> None:
    """Raise :class:`UsageError` unless every axis names something and both ends are valid."""
    if not axes:
        raise UsageError("nothing to vary: pass --param KEY=LOW:HIGH, or give the model file "
                         "a [sensitivity] params = [...]")
    columns = [a.column for a in axes]
    if len(set(columns)) != len(columns):
        raise UsageError("a parameter is given twice: " + ", ".join(columns))
    check_keys(case, axes, option="--param")
    for axis in axes:
        for end, value in zip(("LOW", "HIGH"), axis.values, strict=True):
            try:
                case.with_overrides([axis.override(value)], source="--param")
            except CaseError as exc:
                raise UsageError(f"--param {axis}: at {end} ({value:g}): "
                                 f"{exc.problems[0]}") from None


def points(axes: Sequence[Axis], matrix: np.ndarray) -> list[Point]:
    """One point per row of the sample ``matrix`` (a column per axis)."""
    out = []
    for i, row in enumerate(matrix):
        values = [float(x) for x in row]
        out.append(Point(index=i,
                         overrides=tuple(a.override(v) for a, v in
                                         zip(axes, values, strict=True)),
                         values=tuple((a.column, v) for a, v in
                                      zip(axes, values, strict=True))))
    return out
