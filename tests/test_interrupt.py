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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from solver.cli import main
from solver.errors import Terminated
from solver.highs import runner
from solver.report import run_folder

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
    real = run_folder.write_tables

    def write_then_stop(target: Path, *args: object, **kwargs: object) -> None:
        real(target, *args, **kwargs)  # type: ignore[arg-type]
        assert any(target.iterdir())  # half the run is on disk when the stop comes
        raise stop

    monkeypatch.setattr(run_folder, "write_tables", write_then_stop)
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


@pytest.fixture
def highs_limit(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int], None]:
    """Set a HiGHS work limit on every solver made in the test (a count, not a clock).

    HiGHS reports a node, solution or iteration limit as it reports a time limit (the status
    ``time_limit`` with a plan, ``no_solution`` without one), but where it stops does not
    depend on the machine's load: a wall-clock limit on a loaded machine may come before the
    first plan (the run then exits 4) or after the proof of optimality.
    """
    def limit(option: str, value: int) -> None:
        real = runner.new_highs

        def limited() -> Any:
            highs = real()
            highs.setOptionValue(option, value)
            return highs

        monkeypatch.setattr(runner, "new_highs", limited)

    return limit


def test_a_limit_keeps_the_best_plan_found(slower_case: Path, tmp_path: Path,
                                           highs_limit: Callable[[str, int], None]) -> None:
    # HiGHS proves this optimum (gap 0) after many nodes; it stops at its first plan.
    highs_limit("mip_max_improving_sols", 1)
    out = tmp_path / "run"
    result = run("solve", str(slower_case), "--out", str(out), "--time-limit", "3600",
                 "--mip-gap", "0")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "time_limit"
    assert summary["solver"]["time_limit"] == 3600
    assert summary["gap"] > 0
    assert summary["objective"] >= summary["bound"]
    assert summary["verified"] is True
    assert "case slower: time_limit" in result.stdout


def test_a_limit_without_a_plan_exits_4(slow_case: Path, tmp_path: Path,
                                        highs_limit: Callable[[str, int], None]) -> None:
    # No branch-and-bound node: HiGHS stops before its heuristics find a plan, however fast
    # the machine.
    highs_limit("mip_max_nodes", 0)
    out = tmp_path / "run"
    result = run("solve", str(slow_case), "--out", str(out), "--time-limit", "60")
    assert result.exit_code == 4, result.output
    assert ("HiGHS stopped (no_solution) before finding a feasible plan within the time limit "
            "of 60 s; raise --time-limit") in result.stderr
    assert leftovers(tmp_path) == []


# A sweep's worker processes end with their parent, however it ends (issue "Nothing silently
# wrong", item 4): a SIGKILLed parent cannot stop them itself.

def _children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid`` and their command lines, read from /proc."""
    found: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                found[int(stat.parent.name)] = cmdline.decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # the process ended while it was read
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for(condition: object, timeout: float, what: str) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -signal.SIGKILL),
                                              (signal.SIGTERM, 143)])
def test_sweep_workers_end_with_their_parent(slow_case: Path, tmp_path: Path, signum: int,
                                             code: int) -> None:
    out = tmp_path / "sweep"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "solver", "sweep", str(slow_case), "--workers", "2",
         "--mip-gap", "0", "--no-plots", "--out", str(out),
         "--vary", "layers.max_share=0.4,0.41,0.42,0.43,0.44,0.45,0.46,0.47"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    workers: dict[int, str] = {}
    try:
        # The event: a point has finished, so both workers are up and solving.
        for line in proc.stderr:
            if line.startswith("[1/8]"):
                break
        assert proc.poll() is None, "the sweep ended before it could be stopped"
        _wait_for(lambda: len([c for c in _children(proc.pid).values()
                               if "multiprocessing" in c and "resource_tracker" not in c]) == 2,
                  120, "two worker processes")
        workers = _children(proc.pid)  # the workers and multiprocessing's resource tracker
        proc.send_signal(signum)
        rest = proc.stderr.read()
        assert proc.wait(timeout=120) == code, rest[-2000:]
        _wait_for(lambda: not any(_alive(pid) for pid in workers), 120,
                  f"the workers {sorted(workers)} to end")
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert not [pid for pid in workers if _alive(pid)]
    assert "Traceback" not in rest
    if signum == signal.SIGTERM:
        assert "terminated (SIGTERM): " in rest and "finished point(s) kept in" in rest
    rows = (out / "sweep.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) >= 2  # the header and the point that finished before the signal
