"""The stack as a chain (README, The stack as a chain): inputs.csv, per-layer trade, the model.

Tiny cases whose optimum is computed by hand in the comment above each test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import Case, load_case, solve
from solver.cli import main
from solver.errors import CaseError

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Cloud (final demand 10) needs 0.5 chips (from anywhere) and 0.5 power (local) per unit;
# chips need 0.2 power. A and B are one bloc, C another.
CHAIN = {
    "partners": "partner,bloc\nA,x\nB,x\nC,y\n",
    "layers": """
        layer,demand,min_supplier_share
        chips,0,0
        cloud,10,0
        power,0,0
        """,
    "capabilities": """
        partner,layer,capacity,unit_cost
        A,chips,100,1
        B,cloud,100,1
        C,cloud,100,5
        A,power,100,1
        B,power,3,1
        C,power,100,1
        """,
    "inputs": """
        layer,input,per_unit,source
        cloud,chips,0.5,any
        cloud,power,0.5,local
        chips,power,0.2,
        """,
}


def chain_case(tmp_path: Path, **tables: str) -> Case:
    return load_case(write_case(tmp_path / "case", **{**CHAIN, **tables}))


def problems(tmp_path: Path, **tables: str) -> list[str]:
    with pytest.raises(CaseError) as err:
        chain_case(tmp_path, **tables)
    return [str(p) for p in err.value.problems]


def test_total_requirement_and_local_power(tmp_path: Path) -> None:
    # D: cloud 10; chips 0.5*10 = 5; power 0.5*10 + 0.2*5 = 6. B's power (3) is local to B's
    # cloud, so B makes at most 6 cloud; C makes the other 4 at 5 per unit. Capacity cost:
    # chips 5*1, cloud 6*1 + 4*5, power 6*1 = 37.
    result = solve(chain_case(tmp_path), mip_gap=0.0)
    assert result.verified, result.violations
    assert result.objective == pytest.approx(37.0)
    layers = result.layers.set_index("layer")
    assert layers["total_requirement"].to_dict() == pytest.approx(
        {"chips": 5.0, "cloud": 10.0, "power": 6.0})
    assert layers["final_demand"].to_dict() == pytest.approx(
        {"chips": 0.0, "cloud": 10.0, "power": 0.0})
    supplied = result.allocation.set_index(["partner", "layer"])["supplied"]
    assert supplied[("B", "cloud")] == pytest.approx(6.0)
    assert supplied[("C", "cloud")] == pytest.approx(4.0)
    assert supplied[("A", "chips")] == pytest.approx(5.0)
    inputs = result.inputs
    assert inputs is not None
    row = inputs.set_index(["partner", "layer", "input"]).loc[("C", "cloud", "chips")]
    assert row["required"] == pytest.approx(2.0)
    assert row["imported"] == pytest.approx(2.0)  # from A, of another bloc
    assert row["largest_source"] == "A"


def test_source_bloc_keeps_an_input_in_the_bloc(tmp_path: Path) -> None:
    # Chips only within the bloc: C (bloc y) cannot get chips, so B makes all 10 cloud; its
    # power is local and capped at 3, so B makes at most 6: infeasible without shortage. With
    # shortage at 100 per unit, 4 go unmet: capacity chips 3 + cloud 6 + power 3.6 + 360.
    inputs = CHAIN["inputs"].replace("cloud,chips,0.5,any", "cloud,chips,0.5,bloc")
    case = chain_case(tmp_path, inputs=inputs).with_overrides(
        {"objective.shortage_cost": 100})
    result = solve(case, mip_gap=0.0)
    assert result.verified, result.violations
    assert result.objective == pytest.approx(3.0 + 6.0 + 3.6 + 400.0)
    assert result.shortage is not None
    assert float(result.shortage["unmet"].sum()) == pytest.approx(4.0)


def test_trade_row_for_one_layer_overrides_the_route(tmp_path: Path) -> None:
    # A -> C costs 1 per unit for every layer but chips, for which the route is closed: C
    # cannot make cloud, so only B does (6 at most): the chain is short without shortage.
    trade = "exporter,importer,layer,unit_cost,allowed\nA,C,,1,true\nA,C,chips,0,false\n"
    case = chain_case(tmp_path, trade=trade).with_overrides({"objective.shortage_cost": 100})
    result = solve(case, mip_gap=0.0)
    assert result.verified, result.violations
    assert result.input_flows is not None
    to_c = result.input_flows[result.input_flows["importer"] == "C"]
    assert to_c.empty
    # Opening chips on that route by override: C is served again, at the route's cost 0.
    opened = case.with_overrides({"trade[A,C,chips].allowed": True})
    result = solve(opened, mip_gap=0.0)
    assert result.verified and result.objective == pytest.approx(37.0)
    # trade[A,C] is the route's row without a layer: its cost reaches no chips flow.
    priced = case.with_overrides({"trade[A,C,chips].allowed": True,
                                  "trade[A,C].unit_cost": 50})
    assert solve(priced, mip_gap=0.0).objective == pytest.approx(37.0)
    costly = case.with_overrides({"trade[A,C,chips].allowed": True,
                                  "trade[A,C,chips].unit_cost": 2})
    # 2 chips to C at 2: 37 + 4.
    assert solve(costly, mip_gap=0.0).objective == pytest.approx(41.0)


def test_override_reaches_input_coefficients(tmp_path: Path) -> None:
    case = chain_case(tmp_path).with_overrides(["inputs[cloud,chips].per_unit*=2"])
    assert case.inputs is not None
    row = case.inputs.set_index(["layer", "input"]).loc[("cloud", "chips")]
    assert row["per_unit"] == pytest.approx(1.0)
    # chips 10, power 5 + 2 = 7: capacity chips 10, cloud 26, power 7.
    assert solve(case, mip_gap=0.0).objective == pytest.approx(43.0)
    with pytest.raises(CaseError, match=r"inputs\[cloud,energy\]\.per_unit names no row"):
        case.with_overrides(["inputs[cloud,energy].per_unit=1"])


def test_without_inputs_the_tables_are_as_before(tmp_path: Path) -> None:
    tables = {k: v for k, v in CHAIN.items() if k != "inputs"}
    result = solve(load_case(write_case(tmp_path / "plain", **tables)), mip_gap=0.0)
    assert result.input_flows is None and result.inputs is None
    assert "total_requirement" not in result.layers
    assert result.objective == pytest.approx(10.0)


@pytest.mark.parametrize(("inputs", "message"), [
    ("layer,input,per_unit\ncloud,gpu,0.5\n",
     "inputs.csv, line 2, column input: 'gpu': names no layer of layers.csv"),
    ("layer,input,per_unit\ncloud,chips,0.5\ncloud,chips,0.2\n",
     "inputs.csv, line 3, column layer,input: 'cloud,chips': duplicate key (layer, input); "
     "first given on line 2"),
    ("layer,input,per_unit\ncloud,chips,-0.5\n",
     "inputs.csv, line 2, column per_unit: '-0.5': out of range: must be >= 0"),
    ("layer,input,per_unit,source\ncloud,chips,0.5,abroad\n",
     "inputs.csv, line 2, column source: 'abroad': not a source: one of any, bloc, local"),
    ("layer,input,per_unit\ncloud,chips,0.5\nchips,power,0.1\npower,cloud,25\n",
     "the cycle chips -> power -> cloud -> chips needs more of these layers than it makes"),
    ("layer,input,per_unit\npower,power,1\n",
     "the cycle power -> power needs more"),
])
def test_bad_inputs_are_one_clear_problem(tmp_path: Path, inputs: str, message: str) -> None:
    found = problems(tmp_path, inputs=inputs)
    assert len(found) == 1, found
    assert message in found[0], found


def test_unproductive_chain_exits_2_naming_the_cycle(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **{
        **CHAIN, "inputs": "layer,input,per_unit\ncloud,power,2\npower,cloud,0.6\n"})
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "inputs.csv, line 2, column per_unit" in result.output + result.stderr
    assert "spectral radius 1.095 >= 1" in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_trade_layer_names_a_layer(tmp_path: Path) -> None:
    found = problems(tmp_path, trade="exporter,importer,layer\nA,C,gpu\n")
    assert found == ["trade.csv, line 2, column layer: 'gpu': names no layer of layers.csv"]


def test_workbook_case_with_inputs(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **CHAIN)
    book = tmp_path / "case.xlsx"
    with pd.ExcelWriter(book) as writer:
        for csv in sorted(folder.glob("*.csv")):
            pd.read_csv(csv, dtype=str, keep_default_na=False).to_excel(
                writer, sheet_name=csv.stem, index=False)
    assert solve(load_case(book), mip_gap=0.0).objective == pytest.approx(37.0)
    bad = tmp_path / "bad.xlsx"
    with pd.ExcelWriter(bad) as writer:
        for csv in sorted(folder.glob("*.csv")):
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
            if csv.stem == "inputs":
                frame.loc[0, "source"] = "abroad"
            frame.to_excel(writer, sheet_name=csv.stem, index=False)
    with pytest.raises(CaseError) as err:
        load_case(bad)
    assert "sheet inputs, row 2, column source" in str(err.value.problems[0])


def test_checker_recomputes_the_chain(tmp_path: Path) -> None:
    case = chain_case(tmp_path)
    out = solve(case, mip_gap=0.0).write(tmp_path / "run")
    invoke = CliRunner().invoke
    assert invoke(main, ["check", str(tmp_path / "case"), str(out)]).exit_code == 0
    # A plan that gives C's cloud power from A breaks C's local rule and A's balance.
    flows = pd.read_csv(out / "input_flows.csv")
    flows.loc[(flows["importer"] == "C") & (flows["input"] == "power"), "exporter"] = "A"
    tampered = tmp_path / "tampered"
    shutil.copytree(out, tampered)
    flows.to_csv(tampered / "input_flows.csv", index=False)
    result = invoke(main, ["check", str(tmp_path / "case"), str(tampered)])
    assert result.exit_code == 5
    text = result.output + result.stderr
    assert "the input must be local (source = local)" in text
    assert "supplied: allocation.csv says A supplies 1 units, its flows sum to 3" in text
    # Input flows that do not balance C's production.
    short = tmp_path / "short"
    shutil.copytree(out, short)
    flows = pd.read_csv(out / "input_flows.csv")
    flows = flows[~((flows["importer"] == "C") & (flows["input"] == "chips"))]
    flows.to_csv(short / "input_flows.csv", index=False)
    result = invoke(main, ["check", str(tmp_path / "case"), str(short)])
    assert result.exit_code == 5
    assert "input_balance: C supplies 4 units, which need 2 of chips; it receives 0" in \
        result.output + result.stderr
    # The summary's trade term counts input flows: a route cost the summary leaves out fails.
    summary = json.loads((out / "summary.json").read_text())
    assert summary["costs"]["trade"] == pytest.approx(0.0)


def test_without_inputs_the_model_is_the_one_before_the_chain(tmp_path: Path) -> None:
    # Measured with the code before inputs.csv existed, on the same generated case.
    from solver.case.generate import generate_case

    folder = tmp_path / "gen"
    generate_case(8, 4, 3, 7, folder)
    result = solve(load_case(folder), mip_gap=0.0)
    size = result.summary["size"]
    assert (size["variables"], size["binaries"], size["constraints"], size["nonzeros"]) == (
        120, 22, 127, 348)
    assert result.objective == pytest.approx(1319.8486796490427, rel=1e-9)
    # An inputs.csv whose coefficients are all zero changes nothing either.
    (folder / "inputs.csv").write_text("layer,input,per_unit\nL001,L002,0\n", encoding="utf-8")
    again = solve(load_case(folder), mip_gap=0.0)
    assert again.summary["size"] == size
    assert again.objective == pytest.approx(result.objective, rel=1e-12)


def test_model_file_names_the_chain(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **{k: v for k, v in CHAIN.items() if k != "inputs"})
    (tmp_path / "chain").mkdir()
    (tmp_path / "chain" / "inputs.csv").write_text(
        "layer,input,per_unit,source\ncloud,chips,0.5,any\ncloud,power,0.5,local\n"
        "chips,power,0.2,any\n", encoding="utf-8")
    models = tmp_path / "models"
    models.mkdir()
    model = models / "chained.toml"
    model.write_text(f'case = "../{folder.name}"\n[chain]\nfile = "../chain/inputs.csv"\n',
                     encoding="utf-8")
    assert solve(load_case(model), mip_gap=0.0).objective == pytest.approx(37.0)
    (tmp_path / "chain" / "inputs.csv").write_text(
        "layer,input,per_unit,source\ncloud,chips,0.5,abroad\n", encoding="utf-8")
    with pytest.raises(CaseError) as err:
        load_case(model)
    assert [str(p) for p in err.value.problems] == [
        "inputs.csv, line 2, column source: 'abroad': not a source: one of any, bloc, local"]


def test_shocks_cascade_in_stress(tmp_path: Path) -> None:
    # A is the only chip maker: losing it leaves all of cloud's 10 unmet, although no cloud
    # host is lost, all of it through a missing input. Losing B leaves the 6 it made unmet
    # (the design's capacity is fixed: C built only 4), none of it through inputs.
    from solver.studies.shocks.stress import stress

    table = stress(chain_case(tmp_path)).set_index(["lost", "scope", "layer"])
    assert table.loc[("A", "layer", "cloud"), "unmet"] == pytest.approx(10.0)
    assert table.loc[("A", "layer", "cloud"), "through_inputs"] == pytest.approx(10.0)
    assert table.loc[("A", "total", ""), "through_inputs"] == pytest.approx(10.0)
    assert table.loc[("B", "layer", "cloud"), "unmet"] == pytest.approx(6.0)
    assert table.loc[("B", "layer", "cloud"), "through_inputs"] == pytest.approx(0.0)


def test_shocks_cascade_in_scenarios(tmp_path: Path) -> None:
    # A keeps half its capacity (2.5 chips of the 5 it built, 50 power): C's 4 cloud need 2
    # chips, B's 6 need 3: 2.5 chips make 5 cloud, 5 short through the input. Closing the
    # route A -> C for chips alone leaves C without chips: its 4 go unmet.
    scenarios = ("scenario,probability,partner,layer,exporter,importer,capacity_factor\n"
                 "half_chips,0.1,A,chips,,,0.5\n"
                 "no_chips_to_c,0.1,,chips,A,C,\n")
    result = solve(chain_case(tmp_path, scenarios=scenarios), mip_gap=0.0)
    assert result.scenarios is not None
    rows = result.scenarios.set_index("scenario")
    assert rows.loc["half_chips", "unmet"] == pytest.approx(5.0)
    assert rows.loc["half_chips", "through_inputs"] == pytest.approx(5.0)
    assert rows.loc["no_chips_to_c", "unmet"] == pytest.approx(4.0)
    assert rows.loc["no_chips_to_c", "through_inputs"] == pytest.approx(4.0)


GAME = {
    "partners": "partner,member\nX,true\nY,true\n",
    "layers": "layer,min_supplier_share\ncloud,0\npower,0\n",
    "capabilities": """
        partner,layer,capacity,unit_cost
        X,cloud,100,1
        Y,cloud,100,3
        Y,power,100,1
        """,
    "demand": "member,layer,demand\nX,cloud,10\nY,cloud,10\n",
    "inputs": "layer,input,per_unit\ncloud,power,0.5\n",
}


def test_share_a_group_needs_its_own_inputs(tmp_path: Path) -> None:
    # Together: X makes all 20 cloud at 1 with Y's 10 power at 1: 30. Y alone makes its 10
    # cloud at 3 and 5 power: 35. X alone has no power: like any requirement a group cannot
    # meet, the 5 units of power its 10 cloud need are priced at shortage_cost (25, buying
    # them outside), and so is the power supplier it lacks (D_power / min_suppliers = 5
    # units, 25): 10 + 25 + 25 = 60, cheaper than leaving its cloud unmet (50 + 25).
    from solver.studies.game.share import share

    case = load_case(write_case(tmp_path / "game", **GAME)).with_overrides(
        {"objective.shortage_cost": 5})
    result = share(case)
    groups = result.groups.set_index("group")
    assert groups.loc["X", "cost"] == pytest.approx(60.0)
    assert groups.loc["Y", "cost"] == pytest.approx(35.0)
    assert groups.loc["X+Y", "cost"] == pytest.approx(30.0)
    assert set(groups["status"]) == {"optimal"}


def test_explain_names_an_input_that_cannot_be_served(tmp_path: Path) -> None:
    # B's cloud needs local power and B can build 3: at most 6 of the 10 units of cloud C
    # cannot make (C is gone), so the chain cannot hold.
    caps = CHAIN["capabilities"].replace("C,cloud,100,5\n", "")
    folder = write_case(tmp_path / "case", **{**CHAIN, "capabilities": caps})
    result = CliRunner().invoke(main, ["explain", str(folder)])
    assert result.exit_code == 3, result.output
    assert "partner B, layer cloud: 0.5 power per unit (power for cloud in B must be local) " \
        "cannot hold; B can build at most 3 of power (short by 2)" in result.output


def test_export_names_input_flows_and_balances(tmp_path: Path) -> None:
    import highspy

    from solver.highs.export import export_model

    out = tmp_path / "chain.mps"
    export_model(chain_case(tmp_path), out)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    assert h.readModel(str(out)) == highspy.HighsStatus.kOk
    h.setOptionValue("mip_rel_gap", 0.0)
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(37.0)
    assert "g[A,B,cloud,chips]" in h.getLp().col_names_
    assert "input_balance[B,cloud,chips]" in h.getLp().row_names_


def test_report_draws_the_chain_and_every_desk_command_works(tmp_path: Path) -> None:
    invoke = CliRunner().invoke
    case = tmp_path / "case"
    write_case(case, **CHAIN)
    run = tmp_path / "run"
    result = invoke(main, ["solve", str(case), "--out", str(run), "--report",
                           "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    page = (run / "report.html").read_text(encoding="utf-8")
    assert '<section id="chain">' in page
    assert 'aria-label="the chain: value flowing from layer to layer"' in page
    # chips -> cloud: 5 (0.5 of B's 6 and C's 4 cloud); power -> cloud 5, power -> chips 1.
    assert "<td>chips</td><td>cloud</td><td class=\"num\">5</td>" in page
    book = pd.ExcelFile(run / "run.xlsx")
    assert {"input_flows", "inputs"} <= set(book.sheet_names)
    # compare: the chain with a dearer chip coefficient against the plan above.
    other = tmp_path / "other"
    assert invoke(main, ["solve", str(case), "--out", str(other), "--set",
                         "inputs[cloud,chips].per_unit=0.6"]).exit_code == 0
    compared = invoke(main, ["compare", str(run), str(other), "--out",
                             str(tmp_path / "compare.csv")])
    assert compared.exit_code == 0, compared.output
    assert "capacity" in compared.output


def test_sweep_and_alternatives_through_the_chain(tmp_path: Path) -> None:
    # Cloud demand 10 and 20 (numbers only: D follows through the Leontief inverse on the
    # persistent model), and the chip coefficient 0.5 and 1 (a rebuild): each point is the
    # optimum of its own case.
    from solver import alternatives, sweep

    case = chain_case(tmp_path)
    table = sweep(case, ["layers.demand*=1,2", "inputs.per_unit*=1,2"], plots=False)
    assert set(table["status"]) == {"optimal"}
    assert table["verified"].all(), table["reason"].tolist()
    for row in table.itertuples():
        values = table.loc[row.Index]
        point = case.with_overrides([f"layers.demand*={values['layers.demand*']}",
                                     f"inputs.per_unit*={values['inputs.per_unit*']}"])
        assert row.objective == pytest.approx(solve(point, mip_gap=0.0).objective, rel=1e-6)
    # Demand alone: one persistent model, D_l an expression of the demand parameters.
    table = sweep(case, ["layers.demand*=1,2,3"], plots=False)
    assert not table["rebuilt"].iloc[-1] and table["verified"].all()
    for row in table.itertuples():
        point = case.with_overrides([f"layers.demand*={table.loc[row.Index, 'layers.demand*']}"])
        assert row.objective == pytest.approx(solve(point, mip_gap=0.0).objective, rel=1e-6)
    found = alternatives(case, slack=0.5, count=1, plots=False)
    assert len(found.plans) >= 1


def test_shocks_cascade_in_random_draws(tmp_path: Path) -> None:
    # A (the only chip maker) is lost in every draw: all of cloud's 10 go unmet each time,
    # though no cloud host is lost.
    from solver.studies.shocks.monte_carlo import sample

    case = chain_case(tmp_path)
    plan = solve(case, mip_gap=0.0)
    lossy = case.with_overrides({"partners[A].disruption_risk": 1.0})
    result = sample(lossy, 4, seed=1, allocation=plan.allocation, out=tmp_path / "mc")
    assert list(result.draws["lost"]) == ["A"] * 4
    assert list(result.draws["unmet_cloud"]) == pytest.approx([10.0] * 4)
    # All of it through the missing chips, in each draw and in the distribution.
    assert list(result.draws["through_inputs"]) == pytest.approx([10.0] * 4)
    assert list(result.draws["through_cloud"]) == pytest.approx([10.0] * 4)
    dist = result.distribution.set_index("layer")["through_inputs_mean"]
    assert dist.to_dict() == pytest.approx({"": 10.0, "chips": 0.0, "cloud": 10.0,
                                           "power": 0.0})
    # A resumed sample reads the through-inputs columns back from draws.csv.
    again = sample(lossy, 4, seed=1, allocation=plan.allocation, out=tmp_path / "mc",
                   resume=True)
    assert list(again.draws["through_cloud"]) == pytest.approx([10.0] * 4)


RATIONED = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand,min_supplier_share\nchips,10,0\ncloud,10,0\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,cloud,100,1\n",
    "inputs": "layer,input,per_unit\ncloud,chips,0.5\n",
    "scenarios": ("scenario,probability,partner,layer,exporter,importer,capacity_factor\n"
                  "fab_fire,0.1,A,chips,,,0.6\n"),
}


def test_a_short_layer_is_rationed_between_final_demand_and_its_users(tmp_path: Path) -> None:
    # D: chips 10 + 0.5 * 10 = 15. A fire leaves 9 of A's 15 chips. Shared in proportion
    # to the planned claims (10 final, 5 for cloud): 6 to chip buyers (4 unmet) and 3 to
    # cloud, which makes 6 of its 10 (4 unmet, all through the missing input). Serving chip
    # buyers first would leave cloud 10 unmet; feeding cloud first, chip buyers 6.
    from solver.studies.shocks.stress import stress

    case = load_case(write_case(tmp_path / "case", **RATIONED))
    result = solve(case, mip_gap=0.0)
    assert result.scenarios is not None
    row = result.scenarios.set_index("scenario").loc["fab_fire"]
    assert row["unmet"] == pytest.approx(8.0)
    assert row["through_inputs"] == pytest.approx(4.0)
    assert row["worst_layer_share"] == pytest.approx(0.4)
    # Losing A: no chips, so no cloud either; losing B costs cloud alone.
    table = stress(case, result=result).set_index(["lost", "scope", "layer"])
    assert table.loc[("A", "layer", "cloud"), "unmet"] == pytest.approx(10.0)
    assert table.loc[("A", "layer", "cloud"), "through_inputs"] == pytest.approx(10.0)
    assert table.loc[("A", "layer", "chips"), "through_inputs"] == pytest.approx(0.0)
    assert table.loc[("B", "layer", "chips"), "unmet"] == pytest.approx(0.0)
    assert table.loc[("B", "layer", "cloud"), "through_inputs"] == pytest.approx(0.0)
