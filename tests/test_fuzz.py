"""Fuzzing input: no CSV cell, header, file or override string makes the tool crash.

Whatever a planner types, ``validate`` and ``solve`` answer with a message and exit 0
(valid / solved), 2 (bad input), 3 (infeasible) or 4 (no plan within limits), never with
a traceback (exit 1).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.cli import main

try:
    from cases import BASE, DEMAND, LAYERS_NO_DEMAND, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import BASE, DEMAND, LAYERS_NO_DEMAND, write_case

TABLES = {**BASE, "demand": DEMAND, "layers": LAYERS_NO_DEMAND,
          "trade": "exporter,importer,unit_cost,allowed\nA,B,0.5,true\nX,C,0.1,false\n"}

#: Examples per fuzz test; raise it for a thorough run: COALITION_FUZZ_EXAMPLES=2000 pytest ...
EXAMPLES = int(os.environ.get("COALITION_FUZZ_EXAMPLES", "25"))

SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

#: Strings that have broken CSV readers and number parsers somewhere.
NASTY = ["", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-320",
         "1e12", "1e15", "1e20", "1e300", "-1e300", "9007199254740993", "1e-300", "0x10",
         "1_000", "1,5",
         "１２", "٣", "+", "-", ".", "e5", "1e", "--1", "None", "null", "NA", "N/A", "true",
         "TRUE", "yes", "0", "-0", "1.0000000000000002", "9" * 400, "\"", "\"\"", "'", "\\",
         "\t", "\r", "\n", "\r\n", "\x00", "\x1b[31m", "\ufeff", "\u2028", "=1+1",
         "@SUM(A1)", "${HOME}", "$(ls)", "__import__('os')", "A B", "A,B", "\"A,B\"",
         "coalition", "*", "[", "]", "partner", "é", "🙂"]

cell = st.one_of(st.sampled_from(NASTY), st.text(max_size=30),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr),
                 st.integers(min_value=-10**30, max_value=10**30).map(str))


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_no_crash(result: Result, allowed: tuple[int, ...] = (0, 2, 3)) -> None:
    assert result.exit_code in allowed, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output


def _split(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.strip("\n").split("\n")]


def _join(rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in rows) + "\n"


def with_cell(table: str, row: int, col: int, value: str) -> dict[str, str]:
    rows = _split(TABLES[table])
    r = row % len(rows)
    c = col % len(rows[r])
    rows[r][c] = value
    return {**TABLES, table: _join(rows)}


@SETTINGS
@given(table=st.sampled_from(sorted(TABLES)), row=st.integers(0, 10), col=st.integers(0, 10),
       value=cell)
def test_any_cell_or_header(table: str, row: int, col: int, value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_case(Path(tmp) / "case", **with_cell(table, row, col, value))
        assert_no_crash(run("validate", str(folder)))


@SETTINGS
@given(table=st.sampled_from(sorted(TABLES)), data=st.binary(max_size=300))
def test_any_bytes_as_a_file(table: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_case(Path(tmp) / "case", **{**TABLES, table: data})
        assert_no_crash(run("validate", str(folder)))


@SETTINGS
@given(table=st.sampled_from(sorted(TABLES)),
       text=st.text(alphabet=st.sampled_from(list('ABCX01.,-"\n\r e')), max_size=120))
def test_any_csv_shaped_text_as_a_file(table: str, text: str) -> None:
    header = TABLES[table].split("\n", 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_case(Path(tmp) / "case", **{**TABLES, table: header + "\n" + text})
        assert_no_crash(run("validate", str(folder)))


KEYS = ["layers.max_share", "layers[chips].min_suppliers", "partners[A].trust",
        "capabilities[A,chips].capacity", "capabilities[*,cloud].unit_cost", "demand.demand",
        "demand[A,*].min_domestic", "trade.allowed", "partners.member", "partners.name",
        "objective.budget", "solver.threads", "solver.time_limit", "layers[*].min_trust",
        "trade[A,B].unit_cost", "layers.demand"]


@SETTINGS
@given(key=st.one_of(st.sampled_from(KEYS), st.text(max_size=30)),
       op=st.sampled_from(["=", "*=", "==", "", " = "]), value=cell)
def test_any_override(key: str, op: str, value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_case(Path(tmp) / "case", **TABLES)
        assert_no_crash(run("validate", str(folder), "--set", f"{key}{op}{value}"))


@SETTINGS
@given(text=st.text(max_size=60))
def test_any_override_string(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_case(Path(tmp) / "case", **TABLES)
        assert_no_crash(run("validate", str(folder), "--set", text))


@SETTINGS
@given(text=st.text(max_size=200))
def test_any_model_file(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_case(Path(tmp) / "data" / "c", **TABLES)
        models = Path(tmp) / "models"
        models.mkdir()
        (models / "m.toml").write_text('case = "../data/c"\n' + text, encoding="utf-8",
                                        errors="surrogatepass")
        assert_no_crash(run("validate", str(models / "m.toml")))


number = st.one_of(st.sampled_from(["0", "1", "0.5", "1e-9", "1e9", "1e15", "0.999999", ""]),
                   st.floats(min_value=0, max_value=1e6, allow_nan=False).map(repr))


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=st.sampled_from(["partners", "layers", "capabilities", "demand"]),
       row=st.integers(1, 10), col=st.integers(1, 10), value=number)
def test_any_number_through_solve(table: str, row: int, col: int, value: str) -> None:
    # Valid numbers reach the model and HiGHS: solved, infeasible (explained) or bad input.
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_case(Path(tmp) / "case", **with_cell(table, row, col, value))
        result = run("solve", str(folder), "--out", str(Path(tmp) / "run"),
                     "--time-limit", "20")
        assert_no_crash(result, allowed=(0, 2, 3, 4))
        assert (Path(tmp) / "run").exists() == (result.exit_code == 0)
