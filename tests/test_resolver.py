"""The one persistent re-solver (solver/studies/engine/resolver.py) on a small case.

One build serves many numbers-only changes, each solve equal to a fresh solve of the changed
case; a change and its undo give the original optimum; every solve starts from the study's
start, never from the plan before, so that an answer does not depend on what was solved
before (on the sample, where it did); a plan the check refuses is reported and solved again
cold.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from solver.case.loader import Case, load_case
from solver.highs.runner import HighsRunner
from solver.model.build import build
from solver.model.data import model_data
from solver.model.numbers import values
from solver.solve import finish, solve
from solver.studies.engine.resolver import Resolver
from tests.sweep_cases import SMALL, write_case

MUTABLE = frozenset({"demand.demand"})


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return load_case(write_case(Path(tmp_path_factory.mktemp("small")), SMALL))


def resolver_of(case: Case) -> Resolver:
    runner = HighsRunner(mip_gap=1e-9)
    resolver = Resolver(runner)
    resolver.build(lambda: build(case, mutable=MUTABLE))
    return resolver


def scaled(case: Case, factor: float) -> Case:
    return case.with_overrides([f"demand.demand*={factor:g}"], source="test")


def change_to(resolver: Resolver, case: Case) -> None:
    """Set the held model's demand to ``case``'s (numbers only)."""
    built = resolver.built
    built.data = model_data(case, keep_zero_demand=True)
    assert built.num.update(built.m, values(case, built.data)) == []


def verified(case: Case, resolver: Resolver) -> Any:
    """A check through the independent checker, as the sweep's."""
    def check(report: Any) -> tuple[Any, bool]:
        result = finish(case, resolver.built, report, resolver.runner, 0.0,
                        raise_on_failure=False)
        return result, bool(result.verified)
    return check


def test_one_build_serves_many_changes_each_equal_to_a_fresh_solve(case: Case) -> None:
    resolver = resolver_of(case)
    for factor in (1.0, 0.8, 1.2, 0.9):
        changed = scaled(case, factor)
        change_to(resolver, changed)
        outcome = resolver.solve(verified(changed, resolver))
        assert outcome.accepted and outcome.checked.verified
        fresh = solve(changed, mip_gap=1e-9)
        assert outcome.report.objective == pytest.approx(fresh.objective, rel=1e-7)
    assert resolver.builds == 1


def test_a_change_then_its_undo_gives_the_original_optimum(case: Case) -> None:
    resolver = resolver_of(case)
    first = resolver.solve(verified(case, resolver))
    change_to(resolver, scaled(case, 1.3))
    moved = resolver.solve()
    assert moved.report.objective > first.report.objective + 1.0
    change_to(resolver, case)
    back = resolver.solve(verified(case, resolver))
    assert back.report.objective == pytest.approx(first.report.objective, rel=1e-9)
    assert back.accepted


def test_every_solve_starts_from_the_study_s_start_never_from_the_plan_before(
        case: Case) -> None:
    resolver = resolver_of(case)
    starts: list[dict[str, Any]] = []
    real = resolver.runner.warm_start

    def spy(m: Any, start: Any) -> bool:
        starts.append(dict(start))
        return bool(real(m, start))

    resolver.runner.warm_start = spy  # type: ignore[method-assign]
    first = resolver.solve()
    change_to(resolver, scaled(case, 0.9))
    second = resolver.solve()
    assert not first.warm and not second.warm and starts == []  # no start set: cold
    assert resolver.start == {}
    resolver.start = {"y": first.report.values["y"].copy()}
    for factor in (1.1, 0.8):
        change_to(resolver, scaled(case, factor))
        assert resolver.solve().warm
    assert len(starts) == 2
    assert all((s["y"] == first.report.values["y"]).all() for s in starts)


def test_a_refused_plan_is_reported_retried_cold_and_never_a_start(case: Case) -> None:
    resolver = resolver_of(case)
    good = resolver.solve()
    resolver.start = {k: v.copy() for k, v in good.report.values.items()}
    kept = {k: v.copy() for k, v in resolver.start.items()}
    change_to(resolver, scaled(case, 1.1))
    seen: list[float] = []

    def refuse(report: Any) -> tuple[str, bool]:
        seen.append(report.objective)
        return "the checker says no", False

    outcome = resolver.solve(refuse)
    assert not outcome.accepted and outcome.checked == "the checker says no"
    assert outcome.retried and not outcome.warm and resolver.retries == 1
    assert len(seen) == 2 and seen[0] == pytest.approx(seen[1], rel=1e-9)
    assert seen[0] > good.report.objective
    assert all((resolver.start[k] == v).all() for k, v in kept.items())


def test_a_refused_warm_plan_s_warnings_are_not_shown_the_cold_plan_s_are(
        case: Case, caplog: pytest.LogCaptureFixture) -> None:
    resolver = resolver_of(case)
    resolver.start = dict(resolver.solve().report.values)
    change_to(resolver, scaled(case, 1.1))
    attempts: list[bool] = []

    def warn(report: Any) -> tuple[None, bool]:
        attempts.append(True)
        logging.getLogger("solver.solve").warning("checker: attempt %d", len(attempts))
        return None, len(attempts) > 1  # the warm plan refused, the cold one kept

    with caplog.at_level(logging.DEBUG):
        outcome = resolver.solve(warn)
    assert outcome.accepted and outcome.retried
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert shown == ["checker: attempt 2"]
    assert any("attempt 1" in r.getMessage() and r.levelno == logging.DEBUG
               for r in caplog.records)


def test_no_plan_is_not_accepted_and_not_retried_by_default(case: Case) -> None:
    resolver = resolver_of(case)
    resolver.solve()
    change_to(resolver, scaled(case, 50))  # more demand than every capacity together
    outcome = resolver.solve(verified(case, resolver))
    assert not outcome.has_solution and not outcome.accepted
    assert outcome.checked is None and not outcome.retried
    assert str(outcome.report.status) == "infeasible"


def test_solving_before_a_build_is_refused() -> None:
    with pytest.raises(RuntimeError, match="build one first"):
        Resolver(HighsRunner()).solve()
