"""What a new user reads matches what the tool does (issue 11, item 7)."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import solver.errors
from solver import load_case, solve
from solver.cli import main
from solver.errors import CoalitionError, UsageError

try:
    from tiny import TWO_SUPPLIERS, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import TWO_SUPPLIERS, write_case

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_model_file_is_the_sample_model_file():
    block = README.split("A model file (`models/*.toml`) names a case")[1]
    toml = block.split("```toml\n", 1)[1].split("```", 1)[0]
    assert toml == (ROOT / "models" / "allied-ai-stack.toml").read_text(encoding="utf-8")
    assert tomllib.loads(toml)["sweep"]["vary"] == ["layers.max_share=0.3:0.6:0.1"]


def test_the_readme_lists_every_key_of_summary_json(tmp_path: Path):
    out = solve(load_case(write_case(tmp_path / "c", **TWO_SUPPLIERS))).write(tmp_path / "r")
    summary = json.loads((out / "summary.json").read_text())
    row = next(line for line in README.splitlines() if line.startswith("| summary.json |"))
    listed = set(re.findall(r"[a-z_0-9]+", row.split("|")[3]))
    assert set(summary) <= listed, set(summary) - listed
    for section in ("size", "solver"):
        assert set(summary[section]) <= listed, set(summary[section]) - listed


def test_the_readme_names_every_typed_error():
    errors = [name for name, value in vars(solver.errors).items()
              if isinstance(value, type) and issubclass(value, CoalitionError)
              and value is not CoalitionError]
    library = README.split("## Using it as a library")[1]
    for name in errors:
        assert f"`{name}`" in library, name


def test_sweeps_written_line_names_the_files_it_wrote(tmp_path: Path):
    case = write_case(tmp_path / "c", **TWO_SUPPLIERS)
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(case), "--vary", "layers.demand=10,20",
                                       "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("written:"))
    files = line.split("(", 1)[1].rstrip(")").split(", ")
    assert "sweep.json" in files
    assert all((out / f).exists() for f in files), files
    on_disk = {p.name + ("/" if p.is_dir() else "") for p in out.iterdir()}
    assert on_disk == set(files)
    assert f"written: out/sweep ({', '.join(files)})" in README


@pytest.mark.parametrize("arguments", [
    {"time_limit": 0}, {"time_limit": -5}, {"mip_gap": -1e-4}, {"threads": 0},
    {"threads": 1.5}, {"time_limit": "60"}, {"mip_gap": True}, {"threads": "2"},
    {"solver": 3},
])
def test_solve_checks_its_arguments_as_the_command_line_does(tmp_path: Path, arguments):
    case = load_case(write_case(tmp_path / "c", **TWO_SUPPLIERS))
    with pytest.raises(UsageError, match=r"solve\(\): "):
        solve(case, **arguments)


def test_solve_takes_numpy_numbers(tmp_path: Path):
    import numpy as np

    case = load_case(write_case(tmp_path / "c", **TWO_SUPPLIERS))
    result = solve(case, time_limit=np.float64(30), threads=np.int64(1), mip_gap=0)
    assert result.summary["solver"]["threads"] == 1


def test_force_messages_name_the_flag(tmp_path: Path):
    case = load_case(write_case(tmp_path / "c", **TWO_SUPPLIERS))
    result = solve(case)
    result.write(tmp_path / "r")
    with pytest.raises(UsageError) as info:
        result.write(tmp_path / "r")
    assert "pass --force to replace it" in str(info.value)
    assert "force=True" not in str(info.value)


def test_time_limit_help_says_the_model_file_applies():
    result = CliRunner().invoke(main, ["solve", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    assert "the model file's [solver] time_limit, else no limit" in text
    assert "the model file's [solver] mip_gap, else 1e-4" in text


def test_chart_axes_carry_the_cost_unit(tmp_path: Path, monkeypatch):
    from matplotlib.figure import Figure

    from solver.studies.sweep.frontier import frontier

    labels: list[str] = []
    original = Figure.savefig

    def keep(fig, *args, **kwargs):  # type: ignore[no-untyped-def]
        labels.extend(ax.get_ylabel() for ax in fig.axes)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    folder = write_case(tmp_path / "c", **dict(
        TWO_SUPPLIERS, layers="layer,demand,min_suppliers\nchips,10,2\n"))
    model = tmp_path / "c.toml"
    model.write_text('case = "c"\nunit = "USD bn a year"\n', encoding="utf-8")
    frontier(load_case(model), "layers.max_share", 2, out=tmp_path / "f")
    assert "total cost (USD bn a year)" in labels
    labels.clear()  # a case folder names no unit: none is claimed
    frontier(load_case(folder), "layers.max_share", 2, out=tmp_path / "g")
    assert "total cost" in labels and not any("USD" in label for label in labels)


def test_docstrings_point_only_at_files_the_repository_has():
    missing = []
    for path in (ROOT / "solver").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                doc = ast.get_docstring(node) or ""
                for ref in re.findall(r"\b(?:[\w.-]+/)+[\w.-]+\.(?:py|md|toml|txt)\b", doc):
                    if not (ROOT / ref).exists():
                        missing.append(f"{path.relative_to(ROOT)}: {ref}")
    assert missing == []
