"""coalition compare: what changed between two runs (run folders or sweep points)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main
from solver.errors import UsageError
from solver.report.compare import compare_runs

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# A (cost 1) and B (cost 2) can host chips; with max_share 1 A takes all 10 (cost 10), with
# max_share 0.6 and two suppliers A takes 6 and B gains the layer with 4 (cost 14).
CASE = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand,min_suppliers,max_share\nchips,10,1,1\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n",
}


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = write_case(tmp_path / "case", **CASE)
    case = load_case(folder)
    a = solve(case).write(tmp_path / "a")
    tight = case.with_overrides({"layers.max_share": 0.6, "layers.min_suppliers": 2})
    b = solve(tight).write(tmp_path / "b")
    return folder, a, b


def test_compare_finds_costs_hosts_shares_layers_and_participation(runs):
    _, a, b = runs
    c = compare_runs(a, b)
    costs = c.costs.set_index("term")
    assert costs.loc["total", "a"] == pytest.approx(10)
    assert costs.loc["total", "b"] == pytest.approx(14)
    assert costs.loc["capacity", "change"] == pytest.approx(4)
    assert c.gained[["partner", "layer"]].values.tolist() == [["B", "chips"]]
    assert c.lost.empty
    hosts = c.hosts.set_index("partner")
    assert hosts.loc["A", "change"] == "share"
    assert hosts.loc["A", "share_a"] == pytest.approx(1.0)
    assert hosts.loc["A", "share_b"] == pytest.approx(0.6)
    layers = c.layers.set_index("metric")
    assert layers.loc["suppliers", ["a", "b"]].tolist() == [1, 2]
    assert layers.loc["hhi", "b"] == pytest.approx(0.6**2 + 0.4**2)
    assert layers.loc["n1_coverage", "a"] == pytest.approx(0.0)
    part = c.partners[c.partners["metric"] == "participation"].set_index("partner")
    assert part.loc["B", "change"] == pytest.approx(0.4)
    assert "1 hosts gained, 0 lost" in repr(c)


def test_compare_command_prints_and_writes_compare_csv(runs, tmp_path: Path):
    _, a, b = runs
    out = tmp_path / "compare.csv"
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "hosts: 1 gained, 0 lost" in result.output
    assert "total" in result.output and "+40.0%" in result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["section", "item", "metric", "a", "b", "change"]
    assert set(table["section"]) == {"cost", "host", "share", "layer", "partner"}
    gained = table[(table["section"] == "host") & (table["item"] == "B/chips")]
    assert gained["change"].tolist() == ["gained"]
    again = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output


def test_compare_two_sweep_points(runs, tmp_path: Path):
    folder, _, _ = runs
    sweep = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(folder), "--vary", "layers.max_share=1,0.6",
                                       "--set", "layers.min_suppliers=2", "--workers", "1",
                                       "--out", str(sweep), "--no-plots"])
    assert result.exit_code == 0, result.output
    c = compare_runs(f"{sweep}:0", f"{sweep}:1")
    assert c.costs.set_index("term").loc["total", "change"] > 0
    assert any("partners.csv" in n for n in c.notes)
    assert "layers_hosted" in set(c.partners["metric"])
    assert c.a.verified is True and c.b.verified is True
    # A point the checker rejected reads back as not verified, not as the text "False".
    table = (sweep / "sweep.csv").read_text().splitlines()
    head = table[0].split(",")
    at = head.index("verified")
    for line, flag in ((1, ""), (2, "False")):  # point 0 unknown, point 1 rejected
        cells = table[line].split(",")
        cells[at] = flag
        table[line] = ",".join(cells)
    (sweep / "sweep.csv").write_text("\n".join(table) + "\n")
    c = compare_runs(f"{sweep}:0", f"{sweep}:1")
    assert c.a.verified is None and c.b.verified is False
    assert "NOT verified" in str(c)


def test_compare_names_what_is_not_a_run(runs, tmp_path: Path):
    _, a, _ = runs
    with pytest.raises(UsageError, match="no such run folder"):
        compare_runs(a, tmp_path / "nothing")
    with pytest.raises(UsageError, match="not a run folder"):
        compare_runs(a, tmp_path)


def test_compare_without_out_prints_and_writes_nothing(runs, tmp_path: Path, monkeypatch):
    _, a, b = runs
    work = tmp_path / "here"
    work.mkdir()
    monkeypatch.chdir(work)
    for _ in range(2):  # a second compare is not refused for a file the first left
        result = CliRunner().invoke(main, ["compare", str(a), str(b)])
        assert result.exit_code == 0, result.output
        assert "hosts: 1 gained, 0 lost" in result.output
        assert "written" not in result.output
    assert list(work.iterdir()) == []
