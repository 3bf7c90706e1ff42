"""Trade-off curves: monotone costs, and a bisection that finds the tightest feasible value."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver.case.loader import load_case
from solver.cli import main
from solver.errors import InfeasibleError, UsageError
from solver.solve import solve
from solver.studies.sweep.frontier import frontier, requirement, search_table

try:
    from sweep_cases import SMALL, SOLE_SUPPLIER, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.sweep_cases import SMALL, SOLE_SUPPLIER, write_case

TOL = 1e-3


@pytest.fixture
def small(tmp_path: Path) -> Any:
    # An exact MIP gap: at true optima a tighter requirement never costs less.
    case = load_case(write_case(tmp_path / "small", SMALL))
    return case.with_overrides({"solver.mip_gap": 0.0})


def has_plan(case: Any, key: str, value: float) -> bool:
    return solve(case.with_overrides({key: value}), raise_on_failure=False).has_solution


def non_decreasing(costs: list[float]) -> bool:
    return all(b >= a - 1e-9 * max(1.0, abs(a)) for a, b in itertools.pairwise(costs))


def test_max_share_frontier(small: Any, tmp_path: Path) -> None:
    curve = frontier(small, "layers.max_share", 5, tol=TOL, out=tmp_path / "f")
    values = curve["layers.max_share"].tolist()
    assert values[0] == 1.0 and values == sorted(values, reverse=True)
    assert (curve["status"] == "optimal").all()
    assert non_decreasing(curve["objective"].tolist())
    assert curve["objective"].iloc[-1] > curve["objective"].iloc[0]
    tightest = values[-1]
    assert curve["tightest"].tolist() == [False] * 4 + [True]
    assert has_plan(small, "layers.max_share", tightest)
    assert not has_plan(small, "layers.max_share", tightest - TOL)
    # Four possible hosts per layer: no plan below a share of 1/4.
    assert tightest == pytest.approx(0.25, abs=TOL)
    search = search_table(tmp_path / "f")
    assert search["stage"].iloc[0] == "loose end" and search["stage"].iloc[1] == "limit"
    assert (search["stage"] == "bisection").sum() >= 5
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [
        "frontier.csv", "frontier.json", "frontier.png", "frontier_search.csv"]


def test_resilience_frontier_bisection(small: Any) -> None:
    # 18 units of capacity per host: chips (demand 60) keep at most 3 * 18 = 54 after any
    # loss, so N-1 coverage cannot exceed 0.9.
    case = small.with_overrides({"capabilities.capacity": 18})
    curve = frontier(case, "layers.resilience", 4, tol=TOL)
    values = curve["layers.resilience"].tolist()
    assert values[0] == 0.0 and values == sorted(values)
    assert non_decreasing(curve["objective"].tolist())
    tightest = values[-1]
    assert 0.9 - TOL <= tightest <= 0.9
    assert has_plan(case, "layers.resilience", tightest)
    assert not has_plan(case, "layers.resilience", tightest + TOL)


def test_limit_itself_feasible(small: Any) -> None:
    curve = frontier(small, "layers[cloud].resilience", 3)
    assert curve["layers[cloud].resilience"].tolist() == [0.0, 0.5, 1.0]
    assert non_decreasing(curve["objective"].tolist())


def test_only_the_loose_end(tmp_path: Path) -> None:
    sole = load_case(write_case(tmp_path / "sole", SOLE_SUPPLIER))
    curve = frontier(sole, "layers[chips].resilience", 5)
    assert curve["layers[chips].resilience"].tolist() == [0.0]


def test_errors(small: Any) -> None:
    with pytest.raises(UsageError, match="not a requirement"):
        requirement("layers.unit_value")
    with pytest.raises(UsageError, match="names no column"):
        requirement("layers.nothing")
    with pytest.raises(UsageError, match="not tighter"):
        frontier(small, "layers.max_share", 3, loose=0.5, limit=0.8)
    with pytest.raises(InfeasibleError, match="no plan even at"):
        frontier(small.with_overrides({"layers.min_suppliers": 5}), "layers.max_share", 3)
    # A key that names no row would make every probe fail: it is a usage error at once.
    with pytest.raises(UsageError, match=r"--trade-off layers\[zzz\].max_share: "
                                         r"layers\[zzz\].max_share names no row of layers.csv"):
        frontier(small, "layers[zzz].max_share", 3)


def test_cli_frontier(tmp_path: Path) -> None:
    case = write_case(tmp_path / "small", SMALL)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["frontier", str(case), "--trade-off",
                                       "layers.max_share", "--points", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "layers.max_share: tightest feasible value 0.25" in result.output
    curve = pd.read_csv(out / "frontier.csv")
    assert len(curve) == 4 and curve["tightest"].iloc[-1]
    # Progress: one plain line per solve on stderr, the search's probes then the curve's.
    steps = [line for line in result.stderr.splitlines() if line.startswith("[")]
    probes = pd.read_csv(out / "frontier_search.csv")
    assert len(steps) == len(probes)
    assert re.match(r"\[1/\d+\] loose end layers.max_share=1: optimal, cost ", steps[0])
    assert re.match(rf"\[{len(probes)}/\d+\] curve layers.max_share=0.25", steps[-1])
    quiet = CliRunner().invoke(main, ["-q", "frontier", str(case), "--trade-off",
                                      "layers.max_share", "--points", "2", "--out",
                                      str(tmp_path / "q")])
    assert quiet.exit_code == 0 and "frontier [" not in quiet.stderr
    bad = CliRunner().invoke(main, ["frontier", str(case), "--trade-off", "layers.demand"])
    assert bad.exit_code == 2


def test_a_probe_stopped_by_a_limit_is_reported_as_undecided(
        small: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from solver.studies.sweep.frontier import FrontierRun, undecided

    solve_at = FrontierRun.solve

    def first_bisection_times_out(self: FrontierRun, value: float, stage: str) -> Any:
        row = solve_at(self, value, stage)
        if stage == "bisection" and [p["stage"] for p in self.probes].count("bisection") == 1:
            row.update(status="no_solution", objective=None)
        return row

    monkeypatch.setattr(FrontierRun, "solve", first_bisection_times_out)
    curve = frontier(small, "layers.max_share", 3, tol=TOL)
    probes = curve.attrs["probes"]
    first = float(probes.loc[probes["stage"] == "bisection", "layers.max_share"].iloc[0])
    assert undecided(curve, "layers.max_share") == [first]
    # Taken as infeasible: the bisection stayed on the loose side of it.
    assert curve["layers.max_share"].iloc[-1] > first
    result = CliRunner().invoke(main, ["frontier", str(small.path), "--trade-off",
                                       "layers.max_share", "--points", "3", "--set",
                                       "solver.mip_gap=0", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert f"warning: at {first:.6g} a limit stopped HiGHS" in result.output
