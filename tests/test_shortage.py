"""Unmet demand at a price (SPEC section 3, ``objective.shortage_cost``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from solver import load_case, solve
from solver.check.run import check_run
from tests.tiny import layer_value, write_case

SHORT = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand,redundancy_cost\nchips,10,1\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,4,1\nB,chips,3,2\n",
}
"""Demand 10, but only 7 units can be built (A 4 at 1, B 3 at 2)."""


def _case(tmp_path: Path, price: float | None, **tables: str) -> object:
    case = load_case(write_case(tmp_path / "case", **{**SHORT, **tables}))
    if price is None:
        return case
    return case.with_overrides({"objective.shortage_cost": price})


def test_without_a_price_demand_is_hard(tmp_path: Path) -> None:
    from solver.errors import InfeasibleError

    with pytest.raises(InfeasibleError):
        solve(_case(tmp_path, None))


def test_unmet_demand_is_priced_and_reported(tmp_path: Path) -> None:
    result = solve(_case(tmp_path, 5.0))
    # Build all 7 units (4*1 + 3*2 = 10) and leave 3 unmet at 5 each (15).
    assert result.objective == pytest.approx(25.0)
    assert result.costs["shortage"] == pytest.approx(15.0)
    assert result.costs["redundancy"] == pytest.approx(0.0)
    assert result.verified
    assert result.shortage is not None
    assert result.shortage.to_dict("records") == [
        {"member": "coalition", "layer": "chips", "demand": 10.0, "unmet": pytest.approx(3.0)}]
    assert layer_value(result, "chips", "unmet") == pytest.approx(3.0)
    assert layer_value(result, "chips", "surplus") == 0.0
    assert result.summary["costs"]["shortage"] == pytest.approx(15.0)


def test_a_price_below_the_cost_leaves_demand_unmet(tmp_path: Path) -> None:
    # At 1.5 per unit, A's units (cost 1) are worth building, B's (cost 2) are not.
    result = solve(_case(tmp_path, 1.5))
    assert result.objective == pytest.approx(4.0 + 6 * 1.5)
    assert result.verified


def test_without_shortage_the_cost_term_is_zero(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "c", partners="partner\nA\n",
                                layers="layer,demand\nchips,2\n",
                                capabilities="partner,layer,capacity,unit_cost\nA,chips,5,1\n"))
    result = solve(case)
    assert result.costs["shortage"] == 0.0
    assert result.shortage is None
    assert "unmet" not in result.layers.columns


def test_the_checker_reads_unmet_demand_from_shortage_csv(tmp_path: Path) -> None:
    case = _case(tmp_path, 5.0)
    run = solve(case).write(tmp_path / "run")
    assert (run / "shortage.csv").is_file()
    assert check_run(case, run) == []
    # Claiming less unmet demand than the flows leave is a demand violation.
    frame = pd.read_csv(run / "shortage.csv")
    frame["unmet"] = 1.0
    frame.to_csv(run / "shortage.csv", index=False)
    found = {v.family for v in check_run(case, run)}
    assert "demand" in found
    (run / "shortage.csv").unlink()
    assert any(v.entity == "shortage.csv" for v in check_run(case, run))


def test_requirements_still_refer_to_demand(tmp_path: Path) -> None:
    # min_supplier_share 0.35 of the demand 10: B (capacity 3) cannot count as a supplier,
    # so with min_suppliers 1 only A hosts; 6 units are unmet.
    case = _case(tmp_path, 5.0, layers="layer,demand,min_supplier_share\nchips,10,0.35\n")
    result = solve(case)
    assert result.objective == pytest.approx(4.0 + 6 * 5.0)
    assert result.verified


def test_shortage_cost_in_a_model_file(tmp_path: Path) -> None:
    write_case(tmp_path / "case", **SHORT)
    model = tmp_path / "m.toml"
    model.write_text('case = "case"\n[objective]\nshortage_cost = 5\n', encoding="utf-8")
    assert solve(load_case(model)).objective == pytest.approx(25.0)
