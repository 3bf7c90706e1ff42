"""Every problem of an override names where it came from (README, When a case is wrong).

A ``--set`` is named by its number on the command line, a model file's ``[set]`` key by the
file and its line, a row of targets.csv by its line; a value out of range names the override
that wrote it, and what it breaks across tables names that override too.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case
from solver.case.override_sources import model_file_places
from solver.cli import main
from solver.errors import CaseError

try:
    from cases import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import write_case


def validate(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *map(str, args)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_each_set_on_the_command_line_is_named_by_its_number(tmp_path: Path) -> None:
    case = write_case(tmp_path / "case")
    code, out = validate(case, "--set", "layers[chips].max_share=0.5",
                         "--set", "layers[cloud].max_share=3",
                         "--set", "objective.risk_weight=-1")
    assert code == 2
    assert "--set 2: layers[cloud].max_share = 3: out of range" in out
    assert "--set 1" not in out
    code, out = validate(case, "--set", "layers.max_share=0.5", "--set", "layers[nope].max_share=1")
    assert code == 2 and "--set 2: layers[nope].max_share names no row" in out
    code, out = validate(case, "--set", "objective.risk_weight=-1")
    assert code == 2 and "--set 1: risk_weight" in out


def test_a_value_out_of_range_names_the_last_override_that_wrote_it(tmp_path: Path) -> None:
    case = write_case(tmp_path / "case")
    # --set 1 puts every max_share at 0.5; --set 2 triples chips' only: 1.5 is its fault.
    code, out = validate(case, "--set", "layers.max_share=0.5",
                         "--set", "layers[chips].max_share*=3")
    assert code == 2
    assert "--set 2: layers[chips].max_share = 1.5" in out
    assert "--set 1" not in out


def test_what_an_override_breaks_across_tables_names_the_override(tmp_path: Path) -> None:
    case = write_case(tmp_path / "case",
                      capabilities="partner,layer,capacity,unit_cost,min_capacity\n"
                                   "A,chips,80,1,10\nB,chips,60,1.2,0\nC,cloud,60,1,0\n")
    code, out = validate(case, "--set", "layers[cloud].min_trust=0",
                         "--set", "capabilities[A,chips].capacity=5")
    assert code == 2
    assert "--set 2: capabilities.csv, column min_capacity '10': min_capacity is above " \
           "capacity (5)" in out
    # A value out of range is the one problem: not a flood of what it breaks elsewhere.
    code, out = validate(case, "--set", "capabilities.capacity=-1")
    assert code == 2 and "min_capacity is above" not in out


def test_a_model_file_key_is_named_by_its_line(tmp_path: Path) -> None:
    write_case(tmp_path / "case")
    model = tmp_path / "models" / "m.toml"
    model.parent.mkdir()
    model.write_text('name = "m"\ncase = "../case"\n\n[objective]\nrisk_weight = 0\n\n'
                     '[set]\n# a comment\n"layers[chips].max_share" = 0.5\n'
                     "'layers[ZZ].max_share' = 0.5\n"
                     '"layers[cloud].max_share" = 2   # too large\n')
    with pytest.raises(CaseError) as err:
        load_case(model)
    text = str(err.value)
    assert "m.toml, line 10: layers[ZZ].max_share names no row" in text
    code, out = validate(model)
    assert code == 2 and "m.toml, line 10" in out
    model.write_text(model.read_text().replace("'layers[ZZ].max_share' = 0.5\n", ""))
    code, out = validate(model)
    assert code == 2 and "m.toml, line 10: layers[cloud].max_share = 2: out of range" in out


def test_a_key_the_scan_cannot_place_names_the_file_and_its_set_table() -> None:
    text = 'name = "m"\nset = { "layers.max_share" = 0.5 }\n[objective]\n"x" = 1\n'
    places = model_file_places("m.toml", text, ["layers.max_share"])
    assert [str(p).rstrip() for p in places] == ["m.toml [set]:"]
    text = '[set]\n"a.b" = 1\nc = 2\n[other]\n"d" = 3\n'
    lines = [p.line for p in model_file_places("m.toml", text, ["a.b", "c", "d"])]
    assert lines == [2, 3, None]


def test_every_bad_target_row_is_named_by_its_line(tmp_path: Path) -> None:
    case = write_case(tmp_path / "case", periods="period,year\n2026,2026\n2028,2028\n",
                      targets="period,set\n2026,layers[chips].max_share=0.5\n"
                              "2028,layers[chips].max_share=7\n"
                              "2028,layers[ZZ].max_share=0.5\n")
    code, out = validate(case)
    assert code == 2
    assert "targets.csv, line 3, column set: 'layers[chips].max_share=7': period 2028: " \
           "layers[chips].max_share = 7: out of range" in out
    assert "targets.csv, line 4, column set: 'layers[ZZ].max_share=0.5': period 2028: " \
           "layers[ZZ].max_share names no row" in out


def test_a_dotted_key_without_quotes_is_the_override_of_that_key(tmp_path: Path) -> None:
    write_case(tmp_path / "case")
    model = tmp_path / "models" / "m.toml"
    model.parent.mkdir()
    model.write_text('case = "../case"\n[set]\nlayers.max_share = 0.5\n'
                     'objective . risk_weight = -1\n')
    code, out = validate(model)
    assert code == 2 and "m.toml, line 4: risk_weight" in out
    model.write_text('case = "../case"\n[set]\nlayers.max_share = 0.5\n')
    case = load_case(model)
    assert case.layers["max_share"].tolist() == [0.5, 0.5]


def test_a_target_row_is_named_by_its_line_in_the_file(tmp_path: Path) -> None:
    # A blank line and a quoted line break: the rows are not one a line.
    case = write_case(tmp_path / "case", periods="period,year\n2026,2026\n2028,2028\n",
                      targets='period,set\n\n2026,"layers[chips].max_share=0.5\n"\n'
                              "2028,layers[ZZ].max_share=0.5\n")
    code, out = validate(case)
    assert code == 2
    assert "targets.csv, line 5, column set: 'layers[ZZ].max_share=0.5'" in out
    (case / "targets.csv").write_text("period,set\n2026,\n")
    code, out = validate(case)
    assert code == 2 and out.count("targets.csv, line 2") == 1  # the empty cell, once
    assert "a value is required" in out


def test_overrides_of_one_call_name_the_rows_an_earlier_one_added() -> None:
    # The key columns read once per call are those of the table as it now stands: a route
    # the first override adds is named by the next, and the others are left as they were.
    case = load_case(Path(__file__).resolve().parents[1] / "models" / "allied-ai-stack.toml")
    before = case.trade.copy()
    point = case.with_overrides(["trade[US,JP].allowed=false", "trade[US,JP].unit_cost=5",
                                 "trade.unit_cost*=2"], source="point 1")
    added = point.trade[(point.trade["exporter"] == "US") & (point.trade["importer"] == "JP")]
    assert len(point.trade) == len(before) + 1 and len(added) == 1
    assert not bool(added["allowed"].iloc[0]) and float(added["unit_cost"].iloc[0]) == 10.0
    kept = point.trade.iloc[:len(before)]
    assert (kept["unit_cost"].to_numpy() == 2 * before["unit_cost"].to_numpy()).all()
    pd.testing.assert_frame_equal(case.trade, before)  # the case itself is untouched
