"""Loading a case (folder or model file, SPEC sections 2 and 4) and overriding it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from solver import Case, CaseError, UsageError, load_case
from solver.case.loader import case_frames_equal

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Two members X, Y with demand; A is an outside supplier; trade costs from A.
CASE = {
    "partners": """
        partner,name,member,trust
        X,Xland,true,0.9
        Y,,yes,
        A,,false,0.5
        """,
    "layers": """
        layer,min_suppliers,max_share
        chips,1,
        cloud,2,0.8
        """,
    "capabilities": """
        partner,layer,capacity,unit_cost,fixed_cost
        A,chips,100,1,
        A,cloud,100,1,5
        X,cloud,100,3,
        Y,chips,50,2,
        """,
    "demand": """
        member,layer,demand,max_dependency
        X,chips,4,
        Y,chips,6,0.5
        X,cloud,5,
        """,
    "trade": """
        exporter,importer,unit_cost,allowed
        A,X,0.5,
        A,Y,0.25,false
        """,
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_case(tmp_path / "data" / "tiny", **CASE)


@pytest.fixture
def case(folder: Path) -> Case:
    return load_case(folder)


def cell(frame: Any, where: dict[str, str], column: str) -> Any:
    mask = True
    for key, value in where.items():
        mask = mask & (frame[key] == value)
    rows = frame[mask]
    assert len(rows) == 1, f"{where} names {len(rows)} rows"
    return rows[column].iloc[0]


def problems(exc: pytest.ExceptionInfo[CaseError]) -> str:
    return "\n".join(str(p) for p in exc.value.problems)


# Loading a folder.


def test_load_folder_types_and_defaults(case: Case, folder: Path) -> None:
    assert case.name == "tiny"
    assert case.path == folder
    assert case.has_demand_file
    p = case.partners
    assert list(p["partner"]) == ["X", "Y", "A"]
    assert list(p["name"]) == ["Xland", "Y", "A"]  # empty name = the key
    assert list(p["member"]) == [True, True, False]  # yes / false
    assert list(p["trust"]) == [0.9, 1.0, 0.5]  # empty = default 1
    assert list(p["max_participation"]) == [1.0, 1.0, 1.0]
    layers = case.layers
    assert list(layers["min_suppliers"]) == [1, 2]
    assert list(layers["max_share"]) == [1.0, 0.8]
    assert list(layers["min_supplier_share"]) == [0.05, 0.05]
    assert all(math.isnan(x) for x in layers["max_surplus"])  # empty: no cap
    assert cell(case.capabilities, {"partner": "A", "layer": "cloud"}, "fixed_cost") == 5.0
    assert cell(case.capabilities, {"partner": "A", "layer": "chips"}, "fixed_cost") == 0.0
    assert cell(case.demand, {"member": "Y", "layer": "chips"}, "max_dependency") == 0.5
    assert cell(case.demand, {"member": "X", "layer": "chips"}, "max_dependency") == 1.0
    assert list(case.trade["allowed"]) == [True, False]
    assert case.objective.redundancy_weight == 1.0
    assert case.objective.risk_weight == 0.0
    assert case.objective.budget is None
    assert case.solver.time_limit is None
    assert case.solver.mip_gap == 1e-4
    assert case.solver.threads == 1
    assert case.load_seconds > 0
    assert case.overrides == ()


def test_demand_from_layers_without_demand_file(tmp_path: Path) -> None:
    folder = write_case(
        tmp_path / "c",
        partners="partner\nA\n",
        layers="layer,demand\nchips,10\ncloud,\nenergy,2.5\n",
        capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\n",
    )
    case = load_case(folder)
    assert not case.has_demand_file
    assert case.demand_table is None
    demand = case.demand
    assert set(demand["member"]) == {"coalition"}
    assert dict(zip(demand["layer"], demand["demand"], strict=True)) == {
        "chips": 10.0, "cloud": 0.0, "energy": 2.5}
    assert list(demand["max_dependency"]) == [1.0] * 3
    assert list(demand["min_domestic"]) == [0.0] * 3
    # A trade row may name the consumer `coalition` as importer.
    (folder / "trade.csv").write_text("exporter,importer,unit_cost\nA,coalition,2\n")
    assert list(load_case(folder).trade["importer"]) == ["coalition"]


def test_layers_demand_override_without_demand_file(tmp_path: Path) -> None:
    folder = write_case(
        tmp_path / "c",
        partners="partner\nA\n",
        layers="layer,demand\nchips,10\n",
        capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\n",
    )
    case = load_case(folder).with_overrides({"layers[chips].demand": 7})
    assert list(case.demand["demand"]) == [7.0]


def test_sha256_follows_files_and_overrides(case: Case, folder: Path) -> None:
    again = load_case(folder)
    assert again.sha256 == case.sha256
    assert case.with_overrides(["layers.max_share=0.5"]).sha256 != case.sha256
    (folder / "layers.csv").write_text("layer,min_suppliers\nchips,1\ncloud,2\n")
    assert load_case(folder).sha256 != case.sha256


def test_load_errors(tmp_path: Path, folder: Path) -> None:
    with pytest.raises(UsageError, match="no such case folder"):
        load_case(tmp_path / "missing")
    stray = tmp_path / "notes.txt"
    stray.write_text("x")
    with pytest.raises(UsageError, match="not a case folder"):
        load_case(stray)
    (folder / "capabilities.csv").unlink()
    with pytest.raises(CaseError) as exc:
        load_case(folder)
    assert "capabilities.csv" in problems(exc)


def test_load_lists_every_problem(tmp_path: Path) -> None:
    folder = write_case(
        tmp_path / "c",
        partners="partner,trust\nA,1.5\nB,\n",
        layers="layer,demand,max_shares\nchips,10,0.5\n",
        capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\n",
    )
    with pytest.raises(CaseError) as exc:
        load_case(folder)
    text = problems(exc)
    assert "partners.csv, line 2, column trust" in text
    assert "did you mean 'max_share'" in text
    assert len(exc.value.problems) == 2


# Model files (SPEC section 4).


def write_model(folder: Path, text: str, name: str = "tiny.toml") -> Path:
    models = folder.parent.parent / "models"
    models.mkdir(exist_ok=True)
    path = models / name
    path.write_text(text, encoding="utf-8")
    return path


MODEL = """
name = "Tiny, baseline"
case = "../data/tiny"
[set]
"layers[cloud].max_share" = 0.6
"capabilities[A,*].unit_cost*" = 2
"trade[A,X].allowed" = false
[objective]
redundancy_weight = 0.5
risk_weight = 2.0
budget = 1e6
[solver]
time_limit = 60
mip_gap = 1e-6
threads = 2
[sweep]
vary = ["layers.max_share=0.2:0.6:0.1"]
"""


def test_model_file(folder: Path, case: Case) -> None:
    model = load_case(write_model(folder, MODEL))
    assert model.name == "Tiny, baseline"
    assert model.path.resolve() == folder.resolve()
    assert model.objective.redundancy_weight == 0.5
    assert model.objective.risk_weight == 2.0
    assert model.objective.budget == 1e6
    assert model.solver.time_limit == 60
    assert model.solver.mip_gap == 1e-6
    assert model.solver.threads == 2
    assert model.sweep.vary == ["layers.max_share=0.2:0.6:0.1"]
    assert cell(model.layers, {"layer": "cloud"}, "max_share") == 0.6
    assert cell(model.layers, {"layer": "chips"}, "max_share") == 1.0
    assert list(model.capabilities["unit_cost"]) == [2.0, 2.0, 3.0, 2.0]
    assert list(model.trade["allowed"]) == [False, False]
    assert len(model.overrides) == 3
    # The same tables as the folder with the same overrides applied by hand.
    by_hand = case.with_overrides({"layers[cloud].max_share": 0.6,
                                   "capabilities[A,*].unit_cost*": 2,
                                   "trade[A,X].allowed": False})
    assert case_frames_equal(model, by_hand)
    assert model.load_seconds > 0


def test_model_file_defaults(folder: Path) -> None:
    model = load_case(write_model(folder, 'case = "../data/tiny"\n', name="bare.toml"))
    assert model.name == "bare"
    assert model.objective.redundancy_weight == 1.0
    assert model.objective.risk_weight == 0.0
    assert model.objective.budget is None
    assert model.solver.time_limit is None
    assert model.solver.mip_gap == 1e-4
    assert model.solver.threads == 1
    assert case_frames_equal(model, load_case(folder))


@pytest.mark.parametrize(("text", "message"), [
    ('case = "../data/nope"\n', "no such case folder"),
    ('case = "../../elsewhere"\n', "leaves the project"),
    ('case = "/abs/path"\n', "absolute path"),
    ('case = "../data/tiny"\n[objective]\nbudgett = 1\n', "budgett"),
    ('case = "../data/tiny"\n[solver]\nmip_gap = -1\n', "mip_gap"),
    ('case = "../data/tiny"\n[set]\n"layers.max_shar" = 0.5\n', "names no column"),
    ('case = "../data/tiny"\n[set]\n"layers[gpu].max_share" = 0.5\n', "names no row"),
    ('case = "../data/tiny"\nextra = 1\n', "extra"),
    ('case = "../data/tiny\n', "not valid TOML"),
    ("name = 'no case'\n", "case"),
])
def test_model_file_errors(folder: Path, text: str, message: str) -> None:
    with pytest.raises(CaseError) as exc:
        load_case(write_model(folder, text, name="bad.toml"))
    assert message in problems(exc)


def test_model_file_set_errors_name_the_file(folder: Path) -> None:
    text = 'case = "../data/tiny"\n[set]\n"layers[gpu].max_share" = 0.5\n'
    with pytest.raises(CaseError) as exc:
        load_case(write_model(folder, text, name="bad.toml"))
    problem = exc.value.problems[0]
    assert (problem.file, problem.line) == ("bad.toml", 3)


# Overrides (SPEC section 4).


def test_override_every_row(case: Case) -> None:
    new = case.with_overrides(["layers.max_share=0.5"])
    assert list(new.layers["max_share"]) == [0.5, 0.5]
    assert new.overrides == ("layers.max_share=0.5",)


def test_override_one_row(case: Case) -> None:
    new = case.with_overrides(["layers[cloud].min_suppliers=3"])
    assert list(new.layers["min_suppliers"]) == [1, 3]
    assert new.layers["min_suppliers"].dtype.kind == "i"
    new = case.with_overrides(["partners[X].trust=0.25"])
    assert list(new.partners["trust"]) == [0.25, 1.0, 0.5]


def test_override_two_part_keys(case: Case) -> None:
    new = case.with_overrides(["capabilities[Y,chips].capacity=20"])
    assert list(new.capabilities["capacity"]) == [100.0, 100.0, 100.0, 20.0]
    new = case.with_overrides(["demand[X,cloud].min_domestic=0.3"])
    assert cell(new.demand, {"member": "X", "layer": "cloud"}, "min_domestic") == 0.3
    assert cell(new.demand, {"member": "X", "layer": "chips"}, "min_domestic") == 0.0
    new = case.with_overrides(["trade[A,Y].allowed=yes"])
    assert list(new.trade["allowed"]) == [True, True]


def test_override_wildcards(case: Case) -> None:
    new = case.with_overrides(["capabilities[*,chips].capacity=7"])
    assert list(new.capabilities["capacity"]) == [7.0, 100.0, 100.0, 7.0]
    new = case.with_overrides(["capabilities[A,*].unit_cost=9"])
    assert list(new.capabilities["unit_cost"]) == [9.0, 9.0, 3.0, 2.0]
    new = case.with_overrides(["demand[*,*].demand*=2"])
    assert list(new.demand["demand"]) == [8.0, 12.0, 10.0]


def test_override_multiply(case: Case) -> None:
    new = case.with_overrides(["trade.unit_cost*=4", "layers.min_suppliers*=2"])
    assert list(new.trade["unit_cost"]) == [2.0, 1.0]
    assert list(new.layers["min_suppliers"]) == [2, 4]
    assert new.layers["min_suppliers"].dtype.kind == "i"
    # In a mapping, a key ending in `*` multiplies.
    mapped = case.with_overrides({"trade.unit_cost*": 4, "layers.min_suppliers*": 2})
    assert case_frames_equal(new, mapped)
    # Overrides apply in order: set, then multiply.
    both = case.with_overrides(["layers[chips].max_share=0.5", "layers.max_share*=0.5"])
    assert list(both.layers["max_share"]) == [0.25, 0.4]


def test_override_objective_and_solver(case: Case) -> None:
    new = case.with_overrides(["objective.budget=100", "objective.risk_weight=2",
                               "objective.redundancy_weight*=3", "solver.time_limit=5",
                               "solver.mip_gap=0", "solver.threads=4"])
    assert new.objective.budget == 100
    assert new.objective.risk_weight == 2
    assert new.objective.redundancy_weight == 3
    assert (new.solver.time_limit, new.solver.mip_gap, new.solver.threads) == (5, 0, 4)
    assert case.objective.budget is None  # the original is untouched


def test_override_leaves_the_original_alone(case: Case) -> None:
    before = case.capabilities.copy()
    case.with_overrides(["capabilities.unit_cost*=10", "layers.max_share=0.5"])
    assert case.capabilities.equals(before)
    assert list(case.layers["max_share"]) == [1.0, 0.8]
    assert case.overrides == ()


def test_an_overridden_case_shares_no_table_with_its_original(case: Case) -> None:
    # The copy's tables may share data with the original's until one is written
    # (copy-on-write): writing either, by an override or in place, leaves the other alone.
    names = ["partners", "layers", "capabilities", "trade", "demand"]
    new = case.with_overrides(["capabilities.unit_cost*=10", "layers.min_suppliers*=2",
                               "partners.trust=0.9"])

    def snapshot(c: Case) -> dict[str, pd.DataFrame]:
        return {name: c.table(name).copy(deep=True) for name in names}

    def scribble(c: Case) -> None:  # every cell of every table, in place
        for name in names:
            frame = c.table(name)
            for column in frame.columns:
                frame.loc[:, column] = frame[column].iloc[::-1].to_numpy()

    for written, other in ((new, case), (case, new)):
        kept = snapshot(other)
        scribble(written)
        for name in names:
            pd.testing.assert_frame_equal(other.table(name), kept[name], check_exact=True)



@pytest.mark.parametrize(("override", "message"), [
    ("tables.x=1", "names no table"),
    ("layers.max_shares=0.5", "names no column"),
    ("layers.layer=x", "names no column"),
    ("layers[gpu].max_share=0.5", "names no row"),
    ("capabilities[A].capacity=1", "2 part(s)"),
    ("capabilities[B,chips].capacity=1", "names no row"),
    ("objective.weight=1", "names nothing"),
    ("solver.presolve=off", "names nothing"),
    ("objective.budget*=2", "not set"),
    ("layers.max_share=1.5", "out of range"),
    ("layers.max_share=1+1", "not a number"),
    ("layers.max_share=__import__('os')", "not a number"),
    ("layers.max_share=nan", "not a finite number"),
    ("layers.max_share", "KEY=VALUE"),
    ("layers.min_suppliers=1.5", "whole number"),
    ("layers.min_suppliers*=1.5", "whole number"),
    ("partners.name*=2", "only numeric columns"),
    ("trade.allowed=maybe", "true/false"),
    ("layers.demand=5", "used only without demand.csv"),
    ("solver.threads=0", "threads"),
])
def test_override_errors(case: Case, override: str, message: str) -> None:
    with pytest.raises(CaseError) as exc:
        case.with_overrides([override])
    assert message in problems(exc)
    assert exc.value.problems[0].file == "--set"


def test_override_rechecks_across_tables(case: Case) -> None:
    with pytest.raises(CaseError) as exc:
        case.with_overrides(["capabilities[A,chips].min_capacity=500"])
    assert "min_capacity is above capacity" in problems(exc)
    with pytest.raises(CaseError) as exc:
        case.with_overrides(["partners[X].member=false"])
    assert "demand for a non-member" in problems(exc)


def test_override_reports_every_bad_key(case: Case) -> None:
    with pytest.raises(CaseError) as exc:
        case.with_overrides(["layers.nope=1", "objective.nope=1", "layers[gpu].max_share=1"])
    assert len(exc.value.problems) == 2  # keys are checked before any row is looked up
    with pytest.raises(CaseError) as exc:
        case.with_overrides(["layers[gpu].max_share=1", "partners[Q].trust=1"])
    assert len(exc.value.problems) == 2


def test_set_and_with_overrides_share_one_path(case: Case, folder: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import solver.case.loader
    from solver.cli.common import load

    calls: list[list[str]] = []
    apply = solver.case.loader.apply_overrides

    def spy(c: Case, overrides: list[Any], source: str, where: Any = None) -> Case:
        calls.append([str(o) for o in overrides])
        return apply(c, overrides, source, where=where)

    monkeypatch.setattr(solver.case.loader, "apply_overrides", spy)
    sets = ("capabilities[A,*].unit_cost*=2", "layers[cloud].max_share=0.6",
            "objective.budget=50")
    from_cli = load(folder, sets)
    from_list = case.with_overrides(list(sets))
    from_map = case.with_overrides({"capabilities[A,*].unit_cost*": 2,
                                    "layers[cloud].max_share": 0.6, "objective.budget": 50})
    assert len(calls) == 3
    assert calls[0] == calls[1] == calls[2]
    assert case_frames_equal(from_cli, from_list)
    assert case_frames_equal(from_cli, from_map)
    assert from_cli.objective == from_list.objective == from_map.objective
    assert from_cli.sha256 == from_list.sha256


def test_an_override_of_a_route_without_a_row_adds_it(tmp_path: Path) -> None:
    # No trade.csv: every route is open at zero cost. Embargo A -> X and X buys from B.
    from solver.solve import solve

    case = load_case(write_case(
        tmp_path / "c", partners="partner,member\nX,true\nA,false\nB,false\n",
        layers="layer\nchips\n",
        capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n",
        demand="member,layer,demand\nX,chips,10\n"))
    assert solve(case).objective == pytest.approx(10.0)
    embargo = case.with_overrides(["trade[A,X].allowed=false"])
    assert embargo.trade[["exporter", "importer", "allowed"]].values.tolist() == [
        ["A", "X", False]]
    assert solve(embargo).objective == pytest.approx(20.0)
    tariff = case.with_overrides({"trade[A,X].unit_cost": 1.5})
    assert solve(tariff).objective == pytest.approx(20.0)  # 10 x (1 + 1.5) > 10 x 2
    for key in ("trade[A,ZZ].allowed=false", "trade[X,X].allowed=false",
                "trade[A,*].allowed=false"):
        with pytest.raises(CaseError, match=r"names no row of trade\.csv"):
            case.with_overrides([key])
