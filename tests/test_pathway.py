"""Pathways (README, Pathways): periods, targets, the installed base, builds and their checks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main
from solver.errors import CaseError

try:
    from tiny import alloc, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import alloc, write_case

BASE = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand\nchips,10\n",
}
TWO_YEARS = "period,year\n2026,2026\n2028,2028\n"


def case_of(tmp_path: Path, capabilities: str, **tables: str) -> Path:
    """A one-layer case of partners A and B with ``capabilities`` and other tables."""
    return write_case(tmp_path / "case", **{**BASE, "capabilities": capabilities, **tables})


def in_period(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of one period."""
    return frame[frame["period"].astype(str) == period]


def test_build_rate_binds(tmp_path: Path) -> None:
    """build_rate: A (cost 1) may decide at most 6; B (cost 2) builds the other 4."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,max_build\n"
                             "A,chips,100,1,6\nB,chips,100,2,\n")
    result = solve(load_case(path))
    assert result.objective == pytest.approx(6 * 1 + 4 * 2)
    assert alloc(result, "A", "chips", "capacity") == pytest.approx(6)
    assert result.builds is not None and result.builds["built"].max() == pytest.approx(6)
    assert result.verified


def test_lead_time_delays_service_and_lifetime_ends_it(tmp_path: Path) -> None:
    """in_service: A's 2026 build serves from 2028; B's lasts one year, so 2026 needs B."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,lead_time,lifetime\n"
                             "A,chips,100,1,2,\nB,chips,100,2,0,1\n", periods=TWO_YEARS)
    result = solve(load_case(path))
    # 2026: B builds 10 at 2; 2028: A's 2026 build serves at 1 (B's has retired).
    assert result.objective == pytest.approx(20 + 10)
    builds = result.builds
    assert builds is not None
    a = builds[builds["partner"] == "A"].iloc[0]
    assert (a["period"], a["built"], a["in_service_from"]) == ("2026", pytest.approx(10), 2028)
    b = builds[builds["partner"] == "B"].iloc[0]
    assert (b["in_service_from"], b["in_service_until"]) == (2026, 2027)
    late = in_period(result.allocation, "2028").set_index("partner")["capacity"]
    assert late["A"] == pytest.approx(10) and late["B"] == pytest.approx(0)


def test_retirement_binds(tmp_path: Path) -> None:
    """retirement: A's base, dear in 2026 and cheap in 2027, is kept (35), not retired (30)."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,existing,existing_cost,lifetime\n"
                             "A,chips,100,5,10,1,\nB,chips,100,2,0,,1\n",
                   periods="period,year\n2026,2026\n2027,2027\n",
                   targets="period,set\n2026,\"capabilities[A,chips].existing_cost=2.5\"\n")
    result = solve(load_case(path))
    assert result.objective == pytest.approx(25 + 10)
    kept = result.allocation.set_index(["period", "partner"])["existing"]
    assert kept[("2026", "A")] == pytest.approx(10) and kept[("2027", "A")] == pytest.approx(10)


def test_installed_base_ends_at_existing_until(tmp_path: Path) -> None:
    """installed_base: A's base serves 2026 only (existing_until 2027); 2028 builds anew."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,existing,existing_cost,"
                             "existing_until\nA,chips,100,3,10,0.5,2027\nB,chips,100,2,0,,\n",
                   periods=TWO_YEARS)
    result = solve(load_case(path))
    kept = result.allocation.set_index(["period", "partner"])["existing"]
    assert kept[("2026", "A")] == pytest.approx(10) and kept[("2028", "A")] == 0
    # 2026: the base at 0.5; 2028: B built (in 2026 or 2028) at 2.
    assert result.objective == pytest.approx(5 + 20)


def test_discounting_targets_and_demand_factor(tmp_path: Path) -> None:
    """w_t = years (1+r)^-(year - first); targets and demand_factor change one period only."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n",
                   periods="period,year,years,demand_factor\n2026,2026,2,1\n2028,2028,3,2\n",
                   targets="period,set\n2028,layers[chips].max_share=0.6\n")
    case = load_case(path).with_overrides({"objective.discount_rate": 0.1})
    result = solve(case)
    weights = result.summary["weights"]
    assert weights == {"2026": pytest.approx(2), "2028": pytest.approx(3 / 1.1**2)}
    late = in_period(result.allocation, "2028").set_index("partner")
    # 2028: demand 20, A at most 60%: 12 (A's 10 of 2026 serve on) and B 8.
    assert late.loc["A", "supplied"] == pytest.approx(12)
    assert late.loc["B", "supplied"] == pytest.approx(8)
    by_period = result.summary["costs_by_period"]
    assert by_period["2026"]["capacity"] == pytest.approx(10)
    assert by_period["2028"]["capacity"] == pytest.approx(12 + 16)
    assert result.objective == pytest.approx(2 * 10 + weights["2028"] * 28)


def test_per_period_budget_binds(tmp_path: Path) -> None:
    """budget: each period's undiscounted spending within the budget, or no plan."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,fixed_cost\n"
                             "A,chips,100,1,0\nB,chips,100,2,0\n", periods=TWO_YEARS)
    assert solve(load_case(path).with_overrides({"objective.budget": 10})).verified
    from solver.errors import InfeasibleError

    with pytest.raises(InfeasibleError, match="2026"):
        solve(load_case(path).with_overrides({"objective.budget": 9}))


def test_one_period_file_gives_the_same_plan(tmp_path: Path) -> None:
    """A periods.csv of one period of one year: the same optimum and rows as without it."""
    caps = "partner,layer,capacity,unit_cost,fixed_cost\nA,chips,8,1,3\nB,chips,100,2,1\n"
    plain = solve(load_case(case_of(tmp_path / "a", caps)))
    path = solve(load_case(case_of(tmp_path / "b", caps, periods="period,year\nnow,2026\n")))
    assert path.objective == pytest.approx(plain.objective)
    for name in ("allocation", "flows", "layers", "partners"):
        got = getattr(path, name).drop(columns=["period", "existing", "bloc"], errors="ignore")
        pd.testing.assert_frame_equal(got.reset_index(drop=True), getattr(plain, name))


def test_run_folder_has_period_first_and_builds(tmp_path: Path) -> None:
    """Every table starts with period; builds.csv; the checker re-verifies and catches a lie."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,lead_time\n"
                             "A,chips,100,1,2\nB,chips,100,2,0\n", periods=TWO_YEARS)
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(main, ["solve", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "build-out" in result.output
    for name in ("allocation", "flows", "layers", "partners"):
        assert pd.read_csv(out / f"{name}.csv").columns[0] == "period"
    builds = pd.read_csv(out / "builds.csv")
    assert list(builds.columns) == ["partner", "layer", "period", "built", "in_service_from",
                                    "in_service_until"]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["costs_by_period"]) == {"2026", "2028"}
    assert runner.invoke(main, ["check", str(path), str(out)]).exit_code == 0
    builds.loc[0, "built"] += 1
    builds.to_csv(out / "builds.csv", index=False)
    tampered = runner.invoke(main, ["check", str(path), str(out)])
    assert tampered.exit_code == 5 and "in_service" in tampered.output


@pytest.mark.parametrize(("tables", "where"), [
    ({"targets": "period,set\n2026,layers[chips].max_shar=0.4\n"},
     "targets.csv, line 2, column set"),
    ({"targets": "period,set\n2026,layers[nothing].max_share=0.4\n"},
     "targets.csv, line 2, column set"),
    ({"targets": "period,set\n2026,layers.max_share\n"}, "targets.csv, line 2, column set"),
    ({"targets": "period,set\n2027,layers.max_share=0.5\n"},
     "targets.csv, line 2, column period"),
    ({"periods": "period,year\n2026,2026\n2025,2025\n"}, "periods.csv, line 3, column year"),
])
def test_bad_pathway_tables_name_file_line_and_column(tmp_path: Path, tables: dict[str, str],
                                                      where: str) -> None:
    """Each problem of periods.csv and targets.csv names its file, line and column."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost\nA,chips,100,1\n",
                   **{"periods": "period,year\n2026,2026\n", **tables})
    with pytest.raises(CaseError) as err:
        load_case(path)
    assert where in str(err.value)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and where in result.output


def test_existing_above_capacity_and_targets_without_periods(tmp_path: Path) -> None:
    """existing <= capacity; targets.csv needs periods.csv."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,existing\nA,chips,5,1,6\n",
                   targets="period,set\n2026,layers.max_share=0.5\n")
    with pytest.raises(CaseError) as err:
        load_case(path)
    text = str(err.value)
    assert "capabilities.csv, line 2, column existing" in text
    assert "targets.csv, line 2, column period" in text


def test_workbook_pathway_equals_folder(tmp_path: Path) -> None:
    """A workbook with periods and targets sheets solves as the folder does."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,lead_time\n"
                             "A,chips,100,1,2\nB,chips,100,2,0\n", periods=TWO_YEARS,
                   targets="period,set\n2028,layers[chips].max_share=0.7\n")
    book = tmp_path / "case.xlsx"
    with pd.ExcelWriter(book) as writer:
        for csv in sorted(path.glob("*.csv")):
            pd.read_csv(csv, dtype=str).to_excel(writer, sheet_name=csv.stem, index=False)
    assert solve(load_case(book)).objective == pytest.approx(solve(load_case(path)).objective)


LEAD = "partner,layer,capacity,unit_cost,existing,lead_time\nA,chips,100,1,4,2\nB,chips,100,2,0,0\n"


def test_compare_goes_period_by_period(tmp_path: Path) -> None:
    """compare names each row by its period; a pathway against one period is refused."""
    from solver.report.compare import compare_runs

    path = case_of(tmp_path, LEAD, periods=TWO_YEARS)
    runner = CliRunner()
    for name, extra in (("a", []), ("b", ["--set", "capabilities[B,chips].unit_cost*=2"])):
        result = runner.invoke(main, ["solve", str(path), "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    comparison = compare_runs(tmp_path / "a", tmp_path / "b")
    costs = comparison.costs.set_index("term")
    # 2026: B builds the 6 that A's base of 4 leaves, at 2 and then at 4.
    assert (costs.at["2026 capacity", "a"], costs.at["2026 capacity", "b"]) == (
        pytest.approx(12), pytest.approx(24))
    assert {"2026 chips", "2028 chips"} <= set(comparison.layers["layer"])
    plain = case_of(tmp_path / "plain", "partner,layer,capacity,unit_cost\nA,chips,100,1\n")
    assert runner.invoke(main, ["solve", str(plain), "--out", str(tmp_path / "c")]).exit_code == 0
    refused = runner.invoke(main, ["compare", str(tmp_path / "a"), str(tmp_path / "c"),
                                   "--out", str(tmp_path / "cmp.csv")])
    assert refused.exit_code == 2 and "cannot be compared" in refused.output


def test_explain_names_the_period_and_the_layer(tmp_path: Path) -> None:
    """2026 needs 10 chips: A has a base of 4 and every build serves from 2028."""
    path = case_of(tmp_path, LEAD.replace("B,chips,100,2,0,0", "B,chips,100,2,0,2"),
                   periods=TWO_YEARS)
    result = CliRunner().invoke(main, ["explain", str(path)])
    assert result.exit_code == 3, result.output
    assert "2026: " in result.output and "chips needs 10, at most 4 can be in service" in \
        result.output
    feasible = CliRunner().invoke(main, ["explain", str(case_of(tmp_path / "ok", LEAD,
                                                                periods=TWO_YEARS))])
    assert feasible.exit_code == 0 and "feasible" in feasible.output


def test_sample_pathway_model_file_loads() -> None:
    """models/allied-ai-stack-2035.toml: four periods, its targets apply, discounted at 3.5%."""
    from solver.case.periods import period_case, periods_of

    root = Path(__file__).resolve().parent.parent
    case = load_case(root / "models" / "allied-ai-stack-2035.toml")
    periods = periods_of(case)
    assert [p.name for p in periods] == ["2026", "2028", "2030", "2035"]
    assert periods[1].weight == pytest.approx(2 / 1.035**2)
    chips = [float(period_case(case, p).layers.set_index("layer").at["semiconductors",
                                                                      "max_share"])
             for p in periods]
    assert chips == [0.6, 0.5, 0.4, 0.4]
    assert case.capabilities.set_index(["partner", "layer"]).at[
        ("TW", "semiconductors"), "existing"] == 200


def test_model_file_pathway_file_missing(tmp_path: Path) -> None:
    """[pathway] periods naming no file is a clear error naming the model file."""
    case = case_of(tmp_path, "partner,layer,capacity,unit_cost\nA,chips,100,1\n")
    model = tmp_path / "m.toml"
    model.write_text(f'case = "{case.name}"\n[pathway]\nperiods = "nope.csv"\n')
    with pytest.raises(CaseError, match=r"\[pathway\] periods = 'nope.csv': no such file"):
        load_case(model)


def test_report_draws_the_buildout(tmp_path: Path) -> None:
    """The report of a pathway run draws capacity in service per layer and period, by bloc."""
    path = case_of(tmp_path, LEAD, periods=TWO_YEARS)
    runner = CliRunner()
    out = tmp_path / "run"
    assert runner.invoke(main, ["solve", str(path), "--out", str(out)]).exit_code == 0
    assert runner.invoke(main, ["report", str(out)]).exit_code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="buildout">'):]
    assert "by bloc" in section and "<svg" in section[:section.index("</section>")]
    from solver.report.buildout import in_service_by_bloc

    served = in_service_by_bloc(pd.read_csv(out / "allocation.csv"))
    total = served.groupby("period")["capacity"].sum()
    assert total["2026"] == pytest.approx(10) and total["2028"] == pytest.approx(10)


@pytest.mark.slow
def test_sample_as_one_period_pathway_is_the_sample() -> None:
    """The sample with a periods.csv of one year: the same optimum, rows and columns."""
    from dataclasses import replace

    root = Path(__file__).resolve().parent.parent
    case = load_case(root / "models" / "allied-ai-stack.toml")
    plain = solve(case)
    one = replace(case, periods=pd.DataFrame({"period": ["2026"], "year": [2026],
                                              "years": [1.0], "demand_factor": [1.0]}))
    path = solve(one)
    assert path.verified and path.summary["periods"] == ["2026"]
    assert path.objective == pytest.approx(plain.objective, rel=2e-4)
    for name, keys in (("allocation", ["partner", "layer"]), ("layers", ["layer"]),
                       ("partners", ["partner"])):
        got = getattr(path, name).drop(columns=["period", "existing", "bloc"], errors="ignore")
        want = getattr(plain, name)
        assert list(got.columns) == list(want.columns)
        pd.testing.assert_frame_equal(got[keys].reset_index(drop=True), want[keys])


def test_one_period_notes_the_columns_it_does_not_use(tmp_path: Path) -> None:
    """Without periods.csv, lead_time and lifetime have no effect, and solve says so."""
    path = case_of(tmp_path, "partner,layer,capacity,unit_cost,lead_time,lifetime\n"
                             "A,chips,100,1,3,5\nB,chips,100,2,0,\n")
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "total cost 10" in result.output
    assert "capabilities.csv's lead_time has no effect without periods.csv" in result.output
    assert "capabilities.csv's lifetime has no effect without periods.csv" in result.output
