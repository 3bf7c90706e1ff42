"""Scenarios and stress on a case with markets (README, Markets outside the coalition).

In a disruption members are served first; a market asks for what the plan sent it and takes
what members leave. Tiny cases whose outcome is worked out by hand above each test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from solver import Case, load_case, solve
from solver.cli import main
from solver.studies.shocks.monte_carlo import sample
from solver.studies.shocks.stress import stress

try:
    from formulation import write_tables
    from test_markets_formulation import random_tables
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.formulation import write_tables
    from tests.test_markets_formulation import random_tables
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


# A chain power -> chips -> cloud (one unit of power per chip, half a chip per unit of cloud),
# one host per layer. Members need 10 cloud and 4 chips; BR buys 10 cloud (its floor and
# ceiling), so the plan builds cloud 20, chips 14 (4 + 0.5 * 20) and power 14. Members'
# claims down the chain are their own total requirement: chips 9 (4 + 0.5 * 10), power 9.
CHAIN = {
    "partners": "partner,disruption_risk\nA,1\nB,0\nC,0\n",
    "layers": "layer,demand,min_supplier_share,min_suppliers\ncloud,10,0,1\nchips,4,0,1\n"
              "power,0,0,1\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,cloud,100,1\n"
                    "C,power,100,1\n",
    "inputs": "layer,input,per_unit\ncloud,chips,0.5\nchips,power,1\n",
    "markets": "market,layer,demand,min_share,max_share,price\nBR,cloud,20,0.5,0.5,1.25\n",
    # chips at 3/4 (10.5): members' 9 first, the 1.5 left make 3 cloud for BR (7 short).
    # power at 3/4: the same, two layers up. cloud at 0.6 (12): members 10, BR 2.
    # chips at half (7 < 9): members' claims rationed (7/9 each), BR nothing; the chips
    # cloud does not get leave 2.22 of cloud unmet through inputs. power at half: all of
    # the 3.11 unmet is through inputs (chips hosts have capacity, not power). The route
    # A -> B closed: no chip reaches cloud, for members (10 unmet, through inputs) or BR, and
    # chips' final buyers get the share cloud gets (the chain's rationing): none.
    "scenarios": "scenario,probability,partner,layer,capacity_factor,exporter,importer\n"
                 "chips,0.1,A,,0.75,,\npower,0.05,C,,0.75,,\ncloud,0.05,B,,0.6,,\n"
                 "chipshalf,0.05,A,,0.5,,\npowerhalf,0.05,C,,0.5,,\nroute,0.05,,,,A,B\n",
}


def chain_case(tmp_path: Path) -> Case:
    return load_case(write_case(tmp_path / "case", **CHAIN))


def test_a_chain_shock_cuts_the_market_first_and_members_last(tmp_path: Path) -> None:
    result = solve(chain_case(tmp_path), mip_gap=0.0)
    assert result.summary["verified"] is True
    table = by_scenario(result)
    got = table[["unmet", "through_inputs", "market_unmet", "lost_revenue"]]
    expected = {"chips": (0, 0, 7, 8.75), "power": (0, 0, 7, 8.75), "cloud": (0, 0, 8, 10),
                "chipshalf": (28 / 9, 20 / 9, 10, 12.5),
                "powerhalf": (28 / 9, 28 / 9, 10, 12.5), "route": (14, 10, 10, 12.5)}
    for name, row in expected.items():
        assert got.loc[name].tolist() == pytest.approx(list(row), abs=1e-6), name
    # Members' claims are rationed alike: chips' buyers and cloud each lose 2/9 of theirs.
    assert table.loc["chipshalf", "worst_layer_share"] == pytest.approx(2 / 9)


def test_the_checker_recomputes_a_chain_with_markets(tmp_path: Path) -> None:
    out = solve(chain_case(tmp_path), mip_gap=0.0).write(tmp_path / "run")
    invoke = CliRunner().invoke
    assert invoke(main, ["check", str(tmp_path / "case"), str(out)]).exit_code == 0
    table = pd.read_csv(out / "scenarios.csv")
    at = table.index[table["scenario"] == "power"][0]
    # BR short of 10 (as if its cloud needed no chips) or of 8; members short through
    # inputs where nothing is short of them.
    for cells in ({"market_unmet": 10.0, "lost_revenue": 12.5}, {"market_unmet": 8.0},
                  {"lost_revenue": 10.0}, {"through_inputs": 1.0}):
        lied = tmp_path / "lied"
        shutil.rmtree(lied, ignore_errors=True)
        shutil.copytree(out, lied)
        changed = table.copy()
        for col, value in cells.items():
            changed.loc[at, col] = value
        changed.to_csv(lied / "scenarios.csv", index=False)
        result = invoke(main, ["check", str(tmp_path / "case"), str(lied)])
        assert result.exit_code == 5, cells
        assert "scenario power" in result.output + result.stderr


def test_stress_of_a_chain_with_markets(tmp_path: Path) -> None:
    # Losing A (chips): members lose all 14 (cloud's 10 through inputs), BR its 10. Losing C
    # (power): the same, all of it through inputs. Losing B (cloud): members' 10, BR's 10.
    case = chain_case(tmp_path)
    result = solve(case, mip_gap=0.0)
    table = stress(case, result=result)
    total = table[table["scope"] == "total"].set_index("lost")
    columns = ["unmet", "through_inputs", "market_unmet", "lost_revenue"]
    assert total.loc["A", columns].tolist() == pytest.approx([14, 10, 10, 12.5])
    assert total.loc["C", columns].tolist() == pytest.approx([14, 14, 10, 12.5])
    assert total.loc["B", columns].tolist() == pytest.approx([10, 0, 10, 12.5])
    cloud = table[(table["scope"] == "layer") & (table["layer"] == "cloud")].set_index("lost")
    assert cloud.loc["A", columns].tolist() == pytest.approx([10, 10, 10, 12.5])


def test_stress_sample_of_a_chain_with_markets(tmp_path: Path) -> None:
    # A is lost in every draw (risk 1): the losing A of the stress test, each time.
    result = sample(chain_case(tmp_path), 3, seed=1, out=tmp_path / "sample")
    draws = result.draws
    assert draws[["unmet", "through_inputs", "market_unmet", "lost_revenue"]].values.tolist() \
        == [pytest.approx([14, 10, 10, 12.5])] * 3
    assert draws[["through_cloud", "market_cloud", "lost_cloud", "unmet_chips"]].iloc[0] \
        .tolist() == pytest.approx([10, 10, 12.5, 4])
    total = result.distribution.set_index("scope").loc["total"]
    assert (total["mean"], total["through_inputs_mean"], total["market_unmet_mean"],
            total["lost_revenue_mean"]) == pytest.approx((14, 10, 10, 12.5))
    again = sample(chain_case(tmp_path), 3, seed=1, out=tmp_path / "sample", resume=True)
    assert again.draws["market_cloud"].tolist() == pytest.approx([10] * 3)


def test_the_commands_take_a_disrupted_chain_with_markets(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **CHAIN)
    invoke = CliRunner().invoke
    run = tmp_path / "run"
    assert invoke(main, ["solve", str(folder), "--out", str(run)]).exit_code == 0
    assert invoke(main, ["check", str(folder), str(run)]).exit_code == 0
    for args in (["--sample", "2"], ["--scenarios", "--run", str(run)], ["--run", str(run)]):
        out = tmp_path / f"stress{len(args)}"
        result = invoke(main, ["stress", str(folder), "--out", str(out), *args])
        assert result.exit_code == 0, result.output
    scen = pd.read_csv(tmp_path / "stress3" / "scenarios.csv").set_index("scenario")
    assert scen.loc["power", ["unmet", "market_unmet"]].tolist() == pytest.approx([0, 7])
    draws = pd.read_csv(tmp_path / "stress2" / "draws.csv")
    assert draws["market_unmet"].tolist() == pytest.approx([10, 10])
    # A design against the scenarios is still refused by name (members come first by a
    # stage, which a design's one recourse cost cannot hold), before anything is written.
    design = tmp_path / "design"
    result = invoke(main, ["solve", str(folder), "--design", "expected", "--out", str(design)])
    assert result.exit_code == 2, result.output
    assert "markets.csv with a two-stage design (design = 'expected') is not yet supported" \
        in result.output
    assert not design.exists()


@pytest.mark.parametrize("price", [None, 40.0])
@pytest.mark.parametrize("seed", [2, 5, 7, 8])
def test_the_checker_agrees_on_random_chains_with_markets(tmp_path: Path, seed: int,
                                                          price: float | None) -> None:
    # The small random cases of the markets' formulation test, with a chain (a local input
    # among them) and random partial losses: the tool's re-routing and the checker's own LP
    # must agree on every scenario, and with nothing lost nothing goes unmet.
    tables = random_tables(seed, chain=True)
    rng = np.random.default_rng(100 + seed)
    rows = [{"scenario": "calm", "probability": 0.1, "partner": "M1", "capacity_factor": 1.0}]
    rows += [{"scenario": f"s{i}", "probability": 0.05, "partner": p,
              "capacity_factor": float(rng.choice([0, 0.3, 0.6, 0.9]))}
             for i in range(4) for p in ("M1", "M2", "S1") if rng.random() < 0.5]
    tables["scenarios"] = pd.DataFrame(rows)
    case = load_case(write_tables(tables, tmp_path / "case"))
    if price is not None:
        case = case.with_overrides({"objective.shortage_cost": price})
    result = solve(case, mip_gap=0.0)
    assert result.summary["verified"] is True
    calm = by_scenario(result).loc["calm"]
    assert (calm["unmet"], calm["market_unmet"]) == (0.0, 0.0)
