"""Numbers for people on the screen and pages; shortest round-trip floats in CSV files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from solver.cli import main
from solver.report.numbers import percent, readable, with_unit, yes_no

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Members X, Y; A supplies both (X 4, Y 6) at a unit cost of 4020, shipping to Y at 0.74.
CASE = {
    "partners": "partner,member\nX,true\nY,true\nA,false\n",
    "layers": "layer\nchips\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,4020\n",
    "demand": "member,layer,demand\nX,chips,4\nY,chips,6\n",
    "trade": "exporter,importer,unit_cost\nA,Y,0.74\n",
}


@pytest.mark.parametrize(("x", "digits", "text"), [
    (52260.3, 4, "52,260"), (40203.4, 2, "40,203"), (895.243, 4, "895.2"), (0.16, 4, "0.16"),
    (857.0, 4, "857"),
    (1159.61, 6, "1,159.61"), (-5.26, 6, "-5.26"), (99999.6, 4, "100,000"), (0, 4, "0"),
    (-0.00001, 4, "-1e-05"), (2e16, 4, "2e+16"), (-0.0004, 1, "-0.0004"),
    (float("nan"), 4, "-"), (None, 4, "-"), ("n/a", 4, "n/a"),
])
def test_readable(x, digits, text) -> None:
    assert readable(x, digits) == text


def test_percent_yes_no_and_units() -> None:
    assert percent(0.404) == "40.4%" and percent(None) == "-"
    assert [yes_no(v) for v in (True, "true", 1, "no", False, None)] == \
        ["yes", "yes", "yes", "no", "no", "-"]
    assert with_unit("total cost", "USD bn a year") == "total cost (USD bn a year)"
    assert with_unit("total cost", None) == "total cost"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    write_case(tmp_path / "case", **CASE)
    path = tmp_path / "chips.toml"
    path.write_text('case = "case"\nunit = "EUR m a year"\n[solver]\nmip_gap = 0\n',
                    encoding="utf-8")
    return path


def test_totals_print_with_separators_and_the_run_records_its_unit(model: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(model), "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    total = next(line for line in lines if line.startswith("total cost"))
    assert total.startswith("total cost 40,204, gap")  # 10 x 4020 + 6 x 0.74
    assert "  capacity 40,200, trade 4.44" in lines
    assert json.loads((out / "summary.json").read_text())["unit"] == "EUR m a year"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "total cost, EUR m a year" in page and "in EUR m a year" in page
    assert "<th>N-1 coverage</th>" in page and "<td>yes</td>" in page  # X is a member


def test_a_case_folder_names_no_unit(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", str(model.parent / "case"), "--out", str(out),
                                     "--report"]).exit_code == 0
    assert json.loads((out / "summary.json").read_text())["unit"] is None
    assert "USD" not in (out / "report.html").read_text(encoding="utf-8")


def test_csv_files_hold_the_shortest_text_of_each_float(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", str(model), "--out", str(out)]).exit_code == 0
    seen = 0
    for path in out.glob("*.csv"):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for text in row.values():
                    try:
                        value = float(text)
                    except ValueError:
                        continue
                    seen += 1
                    assert text in (repr(value), str(int(value))), f"{path.name}: {text}"
    assert seen > 20
    assert "A,Y,chips,6.0,0.74\n" in (out / "flows.csv").read_text()  # not 0.7399999...
