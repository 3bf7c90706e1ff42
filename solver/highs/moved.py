"""Which parametric numbers of a compiled model a change of parameters can have moved.

A study that changes some of a model's mutable parameters (a Morris step changes one of
seven) tells the runner which (:class:`Moved`); :meth:`Compiled.refresh
<solver.highs.compile.Compiled.refresh>` then evaluates again only the coefficients, row
bounds and costs whose expressions hold one of them. A number whose expression holds a
parameter the study does not manage (not in ``managed``) is always evaluated again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def params_of(exprs: Iterable[Any]) -> frozenset[int]:
    """The mutable parameter components (by id) that ``exprs`` hold (numbers hold none)."""
    from pyomo.core.expr.visitor import identify_mutable_parameters

    out: set[int] = set()
    for expr in exprs:
        if expr is None or not hasattr(expr, "is_expression_type"):
            continue
        if not expr.is_expression_type():  # a parameter itself
            if getattr(expr, "is_parameter_type", lambda: False)():
                out.add(id(expr.parent_component()))
            continue
        out.update(id(p.parent_component()) for p in identify_mutable_parameters(expr))
    return frozenset(out)


@dataclass
class Moved:
    """Parameters (components, by id) a study manages, and those changed since the last sync."""

    managed: frozenset[int]
    moved: set[int] = field(default_factory=set)

    def untouched(self, params: frozenset[int]) -> bool:
        """Whether a number of these parameters cannot have changed."""
        return params <= self.managed and not (params & self.moved)


def dependencies(compiled: Any) -> tuple[list[frozenset[int]], dict[int, frozenset[int]],
                                         list[frozenset[int]]]:
    """The parameters of each of ``compiled``'s coefficients, row bounds and costs (kept)."""
    if compiled.param_deps is None:
        compiled.param_deps = (
            [params_of(total.exprs) for _, _, total in compiled.param_coefs],
            {row: params_of([lo, hi, *constant.exprs])
             for row, (lo, hi, constant) in compiled.param_rows.items()},
            [params_of(total.exprs) for _, total in compiled.param_costs])
    return compiled.param_deps
