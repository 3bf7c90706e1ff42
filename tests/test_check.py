"""Tests of the independent solution checker (solver/check.py).

A tiny case is written as CSV files and loaded with ``load_case``; a feasible plan is built
by hand (its objective computed by hand too) and must pass. Then each constraint family is
broken by a tampered plan that must produce that family's violation, with the right entity
and amount.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solver.case.loader import Case, load_case
from solver.check.run import TOLERANCE, Violation, check_run, check_solution

CASE = {
    "partners.csv": """partner,member,trust,min_participation,max_participation,disruption_risk
A,true,1,0.1,0.8,0.1
B,true,0.9,0.15,1,0.2
C,false,0.4,0,1,0.3
D,false,1,0,1,0
""",
    "layers.csv": """layer,unit_value,min_suppliers,min_supplier_share,max_share,min_trust,\
resilience,redundancy_cost,max_surplus
chips,2,3,0.1,0.7,0.5,0.5,1,0.5
cloud,1,1,0,1,0,0,0,
""",
    "capabilities.csv": """partner,layer,capacity,unit_cost,fixed_cost,min_capacity
A,chips,80,1,10,5
B,chips,60,2,5,5
C,chips,100,0.5,0,0
D,chips,30,1,0,0
A,cloud,50,1,1,0
B,cloud,20,1,1,2
C,cloud,50,0.5,0,0
""",
    "demand.csv": """member,layer,demand,max_dependency,min_domestic
A,chips,60,0.8,0.25
B,chips,40,1,0
A,cloud,20,1,0
B,cloud,10,0.6,0
""",
    "trade.csv": """exporter,importer,unit_cost,allowed
A,B,0.5,true
B,A,0.25,true
C,A,0.2,false
C,B,0.1,true
""",
}

Flows = Mapping[tuple[str, str, str], float]
Pairs = Mapping[tuple[str, str], float]

# The feasible plan: who ships what to whom, and the capacity built.
FLOWS: Flows = {
    ("A", "A", "chips"): 40, ("D", "A", "chips"): 20, ("B", "B", "chips"): 35,
    ("D", "B", "chips"): 5, ("A", "A", "cloud"): 20, ("A", "B", "cloud"): 6,
    ("C", "B", "cloud"): 4,
}
BUILT: Pairs = {("A", "chips"): 45, ("B", "chips"): 40, ("D", "chips"): 25,
                ("A", "cloud"): 26, ("C", "cloud"): 4}

# Worked by hand for the plan above (risk_weight 2, redundancy_weight 1):
# fixed 10 + 5 + 0 + 1 + 0; capacity 45*1 + 40*2 + 25*1 + 26*1 + 4*0.5;
# trade 6*0.5 + 4*0.1; redundancy 1*(110 - 100); risk 2*(0.1*106 + 0.2*70 + 0.3*4 + 0*50).
HAND_COSTS = {"fixed": 16.0, "capacity": 178.0, "trade": 3.4, "redundancy": 10.0,
              "risk": 51.6}
HAND_OBJECTIVE = 259.0


def write_case(folder: Path, files: dict[str, str] | None = None) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files or CASE).items():
        (folder / name).write_text(text, encoding="utf-8")
    return load_case(folder)


@pytest.fixture
def case(tmp_path: Path) -> Case:
    return write_case(tmp_path / "case").with_overrides({"objective.risk_weight": 2.0})


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def oracle_costs(case: Case, alloc: pd.DataFrame, flows: pd.DataFrame) -> dict[str, float]:
    """The objective terms, computed row by row in plain Python (a second implementation)."""
    layers = {r["layer"]: r for r in records(case.layers)}
    partners = {r["partner"]: r for r in records(case.partners)}
    demand: dict[str, float] = defaultdict(float)
    for r in records(case.demand):
        demand[r["layer"]] += r["demand"]
    caps = {(r["partner"], r["layer"]): r for r in records(case.capabilities)}
    fixed = capacity = risk = 0.0
    built: dict[str, float] = defaultdict(float)
    for r in records(alloc):
        cap = caps[(r["partner"], r["layer"])]
        fixed += cap["fixed_cost"] * (1.0 if float(r["hosted"]) >= 0.5 else 0.0)
        capacity += cap["unit_cost"] * r["capacity"]
        built[r["layer"]] += r["capacity"]
        risk += (partners[r["partner"]]["disruption_risk"] * layers[r["layer"]]["unit_value"]
                 * r["supplied"])
    trade = sum(r["quantity"] * r["unit_cost"] for r in records(flows))
    redundancy = sum(layers[name]["redundancy_cost"] * (built[name] - demand[name])
                     for name in layers)
    obj = case.objective
    return {"fixed": fixed, "capacity": capacity, "trade": trade,
            "redundancy": obj.redundancy_weight * redundancy, "risk": obj.risk_weight * risk}


def trade_cost(case: Case, p: str, n: str) -> float:
    if p == n or case.trade.empty:
        return 0.0
    hit = case.trade[(case.trade["exporter"] == p) & (case.trade["importer"] == n)]
    return float(hit["unit_cost"].iloc[0]) if len(hit) else 0.0


def build(
    case: Case,
    flows: Flows | None = None,
    built: Pairs | None = None,
    hosted: dict[tuple[str, str], Any] | None = None,
    supplied: Pairs | None = None,
    status: str = "optimal",
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Consistent solution tables for a plan: allocation, flows and summary."""
    flows = FLOWS if flows is None else flows
    built = BUILT if built is None else built
    hosted = hosted or {}
    supplied = supplied or {}
    layer_demand = case.demand.groupby("layer")["demand"].sum()
    shipped: dict[tuple[str, str], float] = defaultdict(float)
    for (p, _, layer), f in flows.items():
        shipped[(p, layer)] += f
    rows = []
    for r in records(case.capabilities):
        key = (r["partner"], r["layer"])
        k = float(built.get(key, 0.0))
        y = hosted.get(key, k > 0)
        q = float(supplied.get(key, shipped[key]))
        d = float(layer_demand.get(r["layer"], 0.0))
        rows.append({
            "partner": r["partner"], "layer": r["layer"], "hosted": y, "capacity": k,
            "supplied": q, "share": q / d if d > 0 else 0.0, "unit_cost": r["unit_cost"],
            "fixed_cost": r["fixed_cost"],
            "cost": r["fixed_cost"] * (1.0 if float(y) >= 0.5 else 0.0) + r["unit_cost"] * k,
        })
    alloc = pd.DataFrame(rows).sort_values(["partner", "layer"]).reset_index(drop=True)
    flow_df = pd.DataFrame(
        [{"exporter": p, "importer": n, "layer": layer, "quantity": float(f),
          "unit_cost": trade_cost(case, p, n)} for (p, n, layer), f in flows.items() if f],
        columns=["exporter", "importer", "layer", "quantity", "unit_cost"])
    costs = oracle_costs(case, alloc, flow_df)
    objective = sum(costs.values())
    summary = {"status": status, "objective": objective, "bound": objective - 1e-3,
               "gap": 1e-3 / objective, "costs": costs}
    return alloc, flow_df, summary


def families(violations: list[Violation]) -> set[str]:
    return {v.family for v in violations}


def only(violations: list[Violation], family: str) -> Violation:
    """The single violation, which must be of ``family``."""
    assert [v.family for v in violations] == [family], [str(v) for v in violations]
    return violations[0]


def tamper_flows(**changes: float) -> Flows:
    """FLOWS with ``X_Y_layer=value`` changes (value 0 removes the flow)."""
    out = dict(FLOWS)
    for key, value in changes.items():
        p, n, layer = key.split("_")
        out[(p, n, layer)] = value
    return {k: v for k, v in out.items() if v}


def built_with(**changes: float) -> Pairs:
    out = dict(BUILT)
    for key, value in changes.items():
        p, layer = key.split("_")
        out[(p, layer)] = value
    return out


# --- the feasible plan ---------------------------------------------------------------


def test_feasible_plan_has_no_violation(case: Case) -> None:
    alloc, flows, summary = build(case)
    assert summary["costs"] == pytest.approx(HAND_COSTS)
    assert summary["objective"] == pytest.approx(HAND_OBJECTIVE)
    summary["costs"] = dict(HAND_COSTS)
    summary["objective"] = HAND_OBJECTIVE
    assert check_solution(case, alloc, flows, summary) == []


def test_checker_is_independent_of_the_model() -> None:
    code = ("import sys, solver.check.run; "
            "bad = [m for m in sys.modules if m.startswith(('pyomo', 'solver.model'))]; "
            "sys.exit(bool(bad))")
    root = Path(__file__).resolve().parent.parent
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


def test_violation_str_is_the_message() -> None:
    v = Violation("demand", "A,chips", 5.0, "layer chips: demand: A receives 65 units")
    assert str(v) == "layer chips: demand: A receives 65 units"


# --- one tampered plan per family ----------------------------------------------------


def test_demand(case: Case) -> None:
    v = only(check_solution(case, *build(case, tamper_flows(A_A_chips=45))), "demand")
    assert v.entity == "A,chips"
    assert v.amount == pytest.approx(5.0)
    assert "needs 60" in v.message and "over by 5" in v.message


def test_demand_short_when_a_flow_is_missing(case: Case) -> None:
    flows = tamper_flows(C_B_cloud=0)
    v = only(check_solution(case, *build(case, flows, built_with(C_cloud=0))), "demand")
    assert (v.entity, v.amount) == ("B,cloud", pytest.approx(4.0))
    assert "short by 4" in v.message


def test_supplied(case: Case) -> None:
    v = only(check_solution(case, *build(case, supplied={("A", "chips"): 38})), "supplied")
    assert (v.entity, v.amount) == ("A,chips", pytest.approx(2.0))


def test_capacity(case: Case) -> None:
    v = only(check_solution(case, *build(case, built=built_with(B_chips=34))), "capacity")
    assert (v.entity, v.amount) == ("B,chips", pytest.approx(1.0))


def test_hosting_above_capacity(case: Case) -> None:
    v = only(check_solution(case, *build(case, built=built_with(A_cloud=51))), "hosting")
    assert (v.entity, v.amount) == ("A,cloud", pytest.approx(1.0))
    assert "capacity 50" in v.message


def test_hosting_capacity_built_without_hosting(case: Case) -> None:
    sol = build(case, hosted={("C", "cloud"): False})
    v = only(check_solution(case, *sol), "hosting")
    assert (v.entity, v.amount) == ("C,cloud", pytest.approx(4.0))


def test_hosting_below_min_capacity(case: Case) -> None:
    sol = build(case, built=built_with(B_cloud=1))
    v = only(check_solution(case, *sol), "hosting")
    assert (v.entity, v.amount) == ("B,cloud", pytest.approx(1.0))
    assert "min_capacity 2" in v.message


def test_hosting_not_binary(case: Case) -> None:
    v = only(check_solution(case, *build(case, hosted={("D", "chips"): 0.5})), "hosting")
    assert (v.entity, v.amount) == ("D,chips", pytest.approx(0.5))


def test_hosting_by_an_untrusted_partner(case: Case) -> None:
    v = only(check_solution(case, *build(case, hosted={("C", "chips"): True})), "hosting")
    assert (v.entity, v.amount) == ("C,chips", 1.0)
    assert "trust 0.4" in v.message and "min_trust 0.5" in v.message


def test_supplier_share(case: Case) -> None:
    flows = tamper_flows(A_A_chips=56, D_A_chips=4)
    v = only(check_solution(case, *build(case, flows, built_with(A_chips=56))),
             "supplier_share")
    assert (v.entity, v.amount) == ("D,chips", pytest.approx(1.0))


def test_diversification(case: Case) -> None:
    flows = tamper_flows(A_A_chips=44, B_A_chips=16, B_B_chips=40, D_A_chips=0, D_B_chips=0)
    built = built_with(A_chips=50, B_chips=56, D_chips=0)
    v = only(check_solution(case, *build(case, flows, built)), "diversification")
    assert (v.entity, v.amount) == ("chips", 1.0)
    assert "min_suppliers is 3" in v.message


def test_diversification_ignores_layers_without_demand(tmp_path: Path) -> None:
    files = dict(CASE)
    files["demand.csv"] = CASE["demand.csv"].replace("A,chips,60", "A,chips,0").replace(
        "B,chips,40", "B,chips,0")
    case = write_case(tmp_path / "c", files).with_overrides(
        {"partners.min_participation": 0, "partners.max_participation": 1})
    flows = {k: v for k, v in FLOWS.items() if k[2] == "cloud"}
    built = {k: v for k, v in BUILT.items() if k[1] == "cloud"}
    assert check_solution(case, *build(case, flows, built)) == []


def test_concentration(case: Case) -> None:
    flows = tamper_flows(A_A_chips=60, A_B_chips=12, B_B_chips=18, D_A_chips=0, D_B_chips=10)
    built = built_with(A_chips=72)
    v = only(check_solution(case, *build(case, flows, built)), "concentration")
    assert (v.entity, v.amount) == ("A,chips", pytest.approx(2.0))
    assert "supplies 0.72 of demand, max_share 0.7 (over by 2 units)" in v.message


def test_resilience(case: Case) -> None:
    flows = tamper_flows(A_A_chips=60, B_B_chips=30, D_A_chips=0, D_B_chips=10)
    built = built_with(A_chips=60, B_chips=30, D_chips=10)
    v = only(check_solution(case, *build(case, flows, built)), "resilience")
    assert (v.entity, v.amount) == ("chips", pytest.approx(10.0))
    assert "without A" in v.message


def test_resilience_without_any_host(tmp_path: Path) -> None:
    files = {
        "partners.csv": "partner,trust\nP,0.2\nQ,1\n",
        "layers.csv": "layer,demand,min_suppliers,min_trust,resilience\n"
                      "x,10,0,0.5,0.5\ny,5,1,0,0\n",
        "capabilities.csv": "partner,layer,capacity,unit_cost\nP,x,20,1\nQ,y,10,1\n",
    }
    case = write_case(tmp_path / "c", files)
    sol = build(case, flows={("Q", "coalition", "y"): 5}, built={("Q", "y"): 5})
    out = check_solution(case, *sol)
    res = [v for v in out if v.family == "resilience"]
    assert [(v.entity, v.amount) for v in res] == [("x", pytest.approx(5.0))]
    assert families(out) == {"resilience", "demand"}


def test_surplus(case: Case) -> None:
    built = built_with(A_chips=80, B_chips=60, D_chips=25)
    v = only(check_solution(case, *build(case, built=built)), "surplus")
    assert (v.entity, v.amount) == ("chips", pytest.approx(15.0))


def test_dependency(case: Case) -> None:
    flows = tamper_flows(A_B_cloud=7, C_B_cloud=3)
    v = only(check_solution(case, *build(case, flows, built_with(A_cloud=27))), "dependency")
    assert (v.entity, v.amount) == ("A->B,cloud", pytest.approx(1.0))


def test_domestic(case: Case) -> None:
    flows = tamper_flows(A_A_chips=14, D_A_chips=25, B_A_chips=21)
    built = built_with(B_chips=56, D_chips=30)
    v = only(check_solution(case, *build(case, flows, built)), "domestic")
    assert (v.entity, v.amount) == ("A,chips", pytest.approx(1.0))


def test_participation_below_minimum(case: Case) -> None:
    flows = tamper_flows(A_A_chips=40, A_B_chips=18, B_B_chips=17, D_B_chips=5)
    built = built_with(A_chips=58)
    v = only(check_solution(case, *build(case, flows, built)), "participation")
    assert (v.entity, v.amount) == ("B", pytest.approx(0.5))
    assert "below min_participation 0.15" in v.message


def test_participation_above_maximum(case: Case) -> None:
    tight = case.with_overrides({"partners[A].max_participation": 0.4})
    v = only(check_solution(tight, *build(tight)), "participation")
    assert (v.entity, v.amount) == ("A", pytest.approx(106 - 0.4 * 230))


def test_budget(case: Case) -> None:
    capped = case.with_overrides({"objective.budget": 190})
    v = only(check_solution(capped, *build(capped)), "budget")
    assert (v.entity, v.amount) == ("budget", pytest.approx(16 + 178 + 3.4 - 190))
    roomy = case.with_overrides({"objective.budget": 197.4})
    assert check_solution(roomy, *build(roomy)) == []


def test_objective_term(case: Case) -> None:
    alloc, flows, summary = build(case)
    summary["costs"]["trade"] += 1.0
    v = only(check_solution(case, alloc, flows, summary), "objective")
    assert (v.entity, v.amount) == ("costs.trade", pytest.approx(1.0))


def test_objective_total(case: Case) -> None:
    alloc, flows, summary = build(case)
    summary["objective"] += 0.5
    v = only(check_solution(case, alloc, flows, summary), "objective")
    assert (v.entity, v.amount) == ("objective", pytest.approx(0.5))


def test_objective_bound_above_objective(case: Case) -> None:
    alloc, flows, summary = build(case)
    summary["bound"] = summary["objective"] + 2.0
    v = only(check_solution(case, alloc, flows, summary), "objective")
    assert (v.entity, v.amount) == ("bound", pytest.approx(2.0))


def test_objective_within_tolerance(case: Case) -> None:
    alloc, flows, summary = build(case)
    summary["objective"] += 0.5 * TOLERANCE.relative * summary["objective"]
    assert check_solution(case, alloc, flows, summary) == []


def test_objective_skipped_without_solution(case: Case) -> None:
    alloc, flows, summary = build(case, status="time_limit")
    summary["objective"] += 5
    assert families(check_solution(case, alloc, flows, summary)) == {"objective"}
    summary["status"] = "no_solution"
    summary["objective"] = None
    # A status that means "no plan" with a plan in the tables is not a run the tool wrote.
    v = only(check_solution(case, alloc, flows, summary), "table")
    assert v.entity == "summary.json" and "status 'no_solution' means" in v.message


def test_route_forbidden(case: Case) -> None:
    flows = tamper_flows(A_A_cloud=18, C_A_cloud=2)
    v = only(check_solution(case, *build(case, flows, built_with(C_cloud=6))), "route")
    assert (v.entity, v.amount) == ("C->A,cloud", pytest.approx(2.0))
    assert "forbidden" in v.message


def test_route_without_capability(case: Case) -> None:
    flows = tamper_flows(A_A_cloud=18, D_A_cloud=2)
    v = only(check_solution(case, *build(case, flows)), "route")
    assert (v.entity, v.amount) == ("D->A,cloud", pytest.approx(2.0))
    assert "cannot produce cloud" in v.message


def test_route_to_a_consumer_without_demand(case: Case) -> None:
    flows = tamper_flows(A_D_cloud=1)
    v = only(check_solution(case, *build(case, flows, built_with(A_cloud=27))), "route")
    assert (v.entity, v.amount) == ("A->D,cloud", pytest.approx(1.0))
    assert "D has no demand row for cloud" in v.message


def test_route_from_an_untrusted_partner(case: Case) -> None:
    flows = tamper_flows(B_B_chips=30, C_B_chips=5)
    out = check_solution(case, *build(case, flows))
    assert families(out) == {"route", "capacity"}
    route = [v for v in out if v.family == "route"]
    assert [(v.entity, v.amount) for v in route] == [("C->B,chips", pytest.approx(5.0))]
    assert "trust 0.4 is below the layer's min_trust 0.5" in route[0].message


# --- malformed tables ----------------------------------------------------------------


def test_table_trade_cost_mismatch(case: Case) -> None:
    alloc, flows, summary = build(case)
    flows.loc[(flows["exporter"] == "A") & (flows["importer"] == "B"), "unit_cost"] = 0.4
    v = only(check_solution(case, alloc, flows, summary), "table")
    assert (v.entity, v.amount) == ("A->B,cloud", pytest.approx(0.1))


def test_table_allocation_cost_columns(case: Case) -> None:
    alloc, flows, summary = build(case)
    row = (alloc["partner"] == "A") & (alloc["layer"] == "chips")
    alloc.loc[row, "cost"] += 3.0
    alloc.loc[row, "unit_cost"] = 1.5
    alloc.loc[row, "share"] = 0.5
    out = check_solution(case, alloc, flows, summary)
    assert families(out) == {"table"}
    assert sorted((v.entity, round(v.amount, 9)) for v in out) == [
        ("A,chips", 0.1), ("A,chips", 0.5), ("A,chips", 3.0)]
    # The objective is recomputed from the case's costs, not from the written columns.
    assert not [v for v in out if v.family == "objective"]


def test_table_missing_and_extra_allocation_rows(case: Case) -> None:
    alloc, flows, summary = build(case)
    alloc = alloc[~((alloc["partner"] == "C") & (alloc["layer"] == "chips"))]
    extra = alloc.iloc[[0]].assign(partner="D", layer="cloud")
    alloc = pd.concat([alloc, extra, alloc.iloc[[0]]], ignore_index=True)
    out = check_solution(case, alloc, flows, summary)
    assert families(out) == {"table"}
    assert sorted(v.entity for v in out) == ["A,chips", "C,chips", "D,cloud"]


def test_table_missing_column(case: Case) -> None:
    alloc, flows, summary = build(case)
    v = only(check_solution(case, alloc.drop(columns="hosted"), flows, summary), "table")
    assert v.entity == "allocation.csv" and "hosted" in v.message


def test_table_unknown_ids_negative_and_duplicate_flows(case: Case) -> None:
    alloc, flows, summary = build(case)
    bad = pd.DataFrame([
        {"exporter": "A", "importer": "A", "layer": "quantum", "quantity": 1.0,
         "unit_cost": 0.0},
        {"exporter": "Z", "importer": "A", "layer": "chips", "quantity": 1.0,
         "unit_cost": 0.0},
    ])
    out = check_solution(case, alloc, pd.concat([flows, bad], ignore_index=True), summary)
    assert families(out) == {"table"}
    assert sorted(v.entity for v in out) == ["A->A,quantum", "Z->A,chips"]

    dup = pd.concat([flows, flows.iloc[[0]]], ignore_index=True)
    out = check_solution(case, alloc, dup, summary)
    assert "table" in families(out)
    first = f"{flows['exporter'].iloc[0]}->{flows['importer'].iloc[0]},{flows['layer'].iloc[0]}"
    assert [v.entity for v in out if v.family == "table"] == [first]

    neg = flows.copy()
    neg.loc[0, "quantity"] = -1.0
    out = check_solution(case, alloc, neg, summary)
    assert [(v.family, v.amount) for v in out if v.family == "table"] == [("table", 1.0)]


def test_table_unreadable_numbers(case: Case) -> None:
    alloc, flows, summary = build(case)
    alloc = alloc.astype({"capacity": object})
    alloc.loc[0, "capacity"] = "lots"
    out = check_solution(case, alloc, flows, summary)
    assert any(v.family == "table" and "column capacity" in v.message for v in out)


def test_table_summary_without_status(case: Case) -> None:
    alloc, flows, summary = build(case)
    del summary["status"]
    v = only(check_solution(case, alloc, flows, summary), "table")
    assert v.entity == "summary.json"


# --- a case without demand.csv -------------------------------------------------------


def test_coalition_consumer(tmp_path: Path) -> None:
    files = {
        "partners.csv": "partner,disruption_risk\nP,0.5\nQ,0\n",
        "layers.csv": "layer,demand,max_share\nx,10,0.6\n",
        "capabilities.csv": "partner,layer,capacity,unit_cost,fixed_cost\n"
                            "P,x,20,1,3\nQ,x,20,2,0\n",
        "trade.csv": "exporter,importer,unit_cost\nP,coalition,0.5\n",
    }
    case = write_case(tmp_path / "c", files)
    flows = {("P", "coalition", "x"): 6, ("Q", "coalition", "x"): 4}
    alloc, flow_df, summary = build(case, flows, {("P", "x"): 6, ("Q", "x"): 4})
    assert summary["costs"]["trade"] == pytest.approx(3.0)
    assert summary["objective"] == pytest.approx(3 + 6 + 8 + 3)
    assert check_solution(case, alloc, flow_df, summary) == []
    flows = {("P", "coalition", "x"): 7, ("Q", "coalition", "x"): 3}
    out = check_solution(case, *build(case, flows, {("P", "x"): 7, ("Q", "x"): 3}))
    assert [(v.family, v.entity) for v in out] == [("concentration", "P,x")]


# --- check_run on a written folder ---------------------------------------------------


# The report tables of the plan above, worked by hand. chips: D 100, built A 45, B 40,
# D 25, supplied 40, 35, 25; cloud: D 30, built and supplied A 26, C 4. Values: chips 2,
# cloud 1, so V = 230. A's cost: fixed 10 + 1, capacity 45 + 26, shipping 6 x 0.5 to B.
HAND_LAYERS = pd.DataFrame({
    "layer": ["chips", "cloud"], "demand": [100.0, 30.0], "capacity": [110.0, 30.0],
    "supplied": [100.0, 30.0], "suppliers": [3, 2], "max_share": [0.4, 26 / 30],
    "hhi": [0.345, 692 / 900], "effective_suppliers": [1 / 0.345, 900 / 692],
    "n1_coverage": [0.65, 4 / 30], "surplus": [10.0, 0.0]})
HAND_PARTNERS = pd.DataFrame({
    "partner": ["A", "B", "C", "D"], "member": [True, True, False, False],
    "value": [106.0, 70.0, 4.0, 50.0], "participation": [106 / 230, 70 / 230, 4 / 230,
                                                         50 / 230],
    "layers_hosted": [2, 1, 1, 1], "cost": [85.0, 85.0, 2.4, 25.0]})


def write_run(folder: Path, alloc: pd.DataFrame, flows: pd.DataFrame,
              summary: dict[str, Any], layers: pd.DataFrame = HAND_LAYERS,
              partners: pd.DataFrame = HAND_PARTNERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    alloc.to_csv(folder / "allocation.csv", index=False, float_format="%.17g")
    flows.to_csv(folder / "flows.csv", index=False, float_format="%.17g")
    layers.to_csv(folder / "layers.csv", index=False, float_format="%.17g")
    partners.to_csv(folder / "partners.csv", index=False, float_format="%.17g")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return folder


def test_check_run_written_folder(case: Case, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", *build(case))
    assert check_run(case, run) == []
    text = (run / "allocation.csv").read_text()
    assert "True" in text  # hosted written by pandas as True/False


def test_check_run_hosted_as_numbers(case: Case, tmp_path: Path) -> None:
    alloc, flows, summary = build(case)
    alloc["hosted"] = alloc["hosted"].astype(int)
    assert check_run(case, write_run(tmp_path / "run", alloc, flows, summary)) == []


def test_check_run_tampered_folder(case: Case, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", *build(case, tamper_flows(A_A_chips=45)))
    # The hand-worked report tables are those of the untampered plan: they disagree too.
    out = check_run(case, run)
    v = only([v for v in out if v.family != "report"], "demand")
    assert {v.entity for v in out if v.family == "report"} >= {"layers.csv:chips",
                                                              "partners.csv:A"}
    assert (v.entity, v.amount) == ("A,chips", pytest.approx(5.0))


def test_check_run_missing_flows(case: Case, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", *build(case))
    (run / "flows.csv").unlink()
    v = only(check_run(case, run), "table")
    assert v.entity == "flows.csv" and "missing" in v.message


def test_check_run_malformed_files(case: Case, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", *build(case))
    (run / "summary.json").write_text("{not json", encoding="utf-8")
    (run / "allocation.csv").write_text("", encoding="utf-8")
    out = check_run(case, run)
    assert families(out) == {"table"}
    assert sorted(v.entity for v in out) == ["allocation.csv", "summary.json"]
    (run / "summary.json").write_text("[1, 2]", encoding="utf-8")
    (run / "allocation.csv").write_bytes(b"\xff\xfe\x00bad")
    assert sorted(v.entity for v in check_run(case, run)) == ["allocation.csv", "summary.json"]


def test_report_tables_agree_with_the_plan(case: Case) -> None:
    assert check_solution(case, *build(case), layers=HAND_LAYERS, partners=HAND_PARTNERS) == []


@pytest.mark.parametrize(("table", "row", "column", "value", "entity", "message"), [
    ("layers", 0, "hhi", 0.2, "layers.csv:chips",
     "layers.csv: hhi of layer chips is 0.2, recomputed from the case and the plan 0.345 "
     "(off by 0.145)"),
    ("layers", 1, "n1_coverage", float("nan"), "layers.csv:cloud",
     "layers.csv: n1_coverage of layer cloud is empty, recomputed from the case and the "
     "plan 0.133333"),
    ("layers", 0, "suppliers", 2, "layers.csv:chips",
     "layers.csv: suppliers of layer chips is 2, recomputed from the case and the plan 3 "
     "(off by 1)"),
    ("partners", 0, "participation", 0.9, "partners.csv:A",
     "partners.csv: participation of partner A is 0.9, recomputed from the case and the "
     "plan 0.46087 (off by 0.43913)"),
    ("partners", 2, "cost", 2.0, "partners.csv:C",
     "partners.csv: cost of partner C is 2, recomputed from the case and the plan 2.4 "
     "(off by 0.4)"),
    ("partners", 3, "member", True, "partners.csv:D",
     "partners.csv: member of partner D is 'True', recomputed from the case and the plan "
     "false"),
])
def test_an_edited_report_cell_is_named(case: Case, tmp_path: Path, table: str, row: int,
                                        column: str, value: Any, entity: str,
                                        message: str) -> None:
    tables = {"layers": HAND_LAYERS.copy(), "partners": HAND_PARTNERS.copy()}
    tables[table][column] = tables[table][column].astype(object)
    tables[table].loc[row, column] = value
    run = write_run(tmp_path / "run", *build(case), **tables)
    v = only(check_run(case, run), "report")
    assert (v.entity, v.message) == (entity, message)


def test_report_rows_missing_repeated_or_unknown(case: Case, tmp_path: Path) -> None:
    layers = pd.concat([HAND_LAYERS.iloc[[0, 0]], HAND_LAYERS.iloc[[0]].assign(layer="gpus")])
    run = write_run(tmp_path / "run", *build(case), layers=layers)
    assert sorted(str(v) for v in check_run(case, run)) == [
        "layers.csv: layer 'gpus' is not in the case",
        "layers.csv: layer chips has more than one row",
        "layers.csv: no row for layer cloud"]
    (run / "partners.csv").unlink()
    assert "partners.csv: missing from the run folder" in [str(v) for v in check_run(case, run)]


def test_check_run_no_folder(case: Case, tmp_path: Path) -> None:
    v = only(check_run(case, tmp_path / "nowhere"), "table")
    assert "no such run folder" in v.message


def test_check_run_empty_flows_table(case: Case, tmp_path: Path) -> None:
    alloc, flows, summary = build(case)
    run = write_run(tmp_path / "run", alloc, flows.iloc[0:0], summary)
    out = check_run(case, run)
    assert {v.entity for v in out if v.family == "demand"} == {
        "A,chips", "B,chips", "A,cloud", "B,cloud"}


# --- property: a perturbed flow is caught once it exceeds the tolerance ---------------


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=len(FLOWS) - 1),
       delta=st.floats(min_value=-2.0, max_value=2.0, allow_nan=False))
def test_perturbed_flow_is_detected(case: Case, index: int, delta: float) -> None:
    alloc, flows, summary = build(case)
    row = flows.iloc[index]
    d = float(case.demand[(case.demand["member"] == row["importer"])
                          & (case.demand["layer"] == row["layer"])]["demand"].iloc[0])
    allowed = TOLERANCE.absolute + TOLERANCE.relative * (d + abs(delta))
    assume(abs(delta) > 2 * allowed or abs(delta) < 0.5 * TOLERANCE.absolute)
    perturbed = flows.copy()
    perturbed["quantity"] = perturbed["quantity"] + delta * (perturbed.index == index)
    out = check_solution(case, alloc, perturbed, summary)
    demand = [v for v in out if v.family == "demand"]
    if abs(delta) > 2 * allowed:
        assert [v.entity for v in demand] == [f"{row['importer']},{row['layer']}"]
        assert demand[0].amount == pytest.approx(abs(delta), rel=1e-6, abs=1e-9)
        supplied = [v for v in out if v.family == "supplied"]
        assert [v.entity for v in supplied] == [f"{row['exporter']},{row['layer']}"]
    else:
        assert out == []
