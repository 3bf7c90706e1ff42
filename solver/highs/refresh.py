"""A compiled model's numbers read again after its parameters changed: what HiGHS is sent.

A re-solved model changes numbers only: the mutable parameters in its coefficients, row
bounds, costs, objective constant and variable bounds, and the variables' own bounds,
domains and fixings. :func:`refresh` evaluates every expression of parameters in one pass
(a :class:`Tape`: each expression node once, its arguments before it), compares the
numbers with those HiGHS holds as arrays, and returns the :class:`Changes`.

Each node is evaluated by Pyomo's own step for it on the same floats as
:func:`~solver.highs.reading.evaluate_memo`, and each sum of parametric parts adds in the
same order, so every number is the one a fresh compile gives, to the last bit
(``tests/test_refresh.py``). Every number is evaluated at every refresh: a study need not
say which parameters it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solver.highs.reading import INF, PLAIN, HeldBounds, column_bounds, evaluating, remember


class Tape:
    """Expressions of mutable parameters as a flat program, each node evaluated once.

    :meth:`place` gives a number its place (a plain number a constant, a parameter a leaf,
    an expression a step after its arguments); :meth:`run` evaluates every place in order.
    The nodes are held, so that their ids stay theirs while the tape lives.
    """

    def __init__(self) -> None:
        self._at: dict[int, int] = {}
        self.nodes: list[Any] = []
        """The node of each place (None for a constant)."""
        self.start: list[float] = []
        """Each place's value before a run: the constants' values, 0 elsewhere."""
        self.leaves: list[tuple[int, Any]] = []
        self.steps: list[tuple[int, Callable[[list[float]], Any], list[int]]] = []

    def place(self, x: Any) -> int:
        """The place of ``x`` (a plain number, a parameter or an expression of them)."""
        if x.__class__ in PLAIN:
            return self._new(None, float(x))
        at = self._at.get(id(x))
        if at is not None:
            return at
        if x.is_expression_type():
            args = [self.place(a) for a in x.args]
            at = self._new(x, 0.0)
            self.steps.append((at, x._apply_operation, args))
        else:
            at = self._new(x, 0.0)
            self.leaves.append((at, x))
        self._at[id(x)] = at
        return at

    def _new(self, node: Any, value: float) -> int:
        self.nodes.append(node)
        self.start.append(value)
        return len(self.start) - 1

    def run(self) -> np.ndarray:
        """The value of every place, as :func:`~solver.highs.reading.number` gives it."""
        from pyomo.core.expr.numvalue import value

        values = self.start.copy()
        for at, leaf in self.leaves:
            values[at] = float(value(leaf))
        for at, step, args in self.steps:
            values[at] = float(step([values[a] for a in args]))
        return np.array(values, dtype=float)

    def ids(self) -> tuple[list[int], list[int]]:
        """The places of the nodes and the nodes' ids (constants have none)."""
        places = [i for i, node in enumerate(self.nodes) if node is not None]
        return places, [id(self.nodes[i]) for i in places]


class _Sums:
    """Numbers that are a plain part plus parametric parts (``_Sum`` of the compile), laid out.

    Their values are ``plain + (((0 + v1) + v2) + ...)``, added in the order ``float`` of a
    ``_Sum`` adds them.
    """

    def __init__(self, tape: Tape, sums: list[Any]) -> None:
        self.plain = np.array([s.plain for s in sums], dtype=float)
        width = max((len(s.exprs) for s in sums), default=0)
        self.places = np.full((len(sums), width), -1, dtype=np.int64)
        for i, s in enumerate(sums):
            for j, expr in enumerate(s.exprs):
                self.places[i, j] = tape.place(expr)

    def values(self, run: np.ndarray) -> np.ndarray:
        """The numbers, from a run of the tape."""
        parts = np.zeros(len(self.plain))
        for j in range(self.places.shape[1]):
            at = self.places[:, j]
            has = at >= 0
            parts[has] += run[at[has]]
        return self.plain + parts


class Layout:
    """Where each parametric number of a compiled model comes from in one :class:`Tape`.

    ``c`` is a :class:`~solver.highs.compile.Compiled` (here and below: that module hands
    its models to this one, so this one does not import it).
    """

    def __init__(self, c: Any) -> None:
        self.tape = tape = Tape()
        # The variables' parametric bounds, so that column_bounds finds them evaluated.
        for v in c.declared:
            for bound in (v._lb, v._ub):
                if bound is not None and bound.__class__ not in PLAIN:
                    tape.place(bound)
        self.coefs = _Sums(tape, [total for _, _, total in c.param_coefs])
        self.coef_rows = np.array([r for r, _, _ in c.param_coefs], dtype=np.int64)
        self.coef_cols = np.array([col for _, col, _ in c.param_coefs], dtype=np.int64)
        self.rows = np.array(list(c.param_rows), dtype=np.int64)
        ends = [(lo, hi) for lo, hi, _ in c.param_rows.values()]
        self.no_lower = np.array([lo is None for lo, _ in ends], dtype=bool)
        self.no_upper = np.array([hi is None for _, hi in ends], dtype=bool)
        self.lower = np.array([0 if lo is None else tape.place(lo) for lo, _ in ends],
                              dtype=np.int64)
        self.upper = np.array([0 if hi is None else tape.place(hi) for _, hi in ends],
                              dtype=np.int64)
        self.constants = _Sums(tape, [constant for _, _, constant in c.param_rows.values()])
        self.cost_cols = np.array([col for col, _ in c.param_costs], dtype=np.int64)
        self.costs = _Sums(tape, [total for _, total in c.param_costs])
        offset = c.param_offset
        self.offset = _Sums(tape, [offset] if offset is not None and offset.exprs else [])
        self.places, self.ids = tape.ids()
        self.bounds = HeldBounds()
        """The variables' bounds as last read (:func:`~solver.highs.reading.column_bounds`)."""
        self.positions: tuple[Any, np.ndarray] | None = None
        """Where each coefficient sits in ``value``, for the ``start`` it was found with."""

    def coef_positions(self, c: Any) -> np.ndarray:
        """Each parametric coefficient's position in ``c.value`` (found again if moved)."""
        if self.positions is None or self.positions[0] is not c.start:
            self.positions = (c.start, np.array(
                [_entry(c, row, col) for row, col in zip(self.coef_rows.tolist(),
                                                         self.coef_cols.tolist(), strict=True)],
                dtype=np.int64))
        return self.positions[1]


@dataclass
class Changes:
    """What :meth:`Compiled.refresh` found changed, in HiGHS's terms."""

    bounds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    integrality: tuple[np.ndarray, np.ndarray] | None = None
    coefs: list[tuple[int, int, float]] = field(default_factory=list)
    rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    costs: tuple[np.ndarray, np.ndarray] | None = None
    offset: float | None = None

    def __bool__(self) -> bool:
        return bool(self.bounds is not None or self.integrality is not None or self.coefs
                    or self.rows is not None or self.costs is not None
                    or self.offset is not None)

    def send(self, highs: Any) -> None:
        """Apply the changes to ``highs``."""
        if self.bounds is not None:
            at, lo, hi = self.bounds
            highs.changeColsBounds(len(at), at.astype(np.int32), lo, hi)
        if self.integrality is not None:
            at, kind = self.integrality
            highs.changeColsIntegrality(len(at), at.astype(np.int32), kind.astype(np.uint8))
        for row, col, value in self.coefs:
            highs.changeCoeff(row, col, value)
        if self.rows is not None:
            at, lo, hi = self.rows
            highs.changeRowsBounds(len(at), at, lo, hi)
        if self.costs is not None:
            at, cost = self.costs
            highs.changeColsCost(len(at), at, cost)
        if self.offset is not None:
            highs.changeObjectiveOffset(self.offset)


def refresh(c: Any, highs: Any = None) -> Changes:
    """Re-evaluate ``c``'s parametric numbers and variable states; return what changed.

    ``highs`` holds the model as last sent; its column bounds are read back when
    :meth:`~solver.highs.compile.Compiled.slim` dropped ours.
    """
    if c.layout is None:
        c.layout = Layout(c)
    layout: Layout = c.layout
    with evaluating():
        run = layout.tape.run()
        remember(layout.ids, run[layout.places].tolist())
        changes = Changes()
        _bounds(c, highs, changes)
    if len(layout.coef_rows):
        pos = layout.coef_positions(c)
        new = layout.coefs.values(run)
        moved = np.flatnonzero(c.value[pos] != new)
        c.value[pos[moved]] = new[moved]
        changes.coefs = list(zip(layout.coef_rows[moved].tolist(),
                                 layout.coef_cols[moved].tolist(), new[moved].tolist(),
                                 strict=True))
    if len(layout.rows):
        const = layout.constants.values(run)
        lower = np.where(layout.no_lower, -INF, run[layout.lower] - const)
        upper = np.where(layout.no_upper, INF, run[layout.upper] - const)
        rows = layout.rows
        moved = np.flatnonzero((lower != c.row_lower[rows]) | (upper != c.row_upper[rows]))
        if len(moved):
            at = rows[moved]
            c.row_lower[at], c.row_upper[at] = lower[moved], upper[moved]
            at = at.astype(np.int32)
            changes.rows = (at, c.row_lower[at], c.row_upper[at])
    if len(layout.cost_cols):
        new = layout.costs.values(run)
        moved = np.flatnonzero(c.cost[layout.cost_cols] != new)
        if len(moved):
            at = layout.cost_cols[moved]
            c.cost[at] = new[moved]
            at = at.astype(np.int32)
            changes.costs = (at, c.cost[at])
    if len(layout.offset.plain):
        offset = float(layout.offset.values(run)[0])
        if offset != c.offset:
            c.offset = changes.offset = offset
    return changes


def _bounds(c: Any, highs: Any, changes: Changes) -> None:
    """The columns' bounds and integrality read again; what moved goes into ``changes``."""
    bounds = column_bounds(c.declared, c.layout.bounds)
    if c.bounds.lower is None:
        n = c.n_cols
        _, _, _, sent_lower, sent_upper, _ = highs.getCols(n, np.arange(n, dtype=np.int32))
        c.bounds.lower = np.asarray(sent_lower, dtype=float)
        c.bounds.upper = np.asarray(sent_upper, dtype=float)
    moved = np.flatnonzero((bounds.lower != c.bounds.lower) | (bounds.upper != c.bounds.upper))
    if len(moved):
        changes.bounds = (moved, bounds.lower[moved], bounds.upper[moved])
    kind = np.flatnonzero(bounds.integer != c.bounds.integer)
    if len(kind):
        changes.integrality = (kind, bounds.integer[kind])
    c.bounds = bounds


def _entry(c: Any, row: int, col: int) -> int:
    lo, hi = int(c.start[row]), int(c.start[row + 1])
    return lo + int(np.flatnonzero(c.index[lo:hi] == col)[0])
