"""The arithmetic of the coalition game (solver.studies.game.arithmetic), on hand-made games."""

from __future__ import annotations

import math
from itertools import combinations

import pytest

from solver.studies.game.arithmetic import (
    groups_of,
    least_core,
    max_excess,
    nucleolus,
    proportional,
    shapley,
    shapley_sampled,
)

P3 = ["A", "B", "C"]


def game(**costs: float) -> dict[frozenset[str], float]:
    """``game(A=10, AB=15, ...)``: a group named by its players' letters."""
    return {frozenset(name): value for name, value in costs.items()}


# Shapley by hand, over the six orders (marginal cost of each player where it joins):
#   order  A  B  C        A: 10+10+5+4+8+4 = 41 -> 41/6
#   ABC   10  5  9        B:  5+6+10+10+6+10 = 47 -> 47/6
#   ACB   10  6  8        C:  9+8+9+10+10+10 = 56 -> 56/6
#   BAC    5 10  9
#   BCA    4 10 10
#   CAB    8  6 10
#   CBA    4 10 10
# Least core: x_C in [9 - eps, 10 + eps] (AB and C), so eps >= -1/2; at -1/2 x_C = 9.5 and
# x_A + x_B = 14.5 with x_A >= 4.5 and x_B >= 6.5: eps* = -1/2 (the core is not empty).
# Nucleolus: with x_C = 9.5 fixed, the largest remaining excesses are AC (x_A - 8.5) and
# B (x_B - 10); equal at x_A = 6.5, x_B = 8 (both -2).
HAND = game(A=10, B=10, C=10, AB=15, AC=18, BC=20, ABC=24)


def test_shapley_by_hand() -> None:
    phi = shapley(P3, HAND)
    assert phi == pytest.approx({"A": 41 / 6, "B": 47 / 6, "C": 56 / 6})


def test_least_core_by_hand() -> None:
    eps, x = least_core(P3, HAND)
    assert eps == pytest.approx(-0.5)
    assert x["C"] == pytest.approx(9.5)
    assert sum(x.values()) == pytest.approx(24.0)


def test_nucleolus_by_hand() -> None:
    assert nucleolus(P3, HAND) == pytest.approx({"A": 6.5, "B": 8.0, "C": 9.5})


def test_excess_and_savings_by_hand() -> None:
    phi = shapley(P3, HAND)
    # Under Shapley: AB pays 88/6 = 14.67 inside against 15 alone, the largest excess.
    eps, group = max_excess(P3, HAND, phi)
    assert group == frozenset("AB")
    assert eps == pytest.approx(88 / 6 - 15)
    saving = {p: HAND[frozenset(p)] - phi[p] for p in P3}
    assert saving == pytest.approx({"A": 10 - 41 / 6, "B": 10 - 47 / 6, "C": 10 - 56 / 6})


def test_empty_core() -> None:
    # Alone 1, any pair 1, all three 2: every split has a pair paying at least 4/3 > 1.
    g = game(A=1, B=1, C=1, AB=1, AC=1, BC=1, ABC=2)
    eps, x = least_core(P3, g)
    assert eps == pytest.approx(1 / 3)
    assert x == pytest.approx({"A": 2 / 3, "B": 2 / 3, "C": 2 / 3})
    assert nucleolus(P3, g) == pytest.approx({"A": 2 / 3, "B": 2 / 3, "C": 2 / 3})


def test_non_empty_core_and_efficiency() -> None:
    eps, _ = least_core(P3, HAND)
    assert eps < 0
    for split in (shapley(P3, HAND), nucleolus(P3, HAND),
                  proportional(P3, {"A": 1, "B": 2, "C": 3}, 24.0)):
        assert sum(split.values()) == pytest.approx(24.0)


def test_symmetry_and_a_null_player() -> None:
    # A and B are identical; D adds nothing to any group (no demand, no capability).
    base = {frozenset(): 0.0, frozenset("A"): 5.0, frozenset("B"): 5.0, frozenset("C"): 7.0,
            frozenset("AB"): 8.0, frozenset("AC"): 10.0, frozenset("BC"): 10.0,
            frozenset("ABC"): 12.0}
    players = ["A", "B", "C", "D"]
    g = {}
    for s, v in base.items():
        g[s] = v
        g[s | {"D"}] = v
    g.pop(frozenset(), None)
    phi = shapley(players, g)
    nu = nucleolus(players, g)
    assert phi["A"] == pytest.approx(phi["B"])
    assert nu["A"] == pytest.approx(nu["B"])
    assert phi["D"] == pytest.approx(0.0, abs=1e-12)
    assert nu["D"] == pytest.approx(0.0, abs=1e-7)
    assert sum(nu.values()) == pytest.approx(12.0)


def test_sampled_shapley_is_within_three_standard_errors() -> None:
    players = [f"P{i}" for i in range(6)]
    size = {p: i + 1 for i, p in enumerate(players)}

    def cost(s: frozenset[str]) -> float:
        # Economies of scale with a fixed cost, and a synergy between P0 and P5.
        if not s:
            return 0.0
        total = sum(size[p] for p in s)
        return 3.0 + 2.0 * math.sqrt(total) - (1.5 if {"P0", "P5"} <= s else 0.0)

    exact = shapley(players, {g: cost(g) for g in groups_of(players)})
    mean, se = shapley_sampled(players, cost, samples=400, seed=1)
    for p in players:
        assert se[p] > 0
        assert abs(mean[p] - exact[p]) <= 3 * se[p], (p, mean[p], exact[p], se[p])


def test_groups_of() -> None:
    assert len(groups_of(P3)) == 7
    assert groups_of(P3)[:3] == [frozenset("A"), frozenset("B"), frozenset("C")]
    assert all(frozenset(c) in groups_of(P3) for c in combinations(P3, 2))
