"""The checker has no blind spots: every cell of a run folder that carries meaning is checked.

Three small run folders (a plan with scenarios re-routed, a two-stage design, a near-optimal
alternative) are read once; then each column of each table, and each claim of summary.json,
is corrupted in turn in memory (a word for a number, a negative number, another number, an
unknown id, a flipped bool) and the checker must reject every corruption.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case
from solver.case.options import ScenarioOptions
from solver.check.case_data import CaseData
from solver.check.run import check_run, check_solution, provenance_note, read_table
from solver.cli import main

try:
    from cases import DEMAND, LAYERS_NO_DEMAND, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import DEMAND, LAYERS_NO_DEMAND, write_case

SCENARIOS = ("scenario,probability,partner,exporter,importer,capacity_factor\n"
             "lossA,0.1,A,,,0\nhalfB,0.2,B,,,0.5\nroute,0.05,,B,A,\n")
TABLES = ("allocation", "flows", "layers", "partners", "shortage", "scenario_flows",
          "scenarios")
#: Written for people or provenance, not claims about the plan.
NOT_CLAIMS = {"seconds", "size", "case", "case_sha256", "version", "overrides", "solver",
              "verified", "strengthen"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    """name -> (case, run folder): re-routed scenarios, a two-stage design, an alternative."""
    root = tmp_path_factory.mktemp("mutations")
    folder = write_case(root / "case", layers=LAYERS_NO_DEMAND, demand=DEMAND,
                        scenarios=SCENARIOS)
    out: dict[str, tuple[Any, Path]] = {}
    res = CliRunner().invoke(main, ["solve", str(folder), "--out", str(root / "rerouted"),
                                    "--set", "objective.shortage_cost=10"])
    assert res.exit_code == 0, res.output
    case = load_case(folder).with_overrides(["objective.shortage_cost=10"])
    out["rerouted"] = (case, root / "rerouted")
    res = CliRunner().invoke(main, ["solve", str(folder), "--out", str(root / "design"),
                                    "--set", "objective.shortage_cost=10",
                                    "--design", "expected"])
    assert res.exit_code == 0, res.output
    designed = replace(case, scenario_options=ScenarioOptions(design="expected"))
    out["design"] = (designed, root / "design")
    res = CliRunner().invoke(main, ["alternatives", str(folder), "--count", "1",
                                    "--set", "objective.shortage_cost=10",
                                    "--out", str(root / "alt")])
    assert res.exit_code == 0, res.output
    out["alternative"] = (case, root / "alt" / "alternative-1")
    return out


def tables_of(run: Path) -> dict[str, pd.DataFrame]:
    found = {}
    for name in TABLES:
        if (run / f"{name}.csv").is_file():
            frame = read_table(run / f"{name}.csv", [])
            assert frame is not None
            found[name] = frame
    return found


def check(case: Any, data: CaseData, tables: dict[str, pd.DataFrame],
          summary: dict[str, Any]) -> list[Any]:
    return check_solution(case, tables["allocation"], tables["flows"], summary,
                          layers=tables["layers"], partners=tables["partners"],
                          shortage=tables.get("shortage"),
                          scenario_flows=tables.get("scenario_flows"),
                          scenarios=tables.get("scenarios"), data=data)


def cell_mutations(value: str) -> Iterator[tuple[str, str]]:
    """Corruptions of one cell, each named."""
    try:
        x = float(value)
    except ValueError:
        x = None
    if x is None and value.lower() in ("true", "false"):
        yield "flipped", "False" if value.lower() == "true" else "True"
    elif x is not None:
        yield "a word", "abc"
        yield "another number", repr(x * 1.5 + 1.0)
        if x != 0:
            yield "negative", repr(-x)
    elif value:
        yield "an unknown id", "ZZ"


def summary_mutations(summary: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Corruptions of each claim of summary.json, nested ones included."""
    def walk(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, (*path, str(k)))
        else:
            yield path, node

    for path, value in walk(summary, ()):
        if path[0] in NOT_CLAIMS:
            continue
        if isinstance(value, bool):
            changed: list[Any] = [not value]
        elif isinstance(value, int | float):
            changed = [value * 1.5 + 1.0, "abc"] + ([-value] if value else [])
        else:
            changed = ["abc"]
        for new in changed:
            mutated = copy.deepcopy(summary)
            node = mutated
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = new
            yield f"{'.'.join(path)} = {new!r}", mutated


@pytest.mark.parametrize("kind", ["rerouted", "design", "alternative"])
def test_every_corruption_of_a_run_folder_is_rejected(runs: dict[str, tuple[Any, Path]],
                                                      kind: str) -> None:
    case, run = runs[kind]
    assert check_run(case, run) == []
    tables = tables_of(run)
    summary = json.loads((run / "summary.json").read_text())
    data = CaseData.of(case)
    assert check(case, data, tables, summary) == []
    passed = []
    tried = 0
    for name, frame in tables.items():
        if frame.empty or (kind == "design" and name not in ("scenario_flows", "scenarios")):
            continue  # a design's plan tables are those of the other kinds
        for col in frame.columns:
            nonzero = frame.index[~frame[col].isin(["", "0", "0.0", "False"])]
            row = nonzero[0] if len(nonzero) else frame.index[0]
            if kind != "design" and (name, col) == ("scenarios", "rerouted"):
                continue  # the LP's choice among equally good routings: not unique
            for what, new in cell_mutations(str(frame.at[row, col])):
                mutated = dict(tables)
                mutated[name] = frame.copy()
                mutated[name].at[row, col] = new
                tried += 1
                if not check(case, data, mutated, summary):
                    passed.append(f"{name}.csv line {row + 2} column {col}: {what} ({new})")
    for what, mutated_summary in summary_mutations(summary):
        tried += 1
        if not check(case, data, tables, mutated_summary):
            passed.append(f"summary.json {what}")
    assert tried > 40
    assert passed == [], (f"{len(passed)} of {tried} corruptions passed the checker: "
                          + "; ".join(passed))


def test_a_design_solved_with_the_option_is_checked_with_the_same_model_file(
        runs: dict[str, tuple[Any, Path]]) -> None:
    # The case as loaded (its [scenarios] design is none); the run says it was designed.
    case, run = runs["design"]
    plain = replace(case, scenario_options=ScenarioOptions())
    assert check_run(plain, run) == []
    assert provenance_note(plain, run) is None  # the fingerprint covers the design solved
    summary = json.loads((run / "summary.json").read_text())
    assert summary["design"]["design"] == "expected"


def solved(folder: Path, price: float | None
           ) -> tuple[Any, dict[str, pd.DataFrame], dict[str, Any]]:
    """The case in ``folder`` solved into ``folder/run`` (at ``price`` per unit unmet)."""
    over = [] if price is None else [f"objective.shortage_cost={price}"]
    run = folder / "run"
    res = CliRunner().invoke(main, ["solve", str(folder), "--out", str(run), *(
        ["--set", *over] if over else [])])
    assert res.exit_code == 0, res.output
    tables = tables_of(run)
    if (run / "input_flows.csv").is_file():
        found = read_table(run / "input_flows.csv", [])
        assert found is not None
        tables["input_flows"] = found
    summary = json.loads((run / "summary.json").read_text())
    return load_case(folder).with_overrides(over), tables, summary


def lie_about_unmet(table: pd.DataFrame, scenario: str, unmet: float, final: float,
                    layer_final: float, price: float | None) -> pd.DataFrame:
    """scenarios.csv with one scenario claiming ``unmet``, every other column consistent."""
    out = table.copy()
    at = out.index[out["scenario"] == scenario][0]
    out.loc[at, ["unmet", "unmet_share", "worst_layer_unmet", "worst_layer_share"]] = [
        repr(unmet), repr(unmet / final), repr(unmet), repr(unmet / layer_final)]
    if price is not None:
        cost = repr(price * unmet + float(out.at[at, "trade_cost"]))
        out.loc[at, ["shortage_cost", "second_stage_cost"]] = [repr(price * unmet), cost]
    return out


@pytest.mark.parametrize("price", [10.0, None])
def test_a_consistent_but_false_scenario_outcome_is_rejected(tmp_path: Path,
                                                             price: float | None) -> None:
    # Losing A leaves 60 chips unmet (of 100 chips, 150 in all) however the plan re-routes.
    # Claiming 50 with every other cell of the row made to agree passed the checker when it
    # only held the row to itself; its own re-routing LP finds 60 the least unmet.
    folder = write_case(tmp_path / "case", layers=LAYERS_NO_DEMAND, demand=DEMAND,
                        scenarios=SCENARIOS)
    case, tables, summary = solved(folder, price)
    data = CaseData.of(case)
    assert check(case, data, tables, summary) == []
    row = tables["scenarios"].set_index("scenario").loc["lossA"]
    assert float(row["unmet"]) == pytest.approx(60.0)
    for claimed in (50.0, 70.0):
        lied = {**tables, "scenarios": lie_about_unmet(tables["scenarios"], "lossA", claimed,
                                                       150.0, 100.0, price)}
        found = check(case, data, lied, summary)
        assert len(found) == 1 and "scenario lossA" in found[0].message, found
    # More re-routed than all the flows of the scenario (150 less 60 unmet) is impossible.
    lied = {**tables, "scenarios": tables["scenarios"].copy()}
    lied["scenarios"].loc[lied["scenarios"]["scenario"] == "lossA", "rerouted"] = "91"
    assert any("rerouted" in v.message for v in check(case, data, lied, summary))


@pytest.mark.parametrize("price", [10.0, None])
def test_a_false_cascade_is_rejected(tmp_path: Path, price: float | None) -> None:
    # The chain of tests/test_chain.py: A is the only chip maker; half its chips make 5 of
    # cloud's 10, so 5 go unmet, all of it through the missing input.
    try:
        from test_chain import CHAIN
        from tiny import write_case as write_tiny
    except ModuleNotFoundError:  # tests/ imported as a package
        from tests.test_chain import CHAIN
        from tests.tiny import write_case as write_tiny

    scenarios = ("scenario,probability,partner,layer,capacity_factor\n"
                 "half_chips,0.1,A,chips,0.5\n")
    folder = write_tiny(tmp_path / "case", **CHAIN, scenarios=scenarios)
    case, tables, summary = solved(folder, price)
    data = CaseData.of(case)

    def verdict(scen: pd.DataFrame) -> list[Any]:
        return check_solution(case, tables["allocation"], tables["flows"], summary,
                              layers=tables["layers"], partners=tables["partners"],
                              shortage=tables.get("shortage"), scenarios=scen,
                              input_flows=tables["input_flows"], data=data)

    assert verdict(tables["scenarios"]) == []
    row = tables["scenarios"].set_index("scenario").loc["half_chips"]
    assert (float(row["unmet"]), float(row["through_inputs"])) == pytest.approx((5.0, 5.0))
    # Cloud served in full (chips short, no cascade): the old rule's answer.
    assert verdict(lie_about_unmet(tables["scenarios"], "half_chips", 0.0, 10.0, 10.0,
                                   price)) != []
    for through in ("0", "6"):  # less than the missing chips cause; more than is unmet
        lied = tables["scenarios"].copy()
        lied["through_inputs"] = through
        assert any("through_inputs" in v.message for v in verdict(lied)), through


def test_an_alternative_distance_is_recomputed_from_its_references(
        runs: dict[str, tuple[Any, Path]]) -> None:
    case, run = runs["alternative"]
    tables = tables_of(run)
    summary = json.loads((run / "summary.json").read_text())
    data = CaseData.of(case)
    note = summary["alternative"]
    optimum = note["references"][0]
    hosted = tables["allocation"][tables["allocation"]["hosted"] == "True"]
    plan = sorted([p, layer] for p, layer in zip(hosted["partner"], hosted["layer"],
                                                 strict=True))
    assert note["distance"] == len({tuple(p) for p in plan} ^ {tuple(p) for p in optimum}) > 0
    pairs = len(tables["allocation"])
    unhosted = next([str(p), str(layer)] for p, layer in
                    zip(tables["allocation"]["partner"], tables["allocation"]["layer"],
                        strict=True) if [p, layer] not in optimum)

    def altered(**changes: Any) -> dict[str, Any]:
        mutated = copy.deepcopy(summary)
        mutated["alternative"].update(changes)
        return mutated

    wrong: dict[str, dict[str, Any]] = {
        f"distance {d}": altered(distance=d) for d in range(pairs + 1) if d != note["distance"]}
    wrong |= {
        "the optimum less a pair": altered(references=[optimum[1:]]),
        "the optimum with a pair more": altered(references=[[*optimum, unhosted]]),
        "a pair of no capability": altered(references=[[*optimum, ["ZZ", "chips"]]]),
        "a pair twice": altered(references=[[*optimum, optimum[0]]]),
        "no reference": altered(references=[]),
        "not a list": altered(references="optimum"),
        "no references key": {**summary, "alternative": {
            k: v for k, v in note.items() if k != "references"}},
        "a pair not of two": altered(references=[[[optimum[0][0]], *optimum[1:]]]),
    }
    passed = [what for what, mutated in wrong.items()
              if not check(case, data, tables, mutated)]
    assert passed == []
    # The nearest reference counts: the plan itself among them makes the distance 0.
    assert check(case, data, tables, altered(references=[optimum, plan], distance=0)) == []
    assert check(case, data, tables, altered(references=[optimum, plan])) != []


def test_a_design_s_scenario_routes_are_priced_and_closed_per_layer(tmp_path: Path) -> None:
    # trade.csv prices B -> A's chips apart from the route's other layers: the checker reads
    # a scenario flow's route by its layer, as the model does (else the recourse is off).
    trade = "exporter,importer,layer,unit_cost,allowed\nB,A,chips,3,true\nB,A,,0.5,true\n"
    folder = write_case(tmp_path / "case", layers=LAYERS_NO_DEMAND, demand=DEMAND,
                        scenarios=SCENARIOS, trade=trade)
    run = tmp_path / "run"
    res = CliRunner().invoke(main, ["solve", str(folder), "--out", str(run), "--set",
                                    "objective.shortage_cost=10", "--design", "expected"])
    assert res.exit_code == 0, res.output
    over = ["objective.shortage_cost=10"]
    case = replace(load_case(folder).with_overrides(over),
                   scenario_options=ScenarioOptions(design="expected"))
    tables = tables_of(run)
    summary = json.loads((run / "summary.json").read_text())
    assert check(case, CaseData.of(case), tables, summary) == []
    flows = tables["scenario_flows"]
    shipped = flows[(flows["exporter"] == "B") & (flows["importer"] == "A")
                    & (flows["layer"] == "chips") & (flows["quantity"].astype(float) > 0)]
    assert not shipped.empty, "the test needs a scenario shipping B's chips to A"
    # The same tables against a trade.csv that closes B -> A for chips alone: refused.
    closed = write_case(tmp_path / "closed", layers=LAYERS_NO_DEMAND, demand=DEMAND,
                        scenarios=SCENARIOS, trade=trade.replace("B,A,chips,3,true",
                                                                 "B,A,chips,3,false"))
    other = replace(load_case(closed).with_overrides(over),
                    scenario_options=ScenarioOptions(design="expected"))
    found = check(other, CaseData.of(other), tables, summary)
    assert any("B -> A ships" in v.message and "forbidden route" in v.message
               for v in found), found
