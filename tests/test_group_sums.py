"""Per-group sums of the plan's tables from arrays (solver/group_sums.py), held to pandas.

Every written number of layers.csv and partners.csv must be what pandas' groupby gives, to
the last bit: :func:`sum_by` against ``groupby().sum()`` on random data (both of pandas'
ways: groups in order, and not), and the tables against the pandas-made tables they
replaced, on plans of the sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from solver.group_sums import count_by, max_by, sum_by
from solver.results import ZERO, _resilience_k, requirement
from tests.float_bits import same_bits

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("row_by_row", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_sum_by_is_pandas_groupby_sum_to_the_last_bit(seed: int, row_by_row: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Small tables take the compensated sum row by row in Python, larger ones rank by rank
    # in numpy: both are held to pandas (SMALL 0 sends every table the numpy way).
    import solver.group_sums

    if not row_by_row:
        monkeypatch.setattr(solver.group_sums, "SMALL", 0)
    rng = np.random.default_rng(seed)
    for trial in range(400):
        n, m = int(rng.integers(1, 9)), int(rng.integers(0, 90))
        codes = rng.integers(0, n, m)
        if trial % 3 == 0:
            codes = np.sort(codes)  # pandas' other way: np.add.reduceat over ordered groups
        values = [rng.normal(size=m) * 10.0 ** rng.integers(-12, 12, m), rng.random(m) * 1e3,
                  np.round(rng.random(m) * 100, 3) * 0.1, -np.zeros(m)][trial % 4]
        if trial % 7 == 6:
            values[rng.random(m) < 0.2] = np.nan
        if trial % 11 == 10:  # an infinite value: pandas keeps no compensation after it
            values[rng.random(m) < 0.1] = np.inf
        keys = np.array([f"L{c}" for c in codes], dtype=object)
        ids = np.array([f"L{i}" for i in range(n + 1)], dtype=object)  # one id with no key
        want = pd.Series(ids).map(pd.Series(values).groupby(keys).sum()).fillna(0.0)
        same_bits(sum_by(keys, values, ids), want.to_numpy(dtype=float))
        if m and not np.isnan(values).any():
            most = pd.Series(ids).map(pd.Series(values).groupby(keys).max()).fillna(0.0)
            same_bits(max_by(keys, values, ids), most.to_numpy(dtype=float))
        size = pd.Series(ids).map(pd.Series(keys).groupby(keys).size()).fillna(0)
        assert (count_by(keys, ids) == size.to_numpy(dtype=np.int64)).all()


def test_total_and_lookup_are_pandas_sum_and_map() -> None:
    from solver.group_sums import lookup, total

    rng = np.random.default_rng(1)
    for m in (0, 1, 7, 9, 130, 1000):
        x = rng.normal(size=m) * 10.0 ** rng.integers(-8, 8, m)
        x[rng.random(m) < 0.1] = np.nan
        assert total(x).hex() == float(pd.Series(x).sum()).hex()
    frame = pd.DataFrame({"id": ["a", "b", "c"], "v": [1.5, 2.0, 3]})
    ids = pd.Series(["c", "x", "a", "a"])
    same_bits(lookup(frame, "id", "v", ids), ids.map(frame.set_index("id")["v"]).to_numpy())


def test_large_groups_and_keys_that_are_not_strings_go_to_pandas() -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 3, 500)  # numbers: pandas' own groupby
    values = rng.random(500)
    want = pd.Series([0, 1, 2, 5]).map(pd.Series(values).groupby(keys).sum()).fillna(0.0)
    same_bits(sum_by(keys, values, [0, 1, 2, 5]), want.to_numpy())
    names = np.array(["a", "b"], dtype=object)[rng.integers(0, 2, 500)]  # groups of ~250
    want = pd.Series(["a", "b"]).map(pd.Series(values).groupby(names).sum())
    same_bits(sum_by(names, values, ["a", "b"]), want.to_numpy())


def pandas_layers_table(case: Any, allocation: pd.DataFrame,
                 shortage: pd.DataFrame | None = None,
                 market_supply: pd.Series | None = None) -> pd.DataFrame:
    """Per layer: demand, capacity, supply, suppliers, concentration and N-1 coverage.

    With ``shortage`` (a :func:`shortage_table`), also ``unmet`` per layer, and the surplus
    is the positive part of capacity minus demand. With markets, ``market_supply`` is what
    the coalition sends them per layer (``market_supplied``), and ``demand`` is the total
    requirement with it (README, Markets outside the coalition).
    """
    layers = case.layers[["layer"]].copy()
    demand = case.demand.groupby("layer")["demand"].sum()
    layers["demand"] = layers["layer"].map(demand).fillna(0.0).astype(float)
    final = layers["demand"].to_numpy()
    if getattr(case, "has_inputs", False) or market_supply is not None:
        # demand is the total requirement D (README, The stack as a chain).
        layers["demand"] = requirement(case, final, market_supply)
    if getattr(case, "has_inputs", False):
        layers["final_demand"] = final
        layers["total_requirement"] = layers["demand"]
    if market_supply is not None:
        layers["market_supplied"] = market_supply.to_numpy(dtype=float)
    g = allocation.groupby("layer")
    layers["capacity"] = layers["layer"].map(g["capacity"].sum()).fillna(0.0)
    layers["supplied"] = layers["layer"].map(g["supplied"].sum()).fillna(0.0)
    hosted = allocation[allocation["hosted"]]
    layers["suppliers"] = layers["layer"].map(hosted.groupby("layer").size()).fillna(0)
    layers["suppliers"] = layers["suppliers"].astype(int)
    share = allocation["share"]
    layers["max_share"] = layers["layer"].map(share.groupby(allocation["layer"]).max())
    layers["max_share"] = layers["max_share"].fillna(0.0)
    hhi = (share**2).groupby(allocation["layer"]).sum()
    layers["hhi"] = layers["layer"].map(hhi).fillna(0.0)
    hhi_values = layers["hhi"].to_numpy()
    layers["effective_suppliers"] = np.divide(
        1.0, hhi_values, out=np.zeros(len(layers)), where=hhi_values > 0)
    biggest = allocation.groupby("layer")["capacity"].max()
    without = layers["capacity"] - layers["layer"].map(biggest).fillna(0.0)
    d = layers["demand"].to_numpy()
    layers["n1_coverage"] = np.divide(without.to_numpy(), d, out=np.full(len(layers), np.nan),
                                      where=d > 0)
    k_of = _resilience_k(case)
    if k_of is not None:
        # N-k: the share of demand left after losing the layer's resilience_k largest hosts.
        ranked = allocation.sort_values("capacity", ascending=False, kind="stable")
        rank = ranked.groupby("layer").cumcount()
        top = ranked[rank.to_numpy() < ranked["layer"].map(k_of).to_numpy()]
        lost = layers["layer"].map(top.groupby("layer")["capacity"].sum()).fillna(0.0)
        layers["nk_coverage"] = np.divide((layers["capacity"] - lost).to_numpy(), d,
                                          out=np.full(len(layers), np.nan), where=d > 0)
    surplus = (layers["capacity"] - layers["demand"]).to_numpy()
    # Rounding noise of the sums (capacity equal to demand up to 1e-14) is no surplus.
    noise = np.abs(surplus) <= ZERO * np.maximum(1.0, layers["demand"].to_numpy())
    layers["surplus"] = np.where(noise, 0.0, surplus)
    if shortage is not None:
        layers["surplus"] = np.maximum(layers["surplus"].to_numpy(), 0.0)
        unmet = shortage.groupby("layer")["unmet"].sum()
        layers["unmet"] = layers["layer"].map(unmet).fillna(0.0).astype(float)
    return layers.sort_values("layer").reset_index(drop=True)


def pandas_partners_table(case: Any, allocation: pd.DataFrame, flows: pd.DataFrame,
                   market_supply: pd.Series | None = None) -> pd.DataFrame:
    """Per partner: value supplied, participation share, layers hosted and cost.

    With markets, the stack's value includes what is sent to them (``market_supply``).
    """
    p = case.partners[["partner", "member"]].copy()
    unit_value = case.layers.set_index("layer")["unit_value"]
    value = allocation["supplied"] * allocation["layer"].map(unit_value).to_numpy()
    need = case.demand.groupby("layer")["demand"].sum()
    if getattr(case, "has_inputs", False) or market_supply is not None:
        ids = case.layers["layer"].astype(str).tolist()
        final = need.reindex(ids).fillna(0.0).to_numpy(dtype=float)
        need = pd.Series(requirement(case, final, market_supply), index=ids)
    total = float((need * unit_value.reindex(need.index)).sum())
    p["value"] = p["partner"].map(value.groupby(allocation["partner"]).sum()).fillna(0.0)
    p["participation"] = p["value"] / total if total > 0 else 0.0
    hosted = allocation[allocation["hosted"]].groupby("partner").size()
    p["layers_hosted"] = p["partner"].map(hosted).fillna(0).astype(int)
    own = allocation.groupby("partner")["cost"].sum()
    shipped = (flows["quantity"] * flows["unit_cost"]).groupby(flows["exporter"]).sum()
    p["cost"] = p["partner"].map(own).fillna(0.0) + p["partner"].map(shipped).fillna(0.0)
    return p.sort_values("partner").reset_index(drop=True)


def pandas_cost_terms(case: Any, allocation: pd.DataFrame, flows: pd.DataFrame,
               layers: pd.DataFrame, shortage: pd.DataFrame | None = None) -> dict[str, float]:
    """The objective's terms recomputed from the tables (README, The model).

    With markets ``flows`` holds the market flows too; their own terms are
    :func:`solver.market_tables.market_cost_terms`.
    """
    obj = case.objective
    fixed = float((allocation["fixed_cost"] * allocation["hosted"]).sum())
    capacity = float((allocation["unit_cost"] * allocation["capacity"]).sum())
    trade = float((flows["quantity"] * flows["unit_cost"]).sum())
    rc = case.layers.set_index("layer")["redundancy_cost"]
    redundancy = obj.redundancy_weight * float(
        (layers["surplus"] * layers["layer"].map(rc)).sum())
    risk_p = case.partners.set_index("partner")["disruption_risk"]
    value = allocation["supplied"] * allocation["layer"].map(
        case.layers.set_index("layer")["unit_value"]).to_numpy()
    risk = obj.risk_weight * float((value * allocation["partner"].map(risk_p)).sum())
    price = obj.shortage_cost or 0.0
    unmet = float(shortage["unmet"].sum()) if shortage is not None else 0.0
    return {"fixed": fixed, "capacity": capacity, "trade": trade, "redundancy": redundancy,
            "risk": risk, "shortage": price * unmet}


def pandas_flows_table(data: Any, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """flows.csv as sort_values makes it (the reference of results.flows_table)."""
    from solver.results import ZERO, clean

    f = data.flows
    qty = clean(values["f"])
    keep = qty > ZERO
    out = pd.DataFrame({
        "exporter": f["exporter"].to_numpy()[keep],
        "importer": f["importer"].to_numpy()[keep],
        "layer": f["layer"].to_numpy()[keep],
        "quantity": qty[keep],
        "unit_cost": f["unit_cost"].to_numpy(dtype=float)[keep],
    })
    return out.sort_values(["exporter", "importer", "layer"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def sample() -> Any:
    from solver import load_case

    return load_case(ROOT / "models" / "allied-ai-stack.toml")


@pytest.mark.parametrize("overrides", [[], ["demand.demand*=0.93"], ["layers.resilience_k=2"],
                                       ["objective.shortage_cost=1000", "demand.demand*=1.2"]])
def test_the_tables_are_the_pandas_made_ones(sample: Any, overrides: list[str]) -> None:
    """layers and partners of random plans of the sample: the same frames, bit for bit."""
    from solver.model.data import model_data
    from solver.results import (
        allocation_table,
        cost_terms,
        flows_table,
        layers_table,
        partners_table,
        shortage_table,
    )

    case = sample.with_overrides(overrides, source="test") if overrides else sample
    data = model_data(case)
    rng = np.random.default_rng(len(overrides))
    for _ in range(5):
        n = len(data.pairs)
        values = {"y": (rng.random(n) < 0.6).astype(float), "k": rng.random(n) * 100,
                  "q": rng.random(n) * 50 * (rng.random(n) < 0.7),
                  "f": rng.random(len(data.flows)) * (rng.random(len(data.flows)) < 0.2),
                  "z": rng.random(len(data.rows)) * (rng.random(len(data.rows)) < 0.3)}
        allocation = allocation_table(case, data, values)
        flows = flows_table(data, values)
        shortage = shortage_table(data, values) if case.objective.shortage_cost else None
        pd.testing.assert_frame_equal(layers_table(case, allocation, shortage),
                                      pandas_layers_table(case, allocation, shortage),
                                      check_exact=True)
        pd.testing.assert_frame_equal(partners_table(case, allocation, flows),
                                      pandas_partners_table(case, allocation, flows),
                                      check_exact=True)
        pd.testing.assert_frame_equal(flows, pandas_flows_table(data, values),
                                      check_exact=True)
        layers = layers_table(case, allocation, shortage)
        assert cost_terms(case, allocation, flows, layers, shortage) == pandas_cost_terms(
            case, allocation, flows, layers, shortage)
