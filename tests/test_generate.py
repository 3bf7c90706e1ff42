"""Synthetic cases (``coalition generate``): deterministic, feasible, of the named sizes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.case.generate import SIZES, generate_case
from solver.cli import main
from solver.errors import UsageError
from solver.model.data import model_data

FILES = ("partners.csv", "layers.csv", "capabilities.csv", "demand.csv", "trade.csv")


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_case(40, 8, 15, 7, tmp_path / "a")
    b = generate_case(40, 8, 15, 7, tmp_path / "b")
    c = generate_case(40, 8, 15, 8, tmp_path / "c")
    assert sorted(_bytes(a)) == sorted(FILES)
    assert _bytes(a) == _bytes(b)
    assert _bytes(a) != _bytes(c)


def test_generated_case_is_valid_and_structured(tmp_path: Path) -> None:
    case = load_case(generate_case(120, 10, 40, 3, tmp_path))
    partners, layers = case.partners, case.layers
    assert partners["member"].sum() == 40
    assert partners["trust"].nunique() >= 3  # trust tiers
    assert (layers["max_share"] < 1).all()  # every layer has a share cap
    assert (layers["min_trust"] > 0).any()
    # sparse capabilities: most partners cannot produce most layers
    assert len(case.capabilities) < 0.6 * len(partners) * len(layers)
    assert (~case.trade["allowed"]).any()  # forbidden routes
    assert (case.demand["max_dependency"] < 1).any()
    assert (case.demand["min_domestic"] > 0).any()
    # a domestic floor only where the member can produce the layer
    floors = case.demand[case.demand["min_domestic"] > 0]
    capable = set(zip(case.capabilities["partner"], case.capabilities["layer"], strict=True))
    assert all((m, lay) in capable for m, lay in zip(floors["member"], floors["layer"],
                                                     strict=True))


@pytest.mark.parametrize(("partners", "layers", "members", "seed"), [
    (1, 1, 1, 0),
    (3, 2, 3, 1),
    (12, 4, 6, 2),
    (25, 5, 10, 3),
    (40, 6, 12, 4),
])
def test_generated_case_is_feasible(tmp_path: Path, partners: int, layers: int,
                                    members: int, seed: int) -> None:
    case = load_case(generate_case(partners, layers, members, seed, tmp_path))
    result = solve(case)  # no time limit: "optimal" must not depend on the machine's load
    assert result.status == "optimal"
    assert result.verified, result.violations


def test_shares_bind(tmp_path: Path) -> None:
    """The optimum pushes some supplier up to its layer's max_share."""
    case = load_case(generate_case(25, 5, 10, 3, tmp_path))
    result = solve(case)  # no time limit: "optimal" must not depend on the machine's load
    caps = result.layers.set_index("layer")["max_share"]
    limit = case.layers.set_index("layer")["max_share"]
    assert (caps >= limit.reindex(caps.index) - 1e-6).any()


@pytest.mark.parametrize("name", ["S", "M"])
def test_named_sizes(tmp_path: Path, name: str) -> None:
    size = SIZES[name]
    case = load_case(generate_case(size.partners, size.layers, size.members, 1, tmp_path))
    want = {"S": 10_000, "M": 100_000}[name]
    assert 0.7 * want <= model_data(case).n_flows <= 1.4 * want


@pytest.mark.slow
def test_named_size_large(tmp_path: Path) -> None:
    size = SIZES["L"]
    case = load_case(generate_case(size.partners, size.layers, size.members, 1, tmp_path))
    assert 700_000 <= model_data(case).n_flows <= 1_400_000


def test_bad_numbers(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot exceed"):
        generate_case(3, 2, 5, 0, tmp_path)
    with pytest.raises(UsageError, match="at least 1"):
        generate_case(0, 2, 0, 0, tmp_path)


def test_cli_generate(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "case"
    res = runner.invoke(main, ["generate", "--size", "S", "--seed", "5", str(out)])
    assert res.exit_code == 0, res.output
    assert "80 partners" in res.output
    assert sorted(p.name for p in out.glob("*.csv")) == sorted(FILES)
    assert len(pd.read_csv(out / "layers.csv")) == SIZES["S"].layers
    again = runner.invoke(main, ["generate", "--size", "S", "--seed", "5", str(out)])
    assert again.exit_code == 2
    assert "--force" in again.output
    forced = runner.invoke(main, ["generate", "--partners", "10", "--layers", "3",
                                  "--members", "4", "--force", str(out)])
    assert forced.exit_code == 0, forced.output
    assert len(pd.read_csv(out / "partners.csv")) == 10


def test_cli_generate_bad_members(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["generate", "--partners", "3", "--members", "5",
                                    str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "cannot exceed" in res.output
