"""min_domestic for a member that cannot host the layer: the model agrees with the checker.

README, The model: the domestic row ``f[n,n,l] >= min_domestic d`` refers to the demand d, with
or without shortage; a member whose trust is below the layer's min_trust (or without the
capability) has no domestic flow, so a positive requirement rules out every plan. The model
used to drop the row (a plan the checker then refused); both build paths now keep it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from solver import InfeasibleError, load_case, solve
from solver.cli import main
from solver.model.assembly import assemble
from solver.model.build import build
from solver.solve import row_families

try:
    from cases import LAYERS_NO_DEMAND, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import LAYERS_NO_DEMAND, write_case

#: C (trust 0.6) cannot host chips (min_trust 0.7), yet must produce half its chips at home.
DEMAND = (
    "member,layer,demand,min_domestic\n"
    "A,chips,60,0\n"
    "B,chips,40,0\n"
    "C,chips,10,0.5\n"
    "A,cloud,20,0\n"
    "C,cloud,30,0\n"
)
PERIODS = "period,year\n2026,2026\n2028,2028\n"
WHY = "member C, layer chips: min_domestic 0.5 (5 of 10) cannot hold; C's trust 0.6 is below " \
      "the layer's min_trust 0.7"


def homeless_case(tmp_path: Path, periods: bool) -> Any:
    """The case, with shortage priced (the requirement holds all the same)."""
    folder = write_case(tmp_path / "case", layers=LAYERS_NO_DEMAND, demand=DEMAND,
                        periods=PERIODS if periods else None)
    return load_case(folder).with_overrides({"objective.shortage_cost": 50.0})


def on_path(monkeypatch: pytest.MonkeyPatch, pyomo: bool) -> None:
    """Switch the array path (single period and pathway) off for a Pyomo build."""
    import solver.model.assembly as assembly_module
    import solver.model.pathway_arrays as pathway_arrays

    if pyomo:
        monkeypatch.setattr(assembly_module, "assemble", lambda *_: None)
        monkeypatch.setattr(pathway_arrays, "assemble_pathway", lambda *_: None)


def test_both_build_paths_keep_the_row(tmp_path: Path) -> None:
    """The row with no domestic flow is one ``domestic`` row, lower bound 5, on both paths."""
    case = homeless_case(tmp_path, periods=False)
    fast, slow = assemble(case), build(case)
    assert fast is not None
    assert row_families(fast)["domestic"] == row_families(slow)["domestic"] == 1
    assert slow.m.row_keys["domestic"] == [("C", "chips")]
    assert slow.m.domestic[0].lower == pytest.approx(5.0)


@pytest.mark.parametrize("pyomo", [False, True])
def test_the_model_alone_is_infeasible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       pyomo: bool) -> None:
    """Without the presolve's finding, HiGHS itself finds no plan (before: a refused plan)."""
    import solver.diagnose.presolve as presolve

    on_path(monkeypatch, pyomo)
    monkeypatch.setattr(presolve, "find_infeasibilities", lambda _case: [])
    result = solve(homeless_case(tmp_path, periods=False), raise_on_failure=False)
    assert not result.has_solution and not result.violations


@pytest.mark.parametrize("pyomo", [False, True])
def test_a_pathway_is_infeasible_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              pyomo: bool) -> None:
    """Over periods (no presolve before the solve): infeasible, naming member, layer, trust."""
    on_path(monkeypatch, pyomo)
    with pytest.raises(InfeasibleError) as err:
        solve(homeless_case(tmp_path, periods=True), raise_on_failure=False)
    assert "2026: the period's requirements cannot hold" in str(err.value)
    assert WHY in str(err.value)


@pytest.mark.parametrize("shortage", [False, True])
def test_explain_names_member_layer_and_trust(tmp_path: Path, shortage: bool) -> None:
    """``coalition explain`` of the case, with and without shortage: a clear infeasibility."""
    folder = write_case(tmp_path / "case", layers=LAYERS_NO_DEMAND, demand=DEMAND)
    extra = ["--set", "objective.shortage_cost=50"] if shortage else []
    out = CliRunner().invoke(main, ["explain", str(folder), *extra])
    assert out.exit_code == 3 and "is infeasible" in out.output, out.output
    assert WHY in out.output, out.output


def test_a_sensitivity_sample_is_infeasible_not_refused(tmp_path: Path) -> None:
    """The sensitivity study's mutable model (no presolve): a sample with min_domestic > 0
    is infeasible (before: a plan the checker refused)."""
    folder = write_case(tmp_path / "case", layers=LAYERS_NO_DEMAND, demand=DEMAND)
    out = CliRunner().invoke(main, [
        "sensitivity", str(folder), "--param", "demand[C,chips].min_domestic=0:0.5",
        "--param", "layers[cloud].max_share=0.7:1", "--samples", "4",
        "--out", str(tmp_path / "out")])
    assert "infeasible: no plan satisfies every requirement" in out.output, out.output
    assert "checker rejected" not in out.output
