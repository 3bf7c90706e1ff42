"""Re-solving a persistent model after its mutable numbers change (the sweep's fast path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.case import load_case
from solver.highs import HighsRunner
from solver.model.build import build
from solver.model.data import model_data
from solver.model.numbers import values
from solver.solve import variable_groups
from tests.tiny import TWO_SUPPLIERS, write_case


def _resolve(built, runner, case):  # type: ignore[no-untyped-def]
    data = model_data(case, keep_zero_demand=True)
    assert data.pairs[["partner", "layer"]].equals(built.data.pairs[["partner", "layer"]])
    stale = built.num.update(built.m, values(case, data))
    assert stale == []
    return runner.solve(built.m, variable_groups(built.m))


def test_budget_can_be_set_and_unset_on_a_model_built_without_one(tmp_path: Path) -> None:
    # Unset budget -> optimum 10 (A supplies 10 at unit cost 1); budget 5 -> infeasible.
    case = load_case(write_case(tmp_path, **TWO_SUPPLIERS))
    built = build(case, mutable={"objective.budget"})
    runner = HighsRunner()
    assert runner.solve(built.m, variable_groups(built.m)).objective == pytest.approx(10)
    assert _resolve(built, runner, case.with_overrides({"objective.budget": 5})).status \
        == "infeasible"
    assert _resolve(built, runner, case).objective == pytest.approx(10)


def test_bounds_from_mutable_params_follow_their_values(tmp_path: Path) -> None:
    # max_share 0.6 of demand 10: A supplies 6 at 1, B 4 at 2 -> 14; 0.8 -> 8 + 4 = 12.
    case = load_case(write_case(tmp_path, **TWO_SUPPLIERS)).with_overrides(
        {"layers.max_share": 0.6})
    built = build(case, mutable={"layers.max_share"})
    runner = HighsRunner()
    assert runner.solve(built.m, variable_groups(built.m)).objective == pytest.approx(14)
    looser = case.with_overrides({"layers.max_share": 0.8})
    assert _resolve(built, runner, looser).objective == pytest.approx(12)
