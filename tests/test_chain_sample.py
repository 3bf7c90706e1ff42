"""The sample as a chain (models/allied-ai-stack-chain.toml): the README's numbers are real."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.check.run import check_run
from solver.cli import main
from solver.studies.shocks.stress import stress

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "allied-ai-stack-chain.toml"


def readme_block(command: str) -> list[str]:
    """The lines the README shows under ``$ command``."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"$ {command}") + 1
    end = lines.index("```", start)
    return lines[start:end]


@pytest.mark.slow
def test_the_chained_sample_is_what_the_readme_shows(tmp_path: Path) -> None:
    out = tmp_path / "chained"
    result = CliRunner().invoke(main, ["solve", str(MODEL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    shown = readme_block("coalition solve models/allied-ai-stack-chain.toml --out out/chained")
    printed = result.stdout.replace(str(out), "out/chained").rstrip("\n").splitlines()
    assert printed == shown
    case = load_case(MODEL)
    assert check_run(case, out) == []
    # Losing Taiwan: 40% of chips and of every layer they feed unmet, 296 of the 416 unmet
    # through inputs (README): chips short for lack of chips, cloud compute and AI models
    # short for lack of their inputs.
    table = stress(case, partners=["TW"], result=solve(case)).set_index(["scope", "layer"])
    for layer, unmet, through in [("semiconductors", 120.0, 0.0), ("cloud_compute", 80.0, 80.0),
                                  ("ai_models", 48.0, 48.0), ("energy", 0.0, 0.0)]:
        assert table.loc[("layer", layer), "unmet"] == pytest.approx(unmet, abs=1e-3)
        assert table.loc[("layer", layer), "through_inputs"] == pytest.approx(through, abs=1e-3)
    assert table.loc[("total", ""), "unmet"] == pytest.approx(416.0, abs=1e-3)
    assert table.loc[("total", ""), "through_inputs"] == pytest.approx(296.0, abs=1e-3)
