"""Markets outside the coalition (README, Markets outside the coalition): markets.csv, the model.

Tiny cases whose optimum is computed by hand in the comment above each test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import Case, load_case, solve
from solver.cli import main
from solver.errors import CaseError

try:
    from tiny import flow, layer_value, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import flow, layer_value, write_case

# Members need 10 chips; A makes them at 1, B at 2. The market BR buys up to 40 chips, of which
# the coalition must hold a quarter (10) and may hold half (20).
MARKET = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand,min_supplier_share,min_suppliers\nchips,10,0,1\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n",
    "markets": "market,layer,demand,min_share,max_share,price\nBR,chips,40,0.25,0.5,0\n",
}


#: Telecom, which members do not need, from two suppliers (A at 1, B at 2).
TELECOM = {
    "layers": "layer,demand,min_supplier_share,min_suppliers\nchips,10,0,1\ntelecom,0,0.2,2\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n"
                    "A,telecom,100,1\nB,telecom,100,2\n",
}


def market_case(tmp_path: Path, **tables: str) -> Case:
    return load_case(write_case(tmp_path / "case", **{**MARKET, **tables}))


def problems(tmp_path: Path, **tables: str) -> list[str]:
    with pytest.raises(CaseError) as err:
        market_case(tmp_path, **tables)
    return [str(p) for p in err.value.problems]


def market_row(result: object, market: str, layer: str, column: str) -> object:
    frame = result.markets  # type: ignore[attr-defined]
    row = frame[(frame["market"] == market) & (frame["layer"] == layer)]
    assert len(row) == 1
    return row[column].iloc[0]


def test_family_market_floor(tmp_path: Path) -> None:
    # Price 0: the coalition supplies only the floor, 10 units from A: cost 10 + 10 = 20.
    result = solve(market_case(tmp_path), mip_gap=0.0)
    assert result.objective == pytest.approx(20.0)
    assert flow(result, "A", "BR", "chips") == pytest.approx(10.0)
    assert market_row(result, "BR", "chips", "share") == pytest.approx(0.25)
    assert layer_value(result, "chips", "market_supplied") == pytest.approx(10.0)
    assert layer_value(result, "chips", "demand") == pytest.approx(20.0)
    assert result.summary["costs"]["market_revenue"] == pytest.approx(0.0)
    assert result.summary["verified"] is True


def test_family_market_ceiling(tmp_path: Path) -> None:
    # Price 1.25 > A's cost 1: the coalition sells up to the ceiling, 20: 30 - 25 = 5.
    result = solve(market_case(tmp_path, markets="market,layer,demand,min_share,max_share,"
                               "price\nBR,chips,40,0.25,0.5,1.25\n"), mip_gap=0.0)
    assert result.objective == pytest.approx(5.0)
    assert market_row(result, "BR", "chips", "supplied") == pytest.approx(20.0)
    assert market_row(result, "BR", "chips", "revenue") == pytest.approx(25.0)
    assert market_row(result, "BR", "chips", "largest_supplier") == "A"
    assert result.summary["costs"]["market_revenue"] == pytest.approx(-25.0)
    assert result.summary["verified"] is True


@pytest.mark.parametrize(("price", "objective", "entered"), [(1.25, 10.0, False),
                                                            (1.5, 8.0, True)])
def test_entry_binary(tmp_path: Path, price: float, objective: float, entered: bool) -> None:
    # Entry costs 8. At 1.25 entering costs 30 - 25 + 8 = 13 > 10 (members only): stay out.
    # At 1.5: 30 - 30 + 8 = 8 < 10: enter and sell 20.
    result = solve(market_case(tmp_path, markets="market,layer,demand,min_share,max_share,price,"
                               f"entry_cost\nBR,chips,40,0.25,0.5,{price},8\n"), mip_gap=0.0)
    assert result.objective == pytest.approx(objective)
    assert bool(market_row(result, "BR", "chips", "entered")) is entered
    assert result.summary["costs"]["entry"] == pytest.approx(8.0 if entered else 0.0)
    assert result.summary["verified"] is True


def test_routes_to_a_market_come_from_trade(tmp_path: Path) -> None:
    # A may not ship to BR: B serves the floor at 2 plus the route's 0.5: 10 + 25 = 35.
    result = solve(market_case(tmp_path, trade="exporter,importer,unit_cost,allowed\n"
                               "A,BR,0,false\nB,BR,0.5,true\n"), mip_gap=0.0)
    assert result.objective == pytest.approx(35.0)
    assert flow(result, "B", "BR", "chips") == pytest.approx(10.0)
    assert result.summary["costs"]["trade"] == pytest.approx(5.0)


def test_max_share_caps_all_of_the_layers_supply(tmp_path: Path) -> None:
    # max_share 0.6 of D = 10 + 10: A supplies at most 12, B the other 8: 12 + 16 = 28.
    result = solve(market_case(tmp_path, layers="layer,demand,min_supplier_share,"
                               "min_suppliers,max_share\nchips,10,0,1,0.6\n"), mip_gap=0.0)
    assert result.objective == pytest.approx(28.0)
    assert result.summary["verified"] is True


def test_family_market_diversification(tmp_path: Path) -> None:
    # Members need no telecom; BR's floor needs 5, from two suppliers (A at 1, B at 2):
    # B supplies at least min_supplier_share 0.2 of 5 = 1: 4 + 2 = 6, on top of chips' 10.
    result = solve(market_case(
        tmp_path,
        **TELECOM,
        markets="market,layer,demand,min_share,max_share,price\nBR,telecom,10,0.5,1,0\n"),
        mip_gap=0.0)
    assert result.objective == pytest.approx(16.0)
    assert flow(result, "B", "BR", "telecom") == pytest.approx(1.0)


def test_goods_sent_to_markets_need_their_inputs(tmp_path: Path) -> None:
    # Each chip needs 0.5 power (A makes power at 1): members' 10 chips and BR's 10 need 10
    # power: 20 + 10 = 30.
    result = solve(market_case(
        tmp_path,
        layers="layer,demand,min_supplier_share,min_suppliers\nchips,10,0,1\npower,0,0,1\n",
        capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n"
                     "A,power,100,1\n",
        inputs="layer,input,per_unit\nchips,power,0.5\n"), mip_gap=0.0)
    assert result.objective == pytest.approx(30.0)
    assert layer_value(result, "power", "demand") == pytest.approx(10.0)
    assert result.summary["verified"] is True


def test_family_market_participation(tmp_path: Path) -> None:
    # V = 10 + 10 with the market's floor: B must supply 0.4 of 20 = 8: 12 + 16 = 28 (with V
    # over members' demand alone B would supply 4: 24).
    result = solve(market_case(tmp_path, partners="partner,min_participation\nA,0\nB,0.4\n"),
                   mip_gap=0.0)
    assert result.objective == pytest.approx(28.0)
    assert result.summary["verified"] is True


def test_family_market_diversification_through_a_binary(tmp_path: Path) -> None:
    # Members need no telecom; BR pays 3 for up to 10 once entered (entry 1). Entering needs
    # two suppliers (B at least 0.2 of 10): A 8 at 1, B 2 at 2: 12 - 30 + 1 = -17, plus
    # chips' 10: -7. Staying out would cost 10.
    result = solve(market_case(
        tmp_path,
        **TELECOM,
        markets="market,layer,demand,min_share,max_share,price,entry_cost\n"
                "BR,telecom,10,0.5,1,3,1\n"),
        mip_gap=0.0)
    assert result.objective == pytest.approx(-7.0)
    assert flow(result, "B", "BR", "telecom") == pytest.approx(2.0)
    assert result.summary["verified"] is True


def test_supplier_share_is_over_market_supply_too(tmp_path: Path) -> None:
    # D = 10 + 10; two suppliers, each at least 0.2 of 20: A 16, B 4: 16 + 8 = 24 (over
    # members' demand alone B would supply 2: 22).
    result = solve(market_case(tmp_path, layers="layer,demand,min_supplier_share,"
                               "min_suppliers\nchips,10,0.2,2\n"), mip_gap=0.0)
    assert result.objective == pytest.approx(24.0)
    assert result.summary["verified"] is True


def test_budget_excludes_market_revenue(tmp_path: Path) -> None:
    # Price 1.25: unbounded by the budget A sells 20 (cost 30, objective 5). A budget of 25
    # caps spending, revenue aside: 15 to BR: 25 - 18.75 = 6.25.
    case = market_case(tmp_path, markets="market,layer,demand,min_share,max_share,price\n"
                       "BR,chips,40,0.25,0.5,1.25\n").with_overrides(["objective.budget=25"])
    result = solve(case, mip_gap=0.0)
    assert result.objective == pytest.approx(6.25)
    assert market_row(result, "BR", "chips", "supplied") == pytest.approx(15.0)
    assert result.summary["verified"] is True


def test_every_market_family_has_a_test() -> None:
    from solver.model.market_families import MARKET_FAMILIES

    definitions = {"market_supplied", "market_requirement"}
    families = {f.__name__.removeprefix("add_") for f in MARKET_FAMILIES} - definitions
    tests = [name for name in globals() if name.startswith("test_family_")]
    untested = {f for f in families
                if not any(t == f"test_family_{f}" or t.startswith(f"test_family_{f}_")
                           for t in tests)}
    assert not untested, f"market families without a test: {untested}"


@pytest.mark.parametrize(("markets", "message"), [
    ("market,layer,demand\nA,chips,5\n",
     "markets.csv, line 2, column market: 'A': 'A' is a partner id"),
    ("market,layer,demand\nBR,gpu,5\n",
     "markets.csv, line 2, column layer: 'gpu': names no layer of layers.csv"),
    ("market,layer,demand,min_share,max_share\nBR,chips,5,0.6,0.4\n",
     "markets.csv, line 2, column min_share: '0.6': min_share is above max_share (0.4)"),
    ("market,layer,demand\nBR,chips,-5\n",
     "markets.csv, line 2, column demand: '-5': out of range: must be >= 0"),
    ("market,layer,demand\nBR,chips,5\nBR,chips,6\n",
     "markets.csv, line 3, column market,layer: 'BR,chips': duplicate key"),
])
def test_bad_markets_are_one_clear_problem(tmp_path: Path, markets: str, message: str) -> None:
    found = problems(tmp_path, markets=markets)
    assert len(found) == 1, found
    assert message in found[0], found


def test_bad_markets_exit_2_without_traceback(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **{
        **MARKET, "markets": "market,layer,demand,min_share\nBR,chips,5,1.5\n"})
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "markets.csv, line 2, column min_share" in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_trade_importer_names_a_partner_or_a_market(tmp_path: Path) -> None:
    found = problems(tmp_path, trade="exporter,importer\nA,XX\n")
    assert found == ["trade.csv, line 2, column importer: 'XX': names no partner of "
                     "partners.csv nor a market of markets.csv"]


def test_overrides_reach_markets(tmp_path: Path) -> None:
    case = market_case(tmp_path)
    # The floor at 0.5 of 40: 20 from A: 10 + 20 = 30.
    tighter = case.with_overrides(["markets[BR,chips].min_share=0.5"])
    assert solve(tighter, mip_gap=0.0).objective == pytest.approx(30.0)
    # A route to BR forbidden by an override: B serves the floor: 10 + 20 = 30.
    closed = case.with_overrides(["trade[A,BR].allowed=false"])
    assert solve(closed, mip_gap=0.0).objective == pytest.approx(30.0)


def test_workbook_case_with_markets(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **MARKET)
    book = tmp_path / "case.xlsx"
    with pd.ExcelWriter(book) as writer:
        for csv in sorted(folder.glob("*.csv")):
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
            if csv.stem == "markets":
                frame.loc[0, "market"] = "A"
            frame.to_excel(writer, sheet_name=csv.stem, index=False)
    with pytest.raises(CaseError) as err:
        load_case(book)
    assert "sheet markets, row 2, column market" in str(err.value.problems[0])


def test_without_markets_the_model_is_the_one_before_markets(tmp_path: Path) -> None:
    # The numbers of test_chain's case from before markets.csv existed.
    from solver.case.generate import generate_case

    folder = tmp_path / "gen"
    generate_case(8, 4, 3, 7, folder)
    result = solve(load_case(folder), mip_gap=0.0)
    size = result.summary["size"]
    assert (size["variables"], size["binaries"], size["constraints"], size["nonzeros"]) == (
        120, 22, 127, 348)
    assert result.objective == pytest.approx(1319.8486796490427, rel=1e-9)
    assert result.markets is None and "market_supplied" not in result.layers
    # A markets.csv with no demand changes nothing either.
    (folder / "markets.csv").write_text("market,layer,demand\nBR,L001,0\n", encoding="utf-8")
    again = solve(load_case(folder), mip_gap=0.0)
    assert again.summary["size"] == size
    assert again.objective == pytest.approx(result.objective, rel=1e-12)


def test_checker_recomputes_the_markets(tmp_path: Path) -> None:
    out = solve(market_case(tmp_path), mip_gap=0.0).write(tmp_path / "run")
    invoke = CliRunner().invoke
    assert invoke(main, ["check", str(tmp_path / "case"), str(out)]).exit_code == 0
    # A market table that claims a larger share than the flows give.
    tampered = tmp_path / "tampered"
    shutil.copytree(out, tampered)
    table = pd.read_csv(out / "markets.csv")
    table.loc[0, "share"] = 0.4
    table.to_csv(tampered / "markets.csv", index=False)
    result = invoke(main, ["check", str(tmp_path / "case"), str(tampered)])
    assert result.exit_code == 5
    assert "markets.csv: share of market BR chips is 0.4" in result.output + result.stderr
    # Flows to the market below its floor.
    short = tmp_path / "short"
    shutil.copytree(out, short)
    flows = pd.read_csv(out / "flows.csv")
    flows.loc[flows["importer"] == "BR", "quantity"] = 6.0
    flows.to_csv(short / "flows.csv", index=False)
    result = invoke(main, ["check", str(tmp_path / "case"), str(short)])
    assert result.exit_code == 5
    assert "market BR chips: market_floor: the coalition supplies 6 of its demand 40" in \
        result.output + result.stderr


def test_explain_names_a_market_floor_that_cannot_hold(tmp_path: Path) -> None:
    # BR's floor needs 0.3 of 150 = 45 telecom; A and B can build 10 each.
    folder = write_case(tmp_path / "case", **{
        **MARKET, **TELECOM,
        "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nA,telecom,10,1\n"
                        "B,telecom,10,2\n",
        "markets": "market,layer,demand,min_share\nBR,telecom,150,0.3\n"})
    result = CliRunner().invoke(main, ["explain", str(folder)])
    assert result.exit_code == 3, result.output
    assert "BR telecom: min_share 0.3 needs 45 cannot hold; the routes to BR can carry 20" in \
        result.output + result.stderr


def test_report_shows_each_markets_share(tmp_path: Path) -> None:
    out = solve(market_case(tmp_path), mip_gap=0.0).write(tmp_path / "run")
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    table = page[page.index('id="markets-table"'):]
    assert "<td>BR</td><td>chips</td>" in table
    assert '<td class="n">25.0%</td>' in table.split("</tr>")[1]


@pytest.mark.parametrize(("extra", "args", "message"), [
    ({"scenarios": "scenario,probability,partner,layer,capacity_factor\nAout,0.1,A,,0\n"},
     ["solve", "--design", "expected"], "markets.csv with a two-stage design"),
    ({}, ["share"], "coalition share on a case with markets outside the coalition"),
])
def test_what_markets_do_not_reach_yet_is_refused_by_name(
        tmp_path: Path, extra: dict[str, str], args: list[str], message: str) -> None:
    folder = write_case(tmp_path / "case", **{**MARKET, **extra})
    result = CliRunner().invoke(main, [*args, str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output + result.stderr
    assert not (tmp_path / "out").exists()


def test_checker_holds_market_routes_and_entry(tmp_path: Path) -> None:
    # Entry pays at price 1.5 (the entry test's case): tamper the route and the entry claim.
    case = market_case(tmp_path, markets="market,layer,demand,min_share,max_share,price,"
                       "entry_cost\nBR,chips,40,0.25,0.5,1.5,8\n",
                       trade="exporter,importer,unit_cost,allowed\nB,BR,0,false\n")
    out = solve(case, mip_gap=0.0).write(tmp_path / "run")
    invoke = CliRunner().invoke
    assert invoke(main, ["check", str(tmp_path / "case"), str(out)]).exit_code == 0
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    flows = pd.read_csv(out / "flows.csv")
    flows.loc[flows["importer"] == "BR", "exporter"] = "B"
    flows.to_csv(moved / "flows.csv", index=False)
    result = invoke(main, ["check", str(tmp_path / "case"), str(moved)])
    assert result.exit_code == 5
    assert "the route B->BR is forbidden (trade.csv allowed = false)" in \
        result.output + result.stderr
    # A plan that says it did not enter BR, yet ships there.
    closed = tmp_path / "closed"
    shutil.copytree(out, closed)
    table = pd.read_csv(out / "markets.csv")
    table["entered"] = False
    table.to_csv(closed / "markets.csv", index=False)
    result = invoke(main, ["check", str(tmp_path / "case"), str(closed)])
    assert result.exit_code == 5
    assert "market BR chips: market_ceiling: the coalition supplies 20, it does not enter " \
        "the market (entered = false)" in result.output + result.stderr
