"""The pathway model against a formulation of README, Pathways written apart.

Written straight from the text with highspy's modelling calls (no code of ``solver``): per
period t, builds b[c,tau] <= max_build decided in tau, the installed base kept x[c,t] <=
existing while year_t < existing_until and never rising again, capacity in service k[c,t] =
x[c,t] + the builds with year_tau + lead_time <= year_t < year_tau + lead_time + lifetime,
binaries y[c,t] with min_capacity y <= k <= capacity y, supply q <= k meeting each period's
demand (times demand_factor, then the period's targets), supplier share, diversification and
concentration per period; the objective sums w_t = years (1+r)^-(year_t - first) times each
period's fixed, vintage capacity and existing costs. Random small cases (seeded) must reach
the same optimum in both, or both be infeasible.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pytest

from solver import load_case, solve
from solver.errors import InfeasibleError

try:
    from formulation import optimum, seeds, write_tables
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.formulation import optimum, seeds, write_tables

PARTNERS = ("A", "B", "C")
LAYERS = ("chips", "cloud")


def random_tables(seed: int) -> dict[str, pd.DataFrame]:
    """A small pathway: 2-3 periods, an installed base, lead times, lifetimes, rates, targets."""
    rng = np.random.default_rng(seed)
    n_t = int(rng.integers(2, 4))
    years = np.cumsum(rng.integers(1, 4, n_t)) + 2025
    periods = pd.DataFrame({"period": [f"p{y}" for y in years], "year": years,
                            "years": rng.choice([1.0, 2.0, 5.0], n_t),
                            "demand_factor": rng.choice([1.0, 1.5, 2.0], n_t)})
    layers = pd.DataFrame({"layer": LAYERS, "demand": rng.integers(4, 10, len(LAYERS)),
                           "min_suppliers": rng.integers(1, 3, len(LAYERS)),
                           "min_supplier_share": rng.choice([0.0, 0.1], len(LAYERS)),
                           "max_share": rng.choice([1.0, 0.8, 0.6], len(LAYERS))})
    caps = []
    for p in PARTNERS:
        for layer in LAYERS:
            # B and C serve at once everywhere, so that most random pathways have a plan.
            if p != "A" or rng.random() < 0.85:
                has_base = rng.random() < 0.5
                caps.append({
                    "partner": p, "layer": layer, "capacity": float(rng.integers(15, 60)),
                    "unit_cost": float(rng.integers(1, 9)),
                    "fixed_cost": float(rng.choice([0, 1, 3])),
                    "min_capacity": float(rng.choice([0, 0, 2])),
                    "existing": float(rng.integers(2, 12)) if has_base else 0.0,
                    "existing_cost": float(rng.choice([0.5, 2.0, 6.0])) if has_base else None,
                    "existing_until": int(rng.choice(years)) if rng.random() < 0.3 else None,
                    "lead_time": 0.0 if p != "A" else float(rng.choice([0, 1, 2, 3])),
                    "lifetime": float(rng.choice([1, 2, 4])) if rng.random() < 0.5 else None,
                    "max_build": float(rng.integers(4, 20)) if rng.random() < 0.5 else None,
                })
    targets = [{"period": periods["period"].iloc[-1],
                "set": f"layers[{LAYERS[0]}].max_share={rng.choice([0.5, 0.7])}"}]
    if rng.random() < 0.5:
        targets.append({"period": periods["period"].iloc[0],
                        "set": f"capabilities[A,*].unit_cost*={rng.choice([0.5, 2.0])}"})
    return {"partners": pd.DataFrame({"partner": PARTNERS}), "layers": layers,
            "capabilities": pd.DataFrame(caps).astype({"existing_until": "Int64"}),
            "periods": periods, "targets": pd.DataFrame(targets)}


def period_data(t: dict[str, pd.DataFrame], period: str, factor: float) -> tuple[Any, Any]:
    """Layers and capabilities of one period: demand times its factor, then its targets."""
    layers = t["layers"].set_index("layer").copy()
    layers["demand"] = layers["demand"] * factor
    caps = t["capabilities"].set_index(["partner", "layer"]).copy()
    for text in t["targets"].loc[t["targets"]["period"] == period, "set"]:
        key, value = text.split("=")
        if key.startswith("layers["):
            layers.loc[key[7:key.index("]")], "max_share"] = float(value)
        else:
            partner = key[len("capabilities["):key.index(",")]
            rows = caps.index.get_level_values(0) == partner
            caps.loc[rows, "unit_cost"] = caps.loc[rows, "unit_cost"] * float(value)
    return layers, caps


def independent_optimum(t: dict[str, pd.DataFrame], rate: float) -> float | None:
    """The least discounted cost of the pathway by the text's formulation, None if infeasible."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)
    per = t["periods"].reset_index(drop=True)
    year = per["year"].astype(int).tolist()
    w = [float(per["years"][i]) * (1 + rate) ** -(year[i] - year[0]) for i in range(len(per))]
    data = [period_data(t, str(per["period"][i]), float(per["demand_factor"][i]))
            for i in range(len(per))]
    keys = list(t["capabilities"].set_index(["partner", "layer"]).index)
    b: dict[tuple[Any, int], Any] = {}
    for tau, (_, caps) in enumerate(data):
        for c in keys:
            most = caps.loc[c, "max_build"]
            most = caps.loc[c, "capacity"] if pd.isna(most) else most
            b[(c, tau)] = h.addVariable(lb=0, ub=float(most))
    x_before: dict[Any, Any] = {}
    for i, (layers, caps) in enumerate(data):
        zero = 0.0 * b[(keys[0], 0)]
        q_of: dict[str, list[Any]] = {lay: [] for lay in LAYERS}
        y_of: dict[str, list[Any]] = {lay: [] for lay in LAYERS}
        for c in keys:
            row = caps.loc[c]
            until = row["existing_until"]
            base = float(row["existing"]) if pd.isna(until) or year[i] < until else 0.0
            ec = row["existing_cost"]
            ec = row["unit_cost"] if pd.isna(ec) else ec
            x = h.addVariable(lb=0, ub=base, obj=w[i] * float(ec))
            if c in x_before:
                h.addConstr(x <= x_before[c])
            x_before[c] = x
            k = x + zero
            for tau in range(i + 1):
                vintage = data[tau][1].loc[c]
                start = year[tau] + float(vintage["lead_time"])
                life = math.inf if pd.isna(vintage["lifetime"]) else float(vintage["lifetime"])
                if start <= year[i] < start + life:
                    k = k + b[(c, tau)]
                    h.changeColCost(b[(c, tau)].index, h.getLp().col_cost_[b[(c, tau)].index]
                                    + w[i] * float(vintage["unit_cost"]))
            y = h.addBinary(obj=w[i] * float(row["fixed_cost"]))
            q = h.addVariable(lb=0)
            lay = c[1]
            D = float(layers.loc[lay, "demand"])
            h.addConstr(q <= k)
            h.addConstr(k <= float(row["capacity"]) * y)
            h.addConstr(k >= float(row["min_capacity"]) * y)
            h.addConstr(q >= float(layers.loc[lay, "min_supplier_share"]) * D * y)
            h.addConstr(q <= float(layers.loc[lay, "max_share"]) * D)
            q_of[lay].append(q)
            y_of[lay].append(y)
        for lay in LAYERS:
            D = float(layers.loc[lay, "demand"])
            h.addConstr(sum(q_of[lay], start=zero) == D)
            h.addConstr(sum(y_of[lay], start=zero) >= int(layers.loc[lay, "min_suppliers"]))
    return optimum(h)


@pytest.mark.parametrize("seed", seeds(16, unit=6))
def test_random_pathways_agree(tmp_path: Path, seed: int) -> None:
    tables = random_tables(seed)
    rate = [0.0, 0.035, 0.1][seed % 3]
    case = load_case(write_tables(tables, tmp_path / "case")).with_overrides(
        {"objective.discount_rate": rate})
    want = independent_optimum(tables, rate)
    try:
        result = solve(case, mip_gap=0.0)
    except InfeasibleError:
        assert want is None
        return
    assert result.verified, result.violations
    assert want is not None
    assert result.objective == pytest.approx(want, rel=1e-7, abs=1e-6)
