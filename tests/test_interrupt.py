"""Interrupted and limited runs: nothing half-written, nothing lost.

A run folder appears complete or not at all; Ctrl-C (SIGINT) during a solve leaves no
folder and exits 130; an existing folder is replaced only with --force; a time limit keeps
the best plan found (status time_limit, with its gap) or exits 4 when there is none.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from solver import results
from solver.cli import main

try:
    from cases import write_case, write_random_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import write_case, write_random_case

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def slow_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case HiGHS needs several seconds for (a feasible plan comes within 0.1 s)."""
    return write_random_case(tmp_path_factory.mktemp("slow") / "slow", partners=30, layers=8,
                             members=10, seed=1)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_sigint_during_solve_leaves_no_run_folder(slow_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs" / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "solver", "-vv", "solve", str(slow_case), "--out", str(out)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    try:
        # The model is built once the builder logs it; HiGHS then runs for seconds.
        for line in proc.stderr:
            if "solver.model.build: built" in line:
                break
        time.sleep(1.0)
        assert proc.poll() is None, "the solve ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, rest[-2000:]
    assert "interrupted: nothing was written" in rest
    assert "Traceback" not in rest
    assert not out.exists()
    assert not (tmp_path / "runs").exists() or leftovers(tmp_path / "runs") == []


def test_interrupt_while_writing_leaves_nothing(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_case(tmp_path / "case")
    out = tmp_path / "runs" / "run"
    real = results.write_tables

    def write_then_interrupt(target: Path, *args: object, **kwargs: object) -> None:
        real(target, *args, **kwargs)  # type: ignore[arg-type]
        assert any(target.iterdir())  # half the run is on disk when Ctrl-C comes
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "write_tables", write_then_interrupt)
    result = run("solve", str(folder), "--out", str(out))
    assert result.exit_code == 130
    assert "interrupted: nothing was written" in result.stderr
    assert leftovers(tmp_path / "runs") == []


def test_existing_run_folder_needs_force(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run("solve", str(folder), "--out", str(out))
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.stderr
    assert leftovers(out) == ["notes.txt"]
    # --force replaces run folders only: the notes stay.
    result = run("solve", str(folder), "--out", str(out), "--force")
    assert result.exit_code == 2
    assert "is not a run folder (it holds notes.txt)" in result.stderr
    assert leftovers(out) == ["notes.txt"]
    (out / "notes.txt").unlink()
    for _ in range(2):  # an empty folder, then a run folder with --force
        result = run("solve", str(folder), "--out", str(out), "--force")
        assert result.exit_code == 0, result.output
        assert leftovers(out) == ["allocation.csv", "flows.csv", "layers.csv",
                                  "partners.csv", "summary.json"]
    assert leftovers(tmp_path) == ["case", "run"]


def test_time_limit_keeps_the_best_plan_found(slow_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run("solve", str(slow_case), "--out", str(out), "--time-limit", "1")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "time_limit"
    assert summary["gap"] > 0
    assert summary["objective"] >= summary["bound"]
    assert summary["verified"] is True
    assert "case slow: time_limit" in result.stdout


def test_time_limit_without_a_plan_exits_4(slow_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run("solve", str(slow_case), "--out", str(out), "--time-limit", "0.001")
    assert result.exit_code == 4
    assert ("HiGHS stopped (no_solution) before finding a feasible plan within the time limit "
            "of 0.001 s; raise --time-limit") in result.stderr
    assert leftovers(tmp_path) == []
