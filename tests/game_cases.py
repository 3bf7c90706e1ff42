"""Random games for the separation MIP, and every group enumerated (tests and make bench)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from solver import load_case
from solver.studies.game import arithmetic as game
from solver.studies.game.groups import GroupSolver, GroupTask, game_case
from solver.studies.game.separation import Separator, least_core_by_rows
from tests.tiny import write_case

OUTSIDE = ["O1", "O2"]


def random_case(folder: Path, seed: int, n: int) -> Any:
    """``n`` members and two outside suppliers over two layers, every priced family used."""
    rng = random.Random(seed)
    members = [f"M{i}" for i in range(n)]
    layers = "layer,min_suppliers,max_share,min_supplier_share,resilience,resilience_k," \
        "max_surplus,redundancy_cost\n" \
        "chips,2,0.7,0.1,0.4,1,,0\ncloud,1,0.8,0.05,0.3,2,0.5,0.5\n"
    caps = ["partner,layer,capacity,unit_cost,fixed_cost,min_capacity"]
    for p in members + OUTSIDE:
        for layer in ("chips", "cloud"):
            if rng.random() < 0.4:
                cap = rng.randint(5, 40)
                caps.append(f"{p},{layer},{cap},{rng.uniform(1, 5):.2f},"
                            f"{rng.uniform(0, 8):.1f},{rng.choice([0, 0, 2])}")
    demand = ["member,layer,demand,max_dependency,min_domestic"]
    for m in members:
        for layer in ("chips", "cloud"):
            if rng.random() < 0.6:
                demand.append(f"{m},{layer},{rng.randint(1, 10)},"
                              f"{rng.choice([1, 1, 0.8])},{rng.choice([0, 0, 0.2])}")
    trade = ["exporter,importer,unit_cost,allowed"]
    for a in members + OUTSIDE:
        for b in members:
            if a != b and rng.random() < 0.3:
                trade.append(f"{a},{b},{rng.uniform(0, 1):.2f},{rng.random() > 0.2}")
    partners = "partner,member,disruption_risk\n" + "".join(
        f"{p},{p not in OUTSIDE},{rng.choice([0, 0.1])}\n" for p in members + OUTSIDE)
    write_case(folder, partners=partners, layers=layers, capabilities="\n".join(caps),
               demand="\n".join(demand), trade="\n".join(trade))
    return game_case(load_case(folder).with_overrides({
        "objective.shortage_cost": 20.0, "objective.risk_weight": 0.5,
        "solver.mip_gap": 0.0}))


def enumerate_groups(sep: Separator) -> dict[frozenset[str], float]:
    """c(S) of every proper group: the separation model with its membership fixed, in HiGHS.

    The membership columns' bounds are set in HiGHS directly (one small MIP per group).
    """
    model = sep.separation
    players = model.players
    model.set_split({p: 0.0 for p in players})
    sep.runner.solve(model.m, {"member_in": model.m.member_in})
    h = sep.runner.highs
    cols = sep.runner._columns["member_in"].astype(np.int32)
    h.setOptionValue("mip_rel_gap", 0.0)
    out = {}
    for g in game.groups_of(players)[:-1]:
        on = np.array([float(p in g) for p in players])
        h.changeColsBounds(len(cols), cols, on, on)
        h.run()
        out[g] = float(h.getInfo().objective_function_value)
    h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.ones(len(cols)))
    return out


def compare(folder: Path, seed: int, n: int) -> dict[str, Any]:
    """Separation against enumeration on one random game; raise AssertionError if they differ.

    Checks: four enumerated c(S) against the game's checked group solver; the most blocking
    group of the Shapley split and of a lopsided one against the largest enumerated excess;
    the least core by row generation against the excess LP over every group. Returns what
    was compared and how many groups row generation needed.
    """
    case = random_case(folder, seed, n)
    members = {f"M{i}": [f"M{i}"] for i in range(n)}
    names = sorted(members)
    costs: dict[frozenset[str], float] = {}
    sep = Separator(case, members, lambda g: costs[g], tol=1e-6)
    costs.update(enumerate_groups(sep))
    groups = GroupSolver(case, members)
    grand = groups.run(GroupTask(0, tuple(names))).row["cost"]
    rng = random.Random(seed)
    for g in rng.sample(sorted(costs, key=sorted), 4):
        cost = groups.run(GroupTask(0, tuple(sorted(g)))).row["cost"]
        assert abs(cost - costs[g]) <= 1e-7 * max(1.0, abs(cost)), (sorted(g), cost, costs[g])
    c = {**costs, frozenset(names): grand}
    lopsided = {p: grand * w for p, w in zip(names, np.random.default_rng(seed).dirichlet(
        np.ones(n) * 0.5), strict=True)}
    out: dict[str, Any] = {"players": n, "groups": len(costs)}
    for name, x in (("shapley", game.shapley(names, c)), ("lopsided", lopsided)):
        found = sep.most_blocking(x)
        best, where = game.max_excess(names, c, x)
        assert found.excess is not None and abs(found.excess - best) <= 1e-6, (found, best)
        assert found.bound is not None and best - 1e-6 <= found.bound <= best + 1e-5
        out[name] = {"excess": best, "group": "+".join(sorted(where))}
    alone = {frozenset([p]): costs[frozenset([p])] for p in names}
    lc = least_core_by_rows(sep, alone, grand)
    eps, _ = game.least_core(names, c)
    assert abs(lc.lower - eps) <= 1e-6 and lc.upper is not None, (lc, eps)
    assert abs(lc.upper - eps) <= 1e-5, (lc, eps)
    out.update(least_core=eps, rows_needed=len(lc.groups), rounds=lc.rounds)
    return out
