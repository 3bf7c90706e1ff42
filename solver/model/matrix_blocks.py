"""The matrices under construction for the array path (:mod:`solver.model.assembly`).

:class:`Assembly` holds columns with their bounds and rows in named blocks of entries, as
the array forms of :mod:`solver.model.array_families` add them; :class:`Names` stands in
for the Pyomo components a :class:`~solver.highs.compile.Compiled` names in its messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from solver.highs.compile import Compiled
from solver.highs.reading import INF, Bounds
from solver.model.data import ModelData


@dataclass
class NamedBlock:
    """A component's rows (or columns): its name, first row (or column) and count."""

    name: str
    start: int
    n: int


class Names(Sequence[Any]):
    """Names of rows or columns by block (``hosting[3]``), made only when one is read.

    Stands in for the Pyomo components a :class:`Compiled` names in its messages.
    """

    def __init__(self, blocks: list[NamedBlock]) -> None:
        self._blocks = blocks
        self._starts = [b.start for b in blocks]

    def __len__(self) -> int:
        return sum(b.n for b in self._blocks)

    @property
    def blocks(self) -> list[NamedBlock]:
        """The named blocks, in order."""
        return self._blocks

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        b = self._blocks[int(np.searchsorted(self._starts, i, side="right")) - 1]
        return _Named(f"{b.name}[{int(i) - b.start}]")


@dataclass(frozen=True)
class _Named:
    name: str


@dataclass
class Assembly:
    """The matrices under construction: columns with bounds, rows in blocks of entries.

    The columns are those of :func:`solver.model.build.build`, in its order: ``y``, ``k``,
    ``q``, ``f``, ``built``, then ``g`` (with inputs), ``z`` and ``u`` (with shortage), then
    any a family adds (:meth:`add_columns`). ``col[name]`` is a group's first column.
    """

    data: ModelData
    arrays: dict[str, np.ndarray]
    shortage: bool
    col: dict[str, int] = field(default_factory=dict)
    groups: list[NamedBlock] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    blocks: list[NamedBlock] = field(default_factory=list)
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    row_lower: list[np.ndarray] = field(default_factory=list)
    row_upper: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        d = self.data
        self.n_pairs, self.n_rows, self.n_flows = d.n_pairs, len(d.rows), d.n_flows
        self.n_layers, self.n_partners = len(d.layers), len(d.partners)
        self.D = np.asarray(d.layer_demand, dtype=float)
        self.pair_layer = np.asarray(d.pair_layer, dtype=np.int64)
        self.pair_partner = np.asarray(d.pair_partner, dtype=np.int64)
        self.flow_row = np.asarray(d.flow_row, dtype=np.int64)
        self.flow_pair = np.asarray(d.flow_pair, dtype=np.int64)
        self.flow_domestic = d.flows["domestic"].to_numpy(dtype=bool)

    @property
    def n_cols(self) -> int:
        """Columns so far."""
        return sum(b.n for b in self.groups)

    def add_columns(self, name: str, n: int, integer: bool = False) -> int:
        """Add ``n`` columns named ``name`` (``[0, 1]`` if integer, else ``[0, inf)``)."""
        start = self.n_cols
        self.col[name] = start
        self.groups.append(NamedBlock(name, start, n))
        self.lower.append(np.zeros(n))
        self.upper.append(np.ones(n) if integer else np.full(n, INF))
        self.integer.append(np.full(n, 1 if integer else 0, dtype=np.uint8))
        return start

    def set_bounds(self, name: str, at: np.ndarray, lower: np.ndarray | None = None,
                   upper: np.ndarray | None = None) -> None:
        """Bound columns ``at`` of group ``name``, as Pyomo's ``setlb``/``setub`` would.

        The bound is the tighter of the one set and the domain's (``[0, 1]`` or ``[0, inf)``).
        """
        g = next(i for i, b in enumerate(self.groups) if b.name == name)
        if lower is not None:
            self.lower[g][at] = np.maximum(lower, 0.0)
        if upper is not None:
            cap = 1.0 if self.integer[g][0:1].any() else INF
            self.upper[g][at] = np.minimum(upper, cap)

    def add_rows(self, name: str, n: int, row: Sequence[np.ndarray], col: Sequence[np.ndarray],
                 value: Sequence[np.ndarray], lower: Any, upper: Any) -> None:
        """Add ``n`` rows ``lower <= sum value * x[col] <= upper`` as block ``name``.

        ``row``, ``col`` and ``value`` are parts of the entries (the row of each entry within
        the block); entries of a row keep the order of the parts, then of each part, as the
        terms of its Pyomo body. A bound is a number or an array (``None``: none).
        """
        if n == 0:
            return
        rows = np.concatenate([np.asarray(r, dtype=np.int64) for r in row])
        order = np.argsort(rows, kind="stable")
        start = sum(b.n for b in self.blocks)
        self.blocks.append(NamedBlock(name, start, n))
        self.entries.append((rows[order] + start,
                             np.concatenate([np.asarray(c, dtype=np.int64) for c in col])[order],
                             np.concatenate([np.asarray(v, dtype=float) for v in value])[order]))
        self.row_lower.append(np.broadcast_to(np.asarray(
            -INF if lower is None else lower, dtype=float), (n,)))
        self.row_upper.append(np.broadcast_to(np.asarray(
            INF if upper is None else upper, dtype=float), (n,)))

    def compiled(self, cost: np.ndarray, offset: float) -> Compiled:
        """The matrices as HiGHS takes them (row-wise), with the objective's ``cost``."""
        n_rows = sum(b.n for b in self.blocks)
        rows = np.concatenate([e[0] for e in self.entries]) if self.entries else np.zeros(0, int)
        start = np.zeros(n_rows + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=start[1:])
        index = (np.concatenate([e[1] for e in self.entries]) if self.entries
                 else np.zeros(0)).astype(np.int32)
        value = np.concatenate([e[2] for e in self.entries]) if self.entries else np.zeros(0)
        bounds = Bounds(lower=np.concatenate(self.lower), upper=np.concatenate(self.upper),
                        integer=np.concatenate(self.integer))
        # Names stand in for the variables and rows: only their names are read (messages).
        return Compiled(
            declared=cast(list[Any], Names(self.groups)), spans={},
            constraints=cast(list[Any], Names(self.blocks)),
            objective=None, sense=1, cost=cost, offset=offset, bounds=bounds,
            row_lower=_joined(self.row_lower), row_upper=_joined(self.row_upper),
            start=start, index=index, value=value)

    def columns(self) -> dict[str, np.ndarray]:
        """The columns of each variable group, as :func:`solver.solve.variable_groups` names."""
        return {b.name: np.arange(b.start, b.start + b.n, dtype=np.int32) for b in self.groups}


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)
