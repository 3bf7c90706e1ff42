"""Bounded inputs: a workbook within its unpacked size, rows and cells, a game within its groups.

A workbook is read only where values are; each bound is refused with exit 2 and the limit in
the message, before a workbook library builds anything; a damaged workbook is bad input
(exit 2), never an internal error. A coalition game is counted before anything is solved or
allocated: a warning past 10,000 groups, a refusal past 1,000,000 without --yes.
"""

from __future__ import annotations

import importlib
import io
import re
import resource
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.styles import Font

from solver import load_case
from solver.case import workbook_limits
from solver.case.loader import case_frames_equal
from solver.case.workbook import case_folder_to_workbook
from solver.cli import main
from solver.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "allied-ai-stack"


@pytest.fixture(scope="module")
def sample_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return case_folder_to_workbook(SAMPLE, tmp_path_factory.mktemp("book") / "allied.xlsx")


def rewritten(book: Path, out: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """``book`` with each zip part passed through ``change(name, data)``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    out.write_bytes(buf.getvalue())
    return out


def validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _limit_memory() -> None:
    limit = 1536 * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.skipif(sys.platform != "linux", reason="bounds the child's memory with rlimit")
def test_a_formatted_blank_cell_at_xfd1048576_is_not_data(sample_book: Path,
                                                          tmp_path: Path) -> None:
    # The sheet's dimension becomes 1,048,576 x 16,384 cells: reading them all grew without
    # end. Only the extent of the cells that hold values is read, in bounded memory.
    path = tmp_path / "far.xlsx"
    wb = openpyxl.load_workbook(sample_book)
    wb["partners"].cell(1048576, 16384).font = Font(bold=True)
    wb["layers"]["XFD1"].number_format = "0.00"
    wb.save(path)
    done = subprocess.run([sys.executable, "-m", "solver", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, preexec_fn=_limit_memory)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "valid (21 partners, 9 layers" in done.stdout
    assert case_frames_equal(load_case(path), load_case(sample_book))


def test_a_zip_bomb_is_refused_by_its_unpacked_size(sample_book: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_limits, "MAX_UNCOMPRESSED", 4 * 1024**2)
    path = tmp_path / "bomb.xlsx"
    buf = io.BytesIO(sample_book.read_bytes())
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", bytes(8 * 1024**2))  # 8 MB of zeros: 8 KB packed
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 100_000
    code, output = validate(path)
    assert code == 2
    assert "bomb.xlsx: the workbook unpacks to 8,4" in output
    assert "more than the 4,194,304 a case workbook may" in output


def test_a_sheet_of_too_many_rows_is_refused_before_it_is_read(
        sample_book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_limits, "MAX_SHEET_ROWS", 100)
    code, output = validate(sample_book)  # demand has 145 rows
    assert code == 2
    assert "allied.xlsx: the workbook has a sheet of more than 100 rows, the most a case sheet " \
           "may have" in output


def test_too_many_cells_are_refused(sample_book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_limits, "MAX_CELLS", 500)
    code, output = validate(sample_book)
    assert code == 2
    assert "allied.xlsx: the workbook has more than 500 cells, the most a case workbook may " \
           "have" in output


def test_a_value_far_from_the_table_is_refused_by_its_extent(sample_book: Path,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "far-value.xlsx"
    wb = openpyxl.load_workbook(sample_book)
    wb["layers"].cell(1048576, 16384).value = "x"
    wb.save(path)
    code, output = validate(path)
    assert code == 2
    assert "has values spread over 1,048,576 rows and 16,384 columns" in output


@pytest.mark.parametrize(("fault", "change"), [
    ("a cut sheet", lambda name, data: data[: len(data) // 2]
     if name == "xl/worksheets/sheet1.xml" else data),
    ("a shared string that is not there", lambda name, data: re.sub(
        rb'<c r="A2" t="inlineStr"><is><t>[^<]*</t></is></c>', b'<c r="A2" t="s"><v>99</v></c>',
        data, count=1) if name == "xl/worksheets/sheet1.xml" else data),
    ("a broken workbook part", lambda name, data: b"<workbook" if name == "xl/workbook.xml"
     else data),
])
def test_a_damaged_workbook_is_bad_input(sample_book: Path, tmp_path: Path, fault: str,
                                         change: Callable[[str, bytes], bytes]) -> None:
    path = rewritten(sample_book, tmp_path / "damaged.xlsx", change)
    for command in (["validate", str(path)], ["solve", str(path), "--out", str(tmp_path / "r")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, (fault, result.output)
        assert "damaged.xlsx: cannot read the workbook (damaged or not saved by a spreadsheet " \
               "program)" in result.output
        assert "internal error" not in result.output
    assert not (tmp_path / "r").exists()


def test_a_game_of_millions_of_groups_is_refused_before_anything_is_solved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 22 players, every group: 4,194,302 groups (3.3 GB before the first one, it was).
    from solver.studies.game import share

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("solved before the groups were counted")

    monkeypatch.setattr(importlib.import_module("solver.solve"), "solve", no_solve)
    names = [f"M{i:02d}" for i in range(22)]
    case = tmp_path / "case"
    case.mkdir()
    (case / "partners.csv").write_text("partner\n" + "\n".join(names) + "\n")
    (case / "layers.csv").write_text("layer\nchips\n")
    (case / "capabilities.csv").write_text(
        "partner,layer,capacity,unit_cost\n" + "".join(f"{n},chips,10,1\n" for n in names))
    (case / "demand.csv").write_text(
        "member,layer,demand\n" + "".join(f"{n},chips,1\n" for n in names))
    result = CliRunner().invoke(main, ["share", str(case), "--exact-up-to", "30",
                                       "--set", "objective.shortage_cost=5",
                                       "--out", str(tmp_path / "game")])
    assert result.exit_code == 2, result.output
    assert ("the game evaluates 4,194,302 groups (every group of 22 players), more than the "
            "1,000,000 it runs without --yes") in result.output
    assert not (tmp_path / "game").exists()
    warned: list[str] = []
    assert share.check_group_count(14, 14, 200, warn=warned.append) == 16_382
    assert warned == ["the game evaluates 16,382 groups (every group of 14 players); each is "
                      "a solve"]
    assert share.check_group_count(22, 12, 200, warn=warned.append) == 200 * 21 + 22
    assert share.check_group_count(60, 100, 200, yes=True, warn=warned.append) == 2**60 - 2
    with pytest.raises(UsageError, match="1,000,000,000 sampled orders of 22 players"):
        share.check_group_count(22, 12, 10**9)
