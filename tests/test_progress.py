"""Progress of solve, stress and frontier, and how results show (repr, notebooks)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main
from solver.highs.runner import SolveProgress
from solver.report.compare import compare_runs
from solver.studies.engine.steps import SolveWatch, Steps, describe

try:
    from tiny import TWO_SUPPLIERS, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import TWO_SUPPLIERS, write_case

SAMPLE = Path(__file__).resolve().parent.parent / "models" / "allied-ai-stack.toml"

# Two suppliers, each at most 60% of chips: a MIP with both hosting.
CASE = dict(TWO_SUPPLIERS, layers="layer,demand,min_suppliers,max_share\nchips,10,2,0.6\n")


class Recorder:
    def __init__(self) -> None:
        self.events: list[SolveProgress] = []

    def __call__(self, p: SolveProgress) -> None:
        self.events.append(p)


def test_a_solve_reports_its_incumbents_and_bounds_as_it_runs():
    seen = Recorder()
    result = solve(load_case(SAMPLE), progress=seen)
    improving = [e for e in seen.events if e.improved]
    assert improving, "HiGHS reported no incumbent"
    assert improving[-1].incumbent == pytest.approx(result.objective)
    assert all(e.bound is None or e.bound <= result.objective + 1e-6 for e in seen.events)
    assert [e.elapsed for e in seen.events] == sorted(e.elapsed for e in seen.events)


def test_a_second_solve_of_one_runner_counts_its_time_from_zero():
    """A runner's second solve (a strengthened solve's last) reports elapsed >= 0.

    HiGHS's callback clock restarts with each run while getRunTime adds up: subtracting
    the one from the other read below zero (minutes below, after a strengthening).
    """
    import time

    from solver.highs.runner import HighsRunner
    from solver.model.build import build
    from solver.solve import variable_groups

    built = build(load_case(SAMPLE))
    runner = HighsRunner()
    runner.set_model(built.m, dict(variable_groups(built.m)))
    runner.solve(None)
    seen = Recorder()
    runner.progress = seen
    runner.restart_clock()
    started = time.perf_counter()
    runner.solve(None)
    took = time.perf_counter() - started
    assert seen.events, "HiGHS reported no progress"
    assert all(0.0 <= e.elapsed <= took for e in seen.events)


def test_solve_watch_prints_plain_lines_or_one_line_redrawn():
    p = SolveProgress(elapsed=3.2, incumbent=896.103, bound=895.0713, gap=0.00121,
                      improved=True)
    assert describe(p) == "00:03 elapsed, incumbent 896.103, bound 895.071, gap 0.12%"
    plain = io.StringIO()
    watch = SolveWatch(plain, tty=False)
    watch(p)
    watch(SolveProgress(elapsed=3.3, incumbent=896.103, bound=895.2, gap=0.001))
    assert plain.getvalue().splitlines() == [f"solve: {describe(p)} (new incumbent)"]
    term = io.StringIO()
    watch = SolveWatch(term, tty=True)
    watch(p)
    watch.done()
    assert term.getvalue().startswith("\rsolve: 00:03 elapsed") and term.getvalue()[-1] == "\r"


def test_solve_shows_progress_on_stderr_and_nothing_with_quiet(tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(main, ["solve", str(SAMPLE), "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert re.search(r"^solve: \d\d:\d\d elapsed, incumbent [\d,.]+, bound", result.stderr,
                     re.M), result.stderr
    assert "solve:" not in result.stdout
    quiet = runner.invoke(main, ["-q", "solve", str(SAMPLE), "--out", str(tmp_path / "b")])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_stress_and_frontier_count_their_solves(tmp_path: Path):
    case = write_case(tmp_path / "case", **CASE)
    runner = CliRunner()
    stress = runner.invoke(main, ["stress", str(case), "--out", str(tmp_path / "s")])
    assert stress.exit_code == 0, stress.output
    lines = stress.stderr.splitlines()
    assert lines[0] == "stress: 2 solves"
    assert lines[1].startswith("[1/2] lost A: unmet ")
    assert lines[2].startswith("[2/2] lost B: unmet ") and " elapsed" in lines[2]
    frontier = runner.invoke(main, ["frontier", str(case), "--trade-off", "layers.max_share",
                                    "--points", "2", "--out", str(tmp_path / "f")])
    assert frontier.exit_code == 0, frontier.output
    assert re.search(r"^frontier: \d+ solves$", frontier.stderr, re.M)
    assert re.search(r"^\[1/\d+\] loose end layers.max_share=1: optimal, cost 10.5;",
                     frontier.stderr, re.M), frontier.stderr
    quiet = runner.invoke(main, ["-q", "stress", str(case), "--out", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_steps_on_a_terminal_redraw_one_line():
    out = io.StringIO()
    steps = Steps(out, tty=True)
    steps.start("stress", 2)
    steps.step("lost A: unmet 0.0%")
    steps.finish()
    assert out.getvalue().startswith("\rstress [1/2] lost A: unmet 0.0%; 00:00 elapsed")
    assert out.getvalue().endswith("\r")


def test_results_have_a_short_repr_and_show_as_tables_in_a_notebook(tmp_path: Path):
    case = load_case(write_case(tmp_path / "case", **CASE))
    assert repr(case) == ("Case('case', 2 partners, 1 layers, 2 capabilities, 1 demand rows, "
                          "0 trade rows)")
    result = solve(case)
    assert repr(result) == ("Result(status='optimal', objective=14, gap=0.00e+00, "
                            "verified=True, 1 layers, 2 hosting pairs, 2 flows)")
    page = result._repr_html_()
    assert page.count("<table") == 5 and "verified" in page and "chips" in page
    a = result.write(tmp_path / "a")
    b = solve(case.with_overrides({"layers.max_share": 0.8})).write(tmp_path / "b")
    comparison = compare_runs(a, b)
    assert repr(comparison).startswith(f"Comparison('{a}' -> '{b}': cost change -2")
    assert "<table" in comparison._repr_html_()
