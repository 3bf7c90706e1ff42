"""coalition export: the model as LP or MPS, readable names, the same optimum in HiGHS alone."""

from __future__ import annotations

import csv
from pathlib import Path

import highspy
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main
from solver.errors import UsageError
from solver.highs.export import export_model, lp_name

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

SAMPLE = Path(__file__).resolve().parent.parent / "models" / "allied-ai-stack.toml"


def highs_alone(path: Path) -> highspy.Highs:
    """HiGHS reading the file itself, solving to an exact gap."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    h.setOptionValue("mip_rel_gap", 0.0)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h


@pytest.fixture(scope="module")
def sample_optimum() -> float:
    result = solve(load_case(SAMPLE), mip_gap=0.0)
    assert result.status == "optimal"
    return float(result.objective)


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_highs_alone_reaches_the_same_optimum(fmt: str, tmp_path: Path,
                                             sample_optimum: float):
    out = tmp_path / f"model.{fmt}"
    written = export_model(load_case(SAMPLE), out)
    assert written.format == fmt and written.integers > 0
    h = highs_alone(out)
    assert h.getInfo().objective_function_value == pytest.approx(sample_optimum, rel=1e-9)
    rows, cols = h.getLp().row_names_, h.getLp().col_names_
    if fmt == "mps":
        assert "demand[US,semiconductors]" in rows
        assert "y[TW,semiconductors]" in cols and "f[TW,US,semiconductors]" in cols
    else:
        assert "demand(US,semiconductors)" in rows
        assert "y(TW,semiconductors)" in cols


def test_odd_ids_stay_readable_in_both_formats(tmp_path: Path):
    case = write_case(tmp_path / "case", partners="partner\n-2-3\nb.x\n",
                      layers="layer,demand,min_suppliers,max_share\nchips,10,2,0.6\n",
                      capabilities="partner,layer,capacity,unit_cost\n-2-3,chips,100,1\n"
                                   "b.x,chips,100,2\n")
    for fmt in ("lp", "mps"):
        out = export_model(load_case(case), tmp_path / f"m.{fmt}").path
        h = highs_alone(out)
        assert h.getInfo().objective_function_value == pytest.approx(6 * 1 + 4 * 2)
        names = h.getLp().col_names_
        assert ("y[-2-3,chips]" if fmt == "mps" else "y(_2_3,chips)") in names
    assert lp_name("demand[US,semi conductors]") == "demand(US,semi_conductors)"


def test_export_command(tmp_path: Path):
    out = tmp_path / "allied.mps"
    result = CliRunner().invoke(main, ["export", str(SAMPLE), "--format", "mps", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"written: {out} (MPS, ")
    again = CliRunner().invoke(main, ["export", str(SAMPLE), str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    bad = CliRunner().invoke(main, ["export", str(SAMPLE), str(tmp_path / "m.txt")])
    assert bad.exit_code == 2 and "--format lp or --format mps" in bad.output
    with pytest.raises(UsageError):
        export_model(load_case(SAMPLE), tmp_path / "m", "gams")


def test_lp_names_longer_than_the_format_holds_are_shortened_with_a_map(tmp_path: Path):
    # A 300-character member id: its domestic flow f(ID,ID,chips) is over 600 characters,
    # which HiGHS's LP reader cuts, so that two columns became one.
    long_id = "N" * 300
    case = write_case(tmp_path / "case", partners=f"partner\n{long_id}\nB\n",
                      layers="layer,min_suppliers,max_share\nchips,2,0.6\ncloud,1,1\n",
                      capabilities=f"partner,layer,capacity,unit_cost\n{long_id},chips,100,1\n"
                                   f"B,chips,100,2\n{long_id},cloud,100,1\nB,cloud,100,3\n",
                      demand=f"member,layer,demand\n{long_id},chips,6\nB,chips,4\n"
                             f"{long_id},cloud,5\nB,cloud,5\n")
    result = CliRunner().invoke(main, ["export", str(case), str(tmp_path / "m.lp")])
    assert result.exit_code == 0, result.output
    assert f"written: {tmp_path / 'm.lp.names.csv'}" in result.output
    written = export_model(load_case(case), tmp_path / "again.lp")
    h = highs_alone(written.path)
    lp = h.getLp()
    assert (lp.num_col_, lp.num_row_) == (written.columns, written.rows)
    assert max(map(len, [*lp.col_names_, *lp.row_names_])) <= 255
    assert h.getInfo().objective_function_value == pytest.approx(solve(load_case(case)).objective)
    assert written.names is not None
    with written.names.open(newline="", encoding="utf-8") as f:
        full = {r["lp_name"]: r["name"] for r in csv.DictReader(f)}
    flows = [name for name in lp.col_names_ if name in full]
    assert len(flows) == len(set(flows)) >= 4
    assert f"f[{long_id},{long_id},chips]" in full.values()
