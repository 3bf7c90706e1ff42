"""coalition report FOLDER: a self-contained page for every study folder the tool writes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from solver.cli import main

try:
    from test_report import PROBE, chromium
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.test_report import PROBE, chromium
    from tests.tiny import write_case

# Members X (builds chips at 3) and Y (at 5), outside supplier A (at 1, 10 units, risky).
CASE = {
    "partners": "partner,member,disruption_risk\nX,true,0.2\nY,true,0.3\nA,false,0.5\n",
    "layers": "layer,max_share\nchips,1\n",
    "capabilities": "partner,layer,capacity,unit_cost\nX,chips,30,3\nY,chips,30,5\n"
                    "A,chips,10,1\n",
    "demand": "member,layer,demand\nX,chips,10\nY,chips,10\n",
    "scenarios": "scenario,probability,partner\nlose_a,0.1,A\n",
}

#: Each study: the command that writes its folder and what its page must say.
STUDIES = {
    "sweep": (["sweep", "{case}", "--vary", "layers.max_share=0.6,1", "--vary",
               "capabilities[A,chips].unit_cost*=1,2", "--no-plots"],
              "4 points, 4 with a plan. The total cost runs from"),
    "stress": (["stress", "{case}"], "hurts most"),
    "sample": (["stress", "{case}", "--sample", "40", "--seed", "1"], "40 random disruptions"),
    "scenarios": (["stress", "{case}", "--scenarios"], "1 scenario; the worst, lose_a, leaves"),
    "frontier": (["frontier", "{case}", "--trade-off", "layers.max_share", "--points", "3"],
                 "The tightest feasible layers.max_share is"),
    "share": (["share", "{case}", "--set", "objective.shortage_cost=100"],
              "cooperation saves"),
    "alternatives": (["alternatives", "{case}", "--slack", "0.5", "--count", "1"],
                     "plans within 50% of the least cost"),
    "sensitivity": (["sensitivity", "{case}", "--param", "capabilities[A,chips].unit_cost*=1:3",
                     "--param", "layers.max_share=0.6:1", "--samples", "2", "--workers", "1"],
                    "capabilities[A,chips].unit_cost* moves the total cost most (mu* "),
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("studies")
    case = write_case(root / "case", **CASE)
    out = {}
    for name, (args, _) in STUDIES.items():
        folder = root / name
        result = CliRunner().invoke(main, [a.format(case=case) for a in args]
                                    + ["--out", str(folder), "-q"])
        assert result.exit_code == 0, (name, result.output)
        out[name] = folder
    return out


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_folder_has_a_page(folders: dict[str, Path], name: str) -> None:
    result = CliRunner().invoke(main, ["report", str(folders[name])])
    assert result.exit_code == 0, result.output
    page = (folders[name] / "report.html").read_text(encoding="utf-8")
    verdict = re.search(r'<p class="verdict">(.*?)</p>', page)
    assert verdict and STUDIES[name][1] in verdict[1], verdict
    assert page.count('<svg role="img"') >= 1 and "<table" in page
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_the_game_page_says_what_was_not_established(folders: dict[str, Path],
                                                      tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    for f in folders["share"].glob("*.csv"):
        (share / f.name).write_bytes(f.read_bytes())
    summary = json.loads((folders["share"] / "summary.json").read_text())
    summary.update(groups_evaluated=2, groups_total=3)
    (share / "summary.json").write_text(json.dumps(summary))
    assert CliRunner().invoke(main, ["report", str(share)]).exit_code == 0
    assert "Only 2 of 3 groups were evaluated" in (share / "report.html").read_text()


@pytest.mark.parametrize("name", ["frontier", "stress", "sample"])
def test_each_study_page_shows_the_unit_its_model_file_names(folders: dict[str, Path],
                                                            tmp_path: Path,
                                                            name: str) -> None:
    write_case(tmp_path / "case", **CASE)
    model = tmp_path / "chips.toml"
    model.write_text('case = "case"\nunit = "USD bn a year"\n', encoding="utf-8")
    out = tmp_path / name
    args = [a.format(case=model) for a in STUDIES[name][0]]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("(USD bn a year)") >= 2  # on the chart's axis or a table's header
    # The bare case folder names no unit: its page claims none.
    assert CliRunner().invoke(main, ["report", str(folders[name]), "--force"]).exit_code == 0
    assert "USD" not in (folders[name] / "report.html").read_text(encoding="utf-8")


def test_the_sensitivity_page_gives_each_output_its_unit_and_the_intervals(
        folders: dict[str, Path], tmp_path: Path) -> None:
    write_case(tmp_path / "case", **CASE)
    model = tmp_path / "chips.toml"
    model.write_text('case = "case"\nunit = "USD bn a year"\n', encoding="utf-8")
    out = tmp_path / "sensitivity"
    args = [a.format(case=model) for a in STUDIES["sensitivity"][0]]
    result = CliRunner().invoke(main, [*args, "--output", "share[X,chips]", "--out", str(out),
                                       "-q"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    verdict = re.search(r'<p class="verdict">(.*?)</p>', page)
    assert verdict and re.search(r"moves the total cost most \(mu\* [\d.]+ USD bn a year "
                                 r"\+/- [\d.e+-]+\)", verdict[1]), verdict
    assert "(USD bn a year)" in page  # the chart's axis
    table = page[page.index('id="indices-table"'):]
    assert "mu* conf." in table and "fraction of the layer&#x27;s demand" in table
    # The bare case folder names no unit: its page claims none.
    assert CliRunner().invoke(main, ["report", str(folders["sensitivity"]), "--force"]) \
        .exit_code == 0
    assert "USD" not in (folders["sensitivity"] / "report.html").read_text(encoding="utf-8")


def test_a_folder_that_holds_no_study_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert "no summary.json" in result.output


def test_every_study_page_renders_in_headless_chromium(folders: dict[str, Path],
                                                       tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium) to render pages")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000",
             "--dump-dom"]
    for name, folder in folders.items():
        if not (folder / "report.html").is_file():
            assert CliRunner().invoke(main, ["report", str(folder)]).exit_code == 0
        page = (folder / "report.html").read_text(encoding="utf-8")
        probe = tmp_path / f"{name}.html"
        probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        dom = subprocess.run([*flags, probe.as_uri()], capture_output=True, text=True,
                             timeout=180, check=True).stdout
        found = re.search(r"data-rendered=\"([^\"]+)\"", dom)
        assert found, (name, dom[:2000])
        rendered = json.loads(found[1].replace("&quot;", '"'))
        assert rendered["charts"] >= 1, name  # drawn at a readable size
        assert rendered["tables"] >= 1, name
        assert rendered["width"] <= 1280, name  # nothing spills out of the window
