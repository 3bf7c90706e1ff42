"""Outputs as a workbook (--format xlsx) and text cells that must not run as formulas."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from solver.cli import main
from solver.report.cells import plain_frame, plain_text, safe_frame, safe_text

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Partner '-2-3' is what a spreadsheet would compute as -5; '-B' would call a function.
CASE = {
    "partners": "partner\n-2-3\n-B\n",
    "layers": "layer,demand,min_suppliers,max_share\nchips,10,2,0.6\n",
    "capabilities": "partner,layer,capacity,unit_cost\n-2-3,chips,100,1\n-B,chips,100,2\n",
}


@pytest.fixture
def case(tmp_path: Path) -> Path:
    return write_case(tmp_path / "case", **CASE)


def test_safe_text_marks_formula_starts_and_plain_text_undoes_it():
    for text in ("=1+2", "+1", "-2-3", "@SUM(A1)", "\tx"):
        assert safe_text(text) == "'" + text
        assert plain_text(safe_text(text)) == text
    assert safe_text("US") == "US" and safe_text(3.5) == 3.5
    assert safe_text(safe_text("-1")) == "'-1"  # marking twice changes nothing
    frame = pd.DataFrame({"partner": ["-2-3", "US"], "x": [-1.0, 2.0]})
    marked = safe_frame(frame)
    assert marked["partner"].tolist() == ["'-2-3", "US"]
    assert marked["x"].tolist() == [-1.0, 2.0]
    assert plain_frame(marked).equals(frame)


def test_solve_format_xlsx_writes_run_xlsx_with_numbers_text_and_frozen_headers(
        case: Path, tmp_path: Path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(case), "--out", str(out),
                                       "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out / "run.xlsx")
    assert wb.sheetnames == ["summary", "allocation", "flows", "layers", "partners"]
    ws = wb["allocation"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["partner", "layer", "hosted"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert set(rows) == {"-2-3", "-B"}
    ids = rows["-2-3"][0]
    assert ids.data_type == "s" and ids.quotePrefix  # text, not the formula -2-3
    capacity = rows["-2-3"][header.index("capacity")]
    assert capacity.data_type == "n" and capacity.value == pytest.approx(6.0)
    assert rows["-2-3"][header.index("hosted")].value is True
    summary = {r[0].value: r[1].value for r in wb["summary"].iter_rows(min_row=2)}
    assert summary["status"] == "optimal"
    assert summary["costs.capacity"] == pytest.approx(6 + 8)
    # The CSV file marks the same cells, and the checker reads them back as the ids.
    text = (out / "allocation.csv").read_text(encoding="utf-8")
    assert "\n'-2-3,chips," in text and "\n'-B,chips," in text
    check = CliRunner().invoke(main, ["check", str(case), str(out)])
    assert check.exit_code == 0, check.output


def test_force_replaces_a_run_folder_that_has_a_workbook(case: Path, tmp_path: Path):
    out = tmp_path / "run"
    args = ["solve", str(case), "--out", str(out), "--format", "xlsx"]
    assert CliRunner().invoke(main, args).exit_code == 0
    again = CliRunner().invoke(main, [*args, "--force"])
    assert again.exit_code == 0, again.output


def test_stress_format_xlsx_writes_stress_xlsx(case: Path, tmp_path: Path):
    out = tmp_path / "stress"
    result = CliRunner().invoke(main, ["stress", str(case), "--out", str(out),
                                       "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    assert "\n'-2-3," in (out / "stress.csv").read_text(encoding="utf-8")
    ws = openpyxl.load_workbook(out / "stress.xlsx")["stress"]
    lost = [r[0].value for r in ws.iter_rows(min_row=2)]
    assert "-2-3" in lost
