"""N-k resilience (SPEC section 3, ``layers.resilience_k``): the compact LP dual formulation."""

from __future__ import annotations

import itertools
from pathlib import Path

import highspy
import numpy as np
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.check.families import check_resilience
from solver.cli import main
from solver.diagnose.presolve import find_infeasibilities
from tests.tiny import alloc, write_case

HOSTS = {
    # partner: (capacity, unit_cost, fixed_cost)
    "A": (50.0, 1.0, 30.0),
    "B": (40.0, 1.2, 5.0),
    "C": (35.0, 1.5, 0.0),
    "D": (30.0, 2.0, 10.0),
    "E": (25.0, 2.5, 0.0),
}
DEMAND = 60.0


def _write(tmp_path: Path, hosts: dict[str, tuple[float, float, float]], res: float,
           big_k: int) -> Path:
    caps = "".join(f"{p},chips,{c},{u},{f}\n" for p, (c, u, f) in hosts.items())
    return write_case(
        tmp_path / "case", partners="partner\n" + "\n".join(hosts) + "\n",
        layers=("layer,demand,min_supplier_share,resilience,resilience_k\n"
                f"chips,{DEMAND},0,{res},{big_k}\n"),
        capabilities="partner,layer,capacity,unit_cost,fixed_cost\n" + caps)


def _every_subset_optimum(hosts: dict[str, tuple[float, float, float]], res: float,
                          big_k: int) -> float:
    """The same design problem with one row per set of K lost hosts, solved by HiGHS.

    Columns: ``y_p`` (binary), ``k_p``. ``k_p <= cap_p y_p``, ``sum k >= D`` (one consumer,
    no trade cost: what is supplied is what is built, up to demand), and for every K-subset
    ``S``: ``sum_{p not in S} k_p >= res * D``.
    """
    names = list(hosts)
    n = len(names)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    for p in names:
        h.addVar(0.0, 1.0)
        h.changeColCost(names.index(p), hosts[p][2])
    for p in names:
        h.addVar(0.0, inf)
        h.changeColCost(n + names.index(p), hosts[p][1])
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.array([highspy.HighsVarType.kInteger] * n))
    for i, p in enumerate(names):  # k_p - cap_p y_p <= 0
        h.addRow(-inf, 0.0, 2, np.array([n + i, i], dtype=np.int32),
                 np.array([1.0, -hosts[p][0]]))
    every = np.arange(n, 2 * n, dtype=np.int32)
    h.addRow(DEMAND, inf, n, every, np.ones(n))
    for lost in itertools.combinations(range(n), big_k):
        keep = np.array([n + i for i in range(n) if i not in lost], dtype=np.int32)
        h.addRow(res * DEMAND, inf, len(keep), keep, np.ones(len(keep)))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize(("res", "big_k"), [(1.0, 2), (0.7, 2), (0.5, 3), (1.0, 1)])
def test_n_k_equals_the_model_with_every_subset_written_out(tmp_path: Path, res: float,
                                                            big_k: int) -> None:
    case = load_case(_write(tmp_path, HOSTS, res, big_k))
    result = solve(case)
    assert result.verified
    assert result.objective == pytest.approx(_every_subset_optimum(HOSTS, res, big_k),
                                             rel=1e-7)
    built = sorted((alloc(result, p, "chips", "capacity") for p in HOSTS), reverse=True)
    assert sum(built[big_k:]) >= res * DEMAND - 1e-6


def test_n_2_on_random_layers(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    for i in range(4):
        hosts = {f"P{j}": (float(rng.integers(15, 60)), float(rng.integers(1, 5)),
                           float(rng.integers(0, 20))) for j in range(5)}
        folder = tmp_path / str(i)
        case = load_case(_write(folder, hosts, 0.8, 2))
        result = solve(case)
        assert result.objective == pytest.approx(_every_subset_optimum(hosts, 0.8, 2),
                                                 rel=1e-7)


def test_the_checker_sorts_capacities(tmp_path: Path) -> None:
    import pandas as pd

    from solver.check.case_data import CaseData
    from solver.check.common import Tolerance

    case = load_case(_write(tmp_path, HOSTS, 1.0, 2))
    data = CaseData.of(case)
    # Built 50, 40, 35: losing the two largest leaves 35 < 60.
    pairs = pd.DataFrame({"partner": ["A", "B", "C"], "layer": ["chips"] * 3,
                          "k": [50.0, 40.0, 35.0], "trusted": [True] * 3})
    out: list = []
    check_resilience(data, pairs, out, Tolerance())
    assert [v.family for v in out] == ["resilience"]
    assert "without its 2 largest hosts (A, B: 90 units)" in out[0].message
    assert "rest of the built capacity is 35" in out[0].message
    out = []
    pairs.loc[len(pairs)] = ["D", "chips", 30.0, True]
    check_resilience(data, pairs, out, Tolerance())
    assert out == []


def test_k_at_least_the_hosts_is_found_before_solving(tmp_path: Path) -> None:
    three = {p: HOSTS[p] for p in "ABC"}
    case = load_case(_write(tmp_path, three, 0.5, 3))
    findings = find_infeasibilities(case)
    assert [(f.family, f.entity) for f in findings] == [("resilience", ("chips",))]
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(tmp_path / "case"), "--out", str(out)])
    assert result.exit_code == 3
    assert ("layer chips: resilience 0.5 (N-3 cover of 30) cannot hold; only 3 partners can "
            "host it, and losing 3 at once (resilience_k 3) leaves none") in result.stderr
    assert not out.exists()


def test_resilience_k_below_one_is_a_case_error(tmp_path: Path) -> None:
    _write(tmp_path, HOSTS, 0.5, 0)
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "case")])
    assert result.exit_code == 2
    assert "layers.csv" in result.stderr and "resilience_k" in result.stderr


def test_layers_table_reports_coverage_after_losing_k_hosts(tmp_path: Path) -> None:
    from solver.check.run import check_run

    case = load_case(_write(tmp_path, HOSTS, 0.7, 2))
    result = solve(case)
    row = result.layers.set_index("layer").loc["chips"]
    built = sorted((alloc(result, p, "chips", "capacity") for p in HOSTS), reverse=True)
    assert row["n1_coverage"] == pytest.approx(sum(built[1:]) / DEMAND)
    assert row["nk_coverage"] == pytest.approx(sum(built[2:]) / DEMAND)
    assert row["nk_coverage"] >= 0.7 - 1e-9  # what resilience 0.7 with K = 2 asks for
    out = result.write(tmp_path / "run")
    assert check_run(case, out) == []
    # A tampered N-k coverage is a report violation naming the column.
    layers = (out / "layers.csv").read_text().splitlines()
    cols = layers[0].split(",")
    cells = layers[1].split(",")
    cells[cols.index("nk_coverage")] = "0.99"
    (out / "layers.csv").write_text("\n".join([layers[0], ",".join(cells), *layers[2:]]) + "\n")
    assert any("nk_coverage" in v.message for v in check_run(case, out))


def test_no_nk_column_without_a_layer_beyond_n_1(tmp_path: Path) -> None:
    result = solve(load_case(_write(tmp_path, HOSTS, 0.7, 1)))
    assert "nk_coverage" not in result.layers
