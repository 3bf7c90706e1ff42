"""Ids are ids: a partner named NA (Namibia), None, null or nan is a partner everywhere.

pandas reads those words as missing values unless told otherwise; every CSV the tool writes
and reads back goes through :func:`solver.report.readback.read_csv`, which keeps them. The
sample case with Mexico renamed NA runs through every command, and each table read back
(a run folder, a sweep's allocations, a design stressed with ``--run``) still has NA in it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from solver.cli import main
from solver.errors import UsageError
from solver.report.readback import read_csv

try:
    from cases import DEMAND, LAYERS_NO_DEMAND, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import DEMAND, LAYERS_NO_DEMAND, write_case

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("NA", "None", "null", "nan")


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, ["-q", *map(str, args)])
    assert "Traceback" not in result.output
    return result


def rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as the csv module reads them: every cell the text written."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_reader_keeps_ids_and_only_an_empty_cell_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("partner,layer,lost,capacity,reason\nNA,None,null,1.5,\nnan,001,NA,,'=x\n")
    frame = read_csv(path)
    assert frame["partner"].tolist() == ["NA", "nan"]
    assert frame["layer"].tolist() == ["None", "001"]
    assert frame["lost"].tolist() == ["null", "NA"]
    assert frame["capacity"].iloc[0] == 1.5 and pd.isna(frame["capacity"].iloc[1])
    assert pd.isna(frame["reason"].iloc[0]) and frame["reason"].iloc[1] == "=x"
    text = read_csv(path, text=True)
    assert text["capacity"].tolist() == ["1.5", ""]
    assert read_csv(path, ids=["capacity"])["capacity"].iloc[0] == "1.5"


def test_the_reader_names_the_file_of_a_malformed_table(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('partner,layer\n"A,chips\n')
    with pytest.raises(UsageError, match=r"t\.csv: cannot be read as a table"):
        read_csv(path)
    path.write_bytes(b"partner\n\xff\n")
    with pytest.raises(UsageError, match=r"t\.csv: cannot be read as a table"):
        read_csv(path)
    path.write_text("partner,layer\n")
    with pytest.raises(UsageError, match=r"t\.csv: missing column\(s\) capacity"):
        read_csv(path, required=["partner", "capacity"])
    assert read_csv(path).columns.tolist() == ["partner", "layer"]
    path.write_text("")
    assert read_csv(path).empty


@pytest.fixture(scope="module")
def namibia(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample case with MX renamed NA, its shocks as scenarios.csv, and a model file."""
    folder = tmp_path_factory.mktemp("namibia")
    case = folder / "case"
    shutil.copytree(ROOT / "data" / "allied-ai-stack", case,
                    ignore=shutil.ignore_patterns("figures", "*.md"))
    shutil.move(case / "shocks" / "scenarios.csv", case / "scenarios.csv")
    shutil.rmtree(case / "shocks")
    renamed = 0
    for path in case.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            table = list(csv.reader(f))
        renamed += sum(cell == "MX" for line in table for cell in line)
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(
                [["NA" if cell == "MX" else cell for cell in line] for line in table])
    assert renamed > 10
    model = (ROOT / "models" / "allied-ai-stack.toml").read_text(encoding="utf-8")
    (folder / "model.toml").write_text(
        model.replace('case = "../data/allied-ai-stack"', 'case = "case"'), encoding="utf-8")
    return folder / "model.toml"


def test_the_sample_with_mexico_renamed_na_through_every_command(namibia: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path
    assert run("validate", namibia).exit_code == 0
    res = run("solve", namibia, "--out", out / "run", "--report", "--format", "xlsx")
    assert res.exit_code == 0, res.output
    hosted = [r for r in rows(out / "run" / "allocation.csv") if r["partner"] == "NA"]
    assert hosted and any(r["hosted"] == "True" for r in hosted)
    assert ">NA<" in (out / "run" / "report.html").read_text(encoding="utf-8")
    assert run("check", namibia, out / "run").exit_code == 0
    assert run("report", out / "run", "--out", out / "page.html").exit_code == 0

    # The design read back from the run folder is the design solved: the same losses.
    assert run("stress", namibia, "--partner", "NA", "--out", out / "fresh").exit_code == 0
    res = run("stress", namibia, "--partner", "NA", "--run", out / "run",
              "--out", out / "written")
    assert res.exit_code == 0, res.output
    assert rows(out / "written" / "stress.csv") == rows(out / "fresh" / "stress.csv")
    assert any(r["lost"] == "NA" for r in rows(out / "written" / "stress.csv"))
    res = run("stress", namibia, "--scenarios", "--run", out / "run", "--out", out / "shocks")
    assert res.exit_code == 0, res.output
    unmet = {r["scenario"]: float(r["unmet"]) for r in rows(out / "run" / "scenarios.csv")}
    again = {r["scenario"]: float(r["unmet"]) for r in rows(out / "shocks" / "scenarios.csv")}
    assert again == pytest.approx(unmet) and unmet["taiwan_strait"] > 0

    res = run("sweep", namibia, "--vary", "layers.max_share=0.45,0.5", "--no-plots",
              "--format", "xlsx", "--out", out / "sweep")
    assert res.exit_code == 0, res.output
    points = {r["point"] for r in rows(out / "sweep" / "allocations.csv") if r["partner"] == "NA"}
    assert points == {"0", "1"}
    res = run("compare", out / "sweep:1", out / "run", "--out", out / "compare.csv")
    assert res.exit_code == 0, res.output
    res = run("alternatives", namibia, "--count", "1", "--out", out / "alt")
    assert res.exit_code == 0, res.output
    res = run("compare", out / "run", out / "alt" / "alternative-1", "--out", out / "alt.csv")
    assert res.exit_code == 0, res.output
    na = [r for r in rows(out / "alt.csv") if r["section"] == "partner" and r["item"] == "NA"]
    assert na and all(r["a"] != "" and r["b"] != "" for r in na)
    res = run("frontier", namibia, "--trade-off", "partners[NA].min_participation",
              "--points", "2", "--tol", "0.05", "--to", "0.2", "--out", out / "frontier")
    assert res.exit_code == 0, res.output
    res = run("stress", namibia, "--sample", "5", "--out", out / "sample")
    assert res.exit_code == 0, res.output
    assert run("export", namibia, "--format", "lp", out / "m.lp").exit_code == 0
    assert "(NA," in (out / "m.lp").read_text(encoding="utf-8")


@pytest.mark.parametrize("word", WORDS)
def test_a_partner_named_like_a_missing_value_is_a_partner(word: str, tmp_path: Path) -> None:
    case = write_case(tmp_path / "case",
                      partners=f"partner,member,trust\n{word},true,0.9\nB,true,0.8\n"
                               "C,true,0.6\nX,false,0.5\n",
                      capabilities=f"partner,layer,capacity,unit_cost,fixed_cost\n"
                                   f"{word},chips,80,1.0,5\nB,chips,60,1.2,5\nC,chips,100,0.8,5\n"
                                   f"{word},cloud,50,2,1\nB,cloud,40,1.5,1\nX,cloud,30,1,1\n",
                      layers=LAYERS_NO_DEMAND, demand=DEMAND.replace("A,", f"{word},"))
    res = run("solve", case, "--out", tmp_path / "run", "--report")
    assert res.exit_code == 0, res.output
    assert any(r["partner"] == word and r["hosted"] == "True"
               for r in rows(tmp_path / "run" / "allocation.csv"))
    assert run("check", case, tmp_path / "run").exit_code == 0
    res = run("stress", case, "--run", tmp_path / "run", "--out", tmp_path / "stress")
    assert res.exit_code == 0, res.output
    assert any(r["lost"] == word for r in rows(tmp_path / "stress" / "stress.csv"))
    res = run("sweep", case, "--vary", "layers[chips].max_share=0.6,0.7", "--no-plots",
              "--out", tmp_path / "sweep")
    assert res.exit_code == 0, res.output
    assert {r["point"] for r in rows(tmp_path / "sweep" / "allocations.csv")
            if r["partner"] == word} == {"0", "1"}
    assert run("compare", tmp_path / "run", tmp_path / "sweep:0",
               "--out", tmp_path / "c.csv").exit_code == 0
    res = run("share", case, "--set", "objective.shortage_cost=10", "--out", tmp_path / "share")
    assert res.exit_code == 0, res.output
    assert word in [r["player"] for r in rows(tmp_path / "share" / "players.csv")]
