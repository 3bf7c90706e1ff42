"""Scenarios and stress on a case with markets (README, Markets outside the coalition).

In a disruption members are served first; a market asks for what the plan sent it and takes
what members leave. Tiny cases whose outcome is worked out by hand above each test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import Case, load_case, solve
from solver.cli import main
from solver.studies.shocks.monte_carlo import sample
from solver.studies.shocks.stress import stress

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Members need 10 chips. A makes them at 1, B at 1.1; A's route to BR costs 0.5, so the plan
# serves members from A (capacity 10) and sells BR its ceiling, 20 at 1.25, from B (20).
CASE = {
    "partners": "partner,disruption_risk\nA,0\nB,1\n",
    "layers": "layer,demand,min_supplier_share,min_suppliers\nchips,10,0,1\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,1.1\n",
    "markets": "market,layer,demand,min_share,max_share,price\nBR,chips,40,0.25,0.5,1.25\n",
    "trade": "exporter,importer,unit_cost\nA,BR,0.5\n",
    # B at half keeps 10: members need none of it, BR loses 10. A lost and B at a quarter:
    # 5 chips are left, members take them all (5 unmet), BR gets nothing.
    "scenarios": "scenario,probability,partner,layer,capacity_factor\nBhalf,0.1,B,,0.5\n"
                 "both,0.05,A,,0\nboth,0.05,B,,0.25\n",
}


def market_case(tmp_path: Path, **tables: str) -> Case:
    return load_case(write_case(tmp_path / "case", **{**CASE, **tables}))


def by_scenario(result: object) -> pd.DataFrame:
    return result.scenarios.set_index("scenario")  # type: ignore[attr-defined]


def test_a_partner_loss_cuts_the_market_while_members_are_served(tmp_path: Path) -> None:
    case = market_case(tmp_path)
    result = solve(case, mip_gap=0.0)
    assert result.summary["verified"] is True
    half = by_scenario(result).loc["Bhalf"]
    assert (half["unmet"], half["market_unmet"], half["lost_revenue"]) == \
        pytest.approx((0.0, 10.0, 12.5))
    # Losing B takes BR's 20 (A's 10 serve members); losing A, B's 20 serve members first.
    table = stress(case, result=result)
    total = table[table["scope"] == "total"].set_index("lost")
    assert total.loc["B", ["unmet", "market_unmet", "lost_revenue"]].tolist() == \
        pytest.approx([0.0, 20.0, 25.0])
    assert total.loc["A", ["unmet", "market_unmet", "lost_revenue"]].tolist() == \
        pytest.approx([0.0, 10.0, 12.5])
    layer = table[(table["scope"] == "layer") & (table["lost"] == "B")]
    assert layer["market_unmet"].tolist() == pytest.approx([20.0])
    assert table["lost"].iloc[0] == "B"  # the larger market loss first, at equal unmet


def test_a_deeper_loss_leaves_members_short_and_the_market_nothing(tmp_path: Path) -> None:
    both = by_scenario(solve(market_case(tmp_path), mip_gap=0.0)).loc["both"]
    assert (both["unmet"], both["unmet_share"], both["market_unmet"], both["lost_revenue"]) == \
        pytest.approx((5.0, 0.5, 20.0, 25.0))


def test_members_come_first_whatever_the_markets_pay(tmp_path: Path) -> None:
    # Lexicographic, not a weight: BR pays 50 a unit and a member's shortage costs 3, so any
    # weighted sum would send the 5 chips left to BR; members still take them all.
    case = market_case(tmp_path, markets="market,layer,demand,min_share,max_share,price\n"
                       "BR,chips,40,0.25,0.5,50\n").with_overrides(
                           {"objective.shortage_cost": 3.0})
    result = solve(case, mip_gap=0.0)
    assert result.summary["verified"] is True
    both = by_scenario(result).loc["both"]
    assert (both["unmet"], both["market_unmet"], both["lost_revenue"]) == \
        pytest.approx((5.0, 20.0, 1000.0))
    assert both["second_stage_cost"] == pytest.approx(both["trade_cost"] + 15.0 + 1000.0)


def test_the_checker_recomputes_the_market_columns(tmp_path: Path) -> None:
    out = solve(market_case(tmp_path), mip_gap=0.0).write(tmp_path / "run")
    invoke = CliRunner().invoke
    assert invoke(main, ["check", str(tmp_path / "case"), str(out)]).exit_code == 0
    table = pd.read_csv(out / "scenarios.csv")
    at = table.index[table["scenario"] == "Bhalf"][0]
    # BR short of 5, not 10, with its lost revenue made to agree: consistent, and false.
    for cells in ({"market_unmet": 5.0, "lost_revenue": 6.25}, {"market_unmet": 5.0},
                  {"lost_revenue": 6.25}):
        lied = tmp_path / "lied"
        shutil.rmtree(lied, ignore_errors=True)
        shutil.copytree(out, lied)
        changed = table.copy()
        for col, value in cells.items():
            changed.loc[at, col] = value
        changed.to_csv(lied / "scenarios.csv", index=False)
        result = invoke(main, ["check", str(tmp_path / "case"), str(lied)])
        assert result.exit_code == 5, cells
        assert "scenario Bhalf" in result.output + result.stderr


def test_stress_sample_reports_the_markets_apart(tmp_path: Path) -> None:
    # B is lost in every draw (risk 1), A never: BR loses its 20 each time, members nothing.
    case = market_case(tmp_path)
    result = sample(case, 4, seed=1, out=tmp_path / "sample")
    assert result.draws["unmet"].tolist() == pytest.approx([0.0] * 4)
    assert result.draws["market_unmet"].tolist() == pytest.approx([20.0] * 4)
    assert result.draws["lost_revenue"].tolist() == pytest.approx([25.0] * 4)
    total = result.distribution.set_index("scope").loc["total"]
    assert (total["mean"], total["market_unmet_mean"], total["lost_revenue_mean"]) == \
        pytest.approx((0.0, 20.0, 25.0))
    # A resumed sample reads the market columns back.
    again = sample(case, 4, seed=1, out=tmp_path / "sample", resume=True)
    assert again.draws["market_unmet"].tolist() == pytest.approx([20.0] * 4)


def test_stress_commands_take_markets_from_a_written_run(tmp_path: Path) -> None:
    # What the written plan sent BR is what a disruption asks of it: B lost, BR loses 20.
    folder = write_case(tmp_path / "case", **CASE)
    invoke = CliRunner().invoke
    run = tmp_path / "run"
    assert invoke(main, ["solve", str(folder), "--out", str(run)]).exit_code == 0
    for name, extra in (("fresh", []), ("written", ["--run", str(run)])):
        result = invoke(main, ["stress", str(folder), "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(tmp_path / name / "stress.csv")
        total = table[table["scope"] == "total"].set_index("lost")
        assert total.loc["B", ["unmet", "market_unmet", "lost_revenue"]].tolist() == \
            pytest.approx([0.0, 20.0, 25.0])
    result = invoke(main, ["stress", str(folder), "--scenarios", "--run", str(run), "--out",
                           str(tmp_path / "scen")])
    assert result.exit_code == 0, result.output
    scen = pd.read_csv(tmp_path / "scen" / "scenarios.csv").set_index("scenario")
    assert scen.loc["both", ["unmet", "market_unmet"]].tolist() == pytest.approx([5.0, 20.0])


def test_a_disrupted_chain_with_markets_is_refused_by_name(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **{
        **CASE, "layers": "layer,demand,min_supplier_share,min_suppliers\nchips,10,0,1\n"
                          "power,0,0,1\n",
        "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,1.1\n"
                        "A,power,100,1\n",
        "inputs": "layer,input,per_unit\nchips,power,0.5\n"})
    for args in (["solve"], ["stress", "--sample", "3"]):
        out = tmp_path / args[0]
        result = CliRunner().invoke(main, [*args, str(folder), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert "both markets.csv and inputs.csv is not yet supported" in result.output
        assert not out.exists()
