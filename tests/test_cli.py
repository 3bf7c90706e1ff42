"""The ``coalition`` command line (SPEC sections 5 and 6), driven with click's CliRunner."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

import solver
from solver.cli import main

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

# Two members X and Y consume chips; outside suppliers A (unit cost 1) and B (2); shipping
# A -> Y costs 0.5 a unit. Optimum: A supplies X's 4 and Y's 6 at 1, plus 6 x 0.5 of trade:
# 10 + 3 = 13.
CASE = {
    "partners": "partner,member\nX,true\nY,true\nA,false\nB,false\n",
    "layers": "layer\nchips\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,1\nB,chips,100,2\n",
    "demand": "member,layer,demand\nX,chips,4\nY,chips,6\n",
    "trade": "exporter,importer,unit_cost\nA,Y,0.5\n",
}

#: SPEC section 5: the columns each output table has at least.
COLUMNS = {
    "allocation": ["partner", "layer", "hosted", "capacity", "supplied", "share", "unit_cost",
                   "fixed_cost", "cost"],
    "flows": ["exporter", "importer", "layer", "quantity", "unit_cost"],
    "layers": ["layer", "demand", "capacity", "supplied", "suppliers", "max_share", "hhi",
               "effective_suppliers", "n1_coverage", "surplus"],
    "partners": ["partner", "member", "value", "participation", "layers_hosted", "cost"],
}
KEYS = {"allocation": ["partner", "layer"], "flows": ["exporter", "importer", "layer"],
        "layers": ["layer"], "partners": ["partner"]}

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_UNVERIFIED = 0, 2, 3, 5


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    return write_case(tmp_path / "tiny", **CASE)


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def solve_to(case_dir: Path, out: Path, *extra: str) -> Result:
    result = invoke("solve", case_dir, "--out", out, *extra)
    assert result.exit_code == EXIT_OK, result.output
    return result


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_solve_writes_the_run_folder(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = solve_to(case_dir, out)
    assert "verified: yes" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "allocation.csv", "flows.csv", "layers.csv", "partners.csv", "summary.json"]
    for table, columns in COLUMNS.items():
        frame = pd.read_csv(out / f"{table}.csv")
        assert set(columns) <= set(frame.columns), table
        keys = frame[KEYS[table]].astype(str)
        assert keys.equals(keys.sort_values(KEYS[table]).reset_index(drop=True)), table
    flows = pd.read_csv(out / "flows.csv")
    assert flows[["exporter", "importer", "quantity"]].values.tolist() == [
        ["A", "X", 4.0], ["A", "Y", 6.0]]
    assert flows["unit_cost"].tolist() == [0.0, 0.5]
    allocation = pd.read_csv(out / "allocation.csv")
    assert len(allocation) == 2  # one row per capability pair, hosted or not
    partners = pd.read_csv(out / "partners.csv")
    assert partners["partner"].tolist() == ["A", "B", "X", "Y"]


def test_summary_json(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    solve_to(case_dir, out)
    s = summary(out)
    assert s["status"] == "optimal"
    assert s["objective"] == pytest.approx(13.0, rel=1e-9)
    assert s["bound"] == pytest.approx(13.0, rel=1e-4)
    assert 0 <= s["gap"] <= 1e-4
    assert set(s["costs"]) == {"fixed", "capacity", "trade", "redundancy", "risk",
                               "shortage"}
    assert s["costs"]["capacity"] == pytest.approx(10.0, rel=1e-9)
    assert s["costs"]["trade"] == pytest.approx(3.0, rel=1e-9)
    assert sum(s["costs"].values()) == pytest.approx(s["objective"], rel=1e-9)
    assert {"load", "build", "solve", "write"} <= set(s["seconds"])
    assert all(isinstance(v, float) and v >= 0 for v in s["seconds"].values())
    assert s["seconds"]["load"] > 0
    assert s["seconds"]["write"] > 0
    assert {"variables", "binaries", "constraints"} <= set(s["size"])
    assert s["size"]["binaries"] == 2  # y for (A, chips) and (B, chips)
    assert s["size"]["variables"] > s["size"]["binaries"]
    assert s["size"]["constraints"] > 0
    assert s["solver"]["name"] == "highs"
    assert re.fullmatch(r"\d+\.\d+\.\d+", s["solver"]["version"])
    assert re.fullmatch(r"[0-9a-f]{64}", s["case_sha256"])
    assert s["version"] == solver.__version__
    assert s["verified"] is True


def test_set_changes_the_run(case_dir: Path, tmp_path: Path) -> None:
    # No partner supplies more than 60% of 10: A 6 (4 to X, 2 to Y at 1.5), B 4 to Y at 2:
    # 4 + 3 + 8 = 15.
    out = tmp_path / "run"
    solve_to(case_dir, out, "--set", "layers.max_share=0.6")
    assert summary(out)["objective"] == pytest.approx(15.0, rel=1e-9)
    # Several --set, and *=: trade A -> Y at 4 x 0.5 = 2 makes A -> Y cost 3 > B's 2.
    out2 = tmp_path / "run2"
    solve_to(case_dir, out2, "--set", "trade[A,Y].unit_cost*=4", "--set", "objective.budget=100")
    assert summary(out2)["objective"] == pytest.approx(4 + 12, rel=1e-9)


def test_solver_options(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    solve_to(case_dir, out, "--time-limit", "30", "--mip-gap", "0", "--threads", "1")
    s = summary(out)
    assert s["status"] == "optimal"
    assert s["solver"]["time_limit"] == 30
    assert s["solver"]["mip_gap"] == 0


def test_refuses_an_existing_out_without_force(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = invoke("solve", case_dir, "--out", out)
    assert refused.exit_code == EXIT_INPUT
    assert "--force" in refused.output
    assert (out / "keep.txt").read_text() == "mine"
    assert not (out / "summary.json").exists()
    # --force replaces a run folder, never a folder holding anything else.
    forced = invoke("solve", case_dir, "--out", out, "--force")
    assert forced.exit_code == EXIT_INPUT
    assert f"{out} is not a run folder (it holds keep.txt)" in forced.output
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    solve_to(case_dir, out, "--force")
    first = (out / "summary.json").read_text()
    again = invoke("solve", case_dir, "--out", out, "--force", "--set", "layers.max_share=0.6")
    assert again.exit_code == EXIT_OK, again.output
    assert (out / "summary.json").read_text() != first
    assert (out.stat().st_mode & 0o777) == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_force_never_replaces_the_case_and_bad_out_paths_fail_before_solving(
        case_dir: Path, tmp_path: Path) -> None:
    before = sorted(p.name for p in case_dir.iterdir())
    result = invoke("solve", case_dir, "--out", case_dir, "--force")
    assert result.exit_code == EXIT_INPUT
    assert "is not a run folder" in result.output
    assert sorted(p.name for p in case_dir.iterdir()) == before
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    for out, message in ((a_file / "run", f"cannot make {a_file / 'run'}: {a_file} is not a "
                                          "folder"),
                         (a_file, f"{a_file} exists and is not a folder"),
                         (Path(""), "--out must name a run folder")):
        result = invoke("solve", case_dir, "--out", out, "--force")
        assert result.exit_code == EXIT_INPUT, (out, result.output)
        assert message in result.output
        assert "optimal" not in result.output  # refused before solving


@pytest.mark.parametrize("args", [
    ["solve", "{missing}"],
    ["solve", "{case}", "--set", "layers.max_shares=0.5"],
    ["solve", "{case}", "--set", "layers[gpu].max_share=0.5"],
    ["solve", "{case}", "--set", "layers.max_share=2"],
    ["solve", "{case}", "--mip-gap", "-1"],
    ["solve", "{case}", "--threads", "0"],
    ["solve", "{case}", "--bogus"],
    ["solve"],
    ["nosuchcommand"],
])
def test_bad_input_exits_2(case_dir: Path, tmp_path: Path, args: list[str]) -> None:
    filled = [a.format(case=case_dir, missing=tmp_path / "missing") for a in args]
    result = invoke(*filled, "--out", tmp_path / "run") if len(filled) > 1 else invoke(*filled)
    assert result.exit_code == EXIT_INPUT, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_invalid_case_is_one_clear_message(case_dir: Path, tmp_path: Path) -> None:
    (case_dir / "partners.csv").write_text("partner,member,trust\nX,true,2\nY,true,\n"
                                           "A,false,\nB,false,\n")
    result = invoke("solve", case_dir, "--out", tmp_path / "run")
    assert result.exit_code == EXIT_INPUT
    assert "partners.csv, line 2, column trust" in result.output
    assert "Traceback" not in result.output


def test_infeasible_exits_3(case_dir: Path, tmp_path: Path) -> None:
    # A and B are the only suppliers: three are impossible.
    result = invoke("solve", case_dir, "--out", tmp_path / "run", "--set",
                    "layers.min_suppliers=3")
    assert result.exit_code == EXIT_INFEASIBLE, result.output
    assert "infeasible" in result.output
    assert not (tmp_path / "run").exists()


def test_model_file(case_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "tight.toml").write_text(
        'case = "../tiny"\n[set]\n"layers.max_share" = 0.6\n[solver]\nmip_gap = 0\n')
    out = tmp_path / "run"
    solve_to(models / "tight.toml", out)
    s = summary(out)
    assert s["objective"] == pytest.approx(15.0, rel=1e-9)
    assert s["solver"]["mip_gap"] == 0


def test_help_and_version() -> None:
    for args in (["--help"], ["solve", "--help"], ["check", "--help"]):
        result = invoke(*args)
        assert result.exit_code == EXIT_OK
        assert "Usage:" in result.output
    version = invoke("--version")
    assert version.exit_code == EXIT_OK
    assert solver.__version__ in version.output
    assert "coalition" in version.output


def test_python_dash_m_solver() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "solver", "--help"], capture_output=True,
                          text=True, cwd=root, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: coalition")
    for command in ("solve", "validate", "check"):
        assert command in done.stdout


def test_check_accepts_a_fresh_run(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    solve_to(case_dir, out)
    result = invoke("check", case_dir, out)
    assert result.exit_code == EXIT_OK, result.output
    assert "verified" in result.output


def test_check_rejects_an_edited_flow(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    solve_to(case_dir, out)
    flows = pd.read_csv(out / "flows.csv")
    flows.loc[(flows["exporter"] == "A") & (flows["importer"] == "Y"), "quantity"] = 5.0
    flows.to_csv(out / "flows.csv", index=False)
    result = invoke("check", case_dir, out)
    assert result.exit_code == EXIT_UNVERIFIED, result.output
    assert "demand" in result.output  # Y now gets 5 of its 6


def test_check_rejects_an_edited_allocation(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    solve_to(case_dir, out)
    allocation = pd.read_csv(out / "allocation.csv")
    allocation.loc[allocation["partner"] == "A", "capacity"] = 3.0
    allocation.to_csv(out / "allocation.csv", index=False)
    result = invoke("check", case_dir, out)
    assert result.exit_code == EXIT_UNVERIFIED, result.output
    assert "capacity" in result.output


def test_check_against_the_run_overrides(case_dir: Path, tmp_path: Path) -> None:
    # The plan of max_share 0.6 (A supplies 6 of 10) holds against the same override...
    out = tmp_path / "run"
    solve_to(case_dir, out, "--set", "layers.max_share=0.6")
    assert invoke("check", case_dir, out, "--set", "layers.max_share=0.6").exit_code == 0
    # ... but not against a stricter one.
    tighter = invoke("check", case_dir, out, "--set", "layers.max_share=0.5")
    assert tighter.exit_code == EXIT_UNVERIFIED, tighter.output
    assert "concentration" in tighter.output
    # The summary says which overrides the run was solved with.
    assert ("note: the run was solved with overrides layers.max_share=0.6; checking with "
            "layers.max_share=0.5: pass the run's --set") in tighter.output
    assert "note:" not in invoke("check", case_dir, out, "--set",
                                 "layers.max_share=0.6").output


def test_a_closed_output_pipe_stops_quietly() -> None:
    # `coalition validate case | head -0`: the reader is gone before the first line.
    root = Path(__file__).resolve().parents[1]
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "solver", "validate",
                               str(root / "data" / "allied-ai-stack")],
                              stdout=write, stderr=subprocess.PIPE, text=True, check=False,
                              cwd=root)
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "models" / "allied-ai-stack.toml"


def test_the_sample_case_end_to_end(tmp_path: Path) -> None:
    # The "done when": every file of SPEC section 5, verified, accepted by check,
    # and a hand-edited copy rejected with exit 5 naming what is wrong.
    out = tmp_path / "baseline"
    result = invoke("solve", SAMPLE, "--out", out)
    assert result.exit_code == EXIT_OK, result.output
    assert "case Allied AI stack, baseline: optimal" in result.output
    assert "verified: yes" in result.output
    for name, columns in COLUMNS.items():
        frame = pd.read_csv(out / f"{name}.csv")
        assert set(columns) <= set(frame.columns), name
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["status"], summary["verified"]) == ("optimal", True)
    assert summary["gap"] <= 1e-4
    assert len(pd.read_csv(out / "layers.csv")) == 9
    assert len(pd.read_csv(out / "partners.csv")) == 21

    checked = invoke("check", SAMPLE, out)
    assert checked.exit_code == EXIT_OK, checked.output

    edited = tmp_path / "edited"
    edited.mkdir()
    for f in out.iterdir():
        (edited / f.name).write_bytes(f.read_bytes())
    layers = pd.read_csv(edited / "layers.csv")
    layers.loc[layers["layer"] == "semiconductors", "hhi"] = 0.1
    layers.to_csv(edited / "layers.csv", index=False)
    rejected = invoke("check", SAMPLE, edited)
    assert rejected.exit_code == EXIT_UNVERIFIED
    assert "layers.csv: hhi of layer semiconductors is 0.1" in rejected.output


def test_verbose_shows_the_highs_log_on_stderr(case_dir: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "solver", "-v", "solve", str(case_dir),
                           "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "MIP has 12 rows" in proc.stderr and "Solving report" in proc.stderr
    assert "HiGHS" not in proc.stdout


def test_solve_exits_5_when_the_checker_rejects_the_plan(case_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import solver.check.run
    from solver.check.run import Violation

    def reject(*args: object, **kwargs: object) -> list[Violation]:
        return [Violation("demand", "X,chips", 1.0, "layer chips: demand: X short by 1")]

    monkeypatch.setattr(solver.check.run, "check_solution", reject)
    result = invoke("solve", case_dir, "--out", tmp_path / "run")
    assert result.exit_code == EXIT_UNVERIFIED
    assert "layer chips: demand: X short by 1" in result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["verified"] is False


def test_numbers_that_multiply_beyond_what_highs_takes_are_bad_input(tmp_path: Path) -> None:
    # Each number is at most 1e12, but value x demand x a participation floor is 5e23.
    case = write_case(tmp_path / "big", partners="partner,min_participation\nA,0.5\nB,0\n",
                      layers="layer,demand,unit_value\nchips,1e12,1e12\n",
                      capabilities="partner,layer,capacity,unit_cost\nA,chips,1e12,1\n"
                                   "B,chips,1e12,1\n")
    result = invoke("solve", case, "--out", tmp_path / "run")
    assert result.exit_code == EXIT_INPUT, result.output
    assert ("error: the lower bound of row participation[0] is 5e+23, above 1e+19, where "
            "HiGHS takes numbers as infinite") in result.output
    assert not (tmp_path / "run").exists()


def test_quiet_and_verbose_work_after_the_command(case_dir: Path, tmp_path: Path) -> None:
    for name, command in main.commands.items():
        flags = {opt for p in command.params for opt in getattr(p, "opts", ())}
        assert {"-q", "-v", "--debug"} <= flags, f"coalition {name} lacks -q, -v or --debug"
    quiet = invoke("solve", case_dir, "--out", tmp_path / "quiet", "-q")
    assert quiet.exit_code == EXIT_OK, quiet.output
    assert quiet.output == "" and (tmp_path / "quiet" / "summary.json").is_file()
    proc = subprocess.run([sys.executable, "-m", "solver", "solve", str(case_dir),
                           "--out", str(tmp_path / "run"), "-v"], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "Solving report" in proc.stderr and "verified: yes" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["solve", "{case}", "--time-limit", "nan"],
     "error: Invalid value for '--time-limit': 'nan' is not a finite number."),
    (["solve", "{case}", "--bogus"], "error: No such option '--bogus'."),
    (["solve"], "error: Missing argument 'PATH'."),
    (["nosuchcommand"], "error: No such command 'nosuchcommand'."),
    (["sweep", "{case}", "--resume"], "error: --resume needs the --out folder"),
    (["solve", "{case}", "--set", "layers[chip].max_share=0.5"],
     "error: 1 problem in the case:\n  --set 1: layers[chip].max_share names no row of "
     "layers.csv; did you mean 'chips'?"),
    (["stress", "{case}", "--sample", "4", "--seed", "-1"],
     "error: Invalid value for '--seed': -1 is not in the range x>=0."),
    (["frontier", "{case}", "--trade-off", "layers.max_share", "--from", "nan"],
     "error: Invalid value for '--from': 'nan' is not a finite number."),
    (["stress", "{case}", "--run", "{case}"],
     "error: --run {case}: not a run folder (it has no allocation.csv)"),
    (["validate", "{case}", "--set", "layer.max_share=0.5"],
     "error: {case}: 1 problem:\n  --set 1: 'layer.max_share' names no table; did you mean "
     "'layers'?"),
])
def test_every_refusal_is_one_error_line(case_dir: Path, args: list[str], message: str) -> None:
    result = invoke(*[a.format(case=case_dir) for a in args])
    assert result.exit_code == EXIT_INPUT, result.output
    assert result.output.startswith(message.format(case=case_dir)), result.output
    assert "Usage:" not in result.output and "Error:" not in result.output


def test_workers_has_the_same_default_in_every_study() -> None:
    defaults = {name: p.default for name, command in main.commands.items()
                for p in command.params if p.name == "workers"}
    assert set(defaults) == {"sweep", "stress", "share", "alternatives", "sensitivity"}
    assert set(defaults.values()) == {1}, defaults


def test_a_bare_coalition_prints_its_help() -> None:
    result = invoke()
    assert result.exit_code == EXIT_OK
    assert result.output.startswith("Usage: ")  # the help, not "error: ..."
    assert "validate" in result.output  # the commands are listed
