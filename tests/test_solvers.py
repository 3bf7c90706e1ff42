"""--solver NAME: another MILP solver through Pyomo, its plan checked just as HiGHS's is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.check.run import check_run
from solver.cli import main
from solver.errors import UsageError
from solver.highs.pyomo_runner import installed, resolve

try:
    from tiny import TWO_SUPPLIERS, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import TWO_SUPPLIERS, write_case

SAMPLE = Path(__file__).resolve().parent.parent / "models" / "allied-ai-stack.toml"

pytest.importorskip("pyscipopt", reason="SCIP comes with the dev extras (pyscipopt)")


def test_scip_finds_highs_optimum_on_the_sample_and_the_checker_verifies_it(tmp_path: Path):
    case = load_case(SAMPLE)
    highs = solve(case, mip_gap=0.0)
    scip = solve(case, mip_gap=0.0, solver="scip")
    assert scip.status == "optimal" and scip.verified
    assert scip.objective == pytest.approx(highs.objective, rel=1e-6)
    assert scip.summary["solver"]["name"] == "scip"
    assert scip.summary["size"]["constraints"] == highs.summary["size"]["constraints"]
    out = scip.write(tmp_path / "scip")
    assert check_run(case, out) == []


def test_the_model_files_solver_name_is_used_and_the_command_line_overrides_it(
        tmp_path: Path):
    write_case(tmp_path / "data" / "c", **TWO_SUPPLIERS)
    model = tmp_path / "models" / "m.toml"
    model.parent.mkdir()
    model.write_text('case = "../data/c"\n[solver]\nname = "scip"\n', encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["solve", str(model), "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["solver"]["name"] == "scip" and summary["objective"] == pytest.approx(10)
    result = runner.invoke(main, ["solve", str(model), "--solver", "highs",
                                  "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["solver"]["name"] == \
        "highs"


def test_a_sweep_runs_on_scip(tmp_path: Path):
    case = write_case(tmp_path / "c", **TWO_SUPPLIERS)
    result = CliRunner().invoke(main, ["sweep", str(case), "--vary", "layers.demand=10,20",
                                       "--solver", "scip", "--workers", "1", "--no-plots",
                                       "--out", str(tmp_path / "sweep")])
    assert result.exit_code == 0, result.output
    assert "2 points, 2 with a plan" in result.output


def test_an_unknown_or_missing_solver_is_exit_2_naming_what_is_installed(tmp_path: Path):
    case = write_case(tmp_path / "c", **TWO_SUPPLIERS)
    here = installed()
    assert here[:2] == ["highs", "scip"]
    missing = [n for n in ("xpress", "cplex", "gurobi") if n not in here][:1]
    for name, why in [("nosuch", "is not a solver Pyomo knows")] + [
            (n, "is not installed") for n in missing]:
        result = CliRunner().invoke(main, ["solve", str(case), "--solver", name,
                                           "--out", str(tmp_path / name)])
        assert result.exit_code == 2, result.output
        assert f"solver {name!r} {why}; installed: {', '.join(here)}" in result.output
        assert not (tmp_path / name).exists()
    with pytest.raises(UsageError):
        resolve("nosuch")


def test_highs_solves_with_any_thread_count_in_one_process() -> None:
    """HiGHS's one scheduler per process: a change of threads restarts it (set_threads)."""
    from solver.highs.runner import new_highs, set_threads

    def status(threads: int) -> str:
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.addVar(0.0, 1.0)
        h.changeColCost(0, -1.0)
        set_threads(h, threads)
        h.run()
        return str(h.modelStatusToString(h.getModelStatus()))

    assert [status(t) for t in (2, 1, 2)] == ["Optimal"] * 3


@pytest.mark.parametrize("name", ["mindtpy", "gdpopt", "multistart", "MindtPy"])
def test_a_pyomo_method_that_is_not_a_milp_solver_is_refused_before_solving(
        tmp_path: Path, name: str):
    # Pyomo's factory has them (so they looked installed) but they fail on this model.
    case = write_case(tmp_path / "case", **TWO_SUPPLIERS)
    for command in (["solve", str(case), "--out", str(tmp_path / "run")],
                    ["sweep", str(case), "--vary", "layers.max_share=0.6,1",
                     "--out", str(tmp_path / "sweep")]):
        result = CliRunner().invoke(main, [*command, "--solver", name])
        assert result.exit_code == 2, result.output
        assert f"solver {name!r} is not a MILP solver" in result.output
        assert "installed: highs" in result.output
    assert not (tmp_path / "run").exists() and not (tmp_path / "sweep").exists()
    with pytest.raises(UsageError, match="not a MILP solver"):
        resolve(name)
    assert resolve("appsi_highs")[1] == "appsi_highs"
