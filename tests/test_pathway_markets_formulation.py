"""Pathways with markets against a formulation of README, Pathways and Markets written apart.

Written from the text with highspy's modelling calls (no code of ``solver``): the pathway of
tests/test_pathway_formulation.py (builds by vintage, the installed base kept and never
rising again, capacity in service, binaries per period, demand times demand_factor, then the
period's targets) and, in every period, the markets of that period (targets.csv may change a
market row's demand, price or entry cost): market flows h over the routes trade.csv allows
(the market id as importer), an entry binary where entry_cost > 0, the band ``min_share
demand e <= sum_p h <= max_share demand e``, supply ``q = members' flows + h``, the total
requirement ``D = d + s`` in supplier share (written with D's upper bound U) and
concentration, and the terms ``- price h`` and ``entry_cost e`` weighted by the period's
w_t like the others. Random small cases (seeded) must reach the same optimum in both, or
both be infeasible.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pytest

from solver import load_case

try:
    from formulation import assert_same_optimum, optimum, seeds, write_tables
    from test_pathway_formulation import LAYERS, PARTNERS, period_data
    from test_pathway_formulation import random_tables as pathway_tables
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.formulation import assert_same_optimum, optimum, seeds, write_tables
    from tests.test_pathway_formulation import LAYERS, PARTNERS, period_data
    from tests.test_pathway_formulation import random_tables as pathway_tables

MARKETS = ("BR", "IN")


def random_tables(seed: int) -> dict[str, pd.DataFrame]:
    """A random pathway of tests/test_pathway_formulation.py with markets and market targets."""
    t = pathway_tables(seed)
    rng = np.random.default_rng(1000 + seed)
    rows = [{"market": m, "layer": layer, "demand": float(rng.integers(5, 30)),
             "min_share": float(rng.choice([0.0, 0.1, 0.3])),
             "max_share": float(rng.choice([0.5, 1.0])),
             "price": float(rng.choice([0.0, 4.0, 9.0])),
             "entry_cost": float(rng.choice([0.0, 0.0, 10.0]))}
            for m in MARKETS for layer in LAYERS if rng.random() < 0.6]
    if not rows:
        rows = [{"market": "BR", "layer": LAYERS[0], "demand": 10.0, "min_share": 0.2,
                 "max_share": 0.8, "price": 5.0, "entry_cost": 0.0}]
    t["markets"] = pd.DataFrame(rows)
    t["trade"] = pd.DataFrame([{"exporter": p, "importer": m,
                                "unit_cost": float(rng.integers(0, 3)),
                                "allowed": bool(rng.random() < 0.8)}
                               for p in PARTNERS for m in t["markets"]["market"].unique()
                               if rng.random() < 0.5],
                              columns=["exporter", "importer", "unit_cost", "allowed"])
    first, last = t["periods"]["period"].iloc[0], t["periods"]["period"].iloc[-1]
    row = t["markets"].iloc[int(rng.integers(len(t["markets"])))]
    key = f"markets[{row['market']},{row['layer']}]"
    market_targets = [{"period": last, "set": f"{key}.demand*={rng.choice([0.5, 2.0])}"},
                      {"period": first, "set": f"markets[*,*].price={rng.choice([2.0, 6.0])}"},
                      {"period": last, "set": f"{key}.entry_cost={rng.choice([0.0, 15.0])}"}]
    t["targets"] = pd.concat([t["targets"], pd.DataFrame(market_targets)], ignore_index=True)
    return t


def market_rows(t: dict[str, pd.DataFrame], period: str) -> pd.DataFrame:
    """markets.csv of one period: its targets on markets applied in file order."""
    rows = t["markets"].set_index(["market", "layer"]).copy()
    for text in t["targets"].loc[t["targets"]["period"] == period, "set"]:
        if not text.startswith("markets["):
            continue
        key, value = text.split("=")
        name, column = key[len("markets["):].split("].")
        market, layer = name.split(",")
        at = rows.index if market == "*" else [(market, layer)]
        if column.endswith("*"):
            rows.loc[at, column[:-1]] = rows.loc[at, column[:-1]] * float(value)
        else:
            rows.loc[at, column] = float(value)
    return rows


def route(t: dict[str, pd.DataFrame], exporter: str, market: str) -> tuple[bool, float]:
    """Whether the route may carry goods, and its cost (no row: allowed, free)."""
    trade = t["trade"]
    hit = trade[(trade["exporter"] == exporter) & (trade["importer"] == market)]
    if len(hit):
        return bool(hit["allowed"].iloc[0]), float(hit["unit_cost"].iloc[0])
    return True, 0.0


def independent_optimum(t: dict[str, pd.DataFrame], rate: float) -> float | None:
    """The least discounted cost of the pathway with markets, None if infeasible."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)
    per = t["periods"].reset_index(drop=True)
    year = per["year"].astype(int).tolist()
    w = [float(per["years"][i]) * (1 + rate) ** -(year[i] - year[0]) for i in range(len(per))]
    plain = {**t, "targets": t["targets"][~t["targets"]["set"].str.startswith("markets[")]}
    data = [period_data(plain, str(per["period"][i]), float(per["demand_factor"][i]))
            for i in range(len(per))]
    keys = list(t["capabilities"].set_index(["partner", "layer"]).index)
    b: dict[tuple[Any, int], Any] = {}
    cost_b: dict[tuple[Any, int], float] = {}
    for tau, (_, caps) in enumerate(data):
        for c in keys:
            most = caps.loc[c, "max_build"]
            b[(c, tau)] = h.addVariable(lb=0, ub=float(caps.loc[c, "capacity"] if pd.isna(most)
                                                       else most))
            cost_b[(c, tau)] = 0.0
    zero = 0.0 * b[(keys[0], 0)]
    x_before: dict[Any, Any] = {}
    for i, (layers, caps) in enumerate(data):
        markets = market_rows(t, str(per["period"][i]))
        sent = {lay: zero for lay in LAYERS}
        upper = {lay: float(layers.loc[lay, "demand"]) for lay in LAYERS}
        h_of: dict[Any, list[Any]] = {c: [] for c in keys}
        for (market, lay), row in markets.iterrows():
            if row["demand"] <= 0:
                continue
            flows = []
            for c in keys:
                ok, cost = route(t, c[0], str(market))
                if c[1] == lay and ok:
                    flows.append(h.addVariable(lb=0, obj=w[i] * (cost - float(row["price"]))))
                    h_of[c].append(flows[-1])
            s = sum(flows, start=zero)
            e: Any = h.addBinary(obj=w[i] * float(row["entry_cost"])) \
                if row["entry_cost"] > 0 else 1.0
            h.addConstr(s >= float(row["min_share"] * row["demand"]) * e)
            h.addConstr(s <= float(row["max_share"] * row["demand"]) * e)
            sent[lay] = sent[lay] + s
            upper[lay] += float(row["max_share"] * row["demand"])
        f_of: dict[str, list[Any]] = {lay: [] for lay in LAYERS}
        y_of: dict[str, list[Any]] = {lay: [] for lay in LAYERS}
        for c in keys:
            row = caps.loc[c]
            until = row["existing_until"]
            base = float(row["existing"]) if pd.isna(until) or year[i] < until else 0.0
            ec = row["unit_cost"] if pd.isna(row["existing_cost"]) else row["existing_cost"]
            x = h.addVariable(lb=0, ub=base, obj=w[i] * float(ec))
            if c in x_before:
                h.addConstr(x <= x_before[c])
            x_before[c] = x
            k = x + zero
            for tau in range(i + 1):
                vintage = data[tau][1].loc[c]
                start = year[tau] + float(vintage["lead_time"])
                life = math.inf if pd.isna(vintage["lifetime"]) else float(vintage["lifetime"])
                if start <= year[i] < start + life:
                    k = k + b[(c, tau)]
                    cost_b[(c, tau)] += w[i] * float(vintage["unit_cost"])
            y = h.addBinary(obj=w[i] * float(row["fixed_cost"]))
            f = h.addVariable(lb=0)
            lay = c[1]
            q = f + sum(h_of[c], start=zero)
            big_d = float(layers.loc[lay, "demand"]) + sent[lay]
            sigma = float(layers.loc[lay, "min_supplier_share"])
            h.addConstr(q <= k)
            h.addConstr(k <= float(row["capacity"]) * y)
            h.addConstr(k >= float(row["min_capacity"]) * y)
            h.addConstr(q >= sigma * big_d - sigma * upper[lay] * (1 - y))
            if float(layers.loc[lay, "max_share"]) < 1:
                h.addConstr(q <= float(layers.loc[lay, "max_share"]) * big_d)
            f_of[lay].append(f)
            y_of[lay].append(y)
        for lay in LAYERS:
            h.addConstr(sum(f_of[lay], start=zero) == float(layers.loc[lay, "demand"]))
            h.addConstr(sum(y_of[lay], start=zero) >= int(layers.loc[lay, "min_suppliers"]))
    for key, var in b.items():
        h.changeColCost(var.index, cost_b[key])
    return optimum(h)


@pytest.mark.parametrize("seed", seeds(12, unit=3))
def test_random_pathways_with_markets_agree(tmp_path: Path, seed: int) -> None:
    tables = random_tables(seed)
    rate = [0.0, 0.05][seed % 2]
    case = load_case(write_tables(tables, tmp_path / "case")).with_overrides(
        {"objective.discount_rate": rate})
    assert_same_optimum(case, independent_optimum(tables, rate))
