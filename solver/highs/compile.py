"""Compile a linear Pyomo model into HiGHS's matrices, and keep them in step with it.

Pyomo is the model's single definition; this module only reads it. It is the hand-over of
:mod:`solver.highs.runner`, measured against Pyomo's own routes (``make bench``): at a million
variables Pyomo's contrib HiGHS interface took 10.6 s to hand a model over and its
``LinearStandardFormCompiler`` 5.1 s (plus scipy), against 1.6 s here.

The speed comes from reading the model the way it is stored: a constraint body built as a
``LinearExpression`` keeps its terms as a flat list of variables and ``coef * var`` monomials,
so the columns of all terms are found at once with numpy (variables by their ``id``), and
only the monomials and constants are visited one by one in Python. Any other linear body
goes through Pyomo's standard representation, so every linear model compiles. Columns are
the model's variables in declaration order.

A number that is not a plain float (a mutable ``Param``, or an expression of them) is
evaluated, and remembered: :meth:`Compiled.refresh` re-evaluates exactly those numbers, and
re-reads every variable's bounds, domain and fixed state, and returns what changed, so that
a re-solve sends HiGHS only the changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solver.highs.reading import (
    HUGE,
    INF,
    PLAIN,
    Bounds,
    Columns,
    active_constraints,
    active_objective,
    column_bounds,
    evaluating,
    members,
    model_variables,
    number,
    same_object,
)
from solver.highs.refresh import Changes, refresh


@dataclass
class Compiled:
    """A model as HiGHS's row-wise matrix, plus what may change between solves."""

    declared: list[Any]
    spans: dict[int, tuple[int, int]]
    constraints: list[Any]
    objective: Any
    sense: int
    cost: np.ndarray
    offset: float
    bounds: Bounds
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    # Numbers that are expressions of mutable parameters, re-evaluated by refresh():
    param_coefs: list[tuple[int, int, _Sum]] = field(default_factory=list)
    param_rows: dict[int, tuple[Any, Any, _Sum]] = field(default_factory=dict)
    param_costs: list[tuple[int, _Sum]] = field(default_factory=list)
    param_offset: _Sum | None = None
    _columns: Columns | None = None
    layout: Any = None  # where refresh() finds each number above (solver/highs/refresh.py)

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.declared)

    @property
    def columns(self) -> Columns:
        """The variables in column order, with their lookup (made when first needed)."""
        if self._columns is None:
            self._columns = Columns.of(self.declared)
        return self._columns

    def slim(self) -> None:
        """Drop what only the first hand-over needs.

        That is the matrix (unless parameters are in it), the costs (unless parameters are
        in them), the column bounds (HiGHS has them) and the column lookup.
        """
        empty = np.zeros(0)
        if not self.param_coefs:
            self.start, self.index, self.value = empty.astype(np.int32), \
                empty.astype(np.int32), empty
        if not self.param_costs:
            self.cost = empty
        # HiGHS holds the column bounds: read back on the next refresh, not kept twice.
        self.bounds.lower = self.bounds.upper = None  # type: ignore[assignment]
        self._columns = None

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.row_lower)

    @property
    def is_mip(self) -> bool:
        """Whether some column is integer."""
        return bool(self.bounds.integer.any())

    def pass_to(self, highs: Any) -> None:
        """Load the whole model into ``highs`` (replacing what it held).

        Raises :class:`~solver.errors.UsageError` if a number is too large for HiGHS: each
        number of a case is at most 1e12, but products of them (value x demand in the
        participation rows, say) may not be.
        """
        from solver.errors import UsageError

        huge = self.too_large()
        if huge:
            raise UsageError(f"{huge}, above {HUGE:g}, where HiGHS takes numbers as "
                             "infinite; the case's numbers multiply to it: use larger units "
                             "(thousands, millions)")
        status = _pass(highs, self)
        if status is not None:
            self._merge_duplicates()
            status = _pass(highs, self)
            if status is not None:
                raise RuntimeError(f"HiGHS refused the model: {status}")

    def too_large(self) -> str | None:
        """The first number of the model above :data:`HUGE`, named; None if there is none."""

        def first(values: np.ndarray) -> int | None:
            big = np.flatnonzero(np.isfinite(values) & (np.abs(values) > HUGE))
            return int(big[0]) if len(big) else None

        for name, bounds in (("lower bound", self.row_lower), ("upper bound", self.row_upper)):
            i = first(bounds)
            if i is not None:
                return f"the {name} of row {self.constraints[i].name} is {bounds[i]:g}"
        k = first(self.value)
        if k is not None:
            row = int(np.searchsorted(self.start, k, side="right")) - 1
            return f"a coefficient of row {self.constraints[row].name} is {self.value[k]:g}"
        for name, values in (("cost", self.cost), ("lower bound", self.bounds.lower),
                             ("upper bound", self.bounds.upper)):
            j = first(values)
            if j is not None:
                return f"the {name} of variable {self.declared[j].name} is {values[j]:g}"
        return None

    def _merge_duplicates(self) -> None:
        """Sum repeated (row, column) entries (HiGHS refuses a matrix with repeats)."""
        rows = np.repeat(np.arange(self.n_rows), np.diff(self.start))
        key = rows.astype(np.int64) * max(self.n_cols, 1) + self.index
        uniq, inverse = np.unique(key, return_inverse=True)
        value = np.zeros(len(uniq))
        np.add.at(value, inverse, self.value)
        keep_rows = (uniq // max(self.n_cols, 1)).astype(np.int64)
        self.index = (uniq % max(self.n_cols, 1)).astype(np.int32)
        self.value = value
        self.start = _starts(keep_rows, self.n_rows)

    def same_structure(self, model: Any) -> bool:
        """Whether ``model`` still has these variables, active rows and objective."""
        variables = model_variables(model)
        if len(variables) != len(self.declared) or not all(
                map(same_object, variables, self.declared)):
            return False
        rows = active_constraints(model)
        if len(rows) != len(self.constraints) or not all(map(same_object, rows, self.constraints)):
            return False
        return active_objective(model) is self.objective

    def refresh(self, highs: Any = None) -> Changes:
        """Re-evaluate parametric numbers and variable states; return what changed.

        ``highs`` holds the model as last sent; its column bounds are read back when
        :meth:`slim` dropped ours (:func:`solver.highs.refresh.refresh`).
        """
        return refresh(self, highs)


def _starts(rows: np.ndarray, n_rows: int) -> np.ndarray:
    start = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=start[1:])
    return start


def _pass(highs: Any, c: Compiled) -> Any:
    """``passModel``; return the status if HiGHS did not accept the model, else None."""
    import highspy

    status = highs.passModel(
        c.n_cols, c.n_rows, len(c.value), 2, c.sense, float(c.offset), c.cost,
        c.bounds.lower, c.bounds.upper, c.row_lower, c.row_upper, c.start, c.index,
        c.value, c.bounds.integer.astype(np.int32))
    return None if status != highspy.HighsStatus.kError else status


def compile_model(model: Any) -> Compiled:
    """Compile the active constraints and objective of a linear ``model`` for HiGHS."""
    with evaluating():
        return _compile_model(model)


def _compile_model(model: Any) -> Compiled:
    from pyomo.core.base.objective import maximize

    spans: dict[int, tuple[int, int]] = {}
    declared = model_variables(model, spans)
    columns = Columns.of(declared)
    constraints = active_constraints(model)
    objective = active_objective(model)
    terms = _Terms(columns)
    lowers: list[Any] = []
    uppers: list[Any] = []
    for con in constraints:
        lo, body, hi = con.to_bounded_expression()
        terms.add(body)
        lowers.append(lo)
        uppers.append(hi)
    n_rows = len(constraints)
    terms.add(objective.expr if objective is not None else None)
    e = terms.resolve()

    # The objective is the last "row": its terms become costs, its constant the offset.
    at = e.row == n_rows
    cost = np.zeros(len(columns))
    np.add.at(cost, e.col[at], e.value[at])
    offset = float(e.const[n_rows]) + sum(number(x) for x in e.const_params.get(n_rows, []))
    param_offset = _Sum.of(offset, e.const_params.get(n_rows, []))
    param_costs = [(col, _Sum.of(float(cost[col]), exprs))
                   for (r, col), exprs in e.params.items() if r == n_rows]

    # Terms were collected row after row, so the entries are already in row order.
    inside = ~at
    row, index, value = e.row[inside], e.col[inside].astype(np.int32), e.value[inside]
    const = e.const[:n_rows].copy()
    for r, exprs in e.const_params.items():
        if r < n_rows:
            const[r] += sum(number(x) for x in exprs)
    lower, lower_params = _numbers(lowers, -INF)
    upper, upper_params = _numbers(uppers, INF)
    row_lower, row_upper = lower - const, upper - const
    param_rows: dict[int, tuple[Any, Any, _Sum]] = {}
    for r in sorted(lower_params | upper_params | (e.const_params.keys() - {n_rows})):
        param_rows[r] = (lowers[r], uppers[r],
                         _Sum.of(float(const[r]), e.const_params.get(r, [])))
    start = _starts(row, n_rows)
    param_coefs = []
    for (r, c_), exprs in e.params.items():
        if r < n_rows:
            lo_, hi_ = int(start[r]), int(start[r + 1])
            total = float(value[lo_:hi_][index[lo_:hi_] == c_].sum())
            param_coefs.append((r, c_, _Sum.of(total, exprs)))
    sense = -1 if objective is not None and objective.sense == maximize else 1
    return Compiled(
        declared=declared, spans=spans,
        constraints=constraints, objective=objective,
        sense=sense, cost=cost,
        offset=offset, bounds=column_bounds(declared), row_lower=row_lower,
        row_upper=row_upper, start=start, index=index, value=value, param_coefs=param_coefs,
        param_rows=param_rows, param_costs=param_costs, param_offset=param_offset)


def _numbers(values: list[Any], missing: float) -> tuple[np.ndarray, set[int]]:
    """``values`` as floats (``None`` is ``missing``), and the positions of expressions."""
    raw = np.fromiter(values, dtype=object, count=len(values))
    raw[raw == None] = missing  # noqa: E711  (elementwise, on an object array)
    try:
        return raw.astype(float), set()
    except (TypeError, ValueError):
        at = [i for i, x in enumerate(values) if x is not None and x.__class__ not in PLAIN]
        for i in at:
            raw[i] = number(values[i])
        return raw.astype(float), set(at)


class _Sum:
    """A plain part plus expressions of mutable parameters: one number, re-evaluated."""

    __slots__ = ("exprs", "plain")

    def __init__(self, plain: float, exprs: list[Any]) -> None:
        self.plain, self.exprs = plain, exprs

    @classmethod
    def of(cls, total: float, exprs: list[Any]) -> _Sum:
        """The sum whose value is ``total`` now, of which ``exprs`` are the parametric part."""
        return cls(total - sum(number(x) for x in exprs), exprs)

    def __float__(self) -> float:
        return self.plain + sum(number(x) for x in self.exprs)


@dataclass
class _Entries:
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    const: np.ndarray
    params: dict[tuple[int, int], list[Any]]
    const_params: dict[int, list[Any]]


class _Terms:
    """Collects the terms of many linear bodies, then finds all their columns at once."""

    def __init__(self, columns: Columns) -> None:
        from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

        self.columns = columns
        self.flat: list[Any] = []
        self.lengths: list[int] = []
        self._linear = LinearExpression
        self._monomial = MonomialTermExpression

    def add(self, body: Any) -> None:
        """Add one body (a row); terms are kept as objects until :meth:`resolve`."""
        if body.__class__ is self._linear:
            args = body.args
        elif body is None:
            args = []
        elif body.__class__ in PLAIN or body.__class__ is self._monomial or \
                body.is_variable_type():
            args = [body]
        else:
            args = self._generic(body)
        self.flat.extend(args)
        self.lengths.append(len(args))

    def _generic(self, body: Any) -> list[Any]:
        """Any other linear body, through Pyomo's standard representation, as monomials.

        Coefficients are kept as expressions (``compute_values=False``), so that a mutable
        parameter in them is seen and refreshed like anywhere else.
        """
        from pyomo.repn import generate_standard_repn

        repn = generate_standard_repn(body, compute_values=False, quadratic=False)
        if not repn.is_linear():
            raise ValueError(f"not a linear expression: {body}")
        args: list[Any] = [self._monomial((coef, var)) for coef, var in
                           zip(repn.linear_coefs, repn.linear_vars, strict=True)]
        if repn.constant.__class__ not in PLAIN or repn.constant:
            args.append(repn.constant)
        return args

    def resolve(self) -> _Entries:
        """Columns and coefficients of every term; constants moved out per row."""
        n = len(self.flat)
        row = np.repeat(np.arange(len(self.lengths), dtype=np.int64),
                        np.asarray(self.lengths, dtype=np.int64))
        col, hit = self.columns.find(self.flat)
        value = np.ones(n)
        keep = np.ones(n, dtype=bool)
        const = np.zeros(len(self.lengths))
        params: dict[tuple[int, int], list[Any]] = {}
        const_params: dict[int, list[Any]] = {}
        monomial = self._monomial
        missing = np.flatnonzero(~hit).tolist()
        terms = [self.flat[p] for p in missing]
        kinds = list(map(type, terms))
        at = [p for p, k in zip(missing, kinds, strict=True) if k is monomial]
        if at:
            pairs = [t.args for t, k in zip(terms, kinds, strict=True) if k is monomial]
            coefs = [c for c, _ in pairs]
            found, ok = self.columns.find([v for _, v in pairs])
            if not ok.all():
                raise KeyError(f"{pairs[int(np.flatnonzero(~ok)[0])][1].name} is not a "
                               "variable of the model being solved")
            col[at] = found
            if set(map(type, coefs)) <= {float, int}:
                value[at] = coefs
            else:
                for p, c in zip(at, coefs, strict=True):
                    value[p] = number(c)
                    if c.__class__ not in PLAIN:
                        params.setdefault((int(row[p]), int(col[p])), []).append(c)
        for p, term, kind in zip(missing, terms, kinds, strict=True):
            if kind is monomial:
                continue
            r = int(row[p])
            if kind in PLAIN:
                const[r] += term
                keep[p] = False
            elif term.is_variable_type():
                col[p] = self.columns.column(term)
            else:
                const_params.setdefault(r, []).append(term)
                keep[p] = False
        self.flat = []
        return _Entries(row=row[keep], col=col[keep], value=value[keep], const=const,
                        params=params, const_params=const_params)


def group_columns(compiled: Compiled, groups: dict[str, Any]) -> dict[str, np.ndarray]:
    """The columns of each named group of variables (an indexed Var, or a list of them)."""
    out = {}
    for name, var in groups.items():
        span = compiled.spans.get(id(var))
        if span is not None and len(var) == span[1] - span[0]:
            out[name] = np.arange(span[0], span[1], dtype=np.int32)
            continue
        found = members(var) if hasattr(var, "is_indexed") else list(var)
        col, hit = compiled.columns.find(found)
        if not hit.all():
            raise KeyError(f"group {name!r} has variables that are not in the model")
        out[name] = col.astype(np.int32)
    return out


__all__ = ["Changes", "Columns", "Compiled", "compile_model", "group_columns"]
