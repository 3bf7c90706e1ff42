"""Sweeps: grid parsing, point-by-point equality with independent solves, persistent
re-solves, parallel and Dask runs, resume after an interruption, and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver.case.loader import load_case
from solver.cli import main
from solver.errors import UsageError
from solver.solve import solve
from solver.studies.sweep.grid import make_points, parse_vary
from solver.studies.sweep.sweep import sweep

try:
    from sweep_cases import SMALL, StopAfter, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.sweep_cases import SMALL, StopAfter, write_case

GRID = ["layers.max_share=0.4,0.7", "capabilities[D,*].unit_cost*=1,2,4"]

#: Columns that differ between runs of the same sweep (timings, and which worker built).
TIMING = ["seconds", "solve_seconds", "rebuilt"]


@pytest.fixture
def small(tmp_path: Path) -> Any:
    return load_case(write_case(tmp_path / "small", SMALL))


def same_tables(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING),
                                  check_exact=False, rtol=1e-9, atol=1e-9)


def same_bits(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """The same table but for timings, bit for bit (another executor, or a resume)."""
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING),
                                  check_exact=True)


# ---------------------------------------------------------------- what to vary


def test_parse_vary_range_list_and_multipliers() -> None:
    axis = parse_vary("layers.max_share=0.2:0.6:0.1")
    assert axis.values == (0.2, 0.3, 0.4, 0.5, 0.6)
    assert axis.column == "layers.max_share" and axis.table_column == "layers.max_share"
    axis = parse_vary("capabilities[TW,*].unit_cost*=1,2,4")
    assert axis.op == "*=" and axis.values == (1.0, 2.0, 4.0)
    assert axis.column == "capabilities[TW,*].unit_cost*"
    assert axis.table_column == "capabilities.unit_cost"
    assert axis.override(2.0) == "capabilities[TW,*].unit_cost*=2.0"
    assert parse_vary("layers.min_suppliers=1:3:1").values == (1, 2, 3)
    assert parse_vary("layers.max_share=0.6:0.2:-0.2").values == (0.6, 0.4, 0.2)
    assert parse_vary("trade[A,B].allowed=true,false").values == (True, False)


@pytest.mark.parametrize("text, message", [
    ("layers.max_share", "KEY=SPEC"),
    ("layers.nothing=1,2", "names no column"),
    ("layers.max_share=0.2:0.6:0", "nonzero"),
    ("layers.max_share=0.6:0.2:0.1", "never goes"),
    ("layers.max_share=0.2:0.6", "three numbers"),
    ("layers.max_share=0.2,,0.3", "empty value"),
    ("layers.max_share=a,b", "not a number"),
    ("layers.min_suppliers=1.5,2", "whole number"),
    ("layers.max_share=0.2,0.2", "twice"),
    ("solver.threads=1,2", "cannot vary"),
])
def test_parse_vary_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_vary(text)


def test_points_grid_and_one_at_a_time() -> None:
    axes = [parse_vary(v) for v in GRID]
    grid = make_points(axes, "grid")
    assert len(grid) == 6
    assert grid[1].overrides == ("layers.max_share=0.4", "capabilities[D,*].unit_cost*=2.0")
    oat = make_points(axes, "one-at-a-time")
    assert [p.label for p in oat] == [
        "base", "layers.max_share=0.4", "layers.max_share=0.7",
        "capabilities[D,*].unit_cost*=1.0", "capabilities[D,*].unit_cost*=2.0",
        "capabilities[D,*].unit_cost*=4.0"]
    with pytest.raises(UsageError, match="nothing to vary"):
        make_points([], "grid")
    with pytest.raises(UsageError, match="twice"):
        make_points([axes[0], axes[0]], "grid")


def test_a_key_that_names_no_row_is_refused_before_any_point(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "small", SMALL))
    with pytest.raises(UsageError, match=r"--vary layers\[zzz\].max_share=0.3,0.4: "
                                         r"layers\[zzz\].max_share names no row"):
        sweep(case, ["layers[zzz].max_share=0.3,0.4"], workers=1)
    result = CliRunner().invoke(main, ["sweep", str(tmp_path / "small"), "--vary",
                                       "capabilities[ZZ,*].unit_cost*=2,3", "--workers", "1",
                                       "--out", str(tmp_path / "sw")])
    assert result.exit_code == 2
    assert "names no row of capabilities.csv" in result.output
    assert not (tmp_path / "sw").exists()


# ---------------------------------------------------------------- correctness


def test_grid_equals_independent_solves(small: Any) -> None:
    table = sweep(small, GRID, workers=1)
    assert len(table) == 6
    assert list(table.columns[:3]) == ["point", "layers.max_share",
                                       "capabilities[D,*].unit_cost*"]
    objectives = set()
    for row in table.to_dict("records"):
        case = small.with_overrides({"layers.max_share": row["layers.max_share"],
                                     "capabilities[D,*].unit_cost*":
                                         row["capabilities[D,*].unit_cost*"]})
        alone = solve(case)
        assert row["status"] == alone.status == "optimal"
        assert row["objective"] == pytest.approx(alone.objective, rel=1e-9)
        for term, value in alone.costs.items():
            assert row[f"cost_{term}"] == pytest.approx(value, rel=1e-9, abs=1e-9)
        assert row["verified"]
        objectives.add(round(row["objective"], 6))
    assert len(objectives) >= 4, "the grid should change the optimum"


NUMBERS_ONLY = ["demand[B,*].max_dependency=1,0.4", "demand[C,*].min_domestic=0,0.5",
                "demand.demand*=1,1.5"]


def test_persistent_resolve_matches_rebuild_and_builds_once(small: Any) -> None:
    persistent = sweep(small, NUMBERS_ONLY, workers=1)
    rebuilt = sweep(small, NUMBERS_ONLY, workers=1, persistent=False)
    same_tables(persistent, rebuilt)
    # Variable bounds that are expressions of parameters (dependency, domestic) and the
    # demand right-hand sides all reach HiGHS on a re-solve: compare with plain solves.
    for row in persistent.to_dict("records"):
        case = small.with_overrides(row["overrides"].split())
        assert row["objective"] == pytest.approx(solve(case).objective, rel=1e-9)
    assert persistent["rebuilt"].tolist() == [True] + [False] * 7
    assert rebuilt["rebuilt"].all()
    assert persistent["objective"].nunique() >= 4


def test_a_re_solve_follows_each_parameter_a_point_changes(small: Any) -> None:
    # One at a time, each point changes one parameter of the held model (and the next point
    # changes it back): every point is what a model built for it gives.
    axes = ["layers.max_share=0.6,0.45", "capabilities[D,*].unit_cost*=1,3",
            "demand.demand*=1,1.1", "partners.min_participation*=1,0.5"]
    persistent = sweep(small, axes, mode="one-at-a-time", workers=1)
    rebuilt = sweep(small, axes, mode="one-at-a-time", workers=1, persistent=False)
    same_tables(persistent, rebuilt)
    assert not persistent["rebuilt"].tolist()[1:].count(True)


def test_structural_change_rebuilds(small: Any) -> None:
    # D's trust 0.4 drops it below chips' min_trust 0.5: the pairs change, so a new model.
    table = sweep(small, ["partners[D].trust=0.6,0.4,0.55", "layers.max_share=1,0.5"],
                  workers=1)
    assert table["rebuilt"].tolist() == [True, False, True, False, True, False]
    for row in table.to_dict("records"):
        case = small.with_overrides(row["overrides"].split())
        assert row["objective"] == pytest.approx(solve(case).objective, rel=1e-9)


def test_a_point_lent_the_last_points_flows_only_where_they_are_its_own(small: Any) -> None:
    # Demand alone lends the flows to the next point; new trade costs make them anew. Each
    # point's cost and check are its own (the same as an independent solve).
    table = sweep(small, ["trade.unit_cost*=1,3", "demand.demand*=1,1.1"], workers=1)
    assert table["verified"].all()
    for row in table.to_dict("records"):
        case = small.with_overrides(row["overrides"].split())
        assert row["objective"] == pytest.approx(solve(case).objective, rel=1e-9)
        assert row["cost_trade"] == pytest.approx(solve(case).costs["trade"], rel=1e-6,
                                                  abs=1e-9)


def test_a_signature_tells_a_changed_structure_from_changed_numbers(small: Any) -> None:
    # Compared element by element (not hashed): numbers alone keep it, a pair or a route
    # that comes or goes changes it.
    from solver.model.data import model_data
    from solver.studies.sweep.point_solver import _same_signature, _signature

    def signature(case: Any) -> tuple[Any, ...]:
        return _signature(case, model_data(case), frozenset(), set())

    base = signature(small)
    assert _same_signature(base, signature(small))
    assert _same_signature(base, signature(small.with_overrides(["layers.max_share=0.5"])))
    assert not _same_signature(base, signature(small.with_overrides(["partners[D].trust=0.4"])))
    assert not _same_signature(base, signature(small.with_overrides(
        ["trade[A,B].allowed=false"])))
    assert not _same_signature(base, None)


def test_failed_points_are_rows_and_the_sweep_goes_on(small: Any, tmp_path: Path) -> None:
    table = sweep(small, ["layers.max_share=0.1,0.5", "capabilities[A,chips].capacity=100,-1"],
                  workers=1, out=tmp_path / "out", plots=False)
    by = {(r["layers.max_share"], r["capabilities[A,chips].capacity"]): r
          for r in table.to_dict("records")}
    assert by[(0.1, 100.0)]["status"] == "infeasible"
    assert by[(0.1, 100.0)]["reason"]
    assert math.isnan(by[(0.1, 100.0)]["objective"])
    assert by[(0.5, -1.0)]["status"] == "invalid"
    assert "capacity" in by[(0.5, -1.0)]["reason"]
    assert by[(0.5, 100.0)]["status"] == "optimal"
    written = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert written["status"].tolist() == table["status"].tolist()
    allocations = pd.read_csv(tmp_path / "out" / "allocations.csv")
    assert set(allocations["point"]) == {int(table.loc[table["status"] == "optimal",
                                                       "point"].iloc[0])}


def test_a_point_counting_rules_out_has_one_row_whether_held_or_built(small: Any) -> None:
    # Re-solved on the held model, the point is counted only once HiGHS finds no plan; as
    # the first point it is counted before a model is built. The rows agree.
    from solver.diagnose.presolve import find_infeasibilities

    later = sweep(small, ["demand.demand*=1,50"], workers=1)
    first = sweep(small, ["demand.demand*=50"], workers=1)
    findings = find_infeasibilities(small.with_overrides(["demand.demand*=50"]))
    assert findings
    held, built = later.iloc[1], first.iloc[0]
    for row in (held, built):
        assert row["status"] == "infeasible"
        assert row["reason"].startswith(str(findings[0]))
        assert pd.isna(row["solve_seconds"]) and pd.isna(row["objective"])
    assert held["reason"] == built["reason"]
    assert later["rebuilt"].tolist()[0] is True


def test_a_held_point_without_a_plan_is_its_status_and_the_next_is_its_own() -> None:
    # A point HiGHS finds no plan for on the held model, and that counting does not rule
    # out, is its status and that status's reason (no tables are read of a plan it has
    # not); the next point is still solved and checked against its own numbers.
    from solver.diagnose.presolve import find_infeasibilities

    case = load_case(Path(__file__).resolve().parents[1] / "models" / "allied-ai-stack.toml")
    assert not find_infeasibilities(case.with_overrides(["demand.demand*=1.05"]))
    table = sweep(case, ["demand.demand*=1,1.05,0.95"], workers=1)
    none, after = table.iloc[1], table.iloc[2]
    assert none["status"] == "infeasible" and not none["rebuilt"]
    assert none["reason"] == "no plan satisfies every requirement (coalition explain tells " \
        "which)"
    assert pd.isna(none["objective"]) and pd.isna(none["verified"])
    assert all(pd.isna(none[c]) for c in table.columns if c.startswith("cost_"))
    alone = solve(case.with_overrides(["demand.demand*=0.95"]))
    assert after["status"] == "optimal" and after["verified"] and not after["rebuilt"]
    assert after["objective"] == pytest.approx(alone.objective, rel=case.solver.mip_gap)


def test_budget_sweep_from_no_budget(small: Any) -> None:
    # One-at-a-time: the base point has no budget; the others set one (a rebuild).
    table = sweep(small, ["objective.budget=200,100"], mode="one-at-a-time", workers=1)
    assert table["status"].tolist() == ["optimal", "optimal", "infeasible"]
    assert table["rebuilt"].tolist() == [True, True, False]


# ---------------------------------------------------------------- outputs


def test_output_folder(small: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    table = sweep(small, GRID, workers=1, out=out)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["allocations.csv", "plots", "sweep.csv", "sweep.json", "sweep_layers.csv"]
    written = pd.read_csv(out / "sweep.csv")
    assert written["point"].tolist() == list(range(6))
    assert written["objective"].tolist() == pytest.approx(table["objective"].tolist())
    layers = pd.read_csv(out / "sweep_layers.csv")
    assert len(layers) == 6 * 2
    assert {"point", "layer", "suppliers", "hhi", "n1_coverage"} <= set(layers.columns)
    allocations = pd.read_csv(out / "allocations.csv")
    assert len(allocations) == 6 * len(small.capabilities)
    assert allocations.groupby("point")["supplied"].sum().tolist() == pytest.approx([100.0] * 6)
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["vary"] == GRID and meta["mode"] == "grid" and meta["points"] == 6
    plots = sorted(p.name for p in (out / "plots").iterdir())
    assert plots == ["capabilities_D_all_.unit_cost_x.png", "layers.max_share.png"]
    with pytest.raises(UsageError, match="already exists"):
        sweep(small, GRID, workers=1, out=out)


def test_one_at_a_time_tornado(small: Any, tmp_path: Path) -> None:
    table = sweep(small, GRID, mode="one-at-a-time", workers=1, out=tmp_path / "oat")
    assert table["overrides"].iloc[0] == "base"
    assert math.isnan(table["layers.max_share"].iloc[0])
    assert (tmp_path / "oat" / "plots" / "tornado.png").stat().st_size > 0


# ---------------------------------------------------------------- parallel, Dask, resume


@pytest.mark.slow
def test_two_workers_give_the_same_table(small: Any, tmp_path: Path) -> None:
    one = sweep(small, GRID, workers=1)
    two = sweep(small, GRID, workers=2, out=tmp_path / "two", plots=False)
    same_bits(one, two)
    assert pd.read_csv(tmp_path / "two" / "sweep.csv")["point"].tolist() == list(range(6))
    # Each worker builds its model once, whatever share of the points it gets.
    assert 1 <= two["rebuilt"].sum() <= 2


def test_a_point_s_answer_does_not_depend_on_the_point_solved_before_it() -> None:
    # On the sample, point 2 re-solved after point 1 on one model stopped elsewhere in the
    # MIP gap than point 2 solved alone (bound 931.875 against 931.8283) while it
    # warm-started from the plan before: one worker and two gave different tables. A
    # point's answer now depends on the point alone (the executor tests above, exact).
    from solver.studies.sweep.grid import mutable_columns
    from solver.studies.sweep.point_solver import PointSolver, Settings

    sample = load_case(Path(__file__).resolve().parent.parent / "models"
                       / "allied-ai-stack.toml")
    axes = [parse_vary(v) for v in ("layers.max_share=0.45",
                                    "capabilities[TW,*].unit_cost*=1.5,2")]
    first, second = make_points(axes, "grid")
    settings = Settings(mutable=mutable_columns(axes))
    solver = PointSolver(sample, settings)
    solver.run(first)
    after = solver.run(second).row
    alone = PointSolver(sample, settings).run(second).row
    assert after["status"] == "optimal" and solver.builds == 1
    keep = [k for k in after if k not in TIMING]
    assert {k: after[k] for k in keep} == {k: alone[k] for k in keep}


@pytest.mark.slow
def test_dask_cluster_gives_the_same_table(small: Any, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    one = sweep(small, GRID, workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        on_dask = sweep(small, GRID, scheduler=cluster.scheduler_address,
                        out=tmp_path / "dask", plots=False)
    same_bits(one, on_dask)
    assert pd.read_csv(tmp_path / "dask" / "sweep.csv")["point"].tolist() == list(range(6))


def test_resume_computes_only_missing_points(small: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = StopAfter(2)
    with pytest.raises(KeyboardInterrupt):
        sweep(small, GRID, workers=1, out=out, progress=first)
    kept = pd.read_csv(out / "sweep.csv")
    assert kept["point"].tolist() == [0, 1]
    assert set(pd.read_csv(out / "allocations.csv")["point"]) == {0, 1}
    second = StopAfter()
    table = sweep(small, GRID, workers=1, out=out, resume=True, progress=second,
                  plots=False)
    assert second.solved == [2, 3, 4, 5]
    same_bits(table, sweep(small, GRID, workers=1))
    assert pd.read_csv(out / "sweep.csv")["point"].tolist() == list(range(6))
    assert sorted(set(pd.read_csv(out / "sweep_layers.csv")["point"])) == list(range(6))
    third = StopAfter()
    sweep(small, GRID, workers=1, out=out, resume=True, progress=third, plots=False)
    assert third.solved == []
    with pytest.raises(UsageError, match="varied keys"):
        sweep(small, ["layers.max_share=0.5"], workers=1, out=out, resume=True)


def test_resume_after_a_torn_last_line(small: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep(small, GRID, workers=1, out=out, progress=StopAfter(3))
    text = (out / "sweep.csv").read_text()
    (out / "sweep.csv").write_text(text[: text.rindex("\n", 0, len(text) - 1) + 12])
    again = StopAfter()
    sweep(small, GRID, workers=1, out=out, resume=True, progress=again, plots=False)
    assert again.solved == [2, 3, 4, 5]


# ---------------------------------------------------------------- command line


def test_cli_sweep_and_model_file_default(tmp_path: Path) -> None:
    write_case(tmp_path / "data" / "small", SMALL)
    model = tmp_path / "models" / "small.toml"
    model.parent.mkdir()
    model.write_text('case = "../data/small"\n[sweep]\nvary = ["layers.max_share=0.4,0.7"]\n')
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(main, ["sweep", str(model), "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 points, 2 with a plan" in result.output
    assert "[2/2] point 1 (layers.max_share=0.7): optimal" in result.output
    assert pd.read_csv(out / "sweep.csv")["layers.max_share"].tolist() == [0.4, 0.7]
    again = runner.invoke(main, ["sweep", str(model), "--workers", "1", "--out", str(out)])
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = runner.invoke(main, ["sweep", str(model), "--workers", "1", "--out", str(out),
                                   "--resume", "--no-plots"])
    assert resumed.exit_code == 0, resumed.output
    assert "sweep: 2 points (2 done earlier)" in resumed.output
    bad = runner.invoke(main, ["sweep", str(model), "--vary", "layers.max_share=1:0:1"])
    assert bad.exit_code == 2 and "never goes" in bad.output


def test_warm_start_is_accepted(small: Any) -> None:
    from solver.highs.runner import HighsRunner
    from solver.model.build import build
    from solver.solve import variable_groups

    built = build(small, mutable={"layers.max_share"})
    runner = HighsRunner()
    groups = variable_groups(built.m)
    first = runner.solve(built.m, groups)
    assert runner.warm_start(built.m, first.values)
    again = runner.solve(built.m, groups)
    assert "MIP start solution is feasible" in again.log
    assert again.objective == pytest.approx(first.objective)


def test_progress_bar_and_lines(small: Any) -> None:
    import io

    from solver.studies.engine.progress import BarProgress, LineProgress, progress_for

    assert isinstance(progress_for(io.StringIO()), LineProgress)
    stream = io.StringIO()
    sweep(small, ["layers.max_share=0.4,0.1"], workers=1, progress=BarProgress(stream, 0.01))
    text = stream.getvalue()
    assert text.startswith("\r[") and text.endswith("\n")
    assert "2/2 points, 1 failed" in text


def test_a_sweep_where_every_point_fails_lists_only_what_it_wrote(tmp_path: Path) -> None:
    import warnings

    write_case(tmp_path / "small", SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns about a legend with no entries
        result = CliRunner().invoke(main, ["sweep", str(tmp_path / "small"), "--vary",
                                           "layers.max_share=0.05,0.1", "--workers", "1",
                                           "--out", str(tmp_path / "sw")])
    assert result.exit_code == 0, result.output
    assert result.output.count("infeasible") >= 2
    assert f"written: {tmp_path / 'sw'} (sweep.csv, sweep.json, plots/)" in result.output
    assert not (tmp_path / "sw" / "allocations.csv").exists()


def test_a_point_ruled_out_before_its_build_leaves_no_stale_number(tmp_path: Path) -> None:
    """A point counted out before its build still sends its numbers later.

    Point 1 changes A's capacity (mutable) and the demand (not): counting rules it out
    before a model is built, after its capacity was written to the held model. Point 2, A's
    capacity alone, is re-solved on that model: it must send the new capacity to HiGHS
    (cost 10, all from A), not keep the old 5 (cost 15).
    """
    from solver.studies.sweep.grid import Point
    from solver.studies.sweep.point_solver import PointSolver, Settings

    try:
        from tiny import write_case as write_tiny
    except ModuleNotFoundError:  # tests/ imported as a package
        from tests.tiny import write_case as write_tiny
    case = load_case(write_tiny(tmp_path / "c", partners="partner\nA\nB\n",
                                layers="layer,demand\nchips,10\n",
                                capabilities="partner,layer,capacity,unit_cost\n"
                                             "A,chips,5,1\nB,chips,100,2\n"))
    solver = PointSolver(case, Settings(mutable=frozenset({"capabilities.capacity"})))
    rows = [solver.run(Point(i, overrides, ())).row for i, overrides in enumerate([
        (), ("capabilities[A,chips].capacity=100", "layers[chips].demand=1000"),
        ("capabilities[A,chips].capacity=100",)])]
    assert rows[1]["status"] == "infeasible"
    assert rows[2]["objective"] == pytest.approx(10.0)
