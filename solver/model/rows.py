"""Writing a constraint family's rows into the model (README, The model).

Rows are built for speed at a million variables: each body is a ``LinearExpression`` whose
terms are the variables themselves where the coefficient is 1 (no term object per flow) and
``coef * var`` monomials elsewhere. With ``elastic=True`` every requirement row gets a
penalised slack (see :mod:`solver.diagnose.explain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.relational_expr import (
    EqualityExpression,
    InequalityExpression,
    RangedExpression,
)

from solver.model.context import Context

Row = tuple[list[Any], list[Any] | None]
"""The variables of a row and their coefficients (``None``: every coefficient is 1)."""


def _is_one(c: Any) -> bool:
    return c.__class__ in (float, int) and c == 1


def _terms(vars_: Sequence[Any], coefs: Sequence[Any] | None) -> list[Any]:
    """The arguments of a ``LinearExpression``: bare variables for coefficient 1."""
    if coefs is None:
        return list(vars_)
    return [v if _is_one(c) else MonomialTermExpression((c, v))
            for v, c in zip(vars_, coefs, strict=True)]


def add_rows(
    ctx: Context,
    name: str,
    keys: Sequence[tuple[str, ...]],
    terms: Sequence[Row],
    lower: Sequence[Any] | None,
    upper: Sequence[Any] | None,
    requirement: bool = True,
    scale: Sequence[float] | None = None,
) -> None:
    """Add the rows ``lower <= sum(coefs * vars) <= upper`` as component ``m.<name>``.

    In elastic mode a requirement row gets slack variables ``m.<name>_below`` (how far the
    body may fall short of ``lower``) and ``m.<name>_above`` (how far it may exceed
    ``upper``), priced in the elastic objective at ``1 / scale`` per unit.
    """
    add_bodies(ctx, name, keys, [_terms(v, c) for v, c in terms], lower, upper,
                requirement, scale)


def add_bodies(
    ctx: Context,
    name: str,
    keys: Sequence[tuple[str, ...]],
    args: list[list[Any]],
    lower: Sequence[Any] | None,
    upper: Sequence[Any] | None,
    requirement: bool = True,
    scale: Sequence[float] | None = None,
) -> None:
    """:func:`add_rows` for rows given as ``LinearExpression`` arguments.

    A row that is not a requirement (``requirement=False``: a definition, or the rows of
    :mod:`solver.model.two_stage` and :mod:`solver.model.near_optimal`) gets no elastic
    slack.
    """
    m = ctx.m
    n = len(keys)
    if n == 0:
        return
    if ctx.elastic and requirement:
        weights = [1.0 / max(abs(s), 1e-6) for s in (scale or [1.0] * n)]
        if lower is not None:
            below = pyo.Var(pyo.SetOf(range(n)), within=pyo.NonNegativeReals)
            m.add_component(f"{name}_below", below)
            for i, v in enumerate(below.values()):
                args[i].append(v)
            ctx.slacks.append((name, below, weights, "below"))
        if upper is not None:
            above = pyo.Var(pyo.SetOf(range(n)), within=pyo.NonNegativeReals)
            m.add_component(f"{name}_above", above)
            for i, v in enumerate(above.values()):
                args[i].append(MonomialTermExpression((-1.0, v)))
            ctx.slacks.append((name, above, weights, "above"))
    lo = lower if lower is not None else [None] * n
    hi = upper if upper is not None else [None] * n
    rows = [_relation(lo[i], LinearExpression(a), hi[i]) for i, a in enumerate(args)]
    m.add_component(name, pyo.Constraint(pyo.SetOf(range(n)), rule=rows))
    m.row_keys[name] = list(keys)


def minus(v: Any) -> MonomialTermExpression:
    """The term ``-v``."""
    return MonomialTermExpression((-1.0, v))


def _relation(lo: Any, body: Any, hi: Any) -> Any:
    """``lo <= body <= hi`` as a Pyomo relational expression, made directly.

    What Pyomo would make of the tuple ``(lo, body, hi)``, at half the cost (a ``(lo, body,
    lo)`` tuple also goes through a general dispatch); equal bounds make an equality.
    """
    if lo is None:
        return InequalityExpression((body, hi), False) if hi is not None else (lo, body, hi)
    if hi is None:
        return InequalityExpression((lo, body), False)
    if lo is hi or (lo.__class__ is float and hi.__class__ is float and lo == hi):
        return EqualityExpression((body, lo))
    return RangedExpression((lo, body, hi), (False, False))
