"""The game's arithmetic against published games and an LP written here, apart from the code.

Gain games v (what a group earns) are played as cost games c = -v: a gain split y is the
cost split x = -y, and the nucleolus, Shapley value and least core carry over with the sign.
"""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np
import pytest

from solver.studies.game.arithmetic import groups_of, least_core, shapley
from solver.studies.game.nucleolus import (
    EmptyImputations,
    ExactBasis,
    indicators,
    nucleolus,
    prenucleolus,
)

Game = dict[frozenset[str], float]


def cost_game(players: list[str], v: dict[frozenset[str], float] | None = None,
              gain: object = None) -> Game:
    """The cost game ``-v`` over every group (``gain(S)`` for groups not in ``v``)."""
    out: Game = {}
    for g in groups_of(players):
        value = v[g] if v is not None else gain(g)  # type: ignore[operator]
        out[g] = -float(value)
    return out


def negated(x: dict[str, float]) -> dict[str, float]:
    return {p: -v for p, v in x.items()}


# --- the counter-example of issue 28 ------------------------------------------------------

def test_the_nucleolus_keeps_every_share_below_its_standalone_cost() -> None:
    # c(A)=c(B)=c(C)=10, c(AB)=10, c(AC)=c(BC)=20, c(ABC)=28: the prenucleolus charges C 14
    # against 10 alone; on the imputation set the nucleolus is (9, 9, 10).
    c = {frozenset(k): v for k, v in {"A": 10, "B": 10, "C": 10, "AB": 10, "AC": 20,
                                      "BC": 20, "ABC": 28}.items()}
    assert prenucleolus(list("ABC"), c) == pytest.approx({"A": 7, "B": 7, "C": 14})
    assert nucleolus(list("ABC"), c) == pytest.approx({"A": 9, "B": 9, "C": 10})


def test_an_empty_imputation_set_is_said() -> None:
    c = {frozenset(k): v for k, v in {"A": 1, "B": 1, "AB": 3}.items()}
    with pytest.raises(EmptyImputations, match="imputation set is empty"):
        nucleolus(["A", "B"], c)
    assert prenucleolus(["A", "B"], c) == pytest.approx({"A": 1.5, "B": 1.5})


# --- published games ----------------------------------------------------------------------

@pytest.mark.parametrize(("estate", "talmud"), [
    (100, (100 / 3, 100 / 3, 100 / 3)), (200, (50, 75, 75)), (300, (50, 100, 150))])
def test_talmud_bankruptcy_games(estate: float, talmud: tuple[float, ...]) -> None:
    # Aumann, R. J. and Maschler, M. (1985), "Game theoretic analysis of a bankruptcy problem
    # from the Talmud", Journal of Economic Theory 36, 195-213: claims 100, 200, 300; the
    # Talmud's division of each estate is the nucleolus of v(S) = max(0, E - d(N minus S)).
    claims = {"A": 100.0, "B": 200.0, "C": 300.0}
    players = list(claims)

    def v(g: frozenset[str]) -> float:
        return max(0.0, estate - sum(d for p, d in claims.items() if p not in g))

    c = cost_game(players, gain=v)
    expected = dict(zip(players, talmud, strict=True))
    assert negated(nucleolus(players, c)) == pytest.approx(expected)
    assert negated(prenucleolus(players, c)) == pytest.approx(expected)
    eps, _ = least_core(players, c)
    assert eps <= 1e-9  # bankruptcy games are convex: the core is not empty


def test_glove_game() -> None:
    # One left glove (L), two right gloves (R1, R2); a pair is worth 1. Shapley (2/3, 1/6,
    # 1/6); the core is the one point (1, 0, 0), so it is the nucleolus and eps* = 0
    # (Maschler, Solan and Zamir, Game Theory, Cambridge 2013, the glove market).
    players = ["L", "R1", "R2"]
    c = cost_game(players, gain=lambda g: float("L" in g and len(g) >= 2))
    assert negated(shapley(players, c)) == pytest.approx({"L": 2 / 3, "R1": 1 / 6,
                                                         "R2": 1 / 6})
    assert negated(nucleolus(players, c)) == pytest.approx({"L": 1, "R1": 0, "R2": 0},
                                                           abs=1e-9)
    assert least_core(players, c)[0] == pytest.approx(0.0, abs=1e-9)


def test_three_player_majority_game() -> None:
    # Any two of three win: Shapley and nucleolus give 1/3 each; every split leaves a pair
    # 1/3 short, so the core is empty with eps* = 1/3 (von Neumann and Morgenstern 1944).
    players = list("ABC")
    c = cost_game(players, gain=lambda g: float(len(g) >= 2))
    third = {p: 1 / 3 for p in players}
    assert negated(shapley(players, c)) == pytest.approx(third)
    assert negated(nucleolus(players, c)) == pytest.approx(third)
    assert least_core(players, c)[0] == pytest.approx(1 / 3)


def test_apex_game() -> None:
    # Apex game of five: the apex with any minor, or all four minors, win. Shapley: apex
    # (n-2)/n = 3/5, each minor 2/(n(n-1)) = 1/10 (Peleg and Sudhoelter, Introduction to the
    # Theory of Cooperative Games, 2nd ed. 2007, the apex game). Nucleolus: apex (n-2)/(2n-3)
    # = 3/7, each minor 1/(2n-3) = 1/7; by hand, the two kinds of minimal winning group
    # have excesses 1 - a - m (apex and a minor) and 1 - 4m = a (the minors), equal at
    # m = 1/7, and every losing group's excess is below.
    players = ["apex", "m1", "m2", "m3", "m4"]

    def v(g: frozenset[str]) -> float:
        return float(("apex" in g and len(g) >= 2) or len(g - {"apex"}) == 4)

    c = cost_game(players, gain=v)
    minors = {f"m{i}": 1 / 10 for i in range(1, 5)}
    assert negated(shapley(players, c)) == pytest.approx({"apex": 3 / 5, **minors})
    minors = {f"m{i}": 1 / 7 for i in range(1, 5)}
    assert negated(nucleolus(players, c)) == pytest.approx({"apex": 3 / 7, **minors})


def test_fergusons_three_player_game() -> None:
    # Ferguson, T. S., Game Theory, Part IV "Games in coalitional form" (UCLA lecture notes,
    # www.math.ucla.edu/~tom/Game_Theory/coal.pdf), the example that CoopGame's tests check:
    # v = (-1, 0, 1; 3, 4, 2; 5) has the nucleolus (8/3, 2/3, 5/3), the three pairs' excesses
    # all -1/3.
    players = ["1", "2", "3"]
    v = {"1": -1, "2": 0, "3": 1, "12": 3, "13": 4, "23": 2, "123": 5}
    c = cost_game(players, {frozenset(k): float(x) for k, x in v.items()})
    assert negated(nucleolus(players, c)) == pytest.approx({"1": 8 / 3, "2": 2 / 3,
                                                            "3": 5 / 3})


def test_airport_game_shapley_is_littlechild_owen() -> None:
    # Littlechild, S. C. and Owen, G. (1973), "A simple expression for the Shapley value in a
    # special case", Management Science 20(3), 370-372: with runway costs c_1 <= ... <= c_n
    # and c(S) = max over S, phi_i = sum_{k <= i} (c_k - c_{k-1}) / (n - k + 1).
    runway = {"a": 1.0, "b": 3.0, "c": 6.0, "d": 10.0, "e": 10.0, "f": 15.0}
    players = list(runway)
    c = {g: max(runway[p] for p in g) for g in groups_of(players)}
    costs = [0.0, *runway.values()]
    n = len(players)
    formula = {p: sum((costs[k] - costs[k - 1]) / (n - k + 1) for k in range(1, i + 2))
               for i, p in enumerate(players)}
    assert shapley(players, c) == pytest.approx(formula)
    # A concave cost game: its core is not empty, and the nucleolus lies in it.
    eps, _ = least_core(players, c)
    assert eps <= 1e-9
    x = nucleolus(players, c)
    assert all(sum(x[p] for p in g) <= c[g] + 1e-7 for g in c)


def test_un_security_council_shapley_shubik() -> None:
    # Shapley, L. S. and Shubik, M. (1954), "A method for evaluating the distribution of power
    # in a committee system", APSR 48, 787-792; for the 15-member council (five permanent
    # members with a veto, nine votes to pass) the index is 0.1963 for a permanent member and
    # 0.00186 for an elected one (Straffin, Game Theory and Strategy, 1993, ch. 8).
    permanent = [f"P{i}" for i in range(5)]
    elected = [f"E{i}" for i in range(10)]
    players = permanent + elected
    c = {g: -float(set(permanent) <= g and len(g) >= 9) for g in groups_of(players)}
    phi = negated(shapley(players, c))
    assert phi["P0"] == pytest.approx(0.1963, abs=5e-5)
    assert phi["E0"] == pytest.approx(0.00186, abs=5e-6)
    assert sum(phi.values()) == pytest.approx(1.0)


# --- random games against an LP written here ---------------------------------------------

def _lp(n: int, free: list[tuple[np.ndarray, float]], fixed: list[tuple[np.ndarray, float]],
        upper: list[float] | None) -> tuple[float, np.ndarray, np.ndarray]:
    """min t s.t. a.x - t <= b (free), a.x = b (fixed), x <= upper; dense, one row at a time."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    for i in range(n):
        h.addVar(-inf, inf if upper is None else upper[i])
    h.addVar(-inf, inf)
    h.changeColCost(n, 1.0)
    for a, b in free:
        idx = np.r_[np.flatnonzero(a), n].astype(np.int32)
        h.addRow(-inf, b, len(idx), idx, np.r_[np.ones(len(idx) - 1), -1.0])
    for a, b in fixed:
        idx = np.flatnonzero(a).astype(np.int32)
        h.addRow(b, b, len(idx), idx, np.ones(len(idx)))
    h.run()
    sol = h.getSolution()
    col = np.array(sol.col_value)
    return col[n], col[:n], np.array(sol.row_dual)[:len(free)]


def reference_nucleolus(players: list[str], c: Game, imputation: bool) -> dict[str, float]:
    """The nucleolus by the textbook rounds, with a matrix rank per group (slow, plain)."""
    n = len(players)
    vec = {g: np.array([p in g for p in players], dtype=float) for g in c}
    grand = frozenset(players)
    free = [g for g in c if g != grand]
    fixed: list[tuple[np.ndarray, float]] = [(vec[grand], c[grand])]
    upper = [c[frozenset([p])] for p in players] if imputation else None
    while True:
        t, x, dual = _lp(n, [(vec[g], c[g]) for g in free], fixed, upper)
        tight = {g for g, d in zip(free, dual, strict=True) if abs(d) > 1e-9}
        fixed += [(vec[g], c[g] + t) for g in tight]
        # A bound met in every optimal split is fixed by the constraints below: x stays put.
        basis = np.array([a for a, _ in fixed])
        at_bound = [i for i in range(n) if upper is not None and x[i] >= upper[i] - 1e-9]
        rows = np.vstack([basis] + [np.eye(n)[i] for i in at_bound]) if at_bound else basis
        rank = np.linalg.matrix_rank(basis)
        free = [g for g in free if g not in tight
                and np.linalg.matrix_rank(np.vstack([basis, vec[g]])) > rank]
        if not free or np.linalg.matrix_rank(rows) >= n:
            t, x, _ = _lp(n, [], fixed, upper)
            return dict(zip(players, x.tolist(), strict=True))


def random_game(rng: random.Random, n: int) -> tuple[list[str], Game]:
    players = [f"p{i}" for i in range(n)]
    c = {g: rng.uniform(1, 10) * len(g) ** rng.uniform(0.6, 1.1) for g in groups_of(players)}
    return players, c


@pytest.mark.parametrize("seed", range(12))
def test_random_games_against_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    players, c = random_game(rng, rng.choice([3, 4, 5]))
    x = prenucleolus(players, c)
    assert x == pytest.approx(reference_nucleolus(players, c, imputation=False), abs=1e-6)
    standalone = sum(c[frozenset([p])] for p in players)
    if c[frozenset(players)] <= standalone:
        x = nucleolus(players, c)
        assert x == pytest.approx(reference_nucleolus(players, c, imputation=True), abs=1e-6)
        assert all(x[p] <= c[frozenset([p])] + 1e-7 for p in players)
    eps, split = least_core(players, c)
    t, _, _ = _lp(len(players), [(np.array([p in g for p in players], dtype=float), c[g])
                                 for g in c if len(g) < len(players)],
                  [(np.ones(len(players)), c[frozenset(players)])], None)
    assert eps == pytest.approx(t, abs=1e-7)
    assert max(sum(split[p] for p in g) - c[g] for g in c
               if len(g) < len(players)) == pytest.approx(eps, abs=1e-7)


def test_the_exact_basis_finds_dependence_exactly() -> None:
    basis = ExactBasis(4)
    assert basis.add([1, 1, 0, 0]) and basis.add([0, 1, 1, 0])
    assert not basis.add([1, 0, -1, 0])
    groups = indicators(np.arange(1, 16, dtype=np.int64), 4)
    found = basis.dependent(groups)
    expected = [np.linalg.matrix_rank(np.vstack([[1, 1, 0, 0], [0, 1, 1, 0], g])) == 2
                for g in groups]
    assert found.tolist() == expected
    for size in range(1, 5):
        for g in combinations(range(4), size):
            basis.add([int(i in g) for i in range(4)])
    assert basis.rank == 4 and basis.dependent(groups).all()
