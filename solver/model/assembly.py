"""The model's matrices straight from numpy, for a one-shot HiGHS solve.

Pyomo stays the formulation of record (:mod:`solver.model.constraints`: export, other
solvers, the math in the docstrings). Building it costs one Python object per variable and
term, and handing it over reads them all back: at L (a million columns) that was 1.5-1.7x
linopy's time and 639 MB against 461 MB before the solve. A solve with HiGHS of a model
nothing will change needs only the matrices, so each family of
:data:`~solver.model.constraints.FAMILIES` also has an array form
(:mod:`solver.model.array_families`) that emits exactly the rows, coefficients and bounds its
``add_<family>`` adds, in the same order; :func:`assemble` runs them and hands back the
:class:`~solver.highs.compile.Compiled` matrices the compiled Pyomo model would give
(``tests/test_assembly.py`` proves them equal, entry by entry, on random cases).

A case the array forms do not cover is built in Pyomo: mutable numbers (a sweep), the
elastic or priced model, a two-stage design, and any family added to ``FAMILIES`` without an
array form (:func:`assemble` then returns None).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solver.case.loader import Case
from solver.highs.compile import Compiled
from solver.model.data import ModelData, model_data
from solver.model.matrix_blocks import Assembly
from solver.model.numbers import values


@dataclass
class Assembled:
    """A model built as matrices: what :func:`solver.solve.finish` reads, and the matrices.

    ``compiled`` is dropped once HiGHS holds the model (:meth:`release`).
    """

    data: ModelData
    compiled: Compiled | None
    columns: dict[str, np.ndarray]
    ctx: Any = None

    def release(self) -> None:
        """Drop the matrices (HiGHS keeps its own copy)."""
        self.compiled = None


def assemble(case: Case, families: Sequence[Callable[..., Any]] | None = None,
             like: tuple[Case, ModelData] | None = None) -> Assembled | None:
    """The matrices of ``build(case)`` made with numpy, or None if a family has no array form.

    ``families`` are the Pyomo families to mirror (:data:`FAMILIES` by default). Two-stage
    designs and markets are left to Pyomo (None). ``like`` lends its flows (:func:`model_data`).
    """
    from solver.model.array_families import ARRAY_FORMS, objective
    from solver.model.build import designs, has_shortage
    from solver.model.constraints import FAMILIES

    families = FAMILIES if families is None else families
    if designs(case) or case.has_markets or any(f not in ARRAY_FORMS for f in families):
        return None  # markets' families have no array form yet: the Pyomo model has them
    data = model_data(case, like=like)
    asm = Assembly(data=data, arrays=values(case, data), shortage=has_shortage(case))
    asm.add_columns("y", asm.n_pairs, integer=True)
    for name in ("k", "q"):
        asm.add_columns(name, asm.n_pairs)
    asm.add_columns("f", asm.n_flows)
    asm.add_columns("built", asm.n_layers)
    if data.chain is not None:
        asm.add_columns("g", data.chain.n_flows)
    if asm.shortage:
        asm.add_columns("z", asm.n_rows)
        asm.add_columns("u", asm.n_layers)
    for family in families:
        ARRAY_FORMS[family](asm)
    cost, offset = objective(asm)
    return Assembled(data=data, compiled=asm.compiled(cost, offset), columns=asm.columns())
