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
    from solver.studies.game import nucleolus as game_nucleolus

    return game_nucleolus.least_core(players, c)


def nucleolus(players: Sequence[str], c: Costs) -> dict[str, float]:
    """The nucleolus on the imputation set (:func:`solver.studies.game.nucleolus.nucleolus`).

    Raises :class:`~solver.studies.game.nucleolus.EmptyImputations` when ``c(N)`` is above
    the sum of the standalone costs.
    """
    from solver.studies.game import nucleolus as game_nucleolus

    return game_nucleolus.nucleolus(players, c)
