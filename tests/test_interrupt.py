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
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from solver import results
from solver.cli import main
from solver.errors import Terminated

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


@pytest.fixture(scope="module")
def slower_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case whose branch and bound runs for seconds after it starts, at --mip-gap 0."""
    return write_random_case(tmp_path_factory.mktemp("slower") / "slower", partners=60,
                             layers=12, members=20, seed=3)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


#: HiGHS's branch-and-bound table header: the MIP search has begun (and has seconds to go).
BRANCH_AND_BOUND = "Src  Proc. InQueue"


@pytest.mark.parametrize(("signum", "code", "message"), [
    (signal.SIGINT, 130, "interrupted: nothing was written"),
    (signal.SIGTERM, 143, "terminated (SIGTERM): nothing was written"),
])
def test_a_signal_during_the_solve_leaves_no_run_folder(slower_case: Path, tmp_path: Path,
                                                         signum: int, code: int,
                                                         message: str) -> None:
    out = tmp_path / "runs" / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "solver", "-vv", "solve", str(slower_case), "--out", str(out),
         "--mip-gap", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        # As a shell without job control starts a background job: SIGINT ignored. The
        # command must still stop on it (Python leaves an inherited SIG_IGN in place).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        # Wait for the event, not for a time: HiGHS has started its branch and bound.
        for line in proc.stderr:
            seen.append(line)
            if BRANCH_AND_BOUND in line:
                break
        assert proc.poll() is None, "the solve ended before it could be interrupted"
        proc.send_signal(signum)
        rest = proc.stderr.read()
        code_seen = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "HiGHS: optimal" not in rest, "HiGHS finished: the signal came too late"
    assert code_seen == code, rest[-2000:]
    assert message in rest
    assert "Traceback" not in rest
    assert not out.exists()
    assert not (tmp_path / "runs").exists() or leftovers(tmp_path / "runs") == []


@pytest.mark.parametrize(("stop", "code", "message"), [
    (KeyboardInterrupt, 130, "interrupted: nothing was written"),
    (Terminated, 143, "terminated (SIGTERM): nothing was written"),
])
def test_a_stop_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             stop: type[KeyboardInterrupt], code: int,
                                             message: str) -> None:
    folder = write_case(tmp_path / "case")
    out = tmp_path / "runs" / "run"
    real = results.write_tables

    def write_then_stop(target: Path, *args: object, **kwargs: object) -> None:
        real(target, *args, **kwargs)  # type: ignore[arg-type]
        assert any(target.iterdir())  # half the run is on disk when the stop comes
        raise stop

    monkeypatch.setattr(results, "write_tables", write_then_stop)
    result = run("solve", str(folder), "--out", str(out))
    assert result.exit_code == code
    assert message in result.stderr
    assert leftovers(tmp_path / "runs") == []


def test_a_later_run_removes_the_leftovers_of_a_killed_one(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    runs = tmp_path / "runs"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)  # a process that has ended: its folders are nobody's
    stale = [runs / f".run.{pid}.x1y2.partial", runs / f".run.old-{pid}"]
    live = runs / f".run.{os.getpid()}.a1b2.partial"  # this process is alive: left alone
    other = runs / f".other.{pid}.q.partial"  # another run's name: not this run's business
    for d in [*stale, live, other]:
        d.mkdir(parents=True)
        (d / "allocation.csv").write_text("partner\n")
    result = run("solve", str(folder), "--out", str(runs / "run"))
    assert result.exit_code == 0, result.output
    assert leftovers(runs) == sorted([live.name, other.name, "run"])


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


def test_time_limit_keeps_the_best_plan_found(slower_case: Path, tmp_path: Path) -> None:
    # HiGHS proves this optimum (gap 0) in several seconds and has a plan from its root node.
    out = tmp_path / "run"
    result = run("solve", str(slower_case), "--out", str(out), "--time-limit", "2",
                 "--mip-gap", "0")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "time_limit"
    assert summary["gap"] > 0
    assert summary["objective"] >= summary["bound"]
    assert summary["verified"] is True
    assert "case slower: time_limit" in result.stdout


def test_time_limit_without_a_plan_exits_4(slow_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run("solve", str(slow_case), "--out", str(out), "--time-limit", "0.001")
    assert result.exit_code == 4
    assert ("HiGHS stopped (no_solution) before finding a feasible plan within the time limit "
            "of 0.001 s; raise --time-limit") in result.stderr
    assert leftovers(tmp_path) == []
