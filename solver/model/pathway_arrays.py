"""The pathway model's matrices straight from numpy (README, Pathways).

The array form of :func:`solver.model.pathway.build_pathway`, as
:mod:`solver.model.assembly` is of :func:`solver.model.build.build`: each period's model is
assembled by :func:`~solver.model.assembly.assemble` (its case without capacity cost and
budget, as the Pyomo block is built), and the pathway's own columns and rows are added around
them in the order the compiled Pyomo model has them: columns ``b``, ``x``, then each period's;
rows ``retirement``, ``in_service``, ``budget``, then each period's. The math is in the
docstrings of :mod:`solver.model.pathway`; ``tests/test_assembly.py`` proves the matrices
equal to the compiled Pyomo model's, entry by entry, on random pathways.

:func:`assemble_pathway` returns None where a period has no array form (then the pathway is
built in Pyomo).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.periods import Period, period_cases
from solver.highs.compile import Compiled
from solver.highs.reading import INF, Bounds
from solver.model.assembly import Assembled, assemble
from solver.model.data import ModelData
from solver.model.matrix_blocks import NamedBlock, Names
from solver.model.pathway import PathwayTerms, build_keys, pathway_numbers


@dataclass
class Keys:
    """The keys of the pathway's ``b[c,tau]`` and ``x[c,t]`` in column order.

    Stands in for the Pyomo model's components where only their keys are read
    (``path.m.b.keys()``).
    """

    b: dict[tuple[int, int], int]
    x: dict[tuple[int, int], int]


@dataclass
class PathwayArrays(PathwayTerms):
    """A pathway built as matrices: what :func:`solver.solve_pathway` reads, and the matrices.

    ``m`` holds the keys of ``b`` and ``x``, ``blocks`` each period's :class:`Assembled`
    (their matrices dropped); ``compiled`` is dropped once HiGHS holds the model
    (:meth:`release`).
    """

    m: Keys = field(default_factory=lambda: Keys({}, {}))
    blocks: list[Assembled] = field(default_factory=list)
    compiled: Compiled | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def release(self) -> None:
        """Drop the matrices (HiGHS keeps its own copy)."""
        self.compiled = None


@dataclass
class _Rows:
    """Rows under construction: entries row by row, bounds, names."""

    row: list[np.ndarray]
    col: list[np.ndarray]
    value: list[np.ndarray]
    lower: list[np.ndarray]
    upper: list[np.ndarray]
    names: list[NamedBlock]
    n: int = 0

    def add(self, name: str, rows: list[list[int]], values: list[list[float]],
            lower: float, upper: Any) -> None:
        """Add one row per list of columns ``rows`` (with ``values``); ``upper``: per row."""
        counts = np.array([len(r) for r in rows], dtype=np.int64)
        self.add_entries(name, len(rows), [np.repeat(np.arange(len(rows)), counts)],
                         [np.array([j for r in rows for j in r], dtype=np.int64)],
                         [np.array([v for r in values for v in r], dtype=float)], lower, upper)

    def add_entries(self, name: str, n: int, row: list[np.ndarray], col: list[np.ndarray],
                    value: list[np.ndarray], lower: float, upper: Any) -> None:
        """Add ``n`` rows from parts of entries (``row``: within the block).

        As :meth:`solver.model.assembly.Assembly.add_rows`: a row's entries in the parts' order.
        """
        if n == 0:
            return
        rows = np.concatenate(row)
        order = np.argsort(rows, kind="stable")
        self.row.append(rows[order] + self.n)
        self.col.append(np.concatenate(col)[order])
        self.value.append(np.concatenate(value)[order])
        self.lower.append(np.full(n, lower))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)))
        self.names.append(NamedBlock(name, self.n, n))
        self.n += n


def assemble_pathway(case: Case) -> PathwayArrays | None:
    """The matrices of ``build_pathway(case)`` made with numpy; None if a period has no array form.

    Objective: ``sum_t w_t cost_t`` (:func:`solver.model.pathway.build_pathway`).
    """
    pairs = period_cases(case)
    periods = [p for p, _ in pairs]
    cases = [c for _, c in pairs]
    numbers = pathway_numbers(case, periods, cases)
    blocks: list[Assembled] = []
    like: tuple[Case, ModelData] | None = None
    for c_t in cases:
        free = c_t.capabilities.assign(unit_cost=0.0)
        block_case = replace(c_t, capabilities=free,
                             objective=c_t.objective.model_copy(update={"budget": None}))
        # Periods mostly differ in numbers only: an earlier period's flows are reused where
        # they would come out the same.
        block = assemble(block_case, like=like)
        if block is None or block.compiled is None:
            return None
        like = (block_case, block.data)
        blocks.append(block)
    capabilities = case.capabilities[["partner", "layer"]].reset_index(drop=True)
    b_keys = build_keys(numbers["serves"], numbers["max_build"])
    x_keys = [(c, t) for c, t in np.argwhere(numbers["base"] > 0).tolist()]
    n_b, n_x = len(b_keys), len(x_keys)
    b_col = dict(zip(b_keys, range(n_b), strict=True))
    x_col = dict(zip(x_keys, range(n_b, n_b + n_x), strict=True))
    # The column of b[c,tau] and of x[c,t] (-1: none).
    b_at = np.full(numbers["cost"].shape, -1, dtype=np.int64)
    x_at = np.full(numbers["base"].shape, -1, dtype=np.int64)
    if n_b:
        b_at[tuple(np.asarray(b_keys).T)] = np.arange(n_b)
    if n_x:
        x_at[tuple(np.asarray(x_keys).T)] = np.arange(n_b, n_b + n_x)
    block_start = np.cumsum([n_b + n_x] + [cast(Compiled, b.compiled).n_cols for b in blocks])

    rows = _Rows([], [], [], [], [], [])
    serves, cost, ex_cost = numbers["serves"], numbers["cost"], numbers["existing_cost"]
    retirement_rows(rows, x_col)

    in_service_rows(rows, blocks, block_start, capabilities, x_at, b_at, serves)

    budgets = [c.objective.budget for c in cases]
    use = [t for t, b in enumerate(budgets) if b is not None]
    spent = [_spent(t, blocks[t], int(block_start[t]), b_col, x_col, cost, ex_cost, serves)
             for t in use]
    rows.add("budget", [s[0] for s in spent], [s[1] for s in spent], -INF,
             [float(budgets[t] or 0.0) for t in use])

    compiled = _stack(rows, blocks, block_start, n_b, n_x, numbers, periods, b_keys, x_keys)
    columns: dict[str, np.ndarray] = {}
    for t, block in enumerate(blocks):
        columns.update({f"{name}@{t}": (cols + block_start[t]).astype(np.int32)
                        for name, cols in block.columns.items()})
    columns.update(b=np.arange(n_b, dtype=np.int32), x=np.arange(n_b, n_b + n_x, dtype=np.int32))
    for block in blocks:
        block.release()
    return PathwayArrays(m=Keys(b=b_col, x=x_col), periods=periods, cases=cases, blocks=blocks,
                         capabilities=capabilities, compiled=compiled, columns=columns,
                         **numbers)


def retirement_rows(rows: _Rows, x_col: dict[tuple[int, int], int]) -> None:
    """retirement: ``x[c,t] - x[c,t-1] <= 0`` (:func:`solver.model.pathway.add_retirement`).

    The second term only where ``x[c,t-1]`` exists (else ``x[c,t] <= 0``).
    """
    kept = [(c, t) for c, t in x_col if t > 0]
    rows.add("retirement", [[x_col[(c, t)], *([x_col[(c, t - 1)]] if (c, t - 1) in x_col else [])]
                            for c, t in kept],
             [[1.0, -1.0][: 1 + ((c, t - 1) in x_col)] for c, t in kept], -INF, 0.0)


def in_service_rows(rows: _Rows, blocks: list[Assembled], block_start: np.ndarray,
                    capabilities: pd.DataFrame, x_at: np.ndarray, b_at: np.ndarray,
                    serves: np.ndarray) -> None:
    """in_service: ``k[a,t] - x[c,t] - sum_{tau: in service in t} b[c,tau] = 0``.

    For every pair a = (p, l) = capability c of period t's model
    (:func:`solver.model.pathway.add_in_service`); ``x_at``/``b_at`` hold the columns of
    ``x``/``b`` (-1: none).
    """
    index = {(p, la): c for c, (p, la) in enumerate(
        zip(capabilities["partner"], capabilities["layer"], strict=True))}
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    first = 0
    for t, block in enumerate(blocks):
        pp = block.data.pairs
        c_of = np.array([index[key] for key in zip(pp["partner"], pp["layer"], strict=True)],
                        dtype=np.int64)
        at = np.arange(len(c_of))
        terms = [(at, int(block_start[t]) + block.columns["k"].astype(np.int64), 1.0)]
        terms.append(_present(at, x_at[c_of, t]))
        terms += [_present(at, np.where(serves[c_of, tau, t], b_at[c_of, tau], -1))
                  for tau in range(t + 1)]
        for r, col, v in terms:
            parts[0].append(r + first)
            parts[1].append(col)
            parts[2].append(np.full(len(r), v))
        first += len(c_of)
    rows.add_entries("in_service", first, *parts, 0.0, 0.0)


def _present(at: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The entries ``-1 * column`` of the rows ``at`` whose column exists (not -1)."""
    has = col >= 0
    return at[has], col[has], -1.0


def _spent(t: int, block: Assembled, start: int, b_col: dict[tuple[int, int], int],
           x_col: dict[tuple[int, int], int], cost: np.ndarray, ex_cost: np.ndarray,
           serves: np.ndarray) -> tuple[list[int], list[float]]:
    """Period t's budget row: vintages in service, base kept, fixed, trade and input trade."""
    cols = [j for (c, tau), j in b_col.items() if serves[c, tau, t] and cost[c, tau] != 0]
    vals = [float(cost[c, tau]) for (c, tau) in b_col if serves[c, tau, t] and cost[c, tau] != 0]
    for (c, s), j in x_col.items():
        if s == t and ex_cost[c, s] != 0:
            cols.append(j)
            vals.append(float(ex_cost[c, s]))
    block_cost = cast(Compiled, block.compiled).cost
    # The block's costs on y, f and g are exactly fixed_cost, trade_cost and input_trade_cost.
    for name in ("y", "f", "g"):
        group = block.columns.get(name)
        if group is None:
            continue
        use = group[block_cost[group] != 0]
        cols += (use + start).tolist()
        vals += block_cost[use].tolist()
    return cols, vals


def _stack(rows: _Rows, blocks: list[Assembled], block_start: np.ndarray, n_b: int, n_x: int,
           numbers: dict[str, Any], periods: list[Period], b_keys: list[tuple[int, int]],
           x_keys: list[tuple[int, int]]) -> Compiled:
    """The pathway's rows above the periods' blocks, columns b, x then each period's."""
    parts = [cast(Compiled, b.compiled) for b in blocks]
    n_top = rows.n
    row_parts = [np.concatenate(rows.row) if rows.row else np.zeros(0, np.int64)]
    col_parts = [np.concatenate(rows.col) if rows.col else np.zeros(0, np.int64)]
    val_parts = [np.concatenate(rows.value) if rows.value else np.zeros(0)]
    names = list(rows.names)
    at = n_top
    for t, p in enumerate(parts):
        counts = np.diff(p.start)
        row_parts.append(np.repeat(np.arange(at, at + p.n_rows), counts))
        col_parts.append(p.index.astype(np.int64) + int(block_start[t]))
        val_parts.append(p.value)
        names += [NamedBlock(f"period_{t}.{b.name}", b.start + at, b.n)
                  for b in cast(Names, p.constraints).blocks]
        at += p.n_rows
    row = np.concatenate(row_parts)
    start = np.zeros(at + 1, dtype=np.int32)
    np.cumsum(np.bincount(row, minlength=at), out=start[1:])

    serves, cost, ex_cost = numbers["serves"], numbers["cost"], numbers["existing_cost"]
    n_cols = int(block_start[-1])
    c_vec = np.zeros(n_cols)
    offset = 0.0
    b_arr = np.array(b_keys, dtype=np.int64).reshape(-1, 2)
    x_arr = np.array(x_keys, dtype=np.int64).reshape(-1, 2)
    # sum_t w_t (block cost_t + vintages in service in t + base kept in t), period by period.
    for t, (period, p) in enumerate(zip(periods, parts, strict=True)):
        w = period.weight
        lo = int(block_start[t])
        use = np.flatnonzero(p.cost)
        c_vec[lo + use] += w * p.cost[use]
        offset += w * p.offset
        c, tau = b_arr[:, 0], b_arr[:, 1]
        on = np.flatnonzero(serves[c, tau, t] & (cost[c, tau] != 0))
        c_vec[on] += w * cost[c[on], tau[on]]
        on = np.flatnonzero((x_arr[:, 1] == t) & (ex_cost[x_arr[:, 0], x_arr[:, 1]] != 0))
        c_vec[n_b + on] += w * ex_cost[x_arr[on, 0], t]

    lower = np.concatenate([np.zeros(n_b + n_x), *(p.bounds.lower for p in parts)])
    upper = np.concatenate([numbers["max_build"][b_arr[:, 0], b_arr[:, 1]],
                            numbers["base"][x_arr[:, 0], x_arr[:, 1]],
                            *(p.bounds.upper for p in parts)])
    integer = np.concatenate([np.zeros(n_b + n_x, dtype=np.uint8),
                              *(p.bounds.integer for p in parts)])
    columns = [NamedBlock("b", 0, n_b), NamedBlock("x", n_b, n_x)]
    for t, p in enumerate(parts):
        columns += [NamedBlock(f"period_{t}.{b.name}", b.start + int(block_start[t]), b.n)
                    for b in cast(Names, p.declared).blocks]
    return Compiled(
        declared=cast(list[Any], Names(columns)), spans={},
        constraints=cast(list[Any], Names(names)), objective=None, sense=1, cost=c_vec,
        offset=offset, bounds=Bounds(lower=lower, upper=upper, integer=integer),
        row_lower=np.concatenate([*rows.lower, *(p.row_lower for p in parts)]),
        row_upper=np.concatenate([*rows.upper, *(p.row_upper for p in parts)]),
        start=start, index=np.concatenate(col_parts).astype(np.int32),
        value=np.concatenate(val_parts))
