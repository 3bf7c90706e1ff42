"""Studies on a pathway (README, Pathways): sweep, frontier, stress --period, export, share.

Each on a tiny pathway of one layer (demand 10, then 20), partners A (cost 1) and B (cost
2, whose builds serve two years), A's installed base of 3, and a 2026 target that holds
A to 60% of chips.
"""

from __future__ import annotations

import json
from pathlib import Path

import highspy
import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

PERIODS = "period,year,demand_factor\n2026,2026,1\n2028,2028,2\n"
TARGETS = "period,set\n2026,layers[chips].max_share=0.6\n"
CAPS = ("partner,layer,capacity,unit_cost,existing,lifetime\n"
        "A,chips,100,1,3,\nB,chips,100,2,0,2\n")


def pathway(tmp_path: Path) -> Path:
    """The tiny pathway case folder."""
    return write_case(tmp_path / "case", partners="partner\nA\nB\n",
                      layers="layer,demand\nchips,10\n", capabilities=CAPS, periods=PERIODS,
                      targets=TARGETS)


def run(*args: object) -> str:
    """Run the CLI; assert exit 0; its output."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def supplied(allocation: pd.DataFrame, period: str, partner: str) -> float:
    """What ``partner`` supplies of chips in ``period``."""
    rows = allocation[(allocation["period"].astype(str) == period)
                      & (allocation["partner"] == partner)]
    return float(rows["supplied"].sum())


def test_sweep_point_is_the_discounted_pathway_with_targets_on_top(tmp_path: Path) -> None:
    """A point's override holds in every period, the 2026 target on top; cost = solve's."""
    path = pathway(tmp_path)
    out = tmp_path / "sweep"
    run("sweep", path, "--vary", "layers[chips].max_share=1,0.8", "--out", out, "--no-plots")
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["status"]) == ["optimal", "optimal"]
    assert table["verified"].all()
    for row in table.to_dict("records"):
        want = solve(load_case(path).with_overrides(
            [f"layers[chips].max_share={row['layers[chips].max_share']}"]))
        assert row["objective"] == pytest.approx(want.objective)
        assert row["cost_existing"] == pytest.approx(want.costs["existing"])
    allocations = pd.read_csv(out / "allocations.csv")
    assert {str(p) for p in allocations["period"]} == {"2026", "2028"}
    first = allocations[allocations["point"] == 0]
    # The 2026 target keeps A at 60% of 10; in 2028 max_share=1 lets A supply all 20.
    assert supplied(first, "2026", "A") == pytest.approx(6)
    assert supplied(first, "2028", "A") == pytest.approx(20)
    second = allocations[allocations["point"] == 1]
    assert supplied(second, "2026", "A") == pytest.approx(6)
    assert supplied(second, "2028", "A") == pytest.approx(16)


def test_frontier_on_a_pathway_is_one_command(tmp_path: Path) -> None:
    """The frontier on max_share: discounted costs rise to the tightest value, 0.5."""
    path = pathway(tmp_path)
    out = tmp_path / "frontier"
    text = run("frontier", path, "--trade-off", "layers[chips].max_share", "--points", "3",
               "--tol", "0.01", "--out", out)
    assert "tightest feasible value" in text
    curve = pd.read_csv(out / "frontier.csv")
    key = "layers[chips].max_share"
    assert curve[key].iloc[-1] == pytest.approx(0.5, abs=0.01)
    assert curve["verified"].all() and "cost_existing" in curve
    assert curve["objective"].is_monotonic_increasing
    loose = solve(load_case(path).with_overrides([f"{key}=1.0"]))
    assert curve["objective"].iloc[0] == pytest.approx(loose.objective)


def test_stress_period_hits_that_periods_capacity(tmp_path: Path) -> None:
    """Losing A in a period leaves unmet what B has in service then; no --period: the last."""
    path = pathway(tmp_path)
    plan = solve(load_case(path)).allocation
    for period, demand in (("2026", 10.0), ("2028", 20.0)):
        out = tmp_path / f"stress-{period}"
        run("stress", path, "--period", period, "--partner", "A", "--out", out)
        table = pd.read_csv(out / "stress.csv")
        total = table[table["scope"] == "total"].iloc[0]
        rows = plan[(plan["period"].astype(str) == period) & (plan["partner"] == "B")]
        assert total["demand"] == pytest.approx(demand)
        assert total["unmet"] == pytest.approx(demand - float(rows["capacity"].sum()))
    # Without --period: the last period's (README, Pathways), and the command says so.
    last = CliRunner().invoke(main, ["stress", str(path), "--partner", "A", "--out",
                                     str(tmp_path / "x")])
    assert last.exit_code == 0, last.output
    assert "last period, 2028" in last.output
    assert pd.read_csv(tmp_path / "x" / "stress.csv").equals(
        pd.read_csv(tmp_path / "stress-2028" / "stress.csv"))
    wrong = CliRunner().invoke(main, ["stress", str(path), "--period", "2027"])
    assert wrong.exit_code == 2 and "periods are 2026, 2028" in wrong.output


def test_stress_redesign_on_a_pathway_is_the_whole_pathway(tmp_path: Path) -> None:
    """--redesign without B: the discounted pathway without B, against the optimum."""
    path = pathway(tmp_path)
    out = tmp_path / "stress"
    run("stress", path, "--period", "2026", "--partner", "B", "--redesign", "--out", out)
    total = pd.read_csv(out / "stress.csv").iloc[0]
    # Without B nobody dilutes A in 2026 below the target: no plan.
    assert total["redesign_status"] == "infeasible"
    assert "2026" in total["redesign_reason"]


def test_stress_sample_period_draws_that_periods_demand(tmp_path: Path) -> None:
    """stress --sample --period P re-routes P's plan under P's demand (10, then 20)."""
    path = pathway(tmp_path)
    for period, demand in (("2026", 10.0), ("2028", 20.0)):
        out = tmp_path / f"sample-{period}"
        run("stress", path, "--sample", 20, "--seed", 3, "--period", period, "--out", out)
        table = pd.read_csv(out / "distribution.csv")
        assert float(table[table["scope"] == "total"]["demand"].iloc[0]) == pytest.approx(demand)
    last = CliRunner().invoke(main, ["stress", str(path), "--sample", 20, "--seed", 3,
                                     "--out", str(tmp_path / "y")])
    assert last.exit_code == 0, last.output
    assert pd.read_csv(tmp_path / "y" / "distribution.csv").equals(
        pd.read_csv(tmp_path / "sample-2028" / "distribution.csv"))


def test_period_on_a_one_period_case_is_refused(tmp_path: Path) -> None:
    """--period names a period of periods.csv; a case without one refuses it."""
    path = write_case(tmp_path / "one", partners="partner\nA\nB\n",
                      layers="layer,demand\nchips,10\n",
                      capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\n"
                                   "B,chips,100,2\n")
    result = CliRunner().invoke(main, ["stress", str(path), "--period", "2026"])
    assert result.exit_code == 2 and "no periods.csv" in result.output


def test_export_writes_the_pathway_model(tmp_path: Path) -> None:
    """The exported LP names every period's rows and the builds; HiGHS solves it to the optimum."""
    path = pathway(tmp_path)
    out = tmp_path / "model.lp"
    run("export", path, "--format", "lp", out)
    text = out.read_text(encoding="utf-8")
    assert "b(A,chips,2026)" in text and "@2028" in text and "in_service(2028,A,chips)" in text
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.readModel(str(out))
    highs.run()
    assert highs.getInfo().objective_function_value == pytest.approx(
        solve(load_case(path)).objective)


def test_allocation_cost_is_what_each_pair_pays_that_period(tmp_path: Path) -> None:
    """allocation.csv's cost per period: fixed, builds in service and the base kept; checked."""
    path = pathway(tmp_path)
    out = tmp_path / "run"
    run("solve", path, "--out", out)
    allocation = pd.read_csv(out / "allocation.csv")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for period, costs in summary["costs_by_period"].items():
        rows = allocation[allocation["period"].astype(str) == period]
        paid = costs["fixed"] + costs["capacity"] + costs["existing"]
        assert rows["cost"].sum() == pytest.approx(paid)
    # B's 2026 build (cost 2 a unit) serves two years: in 2028 it pays nothing.
    b = allocation[allocation["partner"] == "B"]
    b = b.set_index(b["period"].astype(str))
    assert b.at["2026", "cost"] == pytest.approx(2 * b.at["2026", "capacity"])
    assert b.at["2028", "cost"] == pytest.approx(0)
    partners = pd.read_csv(out / "partners.csv")
    assert partners["cost"].sum() == pytest.approx(allocation["cost"].sum())
    allocation.loc[allocation["partner"] == "A", "cost"] += 1
    allocation.to_csv(out / "allocation.csv", index=False)
    tampered = CliRunner().invoke(main, ["check", str(path), str(out)])
    assert tampered.exit_code == 5 and "allocation.csv: cost of 2026: A,chips" in tampered.output


def test_report_draws_hosts_flows_and_participation_per_period(tmp_path: Path) -> None:
    """One heat map, flow table and partner table per period, each of that period's plan."""
    path = pathway(tmp_path)
    out = tmp_path / "run"
    run("solve", path, "--out", out)
    run("report", out)
    page = (out / "report.html").read_text(encoding="utf-8")
    for period in ("2026", "2028"):
        for table in ("heatmap", "flow-table", "partner-table"):
            assert f'id="{table}-{period}"' in page
    assert 'id="heatmap"' not in page
    heat = {p: page.split(f'id="heatmap-{p}"')[1].split("</table>")[0] for p in ("2026", "2028")}
    flows = {p: page.split(f'id="flow-table-{p}"')[1].split("</table>")[0] for p in heat}
    # The 2026 target holds A to 60% (6 of 10); in 2028 A supplies all 20 of chips.
    assert "A hosts chips: 60.0% of supply" in heat["2026"]
    assert "A hosts chips: 100.0% of supply" in heat["2028"]
    assert "<td>A</td><td>coalition</td><td class=\"n\">6</td>" in flows["2026"]
    assert "<td>A</td><td>coalition</td><td class=\"n\">20</td>" in flows["2028"]
    assert "<td>B</td>" in flows["2026"] and "<td>B</td>" not in flows["2028"]


def test_alternatives_differ_in_hosting_decisions_per_period(tmp_path: Path) -> None:
    """The most different pathway within 50%: B also hosts chips in 2028; checked, capped."""
    path = pathway(tmp_path)
    out = tmp_path / "alt"
    run("alternatives", path, "--slack", "0.5", "--count", "2", "--out", out)
    table = pd.read_csv(out / "alternatives.csv").set_index("plan")
    optimum = solve(load_case(path)).objective
    assert table.at["optimum", "cost"] == pytest.approx(optimum)
    alt = table.loc["alternative-1"]
    # 2026's target makes A and B host; the only decision left is who hosts in 2028.
    assert alt["distance"] == 1 and alt["gained"] == "B:chips@2028"
    assert bool(alt["verified"]) and optimum < alt["cost"] <= 1.5 * optimum
    assert {"suppliers[chips@2026]", "suppliers[chips@2028]"} <= set(table.columns)
    plan = pd.read_csv(out / "alternative-1" / "allocation.csv")
    hosts = plan[plan["hosted"]].groupby(plan["period"].astype(str))["partner"].apply(set)
    assert hosts.to_dict() == {"2026": {"A", "B"}, "2028": {"A", "B"}}
    assert "verified against case" in run("check", path, out / "alternative-1")
    # Resumed, the plan read back is a reference by (partner, layer@period): none further.
    text = run("alternatives", path, "--slack", "0.5", "--count", "2", "--out", out,
               "--resume")
    assert "no plan within the slack differs from every one found" in text
    assert pd.read_csv(out / "alternatives.csv")["plan"].tolist() == ["optimum",
                                                                       "alternative-1"]


def test_maximize_on_a_pathway_pushes_the_sum_over_periods(tmp_path: Path) -> None:
    """--maximize participation[B]: the sum over periods, pushed until the cost cap binds."""
    path = pathway(tmp_path)
    out = tmp_path / "alt"
    run("alternatives", path, "--slack", "0.5", "--maximize", "participation[B]", "--out", out)
    table = pd.read_csv(out / "alternatives.csv").set_index("plan")
    optimum = solve(load_case(path)).objective
    name = "maximize-participation-B-slack-0.5"
    alt = table.loc[name]
    partners = pd.read_csv(out / name / "partners.csv")
    summed = float(partners.loc[partners["partner"] == "B", "participation"].sum())
    assert alt["value"] == pytest.approx(summed, abs=1e-6)
    assert alt["value"] > table.at["optimum", "value"] + 0.5
    # B is the dearer partner: more of it costs every bit of the 50% slack.
    assert alt["cost"] == pytest.approx(1.5 * optimum, rel=1e-5)
    allocation = pd.read_csv(out / name / "allocation.csv")
    b = allocation[allocation["partner"] == "B"].set_index(
        allocation["period"].astype(str)[allocation["partner"] == "B"])
    assert b.at["2026", "share"] == pytest.approx(0.6)  # the 2026 target holds B too
    assert bool(b.at["2028", "hosted"]) and alt["gained"] == "B:chips@2028"
    summary = json.loads((out / name / "summary.json").read_text(encoding="utf-8"))
    assert summary["alternative"]["search"] == "maximize participation[B]"
    assert "verified against case" in run("check", path, out / name)


def test_minimize_on_a_pathway_refuses_an_unknown_id(tmp_path: Path) -> None:
    """An id the case lacks is refused by name before anything is solved (exit 2)."""
    path = pathway(tmp_path)
    result = CliRunner().invoke(main, ["alternatives", str(path), "--minimize", "hosts[Z]"])
    assert result.exit_code == 2
    assert "'Z' is not a partner of partners.csv" in result.output


def test_stress_sample_period_of_a_written_pathway_run(tmp_path: Path) -> None:
    """--sample --run RUN --period P draws on P's rows of the run; a one-period run refused."""
    path = pathway(tmp_path)
    out = tmp_path / "run"
    run("solve", path, "--out", out)
    run("stress", path, "--sample", 5, "--period", "2028", "--run", out, "--out",
        tmp_path / "st")
    table = pd.read_csv(tmp_path / "st" / "distribution.csv")
    assert float(table[table["scope"] == "total"]["demand"].iloc[0]) == pytest.approx(20)
    allocation = pd.read_csv(out / "allocation.csv")
    allocation.drop(columns="period").to_csv(out / "allocation.csv", index=False)
    refused = CliRunner().invoke(main, ["stress", str(path), "--sample", "5", "--period",
                                        "2028", "--run", str(out), "--out",
                                        str(tmp_path / "st2")])
    assert refused.exit_code == 2 and "a run of one period" in refused.output


# The game on a pathway: members A (base 4 at no cost, builds at 3) and B (builds at 5),
# each needing 10 chips in 2026 and 20 in 2028; O, outside, offers 10 at 1 a period, shared
# in proportion to a group's demand. A builds serve every later period and pay every period.
GAME = {"partners": "partner,member\nA,true\nB,true\nO,false\n",
        "layers": "layer,min_supplier_share\nchips,0\n",
        "capabilities": "partner,layer,capacity,unit_cost,existing,existing_cost\n"
                        "A,chips,20,3,4,0\nB,chips,20,5,0,\nO,chips,10,1,0,\n",
        "demand": "member,layer,demand\nA,chips,10\nB,chips,10\n",
        "periods": PERIODS}


def test_share_on_a_pathway_prices_each_group_s_own_pathway(tmp_path: Path) -> None:
    """c(S) is S's discounted pathway from its own installed base, O shared by demand.

    A alone: 2026 base 4 + O 5 (5) + 1 built (3) = 8; 2028 base 4 + O 5 (5) + 11 in
    service (33) = 38; c(A) = 46. B alone: 2026 O 5 (5) + 5 (25) = 30; 2028 O 5 + 15 (75)
    = 80; c(B) = 110. Together: 2026 base 4 + O 10 (10) + A 6 (18) = 28; 2028 base 4 + O 10
    (10) + A 16 (48) + B 10 (50) = 108; c(AB) = 136.
    """
    from solver import share

    case = load_case(write_case(tmp_path / "case", **GAME)).with_overrides(
        {"objective.shortage_cost": 100.0})
    result = share(case, out=tmp_path / "out")
    c = dict(zip(result.groups["group"], result.groups["cost"], strict=True))
    assert c == pytest.approx({"A": 46.0, "B": 110.0, "A+B": 136.0})
    assert c["A+B"] == pytest.approx(solve(case).objective)
    assert set(result.groups["status"]) == {"optimal"}
    assert result.summary["grand_priced_cost"] == pytest.approx(136.0)
    players = result.players.set_index("player")
    assert players.at["A", "shapley"] == pytest.approx(46.0 - 10.0)
    # Sampled, the separation MIP (one period) is not used: the verdict says why.
    sampled = share(case, exact_up_to=1, samples=10)
    assert "one period" in sampled.summary["stability"]["checked"]
    assert sampled.summary["core_empty"] is None


def test_share_on_a_pathway_prices_the_rules_a_group_cannot_meet(tmp_path: Path) -> None:
    """Three suppliers of chips: alone, A has two (A, O), B none outside it can host.

    A lacks one supplier in each period, priced at 100 * D_l(A) / 3: 1000/3 in 2026 and
    2000/3 in 2028, 1000 on top of its 46; B the same on top of 110. The members outside a
    group host nothing (not even at zero capacity), so a missing supplier cannot be bought
    for free.
    """
    from solver import share

    tables = {**GAME, "layers": "layer,min_supplier_share,min_suppliers\nchips,0,3\n"}
    case = load_case(write_case(tmp_path / "case", **tables)).with_overrides(
        {"objective.shortage_cost": 100.0})
    groups = share(case).groups.set_index("group")
    assert groups["cost"].to_dict() == pytest.approx({"A": 1046.0, "B": 1110.0,
                                                      "A+B": 136.0})
    assert groups["shortfall_cost"].to_dict() == pytest.approx({"A": 1000.0, "B": 1000.0,
                                                                "A+B": 0.0})


def test_share_on_a_pathway_shares_outside_supply_by_each_period_s_demand(
        tmp_path: Path) -> None:
    """A 2028 target cuts A's demand to 15: O offers A 15/35 of its 10 that year, not 1/2.

    O's builds serve both periods and cannot leave service, so it builds only the 30/7 it
    may hold in 2028. A alone: 2026 base 4 + O 30/7 (at 1) + 6 - 30/7 of its own (at 3) =
    18 - 60/7; 2028 base 4 + O 30/7 + 11 - 30/7 of its own = 33 - 60/7; c(A) = 51 - 120/7
    (with half of O in both periods, as a base-year share would give, 31). The rows a
    target names are the whole coalition's.
    """
    from solver import share

    folder = write_case(tmp_path / "case", **GAME,
                        targets='period,set\n2028,"demand[A,chips].demand=15"\n')
    case = load_case(folder).with_overrides({"objective.shortage_cost": 100.0})
    result = share(case)
    c = result.groups.set_index("group")["cost"]
    assert c["A"] == pytest.approx(51.0 - 120.0 / 7.0)
    assert c["A+B"] == pytest.approx(solve(case).objective)
    # The proportional split weighs each period's demand: A 10 + 15, B 10 + 20.
    split = result.players.set_index("player")["proportional"]
    assert split["A"] == pytest.approx(c["A+B"] * 25.0 / 55.0)


# A chain: members A and B buy chips, which need power (one unit a unit); O, outside,
# supplies power. Power needs two suppliers: A's own and O's. Alone, a group's share of O's
# power is D_power(S) / D_power(N) of final demand: none (power has no final demand), as in
# the one-period game, so O cannot count as a second supplier of power for nothing.
CHAIN_GAME = {"partners": "partner,member\nA,true\nB,true\nO,false\n",
              "layers": "layer,min_supplier_share,min_suppliers\nchips,0,1\npower,0,2\n",
              "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,2\n"
                              "B,chips,100,3\nA,power,100,1\nO,power,100,1\n",
              "demand": "member,layer,demand\nA,chips,10\nB,chips,10\n",
              "inputs": "layer,input,per_unit\nchips,power,1\n"}


def test_a_one_period_pathway_plays_the_one_period_game(tmp_path: Path) -> None:
    """Every c(S) of a pathway of one period equals the one-period game's, on a chain."""
    from solver import share

    plain = load_case(write_case(tmp_path / "plain", **CHAIN_GAME))
    path = load_case(write_case(tmp_path / "path", **CHAIN_GAME,
                                periods="period,year\n2026,2026\n"))
    price = {"objective.shortage_cost": 100.0, "solver.mip_gap": 0.0}
    one = share(plain.with_overrides(price)).groups.set_index("group")
    many = share(path.with_overrides(price)).groups.set_index("group")
    assert many["cost"].to_dict() == pytest.approx(one["cost"].to_dict())
    assert many["shortfall_cost"].to_dict() == pytest.approx(one["shortfall_cost"].to_dict())
    # Alone, each lacks power's second supplier: it pays for it.
    assert one.at["A", "shortfall_cost"] > 0
