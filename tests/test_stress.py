"""Stress tests: losing each partner from the optimal design, re-routing, redesigning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver.case.loader import load_case
from solver.cli import main
from solver.errors import UsageError
from solver.solve import solve
from solver.studies.shocks.stress import Redesign, stress, without_partner, worst_cases

try:
    from sweep_cases import SMALL, SOLE_SUPPLIER, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.sweep_cases import SMALL, SOLE_SUPPLIER, write_case


@pytest.fixture
def sole(tmp_path: Path) -> Any:
    return load_case(write_case(tmp_path / "sole", SOLE_SUPPLIER))


@pytest.fixture
def small(tmp_path: Path) -> Any:
    return load_case(write_case(tmp_path / "small", SMALL))


def rows(table: pd.DataFrame, lost: str, scope: str) -> pd.DataFrame:
    return table[(table["lost"] == lost) & (table["scope"] == scope)]


def unmet(table: pd.DataFrame, lost: str, scope: str, name: str) -> float:
    part = rows(table, lost, scope)
    column = "layer" if scope == "layer" else "member"
    return float(part.loc[part[column] == name, "unmet"].iloc[0])


def test_losing_the_sole_supplier_leaves_exactly_its_layer_unmet(sole: Any) -> None:
    table = stress(sole)
    # A alone makes chips (demand 10 for A, 20 for B); cloud comes from B and C.
    assert unmet(table, "A", "layer", "chips") == pytest.approx(30.0)
    assert unmet(table, "A", "layer", "cloud") == 0.0
    total = rows(table, "A", "total").iloc[0]
    assert total["unmet"] == pytest.approx(30.0)
    assert total["demand"] == pytest.approx(50.0)
    assert total["unmet_share"] == pytest.approx(0.6)
    assert unmet(table, "A", "member", "A") == pytest.approx(10.0)
    assert unmet(table, "A", "member", "B") == pytest.approx(20.0)
    assert unmet(table, "A", "member", "C") == 0.0
    # Losing a partner never touches a layer it does not host.
    for lost in ("B", "C"):
        assert unmet(table, lost, "layer", "chips") == 0.0
    # Worst first: A.
    assert table["lost"].iloc[0] == "A"
    assert list(table["scope"].iloc[:3]) == ["total", "layer", "layer"]


def test_with_resilience_one_nothing_is_unmet(small: Any) -> None:
    loose = stress(small)
    assert loose.loc[loose["scope"] == "total", "unmet"].max() > 0, "the test needs a loss"
    table = stress(small.with_overrides({"layers.resilience": 1.0}))
    assert set(table["lost"]) == {"A", "B", "C", "D"}
    assert (table["unmet"] == 0.0).all()
    totals = table[table["scope"] == "total"]
    # Someone must now ship what the lost partner made: re-routing costs something.
    assert (totals["rerouting_cost"] >= 0).all()
    assert totals["rerouting_cost"].max() > 0


def test_rerouting_serves_as_much_as_the_remaining_capacity_allows(small: Any) -> None:
    design = solve(small)
    table = stress(small, result=design)
    alloc = design.allocation
    for lost in ("A", "B", "C", "D"):
        for layer in ("chips", "cloud"):
            left = alloc[(alloc["layer"] == layer) & (alloc["partner"] != lost)]["capacity"]
            demand = 60.0 if layer == "chips" else 40.0
            # All routes of SMALL are open, so the shortfall is exactly demand - capacity left.
            assert unmet(table, lost, "layer", layer) == pytest.approx(
                max(demand - float(left.sum()), 0.0), abs=1e-7)


def test_shortfall_is_shared_fairly(small: Any) -> None:
    table = stress(small)
    for lost in ("A", "B", "C", "D"):
        layers = rows(table, lost, "layer").set_index("layer")
        total = rows(table, lost, "total").iloc[0]
        assert layers["unmet"].sum() == pytest.approx(total["unmet"])
        assert rows(table, lost, "member")["unmet"].sum() == pytest.approx(total["unmet"])


def test_redesign(sole: Any, small: Any) -> None:
    table = stress(sole, redesign=True)
    a = rows(table, "A", "total").iloc[0]
    assert a["redesign_status"] == "infeasible" and pd.isna(a["redesign_cost"])
    table = stress(small, redesign=True, partners=["D"])
    d = rows(table, "D", "total").iloc[0]
    alone = solve(without_partner(small, "D"))
    assert d["redesign_status"] == "optimal"
    assert d["redesign_cost"] == pytest.approx(alone.objective)
    assert d["redesign_extra_cost"] == pytest.approx(alone.objective - solve(small).objective)
    assert d["redesign_extra_cost"] >= 0
    with pytest.raises(UsageError, match="no such partner"):
        stress(small, partners=["ZZ"])


def test_every_redesign_is_solved_and_checked_on_one_resolver(small: Any) -> None:
    redesign = Redesign(small, solve(small).objective)
    checked: list[bool] = []
    real = redesign.resolver.solve

    def spy(check: Any = None, **kw: Any) -> Any:
        outcome = real(check, **kw)
        checked.append(outcome.accepted)
        return outcome

    redesign.resolver.solve = spy  # type: ignore[method-assign]
    runner = redesign.resolver.runner
    partners = small.partners["partner"].tolist()
    for p in partners:
        row = redesign(p)
        fresh = solve(without_partner(small, p), raise_on_failure=False)
        assert row["redesign_status"] == fresh.status
        if fresh.has_solution:
            assert row["redesign_cost"] == pytest.approx(fresh.objective, rel=1e-9)
        else:
            assert row["redesign_cost"] is None and row["redesign_reason"]
    # One model per loss HiGHS solves, on one runner, each plan verified by the checker.
    assert redesign.resolver.builds == len(checked) >= 2
    assert redesign.resolver.runner is runner and all(checked)


def test_worst_cases(small: Any) -> None:
    worst = worst_cases(stress(small), 2)
    assert len(worst) == 2
    assert worst["unmet_share"].is_monotonic_decreasing
    assert {"worst_layer", "worst_layer_unmet_share"} <= set(worst.columns)


def test_cli_stress(tmp_path: Path) -> None:
    case = write_case(tmp_path / "sole", SOLE_SUPPLIER)
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(main, ["stress", str(case), "--out", str(out), "--redesign"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # progress goes to stderr
    assert lines[0].startswith("worst losses first")
    assert lines[2].split()[:4] == ["A", "1", "30", "60.0%"]
    assert "infeasible" in lines[2]
    table = pd.read_csv(out / "stress.csv")
    assert table["lost"].iloc[0] == "A"
    again = runner.invoke(main, ["stress", str(case), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output


def test_a_redesign_drops_the_lost_members_own_domestic_floor(tmp_path: Path) -> None:
    # X must make half of its chips at home (min_domestic 0.5). Without X, A supplies all
    # 10 at unit cost 2: 20, against 5 x 1 (X) + 5 x 2 (A) = 15 with X.
    folder = write_case(tmp_path / "dom", {
        "partners": "partner,member\nX,true\nA,false\n",
        "layers": "layer\nchips\n",
        "capabilities": "partner,layer,capacity,unit_cost\nX,chips,5,1\nA,chips,100,2\n",
        "demand": "member,layer,demand,min_domestic\nX,chips,10,0.5\n",
    })
    case = load_case(folder)
    assert without_partner(case, "X").demand["min_domestic"].tolist() == [0.0]
    table = stress(case, redesign=True)
    lost_x = rows(table, "X", "total").iloc[0]
    assert (lost_x["redesign_status"], lost_x["redesign_reason"]) == ("optimal", "")
    assert lost_x["redesign_cost"] == pytest.approx(20.0)
    assert lost_x["redesign_extra_cost"] == pytest.approx(5.0)
    # Without A, X cannot meet its demand alone: the reason says so, with the numbers.
    lost_a = rows(table, "A", "total").iloc[0]
    assert lost_a["redesign_status"] == "infeasible"
    assert lost_a["redesign_reason"].startswith("layer chips: demand 10 cannot hold")


def test_stress_of_a_written_design_stresses_that_design(tmp_path: Path) -> None:
    # --run is the design in the run folder, edited or not: not a fresh solve of the case.
    from solver.report.readback import read_csv

    case = write_case(tmp_path / "case", SMALL)
    runner = CliRunner()
    assert runner.invoke(main, ["solve", str(case), "--out", str(tmp_path / "run")]
                         ).exit_code == 0
    allocation = read_csv(tmp_path / "run" / "allocation.csv")
    lost = str(allocation.loc[allocation["hosted"], "partner"].iloc[0])
    allocation.loc[allocation["partner"] == lost, ["capacity", "hosted"]] = [0.0, False]
    allocation.to_csv(tmp_path / "run" / "allocation.csv", index=False)
    for name, extra in (("fresh", []), ("written", ["--run", str(tmp_path / "run")])):
        result = runner.invoke(main, ["stress", str(case), "--partner", lost, "--redesign",
                                      "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    fresh = pd.read_csv(tmp_path / "fresh" / "stress.csv")
    written = pd.read_csv(tmp_path / "written" / "stress.csv")
    assert rows(fresh, lost, "total")["lost_capacity"].iloc[0] > 0
    assert rows(written, lost, "total")["lost_capacity"].iloc[0] == 0
    assert rows(written, lost, "total")["layers_hosted"].iloc[0] == 0
