"""Progress of one solve: HiGHS's incumbent, bound and gap, as the command line shows them."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from solver.cli import main
from solver.cli.progress import SolvePrinter, describe
from solver.highs.runner import SolveProgress

SAMPLE = str(Path(__file__).resolve().parent.parent / "models" / "allied-ai-stack.toml")


def test_the_library_reports_incumbent_bound_and_gap_as_highs_logs_them() -> None:
    from solver import load_case, solve

    seen: list[SolveProgress] = []
    result = solve(load_case(SAMPLE), progress=seen.append)
    assert seen, "HiGHS logged no line of its MIP search"
    with_plan = [p for p in seen if p.incumbent is not None]
    assert with_plan, "no incumbent was ever reported"
    last = with_plan[-1]
    assert last.incumbent == result.objective or abs(last.incumbent - result.objective) < 1e-6
    assert all(p.bound is None or p.incumbent is None or p.bound <= p.incumbent + 1e-6
               for p in seen)
    assert [p.seconds for p in seen] == sorted(p.seconds for p in seen)


def test_solve_prints_plain_progress_lines_off_a_terminal(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["solve", SAMPLE, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("solving:")]
    assert lines and "\r" not in result.stderr
    assert any("incumbent 89" in line and "gap" in line for line in lines)


def test_quiet_and_verbose_show_no_progress_line(tmp_path: Path) -> None:
    for flag in ("-q", "-v"):
        result = CliRunner().invoke(main, [flag, "solve", SAMPLE, "--out",
                                           str(tmp_path / flag)])
        assert result.exit_code == 0, result.output
        assert "solving:" not in result.stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_line_is_rewritten_in_place_and_cleared() -> None:
    out = Terminal()
    printer = SolvePrinter(out)
    printer(SolveProgress(seconds=1.0, incumbent=None, bound=5.0, gap=None, nodes=0))
    printer(SolveProgress(seconds=2.0, incumbent=10.0, bound=9.0, gap=0.1, nodes=12))
    printer.close()
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 3 and "\n" not in text
    assert "incumbent 10, bound 9, gap 10.00%, 12 nodes" in text


def test_off_a_terminal_lines_come_on_a_new_incumbent_or_every_ten_seconds() -> None:
    out = io.StringIO()
    printer = SolvePrinter(out)
    for seconds, incumbent in [(0, None), (1, None), (2, 50.0), (3, 50.0), (13, 50.0),
                               (14, 40.0)]:
        printer(SolveProgress(seconds=seconds, incumbent=incumbent, bound=1.0, gap=None,
                              nodes=0))
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["0.0", "2.0", "13.0", "14.0"]
    assert describe(SolveProgress(1.0, None, None, None, 0)).endswith(
        "incumbent none yet, bound -, gap -, 0 nodes")
