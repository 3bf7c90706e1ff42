"""report.html: one self-contained page of a run, checked in a real browser when one is here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from solver.cli import main

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

SAMPLE = Path(__file__).resolve().parent.parent / "models" / "allied-ai-stack.toml"

# Members X and Y, outside suppliers A (cost 1) and B (2); A ships to both.
CASE = {
    "partners": "partner,member\nX,true\nY,true\nA,false\nB,false\n",
    "layers": "layer,min_suppliers,max_share\nchips,2,0.7\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n",
    "demand": "member,layer,demand\nX,chips,4\nY,chips,6\n",
    "trade": "exporter,importer,unit_cost\nA,Y,0.5\n",
}

SECTIONS = ("status", "costs", "layers", "hosts", "flows", "participation")


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture
def run(tmp_path: Path) -> Path:
    case = write_case(tmp_path / "case", **CASE)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(case), "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    return out


def test_solve_report_writes_a_self_contained_page(run: Path):
    page = (run / "report.html").read_text(encoding="utf-8")
    for ident in SECTIONS:
        assert f'<section id="{ident}">' in page
    assert page.count('<svg role="img"') == 3  # cost split, flows, participation
    assert 'id="verified">verified by the independent checker' in page
    assert 'id="heatmap"' in page and "70%" in page  # A supplies 70% of chips
    # Nothing to fetch: no scripts, stylesheets, images or fonts from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_report_command_and_optional_tables(run: Path, tmp_path: Path):
    (run / "report.html").unlink()
    (run / "scenarios.csv").write_text("scenario,probability,unmet\nstrait,0.1,2.5\n",
                                       encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"written: {run / 'report.html'}"
    page = (run / "report.html").read_text(encoding="utf-8")
    assert '<section id="scenarios">' in page and "strait" in page
    bad = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert bad.exit_code == 2 and "no summary.json" in bad.output


def test_text_from_the_case_is_escaped(tmp_path: Path):
    case = write_case(tmp_path / "case", partners="partner\nA\n",
                      layers="layer,name,demand\nchips,<b>x</b>,5\n",
                      capabilities="partner,layer,capacity,unit_cost\nA,chips,10,1\n")
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", str(case), "--out", str(out),
                                     "--report"]).exit_code == 0
    assert "<b>x</b>" not in (out / "report.html").read_text(encoding="utf-8")


PROBE = """<script>
const box = e => e.getBoundingClientRect();
const charts = [...document.querySelectorAll('svg.chart')];
document.body.setAttribute('data-rendered', JSON.stringify({
  charts: charts.filter(s => box(s).width > 300 && box(s).height > 60).length,
  tables: [...document.querySelectorAll('table')].filter(t => t.rows.length > 1).length,
  cells: document.querySelectorAll('#heatmap td.cell[style]').length,
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  width: document.documentElement.scrollWidth}));
</script>"""


def test_the_page_renders_in_headless_chromium(tmp_path: Path):
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium) to render the page")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(SAMPLE), "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,4200"]
    dom = subprocess.run([*flags, "--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=180, check=True).stdout
    found = re.search(r"data-rendered=\"([^\"]+)\"", dom)
    assert found, dom[:2000]
    rendered = json.loads(found[1].replace("&quot;", '"'))
    assert rendered["charts"] == 3
    assert rendered["tables"] >= 5  # costs, layers, heat map, flows, partners
    assert rendered["cells"] >= 40  # the sample's hosting pairs, shaded
    assert rendered["sections"][:6] == list(SECTIONS)
    assert rendered["width"] <= 1280  # nothing spills out of the window
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", (out / "report.html").as_uri()],
                   capture_output=True, timeout=180, check=True)
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 4200)
    header = image.getpixel((20, 20))
    assert header == (0x14, 0x26, 0x3D)  # the dark header drew
    colours = {c for _, c in image.getcolors(maxcolors=1 << 20) or []}
    assert (0x2F, 0x6D, 0xB3) in colours  # the charts' blue bars drew
    assert len(colours) > 200  # text, charts and shading, not a blank page
