"""Alternatives and frontiers on a case with markets: ``reach[MARKET]`` and ``reach``.

README, Markets outside the coalition. The tiny case of tests/test_markets.py (members need
10 chips, A makes them at 1, B at 2), with markets whose optimum is computed by hand in the
comment above each test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.check.run import check_run
from solver.cli import main
from solver.errors import UsageError
from solver.studies.alternatives.alternatives import alternatives
from solver.studies.sweep.frontier import frontier

try:
    from test_markets import MARKET
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.test_markets import MARKET
    from tests.tiny import write_case

# BR buys 40 chips (floor a quarter, ceiling half), ID 60 (no floor): price 0, so the optimum
# serves BR's floor of 10 from A: 10 + 10 = 20.
TWO_MARKETS = "market,layer,demand,min_share,max_share,price\nBR,chips,40,0.25,0.5,0\n" \
              "ID,chips,60,0,1,0\n"


def case_with(tmp_path: Path, markets: str = TWO_MARKETS) -> Path:
    return write_case(tmp_path / "case", **{**MARKET, "markets": markets})


def exact(folder: Path) -> Any:
    """The case in ``folder`` with an exact MIP gap: the hand-computed optima hold."""
    return load_case(folder).with_overrides({"solver.mip_gap": 0.0})


@pytest.mark.parametrize(("sense", "key", "value"), [
    # A cap of 20 * 1.25 = 25 buys 5 more units from A at 1: BR gets 15 of 40.
    (+1, "reach[BR]", 15 / 40),
    # The same 5 units anywhere: 15 of the markets' 100.
    (+1, "reach", 15 / 100),
    # BR's floor holds in every plan: 10 of 40.
    (-1, "reach[BR]", 10 / 40),
])
def test_reach_pushed_at_a_cost_cap(tmp_path: Path, sense: int, key: str,
                                    value: float) -> None:
    folder = case_with(tmp_path)
    out = tmp_path / "out"
    found = alternatives(exact(folder), 0.25, maximize=key if sense > 0 else None,
                         minimize=key if sense < 0 else None, out=out, plots=False)
    (name, plan), = found.plans.items()
    # The cheapest plan holds the pushed value less a hair (1e-6) that HiGHS's tolerance needs.
    assert found.table.set_index("plan").at[name, "value"] == pytest.approx(value, abs=1e-5)
    markets = plan.markets
    supplied = markets["supplied"].sum() if key == "reach" else \
        markets.loc[markets["market"] == "BR", "supplied"].sum()
    assert supplied / (100 if key == "reach" else 40) == pytest.approx(value, abs=1e-5)
    # The cheapest plan at that reach: 10 for members plus what the markets get, from A.
    assert plan.objective == pytest.approx(10 + 100 * value * (1 if key == "reach" else 0.4),
                                           abs=1e-3)
    for run in ("optimum", name):
        assert check_run(load_case(folder), out / run) == [], run


def test_most_different_plans_on_a_market_case(tmp_path: Path) -> None:
    # At slack 1 (cost up to 40) B may host chips too: a plan that differs in one decision.
    folder = case_with(tmp_path)
    out = tmp_path / "out"
    found = alternatives(exact(folder), 1.0, count=1, out=out, plots=False)
    plan = found.plans["alternative-1"]
    assert found.table.set_index("plan").at["alternative-1", "hosts_changed"] == 1
    assert plan.objective <= 40 + 1e-6
    assert plan.markets.set_index("market").at["BR", "supplied"] >= 10 - 1e-6
    assert check_run(load_case(folder), out / "alternative-1") == []


def test_frontier_over_reach_is_monotone_and_its_ends_are_solves(tmp_path: Path) -> None:
    # BR without a floor: each unit of reach[BR] costs 40 units from A at 1, up to the ceiling
    # 0.5: 10 at reach 0, 30 at 0.5 (the tightest; more has no plan).
    folder = case_with(tmp_path, "market,layer,demand,min_share,max_share,price\n"
                                 "BR,chips,40,0,0.5,0\n")
    case = exact(folder)
    curve = frontier(case, "reach[BR]", points=5, out=tmp_path / "frontier", plots=False)
    assert curve["reach[BR]"].tolist() == pytest.approx([0, 0.125, 0.25, 0.375, 0.5])
    assert curve["objective"].tolist() == pytest.approx([10, 15, 20, 25, 30])
    assert curve["objective"].is_monotonic_increasing
    assert curve["verified"].all()
    for end in (0, -1):
        floor = float(curve["reach[BR]"].iloc[end])
        by_override = solve(case.with_overrides([f"markets[BR,chips].min_share={floor}"]))
        assert curve["objective"].iloc[end] == pytest.approx(by_override.objective)
    search = pd.read_csv(tmp_path / "frontier" / "frontier_search.csv")
    assert (search.loc[search["reach[BR]"] > 0.5, "status"] == "infeasible").all()


@pytest.mark.parametrize(("args", "message"), [
    (["alternatives", "--maximize", "reach[XX]"],
     "'reach[XX]': 'XX' is not a market of markets.csv (its markets: BR, ID)"),
    (["frontier", "--trade-off", "reach[XX]", "--points", "2"],
     "'reach[XX]': 'XX' is not a market of markets.csv (its markets: BR, ID)"),
    (["alternatives", "--maximize", "reach[BR,chips]"], "reach[MARKET] expected"),
])
def test_unknown_market_in_reach_is_exit_2(tmp_path: Path, args: list[str],
                                           message: str) -> None:
    folder = case_with(tmp_path)
    result = CliRunner().invoke(main, [args[0], str(folder), *args[1:],
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    text = result.output + result.stderr
    assert message in text
    assert "Traceback" not in text


def test_reach_without_markets_is_refused(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **{k: v for k, v in MARKET.items()
                                              if k != "markets"})
    with pytest.raises(UsageError, match="the case has no markets outside the coalition"):
        alternatives(load_case(folder), 0.1, maximize="reach")


def test_frontier_over_a_column_takes_markets(tmp_path: Path) -> None:
    # BR's floor of 10 from the original case: D = 10 + 10. A partner may supply at most
    # max_share of D (markets included): A 20 s at 1, B 20 (1 - s) at 2, so 40 - 20 s for
    # s >= 0.5 (the tightest): 20, 25, 30.
    case = exact(write_case(tmp_path / "case", **MARKET))
    curve = frontier(case, "layers.max_share", points=3, plots=False)
    assert curve["layers.max_share"].tolist() == pytest.approx([1.0, 0.75, 0.5])
    assert curve["objective"].tolist() == pytest.approx([20, 25, 30])
    tight = solve(case.with_overrides(["layers.max_share=0.5"]))
    assert curve["objective"].iloc[-1] == pytest.approx(tight.objective)
    assert curve["verified"].all()


def test_resume_reads_the_reach_back_from_the_run_folders(tmp_path: Path) -> None:
    folder = case_with(tmp_path)
    out = tmp_path / "out"
    first = alternatives(exact(folder), 0.25, maximize="reach[BR]", out=out, plots=False)
    again = alternatives(exact(folder), 0.25, maximize="reach[BR]", out=out, plots=False,
                         resume=True)
    assert again.table["value"].tolist() == pytest.approx(first.table["value"].tolist())
    assert again.table["value"].iloc[-1] == pytest.approx(15 / 40, abs=1e-5)


def test_a_sweep_on_markets_builds_each_point_and_matches_a_solve(tmp_path: Path) -> None:
    """A sweep over a market's floor and a layer's cap: every point the solve of its case.

    With markets every point's model is built anew (the markets' numbers are fixed
    coefficients of the model), so each row is the solve of the point's overrides.
    """
    from solver.studies.sweep.sweep import sweep

    case = load_case(case_with(tmp_path)).with_overrides({"solver.mip_gap": 0.0})
    table = sweep(case, ["markets[BR,chips].min_share=0.25,0.5",
                         "layers[chips].max_share=0.7,1"], plots=False)
    assert len(table) == 4 and table["verified"].astype(bool).all()
    assert table["rebuilt"].astype(bool).all()
    for row in table.to_dict("records"):
        point = case.with_overrides({"markets[BR,chips].min_share": row[
            "markets[BR,chips].min_share"], "layers[chips].max_share": row[
            "layers[chips].max_share"]})
        alone = solve(point)
        assert row["objective"] == pytest.approx(alone.objective, abs=1e-6)
        assert row["cost_market_revenue"] == pytest.approx(alone.costs["market_revenue"])


def test_sensitivity_on_markets_measures_the_market_terms(tmp_path: Path) -> None:
    """BR's price from 0 to 1: each sample's revenue is the solve's at its price; the price
    moves revenue and nothing moves entry (no entry cost)."""
    from solver.studies.sensitivity.study import sensitivity

    case = load_case(case_with(tmp_path)).with_overrides({"solver.mip_gap": 0.0})
    key = "markets[BR,chips].price"
    found = sensitivity(case, [f"{key}=0:1"], method="morris", samples=2, plots=False)
    assert {"cost_market_revenue", "cost_entry"} <= set(found.outputs)
    assert found.samples["verified"].astype(bool).all()
    for row in found.samples.to_dict("records"):
        alone = solve(case.with_overrides({key: row[key]}))
        assert row["cost_market_revenue"] == pytest.approx(alone.costs["market_revenue"])
    rows = found.indices.set_index(["output", "parameter"])
    assert rows.loc[("cost_market_revenue", key), "mu_star"] > 1.0
    assert rows.loc[("cost_entry", key), "mu_star"] == pytest.approx(0.0)
