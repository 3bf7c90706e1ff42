"""Stability without enumerating groups: separation and the least core by row generation.

The separation MIP (:mod:`solver.model.separation`) finds, for a split x, the group S with
the largest excess ``x(S) - c(S)`` and, from its dual bound, an upper bound on every group's
excess. The group it finds is evaluated again as every group is (one persistent priced model,
the plan checked by the independent checker), so its excess is the same number enumeration
would give. The least core is then computed by row generation: the excess LP over the groups
found so far gives a lower bound on ``eps*`` and its split x; the separation MIP at x gives an
upper bound (its bound) and, if that is above the lower bound, the group to add. It ends when
the two meet within the tolerance, or when the MIP finds no group that is not in the LP yet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from solver.case.loader import Case
from solver.studies.engine.resolver import runner_for

Group = frozenset[str]

#: Row generation stops after this many rounds (each adds one group), bounds as they are.
MAX_ROUNDS = 500


@dataclass
class Blocking:
    """The most blocking group of a split, as established.

    ``excess`` is ``x(S) - c(S)`` of the group found (c(S) as every group is evaluated);
    ``bound`` an upper bound on every proper group's excess (None when the solver proved
    none); ``status`` the separation solve's.
    """

    group: Group | None
    excess: float | None
    bound: float | None
    status: str

    def as_dict(self, tol: float) -> dict[str, Any]:
        """For summary.json: group, excess, bound, and whether the sign is established."""
        return {"group": "+".join(sorted(self.group)) if self.group else None,
                "excess": self.excess, "bound": self.bound, "method": "separation",
                "established": self.established(tol), "status": self.status}

    def established(self, tol: float) -> bool:
        """Whether it is a fact that the group leaves, or that no group leaves."""
        leaves = self.excess is not None and self.excess > tol
        stays = self.bound is not None and self.bound <= tol
        return leaves or stays


class Separator:
    """The separation MIP of a game, built once and re-solved per split.

    ``case`` is the game's case (:func:`~solver.studies.game.groups.game_case`), ``members``
    each player's member partners, ``cost(S)`` the evaluated c(S) of a group (it may solve).
    """

    def __init__(self, case: Case, members: dict[str, list[str]],
                 cost: Callable[[Group], float], tol: float) -> None:
        from solver.model.separation import build_separation

        self.separation = build_separation(case, members)
        self.players = self.separation.players
        self.cost = cost
        self.tol = tol
        self.runner = runner_for(case.solver)
        if hasattr(self.runner, "highs"):
            # A relative gap means little near an excess of 0: stop within the tolerance.
            self.runner.highs.setOptionValue("mip_abs_gap", float(tol))
        import pyomo.core as pyo

        m = self.separation.m
        # Every column, to warm-start the next split from this plan: only the objective
        # changes between splits, so the last plan and group are always feasible.
        self.groups: dict[str, Any] = {"member_in": m.member_in}
        if hasattr(self.runner, "warm_start"):
            self.groups["all"] = list(m.component_data_objects(pyo.Var, descend_into=True))
        self._start: Any = None
        self.solves = 0
        self.seconds = 0.0

    def most_blocking(self, x: dict[str, float]) -> Blocking:
        """The group of largest excess under ``x``, with the bound on every group's excess."""
        sep = self.separation
        sep.set_split(x)
        if self._start is not None and hasattr(self.runner, "warm_start"):
            self.runner.warm_start(sep.m, {"all": self._start})
        report = self.runner.solve(sep.m, self.groups)
        self.solves += 1
        if report.has_solution and "all" in report.values:
            self._start = report.values["all"]
        self.seconds += report.wall_seconds
        bound = -report.bound if report.bound is not None and math.isfinite(report.bound) \
            else None
        if not report.has_solution:
            return Blocking(None, None, bound, str(report.status))
        chosen = report.values["member_in"] > 0.5
        group = frozenset(p for p, inside in zip(self.players, chosen, strict=True) if inside)
        excess = sum(x[p] for p in group) - self.cost(group)
        if bound is not None and bound < excess:
            bound = excess  # the group's own evaluation is the fact
        return Blocking(group, excess, bound, str(report.status))


@dataclass
class LeastCore:
    """``eps*`` by row generation: ``lower <= eps* <= upper`` (upper None: not proved)."""

    lower: float
    upper: float | None
    split: dict[str, float]
    rounds: int
    groups: dict[Group, float] = field(default_factory=dict)

    def core_empty(self, tol: float) -> bool | None:
        """True or False when established, None when the bounds straddle the tolerance."""
        if self.lower > tol:
            return True
        if self.upper is not None and self.upper <= tol:
            return False
        return None


def least_core_by_rows(separator: Separator, known: dict[Group, float],
                       grand: float, note: Callable[[str], None] | None = None) -> LeastCore:
    """The least core of the game from the groups ``known`` (every player alone at least).

    Each round solves the excess LP over the groups known and asks the separation MIP for
    the most blocking group of its split; a group not yet known is added. ``note`` is told
    of each round's bounds.
    """
    from solver.studies.game.nucleolus import least_core

    players = separator.players
    groups = dict(known)
    whole = frozenset(players)
    tol = separator.tol
    for rounds in range(1, MAX_ROUNDS + 1):
        lower, x = least_core(players, {**groups, whole: grand})
        found = separator.most_blocking(x)
        upper = found.bound
        if note is not None:
            note(f"least core, round {rounds}: between {lower:,.6g} and "
                 f"{'?' if upper is None else format(upper, ',.6g')}")
        new = found.group is not None and found.group not in groups
        if found.group is not None and found.excess is not None:
            groups[found.group] = sum(x[p] for p in found.group) - found.excess
        if upper is not None and upper <= lower + tol:
            return LeastCore(lower, upper, x, rounds, groups)
        if not new:
            return LeastCore(lower, upper, x, rounds, groups)
    return LeastCore(lower, None, x, MAX_ROUNDS, groups)


@dataclass
class Stability:
    """What is established about the splits' stability, for summary.json.

    ``blocking`` holds per split its most blocking group found (group, excess, bound,
    method, established); ``least_core`` and ``least_core_bound`` bound eps*;
    ``core_empty`` is None unless established; ``checked`` says how.
    """

    blocking: dict[str, dict[str, Any]]
    least_core: float
    least_core_bound: float | None
    core_empty: bool | None
    method: str
    checked: str
    solves: int = 0
    seconds: float = 0.0


def by_enumeration(players: list[str], c: dict[Group, float], splits: dict[str, dict[str, float]],
                   tol: float) -> Stability:
    """Stability over every group of ``c`` (all of them): every fact is established."""
    from solver.studies.game import arithmetic as game

    eps, _ = game.least_core(players, c)
    blocking = {}
    for name, x in splits.items():
        excess, where = game.max_excess(players, c, x)
        blocking[name] = {"group": "+".join(sorted(where)), "excess": excess, "bound": excess,
                          "method": "enumeration", "established": True}
    return Stability(blocking, eps, eps, bool(eps > tol), "enumeration",
                     f"every one of the {2 ** len(players) - 2:,} proper groups evaluated")


def by_evaluated_groups(players: list[str], c: dict[Group, float],
                        splits: dict[str, dict[str, float]], tol: float,
                        why: str) -> Stability:
    """Stability over some groups only: a group that would leave is a fact, the rest is not.

    The excess LP over a subset of the groups bounds eps* from below, so an empty core is
    established when that bound is positive; a non-empty core never is.
    """
    from solver.studies.game import arithmetic as game

    eps, _ = game.least_core(players, c)
    blocking = {}
    for name, x in splits.items():
        excess, where = game.max_excess(players, c, x)
        blocking[name] = {"group": "+".join(sorted(where)), "excess": excess, "bound": None,
                          "method": "evaluated groups", "established": bool(excess > tol)}
    return Stability(blocking, eps, None, True if eps > tol else None, "evaluated groups",
                     f"{len(c) - 1:,} of {2 ** len(players) - 2:,} proper groups evaluated "
                     f"({why})")


def by_separation(case: Case, members: dict[str, list[str]], c: dict[Group, float],
                  grand: float, splits: dict[str, dict[str, float]],
                  cost: Callable[[Group], float], tol: float,
                  note: Callable[[str], None] | None = None) -> Stability:
    """Stability by the separation MIP: each split's most blocking group, eps* by rows.

    ``c`` holds the groups evaluated already (every player alone among them); ``cost(S)``
    evaluates another; ``note`` is told of each solve. Raises ValueError if the game has no
    separation model.
    """
    known = dict(c)

    def evaluated(group: Group) -> float:
        if group not in known:
            known[group] = cost(group)
        return known[group]

    separator = Separator(case, members, evaluated, tol)
    blocking = {}
    for name, x in splits.items():
        blocking[name] = separator.most_blocking(x).as_dict(tol)
        if note is not None:
            note(f"most blocking group of the {name} split: {blocking[name]['group']}, "
                 f"excess {blocking[name]['excess']:,.6g}")
    whole = frozenset(separator.players)
    lc = least_core_by_rows(separator, {g: v for g, v in known.items() if g != whole}, grand,
                            note)
    return Stability(blocking, lc.lower, lc.upper, lc.core_empty(tol), "separation",
                     f"every proper group, by the separation MIP ({separator.solves} solves)",
                     separator.solves, separator.seconds)
