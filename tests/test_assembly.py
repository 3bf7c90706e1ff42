"""The array path (solver/model/assembly.py) builds the matrices the Pyomo path compiles to.

Random small cases that switch every family on or off (with and without inputs.csv, with
shortage, budgets, N-k resilience, participation, dependency and domestic shares): the
matrix, row and column bounds, costs, offset and integrality from ``assemble`` equal, entry by
entry, those ``compile_model`` reads from ``build``'s Pyomo model; the same for pathways
(periods.csv, an installed base, lead times, lifetimes, build rates, budgets) between
``assemble_pathway`` and ``build_pathway``; and a family with no array form sends the case
(a pathway too) down the Pyomo path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from solver import load_case, solve
from solver.case.loader import Case
from solver.errors import InfeasibleError
from solver.highs.compile import compile_model, group_columns
from solver.model.assembly import assemble
from solver.model.build import build
from solver.model.constraints import FAMILIES
from solver.model.data import model_data
from solver.model.pathway import build_pathway
from solver.model.pathway_arrays import assemble_pathway
from solver.solve import row_families, variable_groups

try:
    from formulation import write_tables
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.formulation import write_tables


def random_tables(seed: int, chain: bool) -> dict[str, pd.DataFrame]:
    """A small case whose families are each on or off at random."""
    rng = np.random.default_rng(seed)
    n_p, n_l = int(rng.integers(3, 6)), int(rng.integers(2, 5))
    partners = [f"P{i}" for i in range(n_p)]
    layers = [f"L{i}" for i in range(n_l)]
    members = partners[: max(2, n_p - 1)]
    tables = {
        "partners": pd.DataFrame({
            "partner": partners, "member": [p in members for p in partners],
            "trust": rng.choice([0.5, 0.8, 1.0], n_p),
            "bloc": rng.choice(["a", "b"], n_p),
            "min_participation": rng.choice([0.0, 0.0, 0.02], n_p),
            "max_participation": rng.choice([1.0, 1.0, 0.9], n_p),
            "disruption_risk": rng.choice([0.0, 0.1, 0.3], n_p)}),
        "layers": pd.DataFrame({
            "layer": layers, "unit_value": rng.choice([1.0, 2.5], n_l),
            "min_suppliers": rng.integers(0, 3, n_l),
            "min_supplier_share": rng.choice([0.0, 0.05], n_l),
            "max_share": rng.choice([1.0, 0.7], n_l),
            "min_trust": rng.choice([0.0, 0.7], n_l),
            "resilience": rng.choice([0.0, 0.3], n_l),
            "resilience_k": rng.choice([1, 1, 2], n_l),
            "redundancy_cost": rng.choice([0.0, 0.05], n_l),
            "max_surplus": rng.choice([np.nan, 1.5], n_l)}),
        "capabilities": pd.DataFrame([
            {"partner": p, "layer": la, "capacity": float(rng.integers(20, 90)),
             "unit_cost": float(rng.integers(1, 6)), "fixed_cost": float(rng.choice([0, 3])),
             "min_capacity": float(rng.choice([0, 0, 2]))}
            for p in partners for la in layers if rng.random() < 0.8]),
        "demand": pd.DataFrame([
            {"member": m, "layer": la, "demand": float(rng.integers(0, 15)),
             "max_dependency": float(rng.choice([1.0, 0.8])),
             "min_domestic": float(rng.choice([0.0, 0.1]))}
            for m in members for la in layers]),
        "trade": pd.DataFrame([
            {"exporter": e, "importer": i, "unit_cost": float(rng.integers(0, 3)),
             "allowed": bool(rng.random() < 0.9)}
            for e in partners for i in members if e != i]),
    }
    if chain:
        tables["inputs"] = pd.DataFrame([
            {"layer": la, "input": inp, "per_unit": float(rng.choice([0.05, 0.2])),
             "source": str(rng.choice(["any", "bloc", "local"]))}
            for la in layers for inp in layers if rng.random() < 0.4]
            or [{"layer": layers[0], "input": layers[-1], "per_unit": 0.1, "source": "any"}])
    return tables


def hostable_domestic(tables: dict[str, pd.DataFrame]) -> None:
    """No min_domestic where the member cannot host the layer (no capability, or its trust
    below the layer's min_trust): that requirement alone rules out every plan."""
    trust = tables["partners"].set_index("partner")["trust"]
    min_trust = tables["layers"].set_index("layer")["min_trust"]
    cap = tables["capabilities"]
    hosts = {(p, la) for p, la in zip(cap["partner"], cap["layer"], strict=True)
             if trust[p] >= min_trust[la]}
    demand = tables["demand"]
    homeless = [(m, la) not in hosts for m, la in zip(demand["member"], demand["layer"],
                                                      strict=True)]
    demand.loc[homeless, "min_domestic"] = 0.0


def random_case(tmp_path: Path, seed: int, chain: bool, periods: bool = False,
                hostable: bool = False) -> Case:
    """The case of :func:`random_tables` with random objective settings (and periods).

    ``hostable``: min_domestic only where the member can host the layer
    (:func:`hostable_domestic`), so that more of the cases have a plan.
    """
    rng = np.random.default_rng(1000 + seed)
    folder = tmp_path / f"case{seed}{'c' if chain else ''}{'p' if periods else ''}"
    tables = random_tables(seed, chain)
    if hostable:
        hostable_domestic(tables)
    if periods:
        add_periods(tables, rng)
    case = load_case(write_tables(tables, folder))
    overrides: dict[str, Any] = {"objective.risk_weight": float(rng.choice([0.0, 0.5])),
                                 "objective.redundancy_weight": float(rng.choice([0.0, 1.0]))}
    if rng.random() < 0.5:
        overrides["objective.shortage_cost"] = 50.0
    if rng.random() < 0.4:
        overrides["objective.budget"] = 1e4
    if periods:
        overrides["objective.discount_rate"] = float(rng.choice([0.0, 0.035]))
    return case.with_overrides(overrides)


def add_periods(tables: dict[str, pd.DataFrame], rng: np.random.Generator) -> None:
    """periods.csv of 2-4 periods; an installed base, lead times, lifetimes and build rates."""
    n_t = int(rng.integers(2, 5))
    years = np.cumsum(rng.integers(1, 4, n_t)) + 2025
    tables["periods"] = pd.DataFrame({
        "period": [f"p{y}" for y in years], "year": years,
        "years": rng.choice([1.0, 2.0, 5.0], n_t),
        "demand_factor": np.round(np.cumprod(rng.choice([1.0, 1.2], n_t)), 6)})
    cap = tables["capabilities"]
    n = len(cap)
    has_base = rng.random(n) < 0.5
    cap["existing"] = np.where(has_base, np.floor(cap["capacity"] * rng.random(n)), 0.0)
    cap["existing_cost"] = np.where(has_base, rng.choice([0.0, 0.5, 2.0], n), np.nan)
    cap["existing_until"] = pd.array(np.where(rng.random(n) < 0.3, rng.choice(years, n), -1),
                                     dtype="Int64")
    cap.loc[cap["existing_until"] < 0, "existing_until"] = pd.NA
    cap["lead_time"] = rng.choice([0.0, 0.0, 1.0, 3.0], n)
    cap["lifetime"] = np.where(rng.random(n) < 0.4, rng.choice([1.0, 2.0, 4.0], n), np.nan)
    cap["max_build"] = np.where(rng.random(n) < 0.4, rng.integers(0, 30, n), np.nan)


def assert_same_compiled(have: Any, want: Any) -> None:
    """Two :class:`Compiled` models hold the same matrix, bounds, costs and integrality."""
    assert (have.n_rows, have.n_cols, have.sense) == (want.n_rows, want.n_cols, want.sense)
    for name in ("start", "index", "value", "row_lower", "row_upper", "cost"):
        np.testing.assert_array_equal(getattr(have, name), getattr(want, name), err_msg=name)
    for name in ("lower", "upper", "integer"):
        np.testing.assert_array_equal(getattr(have.bounds, name), getattr(want.bounds, name),
                                      err_msg=name)
    assert have.offset == want.offset


def assert_same_matrices(case: Case) -> None:
    """``assemble(case)`` equals the compiled Pyomo model, entry by entry."""
    built = build(case)
    want = compile_model(built.m)
    want_columns = group_columns(want, variable_groups(built.m))
    got = assemble(case)
    assert got is not None and got.compiled is not None
    have = got.compiled
    assert_same_compiled(have, want)
    assert got.columns.keys() == want_columns.keys()
    for name, cols in want_columns.items():
        np.testing.assert_array_equal(got.columns[name], cols, err_msg=name)
    names = [c.name for c in want.constraints]
    assert [r.name for r in have.constraints] == names


def assert_same_pathway(case: Case) -> None:
    """``assemble_pathway(case)`` equals the compiled Pyomo pathway, entry by entry.

    Rows and columns are named alike up to their index (``in_service[3]``).
    """
    path = build_pathway(case)
    want = compile_model(path.m)
    got = assemble_pathway(case)
    assert got is not None and got.compiled is not None
    assert_same_compiled(got.compiled, want)

    def kinds(items: Any) -> list[str]:
        return [x.name.split("[")[0] for x in items]

    assert kinds(got.compiled.constraints) == kinds(want.constraints)
    assert kinds(got.compiled.declared) == kinds(want.declared)
    assert list(got.m.b) == list(path.m.b.keys())
    assert list(got.m.x) == list(path.m.x.keys())


@pytest.mark.parametrize("seed", range(12))
def test_the_array_path_builds_the_pyomo_matrices(tmp_path: Path, seed: int) -> None:
    assert_same_matrices(random_case(tmp_path, seed, chain=False))


@pytest.mark.parametrize("seed", range(12))
def test_the_array_path_builds_the_pyomo_matrices_with_inputs(tmp_path: Path,
                                                              seed: int) -> None:
    assert_same_matrices(random_case(tmp_path, seed, chain=True))


@pytest.mark.parametrize("chain", [False, True])
def test_both_paths_count_the_same_row_families(tmp_path: Path, chain: bool) -> None:
    """What --strengthen reads of a model (its row families) is the same on both paths."""
    for seed in range(4):
        case = random_case(tmp_path, seed, chain)
        assembled = assemble(case)
        assert assembled is not None
        assert row_families(assembled) == row_families(build(case)), seed


def test_the_random_cases_switch_every_family_on(tmp_path: Path) -> None:
    """The cases above reach every family and the N-k columns at least once."""
    seen: set[str] = set()
    for seed in range(12):
        for chain in (False, True):
            got = assemble(random_case(tmp_path, seed, chain))
            assert got is not None and got.compiled is not None
            seen |= {r.name.split("[")[0] for r in got.compiled.constraints}
            seen |= set(got.columns)
    assert seen >= {"define_supplied", "define_built", "demand", "input_balance",
                    "surplus_part", "capacity", "hosting", "hosting_min", "supplier_share",
                    "diversification", "resilience", "resilience_top", "surplus",
                    "participation", "budget", "res_t", "res_s", "g", "z", "u"}


@pytest.mark.parametrize("seed", range(8))
def test_the_array_path_builds_the_pyomo_pathway(tmp_path: Path, seed: int) -> None:
    assert_same_pathway(random_case(tmp_path, seed, chain=seed % 2 == 1, periods=True))


@pytest.mark.parametrize("target", ["layers[L0].min_trust=0.9", "partners[P1].bloc=c",
                                    "trade[P0,P1].allowed=false"])
def test_a_period_laid_out_anew_where_its_targets_change_the_flows(tmp_path: Path,
                                                                    target: str) -> None:
    """A later period whose targets change pairs, blocs or routes lays out its own flows."""
    tables = random_tables(4, chain=True)
    tables["inputs"]["source"] = "bloc"
    add_periods(tables, np.random.default_rng(4))
    last = str(tables["periods"]["period"].iloc[-1])
    tables["targets"] = pd.DataFrame({"period": [last], "set": [target]})
    case = load_case(write_tables(tables, tmp_path / "case"))
    got = assemble_pathway(case)
    assert got is not None
    first, final = got.blocks[0].data, got.blocks[-1].data
    assert first.chain is not None and final.chain is not None
    assert not (first.flows.equals(final.flows) and first.chain.flows.equals(final.chain.flows))
    assert_same_pathway(case)


def test_the_random_pathways_reach_every_pathway_family(tmp_path: Path) -> None:
    """The pathways above have builds, a base, its retirement, and budgets in some period."""
    seen: set[str] = set()
    for seed in range(8):
        got = assemble_pathway(random_case(tmp_path, seed, chain=seed % 2 == 1, periods=True))
        assert got is not None and got.compiled is not None
        seen |= {r.name.split("[")[0] for r in got.compiled.constraints}
        seen |= {c.name.split("[")[0] for c in got.compiled.declared}
    assert seen >= {"b", "x", "retirement", "in_service", "budget", "period_0.input_balance",
                    "period_1.demand", "period_0.g", "period_1.z"}


def add_cap_on_first_pair(ctx: Any) -> None:
    """A Pyomo-only family: ``k[0] <= 1``."""
    import pyomo.core as pyo

    ctx.m.cap_first = pyo.Constraint(expr=ctx.m.k[0] <= 1.0)
    ctx.m.row_keys["cap_first"] = [()]


def with_pyomo_only_family(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """FAMILIES with :func:`add_cap_on_first_pair` added, where build() and assemble() read it."""
    import importlib

    import solver.model.constraints as constraints_module

    families = [*FAMILIES, add_cap_on_first_pair]
    monkeypatch.setattr(importlib.import_module("solver.model.build"), "FAMILIES", families)
    monkeypatch.setattr(constraints_module, "FAMILIES", families)
    return families


def test_a_family_without_an_array_form_falls_back_to_pyomo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A family written only in Pyomo style sends the whole solve down the Pyomo path."""
    case = random_case(tmp_path, 3, chain=False)
    assert assemble(case) is not None
    families = with_pyomo_only_family(monkeypatch)
    assert assemble(case, families) is None and assemble(case) is None
    result = solve(case, raise_on_failure=False)
    assert result.summary["size"]["constraints"] == compile_model(build(case).m).n_rows
    first = model_data(case).pairs.iloc[0]
    a = result.allocation
    if result.has_solution:
        at = (a["partner"] == first["partner"]) & (a["layer"] == first["layer"])
        assert float(a.loc[at, "capacity"].iloc[0]) <= 1.0 + 1e-6


def test_a_pathway_with_a_family_without_an_array_form_falls_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Pyomo-only family: the whole pathway is built in Pyomo, the family in every period."""
    case = random_case(tmp_path, 2, chain=False, periods=True).with_overrides(
        {"objective.shortage_cost": 50.0})
    assert assemble_pathway(case) is not None
    with_pyomo_only_family(monkeypatch)
    assert assemble_pathway(case) is None
    path = build_pathway(case)
    assert all(hasattr(block.m, "cap_first") for block in path.blocks)
    import solver.model.pathway as pathway_module

    built: list[Any] = []

    def spy(c: Case) -> Any:
        built.append(build_pathway(c))
        return built[-1]

    monkeypatch.setattr(pathway_module, "build_pathway", spy)
    with pytest.raises(InfeasibleError):  # k[0] <= 1 in every period rules out every plan
        solve(case, mip_gap=0.0, raise_on_failure=False)
    assert built and hasattr(built[0].blocks[-1].m, "cap_first")  # (built again to explain)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_both_paths_solve_to_the_same_plan_cost(tmp_path: Path, seed: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """solve() on the array path and, with it switched off, on Pyomo: the same optimum."""
    import solver.model.assembly as assembly_module

    case = random_case(tmp_path, seed, chain=seed == 2)
    fast = solve(case, mip_gap=0.0, raise_on_failure=False)
    monkeypatch.setattr(assembly_module, "assemble", lambda *_: None)
    slow = solve(case, mip_gap=0.0, raise_on_failure=False)
    assert fast.status == slow.status
    assert fast.summary["size"] == slow.summary["size"]
    if slow.objective is not None:
        assert fast.objective == pytest.approx(slow.objective, rel=1e-9, abs=1e-9)
        assert fast.verified


@pytest.mark.parametrize(("seed", "chain"), [(11, False), (11, True)])
def test_a_pathway_solves_to_the_same_cost_on_both_paths(
        tmp_path: Path, seed: int, chain: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """solve() of a pathway on the array path and, with it switched off, on Pyomo.

    (Seeds whose random pathway has a plan; most have none, lead times and build rates
    being drawn at random.)
    """
    import solver.model.pathway_arrays as pathway_arrays

    case = random_case(tmp_path, seed, chain=chain, periods=True).with_overrides(
        {"objective.shortage_cost": 50.0})
    fast = solve(case, mip_gap=0.0, raise_on_failure=False)
    monkeypatch.setattr(pathway_arrays, "assemble_pathway", lambda *_: None)
    slow = solve(case, mip_gap=0.0, raise_on_failure=False)
    assert fast.summary["size"] == slow.summary["size"]
    assert slow.objective is not None
    assert fast.objective == pytest.approx(slow.objective, rel=1e-9, abs=1e-9)
    assert fast.verified and slow.verified, [v.message for v in fast.violations + slow.violations]
    pd.testing.assert_frame_equal(fast.builds, slow.builds)



def verdict(case: Case, monkeypatch: pytest.MonkeyPatch, pyomo: bool) -> tuple[Any, ...]:
    """(has a plan, objective, the checker's violations) of ``case`` on one build path."""
    import solver.model.assembly as assembly_module
    import solver.model.pathway_arrays as pathway_arrays

    with monkeypatch.context() as patch:
        if pyomo:
            patch.setattr(assembly_module, "assemble", lambda *_: None)
            patch.setattr(pathway_arrays, "assemble_pathway", lambda *_: None)
        try:
            result = solve(case, mip_gap=0.0, raise_on_failure=False)
        except InfeasibleError:
            return (False, None, [])
    return (result.has_solution, result.objective, [v.message for v in result.violations])


@pytest.mark.parametrize(("seed", "chain", "periods"), [
    (0, False, False), (1, False, False), (3, False, False), (9, False, False),
    (6, True, False), (13, True, False), (2, False, True), (29, True, True)])
def test_random_plans_are_verified_on_both_paths(
        tmp_path: Path, seed: int, chain: bool, periods: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded tiny cases, with and without periods: both paths reach the same verdict, and
    every plan is one the checker accepts (seeds with a plan and seeds without)."""
    case = random_case(tmp_path, seed, chain=chain, periods=periods, hostable=True)
    if periods:
        case = case.with_overrides({"objective.shortage_cost": 50.0})
    fast, slow = (verdict(case, monkeypatch, pyomo) for pyomo in (False, True))
    assert fast[0] == slow[0]
    assert fast[2] == slow[2] == []
    if fast[0]:
        assert fast[1] == pytest.approx(slow[1], rel=1e-9, abs=1e-9)
