"""Global sensitivity: indices as SALib computes them from samples.csv, a parameter that
changes nothing, a cost linear in one parameter, failed samples, resume, workers, Dask, and
bad --param input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from solver.case.loader import load_case
from solver.cli import main
from solver.errors import UsageError
from solver.studies.sensitivity.study import FailedSamples, sensitivity

try:
    from sweep_cases import SMALL, StopAfter, write_case
    from test_chain import CHAIN
    from tiny import TWO_SUPPLIERS
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.sweep_cases import SMALL, StopAfter, write_case
    from tests.test_chain import CHAIN
    from tests.tiny import TWO_SUPPLIERS

#: Two of SMALL's assumptions that move its plan, and one (C's chip fixed cost, C never
#: hosting chips in this range) that may or may not.
PARAMS = ["capabilities[D,*].unit_cost*=1:3", "layers.max_share=0.5:1"]
OUTPUTS = ["share[D,chips]", "suppliers[chips]", "hhi[cloud]", "participation[A]",
           "hosts[B]", "n1_coverage[chips]"]

#: Columns that differ between runs of the same study (timings, and which worker built).
TIMING = ["seconds", "solve_seconds", "rebuilt"]


@pytest.fixture
def small(tmp_path: Path) -> Any:
    return load_case(write_case(tmp_path / "small", SMALL))


@pytest.fixture
def two(tmp_path: Path) -> Any:
    return load_case(write_case(tmp_path / "two", TWO_SUPPLIERS))


def salib_problem(meta: dict[str, Any]) -> dict[str, Any]:
    names, bounds = [], []
    for text in meta["params"]:
        key, _, spec = text.partition("=")
        low, high = (float(x) for x in spec.split(":"))
        names.append(key)
        bounds.append([low, high])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def same_samples(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=TIMING).reset_index(drop=True),
                                  b.drop(columns=TIMING).reset_index(drop=True))


# ---------------------------------------------------------------- the indices are SALib's


def test_morris_indices_are_salib_s_from_samples_csv(small: Any, tmp_path: Path) -> None:
    from SALib.analyze import morris

    out = tmp_path / "morris"
    result = sensitivity(small, PARAMS, samples=3, outputs=OUTPUTS, seed=7, out=out)
    samples = pd.read_csv(out / "samples.csv")
    indices = pd.read_csv(out / "indices.csv")
    meta = json.loads((out / "sensitivity.json").read_text())
    assert len(samples) == 3 * (2 + 1) and (samples["status"] == "optimal").all()
    assert samples["verified"].all()
    problem = salib_problem(meta)
    assert problem["names"] == ["capabilities[D,*].unit_cost*", "layers.max_share"]
    x = samples[problem["names"]].to_numpy(dtype=float)
    moved = 0
    for output in ["objective", "cost_capacity", *OUTPUTS]:
        y = samples[output].to_numpy(dtype=float)
        ours = indices[indices["output"] == output].set_index("parameter")
        if np.ptp(y) == 0:
            assert (ours[["mu", "mu_star", "sigma", "mu_star_conf"]] == 0).all().all()
            continue
        moved += 1
        theirs = morris.analyze(problem, x, y, num_resamples=100, conf_level=0.95,
                                num_levels=4, seed=7)
        for column in ("mu", "mu_star", "sigma", "mu_star_conf"):
            assert ours.loc[problem["names"], column].tolist() == \
                pytest.approx(list(theirs[column]), rel=1e-12, abs=1e-12), (output, column)
    assert moved >= 3
    # The library returns the same table as the file.
    pd.testing.assert_frame_equal(result.indices.reset_index(drop=True), indices,
                                  check_dtype=False, rtol=1e-15)
    assert sorted(p.name for p in (out / "plots").iterdir())


def test_sobol_indices_are_salib_s_from_samples_csv(small: Any, tmp_path: Path) -> None:
    from SALib.analyze import sobol

    out = tmp_path / "sobol"
    sensitivity(small, PARAMS, method="sobol", samples=4, seed=3, out=out, plots=False)
    samples = pd.read_csv(out / "samples.csv")
    indices = pd.read_csv(out / "indices.csv")
    assert len(samples) == 4 * (2 + 2)
    problem = salib_problem(json.loads((out / "sensitivity.json").read_text()))
    y = samples["objective"].to_numpy(dtype=float)
    theirs = sobol.analyze(problem, y, calc_second_order=False, num_resamples=100,
                           conf_level=0.95, seed=3)
    ours = indices[indices["output"] == "objective"].set_index("parameter")
    for column in ("S1", "S1_conf", "ST", "ST_conf"):
        assert ours.loc[problem["names"], column].tolist() == \
            pytest.approx(list(theirs[column]), rel=1e-12, abs=1e-12), column


# ---------------------------------------------------------------- honest numbers


def test_a_linear_cost_gives_slope_times_range_and_a_null_parameter_zero(two: Any) -> None:
    # A builds all 10 units while it is the cheaper: the cost is 10 x A's unit cost (slope
    # 10, range 0.5: mu* 5, sigma 0). B is never used, so its unit cost changes nothing.
    result = sensitivity(two, ["capabilities[A,chips].unit_cost=1:1.5",
                               "capabilities[B,chips].unit_cost=2:3"],
                         samples=4, outputs=["hosts[B]"], seed=1)
    assert np.allclose(result.samples["objective"],
                       10 * result.samples["capabilities[A,chips].unit_cost"], rtol=1e-9)
    cost = result.indices[result.indices["output"] == "objective"].set_index("parameter")
    a, b = cost.loc["capabilities[A,chips].unit_cost"], cost.loc[
        "capabilities[B,chips].unit_cost"]
    assert a["mu_star"] == pytest.approx(10 * 0.5, rel=1e-9)
    assert a["mu"] == pytest.approx(5.0, rel=1e-9)
    assert a["sigma"] == pytest.approx(0.0, abs=1e-9)
    assert (b[["mu", "mu_star", "sigma"]] == 0).all()
    hosts = result.indices[result.indices["output"] == "hosts[B]"]
    assert (hosts[["mu", "mu_star", "sigma", "mu_star_conf"]] == 0).all().all()
    assert result.ranking("objective")["parameter"].iloc[0] == \
        "capabilities[A,chips].unit_cost"


def test_sobol_gives_a_null_parameter_zero(two: Any) -> None:
    result = sensitivity(two, ["capabilities[A,chips].unit_cost=1:1.5",
                               "capabilities[B,chips].unit_cost=2:3"],
                         method="sobol", samples=4, seed=2)
    cost = result.indices[result.indices["output"] == "objective"].set_index("parameter")
    assert cost.loc["capabilities[B,chips].unit_cost", "S1"] == pytest.approx(0, abs=1e-12)
    assert cost.loc["capabilities[B,chips].unit_cost", "ST"] == pytest.approx(0, abs=1e-12)
    assert cost.loc["capabilities[A,chips].unit_cost", "ST"] > 0
    from solver.cli.sensitivity import format_ranking

    lines = format_ranking(result).splitlines()
    assert lines[0] == "Sobol, 4 base points: 16 samples, each with a verified plan"
    assert lines[3].split() == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert lines[4].split()[0] == "capabilities[A,chips].unit_cost"


def test_failed_samples_exit_3_saying_how_many_and_where(tmp_path: Path) -> None:
    case = write_case(tmp_path / "two", TWO_SUPPLIERS)
    out = tmp_path / "out"
    sensitivity(load_case(case), ["layers[chips].demand=50:150"], samples=2, out=out)
    assert (out / "indices.csv").exists()
    run = CliRunner().invoke(main, ["sensitivity", str(case), "--param",
                                    "layers[chips].demand=50:350", "--samples", "3",
                                    "--out", str(out), "--force"])
    assert run.exit_code == 3, run.output
    samples = pd.read_csv(out / "samples.csv")
    failed = samples[samples["objective"].isna()]
    assert 0 < len(failed) < len(samples)
    assert f"{len(failed)} of {len(samples)} samples have no plan" in run.output
    assert f"layers[chips].demand {failed['layers[chips].demand'].min():g} to" in run.output
    assert "infeasible" in run.output and "samples.csv" in run.output
    assert not (out / "indices.csv").exists()
    with pytest.raises(FailedSamples) as info:
        sensitivity(load_case(case), ["layers[chips].demand=50:350"], samples=3)
    assert len(info.value.samples) == 6


# ---------------------------------------------------------------- the engine


def test_resume_after_an_interruption_gives_the_same_indices(small: Any,
                                                             tmp_path: Path) -> None:
    whole = sensitivity(small, PARAMS, samples=2, outputs=OUTPUTS[:2], seed=5)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sensitivity(small, PARAMS, samples=2, outputs=OUTPUTS[:2], seed=5, out=out,
                    progress=StopAfter(2))
    assert pd.read_csv(out / "samples.csv")["point"].tolist() == [0, 1]
    with pytest.raises(UsageError, match="already exists"):
        sensitivity(small, PARAMS, samples=2, outputs=OUTPUTS[:2], seed=5, out=out)
    with pytest.raises(UsageError, match="seed changed"):
        sensitivity(small, PARAMS, samples=2, outputs=OUTPUTS[:2], seed=6, out=out,
                    resume=True)
    again = StopAfter()
    resumed = sensitivity(small, PARAMS, samples=2, outputs=OUTPUTS[:2], seed=5, out=out,
                          resume=True, progress=again, plots=False)
    assert again.solved == [2, 3, 4, 5]
    same_samples(whole.samples, resumed.samples)
    pd.testing.assert_frame_equal(whole.indices, resumed.indices)


@pytest.mark.slow
def test_two_workers_give_the_same_samples_and_indices(small: Any, tmp_path: Path) -> None:
    here = sensitivity(small, PARAMS, samples=2, outputs=OUTPUTS[:1], seed=4)
    there = sensitivity(small, PARAMS, samples=2, outputs=OUTPUTS[:1], seed=4, workers=2,
                        out=tmp_path / "two", plots=False)
    same_samples(here.samples, there.samples)
    pd.testing.assert_frame_equal(here.indices, there.indices)
    assert 1 <= there.samples["rebuilt"].sum() <= 2  # one model per worker


@pytest.mark.slow
def test_dask_gives_the_same_samples_and_indices(small: Any, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    here = sensitivity(small, PARAMS, samples=2, seed=4)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        there = sensitivity(small, PARAMS, samples=2, seed=4,
                            scheduler=cluster.scheduler_address, out=tmp_path / "dask",
                            plots=False)
    same_samples(here.samples, there.samples)
    pd.testing.assert_frame_equal(here.indices, there.indices)


# ---------------------------------------------------------------- bad input, exit 2


@pytest.mark.parametrize(("param", "says"), [
    ("capabilities[Z,chips].unit_cost=1:2", "capabilities[Z,chips].unit_cost"),
    ("layers.no_such=1:2", "names no column of layers"),
    ("layers.max_share=0.9:0.5", "LOW (0.9) must be less than HIGH (0.5)"),
    ("layers.max_share=0.5:0.5", "LOW (0.5) must be less than HIGH (0.5)"),
    ("layers.max_share=nan:1", "finite"),
    ("layers.max_share=0.5:inf", "finite"),
    ("layers.max_share=0.5", "KEY=LOW:HIGH"),
    ("layers.max_share=a:b", "numbers"),
    ("layers.max_share=0.5:2", "at HIGH (2)"),
    ("solver.threads=1:2", "cannot vary"),
    ("layers.min_suppliers=1:3", "is not a whole number"),
])
def test_a_bad_param_is_exit_2_naming_it(tmp_path: Path, param: str, says: str) -> None:
    case = write_case(tmp_path / "two", TWO_SUPPLIERS)
    run = CliRunner().invoke(main, ["sensitivity", str(case), "--param", param, "--out",
                                    str(tmp_path / "out")])
    assert run.exit_code == 2, run.output
    assert "--param" in run.output and says in run.output, run.output
    assert "Traceback" not in run.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("output", "says"), [
    ("share[Z,chips]", "no partner 'Z'"),
    ("unmet[blockade]", "no scenarios.csv"),
    ("cost[A]", "expected one of"),
    ("share[A]", "takes PARTNER, LAYER"),
])
def test_a_bad_output_is_exit_2_naming_it(tmp_path: Path, output: str, says: str) -> None:
    case = write_case(tmp_path / "two", TWO_SUPPLIERS)
    run = CliRunner().invoke(main, ["sensitivity", str(case), "--param",
                                    "layers.max_share=0.5:1", "--output", output])
    assert run.exit_code == 2, run.output
    assert says in run.output, run.output


def test_cli_prints_the_ranking_from_the_model_file_s_table(tmp_path: Path) -> None:
    write_case(tmp_path / "data" / "two", TWO_SUPPLIERS)
    model = tmp_path / "models" / "two.toml"
    model.parent.mkdir()
    model.write_text('case = "../data/two"\nunit = "EUR m a year"\n[sensitivity]\n'
                     'params = ["capabilities[A,chips].unit_cost=1:1.5", '
                     '"capabilities[B,chips].unit_cost=2:3"]\n'
                     'samples = 3\noutputs = ["share[A,chips]"]\n')
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["sensitivity", str(model), "--out", str(out)])
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0] == "Morris, 3 trajectories on 4 levels: 9 samples, each with a verified plan"
    # Costs in the model file's unit, a share as a fraction whatever the unit.
    at = lines.index("total cost (EUR m a year):")
    assert lines[at + 1].split() == ["parameter", "mu", "mu_star", "sigma", "mu_star_conf"]
    first = lines[at + 2].split()
    assert first[0] == "capabilities[A,chips].unit_cost"
    assert math.isclose(float(first[2].replace(",", "")), 5.0, rel_tol=1e-3)
    assert lines[at + 5] == "cost terms (EUR m a year), the largest mu_star of each " \
        "(+/- its 95% interval):"
    assert lines[at + 6].split()[:5] == ["capacity", "cost", "capabilities[A,chips].unit_cost",
                                        "5", "(+/-"]
    assert "share[A,chips] (fraction of the layer's demand):" in lines
    assert "cost a year" not in run.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "indices.csv", "plots", "samples.csv", "sensitivity.json"]
    meta = json.loads((out / "sensitivity.json").read_text())
    assert meta["unit"] == "EUR m a year"
    assert meta["units"]["objective"] == meta["units"]["cost_trade"] == "EUR m a year"
    assert meta["units"]["share[A,chips]"] == "fraction of the layer's demand"


def test_without_a_unit_costs_are_printed_bare_and_unmet_in_units_of_demand(
        tmp_path: Path) -> None:
    from solver.cli.sensitivity import format_ranking

    case = load_case(write_case(tmp_path / "two", {
        **TWO_SUPPLIERS, "scenarios": "scenario,probability,partner\nlose_a,0.1,A\n"}))
    result = sensitivity(case, ["capabilities[A,chips].capacity=5:10"], samples=2,
                         outputs=["unmet[lose_a]", "hosts[A]"], seed=0)
    lines = format_ranking(result).splitlines()
    assert "total cost:" in lines
    assert "unmet[lose_a] (units of demand):" in lines
    assert "hosts[A] (layers hosted):" in lines
    assert result.unit("objective") is None
    # The model file's unit is the unit of quantities too (README, The case format).
    model = tmp_path / "two.toml"
    model.write_text('case = "two"\nunit = "USD bn a year"\n', encoding="utf-8")
    priced = sensitivity(load_case(model), ["capabilities[A,chips].capacity=5:10"],
                         samples=2, outputs=["unmet[lose_a]"], seed=0)
    assert priced.unit("unmet[lose_a]") == priced.unit("cost_fixed") == "USD bn a year"


def test_sobol_ranking_shows_the_intervals_and_says_its_indices_are_fractions(
        tmp_path: Path) -> None:
    from solver.cli.sensitivity import format_ranking

    case = load_case(write_case(tmp_path / "two", TWO_SUPPLIERS))
    result = sensitivity(case, ["capabilities[A,chips].unit_cost=1:1.5",
                                "capabilities[B,chips].unit_cost=2:3"],
                         method="sobol", samples=4, seed=0)
    lines = format_ranking(result).splitlines()
    at = lines.index("total cost:")
    assert lines[at + 1].split() == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert lines[-1].startswith("S1 and ST are fractions of the output's variance")


def test_morris_plot_axes_are_in_the_output_s_unit(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from solver.report import plots

    drawn: dict[str, Any] = {}
    monkeypatch.setattr(plots, "save_figure",
                        lambda fig, path, **kw: drawn.__setitem__(Path(path).stem, fig))
    indices = pd.DataFrame({"parameter": ["a", "b"] * 2,
                            "output": ["objective"] * 2 + ["share[A,chips]"] * 2,
                            "mu": [1.0, 0.5] * 2, "mu_star": [1.0, 0.5] * 2,
                            "sigma": [0.1, 0.0] * 2, "mu_star_conf": [0.1, 0.1] * 2})
    plots.sensitivity_plots(indices, "morris", tmp_path, units={
        "objective": "USD bn a year", "share[A,chips]": "fraction of the layer's demand"})
    cost, share = (drawn[k].axes[0] for k in ("objective", "share_A_chips"))
    assert cost.get_xlabel().endswith("(USD bn a year)")
    assert cost.get_ylabel() == "sigma: spread of the effect (USD bn a year)"
    assert share.get_xlabel().endswith("(fraction of the layer's demand)")


# ---------------------------------------------------------------- the README's ranking

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_STUDY = ROOT / "data" / "allied-ai-stack" / "sensitivity"
README_COMMAND = "$ coalition sensitivity models/allied-ai-stack-chain.toml --workers 2 " \
    "--out out/sensitivity\n"


def test_the_readme_ranking_is_what_the_command_printed_for_the_sample() -> None:
    """The chained sample's study folder (the README command's, kept in the repository) is of
    the model file and case as they are, its indices are SALib's on its samples, and the README
    shows what the command prints for it."""
    from solver.cli.sensitivity import format_ranking
    from solver.studies.sensitivity import methods
    from solver.studies.sensitivity.params import parse_param
    from solver.studies.sensitivity.study import read_study

    case = load_case(ROOT / "models" / "allied-ai-stack-chain.toml")
    study = read_study(SAMPLE_STUDY)
    opts = case.sensitivity_options
    assert study.meta["case_sha256"] == case.sha256, "the sample changed: run the study again"
    assert study.meta["params"] == [str(parse_param(p)) for p in opts.params]
    assert (study.meta["samples"], study.meta["seed"], study.meta["outputs"]) == \
        (opts.samples, opts.seed, opts.outputs)
    samples = study.samples
    assert len(samples) == opts.samples * (len(opts.params) + 1)
    # Among the ranked assumptions, the chain's coefficients (issue 26).
    assert [p for p in study.params if p.startswith("inputs[")]
    assert samples["verified"].all()
    spec = methods.problem([parse_param(p) for p in opts.params])
    again = methods.indices_table("morris", spec, samples[spec["names"]].to_numpy(float),
                                  {o: samples[o].to_numpy(float) for o in study.outputs},
                                  study.meta["seed"])
    pd.testing.assert_frame_equal(again, study.indices, check_dtype=False, rtol=1e-12)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(README_COMMAND, 1)[1].split("written:", 1)[0]
    assert shown == format_ranking(study) + "\n", "README's ranking is stale"


def test_unmet_in_a_scenario_is_measured(tmp_path: Path) -> None:
    # A builds what its capacity allows, B the rest; losing A leaves A's capacity unmet:
    # unmet[lose_a] = A's capacity (slope 1, range 5: mu* 5, sigma 0).
    case = load_case(write_case(tmp_path / "two", {
        **TWO_SUPPLIERS, "scenarios": "scenario,probability,partner\nlose_a,0.1,A\n"}))
    result = sensitivity(case, ["capabilities[A,chips].capacity=5:10"], samples=3,
                         outputs=["unmet[lose_a]"], seed=0)
    assert np.allclose(result.samples["unmet[lose_a]"],
                       result.samples["capabilities[A,chips].capacity"])
    row = result.ranking("unmet[lose_a]").iloc[0]
    assert row["mu_star"] == pytest.approx(5.0, rel=1e-9)
    assert row["sigma"] == pytest.approx(0.0, abs=1e-9)


# ---------------------------------------------------------------- a chain's coefficients


@pytest.mark.parametrize("param", ["inputs[cloud,chips].per_unit=0.4:0.6",
                                   "inputs[cloud,chips].per_unit*=0.8:1.2"])
def test_a_chain_coefficient_is_a_parameter_set_or_multiplied(tmp_path: Path,
                                                             param: str) -> None:
    # test_chain's CHAIN: cloud (final demand 10) takes a chips per unit (0.5), chips 0.2
    # power. Chips 10a at 1, power 5 + 2a at 1, cloud 26 whatever a: cost 31 + 12a, linear
    # in a; a from 0.4 to 0.6 (or 0.5 times 0.8 to 1.2) moves it by 2.4: mu* 2.4, sigma 0.
    from solver.cli.sensitivity import format_ranking

    folder = write_case(tmp_path / "chain", CHAIN)
    (tmp_path / "chain.toml").write_text(
        f'case = "chain"\nunit = "EUR m"\n[sensitivity]\nparams = ["{param}"]\nsamples = 2\n'
        'outputs = ["share[B,cloud]"]\n', encoding="utf-8")
    result = sensitivity(load_case(tmp_path / "chain.toml"), seed=0)
    assert load_case(folder).has_inputs and result.samples["verified"].all()
    a = result.samples[result.params[0]].to_numpy(dtype=float)
    a = a if "*=" not in param else 0.5 * a
    assert np.allclose(result.samples["objective"], 31 + 12 * a, rtol=1e-6)
    row = result.ranking("objective").iloc[0]
    assert row["mu_star"] == pytest.approx(2.4, rel=1e-6)
    assert row["sigma"] == pytest.approx(0.0, abs=1e-6)
    # B's power (3, local) caps its cloud at 6 whatever a: the share does not move.
    assert result.ranking("share[B,cloud]").iloc[0]["mu_star"] == 0
    assert f"  {result.params[0]}" in format_ranking(result)
    assert "total cost (EUR m):" in format_ranking(result).splitlines()
