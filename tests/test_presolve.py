"""Infeasibility found before solving: one fixture per check, with family, entity, numbers.

Each fixture is the valid base case of ``tests/cases.py`` with one requirement tightened
past what the case can give. Base: layer chips (demand 100, min_trust 0.7) can be supplied
by A (capacity 80) and B (60) only; layer cloud (demand 50) by A (50), B (40), X (30).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import InfeasibleError, load_case, solve
from solver.cli import main
from solver.diagnose.presolve import Finding, find_infeasibilities
from solver.diagnose.wording import Explanation

try:
    from cases import BASE, LAYERS_NO_DEMAND, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import BASE, LAYERS_NO_DEMAND, write_case


def findings(tmp_path: Path, overrides: list[str] | None = None, **tables: str) -> list[Finding]:
    case = load_case(write_case(tmp_path / "case", **tables))
    if overrides:
        case = case.with_overrides(overrides)
    return find_infeasibilities(case)


def only(found: list[Finding]) -> Finding:
    assert len(found) == 1, [str(f) for f in found]
    return found[0]


def test_base_case_and_sample_case_have_no_findings(tmp_path: Path) -> None:
    assert findings(tmp_path) == []
    sample = Path(__file__).resolve().parent.parent / "data" / "allied-ai-stack"
    if sample.is_dir():
        assert find_infeasibilities(load_case(sample)) == []


# One fixture per check: (overrides or tables, family, entity, shortfall, message).
CASES = {
    "demand above trusted capacity": (
        ["layers[chips].demand=200"], {}, "demand", ("chips",), 60,
        "layer chips: demand 200 cannot hold; the 2 partners with trust >= 0.7 can build at "
        "most 140 (short by 60)"),
    "no trusted partner at all": (
        ["layers[chips].min_trust=0.95", "layers[chips].min_suppliers=0"], {}, "demand",
        ("chips",), 100,
        "layer chips: demand 100 cannot hold; no partner with trust >= 0.95 can supply it "
        "(short by 100)"),
    "max_share x eligible < 1": (
        ["layers[chips].max_share=0.45"], {}, "concentration", ("chips",), 10,
        "layer chips: max_share 0.45 cannot hold; with at most 45 from each, the 2 partners "
        "with trust >= 0.7 can supply at most 90 of its demand 100 (short by 10)"),
    "fewer eligible partners than min_suppliers": (
        ["layers[chips].min_suppliers=3"], {}, "diversification", ("chips",), 1,
        "layer chips: min_suppliers 3 cannot hold; at most 2 partners with trust >= 0.7 can "
        "supply it (short by 1)"),
    "min_suppliers x min_supplier_share > 1": (
        ["layers[chips].min_supplier_share=0.6"], {}, "supplier_share", ("chips",), 0.2,
        "layer chips: min_suppliers 2 with min_supplier_share 0.6 cannot hold; 2 suppliers of "
        "at least 0.6 of the demand each need 1.2 times the demand, and together they supply "
        "exactly the demand (over by 0.2)"),
    "min_supplier_share above max_share": (
        ["layers[cloud].max_share=0.5", "layers[cloud].min_supplier_share=0.6"], {},
        "supplier_share", ("cloud",), 0.1,
        "layer cloud: min_supplier_share 0.6 cannot hold; a supplier may supply at most "
        "max_share 0.5 of the demand (over by 0.1)"),
    "N-1 impossible": (
        ["layers[chips].resilience=0.9"], {}, "resilience", ("chips",), 30,
        "layer chips: resilience 0.9 (N-1 cover of 90) cannot hold; without its largest "
        "partner A (80), the partners with trust >= 0.7 can build at most 60 (short by 30)"),
    "participation floors above 1": (
        ["partners[A].min_participation=0.6", "partners[B].min_participation=0.5"], {},
        "participation", (), 0.1,
        "partners: min_participation floors summing to 1.1 cannot hold; the partners' shares "
        "of the stack's value add up to exactly 1 (over by 0.1)"),
    "participation floor above what a partner can supply": (
        ["partners[C].min_participation=0.1"], {}, "participation", ("C",), 0.1,
        "partner C: min_participation 0.1 cannot hold; it can supply at most 0 of the stack's "
        "value (short by 0.1)"),
    "participation ceilings below 1": (
        ["partners.max_participation=0.3"], {}, "participation", (), 0.2,
        "partners: max_participation ceilings cannot hold; with them the partners can supply "
        "at most 0.8 of the stack's value (short by 0.2)"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check(tmp_path: Path, name: str) -> None:
    overrides, tables, family, entity, shortfall, message = CASES[name]
    f = only(findings(tmp_path, overrides, **tables))
    assert (f.family, f.entity) == (family, entity)
    assert f.shortfall == pytest.approx(shortfall)
    assert str(f) == message


# Per-member checks need demand.csv.

def member_case(tmp_path: Path, demand: str, trade: str | None = None) -> list[Finding]:
    return findings(tmp_path, layers=LAYERS_NO_DEMAND, demand=demand,
                    **({"trade": trade} if trade else {}))


def test_min_domestic_without_capability(tmp_path: Path) -> None:
    demand = "member,layer,demand,min_domestic\nA,chips,60,\nB,chips,40,\nC,cloud,50,0.5\n"
    f = only(member_case(tmp_path, demand))
    assert (f.family, f.entity, f.shortfall) == ("domestic", ("C", "cloud"), 25)
    assert str(f) == ("member C, layer cloud: min_domestic 0.5 (25 of 50) cannot hold; C has "
                      "no capability for cloud (short by 25)")


def test_min_domestic_without_trust(tmp_path: Path) -> None:
    demand = "member,layer,demand,min_domestic\nA,chips,60,\nC,chips,40,0.25\nA,cloud,50,\n"
    f = only(member_case(tmp_path, demand))
    assert (f.family, f.entity, f.shortfall) == ("domestic", ("C", "chips"), 10)
    assert str(f) == ("member C, layer chips: min_domestic 0.25 (10 of 40) cannot hold; C's "
                      "trust 0.6 is below the layer's min_trust 0.7 (short by 10)")


def test_min_domestic_above_home_capacity(tmp_path: Path) -> None:
    demand = "member,layer,demand,min_domestic\nA,chips,90,1\nB,chips,10,\nA,cloud,50,\n"
    f = only(member_case(tmp_path, demand))
    assert (f.family, f.entity, f.shortfall) == ("domestic", ("A", "chips"), 30)
    assert str(f) == ("member A, layer chips: min_domestic 1 (90 of 90) cannot hold; A can "
                      "supply at most 60 of it at home (short by 30)")


def test_trade_bans_cut_a_member_off(tmp_path: Path) -> None:
    demand = "member,layer,demand\nA,chips,60\nB,chips,40\nA,cloud,20\nC,cloud,30\n"
    trade = "exporter,importer,allowed\nA,C,false\nB,C,false\nX,C,no\n"
    f = only(member_case(tmp_path, demand, trade))
    assert (f.family, f.entity, f.shortfall) == ("demand", ("C", "cloud"), 30)
    assert str(f) == ("member C, layer cloud: demand 30 cannot hold; over the trade routes "
                      "allowed to C, at most 0 can reach it (short by 30)")


def test_a_ban_for_one_layer_leaves_the_route_open_for_the_others(tmp_path: Path) -> None:
    # Routes to C closed for chips only: C's cloud still reaches it, as the model's routes
    # say (a trade row with a layer overrides the route for that layer alone).
    demand = "member,layer,demand\nA,chips,60\nB,chips,40\nA,cloud,20\nC,cloud,30\n"
    trade = ("exporter,importer,layer,allowed\nA,C,chips,false\nB,C,chips,false\n"
             "X,C,chips,false\n")
    assert member_case(tmp_path, demand, trade) == []
    case = load_case(tmp_path / "case")
    assert solve(case).summary["verified"]
    closed = trade.replace("chips", "cloud")  # closed for cloud: C is cut off
    f = only(member_case(tmp_path / "closed", demand, closed))
    assert (f.family, f.entity, f.shortfall) == ("demand", ("C", "cloud"), 30)


def test_max_dependency_cannot_hold(tmp_path: Path) -> None:
    demand = ("member,layer,demand,max_dependency\nA,chips,60,\nB,chips,40,\nA,cloud,20,\n"
              "C,cloud,30,0.3\n")
    f = only(member_case(tmp_path, demand))
    assert (f.family, f.entity) == ("dependency", ("C", "cloud"))
    assert f.shortfall == pytest.approx(3)
    assert str(f) == ("member C, layer cloud: max_dependency 0.3 cannot hold; with at most 9 "
                      "from each foreign partner, at most 27 of its demand 30 can reach it "
                      "(short by 3)")


def test_diversification_counts_only_partners_able_to_supply_their_share(
        tmp_path: Path) -> None:
    found = findings(tmp_path, ["layers[chips].min_supplier_share=0.45",
                                "capabilities[B,chips].capacity=40"])
    f = only(found)
    assert (f.family, f.entity, f.shortfall) == ("diversification", ("chips",), 1)
    assert str(f) == ("layer chips: min_suppliers 2 cannot hold; at most 1 partner with trust "
                      ">= 0.7 can supply it; 1 more cannot build the 45 a supplier must supply "
                      "(min_supplier_share 0.45) (short by 1)")


# solve() runs the checks first and raises before building the model.

def test_solve_raises_with_the_findings(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "case")).with_overrides(["layers.min_suppliers=3"])
    with pytest.raises(InfeasibleError) as info:
        solve(case)
    report = info.value.report
    assert isinstance(report, Explanation)
    assert [(f.family, f.entity) for f in report] == [("diversification", ("chips",))]
    assert info.value.exit_code == 3
    assert "layer chips: min_suppliers 3 cannot hold" in str(info.value)


def test_solve_without_raising_returns_an_infeasible_result(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "case")).with_overrides(["layers.min_suppliers=3"])
    result = solve(case, raise_on_failure=False)
    assert result.status == "infeasible"
    assert result.objective is None


def test_cli_solve_exit_3_and_no_run_folder(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(folder), "--out", str(out), "--set",
                                       "layers[chips].resilience=0.9"])
    assert result.exit_code == 3
    assert ("layer chips: resilience 0.9 (N-1 cover of 90) cannot hold; without its largest "
            "partner A (80)") in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["case"]


def test_base_fixture_is_the_documented_one() -> None:
    assert "A,chips,80" in BASE["capabilities"] and "B,chips,60" in BASE["capabilities"]


# Soundness: whatever the numbers, a finding means that HiGHS finds no plan either.

@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(min_suppliers=st.integers(0, 4), max_share=st.sampled_from([0.3, 0.45, 0.5, 0.6, 1]),
       share=st.sampled_from([0, 0.05, 0.3, 0.45, 0.6]),
       resilience=st.sampled_from([0, 0.3, 0.5, 0.9]),
       min_trust=st.sampled_from([0, 0.7, 0.85, 0.95]),
       floor=st.sampled_from([0, 0.1, 0.4, 0.7]), ceiling=st.sampled_from([0.2, 0.5, 1]))
def test_findings_are_never_wrong(tmp_path: Path, min_suppliers: int, max_share: float,
                                  share: float, resilience: float, min_trust: float,
                                  floor: float, ceiling: float) -> None:
    from solver.highs.runner import HighsRunner, Status
    from solver.model.build import build
    from solver.solve import variable_groups

    base = load_case(write_case(tmp_path / "case"))
    case = base.with_overrides([
        f"layers[chips].min_suppliers={min_suppliers}", f"layers[chips].max_share={max_share}",
        f"layers.min_supplier_share={share}", f"layers[cloud].resilience={resilience}",
        f"layers[chips].min_trust={min_trust}", f"partners[A].min_participation={floor}",
        f"partners[B].max_participation={ceiling}"])
    found = find_infeasibilities(case)
    if not found:
        return
    built = build(case)
    report = HighsRunner().solve(built.m, variable_groups(built.m))
    assert report.status == Status.INFEASIBLE, [str(f) for f in found]
