"""``stress --sample N`` (Monte Carlo) and ``stress --scenarios`` (SPEC section 9)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case
from solver.cli import main
from solver.studies.shocks.monte_carlo import sample
from tests.tiny import write_case

CASE = {
    "partners": "partner,disruption_risk\nA,0.2\nB,0.3\nC,0.1\n",
    "layers": "layer,demand,min_supplier_share,resilience\nchips,10,0,0.6\ncloud,5,0,0\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,10,1\nB,chips,10,2\n"
                    "C,chips,10,3\nA,cloud,5,1\nC,cloud,5,1.5\n",
}


@pytest.fixture
def case(tmp_path: Path) -> object:
    return load_case(write_case(tmp_path / "case", **CASE))


def test_the_same_seed_gives_the_same_table(case: object) -> None:
    one = sample(case, 120, seed=5)
    two = sample(case, 120, seed=5)
    pd.testing.assert_frame_equal(one.draws, two.draws)
    pd.testing.assert_frame_equal(one.distribution, two.distribution)
    other = sample(case, 120, seed=6)
    assert not other.draws["lost"].equals(one.draws["lost"])


def test_a_draw_loses_partners_and_leaves_what_the_lp_cannot_route(case: object) -> None:
    result = sample(case, 200, seed=1)
    draws = result.draws
    # Nobody lost: nothing unmet. A lost: cloud (only A and C can, A built it) is unmet.
    assert (draws.loc[draws["lost"] == "", "unmet"] == 0).all()
    total = result.distribution.set_index("layer").loc["", ["mean", "p95", "cvar95"]]
    assert total["mean"] == pytest.approx(draws["unmet"].mean())
    assert total["cvar95"] >= total["p95"] >= 0
    assert set(result.worst_partners["partner"]) <= {"A", "B", "C"}


def test_no_risk_nothing_unmet(tmp_path: Path) -> None:
    tables = dict(CASE, partners="partner\nA\nB\nC\n")
    result = sample(load_case(write_case(tmp_path / "c", **tables)), 60, seed=2)
    assert (result.draws["unmet"] == 0).all()
    assert (result.draws["lost"] == "").all()
    assert result.worst_partners.empty


def test_workers_give_the_same_table_as_one(case: object, tmp_path: Path) -> None:
    one = sample(case, 100, seed=3, batch=10)
    two = sample(case, 100, seed=3, batch=10, workers=2, out=tmp_path / "two")
    pd.testing.assert_frame_equal(one.draws, two.draws)
    written = pd.read_csv(tmp_path / "two" / "draws.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(written, one.draws, check_dtype=False)
    assert (tmp_path / "two" / "unmet_histogram.png").stat().st_size > 0


def test_on_the_sample_a_batch_s_draws_do_not_depend_on_the_batch_before() -> None:
    # A degenerate re-routing LP has many optimal routings. While a worker's LP went on from
    # the basis of the batch it ran before, one worker and two gave a different unmet
    # demand for 4 of 75 sample draws; each batch now starts cold.
    import numpy as np

    from solver.solve import solve
    from solver.studies.shocks.monte_carlo import Batch, BatchSolver, draw_losses

    sample_case = load_case(Path(__file__).resolve().parent.parent / "models"
                            / "allied-ai-stack.toml")
    plan = solve(sample_case)
    lost = draw_losses(sample_case, 50, 1)
    first, second = Batch(0, 0, lost[:25]), Batch(1, 25, lost[25:])
    solver = BatchSolver(sample_case, plan.allocation, plan.flows)
    solver.run(first)
    after = solver.run(second).unmet
    alone = BatchSolver(sample_case, plan.allocation, plan.flows).run(second).unmet
    assert after.sum() > 0
    assert np.array_equal(after, alone)


def test_dask_gives_the_same_table(case: object) -> None:
    from dask.distributed import LocalCluster

    one = sample(case, 40, seed=4, batch=10)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        on_dask = sample(case, 40, seed=4, batch=10, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(one.draws, on_dask.draws)


def test_resume_keeps_the_finished_draws(case: object, tmp_path: Path) -> None:
    out = tmp_path / "mc"
    whole = sample(case, 50, seed=9, batch=10, out=out)
    draws = pd.read_csv(out / "draws.csv", keep_default_na=False)
    # An interrupted run: the first 23 rows written (two whole batches and part of one).
    draws.head(23).to_csv(out / "draws.csv", index=False)
    again = sample(case, 50, seed=9, batch=10, out=out, resume=True)
    pd.testing.assert_frame_equal(again.draws, whole.draws)
    from solver.errors import UsageError

    with pytest.raises(UsageError, match="seed: was 9, now 10"):
        sample(case, 50, seed=10, batch=10, out=out, resume=True)


def test_cli_sample_and_scenarios(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **CASE, scenarios=(
        "scenario,probability,partner,layer,exporter,importer,capacity_factor\n"
        "lossA,0.1,A,,,,\n"))
    runner = CliRunner()
    result = runner.invoke(main, ["stress", str(folder), "--sample", "50", "--seed", "1",
                                  "--out", str(tmp_path / "mc")])
    assert result.exit_code == 0, result.output
    assert "CVaR 95%" in result.stdout
    assert (tmp_path / "mc" / "distribution.csv").is_file()
    solved = runner.invoke(main, ["solve", str(folder), "--out", str(tmp_path / "run")])
    assert solved.exit_code == 0, solved.output
    result = runner.invoke(main, ["stress", str(folder), "--scenarios", "--run",
                                  str(tmp_path / "run"), "--out", str(tmp_path / "sc")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "sc" / "scenarios.csv")
    # Without A, cloud (A's 5 units) is lost and chips keeps the 60% cover of N-1.
    written = pd.read_csv(tmp_path / "run" / "scenarios.csv")
    assert table["unmet"].tolist() == pytest.approx(written["unmet"].tolist())
    assert table.loc[0, "unmet"] > 0
