"""A study's files are written whole or not at all; appended rows are whole rows.

stress.csv, share's tables and the Monte Carlo tables go through
:mod:`solver.report.writing` (a temporary file renamed over the old one): a write that fails
half-way (a full disk) leaves the old file as it was and no temporary file. Rows appended
while a study runs (a sweep's, share's groups, the draws) are appended in one write, cut
back if it fails, so that resume reads every row before it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from solver import load_case
from solver.report import writing
from solver.report.writing import append_text
from solver.studies.engine.folder import read_rows
from solver.studies.game.share import ShareResult, write_share
from solver.studies.shocks.monte_carlo import sample
from solver.studies.shocks.stress import stress

try:
    from cases import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import write_case


def full_disk_on(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``DataFrame.to_csv`` to a file whose name holds ``name`` fail half-way."""
    real: Callable[..., Any] = pd.DataFrame.to_csv

    def to_csv(self: pd.DataFrame, path: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(path, str | os.PathLike) and name in Path(path).name:
            Path(path).write_text("partner,half a ro")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_stress_table_that_fails_to_write_leaves_the_old_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case(write_case(tmp_path / "case"))
    out = tmp_path / "stress"
    stress(case, out=out)
    before = contents(out)
    assert before["stress.csv"].startswith(b"lost")
    full_disk_on("stress.csv", monkeypatch)
    with pytest.raises(OSError):
        stress(case, out=out)
    assert contents(out) == before


def test_share_tables_that_fail_to_write_leave_the_old_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    players = pd.DataFrame({"player": ["A", "B"], "saving_proportional": [1.0, 2.0],
                            "saving_shapley": [1.5, 1.5], "saving_nucleolus": [None, None]})
    groups = pd.DataFrame({"group": ["A", "B", "A+B"], "cost": [3.0, 4.0, 3.0]})
    out = tmp_path / "share"
    write_share(ShareResult(players, groups, {"players": 2}), out)
    before = contents(out)
    full_disk_on("groups.csv", monkeypatch)
    changed = ShareResult(players.assign(saving_shapley=[9.0, 9.0]), groups.assign(cost=9.0),
                          {})
    with pytest.raises(OSError):
        write_share(changed, out)
    after = contents(out)
    assert after["groups.csv"] == before["groups.csv"]
    assert after["summary.json"] == before["summary.json"]  # written after groups.csv
    assert b"9.0" in after["players.csv"]  # the table before it was written whole
    assert sorted(after) == sorted(before)


@pytest.mark.parametrize("table", ["distribution.csv", "worst_partners.csv", "draws.csv"])
def test_monte_carlo_tables_that_fail_to_write_leave_the_old_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    case = load_case(write_case(tmp_path / "case"))
    out = tmp_path / "mc"
    sample(case, 6, seed=3, out=out, batch=3)
    before = contents(out)
    full_disk_on(table, monkeypatch)
    with pytest.raises(OSError):
        sample(case, 6, seed=3, out=out, batch=3, resume=True)
    after = contents(out)
    assert after[table] == before[table]
    assert not [name for name in after if name.endswith(".partial")]


def test_rows_that_fail_to_append_are_cut_back_and_resume_reads_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "groups.csv"
    append_text(path, "group,cost\nA,1\n")
    real = os.write

    def half(fd: int, data: Any) -> int:
        real(fd, bytes(data)[:5])  # "B,2\nC" reaches the disk, then it is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writing.os, "write", half)
    with pytest.raises(OSError):
        append_text(path, "B,2\nC,3\n")
    monkeypatch.undo()
    assert path.read_text() == "group,cost\nA,1\n"
    append_text(path, "B,2\n")
    rows = read_rows(path, {"group": "str", "cost": "int"})
    assert rows.to_dict("records") == [{"group": "A", "cost": 1}, {"group": "B", "cost": 2}]


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_appended_files_that_are_not_ordinary_files_are_refused(tmp_path: Path,
                                                                kind: str) -> None:
    # A FIFO would block the study for ever; a link would lead its rows elsewhere.
    from solver.errors import UsageError

    path = tmp_path / "sweep.csv"
    outside = tmp_path / "outside.csv"
    outside.write_text("point\n")
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(outside)
    with pytest.raises(UsageError, match="not an ordinary file"):
        read_rows(path, {"point": "int"})
    with pytest.raises(UsageError, match="not an ordinary file"):
        append_text(path, "1\n")
    assert outside.read_text() == "point\n"
