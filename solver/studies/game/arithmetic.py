"""The arithmetic of a cost-sharing game: pure functions of c(S) (README, Sharing the cost).

Players are ids; a group is a ``frozenset`` of them; ``c`` maps every group that was
evaluated to its cost (the empty group costs 0). A split ``x`` gives each player its share
of the grand coalition's cost c(N). The excess of a group S under ``x`` is
``x(S) - c(S)``: what S pays inside above what it would pay alone. A positive excess means
S would leave. The core is the set of splits without a positive excess; the least core
value ``eps* = min_x max_S (x(S) - c(S))`` (over proper groups) is positive exactly when
the core is empty, and the nucleolus minimises the excesses lexicographically, from the
largest down (sequential LPs, solved with HiGHS).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations

import numpy as np

Group = frozenset[str]
Costs = Mapping[Group, float]


def groups_of(players: Sequence[str]) -> list[Group]:
    """Every non-empty group of ``players``, smallest first."""
    return [frozenset(g) for size in range(1, len(players) + 1)
            for g in combinations(players, size)]


def _cost(c: Costs, group: Group) -> float:
    return 0.0 if not group else float(c[group])


def shapley(players: Sequence[str], c: Costs) -> dict[str, float]:
    """The exact Shapley value: each player's marginal cost averaged over every order.

    ``phi_i = sum_{S not containing i} |S|! (n-|S|-1)! / n! * (c(S + i) - c(S))``; needs
    c of every group.
    """
    n = len(players)
    weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
              for s in range(n)]
    out = {}
    for i in players:
        others = [p for p in players if p != i]
        total = 0.0
        for size in range(n):
            for g in combinations(others, size):
                s = frozenset(g)
                total += weight[size] * (_cost(c, s | {i}) - _cost(c, s))
        out[i] = total
    return out


def shapley_sampled(players: Sequence[str], cost: Callable[[Group], float], samples: int,
                    seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """The Shapley value estimated from ``samples`` random orders, and its standard error.

    ``cost(S)`` gives c(S) (it may evaluate groups as they are asked for). Each order adds
    the players one by one; a player's marginal costs over the orders are averaged, and the
    standard error is their standard deviation over ``sqrt(samples)``.
    """
    if samples < 2:
        raise ValueError("sampled Shapley needs at least 2 orders")
    rng = random.Random(seed)
    marginals: dict[str, list[float]] = {p: [] for p in players}
    for _ in range(samples):
        order = list(players)
        rng.shuffle(order)
        group: Group = frozenset()
        before = 0.0
        for p in order:
            group = group | {p}
            after = cost(group)
            marginals[p].append(after - before)
            before = after
    mean = {p: float(np.mean(v)) for p, v in marginals.items()}
    se = {p: float(np.std(v, ddof=1) / math.sqrt(samples)) for p, v in marginals.items()}
    return mean, se


def proportional(players: Sequence[str], weights: Mapping[str, float],
                 grand: float) -> dict[str, float]:
    """c(N) split in proportion to ``weights`` (the value of each player's demand)."""
    total = sum(weights[p] for p in players)
    if total <= 0:
        return {p: grand / len(players) for p in players}
    return {p: grand * weights[p] / total for p in players}


def max_excess(players: Sequence[str], c: Costs, x: Mapping[str, float],
               groups: Iterable[Group] | None = None) -> tuple[float, Group]:
    """The largest excess ``x(S) - c(S)`` over the proper groups evaluated, and that group."""
    grand = frozenset(players)
    best, where = -math.inf, Group()
    for g in (groups if groups is not None else c):
        if not g or g == grand or g not in c:
            continue
        e = sum(x[p] for p in g) - c[g]
        if e > best:
            best, where = e, g
    return best, where


def least_core(players: Sequence[str], c: Costs) -> tuple[float, dict[str, float]]:
    """``eps* = min_x max_S (x(S) - c(S))`` over proper groups, and a split attaining it."""
    lp = _ExcessLP(players, c)
    eps, x, _ = lp.solve()
    return eps, x


def nucleolus(players: Sequence[str], c: Costs) -> dict[str, float]:
    """The nucleolus, by sequential LPs.

    Each LP minimises the largest excess of the groups not yet fixed. Groups whose row
    has a non-zero dual are tight in every optimal split: they are fixed at that excess,
    and so is every group whose indicator is a combination of fixed ones. Each round fixes
    at least one new independent group, so it ends after at most n rounds with one split.
    """
    lp = _ExcessLP(players, c)
    n = len(players)
    while True:
        eps, x, dual = lp.solve()
        tight = [g for g in lp.free if abs(dual[g]) > 1e-9]
        if not tight:  # numerically degenerate: the split found is as good as any
            return x
        for g in tight:
            lp.fix(g, eps)
        lp.fix_dependent()
        if lp.rank() >= n or not lp.free:
            eps, x, _ = lp.solve()
            return x


class _ExcessLP:
    """``min eps`` s.t. ``x(S) - eps <= c(S)`` (free groups), ``x(S) = c(S) + e_S`` (fixed)."""

    def __init__(self, players: Sequence[str], c: Costs) -> None:
        self.players = list(players)
        self.index = {p: i for i, p in enumerate(self.players)}
        grand = frozenset(players)
        self.grand_cost = float(c[grand])
        self.free = [g for g in c if g and g != grand]
        self.fixed: dict[Group, float] = {grand: self.grand_cost}
        self.c = c

    def _vector(self, g: Group) -> np.ndarray:
        v = np.zeros(len(self.players))
        v[[self.index[p] for p in g]] = 1.0
        return v

    def rank(self) -> int:
        """The rank of the fixed groups' indicator vectors."""
        return int(np.linalg.matrix_rank(np.array([self._vector(g) for g in self.fixed])))

    def fix(self, g: Group, eps: float) -> None:
        """Fix group ``g`` at excess ``eps``."""
        self.fixed[g] = float(self.c[g]) + eps
        self.free = [f for f in self.free if f != g]

    def fix_dependent(self) -> None:
        """Fix every free group whose indicator is a combination of the fixed ones."""
        base = np.array([self._vector(g) for g in self.fixed])
        r = np.linalg.matrix_rank(base)
        # Any split meeting the fixed rows gives a dependent group the same total.
        x = np.linalg.lstsq(base, np.array(list(self.fixed.values())), rcond=None)[0]
        keep = []
        for g in self.free:
            if np.linalg.matrix_rank(np.vstack([base, self._vector(g)])) == r:
                self.fixed[g] = float(self._vector(g) @ x)
            else:
                keep.append(g)
        self.free = keep

    def solve(self) -> tuple[float, dict[str, float], dict[Group, float]]:
        import highspy

        n = len(self.players)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = n + 1
        lp.col_cost_ = np.r_[np.zeros(n), 1.0]
        lp.col_lower_ = np.full(n + 1, -inf)
        lp.col_upper_ = np.full(n + 1, inf)
        rows: list[np.ndarray] = []
        lower: list[float] = []
        upper: list[float] = []
        for g in self.free:
            rows.append(np.r_[self._vector(g), -1.0])
            lower.append(-inf)
            upper.append(float(self.c[g]))
        for g, value in self.fixed.items():
            rows.append(np.r_[self._vector(g), 0.0])
            lower.append(value)
            upper.append(value)
        dense = np.array(rows)
        lp.num_row_ = len(rows)
        lp.row_lower_ = np.array(lower)
        lp.row_upper_ = np.array(upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        nz = np.nonzero(dense)
        starts = np.searchsorted(nz[0], np.arange(len(rows) + 1))
        lp.a_matrix_.start_ = starts.astype(np.int32)
        lp.a_matrix_.index_ = nz[1].astype(np.int32)
        lp.a_matrix_.value_ = dense[nz]
        if not self.free:
            lp.col_lower_[n] = lp.col_upper_[n] = 0.0
        h.passModel(lp)
        h.run()
        sol = h.getSolution()
        col = np.asarray(sol.col_value, dtype=float)
        dual = np.asarray(sol.row_dual, dtype=float)
        x = {p: float(col[i]) for i, p in enumerate(self.players)}
        return float(col[n]), x, {g: float(dual[i]) for i, g in enumerate(self.free)}
