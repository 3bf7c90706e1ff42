"""The checker's case data kept across a study's points (``CaseDataCache``).

A point's plan is checked against that point's case data: what a point's overrides cannot
have changed is reused, the rest is read again, and a plan that breaks the point's numbers
is caught exactly as without the cache.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from solver import solve
from solver.case.loader import Case, load_case
from solver.check.case_data import CaseData, CaseDataCache
from solver.check.run import check_solution
from solver.results import Result

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base() -> Case:
    return load_case(ROOT / "models" / "allied-ai-stack.toml")


@pytest.fixture(scope="module")
def plan(base: Case) -> Result:
    """The sample's plan, solved for the base case."""
    return solve(base)


def same_data(a: CaseData, b: CaseData) -> None:
    for name in ("layers", "partners", "pairs", "demand", "trade"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.total_value == b.total_value
    for name in ("partner_ids", "consumer_ids", "layer_ids"):
        pd.testing.assert_index_equal(getattr(a, name), getattr(b, name), exact=True)


def violations(case: Case, plan: Result, data: CaseData | None) -> list[str]:
    found = check_solution(case, plan.allocation, plan.flows, plan.summary, layers=plan.layers,
                           partners=plan.partners, shortage=plan.shortage, data=data)
    return sorted(str(v) for v in found)


@pytest.mark.parametrize("overrides", [
    ["demand.demand*=1.05"],
    ["demand.demand*=0.5", "capabilities[TW,semiconductors].capacity=100"],
    ["objective.redundancy_weight=3"],
    ["solver.mip_gap=0.01"],
    ["layers[semiconductors].max_share=0.3"],
    ["trade.unit_cost*=2", "partners.min_participation*=0.5"],
    # the sensitivity study's parameters (columns read again, the rest kept)
    ["capabilities[US,semiconductors].unit_cost*=2.5",
     "capabilities[TW,semiconductors].capacity=150", "layers[semiconductors].max_share=0.35",
     "layers.resilience*=1.05", "partners.min_participation*=0.7", "trade.unit_cost*=1.5",
     "layers.redundancy_cost*=1.7"],
    ["capabilities.fixed_cost*=0.5", "capabilities.min_capacity*=0", "layers.min_suppliers=1",
     "layers.min_supplier_share*=0.5", "partners.max_participation=0.9",
     "partners.disruption_risk*=2", "demand.max_dependency*=0.9", "demand.min_domestic=0.1"],
    ["trade[US,JP].allowed=false", "trade.unit_cost*=3"],  # a route added: derived anew
    ["layers.unit_value*=2", "layers.min_trust=0.5", "partners.trust*=0.9"],  # derived from
])
def test_a_points_data_is_its_own(base: Case, overrides: list[str]) -> None:
    """Whatever the overrides, the cached data is what CaseData.of derives from the point."""
    cache = CaseDataCache(base)
    cache.data_for(base)  # the base's data is made (and kept) first
    point = base.with_overrides(overrides, source="point 1")
    same_data(cache.data_for(point), CaseData.of(point))


@pytest.mark.parametrize("overrides, family", [
    (["demand.demand*=1.05"], "demand"),  # the base plan now leaves demand unmet
    (["objective.redundancy_weight=3"], "objective"),  # its claimed costs are no longer so
    (["capabilities[TW,semiconductors].capacity=100"], "hosting"),  # TW built above it
])
def test_a_point_that_makes_a_claim_false_is_caught(base: Case, plan: Result,
                                                    overrides: list[str], family: str) -> None:
    """The base plan checked as a point's plan: the point's numbers catch it, as uncached."""
    cache = CaseDataCache(base)
    assert violations(base, plan, cache.data_for(base)) == []
    point = base.with_overrides(overrides, source="point 1")
    cached = check_solution(point, plan.allocation, plan.flows, plan.summary,
                            layers=plan.layers, partners=plan.partners,
                            data=cache.data_for(point))
    assert family in {v.family for v in cached}
    assert violations(point, plan, cache.data_for(point)) == violations(point, plan, None)
    # and the base is still checked against its own numbers afterwards
    assert violations(base, plan, cache.data_for(base)) == []


def test_only_the_written_columns_are_read_again(base: Case) -> None:
    """A point that writes copied columns keeps the base's ids and lookups, not its numbers."""
    cache = CaseDataCache(base)
    kept = cache.data_for(base)
    point = base.with_overrides(["trade.unit_cost*=2", "layers.max_share=0.3"], source="p")
    data = cache.data_for(point)
    assert data.pair_lookup is kept.pair_lookup and data.trade_lookup is kept.trade_lookup
    assert (data.layers["max_share"] == 0.3).all()
    assert (data.trade["unit_cost"].to_numpy()
            == 2 * kept.trade["unit_cost"].to_numpy()).all()
    same_data(cache.data_for(base), CaseData.of(base))  # the base's own data is untouched


def test_a_case_not_of_the_base_gets_its_own_data(base: Case, tmp_path: Path) -> None:
    """A case from other files (or without the base's overrides) is derived in full."""
    other = base.with_overrides(["demand.demand*=2"], source="x")
    cache = CaseDataCache(other)  # the base has an override the case below lacks
    same_data(cache.data_for(base), CaseData.of(base))


def test_allocation_layout_reads_each_points_costs(base: Case, plan: Result) -> None:
    """A sweep point's allocation table: the kept layout, this point's costs.

    The checker then compares the point's table with the point's case: a layout that kept
    the last point's costs would be a ``table`` violation.
    """
    from solver.model.data import model_data
    from solver.results import AllocationLayout

    data = model_data(base)
    values = {"y": (plan.allocation["hosted"].to_numpy() * 0 + 1)[:len(data.pairs)],
              "k": pd.Series(range(len(data.pairs)), dtype=float).to_numpy(),
              "q": pd.Series(range(len(data.pairs)), dtype=float).to_numpy()}
    AllocationLayout._last = None
    first = AllocationLayout.of(base, data)
    for overrides in (["capabilities[US,semiconductors].unit_cost*=3"],
                      ["capabilities.fixed_cost*=0.5", "demand.demand*=1.1"], []):
        point = base.with_overrides(overrides, source="point") if overrides else base
        kept = AllocationLayout.of(point, model_data(point))
        assert kept.order is first.order  # the layout was kept, not made again
        fresh = AllocationLayout(point, model_data(point))
        pd.testing.assert_frame_equal(kept.table(values, data.layer_demand),
                                      fresh.table(values, data.layer_demand), check_exact=True)
    AllocationLayout._last = None
