"""The model against a formulation of README, The model and The stack as a chain written apart.

The formulation below is written straight from the text (highspy's modelling calls, no code of
``solver``): binaries y, capacities k, final flows f over allowed routes, input flows g within
each link's source rule and the routes allowed for the input's layer, supply ``q = sum f +
sum g``, input balances ``sum_p g[p,r,l,m] = a[l,m] q[r,l]``, the total requirement ``D = (I -
A^T)^-1 d`` in every family that refers to D, unmet final demand at a price. Random small cases
(seeded) must reach the same optimum in both.
"""

from __future__ import annotations

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

PARTNERS = {"M1": ("e", 1.0), "M2": ("e", 0.9), "S1": ("s", 0.6), "S2": ("t", 1.0)}
MEMBERS = ("M1", "M2")
LAYERS = ("chips", "cloud", "power")
SHORTAGE_COST = 40.0


def random_tables(seed: int) -> dict[str, pd.DataFrame]:
    """A small case with a chain, per-layer trade rows and every source rule."""
    rng = np.random.default_rng(seed)
    partners = pd.DataFrame({"partner": list(PARTNERS),
                             "member": [p in MEMBERS for p in PARTNERS],
                             "bloc": [b for b, _ in PARTNERS.values()],
                             "trust": [t for _, t in PARTNERS.values()]})
    layers = pd.DataFrame({
        "layer": LAYERS,
        "min_suppliers": rng.integers(0, 3, len(LAYERS)),
        "min_supplier_share": rng.choice([0.0, 0.05, 0.2], len(LAYERS)),
        "max_share": rng.choice([1.0, 0.8, 0.6], len(LAYERS)),
        "min_trust": rng.choice([0.0, 0.0, 0.7], len(LAYERS)),
        "resilience": rng.choice([0.0, 0.0, 0.3], len(LAYERS)),
    })
    caps = []
    for p in PARTNERS:
        for layer in LAYERS:
            if rng.random() < 0.75:
                caps.append({"partner": p, "layer": layer,
                             "capacity": float(rng.integers(15, 80)),
                             "unit_cost": float(rng.integers(1, 9)),
                             "fixed_cost": float(rng.choice([0, 2, 5]))})
    demand = pd.DataFrame([{"member": m, "layer": layer, "demand": float(rng.integers(0, 12))}
                           for m in MEMBERS for layer in LAYERS])
    trade = []
    for e in PARTNERS:
        for i in MEMBERS:
            if e == i:
                continue
            if rng.random() < 0.5:
                trade.append({"exporter": e, "importer": i, "layer": "",
                              "unit_cost": float(rng.integers(0, 3)), "allowed": True})
            if rng.random() < 0.4:
                trade.append({"exporter": e, "importer": i, "layer": str(rng.choice(LAYERS)),
                              "unit_cost": float(rng.integers(0, 4)),
                              "allowed": bool(rng.random() < 0.6)})
    trade_frame = pd.DataFrame(trade, columns=["exporter", "importer", "layer", "unit_cost",
                                               "allowed"])
    trade_frame = trade_frame.drop_duplicates(["exporter", "importer", "layer"])
    inputs = []
    for layer in LAYERS:
        for inp in LAYERS:
            if rng.random() < 0.45:
                inputs.append({"layer": layer, "input": inp,
                               "per_unit": float(rng.choice([0.1, 0.25, 0.4])),
                               "source": str(rng.choice(["any", "bloc", "local"]))})
    if not inputs:
        inputs.append({"layer": "cloud", "input": "power", "per_unit": 0.3, "source": "local"})
    return {"partners": partners, "layers": layers, "capabilities": pd.DataFrame(caps),
            "demand": demand, "trade": trade_frame, "inputs": pd.DataFrame(inputs)}


def independent_optimum(t: dict[str, pd.DataFrame]) -> float | None:
    """The least cost of the case by the formulation of the text, or None if infeasible."""
    partners = t["partners"].set_index("partner")
    layers = t["layers"].set_index("layer")
    ids = list(layers.index)
    a = np.zeros((len(ids), len(ids)))
    for row in t["inputs"].itertuples():
        a[ids.index(row.layer), ids.index(row.input)] = row.per_unit
    d = np.array([t["demand"].loc[t["demand"]["layer"] == lay, "demand"].sum() for lay in ids])
    big_d = dict(zip(ids, np.linalg.solve(np.eye(len(ids)) - a.T, d).tolist(), strict=True))

    def route(e: str, i: str, layer: str) -> tuple[bool, float]:
        if e == i:
            return True, 0.0
        rows = t["trade"][(t["trade"]["exporter"] == e) & (t["trade"]["importer"] == i)]
        for want in (layer, ""):
            hit = rows[rows["layer"] == want]
            if len(hit):
                return bool(hit["allowed"].iloc[0]), float(hit["unit_cost"].iloc[0])
        return True, 0.0

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)  # HiGHS has one scheduler per process (the tool uses 1)
    pairs = [r for r in t["capabilities"].itertuples()
             if partners.loc[r.partner, "trust"] >= layers.loc[r.layer, "min_trust"]]
    y = {(r.partner, r.layer): h.addBinary(obj=r.fixed_cost) for r in pairs}
    k = {(r.partner, r.layer): h.addVariable(lb=0, obj=r.unit_cost) for r in pairs}
    hosts = {lay: [p for (p, l2) in y if l2 == lay] for lay in ids}
    out_of: dict[tuple[str, str], list[Any]] = {key: [] for key in y}
    for row in t["demand"].itertuples():
        if row.demand <= 0:
            continue
        f = []
        for p in hosts[row.layer]:
            ok, cost = route(p, row.member, row.layer)
            if ok:
                var = h.addVariable(lb=0, obj=cost)
                f.append(var)
                out_of[(p, row.layer)].append(var)
        z = h.addVariable(lb=0, obj=SHORTAGE_COST)
        h.addConstr(sum(f, start=z) == row.demand)
    balances: list[tuple[list[Any], float, tuple[str, str]]] = []
    for link in t["inputs"].itertuples():
        for r in hosts[link.layer]:
            g = []
            for p in hosts[link.input]:
                ok, cost = route(p, r, link.input)
                same_bloc = partners.loc[p, "bloc"] == partners.loc[r, "bloc"]
                if not ok or (link.source == "local" and p != r) or (
                        link.source == "bloc" and not same_bloc):
                    continue
                var = h.addVariable(lb=0, obj=cost)
                g.append(var)
                out_of[(p, link.input)].append(var)
            # The balance row needs q, which needs every g: it is added below.
            balances.append((g, float(link.per_unit), (r, link.layer)))
    q = {key: sum(vars_, start=0.0 * k[key]) for key, vars_ in out_of.items()}
    for terms, per_unit, key in balances:
        h.addConstr(sum(terms, start=-per_unit * q[key]) == 0)
    for (p, lay), var in y.items():
        cap = float(t["capabilities"].set_index(["partner", "layer"]).loc[(p, lay), "capacity"])
        h.addConstr(q[(p, lay)] <= k[(p, lay)])
        h.addConstr(k[(p, lay)] <= cap * var)
        D = big_d[lay]
        h.addConstr(q[(p, lay)] >= float(layers.loc[lay, "min_supplier_share"]) * D * var)
        h.addConstr(q[(p, lay)] <= float(layers.loc[lay, "max_share"]) * D)
    for lay in ids:
        D = big_d[lay]
        zero = 0.0 * next(iter(k.values()))
        need = int(layers.loc[lay, "min_suppliers"])
        if D > 0 and need > 0:
            h.addConstr(sum((y[(p, lay)] for p in hosts[lay]), start=zero) >= need)
        share = float(layers.loc[lay, "resilience"])
        if share > 0:
            total = sum((k[(p, lay)] for p in hosts[lay]), start=zero)
            for p in hosts[lay] or [None]:
                rest = total - k[(p, lay)] if p is not None else total
                h.addConstr(rest >= share * D)
    return optimum(h)


@pytest.mark.parametrize("seed", seeds(16, unit=6))
def test_random_chained_cases_agree(tmp_path: Path, seed: int) -> None:
    tables = random_tables(seed)
    case = load_case(write_tables(tables, tmp_path / "case")).with_overrides(
        {"objective.shortage_cost": SHORTAGE_COST})
    want = independent_optimum(tables)
    try:
        result = solve(case, mip_gap=0.0)
    except InfeasibleError:
        assert want is None
        return
    assert result.verified, result.violations
    assert want is not None
    assert result.objective == pytest.approx(want, rel=1e-7, abs=1e-6)
