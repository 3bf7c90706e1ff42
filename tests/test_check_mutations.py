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
