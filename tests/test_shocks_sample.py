"""The sample's shock model (models/allied-ai-stack-shocks.toml) and ``[scenarios] file``."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver import load_case, solve
from solver.check.run import check_run
from solver.errors import CaseError

ROOT = Path(__file__).resolve().parent.parent


def test_the_shock_model_designs_against_its_scenarios(tmp_path: Path) -> None:
    case = load_case(ROOT / "models" / "allied-ai-stack-shocks.toml")
    assert case.scenario_options.design == "cvar"
    assert case.scenarios is not None
    assert set(case.scenarios["scenario"]) == {"taiwan_strait", "eu_energy_crisis",
                                               "largest_cloud_host"}
    result = solve(case)
    assert result.verified, result.violations
    assert result.costs["recourse"] > 0
    run = result.write(tmp_path / "run")
    assert (run / "scenarios.csv").is_file() and (run / "scenario_flows.csv").is_file()
    assert check_run(case, run) == []


def test_a_bad_scenarios_file_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "s.csv").write_text("scenario,probability,partner\nx,0.5,NOBODY\n")
    model = tmp_path / "models" / "m.toml"
    case_dir = ROOT / "data" / "allied-ai-stack"
    model.write_text(f'case = "{case_dir}"\n[scenarios]\nfile = "../s.csv"\n')
    with pytest.raises(CaseError) as info:
        load_case(model, allow_outside=True)
    assert "scenarios.csv, line 2, column partner" in str(info.value)
