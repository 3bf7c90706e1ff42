"""Re-solving a persistent model after its mutable numbers change (the sweep's fast path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.case.loader import load_case
from solver.highs.runner import HighsRunner
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


def test_a_released_model_is_freed_without_the_cyclic_collector(tmp_path: Path) -> None:
    # One-shot solves free the Pyomo model once HiGHS holds its copy; at 1M flows that is
    # 250 MB, and a full scan of the cyclic collector to find it would take seconds.
    import gc
    import weakref

    case = load_case(write_case(tmp_path, **TWO_SUPPLIERS))
    built = build(case)
    runner = HighsRunner()
    runner.set_model(built.m, variable_groups(built.m))
    # k[0] is in the objective (unit cost 1) as well as in rows; y is a whole component.
    watched = [weakref.ref(built.m.f[0]), weakref.ref(built.m.k[0]), weakref.ref(built.m.y),
               weakref.ref(built.m.demand)]
    gc.disable()
    try:
        runner.forget_model()
        built.release()
        assert [ref() is None for ref in watched] == [True] * len(watched)
    finally:
        gc.enable()
    report = runner.solve(None)
    assert report.objective == pytest.approx(10)
    assert report.values["f"].tolist() == [10.0, 0.0]
    assert runner.column_counts == {"y": 2, "k": 2, "q": 2, "f": 2, "built": 1}


def test_solving_without_a_model_handed_over_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no model"):
        HighsRunner().solve(None)


def test_threads_beyond_the_cores_are_capped(caplog: pytest.LogCaptureFixture) -> None:
    import os

    cores = os.cpu_count() or 1
    with caplog.at_level("WARNING", logger="solver.highs.runner"):
        runner = HighsRunner(threads=100000)
    assert runner.threads == cores
    assert f"threads 100000 is more than this machine's {cores} cores" in caplog.text
    assert HighsRunner(threads=1).threads == 1


def test_an_update_sets_the_params_to_the_new_numbers_entry_by_entry(tmp_path: Path) -> None:
    # Numbers.update sets only the entries that differ; the params must still hold every
    # number of each new point, there and back, with an unset budget as NO_BUDGET.
    import numpy as np
    import pyomo.environ as pyo

    from solver.model.numbers import NO_BUDGET

    case = load_case(write_case(tmp_path, **TWO_SUPPLIERS))
    mutable = {"capabilities.unit_cost", "capabilities.capacity", "objective.budget"}
    built = build(case, mutable=mutable)

    def held(name: str) -> list[float]:
        param = built.m.find_component(f"param_{name}")
        return [pyo.value(param[i]) for i in sorted(param)]

    points = [case.with_overrides({"capabilities[A,chips].unit_cost": 3.0}),
              case.with_overrides({"capabilities.capacity": 7.0, "objective.budget": 50}),
              case]
    for point in points:
        arrays = values(point, model_data(point, keep_zero_demand=True))
        assert built.num.update(built.m, arrays) == []
        for name in ("unit_cost", "capacity"):
            assert held(name) == arrays[name].tolist()
        assert held("budget") == np.nan_to_num(arrays["budget"], nan=NO_BUDGET).tolist()
    assert built.num.update(built.m, values(case, model_data(case, keep_zero_demand=True))) \
        == [] and built.num.changed == set()
