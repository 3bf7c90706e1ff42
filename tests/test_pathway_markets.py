"""Markets outside the coalition on a pathway (README, Pathways and Markets outside the coalition).

Every period has its markets, with that period's data (targets.csv may change a market row per
period), their flows, bands and entry binaries, and their revenue and entry costs as terms of
the period's annual cost, weighted like every other term. Tiny cases whose optimum is computed
by hand in the comment above each test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Members need 10 chips in both periods; A makes them at 1, B at 2, and a build serves two
# years (p1 2026 and p2 2028 need their own builds). BR buys 40 chips, of which the coalition
# must hold a quarter (10) and may hold half (20), at price 0 in p1. p2 counts two years.
PATHWAY_MARKET = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand,min_supplier_share,min_suppliers\nchips,10,0,1\n",
    "capabilities": "partner,layer,capacity,unit_cost,lifetime\nA,chips,100,1,2\n"
                    "B,chips,100,2,2\n",
    "periods": "period,year,years\np1,2026,1\np2,2028,2\n",
    "markets": "market,layer,demand,min_share,max_share,price\nBR,chips,40,0.25,0.5,0\n",
}


def targets(price: float, entry_cost: float) -> str:
    """targets.csv: in p2 BR pays ``price`` and costs ``entry_cost`` to enter."""
    return (f'period,set\np2,"markets[BR,chips].price={price}"\n'
            f'p2,"markets[BR,chips].entry_cost={entry_cost}"\n')


def pathway_case(tmp_path: Path, **tables: str) -> Path:
    return write_case(tmp_path / "case", **{**PATHWAY_MARKET, **tables})


def in_period(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    return frame[frame["period"].astype(str) == period]


@pytest.mark.parametrize(("price", "objective", "entered"), [(1.25, 40.0, False),
                                                            (1.5, 36.0, True)])
def test_every_period_has_its_markets(tmp_path: Path, price: float, objective: float,
                                      entered: bool) -> None:
    # p1: members 10 and BR's floor 10 from A: 20. p2 (entry 8): at 1.25 entering costs
    # 30 - 25 + 8 = 13 > 10 (members only): stay out, 10 a year, 20 for two years: 40.
    # At 1.5: 30 - 30 + 8 = 8: enter and sell 20, 16 for two years: 36.
    case = load_case(pathway_case(tmp_path, targets=targets(price, 8)))
    result = solve(case, mip_gap=0.0)
    assert result.verified, result.violations
    assert result.objective == pytest.approx(objective)
    markets = result.markets
    assert markets is not None and list(markets.columns[:3]) == ["period", "market", "layer"]
    p1, p2 = (in_period(markets, p).iloc[0] for p in ("p1", "p2"))
    assert p1["supplied"] == pytest.approx(10.0) and bool(p1["entered"])
    assert bool(p2["entered"]) is entered
    assert p2["supplied"] == pytest.approx(20.0 if entered else 0.0)
    assert p2["price"] == pytest.approx(price)
    supplied = in_period(result.layers, "p2")["market_supplied"].iloc[0]
    assert supplied == pytest.approx(20.0 if entered else 0.0)
    by_period = result.summary["costs_by_period"]
    assert by_period["p1"]["market_revenue"] == pytest.approx(0.0)
    assert by_period["p2"]["market_revenue"] == pytest.approx(-30.0 if entered else 0.0)
    assert by_period["p2"]["entry"] == pytest.approx(8.0 if entered else 0.0)
    # The discounted terms weigh each period's (p2 twice).
    assert result.costs["market_revenue"] == pytest.approx(-60.0 if entered else 0.0)
    assert result.costs["entry"] == pytest.approx(16.0 if entered else 0.0)


def test_market_terms_are_discounted(tmp_path: Path) -> None:
    # The case above at price 1.5, discounted at 10%: p2's weight is 2 / 1.1^2, so the
    # total is 20 + 8 w and the revenue -30 w, the entry 8 w.
    case = load_case(pathway_case(tmp_path, targets=targets(1.5, 8))).with_overrides(
        ["objective.discount_rate=0.1"])
    result = solve(case, mip_gap=0.0)
    w = 2 / 1.1 ** 2
    assert result.summary["weights"]["p2"] == pytest.approx(w)
    assert result.objective == pytest.approx(20 + 8 * w)
    assert result.costs["market_revenue"] == pytest.approx(-30 * w)
    assert result.costs["entry"] == pytest.approx(8 * w)
    assert result.verified, result.violations


def test_period_budget_counts_entry_not_revenue(tmp_path: Path) -> None:
    # Price 1.5, entry 8, a budget of 35 a period: entering p2 spends 10 + s + 8 <= 35, so
    # s <= 17: 35 - 25.5 = 9.5 a year (better than 10 out), 19 for two years; p1 as before:
    # 20 + 19 = 39. (Were the revenue netted, 20 would fit; without the entry cost, 20 too.)
    case = load_case(pathway_case(tmp_path, targets=targets(1.5, 8))).with_overrides(
        ["objective.budget=35"])
    result = solve(case, mip_gap=0.0)
    assert result.objective == pytest.approx(39.0)
    assert in_period(result.markets, "p2")["supplied"].iloc[0] == pytest.approx(17.0)
    assert result.verified, result.violations


def test_a_pathway_with_markets_is_built_in_pyomo(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The array path has no market families: it declines, and the Pyomo pathway is solved."""
    from solver.model.pathway import build_pathway
    from solver.model.pathway_arrays import assemble_pathway

    case = load_case(pathway_case(tmp_path, targets=targets(1.5, 8)))
    assert assemble_pathway(case) is None
    without = load_case(write_case(tmp_path / "plain", **{
        k: v for k, v in PATHWAY_MARKET.items() if k != "markets"}))
    assert assemble_pathway(without) is not None
    import solver.model.pathway as pathway_module

    built: list[Any] = []

    def spy(c: Any) -> Any:
        built.append(build_pathway(c))
        return built[-1]

    monkeypatch.setattr(pathway_module, "build_pathway", spy)
    result = solve(case, mip_gap=0.0)
    assert built and all(hasattr(block.m, "h") for block in built[0].blocks)
    assert result.objective == pytest.approx(36.0)


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The case at price 1.5 (BR entered in p2) and its run folder, solved once."""
    tmp_path = tmp_path_factory.mktemp("solved")
    folder = pathway_case(tmp_path, targets=targets(1.5, 8))
    run = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(folder), "--out", str(run),
                                       "--mip-gap", "0"])
    assert result.exit_code == 0, result.output
    return folder, run


def _tampered(run: Path, to: Path, table: str, change: Any) -> Path:
    shutil.copytree(run, to)
    if table == "summary.json":
        summary = json.loads((run / table).read_text(encoding="utf-8"))
        change(summary)
        (to / table).write_text(json.dumps(summary), encoding="utf-8")
        return to
    frame = pd.read_csv(run / table)
    change(frame)
    frame.to_csv(to / table, index=False)
    return to


def _p2_market(frame: pd.DataFrame) -> Any:
    return (frame["period"].astype(str) == "p2") & (frame["importer"] == "BR") \
        if "importer" in frame else frame["period"].astype(str) == "p2"


def _set(column: str, value: Any) -> Any:
    def change(frame: pd.DataFrame) -> None:
        frame.loc[_p2_market(frame), column] = value
    return change


def _revenue(summary: dict[str, Any]) -> None:
    summary["costs_by_period"]["p2"]["market_revenue"] = -20.0


@pytest.mark.parametrize(("table", "change", "message"), [
    ("markets.csv", _set("share", 0.4), "p2: markets.csv: share of market BR chips is 0.4"),
    ("markets.csv", _set("entered", False),
     "p2: market BR chips: market_ceiling: the coalition supplies 20, it does not enter"),
    ("flows.csv", _set("quantity", 6.0),
     "p2: market BR chips: market_floor: the coalition supplies 6 of its demand 40"),
    ("layers.csv", _set("market_supplied", 5.0), "p2: layers.csv"),
    ("summary.json", _revenue, "p2: objective: summary.json says costs.market_revenue = -20"),
])
def test_a_corrupted_market_row_of_a_pathway_fails_check(
        tmp_path: Path, solved: tuple[Path, Path], table: str, change: Any,
        message: str) -> None:
    folder, run = solved
    invoke = CliRunner().invoke
    assert invoke(main, ["check", str(folder), str(run)]).exit_code == 0
    bad = _tampered(run, tmp_path / "bad", table, change)
    result = invoke(main, ["check", str(folder), str(bad)])
    assert result.exit_code == 5, result.output
    assert message in result.output + result.stderr


def test_run_folder_tables_have_period_first(solved: tuple[Path, Path]) -> None:
    _, run = solved
    markets = pd.read_csv(run / "markets.csv", dtype={"period": str})
    assert markets.columns[0] == "period" and markets["period"].tolist() == ["p1", "p2"]
    layers = pd.read_csv(run / "layers.csv", dtype={"period": str})
    assert layers["market_supplied"].tolist() == pytest.approx([10.0, 20.0])
    flows = pd.read_csv(run / "flows.csv", dtype={"period": str})
    to_br = flows[flows["importer"] == "BR"]
    assert to_br["period"].tolist() == ["p1", "p2"]
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["costs"]["market_revenue"] == pytest.approx(-60.0)


def test_report_export_and_explain_take_a_pathway_with_markets(
        tmp_path: Path, solved: tuple[Path, Path]) -> None:
    folder, solved_run = solved
    run = tmp_path / "run"
    shutil.copytree(solved_run, run)
    invoke = CliRunner().invoke
    result = invoke(main, ["report", str(run)])
    assert result.exit_code == 0, result.output
    page = (run / "report.html").read_text(encoding="utf-8")
    assert '<table id="markets-table"><thead><tr><th>period</th><th>market</th>' in page
    lp = tmp_path / "model.lp"
    result = invoke(main, ["export", str(folder), "--format", "lp", str(lp)])
    assert result.exit_code == 0, result.output
    text = lp.read_text(encoding="utf-8")
    assert "market_floor(BR,chips)@p1" in text and "e(BR,chips)@p2" in text
    result = invoke(main, ["explain", str(folder)])
    assert result.exit_code == 0, result.output


def test_explain_names_the_period_whose_market_floor_cannot_hold(tmp_path: Path) -> None:
    # In p2 BR's floor is 0.25 of 1000 = 250; A and B can build 100 each.
    folder = pathway_case(tmp_path, targets='period,set\np2,"markets[BR,chips].demand=1000"\n')
    result = CliRunner().invoke(main, ["explain", str(folder)])
    assert result.exit_code == 3, result.output
    text = result.output + result.stderr
    assert "p2" in text and "BR chips: min_share 0.25 needs 250" in text


def test_stress_hits_the_last_period_with_its_markets(tmp_path: Path) -> None:
    # Losing A in p2 (the last period): B built nothing, so the members' 10 go unmet, and
    # BR's 20 with them: 30 of revenue lost at p2's price 1.5.
    from solver.studies.shocks.stress import stress

    folder = pathway_case(tmp_path, targets=targets(1.5, 8))
    table = stress(load_case(folder), redesign=False)
    lost_a = table[(table["lost"] == "A") & (table["scope"] == "total")].iloc[0]
    assert lost_a["unmet"] == pytest.approx(10.0)
    assert lost_a["market_unmet"] == pytest.approx(20.0)
    assert lost_a["lost_revenue"] == pytest.approx(30.0)


@pytest.mark.parametrize(("args", "message"), [
    (["share"], "coalition share on a case with markets outside the coalition"),
])
def test_what_a_pathway_with_markets_does_not_reach_yet_is_refused_by_name(
        tmp_path: Path, args: list[str], message: str) -> None:
    folder = pathway_case(tmp_path)
    result = CliRunner().invoke(main, [args[0], str(folder), *args[1:],
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    text = result.output + result.stderr
    assert message in text
    assert "Traceback" not in text
    assert not (tmp_path / "out").exists()


def test_a_sweep_over_a_market_s_floor_solves_each_pathway(tmp_path: Path) -> None:
    """BR's min_share 0.25 then 0.5 in every period: 36 (the optimum), then 46 (p1's 10 more)."""
    folder = pathway_case(tmp_path, targets=targets(1.5, 8))
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(folder), "--vary",
                                       "markets[BR,chips].min_share=0.25,0.5", "--mip-gap", "0",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert table["objective"].tolist() == pytest.approx([36.0, 46.0], abs=1e-6)
    assert table["verified"].astype(bool).all()
    assert {"cost_market_revenue", "cost_entry", "cost_existing"} <= set(table.columns)


def test_maximize_reach_on_a_pathway_sums_each_period_s_share(tmp_path: Path) -> None:
    """reach[BR] over p1 and p2: each period's share of BR, summed; pushed to both ceilings.

    The optimum holds BR's floor in p1 (10 of 40) and enters in p2 (20): 0.25 + 0.5. Within
    50% the coalition holds half of BR in both periods: 1.0, for 10 more in p1.
    """
    folder = pathway_case(tmp_path, targets=targets(1.5, 8))
    out = tmp_path / "alt"
    result = CliRunner().invoke(main, ["alternatives", str(folder), "--slack", "0.5",
                                       "--maximize", "reach[BR]", "--mip-gap", "0",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "alternatives.csv").set_index("plan")
    assert table.at["optimum", "value"] == pytest.approx(0.75)
    plan = table.loc["maximize-reach-BR-slack-0.5"]
    assert plan["value"] == pytest.approx(1.0, abs=1e-5)
    assert plan["cost"] == pytest.approx(46.0, abs=1e-4)
    markets = pd.read_csv(out / "maximize-reach-BR-slack-0.5" / "markets.csv")
    assert markets["share"].tolist() == pytest.approx([0.5, 0.5], abs=1e-5)
    assert bool(plan["verified"])


def test_a_frontier_over_reach_holds_the_floor_in_every_period(tmp_path: Path) -> None:
    """reach[BR] >= r in p1 and in p2: free up to the floor BR's min_share already holds.

    The optimum (36) holds a quarter of BR in p1 and half in p2; a floor of 0.5 in every
    period adds p1's other 10 at A's 1: 46, the tightest value (BR's max_share).
    """
    folder = pathway_case(tmp_path, targets=targets(1.5, 8))
    out = tmp_path / "frontier"
    result = CliRunner().invoke(main, ["frontier", str(folder), "--trade-off", "reach[BR]",
                                       "--points", "3", "--mip-gap", "0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    curve = pd.read_csv(out / "frontier.csv")
    assert curve["reach[BR]"].tolist() == pytest.approx([0.0, 0.25, 0.5])
    assert curve["objective"].tolist() == pytest.approx([36.0, 36.0, 46.0], abs=1e-6)
    assert curve["verified"].astype(bool).all()
    assert "tightest feasible value 0.5" in result.output
    assert {"cost_market_revenue", "cost_entry"} <= set(curve.columns)


def test_each_period_is_rerouted_under_its_scenarios_with_its_markets(tmp_path: Path) -> None:
    # Losing A in p2 leaves the members' 10 and BR's 20 unserved: 30 of revenue lost at 1.5.
    folder = pathway_case(tmp_path, targets=targets(1.5, 8),
                          scenarios="scenario,probability,partner,layer,capacity_factor\n"
                                    "Aout,0.1,A,,0\n")
    run = tmp_path / "run"
    invoke = CliRunner().invoke
    assert invoke(main, ["solve", str(folder), "--out", str(run), "--mip-gap", "0"]).exit_code \
        == 0
    table = pd.read_csv(run / "scenarios.csv", dtype={"period": str}).set_index("period")
    assert table.at["p2", "market_unmet"] == pytest.approx(20.0)
    assert table.at["p2", "lost_revenue"] == pytest.approx(30.0)
    assert invoke(main, ["check", str(folder), str(run)]).exit_code == 0
    bad = _tampered(run, tmp_path / "bad", "scenarios.csv", _set("lost_revenue", 3.0))
    result = invoke(main, ["check", str(folder), str(bad)])
    assert result.exit_code == 5, result.output
    assert "p2: " in result.output + result.stderr and "lost_revenue" in \
        result.output + result.stderr


def test_alternatives_and_a_frontier_over_a_column_take_a_pathway_with_markets(
        tmp_path: Path) -> None:
    # The case at price 1.5: the optimum 36 (above). Loosening nothing, the frontier's loose
    # end is that optimum, with the market terms discounted (p2 twice).
    from solver.studies.alternatives.alternatives import alternatives
    from solver.studies.sweep.frontier import frontier

    case = load_case(pathway_case(tmp_path, targets=targets(1.5, 8))).with_overrides(
        {"solver.mip_gap": 0.0})
    found = alternatives(case, 0.05, count=1, out=tmp_path / "alt", plots=False)
    optimum = pd.read_csv(tmp_path / "alt" / "optimum" / "markets.csv", dtype={"period": str})
    assert optimum["period"].tolist() == ["p1", "p2"]
    assert found.table.set_index("plan").at["optimum", "cost"] == pytest.approx(36.0)
    curve = frontier(case, "layers.max_share", points=2, plots=False)
    assert curve["objective"].iloc[0] == pytest.approx(36.0)
    assert curve["cost_market_revenue"].iloc[0] == pytest.approx(-60.0)
    assert curve["cost_entry"].iloc[0] == pytest.approx(16.0)
    assert curve["verified"].all()
