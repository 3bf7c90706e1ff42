"""A case as one .xlsx workbook (SPEC section 2): same tables, same plan, problems by sheet."""

from __future__ import annotations

import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.case.loader import case_frames_equal
from solver.case.workbook import SheetProblem, case_folder_to_workbook
from solver.cli import main
from solver.errors import CaseError

try:
    from tiny import TWO_SUPPLIERS, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import TWO_SUPPLIERS, write_case

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "allied-ai-stack"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    folder = write_case(tmp_path / "case", **TWO_SUPPLIERS)
    return case_folder_to_workbook(folder, tmp_path / "case.xlsx")


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CaseError) as info:
        load_case(path)
    return [str(p) for p in info.value.problems]


def edit(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def test_sample_case_gives_the_same_tables_and_plan_from_csv_and_workbook(tmp_path: Path):
    path = case_folder_to_workbook(SAMPLE, tmp_path / "allied.xlsx")
    from_csv, from_book = load_case(SAMPLE), load_case(path)
    assert case_frames_equal(from_csv, from_book)
    a, b = solve(from_csv), solve(from_book)
    assert a.verified and b.verified
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    hosts = a.allocation[["partner", "layer", "hosted"]]
    assert hosts.equals(b.allocation[["partner", "layer", "hosted"]])


def test_a_workbook_solves_from_the_command_line(book: Path, tmp_path: Path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(book), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "case case: optimal" in result.output
    assert (out / "allocation.csv").is_file()


def test_a_model_file_may_name_a_workbook(book: Path, tmp_path: Path):
    model = tmp_path / "models" / "m.toml"
    model.parent.mkdir()
    model.write_text('case = "../case.xlsx"\n', encoding="utf-8")
    assert load_case(model).name == "m"


def test_bad_cells_are_named_by_sheet_row_and_column(book: Path):
    def change(wb):  # type: ignore[no-untyped-def]
        ws = wb["capabilities"]
        ws["C2"] = "=50+50"
        ws["D3"] = datetime.date(2024, 3, 1)
        ws["C3"] = "lots"

    found = problems_of(edit(book, change))
    assert any(p.startswith("case.xlsx, sheet capabilities, row 2, column capacity (C): "
                            "'=50+50': a formula") for p in found), found
    assert any(p.startswith("case.xlsx, sheet capabilities, row 3, column unit_cost (D)")
               and "a date or time where a number belongs" in p for p in found), found
    assert any(p.startswith("case.xlsx, sheet capabilities, row 3, column capacity (C): "
                            "'lots': not a number") for p in found), found


def test_an_unknown_sheet_merged_and_empty_headers_are_refused(book: Path):
    def change(wb):  # type: ignore[no-untyped-def]
        wb.create_sheet("Partners2")["A1"] = "partner"
        wb["layers"].merge_cells("A1:B1")
        ws = wb["capabilities"]
        ws["G3"] = 5  # data under no header; F is an empty spacer column and ignored

    found = problems_of(edit(book, change))
    assert any("sheet Partners2: not a case table; did you mean 'partners'?" in p
               for p in found), found
    assert any("sheet layers, row 1: merged header cells A1:B1" in p for p in found), found
    assert any("sheet capabilities, row 1: header cell G1 is empty but column G holds data"
               in p for p in found), found
    assert not any("F1" in p for p in found), found


def test_cross_table_problems_name_the_sheet(book: Path):
    edit(book, lambda wb: wb["capabilities"].__setitem__("A3", "Z"))
    found = problems_of(book)
    assert any(p.startswith("case.xlsx, sheet capabilities, row 3, column partner (A): 'Z'")
               for p in found), found


def test_a_missing_required_sheet_and_a_non_workbook(book: Path, tmp_path: Path):
    edit(book, lambda wb: wb.remove(wb["layers"]))
    assert any("required sheet 'layers' is missing" in p for p in problems_of(book))
    fake = tmp_path / "fake.xlsx"
    fake.write_text("partner,name\nA,B\n", encoding="utf-8")
    assert any("not an .xlsx workbook (it looks like CSV text" in p for p in problems_of(fake))


def test_validate_exits_2_with_one_line_per_problem(book: Path):
    edit(book, lambda wb: wb["partners"].__setitem__("A2", datetime.datetime(2024, 1, 2)))
    result = CliRunner().invoke(main, ["validate", str(book)])
    assert result.exit_code == 2
    assert "sheet partners, row 2, column partner (A)" in result.output
    assert "a date or time where an id belongs" in result.output


def test_sheet_problem_is_a_problem():
    p = SheetProblem("b.xlsx", "more lines with the same problem", line=3, column="x",
                     sheet="layers", letter="B")
    assert str(p) == "b.xlsx, sheet layers, row 3, column x (B): more rows with the same problem"


def test_overrides_of_a_workbook_case_name_the_sheet(book: Path):
    case = load_case(book)
    with pytest.raises(CaseError) as info:
        case.with_overrides({"capabilities[A,chips].min_capacity": 500})
    # Named by the override that broke it, and by the sheet (not a CSV file the case has not).
    assert any("case.xlsx, sheet capabilities, column min_capacity" in str(p)
               for p in info.value.problems), info.value.problems
    assert not any("capabilities.csv" in str(p) for p in info.value.problems)


def test_case_folder_to_workbook_takes_str_paths(tmp_path: Path):
    path = case_folder_to_workbook(str(SAMPLE), str(tmp_path / "allied.xlsx"))
    assert isinstance(path, Path) and path == tmp_path / "allied.xlsx"
    assert case_frames_equal(load_case(SAMPLE), load_case(path))
