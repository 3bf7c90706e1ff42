"""The least core and the nucleolus over many groups, fast (README, Sharing the cost).

Groups are bit masks over the players (bit ``i`` is ``players[i]``), held in numpy arrays,
so 16 players' 65,534 proper groups are one matrix, not 65,534 sets.

Both come from the excess LP ``min eps`` s.t. ``x(N) = c(N)``, ``x(S) - eps <= c(S)`` for the
groups not yet fixed and ``x(S) = c(S) + e_S`` for the fixed ones. Its first solution is the
least core. The nucleolus minimises the excesses lexicographically, from the largest down
(Maschler, Peleg and Shapley 1979): each LP fixes the groups whose row has a non-zero dual
(tight in every optimal split) at that round's ``eps``, and then every free group whose
indicator is a combination of the fixed rows (its total, hence its excess, is the same in
every optimal split). The dependence test is exact and done for all free groups at once
against :class:`ExactBasis`, a basis of the fixed rows in reduced row echelon form with
integer entries; each round adds at least one independent row, so at most n rounds.

The nucleolus is taken on the imputation set: each share at most the player's standalone
cost ``x_i <= c({i})``. A standalone bound that is tight in every optimal split (non-zero
reduced cost) is fixed too, as a row ``x_i = c({i})`` of the basis. When ``c(N)`` is above the
sum of the standalone costs the set is empty and there is no nucleolus
(:class:`EmptyImputations`). Without the bounds the same rounds give the prenucleolus, which
may charge a player more than it pays alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np

Costs = Mapping[frozenset[str], float]

#: A row dual or reduced cost below this is taken as zero.
DUAL_TOL = 1e-9


class EmptyImputations(ValueError):
    """c(N) is above the sum of the standalone costs: no split gives everyone a saving."""


@dataclass
class GameTable:
    """Proper groups as bit masks with their costs, and the grand coalition's cost."""

    players: list[str]
    masks: np.ndarray
    costs: np.ndarray
    grand: float

    @property
    def n(self) -> int:
        """Number of players."""
        return len(self.players)

    def standalone(self) -> np.ndarray | None:
        """c({i}) of each player, or None if some singleton was not evaluated."""
        out = np.full(self.n, np.nan)
        singles = (self.masks & (self.masks - 1)) == 0
        bits = self.masks[singles]
        out[np.log2(bits).astype(int)] = self.costs[singles]
        return None if np.isnan(out).any() else out


def table_of(players: Sequence[str], c: Costs) -> GameTable:
    """The groups of ``c`` (every group evaluated but the empty and the grand one)."""
    index = {p: i for i, p in enumerate(players)}
    full = (1 << len(players)) - 1
    masks, costs = [], []
    for g, cost in c.items():
        m = sum(1 << index[p] for p in g)
        if 0 < m < full:
            masks.append(m)
            costs.append(float(cost))
    return GameTable(list(players), np.array(masks, dtype=np.int64),
                     np.array(costs, dtype=float), float(c[frozenset(players)]))


def indicators(masks: np.ndarray, n: int) -> np.ndarray:
    """The 0/1 membership matrix of ``masks`` (one row per group, one column per player)."""
    return ((masks[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.int8)


class ExactBasis:
    """Independent rows in reduced row echelon form, kept exactly, tested many at once.

    The basis is held as rationals (at most n rows), and as integers over a common
    denominator ``D`` (every entry of the echelon form is a ratio with the pivot minor's
    determinant as denominator, so ``D`` stays small for 0/1 rows). A row ``g`` depends on
    the basis exactly when ``D*g - g[pivots] @ (D*B)`` is zero, integer arithmetic.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[list[Fraction]] = []
        self.pivots: list[int] = []
        self._scaled: np.ndarray = np.zeros((0, n), dtype=np.int64)
        self._denominator = 1

    @property
    def rank(self) -> int:
        """Number of independent rows held."""
        return len(self.rows)

    def add(self, vector: Sequence[int]) -> bool:
        """Add ``vector`` if it is independent of the basis; return whether it was."""
        v = [Fraction(int(a)) for a in vector]
        for row, p in zip(self.rows, self.pivots, strict=True):
            if v[p]:
                f = v[p]
                v = [a - f * b for a, b in zip(v, row, strict=True)]
        nonzero = [j for j, a in enumerate(v) if a]
        if not nonzero:
            return False
        p = nonzero[0]
        v = [a / v[p] for a in v]
        self.rows = [[a - r[p] * b for a, b in zip(r, v, strict=True)] if r[p] else r
                     for r in self.rows]
        self.rows.append(v)
        self.pivots.append(p)
        self._rescale()
        return True

    def _rescale(self) -> None:
        d = lcm(*(a.denominator for row in self.rows for a in row))
        scaled = [[int(a * d) for a in row] for row in self.rows]
        biggest = max((abs(a) for row in scaled for a in row), default=0)
        # D*g - G[:, P] @ (D*B) must stay inside int64: otherwise Python integers.
        dtype: type = np.int64 if (biggest + d) * (self.n + 1) < 2**62 else object
        self._scaled = np.array(scaled, dtype=dtype)
        self._denominator = d

    def dependent(self, vectors: np.ndarray) -> np.ndarray:
        """For each row of the 0/1 matrix ``vectors``, whether it is in the basis's span."""
        if not self.rows:
            return np.asarray(~vectors.any(axis=1))
        g = vectors.astype(self._scaled.dtype)
        residual = g * self._denominator - g[:, self.pivots] @ self._scaled
        return ~residual.astype(bool).any(axis=1)


def least_core(players: Sequence[str], c: Costs) -> tuple[float, dict[str, float]]:
    """``eps* = min_x max_S (x(S) - c(S))`` over the proper groups in ``c``, and a split."""
    table = table_of(players, c)
    lp = _ExcessLP(table, upper=None)
    eps, x, _, _ = lp.solve()
    return eps, dict(zip(table.players, x.tolist(), strict=True))


def nucleolus(players: Sequence[str], c: Costs) -> dict[str, float]:
    """The nucleolus on the imputation set (each share at most the standalone cost).

    Needs every group. Raises :class:`EmptyImputations` when ``c(N)`` is above the sum of
    the standalone costs.
    """
    table = table_of(players, c)
    upper = table.standalone()
    if upper is None:
        raise ValueError("the nucleolus needs the cost of every player alone")
    if table.grand > upper.sum() + 1e-9 * max(abs(table.grand), 1.0):
        raise EmptyImputations(
            f"the imputation set is empty: the whole coalition costs {table.grand:.6g}, "
            f"more than its players alone ({upper.sum():.6g})")
    return _lexicographic(table, upper)


def prenucleolus(players: Sequence[str], c: Costs) -> dict[str, float]:
    """The prenucleolus: the same lexicographic minimum over every split of ``c(N)``.

    Unlike :func:`nucleolus` it may charge a player more than its standalone cost.
    """
    return _lexicographic(table_of(players, c), None)


def _lexicographic(table: GameTable, upper: np.ndarray | None) -> dict[str, float]:
    n = table.n
    lp = _ExcessLP(table, upper)
    basis = ExactBasis(n)
    basis.add([1] * n)
    while True:
        eps, x, row_dual, col_dual = lp.solve()
        tight = np.flatnonzero(np.abs(row_dual) > DUAL_TOL)
        for i in tight.tolist():
            basis.add(lp.vectors[lp.free_at[i]])
        lp.fix(tight, eps)
        if upper is not None:
            for i in np.flatnonzero(np.abs(col_dual) > DUAL_TOL).tolist():
                lp.pin(i)
                basis.add([1 if j == i else 0 for j in range(n)])
        if basis.rank >= n or not len(lp.free_at) or not len(tight):
            # Rank n: one split is left. No tight row: numerically degenerate, and the
            # split found is as good as any.
            return dict(zip(table.players, x.tolist(), strict=True))
        lp.fix_dependent(basis, x)


class _ExcessLP:
    """``min eps`` s.t. ``x(N) = c(N)``, ``x(S) - eps <= c(S)`` (free), ``x(S) = v_S`` (fixed)."""

    def __init__(self, table: GameTable, upper: np.ndarray | None) -> None:
        self.table = table
        self.vectors = indicators(table.masks, table.n)
        self.free_at = np.arange(len(table.masks))
        self.fixed_at: list[np.ndarray] = []
        self.fixed_value: list[np.ndarray] = []
        self.upper = np.full(table.n, np.inf) if upper is None else upper.astype(float)
        self.lower = np.full(table.n, -np.inf)

    def fix(self, rows: np.ndarray, eps: float) -> None:
        """Fix the free rows at positions ``rows`` at excess ``eps``."""
        at = self.free_at[rows]
        self.fixed_at.append(at)
        self.fixed_value.append(self.table.costs[at] + eps)
        self.free_at = np.delete(self.free_at, rows)

    def pin(self, i: int) -> None:
        """Fix player ``i``'s share at its upper bound."""
        self.lower[i] = self.upper[i]

    def fix_dependent(self, basis: ExactBasis, x: np.ndarray) -> None:
        """Fix every free group in the span of ``basis`` at its total under ``x``."""
        dependent = basis.dependent(self.vectors[self.free_at])
        at = self.free_at[dependent]
        self.fixed_at.append(at)
        self.fixed_value.append(self.vectors[at] @ x)
        self.free_at = self.free_at[~dependent]

    def solve(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """``eps``, the split, the free rows' duals and the shares' reduced costs."""
        import highspy

        from solver.highs.runner import new_highs, set_threads

        n = self.table.n
        fixed = np.concatenate(self.fixed_at) if self.fixed_at else np.zeros(0, dtype=int)
        values = np.concatenate(self.fixed_value) if self.fixed_value else np.zeros(0)
        free = self.free_at
        inf = highspy.kHighsInf
        member = np.vstack([self.vectors[free], self.vectors[fixed],
                            np.ones((1, n), dtype=np.int8)])
        rows, cols = np.nonzero(member)
        # The eps column (index n) has -1 in each free row.
        rows = np.concatenate([rows, np.arange(len(free))])
        cols = np.concatenate([cols, np.full(len(free), n)])
        vals = np.concatenate([np.ones(len(rows) - len(free)), -np.ones(len(free))])
        order = np.lexsort((cols, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        lp = highspy.HighsLp()
        lp.num_col_ = n + 1
        lp.num_row_ = len(member)
        lp.col_cost_ = np.r_[np.zeros(n), 1.0]
        lp.col_lower_ = np.r_[np.where(np.isfinite(self.lower), self.lower, -inf),
                              -inf if len(free) else 0.0]
        lp.col_upper_ = np.r_[np.where(np.isfinite(self.upper), self.upper, inf),
                              inf if len(free) else 0.0]
        lp.row_lower_ = np.r_[np.full(len(free), -inf), values, self.table.grand]
        lp.row_upper_ = np.r_[self.table.costs[free], values, self.table.grand]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.searchsorted(rows, np.arange(len(member) + 1)).astype(np.int32)
        lp.a_matrix_.index_ = cols.astype(np.int32)
        lp.a_matrix_.value_ = vals.astype(float)
        h = new_highs()
        h.setOptionValue("output_flag", False)
        set_threads(h, 1)
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise ValueError(f"the excess LP is {h.modelStatusToString(status)}")
        sol = h.getSolution()
        col = np.asarray(sol.col_value, dtype=float)
        return (float(col[n]), col[:n], np.asarray(sol.row_dual, dtype=float)[:len(free)],
                np.asarray(sol.col_dual, dtype=float)[:n])
