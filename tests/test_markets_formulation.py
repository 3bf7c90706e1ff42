"""The model against a formulation of README, Markets outside the coalition written apart.

The formulation below is written straight from the text (highspy's modelling calls, no code of
``solver``): binaries y, capacities k, flows f to members over allowed routes with unmet
demand at a price, input flows g (inputs.csv, source any or local), market flows h over the
routes trade.csv allows to a market, an entry binary e per market row with an entry cost, the
band ``min_share demand e <= sum_p h <= max_share demand e``, supply ``q = sum f + sum g + sum
h``, the total requirement ``D = (I - A^T)^-1 (d + s)`` as an expression of h in every family
that refers to D (supplier share written with D's upper bound U, max_share over all supply,
resilience, participation's V), diversification through a binary wherever members do not need
the layer, revenue ``- price h`` and entry ``entry_cost e``. Random small cases (seeded), with
and without inputs, must reach the same optimum in both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pytest

from solver import load_case

try:
    from formulation import assert_same_optimum, optimum, write_tables
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.formulation import assert_same_optimum, optimum, write_tables

PARTNERS = ("M1", "M2", "S1")
MEMBERS = ("M1", "M2")
MARKETS = ("BR", "IN")
LAYERS = ("chips", "cloud", "power")
SHORTAGE_COST = 40.0


def random_tables(seed: int, chain: bool) -> dict[str, pd.DataFrame]:
    """A small case with markets, per-route trade rows to members and markets, maybe a chain."""
    rng = np.random.default_rng(seed)
    partners = pd.DataFrame({"partner": PARTNERS, "member": [p in MEMBERS for p in PARTNERS],
                             "min_participation": rng.choice([0.0, 0.0, 0.0, 0.1], len(PARTNERS))})
    layers = pd.DataFrame({
        "layer": LAYERS,
        "min_suppliers": rng.integers(0, 2, len(LAYERS)) + (rng.random() < 0.3),
        "min_supplier_share": rng.choice([0.0, 0.05, 0.2], len(LAYERS)),
        "max_share": rng.choice([1.0, 0.8, 0.6], len(LAYERS)),
        "resilience": rng.choice([0.0, 0.0, 0.3], len(LAYERS)),
        "unit_value": rng.choice([1.0, 2.0], len(LAYERS)),
    })
    caps = [{"partner": p, "layer": layer, "capacity": float(rng.integers(20, 90)),
             "unit_cost": float(rng.integers(1, 9)), "fixed_cost": float(rng.choice([0, 2, 5]))}
            for p in PARTNERS for layer in LAYERS if rng.random() < 0.75]
    demand = pd.DataFrame([{"member": m, "layer": layer,
                            "demand": float(rng.choice([0, 0, 4, 10]))}
                           for m in MEMBERS for layer in LAYERS])
    markets = pd.DataFrame([{"market": m, "layer": layer,
                             "demand": float(rng.integers(5, 40)),
                             "min_share": float(rng.choice([0.0, 0.1, 0.3])),
                             "max_share": float(rng.choice([0.5, 0.8, 1.0])),
                             "price": float(rng.choice([0.0, 3.0, 8.0])),
                             "entry_cost": float(rng.choice([0.0, 0.0, 12.0]))}
                            for m in MARKETS for layer in LAYERS if rng.random() < 0.5])
    if markets.empty:
        markets = pd.DataFrame([{"market": "BR", "layer": "chips", "demand": 20.0,
                                 "min_share": 0.2, "max_share": 0.6, "price": 5.0,
                                 "entry_cost": 0.0}])
    trade = []
    for e in PARTNERS:
        for i in (*MEMBERS, *markets["market"].unique()):
            if e == i:
                continue
            if rng.random() < 0.5:
                trade.append({"exporter": e, "importer": i, "layer": "",
                              "unit_cost": float(rng.integers(0, 3)),
                              "allowed": bool(rng.random() < 0.85)})
            if rng.random() < 0.3:
                trade.append({"exporter": e, "importer": i, "layer": str(rng.choice(LAYERS)),
                              "unit_cost": float(rng.integers(0, 4)),
                              "allowed": bool(rng.random() < 0.6)})
    tables = {"partners": partners, "layers": layers, "capabilities": pd.DataFrame(caps),
              "demand": demand, "markets": markets,
              "trade": pd.DataFrame(trade, columns=["exporter", "importer", "layer",
                                                    "unit_cost", "allowed"]).drop_duplicates(
                  ["exporter", "importer", "layer"])}
    if chain:
        tables["inputs"] = pd.DataFrame([
            {"layer": "cloud", "input": "chips", "per_unit": 0.25, "source": "any"},
            {"layer": "cloud", "input": "power", "per_unit": 0.4, "source": "local"},
            {"layer": "chips", "input": "power", "per_unit": 0.1, "source": "any"}])
    return tables


def independent_optimum(t: dict[str, pd.DataFrame]) -> float | None:
    """The least cost of the case by the formulation of the text, or None if infeasible."""
    partners = t["partners"].set_index("partner")
    layers = t["layers"].set_index("layer")
    caps = t["capabilities"].set_index(["partner", "layer"])
    inputs = t.get("inputs", pd.DataFrame(columns=["layer", "input", "per_unit", "source"]))
    ids = list(layers.index)
    a = np.zeros((len(ids), len(ids)))
    for link in inputs.itertuples():
        a[ids.index(link.layer), ids.index(link.input)] = link.per_unit
    inverse = np.linalg.inv(np.eye(len(ids)) - a.T)
    d = np.array([t["demand"].loc[t["demand"]["layer"] == lay, "demand"].sum() for lay in ids])

    def route(e: str, i: str, layer: str) -> tuple[bool, float]:
        if e == i:
            return True, 0.0
        rows = t["trade"][(t["trade"]["exporter"] == e) & (t["trade"]["importer"] == i)]
        for want in (layer, ""):
            hit = rows[rows["layer"].fillna("") == want]
            if len(hit):
                return bool(hit["allowed"].iloc[0]), float(hit["unit_cost"].iloc[0])
        return True, 0.0

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)
    y = {key: h.addBinary(obj=float(caps.loc[key, "fixed_cost"])) for key in caps.index}
    k = {key: h.addVariable(lb=0, obj=float(caps.loc[key, "unit_cost"])) for key in caps.index}
    zero = 0.0 * next(iter(k.values()))
    hosts = {lay: [p for (p, l2) in y if l2 == lay] for lay in ids}
    out_of: dict[tuple[str, str], list[Any]] = {key: [] for key in y}
    for row in t["demand"].itertuples():
        if row.demand <= 0:
            continue
        f = []
        for p in hosts[row.layer]:
            ok, cost = route(p, row.member, row.layer)
            if ok:
                f.append(h.addVariable(lb=0, obj=cost))
                out_of[(p, row.layer)].append(f[-1])
        h.addConstr(sum(f, start=h.addVariable(lb=0, obj=SHORTAGE_COST)) == row.demand)
    # Market flows and bands; s per layer and the most markets can take, U - D0 per layer.
    sent = {lay: zero for lay in ids}
    most = np.zeros(len(ids))
    for row in t["markets"].itertuples():
        if row.demand <= 0:
            continue
        h_row = []
        for p in hosts[row.layer]:
            ok, cost = route(p, row.market, row.layer)
            if ok:
                h_row.append(h.addVariable(lb=0, obj=cost - row.price))
                out_of[(p, row.layer)].append(h_row[-1])
        s = sum(h_row, start=zero)
        e: Any = h.addBinary(obj=row.entry_cost) if row.entry_cost > 0 else 1.0
        h.addConstr(s >= row.min_share * row.demand * e)
        h.addConstr(s <= row.max_share * row.demand * e)
        sent[row.layer] = sent[row.layer] + s
        most[ids.index(row.layer)] += row.max_share * row.demand
    big_d = {lay: float(inverse[i] @ d) + sum((float(inverse[i, j]) * sent[m]
                                               for j, m in enumerate(ids) if inverse[i, j]),
                                              start=zero)
             for i, lay in enumerate(ids)}
    upper = {lay: float(inverse[i] @ (d + most)) for i, lay in enumerate(ids)}
    balances = []
    for link in inputs.itertuples():
        for r in hosts[link.layer]:
            g = []
            for p in hosts[link.input]:
                ok, cost = route(p, r, link.input)
                if ok and (link.source != "local" or p == r):
                    g.append(h.addVariable(lb=0, obj=cost))
                    out_of[(p, link.input)].append(g[-1])
            balances.append((g, float(link.per_unit), (r, link.layer)))
    q = {key: sum(vars_, start=zero) for key, vars_ in out_of.items()}
    for g, per_unit, key in balances:
        h.addConstr(sum(g, start=-per_unit * q[key]) == 0)
    for (p, lay), var in y.items():
        sigma = float(layers.loc[lay, "min_supplier_share"])
        h.addConstr(q[(p, lay)] <= k[(p, lay)])
        h.addConstr(k[(p, lay)] <= float(caps.loc[(p, lay), "capacity"]) * var)
        h.addConstr(q[(p, lay)] >= sigma * big_d[lay] - sigma * upper[lay] * (1 - var))
        cap_share = float(layers.loc[lay, "max_share"])
        if out_of[(p, lay)] and cap_share < 1:  # at 1 the row says q <= D, true of any plan
            h.addConstr(q[(p, lay)] <= cap_share * big_d[lay])
        if upper[lay] <= 0:
            h.addConstr(var == 0)
    for i, lay in enumerate(ids):
        need = int(layers.loc[lay, "min_suppliers"])
        chosen = sum((y[(p, lay)] for p in hosts[lay]), start=zero)
        if need > 0 and float(inverse[i] @ d) > 0:
            h.addConstr(chosen >= need)
        elif need > 0 and upper[lay] > 0:
            w = h.addBinary()
            h.addConstr(big_d[lay] <= upper[lay] * w)
            h.addConstr(chosen >= need * w)
        share = float(layers.loc[lay, "resilience"])
        if share > 0:
            total = sum((k[(p, lay)] for p in hosts[lay]), start=zero)
            for p in hosts[lay] or [None]:
                rest = total - k[(p, lay)] if p is not None else total
                h.addConstr(rest >= share * big_d[lay])
    value = sum((float(layers.loc[lay, "unit_value"]) * big_d[lay] for lay in ids), start=zero)
    for p, row in partners.iterrows():
        if row["min_participation"] > 0:
            mine = sum((float(layers.loc[lay, "unit_value"]) * q[(p2, lay)]
                        for (p2, lay) in q if p2 == p), start=zero)
            h.addConstr(mine >= float(row["min_participation"]) * value)
    return optimum(h)


@pytest.mark.parametrize("chain", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_random_cases_with_markets_agree(tmp_path: Path, seed: int, chain: bool) -> None:
    tables = random_tables(seed, chain)
    case = load_case(write_tables(tables, tmp_path / "case")).with_overrides(
        {"objective.shortage_cost": SHORTAGE_COST})
    assert_same_optimum(case, independent_optimum(tables))
