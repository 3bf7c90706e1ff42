"""The elastic explanation: the fewest requirements that must give way, and by how much.

Fixtures are the base case of ``tests/cases.py`` (chips: demand 100, A 80 and B 60 trusted;
cloud: demand 50, A 50, B 40, X 30; cheapest plan 180) with requirements that cannot hold
together, several of which the checks before solving cannot see.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from solver import InfeasibleError, load_case, solve
from solver.case.loader import Case
from solver.cli import main
from solver.diagnose.explain import explain
from solver.diagnose.wording import Explanation, Violation

try:
    from cases import LAYERS_NO_DEMAND, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import LAYERS_NO_DEMAND, write_case


def case_of(tmp_path: Path, overrides: list[str] | None = None, **tables: str) -> Case:
    case = load_case(write_case(tmp_path / "case", **tables))
    return case.with_overrides(overrides) if overrides else case


def rows(report: Explanation) -> list[tuple[str, tuple[str, ...], float]]:
    return [(v.family, v.entity, round(v.shortfall, 6)) for v in report.violations]


def test_the_issue_example(tmp_path: Path) -> None:
    partners = ("partner,trust\nTW,0.9\nKR,0.9\nJP,0.95\nMY,0.75\n")
    layers = "layer,demand,min_suppliers,min_trust\nsemiconductors,100,4,0.8\n"
    caps = ("partner,layer,capacity,unit_cost\nTW,semiconductors,60,1\n"
            "KR,semiconductors,60,1\nJP,semiconductors,60,1\nMY,semiconductors,60,1\n")
    folder = write_case(tmp_path / "case", partners=partners, layers=layers,
                        capabilities=caps)
    report = explain(load_case(folder))
    assert [str(v) for v in report.violations] == [
        "layer semiconductors: min_suppliers 4 cannot hold; at most 3 partners with trust >= "
        "0.8 can supply it (short by 1)"]
    assert report.minimal and not report.feasible
    result = CliRunner().invoke(main, ["explain", str(folder)])
    assert result.exit_code == 3
    assert ("    layer semiconductors: min_suppliers 4 cannot hold; at most 3 partners with "
            "trust >= 0.8 can supply it (short by 1)") in result.stdout.splitlines()


def test_feasible_case(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    report = explain(load_case(folder))
    assert report.feasible and report.violations == [] and report.findings == []
    result = CliRunner().invoke(main, ["explain", str(folder)])
    assert result.exit_code == 0
    assert result.stdout == "case 'case' is feasible: every requirement can hold\n"


# Infeasible only together: the checks before solving see nothing.

def test_budget(tmp_path: Path) -> None:
    case = case_of(tmp_path, ["objective.budget=100"])
    report = explain(case)
    assert report.findings == []
    assert rows(report) == [("budget", (), 80)]
    assert str(report.violations[0]) == ("the plan: budget 100 cannot hold; the other "
                                         "requirements cost at least 180 (over by 80)")


def test_surplus_against_minimum_scale(tmp_path: Path) -> None:
    # Both chips partners must host (min_suppliers 2) at their minimum scale 80 + 60 = 140,
    # but the surplus cap allows only 100 + 20.
    case = case_of(tmp_path, ["capabilities[A,chips].min_capacity=80",
                              "capabilities[B,chips].min_capacity=60",
                              "layers[chips].max_surplus=0.2"])
    report = explain(case)
    assert report.findings == []
    assert rows(report) == [("surplus", ("chips",), 20)]
    assert str(report.violations[0]) == (
        "layer chips: max_surplus 0.2 (20 above demand) cannot hold; the other requirements "
        "need 40 of surplus capacity (over by 20)")


def test_ties_go_to_the_least_violation(tmp_path: Path) -> None:
    # Three hosts of cloud at minimum scale 30 overbuild past max_surplus: giving up one
    # host (min_suppliers short by 1) or the surplus cap (over by 15) are both one row; the
    # surplus cap is the smaller violation (15 of 50 against 1 of 3 suppliers).
    case = case_of(tmp_path, ["layers[cloud].min_suppliers=3", "layers[cloud].max_surplus=0.5",
                              "capabilities[*,cloud].min_capacity=30"])
    report = explain(case)
    assert report.findings == []
    assert rows(report) == [("surplus", ("cloud",), 15)]


def test_participation_floor_against_max_share(tmp_path: Path) -> None:
    # A may reach 0.5 of the value only by supplying more than max_share of chips.
    case = case_of(tmp_path, ["partners[A].min_participation=0.8"])
    report = explain(case)
    assert [(f.family, f.entity) for f in report.findings] == [("participation", ("A",))]
    assert rows(report) == [("participation", ("A",), pytest.approx(0.0667, abs=1e-4))]


# The explanation agrees with the checks before solving, with the same numbers.

@pytest.mark.parametrize("overrides, expected", [
    (["layers[chips].min_suppliers=3"], [("diversification", ("chips",), 1)]),
    (["layers[chips].demand=200"], [("demand", ("coalition", "chips"), 60)]),
    (["layers[chips].resilience=0.9"], [("resilience", ("A", "chips"), 30),
                                        ("resilience", ("B", "chips"), 10)]),
    (["partners[C].min_participation=0.1"], [("participation", ("C",), 0.1)]),
])
def test_agrees_with_presolve(tmp_path: Path, overrides: list[str],
                              expected: list[tuple[str, tuple[str, ...], float]]) -> None:
    report = explain(case_of(tmp_path, overrides))
    assert report.findings
    assert rows(report) == expected


def test_layer_nobody_is_trusted_for(tmp_path: Path) -> None:
    report = explain(case_of(tmp_path, ["layers[chips].min_trust=0.95",
                                        "layers[chips].resilience=0.5"]))
    assert rows(report) == [("demand", ("coalition", "chips"), 100),
                            ("diversification", ("chips",), 2),
                            ("resilience", ("", "chips"), 50)]
    assert [str(v) for v in report.violations] == [
        "layer chips: demand 100 cannot hold; it can receive only 0; no partner with trust "
        ">= 0.95 can supply the layer (short by 100)",
        "layer chips: min_suppliers 2 cannot hold; at most 0 partners with trust >= 0.95 can "
        "supply it (short by 2)",
        "layer chips: resilience 0.5 (N-1 cover of 50) cannot hold; no partner with trust >= "
        "0.95 can host it (short by 50)",
    ]


def test_concentration_fewest_rows(tmp_path: Path) -> None:
    # max_share 0.45: A and B can give 90 of 100; one of them must exceed its share by 10.
    report = explain(case_of(tmp_path, ["layers[chips].max_share=0.45"]))
    assert len(report.violations) == 1
    v = report.violations[0]
    assert (v.family, v.entity[1], v.side) == ("concentration", "chips", "above")
    assert v.shortfall == pytest.approx(10)


def test_domestic_without_capability(tmp_path: Path) -> None:
    demand = "member,layer,demand,min_domestic\nA,chips,60,\nB,chips,40,\nC,cloud,50,0.5\n"
    report = explain(case_of(tmp_path, layers=LAYERS_NO_DEMAND, demand=demand))
    assert rows(report) == [("domestic", ("C", "cloud"), 25)]
    assert str(report.violations[0]) == (
        "member C, layer cloud: min_domestic 0.5 (25 of 50) cannot hold; C has no capability "
        "for cloud (short by 25)")


def test_demand_cut_off_by_trade_bans(tmp_path: Path) -> None:
    demand = "member,layer,demand\nA,chips,60\nB,chips,40\nA,cloud,20\nC,cloud,30\n"
    trade = "exporter,importer,allowed\nA,C,false\nB,C,false\nX,C,no\n"
    report = explain(case_of(tmp_path, layers=LAYERS_NO_DEMAND, demand=demand, trade=trade))
    assert rows(report) == [("demand", ("C", "cloud"), 30)]
    assert str(report.violations[0]).startswith(
        "member C, layer cloud: demand 30 cannot hold; it can receive only 0")


def test_dependency(tmp_path: Path) -> None:
    demand = ("member,layer,demand,max_dependency\nA,chips,60,\nB,chips,40,\nA,cloud,20,\n"
              "C,cloud,30,0.3\n")
    report = explain(case_of(tmp_path, layers=LAYERS_NO_DEMAND, demand=demand))
    assert len(report.violations) == 1
    v = report.violations[0]
    assert (v.family, v.entity[1:], v.shortfall) == ("dependency", ("C", "cloud"),
                                                     pytest.approx(3))


def test_solve_of_a_case_infeasible_only_together_raises_with_the_explanation(
        tmp_path: Path) -> None:
    case = case_of(tmp_path, ["objective.budget=100"])
    with pytest.raises(InfeasibleError) as info:
        solve(case)
    report = info.value.report
    assert isinstance(report, Explanation)
    assert [v.family for v in report.violations] == ["budget"]
    assert all(isinstance(v, Violation) for v in report)
    assert "budget 100 cannot hold" in str(info.value)


def test_cli_solve_infeasible_prints_the_explanation(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    result = CliRunner().invoke(main, ["solve", str(folder), "--out", str(tmp_path / "run"),
                                       "--set", "objective.budget=100"])
    assert result.exit_code == 3
    assert "the plan: budget 100 cannot hold; the other requirements cost at least 180" in \
        result.stderr
    assert not (tmp_path / "run").exists()


def test_explain_report_groups_by_family(tmp_path: Path) -> None:
    report = explain(case_of(tmp_path, ["layers[chips].resilience=0.9",
                                        "layers[cloud].min_suppliers=4"]))
    text = str(report).splitlines()
    assert text[0] == "Found before solving (each alone rules out every plan):"
    heading = [line for line in text if line.startswith("  ") and line.endswith("):")
               and not line.startswith("    ")]
    assert heading == [
        "  diversification (at least min_suppliers partners host each layer):",
        "  resilience (N-k: without any resilience_k partners the rest covers resilience x "
        "demand):",
    ]
