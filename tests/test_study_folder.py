"""The one folder protocol of every study's --out (solver.studies.engine.folder).

Refused if it exists without --force or --resume; --resume only for the same request, named
when it differs; rows read back re-validated (a torn last row computed again, a bad cell
refused by file, line and column); a lock against a second writer; Ctrl-C keeps every
finished row and exits 130 with the --resume hint.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from solver.cli import main
from solver.errors import UsageError
from solver.studies.engine.folder import FolderLock, read_rows
from tests.test_share import GAME
from tests.tiny import write_case

PRICE = ("--set", "objective.shortage_cost=100")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def game(tmp_path: Path) -> Path:
    return write_case(tmp_path / "case", **GAME)


def groups_csv(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "groups.csv", keep_default_na=False, na_values=[""])


# Rows read back -----------------------------------------------------------------------------

TYPES = {"group": "str", "size": "int", "cost": "float?"}


def test_a_torn_last_row_is_dropped_and_whole_rows_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("group,size,cost\nA,1,20.0\nB,1,", encoding="utf-8")
    table = read_rows(path, TYPES)
    assert table.to_dict("records") == [{"group": "A", "size": 1, "cost": 20.0}]


@pytest.mark.parametrize(("cell", "why"), [
    ("nan", "not a finite number"), ("inf", "not a finite number"), ("abc", "not a number")])
def test_a_bad_cell_is_refused_by_file_line_and_column(tmp_path: Path, cell: str,
                                                       why: str) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(f"group,size,cost\nA,1,20.0\nB,1,{cell}\nC,1,5\n", encoding="utf-8")
    with pytest.raises(UsageError, match=f"rows.csv, line 3, column cost: '{cell}': {why}"):
        read_rows(path, TYPES)


def test_an_empty_optional_number_and_ids_that_look_missing_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("group,size,cost\nNA,1,\n", encoding="utf-8")
    assert read_rows(path, TYPES).to_dict("records") == [
        {"group": "NA", "size": 1, "cost": None}]
    path.write_text("group,size,cost\nA,1.5,2\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"line 2, column size: '1\.5': not a whole number"):
        read_rows(path, TYPES)


# The lock ----------------------------------------------------------------------------------

def test_a_folder_locked_by_another_writer_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FolderLock(out), pytest.raises(UsageError, match="being written by another process"):
        FolderLock(out).acquire()
    again = FolderLock(out).acquire()  # free once the first writer let go
    again.release()
    assert not out.exists()  # made by the lock, and nothing written: removed again


def test_a_folder_being_written_is_refused_by_every_study(tmp_path: Path) -> None:
    folder = game(tmp_path)
    out = tmp_path / "out"
    commands = [
        ["share", str(folder), *PRICE, "--out", str(out)],
        ["alternatives", str(folder), *PRICE, "--out", str(out)],
        ["sweep", str(folder), *PRICE, "--vary", "layers.max_share=0.6,0.7", "--no-plots",
         "--out", str(out)],
        ["stress", str(folder), *PRICE, "--sample", "3", "--out", str(out)],
    ]
    with FolderLock(out):
        for args in commands:
            result = run(*args)
            assert result.exit_code == 2, (args[0], result.output)
            assert f"is being written by another process (pid {os.getpid()})" in result.output
            assert os.listdir(out) == [".coalition.lock"]


# share -------------------------------------------------------------------------------------

def test_share_refuses_an_existing_folder_without_force(tmp_path: Path) -> None:
    folder = game(tmp_path)
    out = tmp_path / "run"
    assert run("solve", str(folder), *PRICE, "--out", str(out)).exit_code == 0
    summary = (out / "summary.json").read_text(encoding="utf-8")
    result = run("share", str(folder), *PRICE, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "already exists; pass --force to replace it, or --resume" in result.output
    assert (out / "summary.json").read_text(encoding="utf-8") == summary
    assert run("check", str(folder), *PRICE, str(out)).exit_code == 0
    forced = run("share", str(folder), *PRICE, "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert not (out / "allocation.csv").exists()  # replaced, not mixed with the run's files
    assert len(groups_csv(out)) == 7


def test_share_resume_refuses_another_case_or_options_by_name(tmp_path: Path) -> None:
    folder = game(tmp_path)
    out = tmp_path / "out"
    assert run("share", str(folder), *PRICE, "--out", str(out)).exit_code == 0
    before = groups_csv(out)
    other = run("share", str(folder), *PRICE, "--set", "layers.max_share=0.9", "--out",
                str(out), "--resume")
    assert other.exit_code == 2, other.output
    assert "--resume:" in other.output and "case_sha256" in other.output
    assert "overrides" in other.output
    seed = run("share", str(folder), *PRICE, "--seed", "7", "--out", str(out), "--resume")
    assert seed.exit_code == 2 and "seed: was 0, now 7" in seed.output
    pd.testing.assert_frame_equal(groups_csv(out), before)


def test_share_resume_recomputes_a_torn_row_and_refuses_an_edited_cell(tmp_path: Path) -> None:
    folder = game(tmp_path)
    out = tmp_path / "out"
    assert run("share", str(folder), *PRICE, "--out", str(out)).exit_code == 0
    whole = groups_csv(out)
    lines = (out / "groups.csv").read_text(encoding="utf-8").splitlines()
    # An interrupted run: two groups written, the third torn halfway through its row.
    (out / "groups.csv").write_text("\n".join(lines[:3]) + "\n" + lines[3][:4],
                                    encoding="utf-8")
    (out / "summary.json").unlink()
    resumed = run("share", str(folder), *PRICE, "--out", str(out), "--resume")
    assert resumed.exit_code == 0, resumed.output
    pd.testing.assert_frame_equal(groups_csv(out).drop(columns="seconds"),
                                  whole.drop(columns="seconds"), rtol=1e-9)
    lines = (out / "groups.csv").read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[2] = "nan"
    (out / "groups.csv").write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n",
                                    encoding="utf-8")
    edited = run("share", str(folder), *PRICE, "--out", str(out), "--resume")
    assert edited.exit_code == 2, edited.output
    assert "groups.csv, line 2, column cost: 'nan': not a finite number" in edited.output


def _signal_in_solve(monkeypatch: pytest.MonkeyPatch, nth: int, signum: int) -> list[int]:
    """Send ``signum`` to this process while HiGHS runs its ``nth`` solve (counted from 1)."""
    from solver.highs.runner import HighsRunner

    solves: list[int] = []
    solve, note_log = HighsRunner.solve, HighsRunner._note_log

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        solves.append(1)
        return solve(self, *args, **kwargs)

    def signalling(self, event):  # type: ignore[no-untyped-def]
        note_log(self, event)
        if len(solves) == nth and not sent:
            sent.append(signum)
            os.kill(os.getpid(), signum)

    sent: list[int] = []
    monkeypatch.setattr(HighsRunner, "solve", counting)
    monkeypatch.setattr(HighsRunner, "_note_log", signalling)
    return sent


@pytest.mark.parametrize(("signum", "code", "said"), [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_share_in_this_process_stops_on_a_signal_and_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: int, code: int,
        said: str) -> None:
    folder = game(tmp_path)
    out = tmp_path / "out"
    # Solves: the grand coalition, the priced grand coalition, then one per group.
    sent = _signal_in_solve(monkeypatch, 4, signum)
    stopped = run("share", str(folder), *PRICE, "--out", str(out))
    assert sent == [signum]
    assert stopped.exit_code == code, stopped.output
    assert f"{said}: the finished groups are kept in {out}" in stopped.output
    assert "--resume" in stopped.output
    kept = groups_csv(out)
    assert list(kept["status"]) == ["optimal"]  # the group before; none marked interrupted
    monkeypatch.undo()
    resumed = run("share", str(folder), *PRICE, "--out", str(out), "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert len(groups_csv(out)) == 7
    assert json.loads((out / "summary.json").read_text())["groups_evaluated"] == 7


# stress --sample ---------------------------------------------------------------------------

def test_sample_resume_refuses_another_case(tmp_path: Path) -> None:
    folder = game(tmp_path)
    out = tmp_path / "out"
    first = run("stress", str(folder), *PRICE, "--sample", "30", "--out", str(out))
    assert first.exit_code == 0, first.output
    draws = (out / "draws.csv").read_text(encoding="utf-8")
    other = run("stress", str(folder), *PRICE, "--set", "partners.disruption_risk=0.5",
                "--sample", "30", "--out", str(out), "--resume")
    assert other.exit_code == 2, other.output
    assert "case_sha256" in other.output and "overrides" in other.output
    assert (out / "draws.csv").read_text(encoding="utf-8") == draws
    again = run("stress", str(folder), *PRICE, "--sample", "30", "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.output


def test_sample_stops_on_ctrl_c_keeps_whole_batches_and_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from solver.studies.engine.recourse import Recourse

    folder = game(tmp_path)
    whole = run("stress", str(folder), *PRICE, "--sample", "60", "--seed", "2", "--out",
                str(tmp_path / "whole"))
    assert whole.exit_code == 0, whole.output
    solve, calls = Recourse.solve, []

    def signalling(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 30:  # within the second batch of 25 draws
            os.kill(os.getpid(), signal.SIGINT)
        return solve(self, *args, **kwargs)

    monkeypatch.setattr(Recourse, "solve", signalling)
    out = tmp_path / "out"
    stopped = run("stress", str(folder), *PRICE, "--sample", "60", "--seed", "2", "--out",
                  str(out))
    assert stopped.exit_code == 130, stopped.output
    assert f"interrupted: the finished draws are kept in {out}; run the same command with " \
           "--resume" in stopped.output
    assert len(pd.read_csv(out / "draws.csv")) == 25
    monkeypatch.undo()
    resumed = run("stress", str(folder), *PRICE, "--sample", "60", "--seed", "2", "--out",
                  str(out), "--resume")
    assert resumed.exit_code == 0, resumed.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "draws.csv"),
                                  pd.read_csv(tmp_path / "whole" / "draws.csv"))


# alternatives ------------------------------------------------------------------------------

def test_alternatives_resume_rechecks_the_plans_it_reads_back(tmp_path: Path) -> None:
    from tests.cases import write_case as write_base

    folder = write_base(tmp_path / "case")
    out = tmp_path / "out"
    first = run("alternatives", str(folder), "--slack", "0.1", "--count", "2", "--out",
                str(out))
    assert first.exit_code == 0, first.output
    summary = out / "alternative-1" / "summary.json"
    data = json.loads(summary.read_text(encoding="utf-8"))
    data["objective"] = 1.0
    summary.write_text(json.dumps(data), encoding="utf-8")
    resumed = run("alternatives", str(folder), "--slack", "0.1", "--count", "2", "--out",
                  str(out), "--resume")
    assert resumed.exit_code == 2, resumed.output
    assert f"{out / 'alternative-1'} does not pass the independent check any more" \
        in resumed.output
    assert "-99" not in resumed.output
