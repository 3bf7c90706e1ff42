"""The library API of SPEC section 7, exactly as written there, and its typed errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Three partners can host chips, at unit cost 1 (A), 2 (B) and 3 (C); demand 10.
THREE_SUPPLIERS = {
    "partners": "partner\nA\nB\nC\n",
    "layers": "layer,demand\nchips,10\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n"
                    "C,chips,100,3\n",
}

OUTPUTS = ["allocation.csv", "flows.csv", "layers.csv", "partners.csv", "summary.json"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the working directory) with a case in data/ and a model file."""
    write_case(tmp_path / "data" / "allied", **THREE_SUPPLIERS)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "allied.toml").write_text(
        'name = "Three suppliers"\ncase = "../data/allied"\n[solver]\nmip_gap = 0\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("path", ["data/allied", "models/allied.toml"])
def test_spec_section_7(project: Path, path: str) -> None:
    from solver import load_case, solve

    case = load_case(path)
    result = solve(case.with_overrides({"layers.max_share": 0.4}), time_limit=60)
    # Nobody supplies more than 4 of the 10: A 4 at 1, B 4 at 2, C 2 at 3 = 18.
    assert (result.status, result.objective) == ("optimal", pytest.approx(18.0, rel=1e-9))
    for frame in (result.allocation, result.flows, result.layers, result.partners):
        assert isinstance(frame, pd.DataFrame)
    assert result.allocation["supplied"].tolist() == pytest.approx([4.0, 4.0, 2.0], rel=1e-9)
    result.write("out/")
    assert sorted(p.name for p in (project / "out").iterdir()) == OUTPUTS
    written = json.loads((project / "out" / "summary.json").read_text())
    assert written["objective"] == pytest.approx(18.0, rel=1e-9)
    assert written["verified"] is True


def test_infeasible_max_share_raises(project: Path) -> None:
    from solver import InfeasibleError, load_case, solve

    case = load_case("data/allied").with_overrides({"layers.max_share": 0.3})
    with pytest.raises(InfeasibleError) as exc:
        solve(case)
    assert exc.value.report is not None
    assert "infeasible" in str(exc.value)


def test_infeasible_without_raising(project: Path) -> None:
    from solver import load_case, solve

    # Three suppliers of at most 3 units each cannot meet a demand of 10.
    case = load_case("data/allied").with_overrides({"layers.max_share": 0.3})
    result = solve(case, raise_on_failure=False)
    assert result.status == "infeasible"
    assert result.objective is None
    assert not result.has_solution
    assert not result.verified
    assert result.flows.empty


def test_result_fields(project: Path) -> None:
    from solver import Result, load_case, solve

    result = solve(load_case("data/allied"))
    assert isinstance(result, Result)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(10.0, rel=1e-9)
    assert result.bound is not None
    assert result.gap is not None
    assert result.verified
    assert result.violations == []
    assert result.costs == {"fixed": 0.0, "capacity": pytest.approx(10.0), "trade": 0.0,
                            "redundancy": 0.0, "risk": 0.0, "shortage": 0.0}
    assert result.summary["status"] == "optimal"
    assert result.summary["objective"] == result.objective


def test_write_refuses_an_existing_folder(project: Path) -> None:
    from solver import UsageError, load_case, solve

    result = solve(load_case("data/allied"))
    first = result.write(project / "out")
    assert first == project / "out"
    with pytest.raises(UsageError):
        result.write(project / "out")
    result.write(project / "out", force=True)
    assert sorted(p.name for p in (project / "out").iterdir()) == OUTPUTS


def test_typed_errors(project: Path) -> None:
    from solver import CaseError, CoalitionError, Problem, UsageError, load_case

    with pytest.raises(UsageError):
        load_case("data/nothing-here")
    (project / "data" / "allied" / "layers.csv").write_text(
        "layer,demand,max_share,min_trust\nchips,10,0,2\n")
    with pytest.raises(CaseError) as exc:
        load_case("data/allied")
    assert isinstance(exc.value, CoalitionError)
    assert len(exc.value.problems) == 2  # every problem, not the first one only
    assert all(isinstance(p, Problem) for p in exc.value.problems)
    assert {p.column for p in exc.value.problems} == {"max_share", "min_trust"}
    assert {p.line for p in exc.value.problems} == {2}
    assert all(p.file == "layers.csv" for p in exc.value.problems)


def test_error_classes_and_exit_codes() -> None:
    import solver

    codes = {"CaseError": 2, "UsageError": 2, "InfeasibleError": 3, "NoSolutionError": 4,
             "VerificationError": 5}
    for name, code in codes.items():
        cls = getattr(solver, name)
        assert issubclass(cls, solver.CoalitionError)
        assert cls.exit_code == code


def test_public_names() -> None:
    import solver

    for name in solver.__all__:
        assert getattr(solver, name) is not None
    # The function, not the submodule of the same name, even after the submodule is loaded.
    import solver.solve as _  # noqa: F401
    from solver import solve

    assert callable(solve)
    assert solve.__module__ == "solver.solve"


def test_the_library_never_prints(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from solver import load_case, solve

    case = load_case("models/allied.toml")
    result = solve(case.with_overrides({"layers.max_share": 0.4}))
    result.write("out/")
    solve(case.with_overrides({"layers.max_share": 0.3}), raise_on_failure=False)
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_a_plan_the_checker_rejects_raises_verification_error(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import solver.check.run
    from solver import VerificationError, load_case, solve
    from solver.check.run import Violation

    wrong = Violation("capacity", "A,chips", 2.0, "layer chips: capacity: A over by 2")
    monkeypatch.setattr(solver.check.run, "check_solution", lambda *a, **k: [wrong])
    case = load_case("data/allied")
    with pytest.raises(VerificationError, match="A over by 2") as caught:
        solve(case)
    assert caught.value.violations == [wrong]
    assert caught.value.result.verified is False
    assert caught.value.result.objective == pytest.approx(10)
    assert solve(case, raise_on_failure=False).verified is False


def test_a_highs_failure_is_a_solver_error_not_a_missing_plan(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from solver import SolverError, load_case, solve
    from solver.highs.runner import HighsRunner, SolveReport, Status

    def failed(self: HighsRunner, m: object, groups: object = None) -> SolveReport:
        return SolveReport(status=Status.ERROR, has_solution=False, objective=None,
                           bound=None, gap=None, highs_seconds=0.0, wall_seconds=0.0,
                           termination="kSolveError")

    monkeypatch.setattr(HighsRunner, "solve", failed)
    with pytest.raises(SolverError, match="HiGHS failed \\(kSolveError\\)") as caught:
        solve(load_case("data/allied"))
    assert caught.value.exit_code == 1


def test_the_explanation_of_an_infeasible_case_keeps_the_solve_options(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import solver.diagnose.explain
    from solver import InfeasibleError, load_case, solve

    seen = []
    explain = solver.diagnose.explain.explain

    def spy(case: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((case.solver.time_limit, case.solver.threads))
        return explain(case, *args, **kwargs)

    monkeypatch.setattr(solver.diagnose.explain, "explain", spy)
    # A budget below the cheapest plan (10) passes the checks before solving.
    case = load_case("data/allied").with_overrides({"objective.budget": 5})
    with pytest.raises(InfeasibleError, match="budget"):
        solve(case, time_limit=7.5)
    assert seen == [(7.5, 1)]
