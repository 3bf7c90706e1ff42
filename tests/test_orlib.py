"""OR-Library capacitated warehouse location: an outside check on the model and the solver.

Each instance is written as a case folder (one layer, warehouses as non-member suppliers,
customers as members) and solved through the public API; the optimum must equal Beasley's
published value and the independent solution checker must accept the solution.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

try:
    from orlib_cases import ORLIB_DIR, optimum, read_orlib, write_orlib_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.orlib_cases import ORLIB_DIR, optimum, read_orlib, write_orlib_case

INSTANCES = ["cap41", "cap61", "cap71", "cap101", "cap131"]
REL_TOL = 1e-6


def rel_err(got: float, want: float) -> float:
    return abs(got - want) / abs(want)


def test_parser_cap41() -> None:
    inst = read_orlib(ORLIB_DIR / "cap41.txt")
    assert (inst.m, inst.n) == (16, 50)
    assert inst.capacity == (5000.0,) * 16
    assert inst.fixed_cost[10] == 0.0  # warehouse 11
    assert all(f == 7500.0 for i, f in enumerate(inst.fixed_cost) if i != 10)
    assert inst.demand[:2] == (146.0, 87.0)
    assert inst.cost[0][0] == 6739.725  # c_11
    assert inst.cost[0][15] == 6051.7  # c_16,1
    assert inst.cost[1][0] == 3204.8625  # c_12
    assert len(inst.cost) == 50 and all(len(row) == 16 for row in inst.cost)


def test_case_folder_cap41(tmp_path: Path) -> None:
    write_orlib_case(ORLIB_DIR / "cap41.txt", tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["capabilities.csv", "demand.csv", "layers.csv", "partners.csv", "trade.csv"]
    partners = (tmp_path / "partners.csv").read_text().splitlines()
    assert partners[0] == "partner,member,trust"
    assert partners[1] == "W1,false,1" and partners[17] == "C1,true,1"
    assert len(partners) == 1 + 16 + 50
    trade = (tmp_path / "trade.csv").read_text().splitlines()
    assert len(trade) == 1 + 16 * 50
    assert trade[1] == f"W1,C1,{6739.725 / 146.0!r}"


def test_optimum_lookup() -> None:
    assert optimum("cap41") == 1040444.375
    with pytest.raises(KeyError):
        optimum("cap999")


@pytest.mark.parametrize("name", INSTANCES)
def test_orlib_optimum(name: str, tmp_path: Path) -> None:
    from solver import load_case, solve

    case_dir = tmp_path / "case"
    write_orlib_case(ORLIB_DIR / f"{name}.txt", case_dir)
    want = optimum(name)

    result = solve(load_case(case_dir), mip_gap=1e-9)
    assert result.status == "optimal"
    assert rel_err(result.objective, want) <= REL_TOL, (name, result.objective, want)
    assert result.verified is True

    run_dir = tmp_path / "run"
    result.write(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verified"] is True
    assert summary["status"] == "optimal"
    assert rel_err(summary["objective"], want) <= REL_TOL
    costs = summary["costs"]
    assert costs["capacity"] == pytest.approx(0.0, abs=1e-6)
    assert costs["redundancy"] == pytest.approx(0.0, abs=1e-6)
    assert costs["risk"] == pytest.approx(0.0, abs=1e-6)
    assert rel_err(costs["fixed"] + costs["trade"], want) <= REL_TOL
