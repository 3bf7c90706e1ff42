"""One tiny case per constraint family of SPEC section 3, shown binding.

Each test solves a tiny case with the family's parameter off and on (through
``Case.with_overrides``) and asserts the optimum and the plan computed by hand in the comment
above it. A test named ``test_family_<family>`` (or ``test_family_<family>_<variant>``)
covers a family of :data:`solver.model.constraints.FAMILIES`; a meta-test fails when a
family has none.

Unless a test says otherwise, layers have the defaults of SPEC section 2: min_suppliers 1,
min_supplier_share 0.05, max_share 1, no resilience, no redundancy cost, unit_value 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from solver import Case, Result, load_case, solve

try:
    from tiny import TWO_SUPPLIERS, alloc, flow, layer_value, partner_value, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import (
        TWO_SUPPLIERS,
        alloc,
        flow,
        layer_value,
        partner_value,
        write_case,
    )

EXACT = 1e-9

#: HiGHS accepts a MIP plan whose rows are violated by up to its mip_feasibility_tolerance
#: (1e-6, absolute). Its rounding heuristic does so on ``k >= min_capacity * y``, building
#: 14.999999 for a minimum scale of 15, and then reports that plan's cost as the optimum.
#: Cases that bind a minimum capacity are compared at 1e-6 per unit of capacity times the
#: unit costs (at most a few here).
HIGHS_FEASIBILITY = 1e-5


def exact(x: float) -> Any:
    return pytest.approx(x, rel=EXACT, abs=EXACT)


def near(x: float) -> Any:
    return pytest.approx(x, rel=EXACT, abs=HIGHS_FEASIBILITY)


def run(case: Case, overrides: Mapping[str, Any] | None = None) -> Result:
    """Solve to proven optimality; every plan must pass the independent checker."""
    if overrides:
        case = case.with_overrides(overrides)
    result = solve(case, mip_gap=0.0)
    assert result.status == "optimal"
    assert result.verified, result.violations
    return result


def case_of(tmp_path: Path, **tables: str) -> Case:
    return load_case(write_case(tmp_path / "case", **{**TWO_SUPPLIERS, **tables}))


# Two members that consume, and two outside suppliers (cost 1 and 2 per unit of capacity).
MEMBERS_AND_SUPPLIERS = {
    "partners": """
        partner,member
        X,true
        Y,true
        A,false
        B,false
        """,
    "layers": "layer\nchips\n",
    "capabilities": """
        partner,layer,capacity,unit_cost
        A,chips,100,1
        B,chips,100,2
        """,
    "demand": """
        member,layer,demand
        X,chips,4
        Y,chips,6
        """,
}

# One member X that can produce at home (unit cost 2) and an outside supplier A (cost 1).
HOME_AND_ABROAD = {
    "partners": "partner,member\nX,true\nA,false\n",
    "layers": "layer\nchips\n",
    "capabilities": "partner,layer,capacity,unit_cost\nX,chips,100,2\nA,chips,100,1\n",
    "demand": "member,layer,demand\nX,chips,10\n",
}


def test_family_demand(tmp_path: Path) -> None:
    case = case_of(tmp_path, **MEMBERS_AND_SUPPLIERS)
    # Each member gets exactly its demand from the cheapest supplier A: 4 + 6 = 10 units at 1.
    base = run(case)
    assert base.objective == exact(10.0)
    assert flow(base, "A", "X", "chips") == exact(4.0)
    assert flow(base, "A", "Y", "chips") == exact(6.0)
    assert flow(base, "B", "X", "chips") == 0.0
    # Y needs 16: A supplies 4 + 16 = 20 units, cost 20; nothing more is built.
    more = run(case, {"demand[Y,chips].demand": 16})
    assert more.objective == exact(20.0)
    assert flow(more, "A", "Y", "chips") == exact(16.0)
    assert flow(more, "A", "X", "chips") == exact(4.0)
    assert alloc(more, "A", "chips", "capacity") == exact(20.0)
    assert layer_value(more, "chips", "surplus") == exact(0.0)


def test_family_capacity(tmp_path: Path) -> None:
    case = case_of(tmp_path)
    # Every unit supplied needs a unit of capacity built: A builds 10 at 1, cost 10.
    base = run(case)
    assert base.objective == exact(10.0)
    assert alloc(base, "A", "chips", "capacity") == exact(10.0)
    assert alloc(base, "A", "chips", "supplied") == exact(10.0)
    # Capacity at A now costs 5 a unit: B builds (and supplies) the 10 at 2, cost 20.
    dear = run(case, {"capabilities[A,chips].unit_cost": 5})
    assert dear.objective == exact(20.0)
    assert alloc(dear, "B", "chips", "capacity") == exact(10.0)
    assert alloc(dear, "B", "chips", "supplied") == exact(10.0)
    assert alloc(dear, "A", "chips", "supplied") == 0.0


def test_family_hosting_capacity(tmp_path: Path) -> None:
    case = case_of(tmp_path)
    # A can build at most 4: A builds 4 at 1, B the other 6 at 2; cost 4 + 12 = 16.
    capped = run(case, {"capabilities[A,chips].capacity": 4})
    assert capped.objective == exact(16.0)
    assert alloc(capped, "A", "chips", "capacity") == exact(4.0)
    assert alloc(capped, "B", "chips", "capacity") == exact(6.0)
    assert flow(capped, "B", "coalition", "chips") == exact(6.0)
    assert layer_value(capped, "chips", "suppliers") == 2


def test_family_hosting_min_capacity(tmp_path: Path) -> None:
    case = case_of(tmp_path)
    # A's minimum efficient scale is 15: A hosting builds 15 at 1 = 15 (5 unused) < B's 20.
    scale = run(case, {"capabilities[A,chips].min_capacity": 15})
    assert scale.objective == near(15.0)
    assert alloc(scale, "A", "chips", "capacity") == near(15.0)
    assert alloc(scale, "A", "chips", "supplied") == near(10.0)
    assert layer_value(scale, "chips", "surplus") == near(5.0)
    # At 25 hosting A costs 25 > 20: B builds the 10 at 2.
    big = run(case, {"capabilities[A,chips].min_capacity": 25})
    assert big.objective == near(20.0)
    assert not alloc(big, "A", "chips", "hosted")
    assert alloc(big, "B", "chips", "capacity") == near(10.0)


def test_family_hosting_fixed_cost(tmp_path: Path) -> None:
    case = case_of(tmp_path)
    # Hosting at A costs 15 on top of 10 x 1 = 25 > B's 20: B hosts, A does not.
    fixed = run(case, {"capabilities[A,chips].fixed_cost": 15})
    assert fixed.objective == exact(20.0)
    assert fixed.costs["fixed"] == exact(0.0)
    assert not alloc(fixed, "A", "chips", "hosted")
    assert alloc(fixed, "B", "chips", "hosted")
    # At 5, A is 15 < 20: A hosts and the fixed term is 5.
    cheap = run(case, {"capabilities[A,chips].fixed_cost": 5})
    assert cheap.objective == exact(15.0)
    assert cheap.costs["fixed"] == exact(5.0)
    assert cheap.costs["capacity"] == exact(10.0)


def test_family_supplier_share(tmp_path: Path) -> None:
    case = case_of(tmp_path, layers="layer,demand,min_suppliers,min_supplier_share\nchips,10,2,0\n")
    # Two hosts are needed, but with no minimum share B may host and supply nothing:
    # A supplies 10 at 1, cost 10.
    off = run(case)
    assert off.objective == exact(10.0)
    assert alloc(off, "A", "chips", "supplied") == exact(10.0)
    # A host must supply 30% of 10: B supplies 3 at 2, A 7 at 1; cost 7 + 6 = 13.
    on = run(case, {"layers.min_supplier_share": 0.3})
    assert on.objective == exact(13.0)
    assert alloc(on, "B", "chips", "supplied") == exact(3.0)
    assert alloc(on, "A", "chips", "supplied") == exact(7.0)
    assert alloc(on, "B", "chips", "share") == exact(0.3)


def test_family_diversification(tmp_path: Path) -> None:
    case = case_of(tmp_path, layers="layer,demand,min_supplier_share\nchips,10,0.2\n")
    off = run(case)
    assert off.objective == exact(10.0)
    assert layer_value(off, "chips", "suppliers") == 1
    # Two suppliers, each at least 20% of 10: B supplies 2 at 2, A 8 at 1; cost 8 + 4 = 12.
    on = run(case, {"layers[chips].min_suppliers": 2})
    assert on.objective == exact(12.0)
    assert layer_value(on, "chips", "suppliers") == 2
    assert alloc(on, "B", "chips", "supplied") == exact(2.0)
    assert alloc(on, "A", "chips", "supplied") == exact(8.0)
    # HHI = 0.8^2 + 0.2^2 = 0.68.
    assert layer_value(on, "chips", "hhi") == exact(0.68)


def test_family_diversification_needs_demand(tmp_path: Path) -> None:
    case = case_of(
        tmp_path,
        layers="layer,demand,min_suppliers\nchips,10,1\ncloud,,2\n",
        capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n"
                     "A,cloud,100,1\n",
    )
    # cloud has no demand: its min_suppliers 2 does not apply (only A could host it), and
    # nothing is built for it. Cost 10 for chips, as without cloud.
    result = run(case)
    assert result.objective == exact(10.0)
    assert layer_value(result, "cloud", "suppliers") == 0
    assert alloc(result, "A", "cloud", "capacity") == 0.0


def test_family_concentration(tmp_path: Path) -> None:
    case = case_of(tmp_path)
    off = run(case)
    assert layer_value(off, "chips", "max_share") == exact(1.0)
    # Nobody supplies more than 60% of 10: A 6 at 1, B 4 at 2; cost 6 + 8 = 14.
    on = run(case, {"layers.max_share": 0.6})
    assert on.objective == exact(14.0)
    assert alloc(on, "A", "chips", "supplied") == exact(6.0)
    assert alloc(on, "B", "chips", "supplied") == exact(4.0)
    assert layer_value(on, "chips", "max_share") == exact(0.6)
    # HHI = 0.6^2 + 0.4^2 = 0.52, effective suppliers 1/0.52.
    assert layer_value(on, "chips", "hhi") == exact(0.52)
    assert layer_value(on, "chips", "effective_suppliers") == exact(1 / 0.52)


def test_family_resilience(tmp_path: Path) -> None:
    case = case_of(tmp_path)
    off = run(case)
    assert off.objective == exact(10.0)
    assert layer_value(off, "chips", "n1_coverage") == exact(0.0)
    # Losing either partner leaves at least 50% of 10: k_A >= 5 and k_B >= 5, and
    # k_A + k_B >= 10 to supply the demand. Cheapest: k_A = k_B = 5, cost 5 + 10 = 15.
    on = run(case, {"layers.resilience": 0.5})
    assert on.objective == exact(15.0)
    assert alloc(on, "A", "chips", "capacity") == exact(5.0)
    assert alloc(on, "B", "chips", "capacity") == exact(5.0)
    assert layer_value(on, "chips", "n1_coverage") == exact(0.5)
    # 80%: k_A >= 8 and k_B >= 8; cost 8 + 16 = 24, with 6 units of surplus capacity.
    high = run(case, {"layers.resilience": 0.8})
    assert high.objective == exact(24.0)
    assert alloc(high, "B", "chips", "capacity") == exact(8.0)
    assert layer_value(high, "chips", "surplus") == exact(6.0)
    assert layer_value(high, "chips", "n1_coverage") == exact(0.8)


def test_family_surplus(tmp_path: Path) -> None:
    case = case_of(tmp_path).with_overrides({"capabilities[A,chips].min_capacity": 15})
    # A hosts at its scale of 15 (cost 15), 5 units above demand.
    off = run(case)
    assert off.objective == near(15.0)
    assert layer_value(off, "chips", "surplus") == near(5.0)
    # At most 20% of 10 = 2 units of surplus: A cannot host (15 > 12), B builds 10; cost 20.
    on = run(case, {"layers.max_surplus": 0.2})
    assert on.objective == near(20.0)
    assert not alloc(on, "A", "chips", "hosted")
    assert layer_value(on, "chips", "surplus") == near(0.0)
    # 50% allows 15 built: A again, cost 15.
    loose = run(case, {"layers.max_surplus": 0.5})
    assert loose.objective == near(15.0)


def test_family_surplus_part(tmp_path: Path) -> None:
    # With a shortage price, u_l >= built - D_l, u_l >= 0 carries the redundancy cost.
    case = case_of(tmp_path).with_overrides({"capabilities[A,chips].min_capacity": 15,
                                              "layers.redundancy_cost": 0.5,
                                              "objective.shortage_cost": 100})
    # A hosts at its scale of 15 (cost 15), 5 units of surplus at 0.5: 17.5 (B: 20).
    on = run(case)
    assert on.objective == near(17.5)
    assert on.costs["redundancy"] == near(2.5)
    assert layer_value(on, "chips", "surplus") == near(5.0)
    # Capacity below demand: the surplus is 0, not negative, and costs nothing.
    short = run(case, {"capabilities.capacity": 4, "capabilities.min_capacity": 0})
    assert short.costs["redundancy"] == near(0.0)
    assert layer_value(short, "chips", "surplus") == near(0.0)
    assert short.costs["shortage"] == near(200.0)


def test_family_dependency(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "case", **HOME_AND_ABROAD))
    # X imports all 10 from A at 1.
    off = run(case)
    assert off.objective == exact(10.0)
    assert flow(off, "A", "X", "chips") == exact(10.0)
    # No foreign partner supplies more than 30% of X's 10: A 3 at 1, X itself 7 at 2
    # (home supply is not a dependency); cost 3 + 14 = 17.
    on = run(case, {"demand[X,chips].max_dependency": 0.3})
    assert on.objective == exact(17.0)
    assert flow(on, "A", "X", "chips") == exact(3.0)
    assert flow(on, "X", "X", "chips") == exact(7.0)


def test_family_dependency_per_consumer(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "case", **MEMBERS_AND_SUPPLIERS))
    # At most half of each member's demand from one supplier: A ships 2 to X and 3 to Y,
    # B the other 2 and 3; cost (2 + 3) x 1 + (2 + 3) x 2 = 15.
    on = run(case, {"demand.max_dependency": 0.5})
    assert on.objective == exact(15.0)
    assert flow(on, "A", "X", "chips") == exact(2.0)
    assert flow(on, "B", "Y", "chips") == exact(3.0)


def test_family_domestic(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "case", **HOME_AND_ABROAD))
    off = run(case)
    assert flow(off, "X", "X", "chips") == 0.0
    # At least 40% of X's 10 made at home: X 4 at 2, A 6 at 1; cost 8 + 6 = 14.
    on = run(case, {"demand[X,chips].min_domestic": 0.4})
    assert on.objective == exact(14.0)
    assert flow(on, "X", "X", "chips") == exact(4.0)
    assert flow(on, "A", "X", "chips") == exact(6.0)
    assert alloc(on, "X", "chips", "hosted")


def test_family_participation_min(tmp_path: Path) -> None:
    case = case_of(
        tmp_path,
        layers="""
            layer,demand,unit_value
            chips,10,2
            cloud,20,1
            """,
        capabilities="""
            partner,layer,capacity,unit_cost
            A,chips,100,1
            B,chips,100,3
            A,cloud,100,1
            B,cloud,100,1.5
            """,
    )
    # A supplies everything: 10 + 20 = 30.
    off = run(case)
    assert off.objective == exact(30.0)
    assert partner_value(off, "B", "participation") == exact(0.0)
    # V = 2 x 10 + 1 x 20 = 40; B must supply value >= 25% of 40 = 10. A unit of value from
    # B costs 1 more in chips ((3 - 1) / 2) and 0.5 more in cloud ((1.5 - 1) / 1): B supplies
    # 10 units of cloud. Cost: chips 10 x 1, cloud 10 x 1 + 10 x 1.5 = 35.
    on = run(case, {"partners[B].min_participation": 0.25})
    assert on.objective == exact(35.0)
    assert alloc(on, "B", "cloud", "supplied") == exact(10.0)
    assert alloc(on, "B", "chips", "supplied") == exact(0.0)
    assert partner_value(on, "B", "value") == exact(10.0)
    assert partner_value(on, "B", "participation") == exact(0.25)


def test_family_participation_max(tmp_path: Path) -> None:
    case = case_of(tmp_path)
    # A may supply at most 60% of the stack's value (10): A 6 at 1, B 4 at 2; cost 14.
    on = run(case, {"partners[A].max_participation": 0.6})
    assert on.objective == exact(14.0)
    assert partner_value(on, "A", "participation") == exact(0.6)
    assert partner_value(on, "B", "value") == exact(4.0)


def test_family_budget(tmp_path: Path) -> None:
    case = case_of(tmp_path, partners="partner,disruption_risk\nA,0.5\nB,0\n").with_overrides(
        {"objective.risk_weight": 4})
    # Priced risk makes A cost 1 + 4 x 0.5 = 3 a unit against B's 2: B supplies all 10.
    # Spending (fixed + capacity + trade) is 20, the objective 20.
    free = run(case)
    assert free.objective == exact(20.0)
    assert alloc(free, "B", "chips", "supplied") == exact(10.0)
    # A budget of 20 keeps that plan.
    same = run(case, {"objective.budget": 20})
    assert same.objective == exact(20.0)
    assert alloc(same, "B", "chips", "supplied") == exact(10.0)
    # Budget 15: q_A + 2 q_B <= 15 with q_A + q_B = 10 gives q_B <= 5; minimise
    # 3 q_A + 2 q_B: q_A = q_B = 5, objective 25, spending exactly 15.
    tight = run(case, {"objective.budget": 15})
    assert tight.objective == exact(25.0)
    assert alloc(tight, "A", "chips", "supplied") == exact(5.0)
    assert alloc(tight, "B", "chips", "supplied") == exact(5.0)
    spent = tight.costs["fixed"] + tight.costs["capacity"] + tight.costs["trade"]
    assert spent == exact(15.0)
    # The least any plan can spend is 10 (all from A): a budget of 9 is infeasible.
    broke = solve(case.with_overrides({"objective.budget": 9}), raise_on_failure=False)
    assert broke.status == "infeasible"
    assert broke.objective is None


def test_family_budget_infeasible_raises(tmp_path: Path) -> None:
    from solver import InfeasibleError

    case = case_of(tmp_path).with_overrides({"objective.budget": 9})
    with pytest.raises(InfeasibleError):
        solve(case)


def test_redundancy_term(tmp_path: Path) -> None:
    case = case_of(tmp_path).with_overrides({"capabilities[A,chips].min_capacity": 15})
    # A builds 15 (5 of them surplus) at 1 = 15 < B's 20; surplus is free.
    assert run(case).objective == near(15.0)
    # Surplus costs 0.5 a unit: 15 + 0.5 x 5 = 17.5 < 20, A still hosts.
    half = run(case, {"layers.redundancy_cost": 0.5})
    assert half.objective == near(17.5)
    assert half.costs["redundancy"] == near(2.5)
    assert half.costs["capacity"] == near(15.0)
    # Surplus costs 2 a unit: A would cost 15 + 10 = 25 > 20; B builds exactly 10.
    dear = run(case, {"layers.redundancy_cost": 2})
    assert dear.objective == near(20.0)
    assert dear.costs["redundancy"] == near(0.0)
    assert alloc(dear, "B", "chips", "capacity") == near(10.0)
    # The weight scales the term: weight 0 makes surplus free again.
    unweighted = run(case, {"layers.redundancy_cost": 2, "objective.redundancy_weight": 0})
    assert unweighted.objective == near(15.0)


def test_risk_term(tmp_path: Path) -> None:
    case = case_of(tmp_path, partners="partner,disruption_risk\nA,0.5\nB,0\n")
    # risk_weight is 0 by default: A supplies at 1.
    off = run(case)
    assert off.objective == exact(10.0)
    assert off.costs["risk"] == exact(0.0)
    # Weight 1: a unit from A costs 1 + 1 x 0.5 x 1 (value) = 1.5 < 2; risk term 5.
    low = run(case, {"objective.risk_weight": 1})
    assert low.objective == exact(15.0)
    assert low.costs["risk"] == exact(5.0)
    # Weight 4: A costs 1 + 2 = 3 > 2: B supplies the 10; the risk term is 0.
    high = run(case, {"objective.risk_weight": 4})
    assert high.objective == exact(20.0)
    assert high.costs["risk"] == exact(0.0)
    assert alloc(high, "B", "chips", "supplied") == exact(10.0)
    # Risk is priced in value: unit_value 3 makes A cost 1 + 1 x 0.5 x 3 = 2.5 > 2 at weight 1.
    valued = run(case, {"objective.risk_weight": 1, "layers.unit_value": 3})
    assert valued.objective == exact(20.0)


def test_min_trust(tmp_path: Path) -> None:
    case = case_of(tmp_path, partners="partner,trust\nA,0.5\nB,0.9\n")
    assert run(case).objective == exact(10.0)
    # Only partners with trust >= 0.8 may supply: A is out; B builds 10 at 2.
    on = run(case, {"layers.min_trust": 0.8})
    assert on.objective == exact(20.0)
    assert not alloc(on, "A", "chips", "hosted")
    assert alloc(on, "A", "chips", "supplied") == 0.0
    assert flow(on, "B", "coalition", "chips") == exact(10.0)
    assert set(on.flows["exporter"]) == {"B"}
    # The threshold is inclusive: trust 0.5 >= 0.5 keeps A.
    assert run(case, {"layers.min_trust": 0.5}).objective == exact(10.0)


def test_forbidden_route(tmp_path: Path) -> None:
    tables = {**MEMBERS_AND_SUPPLIERS, "trade": "exporter,importer,allowed\nA,Y,true\n"}
    case = load_case(write_case(tmp_path / "case", **tables))
    assert run(case).objective == exact(10.0)
    # Export control: A may not ship to Y. Y's 6 come from B at 2; X's 4 from A at 1: 16.
    on = run(case, {"trade[A,Y].allowed": False})
    assert on.objective == exact(16.0)
    assert flow(on, "A", "Y", "chips") == 0.0
    assert flow(on, "B", "Y", "chips") == exact(6.0)
    assert flow(on, "A", "X", "chips") == exact(4.0)


def test_trade_cost(tmp_path: Path) -> None:
    tables = {**MEMBERS_AND_SUPPLIERS, "trade": "exporter,importer,unit_cost\nA,Y,0.5\n"}
    case = load_case(write_case(tmp_path / "case", **tables))
    # Shipping A -> Y costs 0.5: 1.5 < 2, still A; trade term 6 x 0.5 = 3; total 13.
    base = run(case)
    assert base.objective == exact(13.0)
    assert base.costs["trade"] == exact(3.0)
    # At 1.5 a unit, A -> Y costs 2.5 > 2: B ships Y's 6; total 4 + 12 = 16.
    dear = run(case, {"trade[A,Y].unit_cost": 1.5})
    assert dear.objective == exact(16.0)
    assert dear.costs["trade"] == exact(0.0)
    assert flow(dear, "B", "Y", "chips") == exact(6.0)


def test_family_input_balance(tmp_path: Path) -> None:
    # Cloud (demand 10) needs 0.5 power per unit, local. A makes cloud at 1 but has 2 units
    # of power (so at most 4 cloud); B makes cloud at 3 with power of its own. Without the
    # input: A makes all 10 cloud, 10. With it: A 4 cloud + 2 power, B 6 cloud + 3 power:
    # 4 + 2 + 18 + 3 = 27.
    tables = {
        "partners": "partner\nA\nB\n",
        "layers": "layer,demand,min_supplier_share\ncloud,10,0\npower,0,0\n",
        "capabilities": """
            partner,layer,capacity,unit_cost
            A,cloud,100,1
            B,cloud,100,3
            A,power,2,1
            B,power,100,1
            """,
    }
    assert run(load_case(write_case(tmp_path / "off", **tables))).objective == exact(10.0)
    on = load_case(write_case(tmp_path / "on", **tables,
                              inputs="layer,input,per_unit,source\ncloud,power,0.5,local\n"))
    result = run(on)
    assert result.objective == exact(27.0)
    assert alloc(result, "A", "cloud", "supplied") == exact(4.0)
    assert alloc(result, "A", "power", "supplied") == exact(2.0)


def test_every_family_has_a_test() -> None:
    from solver.model.constraints import FAMILIES

    definitions = {"supplied", "built"}
    families = {f.__name__.removeprefix("add_") for f in FAMILIES} - definitions
    tests = [name for name in globals() if name.startswith("test_family_")]
    untested = {f for f in families
                if not any(t == f"test_family_{f}" or t.startswith(f"test_family_{f}_")
                           for t in tests)}
    assert not untested, f"constraint families without a test in tests/test_model.py: {untested}"
