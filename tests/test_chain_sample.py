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
    # Losing Taiwan: 161 of chip demand unmet, 103 of it through inputs (README).
    table = stress(case, partners=["TW"], result=solve(case))
    semis = table[(table["scope"] == "layer") & (table["layer"] == "semiconductors")].iloc[0]
    assert semis["unmet"] == pytest.approx(161.1392, abs=1e-3)
    assert semis["through_inputs"] == pytest.approx(102.848, abs=1e-3)
