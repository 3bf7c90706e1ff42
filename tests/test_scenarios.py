"""scenarios.csv (SPEC sections 2 and 9): validation, and the run folder's scenarios.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main
from solver.report.run_folder import RUN_FILES
from tests.tiny import write_case

HEADER = "scenario,probability,partner,layer,exporter,importer,capacity_factor\n"
CASE = {
    "partners": "partner\nA\nB\nC\n",
    "layers": "layer,demand,min_supplier_share\nchips,10,0\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,10,1\nB,chips,10,2\nC,chips,4,3\n",
    "trade": "exporter,importer,unit_cost\nA,coalition,1\nB,coalition,2\nC,coalition,0.5\n",
}
"""Demand 10; A builds it all (cost 10 + trade 10). B and C build nothing."""


@pytest.mark.parametrize(("row", "line", "column", "text"), [
    ("s1,0.1,Z,,,,0", 2, "partner", "names no partner of partners.csv"),
    ("s1,0.1,A,gpus,,,0", 2, "layer", "names no layer of layers.csv"),
    ("s1,0.1,,,Z,A,", 2, "exporter", "names no partner of partners.csv"),
    ("s1,0.1,,,A,Z,", 2, "importer", "names no partner of partners.csv"),
    ("s1,0.1,A,,A,B,", 2, "exporter", "not both"),
    ("s1,0.1,,,,,", 2, "partner", "names neither a partner nor a route"),
    ("s1,0.1,,,A,,", 2, "importer", "needs both exporter and importer"),
    ("s1,0.1,,,,B,", 2, "exporter", "needs both exporter and importer"),
    ("s1,0.1,,,A,A,", 2, "importer", "exporter = importer"),
    ("s1,0.1,,,A,B,0.5", 2, "capacity_factor", "capacity_factor is for partner rows"),
    ("s1,0.1,A,,,,1.5", 2, "capacity_factor", "out of range: must be in [0, 1]"),
    ("s1,-0.1,A,,,,", 2, "probability", "out of range: must be in (0, 1]"),
    ("s1,0,A,,,,", 2, "probability", "out of range: must be in (0, 1]"),
    ("s1,,A,,,,", 2, "probability", "a value is required"),
    ("s1,0.1,A,,,,\ns1,0.2,B,,,,", 3, "probability", "a different probability than on its "
     "first row (0.1)"),
    ("s1,0.6,A,,,,\ns2,0.3,B,,,,\ns3,0.3,C,,,,", 4, "probability",
     "the scenarios' probabilities sum to 1.2, above 1 (from scenario s3 on)"),
    ("s1,0.1,A,,,,\ns1,0.1,A,,,,", 3, "scenario,partner,layer,exporter,importer",
     "duplicate key"),
])
def test_each_fault_exits_2_naming_file_line_and_column(tmp_path: Path, row: str, line: int,
                                                        column: str, text: str) -> None:
    folder = write_case(tmp_path / "case", **CASE, scenarios=HEADER + row + "\n")
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2, result.output
    expected = f"scenarios.csv, line {line}, column {column}"
    found = [ln for ln in result.stderr.splitlines() if expected in ln]
    assert found, result.stderr
    assert text in found[0]


def test_a_valid_table_loads(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **CASE, scenarios=HEADER + (
        "lossA,0.1,A,,,,\nhalf,0.2,A,chips,,,0.5\nroute,0.1,,,A,coalition,\nroute,0.1,B,,,,\n"))
    case = load_case(folder)
    assert case.scenarios is not None and len(case.scenarios) == 4


def _write_scenarios(tmp_path: Path, price: float | None) -> Path:
    folder = write_case(tmp_path / "case", **CASE, scenarios=HEADER + (
        "lossA,0.1,A,,,,\n"            # A lost: B (10) re-routes at cost 2
        "half,0.2,A,chips,,,0.5\n"     # A keeps 5; C's 0 built: B's 0 built -> 5 unmet
        "route,0.1,,,A,coalition,\n"   # A's route closed: everything unmet
    ))
    case = load_case(folder)
    if price is not None:
        case = case.with_overrides({"objective.shortage_cost": price})
    run = solve(case).write(tmp_path / "run")
    return run


def test_every_solve_with_scenarios_writes_scenarios_csv(tmp_path: Path) -> None:
    run = _write_scenarios(tmp_path, None)
    assert "scenarios.csv" in RUN_FILES
    frame = pd.read_csv(run / "scenarios.csv").set_index("scenario")
    # The plan built only A (10 units): without A nothing else was built.
    assert frame.loc["lossA", "unmet"] == pytest.approx(10.0)
    assert frame.loc["lossA", "unmet_share"] == pytest.approx(1.0)
    assert frame.loc["lossA", "worst_layer"] == "chips"
    assert frame.loc["half", "unmet"] == pytest.approx(5.0)
    assert frame.loc["half", "trade_cost"] == pytest.approx(5.0)
    assert frame.loc["route", "unmet"] == pytest.approx(10.0)
    assert frame["shortage_cost"].isna().all()
    assert list(frame["probability"]) == pytest.approx([0.1, 0.2, 0.1])


def test_scenarios_price_unmet_demand_and_count_rerouting(tmp_path: Path) -> None:
    # With resilience 1 the plan keeps full cover without any one host: A 6, B 6, C 4
    # (capacity 6 + 12 + 12 = 30), A and C supplying (trade 6 + 2 = 8).
    tables = dict(CASE, layers="layer,demand,min_supplier_share,resilience\nchips,10,0,1\n")
    folder = write_case(tmp_path / "case", **tables, scenarios=HEADER + (
        "lossA,0.25,A,,,,\nroute,0.25,,,B,coalition,\nboth,0.1,A,,,,\nboth,0.1,B,,,,\n"))
    case = load_case(folder).with_overrides({"objective.shortage_cost": 7.0})
    result = solve(case)
    assert result.objective == pytest.approx(38.0)
    assert result.scenarios is not None
    frame = result.scenarios.set_index("scenario")
    # Without A, B's 6 units are re-routed to the coalition: trade 6 * 2 + 4 * 0.5.
    assert frame.loc["lossA", "unmet"] == pytest.approx(0.0)
    assert frame.loc["lossA", "rerouted"] == pytest.approx(6.0)
    assert frame.loc["lossA", "trade_cost"] == pytest.approx(14.0)
    assert frame.loc["lossA", "shortage_cost"] == pytest.approx(0.0)
    # B's route was not used: nothing changes.
    assert frame.loc["route", "unmet"] == pytest.approx(0.0)
    assert frame.loc["route", "rerouted"] == pytest.approx(0.0)
    assert frame.loc["route", "trade_cost"] == pytest.approx(8.0)
    # A and B lost: C's 4 units remain, 6 are unmet at 7 each.
    assert frame.loc["both", "unmet"] == pytest.approx(6.0)
    assert frame.loc["both", "worst_layer_share"] == pytest.approx(0.6)
    assert frame.loc["both", "shortage_cost"] == pytest.approx(42.0)
    assert frame.loc["both", "second_stage_cost"] == pytest.approx(44.0)


def test_without_scenarios_no_scenarios_csv(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **CASE)
    result = solve(load_case(folder))
    assert result.scenarios is None
    assert not (result.write(tmp_path / "run") / "scenarios.csv").exists()
