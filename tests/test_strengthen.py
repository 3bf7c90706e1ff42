"""The stronger solve (solver/strengthen/): same optimum, valid bounds, safe fixing.

Small random facility-location cases (the OR-Library format, written by
``tests/orlib_cases.py``) and random cases with every coupling family (``tests/cases.py``)
are solved with the strengthening forced on and off; the optima must agree, the Lagrangian
bound and the reported bound must not exceed the optimum, and every hosting decision the
fixing takes must be one that no optimal plan flips (checked by solving with it flipped).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

try:
    from cases import write_random_case
    from orlib_cases import ORLIB_DIR, optimum, write_orlib_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import write_random_case
    from tests.orlib_cases import ORLIB_DIR, optimum, write_orlib_case

GAP = 1e-9
TOL = 1e-6


def write_facility_case(folder: Path, sites: int, customers: int, seed: int) -> Path:
    """A random capacitated facility location instance, as a case folder."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(5, 50, customers)
    capacity = rng.integers(int(demand.sum() / sites * 1.5), int(demand.sum() / sites * 4),
                            sites)
    fixed = rng.integers(100, 600, sites)
    where = rng.random((sites + customers, 2))
    distance = np.linalg.norm(where[:sites, None] - where[None, sites:], axis=2)
    cost = (distance * 40 + 1) * demand[None, :]
    lines = [f"{sites} {customers}"]
    lines += [f"{c} {f}" for c, f in zip(capacity, fixed, strict=True)]
    for j in range(customers):
        lines.append(f"{demand[j]} " + " ".join(f"{cost[i, j]:.3f}" for i in range(sites)))
    source = folder.parent / f"{folder.name}.txt"
    source.write_text("\n".join(lines) + "\n")
    write_orlib_case(source, folder)
    return folder


def solve_both(case_dir: Path) -> tuple[object, object]:
    from solver import load_case, solve

    case = load_case(case_dir)
    return (solve(case, mip_gap=GAP, strengthen="on"),
            solve(case, mip_gap=GAP, strengthen="off"))


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1.0)


def hosts_of(case: Any) -> tuple[Any, Any]:
    """The HiGHS runner holding ``case``'s model and the relaxation's hosts read from it."""
    from solver.highs.runner import HighsRunner
    from solver.model.build import build
    from solver.solve import variable_groups
    from solver.strengthen.hosts import read_hosts

    built = build(case)
    runner = HighsRunner(mip_gap=GAP)
    runner.set_model(built.m, variable_groups(built.m))
    families = {name: len(keys) for name, keys in built.m.row_keys.items()}
    hosts = read_hosts(runner.highs, runner.columns, built.data, families)
    assert not isinstance(hosts, str)
    return runner, hosts


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_facility_cases_same_optimum(seed: int, tmp_path: Path) -> None:
    on, off = solve_both(write_facility_case(tmp_path / "case", 12, 30, seed))
    done = on.summary["strengthen"]
    assert done["applied"] is True and done["relaxed"] == []
    assert on.status == off.status == "optimal"
    assert rel(on.objective, off.objective) <= TOL
    assert done["lagrangian_bound"] <= off.objective * (1 + TOL)
    assert on.bound <= off.objective * (1 + TOL)
    assert on.verified and on.summary["verified"] is True
    assert off.summary["strengthen"]["applied"] is False


@pytest.mark.parametrize("seed", [5, 6])
def test_coupled_cases_same_optimum(seed: int, tmp_path: Path) -> None:
    case_dir = write_random_case(tmp_path / "case", partners=7, layers=2, members=4, seed=seed)
    on, off = solve_both(case_dir)
    done = on.summary["strengthen"]
    assert done["applied"] is True and "resilience" in done["relaxed"]
    assert rel(on.objective, off.objective) <= TOL
    assert done["lagrangian_bound"] <= off.objective * (1 + TOL)
    assert on.bound <= off.objective * (1 + TOL)
    assert on.verified


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_fixing_keeps_the_optimum(seed: int, tmp_path: Path) -> None:
    """Every decision fixed, flipped, gives only plans dearer than the plan used to fix."""
    from solver import load_case
    from solver.strengthen.fixing import decisions_to_fix
    from solver.strengthen.lagrangian import ascend, evaluate, first_multipliers
    from solver.strengthen.primal import restricted_plan

    runner, hosts = hosts_of(load_case(write_facility_case(tmp_path / "case", 10, 25, seed)))
    start = evaluate(hosts, first_multipliers(hosts))
    chosen = np.ones(hosts.n_hosts, dtype=bool)
    plan = restricted_plan(runner.highs, hosts, chosen, threads=1, mip_gap=GAP,
                           time_limit=float("inf"))
    assert plan is not None
    point = ascend(hosts, start, plan.cost, 400)
    assert point.bound <= plan.cost * (1 + TOL)
    close, open_ = decisions_to_fix(hosts, point, plan.cost)
    assert len(close) + len(open_) > 0
    h = runner.highs
    for hosts_fixed, flipped in ((close, 1.0), (open_, 0.0)):
        for a in hosts_fixed.tolist():
            col = np.array([hosts.y_col[a]], dtype=np.int32)
            h.changeColsBounds(1, col, np.array([flipped]), np.array([flipped]))
            h.setOptionValue("output_flag", False)
            h.run()
            if h.getModelStatus().name == "kOptimal":
                assert h.getInfo().objective_function_value > plan.cost * (1 - TOL)
            else:
                assert h.getModelStatus().name == "kInfeasible"
            h.changeColsBounds(1, col, np.array([0.0]), np.array([1.0]))


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap131"])
def test_orlib_published_optimum(name: str, tmp_path: Path) -> None:
    from solver import load_case, solve

    write_orlib_case(ORLIB_DIR / f"{name}.txt", tmp_path / "case")
    result = solve(load_case(tmp_path / "case"), mip_gap=GAP, strengthen="on")
    assert result.summary["strengthen"]["applied"] is True
    assert rel(result.objective, optimum(name)) <= TOL
    assert result.bound <= optimum(name) * (1 + TOL)
    assert result.status == "optimal" and result.verified


def test_auto_declines_the_sample_and_says_why(tmp_path: Path) -> None:
    from solver.cli import main

    out = tmp_path / "run"
    got = CliRunner().invoke(main, ["solve", "models/allied-ai-stack.toml", "--out", str(out),
                                    "-q"])
    assert got.exit_code == 0, got.output
    done = json.loads((out / "summary.json").read_text())["strengthen"]
    assert done["mode"] == "auto" and done["applied"] is False
    assert "resilience" in done["reason"]


def test_auto_declines_a_small_facility_case(tmp_path: Path) -> None:
    from solver import load_case, solve

    result = solve(load_case(write_facility_case(tmp_path / "case", 8, 20, 1)))
    done = result.summary["strengthen"]
    assert done["applied"] is False and "fewer than 50" in done["reason"]


def test_cli_strengthen_option(tmp_path: Path) -> None:
    from solver.cli import main

    case_dir = write_facility_case(tmp_path / "case", 8, 20, 2)
    out = tmp_path / "run"
    got = CliRunner().invoke(main, ["solve", str(case_dir), "--out", str(out), "-q",
                                    "--strengthen", "on"])
    assert got.exit_code == 0, got.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strengthen"]["applied"] is True and summary["verified"] is True
    assert summary["bound"] <= summary["objective"]
    bad = CliRunner().invoke(main, ["solve", str(case_dir), "--strengthen", "maybe"])
    assert bad.exit_code == 2 and "maybe" in bad.output


def test_library_refuses_an_unknown_mode(tmp_path: Path) -> None:
    from solver import load_case, solve
    from solver.errors import UsageError

    case = load_case(write_facility_case(tmp_path / "case", 4, 6, 3))
    with pytest.raises(UsageError, match="strengthen='yes'"):
        solve(case, strengthen="yes")


@pytest.mark.parametrize("seed", [10, 11])
def test_bound_without_a_plan_rises_and_stays_below_the_optimum(seed: int,
                                                                 tmp_path: Path) -> None:
    """Aimed just above the best bound (no plan yet), the steps raise it, never past the optimum."""
    from solver import load_case, solve
    from solver.strengthen.lagrangian import ascend, evaluate, first_multipliers

    case = load_case(write_facility_case(tmp_path / "case", 12, 30, seed))
    best = solve(case, mip_gap=GAP, strengthen="off").objective
    _, hosts = hosts_of(case)
    start = evaluate(hosts, first_multipliers(hosts))
    point = ascend(hosts, start, None, 300)
    assert start.bound < point.bound <= best * (1 + TOL)


def test_on_falls_back_where_the_relaxation_does_not_hold(tmp_path: Path) -> None:
    """A chain's input balances are not relaxed: ``on`` leaves the model to HiGHS, same plan."""
    from solver import load_case, solve

    case = load_case("models/allied-ai-stack-chain.toml")
    on, off = solve(case, strengthen="on"), solve(case, strengthen="off")
    done = on.summary["strengthen"]
    assert done["applied"] is False and "chain" in done["reason"]
    assert on.objective == pytest.approx(off.objective, rel=1e-9)
    assert on.bound == pytest.approx(off.bound, rel=1e-9)
