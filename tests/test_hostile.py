"""A hostile or careless user: every mistake is answered, none is silently taken.

Each test drives the command line and asserts the exit code, the message and what is left
on disk (issue "Nothing silently wrong").
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from solver.cli import main

try:
    from cases import BASE, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import BASE, write_case

P, C = BASE["partners"], BASE["capabilities"]
#: BASE's capabilities with an empty min_capacity column.
C6 = "".join(line + ("," if i else ",min_capacity") + "\n"
             for i, line in enumerate(C.splitlines()))
SHORT = ("this row has {n} cells but the header has {want}; a missing cell is not taken as "
         "empty: write every comma (an empty cell between two commas takes the default)")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def stderr_lines(result: Result) -> list[str]:
    return [line.strip() for line in result.stderr.splitlines()]


# 1. A row with fewer cells than the header is bad input; an empty cell takes the default.

@pytest.mark.parametrize("tables, expected", [
    ({"partners": P.replace("B,Beta,true,0.8", "B,Beta")},
     "partners.csv, line 3: " + SHORT.format(n=2, want=4)),
    ({"capabilities": C6.replace("A,chips,80,1.0,5,", "A,chips,80,1.0")},
     "capabilities.csv, line 2: " + SHORT.format(n=4, want=6)),
    ({"partners": P.replace("\n", "\r\n").replace("A,Alpha,", 'A,"Alpha, the first",')
      .replace("C,Gamma,true,0.6", "C,Gamma,true")},
     "partners.csv, line 4: " + SHORT.format(n=3, want=4)),
])
@pytest.mark.parametrize("command", ["validate", "solve"])
def test_short_row_is_bad_input(tmp_path: Path, tables: dict[str, str], expected: str,
                                command: str) -> None:
    folder = write_case(tmp_path / "case", **tables)
    extra = ("--out", str(tmp_path / "run")) if command == "solve" else ()
    result = run(command, str(folder), *extra)
    assert result.exit_code == 2, result.output
    assert stderr_lines(result)[1:] == [expected]
    assert not (tmp_path / "run").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]


def test_short_row_is_one_problem_not_a_missing_value(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case",
                        capabilities=C.replace("B,chips,60,1.2,5", "B,chips"))
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert stderr_lines(result) == [f"error: {folder}: 1 problem:",
                                    "capabilities.csv, line 3: " + SHORT.format(n=2, want=5)]


def test_long_row_is_bad_input(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", partners=P.replace("B,Beta,true,0.8",
                                                              "B,Beta,true,0.8,extra"))
    result = run("solve", str(folder), "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert ("partners.csv, line 3: this row has 5 cells but the header has 4; quote a cell "
            "that contains a comma") in stderr_lines(result)
    assert not (tmp_path / "run").exists()


def test_empty_cells_take_the_default(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case",
                        partners=P.replace("B,Beta,true,0.8", "B,,true,"),
                        capabilities=C6.replace("A,chips,80,1.0,5,", "A,chips,80,1.0,,"))
    result = run("validate", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("case: valid (4 partners")


# 3. A number that is not finite is bad input, on the command line, in a model file and in
#    the library; nan is not "no limit".

@pytest.mark.parametrize(("command", "option"), [
    (command, option)
    for command in ("solve", "sweep", "stress", "frontier", "explain")
    for option in (("--time-limit", "nan"), ("--time-limit", "inf"), ("--mip-gap", "inf"),
                   ("--mip-gap", "nan"))
    if not (command == "explain" and option[0] == "--mip-gap")  # explain has no --mip-gap
])
def test_non_finite_option_is_bad_input(tmp_path: Path, command: str,
                                        option: tuple[str, str]) -> None:
    folder = write_case(tmp_path / "case")
    extra = {"sweep": ["--vary", "layers.max_share=0.5,0.6"],
             "frontier": ["--trade-off", "layers.max_share"]}.get(command, [])
    out = [] if command == "explain" else ["--out", str(tmp_path / "out")]
    result = run(command, str(folder), *option, *extra, *out)
    assert result.exit_code == 2, result.output
    assert f"{option[1]!r} is not a finite number" in result.stderr
    assert option[0] in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("line", ["mip_gap = nan", "mip_gap = inf", "time_limit = nan",
                                  "time_limit = inf"])
def test_non_finite_model_file_option_is_bad_input(tmp_path: Path, line: str) -> None:
    write_case(tmp_path / "case")
    model = tmp_path / "m.toml"
    model.write_text(f'case = "case"\n[solver]\n{line}\n', encoding="utf-8")
    result = run("validate", str(model))
    assert result.exit_code == 2, result.output
    assert "m.toml" in result.stderr and line.split()[0] in result.stderr
    assert "finite" in result.stderr


@pytest.mark.parametrize("arguments", [{"time_limit": float("nan")},
                                       {"time_limit": float("inf")},
                                       {"mip_gap": float("inf")}, {"mip_gap": float("nan")}])
def test_non_finite_library_argument_is_a_usage_error(tmp_path: Path,
                                                      arguments: dict[str, float]) -> None:
    from solver import UsageError, load_case, solve

    case = load_case(write_case(tmp_path / "case"))
    with pytest.raises(UsageError, match=next(iter(arguments))):
        solve(case, **arguments)  # type: ignore[arg-type]


# 2. The checker cannot be fooled: every number it compares is finite, every status known.

@pytest.fixture(scope="module")
def solved_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("solved")
    folder = write_case(root / "case")
    result = run("solve", str(folder), "--out", str(root / "run"))
    assert result.exit_code == 0, result.output
    return folder, root / "run"


@pytest.mark.parametrize("field, value", [
    ("objective", "NaN"), ("objective", "Infinity"), ("objective", "1e400"),
    ("bound", "NaN"), ("bound", "Infinity"), ("bound", "-1e400"),
    ("costs.fixed", "NaN"), ("costs.trade", "Infinity"), ("costs.capacity", "1e400"),
    ("status", '"foo"'), ("status", '"OPTIMAL"'),
])
def test_check_refuses_a_tampered_summary(tmp_path: Path, solved_run: tuple[Path, Path],
                                          field: str, value: str) -> None:
    import json
    import shutil

    folder, original = solved_run
    tampered = tmp_path / "run"
    shutil.copytree(original, tampered)
    summary = json.loads((tampered / "summary.json").read_text(encoding="utf-8"))
    marker = "__TAMPERED__"
    *parents, leaf = field.split(".")
    holder = summary
    for key in parents:
        holder = holder[key]
    holder[leaf] = marker
    text = json.dumps(summary).replace(f'"{marker}"', value)
    (tampered / "summary.json").write_text(text, encoding="utf-8")
    assert run("check", str(folder), str(original)).exit_code == 0
    result = run("check", str(folder), str(tampered))
    assert result.exit_code == 5, result.output
    assert "verified: yes" not in result.output
    assert "summary.json" in result.output + result.stderr
    assert (tampered / "summary.json").read_text(encoding="utf-8") == text


def _tampered(tmp_path: Path, original: Path) -> Path:
    import shutil

    tampered = tmp_path / "run"
    shutil.copytree(original, tampered)
    return tampered


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("status", ["infeasible", "no_solution", "unbounded", "interrupted",
                                    "error"])
def test_check_refuses_a_plan_under_a_status_that_means_no_plan(
        tmp_path: Path, solved_run: tuple[Path, Path], status: str) -> None:
    import json

    folder, original = solved_run
    tampered = _tampered(tmp_path, original)
    summary = json.loads((tampered / "summary.json").read_text(encoding="utf-8"))
    summary["status"] = status
    (tampered / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    before = _snapshot(tampered)
    result = run("check", str(folder), str(tampered))
    assert result.exit_code == 5, result.output
    assert "verified: yes" not in result.output
    lines = [line for line in result.output.splitlines()
             if f"summary.json: status {status!r} means the run has no plan" in line]
    assert len(lines) == 1, result.output + result.stderr
    assert "allocation.csv hosts, builds or supplies" in lines[0]
    assert _snapshot(tampered) == before


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-inf", "1e400", "-1e400"])
@pytest.mark.parametrize(("file", "column"), [
    ("allocation.csv", "capacity"), ("allocation.csv", "supplied"),
    ("allocation.csv", "hosted"), ("allocation.csv", "cost"), ("flows.csv", "quantity"),
])
def test_check_refuses_a_non_finite_cell_by_file_line_and_column(
        tmp_path: Path, solved_run: tuple[Path, Path], file: str, column: str,
        value: str) -> None:
    import csv

    folder, original = solved_run
    tampered = _tampered(tmp_path, original)
    with (tampered / file).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    at = rows[0].index(column)
    line = next(n for n, row in enumerate(rows[1:], start=2)
                if row[at] not in ("0", "False"))  # a cell that matters to the plan
    rows[line - 1][at] = value
    with (tampered / file).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    before = _snapshot(tampered)
    result = run("check", str(folder), str(tampered))
    assert result.exit_code == 5, result.output
    assert "verified: yes" not in result.output
    text = result.output
    if column == "hosted":
        expected = f"{file}, line {line}, column hosted: hosted of "
        assert expected in text and f"is {value!r}, not a true/false value" in text, text
    else:
        expected = f"{file}: column {column} has 1 missing, non-numeric or non-finite value(s): "
        assert expected in text, text
        assert f"line {line} (" in text and f") {value!r}; counted as 0" in text, text
    assert _snapshot(tampered) == before


def test_a_nan_comparison_counts_as_failed() -> None:
    import numpy as np

    from solver.check.common import TOLERANCE

    nan, inf = float("nan"), float("inf")
    assert TOLERANCE.over([nan, 1.0, inf, 1.0], [1.0, nan, inf, 2.0])[0].tolist() == [
        True, True, True, False]
    assert TOLERANCE.differ([nan, 1.0, inf, 1.0], [1.0, nan, inf, 1.0])[0].tolist() == [
        True, True, True, False]
    assert np.isnan(TOLERANCE.differ(nan, 0.0)[1])


# 5. Streams and special files: refused at once, by name, never read without end.

def _validate(folder: Path) -> subprocess.CompletedProcess[str]:
    # A subprocess with a timeout: a reader that waits on a FIFO fails the test, not hangs it.
    return subprocess.run([sys.executable, "-c", "from solver.cli import main; main()",
                           "validate", str(folder)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p.symlink_to("/dev/zero"), "is a device, not an ordinary file"),
    (lambda p: os.mkfifo(p), "is a FIFO (a pipe), not an ordinary file"),
    (lambda p: p.mkdir(), "is a folder, not an ordinary file"),
    (lambda p: p.symlink_to(p.name), "is a link loop"),
    (lambda p: p.symlink_to("nowhere.csv"), "is a link to nowhere.csv, which does not exist"),
])
def test_a_case_file_that_is_not_an_ordinary_file_is_refused(
        tmp_path: Path, make: Callable[[Path], object], words: str) -> None:
    folder = write_case(tmp_path / "case")
    target = folder / "trade.csv"
    target.unlink(missing_ok=True)
    make(target)
    done = _validate(folder)
    assert done.returncode == 2, done.stderr
    assert f"trade.csv: the file {words}" in done.stderr
    assert "missing" not in done.stderr and "Traceback" not in done.stderr


def test_a_file_longer_than_the_cap_is_refused_whatever_its_size_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from solver.case.files import FileRefused, read_capped

    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 101)
    with pytest.raises(FileRefused, match="larger than 100 bytes"):
        read_capped(big, 100)
    assert read_capped(big, 101) == b"x" * 101


def test_a_model_file_that_links_to_itself_is_a_link_loop(tmp_path: Path) -> None:
    model = tmp_path / "loop.toml"
    model.symlink_to(model.name)
    result = run("validate", str(model))
    assert result.exit_code == 2
    assert "loop.toml: the file is a link loop" in result.stderr


# 7. A bad cell is one problem: what other tables say about the row's id is not repeated.

def test_a_maybe_in_a_bool_column_is_one_problem_not_its_follow_ons(tmp_path: Path) -> None:
    import shutil

    # The sample: US is a member with nine demand rows, each "for a non-member" if US is not.
    folder = tmp_path / "case"
    shutil.copytree(Path(__file__).resolve().parent.parent / "data" / "allied-ai-stack", folder)
    partners = (folder / "partners.csv").read_text().splitlines()
    assert partners[1].startswith("US,United States,true,")
    partners[1] = partners[1].replace(",true,", ",maybe,", 1)
    (folder / "partners.csv").write_text("\n".join(partners) + "\n")
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        "  partners.csv, line 2, column member: 'maybe': not a true/false value "
        "(true/false, yes/no, 1/0)"]


# 6. Sizes and seeds out of range are bad input, refused before anything is allocated.

@pytest.mark.parametrize(("args", "words"), [
    (["--partners", "1000000000"], "--partners 1000000000: at most 2,000"),
    (["--layers", "100000"], "--layers 100000: at most 200"),
    (["--partners", "2000", "--members", "2000", "--layers", "200"], "at most 75,600,000"),
    (["--seed", "-1"], "-1 is not in the range 0<=x<=4294967295"),
])
def test_generate_refuses_sizes_and_seeds_out_of_range(tmp_path: Path, args: list[str],
                                                      words: str) -> None:
    result = run("generate", *args, str(tmp_path / "gen"))
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert not (tmp_path / "gen").exists()


def test_generate_case_refuses_a_negative_seed_in_the_library(tmp_path: Path) -> None:
    from solver.case.generate import generate_case
    from solver.errors import UsageError

    with pytest.raises(UsageError, match="--seed -1: a seed is a whole number"):
        generate_case(4, 2, 2, -1, tmp_path / "gen")


# 6. An output folder the system refuses is the user's to fix: exit 2, by name, before work.

@pytest.mark.parametrize("command", [
    ["solve"], ["sweep", "--vary", "layers.max_share=0.6,0.7", "--workers", "1"], ["stress"],
    ["frontier", "--trade-off", "layers.max_share", "--points", "2"],
])
@pytest.mark.parametrize("where", ["/proc/rt", "under a file"])
def test_an_output_folder_that_cannot_be_made_is_bad_input(
        tmp_path: Path, command: list[str], where: str) -> None:
    folder = write_case(tmp_path / "case")
    if where == "/proc/rt":
        if not Path("/proc").is_dir():
            pytest.skip("no /proc on this system")
        out, words = "/proc/rt", "cannot make /proc/rt: /proc does not let a folder be made in it"
    else:
        (tmp_path / "afile").write_text("not a folder\n", encoding="utf-8")
        out = str(tmp_path / "afile" / "rt")
        words = f"cannot make {out}: {tmp_path / 'afile'} is not a folder"
    result = run(command[0], str(folder), *command[1:], "--out", out)
    assert result.exit_code == 2, result.output
    assert [line for line in stderr_lines(result) if line.startswith("error:")] == [
        f"error: {words}" + (" (No such file or directory)" if where == "/proc/rt" else "")]
    assert "internal error" not in result.output
    assert "solves" not in result.stderr and "[1/" not in result.stderr  # refused before work
    assert not Path("/proc/rt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["case"] + (["afile"] if where != "/proc/rt" else []))


def _without_root_override() -> list[str]:
    """A command prefix under which root obeys permission bits (None: not possible here)."""
    import shutil

    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and no setpriv to drop CAP_DAC_OVERRIDE")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


def test_resume_in_a_read_only_folder_is_bad_input(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    out = tmp_path / "sweep"
    vary = ["--vary", "layers.max_share=0.6,0.7", "--workers", "1", "--no-plots"]
    assert run("sweep", str(folder), *vary, "--out", str(out)).exit_code == 0
    before = _snapshot(out)
    out.chmod(0o555)
    try:
        prefix = _without_root_override()
        done = subprocess.run([*prefix, sys.executable, "-c", "from solver.cli import main; "
                               "main()", "sweep", str(folder), *vary, "--resume", "--out",
                               str(out)], capture_output=True, text=True, timeout=300)
    finally:
        out.chmod(0o755)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: cannot write in {out}: Permission denied"], done.stderr
    assert _snapshot(out) == before


@pytest.mark.parametrize("what", ["sweep.json is a folder", "--out is a file"])
def test_resume_where_the_output_is_not_what_it_should_be_is_bad_input(
        tmp_path: Path, what: str) -> None:
    folder = write_case(tmp_path / "case")
    out = tmp_path / "sweep"
    if what == "--out is a file":
        out.write_text("x\n", encoding="utf-8")
        words = f"error: {out} exists and is not a folder: choose another --out"
    else:
        (out / "sweep.json").mkdir(parents=True)
        words = f"error: {out} holds no sweep (no sweep.json) to resume"
    result = run("sweep", str(folder), "--vary", "layers.max_share=0.6,0.7", "--workers", "1",
                 "--resume", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert [line for line in stderr_lines(result) if line.startswith("error:")] == [words]
    assert out.is_file() if what == "--out is a file" else (
        sorted(p.name for p in out.iterdir()) == ["sweep.json"])


# 6. A malformed --scheduler is refused before Dask is imported; one that does not answer
#    fails at once and leaves nothing that makes a plain rerun refuse.

SCHEDULER_COMMANDS = {
    "sweep": ["sweep", "{case}", "--vary", "layers.max_share=0.6,0.7"],
    "stress --sample": ["stress", "{case}", "--sample", "20"],
    "share": ["share", "{case}"],
}


@pytest.mark.parametrize("address, why", [
    ("not a url", "not an address"), ("tcp://", "no host"),
    ("tcp://host:notaport", "the port is not a number from 1 to 65535"),
    ("tcp://host:99999", "the port is not a number from 1 to 65535"),
    ("http://x:1", "http:// is not a Dask scheduler's protocol"), ("", "empty"),
    ("tcp://host", "no port"), ("tcp://ho st:1", "'ho st' is not a host name"),
])
@pytest.mark.parametrize("command", list(SCHEDULER_COMMANDS))
def test_a_malformed_scheduler_is_refused_before_dask(tmp_path: Path, address: str, why: str,
                                                      command: str) -> None:
    folder = write_case(tmp_path / "case")
    out = tmp_path / "out"
    args = [a.format(case=folder) for a in SCHEDULER_COMMANDS[command]]
    code = ("import sys; from solver.cli import main\n"
            "try:\n    main()\n"
            "finally:\n    print('dask imported' if 'distributed' in sys.modules "
            "else 'no dask', file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *args, "--scheduler", address,
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: --scheduler {address!r}: {why}; expected tcp://HOST:PORT (e.g. "
        "tcp://127.0.0.1:8786; tls:// for TLS)", "no dask"]
    assert not out.exists()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", list(SCHEDULER_COMMANDS))
def test_a_scheduler_that_does_not_answer_fails_fast_and_leaves_nothing(
        tmp_path: Path, command: str) -> None:
    folder = write_case(tmp_path / "case")
    if command == "share":  # the game needs member demand and a price of shortage
        try:
            from cases import DEMAND, LAYERS_NO_DEMAND
        except ModuleNotFoundError:
            from tests.cases import DEMAND, LAYERS_NO_DEMAND
        write_case(folder, demand=DEMAND, layers=LAYERS_NO_DEMAND)
        model = tmp_path / "m.toml"
        model.write_text('case = "case"\n[objective]\nshortage_cost = 1000\n', encoding="utf-8")
        folder = model
    out = tmp_path / "out"
    address = f"tcp://127.0.0.1:{_free_port()}"
    args = [a.format(case=folder) for a in SCHEDULER_COMMANDS[command]]
    result = run(*args, "--scheduler", address, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert [line for line in stderr_lines(result) if line.startswith("error:")] == [
        f"error: --scheduler {address}: cannot connect (Connection refused); is a Dask "
        "scheduler running there?"]
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    # A plain rerun in the same --out, with local workers, is not refused.
    again = run(*args, "--out", str(out))
    assert again.exit_code == 0, again.output
    assert any(out.iterdir())


def test_the_library_refuses_a_malformed_scheduler(tmp_path: Path) -> None:
    from solver import UsageError, load_case
    from solver.studies.sweep.sweep import sweep

    case = load_case(write_case(tmp_path / "case"))
    with pytest.raises(UsageError, match="expected tcp://HOST:PORT"):
        sweep(case, ["layers.max_share=0.6,0.7"], scheduler="tcp://", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# 7. A grid too large to mean it: a warning above 10,000 points, refused above 1,000,000
#    without --yes; counted from the axes, never materialised.

def _no_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    import solver.studies.sweep.sweep as sweep_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the grid was materialised")

    monkeypatch.setattr(sweep_module, "make_points", refuse)


AXIS = "layers.max_share=0:1:0.01"  # 101 values


def test_a_grid_past_the_hard_limit_is_refused_without_yes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_grid(monkeypatch)
    folder = write_case(tmp_path / "case")
    out = tmp_path / "out"
    result = run("sweep", str(folder), "--vary", AXIS, "--vary", "layers.demand=1:101:1",
                 "--vary", "layers.resilience=0:1:0.01", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert [line for line in stderr_lines(result) if line.startswith(("error:", "warning:"))] == [
        "error: --vary makes 101 x 101 x 101 = 1,030,301 points, more than the 1,000,000 a "
        "sweep runs without --yes; vary fewer values, or pass --yes to run them all"]
    assert not out.exists()
    # 10^20 points are counted as fast, from the axis lengths.
    huge = [f"--vary=capabilities[{p},{layer}].unit_cost=1:10000:1"
            for p, layer in (("A", "chips"), ("B", "chips"), ("C", "chips"), ("A", "cloud"),
                             ("B", "cloud"))]
    result = run("sweep", str(folder), *huge, "--out", str(out))
    assert result.exit_code == 2
    assert "= 100,000,000,000,000,000,000 points, more than the 1,000,000" in result.stderr
    assert not out.exists()


def test_a_grid_past_the_soft_limit_warns_with_its_count(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_grid(monkeypatch)
    folder = write_case(tmp_path / "case")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n", encoding="utf-8")
    # The warning comes first; the existing --out then stops the sweep before any solve.
    for extra, count in (([], "101 x 101 = 10,201"),
                         (["--vary", "layers.resilience=0:1:0.01", "--yes"],
                          "101 x 101 x 101 = 1,030,301")):
        result = run("sweep", str(folder), "--vary", AXIS, "--vary", "layers.demand=1:101:1",
                     *extra, "--out", str(out))
        assert result.exit_code == 2, result.output
        assert [line for line in stderr_lines(result)
                if line.startswith(("error:", "warning:"))] == [
            f"warning: --vary makes {count} points (more than 10,000); each is a solve",
            f"error: {out} already exists; pass --resume to continue the sweep in it, or "
            "--force to start again"]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_a_grid_under_the_soft_limit_says_nothing(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    result = run("sweep", str(folder), "--vary", "layers.max_share=0.6,0.7", "--workers", "1",
                 "--no-plots", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "warning: --vary" not in result.stderr


def test_the_hard_limit_is_in_the_help() -> None:
    result = run("sweep", "--help")
    assert "--yes" in result.output and "1,000,000" in result.output


def test_count_points_uses_the_axis_lengths() -> None:
    from solver.studies.sweep.grid import count_points, parse_vary

    axes = [parse_vary(AXIS), parse_vary("layers.demand=1,2,3")]
    assert count_points(axes, "grid") == 303
    assert count_points(axes, "one-at-a-time") == 1 + 101 + 3
