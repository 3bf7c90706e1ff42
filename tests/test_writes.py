"""Writes never destroy, and every failure is one line with its exit code.

Only an ordinary file (or nothing) is replaced, only with --force; a device, a FIFO, a
folder or a link is never replaced. A write that fails (a full disk) leaves the target as it
was and no temporary file. A run missing a column, a sweep without points, a summary key
that looks like markup: exit 2 or a page, never an internal error.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from solver.cli import main
from solver.errors import UsageError
from solver.report import writing
from solver.report.writing import check_target, write_file

try:
    from cases import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import write_case


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [*map(str, args)])
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A case folder and its run folder."""
    folder = tmp_path_factory.mktemp("solved")
    case = write_case(folder / "case")
    result = run("solve", case, "--out", folder / "run")
    assert result.exit_code == 0, result.output
    return case, folder / "run"


def test_report_out_does_not_replace_a_case_file_without_force(solved: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    case, run_dir = solved
    target = tmp_path / "partners.csv"
    target.write_text((case / "partners.csv").read_text())
    before = target.read_text()
    result = run("report", run_dir, "--out", target)
    assert result.exit_code == 2
    assert f"{target} already exists; pass --force to replace it" in result.output
    assert target.read_text() == before
    assert run("report", run_dir, "--out", target, "--force").exit_code == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["partners.csv"]


@pytest.mark.parametrize("kind", ["fifo", "folder", "link", "device"])
def test_only_an_ordinary_file_is_ever_replaced(solved: tuple[Path, Path], tmp_path: Path,
                                                kind: str) -> None:
    case, run_dir = solved
    target = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(target)
        words = "is a FIFO (a pipe), not an ordinary file; it is never replaced"
    elif kind == "folder":
        target.mkdir()
        # click refuses a folder for an option that names a file, before the command runs
        words = "is a folder, not an ordinary file; it is never replaced|is a directory"
    elif kind == "link":
        (tmp_path / "real").write_text("keep")
        target.symlink_to(tmp_path / "real")
        words = "is a symbolic link; name the file itself"
    else:
        target = Path("/dev/null")
        words = "/dev/null is a device, not an ordinary file; it is never replaced"
    commands = [("report", run_dir, "--out", target, "--force"),
                ("export", case, target, "--format", "lp", "--force"),
                ("compare", run_dir, run_dir, "--out", target, "--force")]
    for command in commands:
        result = run(*command)
        assert result.exit_code == 2, (command, result.output)
        assert any(w in result.output for w in words.split("|")), result.output
    if kind == "fifo":
        assert target.is_fifo()
    elif kind == "link":
        assert target.is_symlink() and (tmp_path / "real").read_text() == "keep"
    elif kind == "device":
        assert target.is_char_device()


def test_a_write_that_fails_leaves_the_target_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    target.write_text("the old page")

    def half_then_full(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError):
        write_file(target, half_then_full)
    assert target.read_text() == "the old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    with pytest.raises(UsageError, match="already exists"):
        check_target(target, force=False)


def test_a_full_disk_is_one_line_and_leaves_nothing(solved: tuple[Path, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _, run_dir = solved
    real = writing.replacing

    @contextlib.contextmanager
    def full(path: Path) -> Iterator[Path]:
        with real(path) as tmp:
            tmp.write_text("half")  # the disk fills up half-way
            if tmp.exists():
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            yield tmp

    monkeypatch.setattr(writing, "replacing", full)
    result = run("report", run_dir, "--out", tmp_path / "page.html")
    assert result.exit_code == 2
    assert result.output.strip() == "error: cannot write the output: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_chart_that_fails_to_write_leaves_no_empty_file(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])

    def full(self: Figure, target: object, **kwargs: object) -> None:
        Path(str(target)).write_bytes(b"")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Figure, "savefig", full)
    with pytest.raises(OSError):
        writing.save_figure(fig, tmp_path / "savings.png")
    assert list(tmp_path.iterdir()) == []


def test_a_summary_key_with_dollars_is_text_not_markup(solved: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    _, run_dir = solved
    copy = tmp_path / "run"
    copy.mkdir()
    for f in run_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    summary = json.loads((copy / "summary.json").read_text())
    summary["costs"]["$\\foo{$"] = 1.5  # mathtext: an unknown symbol, an unclosed brace
    (copy / "summary.json").write_text(json.dumps(summary))
    result = run("report", copy)
    assert result.exit_code == 0, result.output
    assert "$\\foo{$" in (copy / "report.html").read_text()


def test_compare_of_a_run_missing_a_column_or_a_sweep_without_points_is_exit_2(
        solved: tuple[Path, Path], tmp_path: Path) -> None:
    _, run_dir = solved
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in run_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    lines = (broken / "allocation.csv").read_text().splitlines()
    cut = [",".join(c for i, c in enumerate(line.split(",")) if i != 3) for line in lines]
    (broken / "allocation.csv").write_text("\n".join(cut) + "\n")
    result = run("compare", run_dir, broken, "--out", tmp_path / "c.csv")
    assert result.exit_code == 2
    assert f"error: {broken / 'allocation.csv'}: missing column(s) capacity" in result.output
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.csv").write_text("point,status,objective\n")
    for name in ("allocations.csv", "sweep_layers.csv"):
        (sweep / name).write_text("")
    result = run("compare", f"{sweep}:0", run_dir, "--out", tmp_path / "d.csv")
    assert result.exit_code == 2
    assert "the sweep has no finished point" in result.output
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "d.csv").exists()


def test_json_nested_past_the_parser_is_bad_input(solved: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    import shutil

    case, run_dir = solved
    nested = "[" * 100_000 + "]" * 100_000
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "summary.json").write_text(nested)
    result = run("check", case, copy)
    assert result.exit_code == 5 and "summary.json: not valid JSON" in result.output
    for command in (("report", copy), ("compare", copy, run_dir)):
        result = run(*command)
        assert result.exit_code == 2 and "not valid JSON" in result.output, result.output
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(nested)
    result = run("sweep", case, "--vary", "layers.max_share=0.6,1", "--out", sweep,
                 "--resume", "--no-plots")
    assert result.exit_code == 2 and "sweep.json is not valid JSON" in result.output
