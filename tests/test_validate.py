"""Bad input: every fault gives its exact message and exit 2, from validate and from solve.

Each fault is one small change to the valid base case of ``tests/cases.py``. The message is
the line the planner reads (file, line, column, value, what is wrong); ``{folder}`` stands
for the case folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from solver.case import tables
from solver.case.loader import load_case
from solver.cli import main

try:
    from cases import BASE, DEMAND, LAYERS_NO_DEMAND, write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.cases import BASE, DEMAND, LAYERS_NO_DEMAND, write_case

P, L, C = BASE["partners"], BASE["layers"], BASE["capabilities"]
COLUMNS_OF_PARTNERS = ("partner, name, member, trust, min_participation, max_participation, "
                       "disruption_risk, bloc")


@dataclass
class Fault:
    """One fault: the tables that differ from BASE, extra CLI args, the expected message."""

    name: str
    tables: dict[str, str | bytes | None]
    message: str
    args: tuple[str, ...] = ()
    setup: Callable[[Path], None] | None = field(default=None)


def _stray_file(folder: Path) -> None:
    (folder / "partner.csv").write_text("partner\nA\n")


FAULTS = [
    Fault("missing file", {"partners": None},
          "partners.csv: required file is missing from {folder}"),
    Fault("missing column",
          {"capabilities": "partner,layer,capacity\nA,chips,80\nB,chips,60\nA,cloud,50\n"},
          "capabilities.csv, line 1, column unit_cost: required column is missing"),
    Fault("unknown column, did you mean", {"partners": P.replace("member", "membr")},
          "partners.csv, line 1, column membr: unknown column; did you mean 'member'? "
          f"(columns: {COLUMNS_OF_PARTNERS})"),
    Fault("not a number", {"capabilities": C.replace("A,chips,80", "A,chips,lots")},
          "capabilities.csv, line 2, column capacity: 'lots': not a number"),
    Fault("not a bool", {"partners": P.replace("B,Beta,true", "B,Beta,maybe")},
          "partners.csv, line 3, column member: 'maybe': not a true/false value "
          "(true/false, yes/no, 1/0)"),
    Fault("invalid id", {"partners": P.replace("C,Gamma", "C D,Gamma")},
          "partners.csv, line 4, column partner: 'C D': not a valid id (letters, digits, "
          "'_', '.', '-' only)"),
    Fault("NaN", {"partners": P.replace("0.8", "NaN")},
          "partners.csv, line 3, column trust: 'NaN': must be a finite number (NaN and "
          "infinity are not allowed)"),
    Fault("infinity", {"capabilities": C.replace("B,chips,60", "B,chips,inf")},
          "capabilities.csv, line 3, column capacity: 'inf': must be a finite number (NaN and "
          "infinity are not allowed)"),
    Fault("overflow to infinity", {"capabilities": C.replace("B,chips,60", "B,chips,1e400")},
          "capabilities.csv, line 3, column capacity: '1e400': must be a finite number (NaN "
          "and infinity are not allowed)"),
    Fault("fraction out of range", {"partners": P.replace("0.8", "1.5")},
          "partners.csv, line 3, column trust: '1.5': out of range: must be in [0, 1]"),
    Fault("negative cost", {"capabilities": C.replace("1.2,5", "-1.2,5")},
          "capabilities.csv, line 3, column unit_cost: '-1.2': out of range: must be >= 0"),
    Fault("max_share 0 (open bound)", {"layers": L.replace("100,2,0.6", "100,2,0")},
          "layers.csv, line 2, column max_share: '0': out of range: must be in (0, 1]"),
    Fault("not a whole number", {"layers": L.replace("100,2,0.6", "100,2.5,0.6")},
          "layers.csv, line 2, column min_suppliers: '2.5': must be a whole number"),
    Fault("whole number too large", {"layers": L.replace("100,2,0.6", "100,1e20,0.6")},
          "layers.csv, line 2, column min_suppliers: '1e20': too large: at most 1e12; use a "
          "larger unit (thousands, millions)"),
    Fault("number too large for HiGHS", {"capabilities": C.replace("A,chips,80", "A,chips,1e15")},
          "capabilities.csv, line 2, column capacity: '1e15': too large: at most 1e12; use a "
          "larger unit (thousands, millions)"),
    Fault("required value empty", {"capabilities": C.replace("B,chips,60", "B,chips,")},
          "capabilities.csv, line 3, column capacity: '': a value is required"),
    Fault("duplicate key", {"partners": P + "A,Again,true,0.9\n"},
          "partners.csv, line 6, column partner: 'A': duplicate key (partner); first given on "
          "line 2"),
    Fault("duplicate pair", {"capabilities": C + "A,chips,10,1,1\n"},
          "capabilities.csv, line 8, column partner,layer: 'A,chips': duplicate key (partner, "
          "layer); first given on line 2"),
    Fault("capability names no partner", {"capabilities": C + "Z,chips,10,1,1\n"},
          "capabilities.csv, line 8, column partner: 'Z': names no partner of partners.csv"),
    Fault("capability names no layer", {"capabilities": C + "A,chipz,10,1,1\n"},
          "capabilities.csv, line 8, column layer: 'chipz': names no layer of layers.csv"),
    Fault("demand names no partner",
          {"layers": LAYERS_NO_DEMAND, "demand": DEMAND + "Q,cloud,5\n"},
          "demand.csv, line 6, column member: 'Q': names no partner of partners.csv"),
    Fault("demand for a non-member",
          {"layers": LAYERS_NO_DEMAND, "demand": DEMAND + "X,cloud,5\n"},
          "demand.csv, line 6, column member: 'X': demand for a non-member: only partners "
          "with member = true may carry demand"),
    Fault("demand names no layer",
          {"layers": LAYERS_NO_DEMAND, "demand": DEMAND + "A,clod,5\n"},
          "demand.csv, line 6, column layer: 'clod': names no layer of layers.csv"),
    Fault("trade names no exporter", {"trade": "exporter,importer,unit_cost\nZZ,A,1\n"},
          "trade.csv, line 2, column exporter: 'ZZ': names no partner of partners.csv"),
    Fault("trade names no importer", {"trade": "exporter,importer,unit_cost\nA,ZZ,1\n"},
          "trade.csv, line 2, column importer: 'ZZ': names no partner of partners.csv"),
    Fault("trade to oneself", {"trade": "exporter,importer,unit_cost\nA,A,1\n"},
          "trade.csv, line 2, column importer: 'A': exporter = importer: supply to oneself is "
          "domestic, always allowed at zero cost; remove this row"),
    Fault("min_capacity above capacity",
          {"capabilities": C.replace("fixed_cost\n", "fixed_cost,min_capacity\n")
           .replace("A,chips,80,1.0,5", "A,chips,80,1.0,5,90")},
          "capabilities.csv, line 2, column min_capacity: '90': min_capacity is above capacity "
          "(80)"),
    Fault("layers.demand contradicts demand.csv",
          {"demand": DEMAND.replace("A,chips,60", "A,chips,70")},
          "layers.csv, line 2, column demand: '100': contradicts demand.csv, whose rows for "
          "this layer sum to 110; leave it empty or make them agree"),
    Fault("min_participation above max_participation",
          {"partners": "partner,min_participation,max_participation\nA,0.5,0.4\nB,,\nC,,\n"
                       "X,,\n"},
          "partners.csv, line 2, column min_participation: '0.5': min_participation is above "
          "max_participation (0.4)"),
    Fault("no demand at all", {"layers": LAYERS_NO_DEMAND},
          "layers.csv, column demand: no demand: give layers.demand or a demand.csv"),
    Fault("header but no rows", {"partners": "partner,name\n"},
          "partners.csv: the table has a header but no data rows"),
    Fault("demand.csv with a header but no rows",
          {"layers": LAYERS_NO_DEMAND, "demand": "member,layer,demand\n"},
          "demand.csv: no demand: the table has a header but no rows; give its rows, or "
          "remove it and give layers.demand"),
    Fault("empty file", {"trade": ""},
          "trade.csv: the file is empty: it needs a header row and data rows"),
    Fault("blank first line", {"partners": "\n" + P},
          "partners.csv, line 1: the first line is empty: it must be the header row "
          f"({COLUMNS_OF_PARTNERS})"),
    Fault("not UTF-8", {"partners": P.replace("Gamma", "Zürich").encode("latin-1")},
          "partners.csv, line 4: not UTF-8 text (byte 0xfc at offset 62); save the file as "
          "UTF-8"),
    Fault("UTF-16", {"partners": P.encode("utf-16")},
          "partners.csv: the file is UTF-16 text; save it as UTF-8 (in Excel: CSV UTF-8)"),
    Fault("Excel workbook", {"layers": b"PK\x03\x04\x14\x00\x06\x00"},
          "layers.csv: the file is a zip archive (an Excel workbook?), not CSV text; export "
          "it as CSV UTF-8"),
    Fault("NUL bytes", {"partners": P.encode() + b"\x00\n"},
          "partners.csv: contains NUL bytes: not a CSV text file"),
    Fault("row with too many cells", {"layers": L.replace("cloud,50,1,1,0", "cloud,50,1,1,0,7")},
          "layers.csv, line 3: this row has 6 cells but the header has 5; quote a cell that "
          "contains a comma"),
    Fault("unclosed quote", {"partners": P.replace("Beta", '"Beta')},
          "partners.csv, line 3: a quoted cell is never closed (a '\"' is missing)"),
    Fault("semicolons", {"partners": P.replace(",", ";")},
          "partners.csv, line 1: 'partner;name;member;trust': the header is a single cell: "
          "separate columns with commas, not ';'"),
    Fault("duplicate column", {"partners": P.replace("member,trust", "member,member")},
          "partners.csv, line 1, column member: column appears more than once"),
    Fault("trailing comma", {"layers": L.replace("\n", ",\n")},
          "layers.csv, line 1: header cell 6 is empty (a trailing comma?)"),
    Fault("stray file", {}, "partner.csv: not a case file; did you mean partners.csv? (case "
          "files: partners.csv, layers.csv, capabilities.csv, demand.csv, trade.csv, "
          "scenarios.csv, inputs.csv, periods.csv, targets.csv, markets.csv)",
          setup=_stray_file),
    Fault("override names nothing", {},
          "--set 1: 'layers.maxshare' names no column of layers; did you mean 'max_share'? "
          "(columns: name, demand, unit_value, min_suppliers, min_supplier_share, max_share, "
          "min_trust, resilience, resilience_k, redundancy_cost, max_surplus)",
          args=("--set", "layers.maxshare=0.3")),
    Fault("override row with a typo", {},
          "--set 1: layers[chip].max_share names no row of layers.csv; did you mean 'chips'?",
          args=("--set", "layers[chip].max_share=0.3")),
    Fault("override table with a typo", {},
          "--set 1: 'layer.max_share' names no table; did you mean 'layers'? (tables: "
          "partners, layers, capabilities, demand, trade, scenarios, inputs, periods, targets, "
          "markets, objective, solver)",
          args=("--set", "layer.max_share=0.3")),
    Fault("override is never evaluated", {},
          "--set 1: layers.max_share: \"__import__('os').getcwd()\" is not a number",
          args=("--set", "layers.max_share=__import__('os').getcwd()")),
    Fault("override out of range", {},
          "--set 1: layers[chips].max_share = 2: out of range: must be in (0, 1]",
          args=("--set", "layers[chips].max_share=2")),
    Fault("override whole number too large", {},
          "--set 1: layers.min_suppliers: '1e20' is too large for a whole number",
          args=("--set", "layers.min_suppliers=1e20")),
    Fault("override product too large", {},
          "--set 1: layers.min_suppliers*=1e+300 gives 2e+300: too large for a whole number (at "
          "most 2^53)", args=("--set", "layers.min_suppliers*=1e300")),
    Fault("override too large for HiGHS", {},
          "--set 1: capabilities[A,chips].capacity = 8e+14: too large: at most 1e12; use a "
          "larger unit (thousands, millions)",
          args=("--set", "capabilities[A,chips].capacity*=1e13")),
    Fault("override row that does not exist", {},
          "--set 1: partners[Q].trust names no row of partners.csv",
          args=("--set", "partners[Q].trust=0.5")),
    Fault("reserved partner id", {"partners": P + "coalition,Us,false,0.5\n"},
          "partners.csv, line 6, column partner: 'coalition': 'coalition' is reserved for the "
          "single consumer of a case without demand.csv; rename the partner"),
    Fault("override number with underscores", {},
          "--set 1: layers.max_share: '1_0' is not a number",
          args=("--set", "layers.max_share=1_0")),
]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("command", ["validate", "solve"])
def test_fault(tmp_path: Path, fault: Fault, command: str) -> None:
    folder = write_case(tmp_path / "case", **fault.tables)
    if fault.setup:
        fault.setup(folder)
    extra = ("--out", str(tmp_path / "run")) if command == "solve" else ()
    result = run(command, str(folder), *fault.args, *extra)
    assert result.exit_code == 2, result.output
    expected = fault.message.format(folder=folder)
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert any(line.endswith(expected) for line in lines), result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_there_are_at_least_25_distinct_faults() -> None:
    assert len({f.message for f in FAULTS}) >= 25


def test_every_problem_in_one_pass(tmp_path: Path) -> None:
    folder = write_case(
        tmp_path / "case",
        partners=P.replace("0.8", "1.5"),
        layers=L.replace("100,2,0.6", "100,2,0"),
        capabilities=C.replace("A,chips,80,1.0,5", "Z,chips,80,1.0,5")
        .replace("B,chips,60", "B,chips,lots"),
        demand=DEMAND.replace("A,chips,60", "X,chips,60").replace("B,chips,40", "B,chips,45"),
    )
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {folder}: 6 problems:"
    for expected in [
        "partners.csv, line 3, column trust: '1.5': out of range: must be in [0, 1]",
        "layers.csv, line 2, column max_share: '0': out of range: must be in (0, 1]",
        "capabilities.csv, line 3, column capacity: 'lots': not a number",
        "capabilities.csv, line 2, column partner: 'Z': names no partner of partners.csv",
        "demand.csv, line 2, column member: 'X': demand for a non-member: only partners with "
        "member = true may carry demand",
        "layers.csv, line 2, column demand: '100': contradicts demand.csv, whose rows for this "
        "layer sum to 105; leave it empty or make them agree",
    ]:
        assert f"  {expected}" in result.stderr.splitlines(), expected


def test_problems_of_one_kind_are_capped(tmp_path: Path) -> None:
    rows = "".join(f"P{i},x\n" for i in range(250))
    folder = write_case(tmp_path / "case", partners=P + rows.replace(",x", ",,x,"))
    result = run("validate", str(folder))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert sum("not a true/false value" in line for line in lines) == 101
    assert ("  partners.csv, column member: ... and 150 more lines with the same problem: "
            "not a true/false value (true/false, yes/no, 1/0)") in lines


def test_problems_across_tables_are_capped(tmp_path: Path) -> None:
    rows = "".join(f"Q{i},chips,1,1,1\n" for i in range(150))
    folder = write_case(tmp_path / "case", capabilities=C + rows)
    result = run("validate", str(folder))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {folder}: 101 problems:"
    assert lines[-1] == ("  capabilities.csv, column partner: ... and 50 more lines with the "
                         "same problem: names no partner of partners.csv")


def test_huge_file_is_refused_without_reading_it_whole(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "MAX_FILE_BYTES", 100)
    folder = write_case(tmp_path / "case")
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert ("  capabilities.csv: the file is larger than 100 bytes, the most a case file may "
            "be") in result.stderr.splitlines()


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", partners=P.replace("0.8", "x" * 500))
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert f"column trust: '{'x' * 57}...': not a number" in result.stderr


def test_bom_whitespace_crlf_and_quotes_are_accepted(tmp_path: Path) -> None:
    partners = ("\ufeffpartner , name,member , trust\r\n"
                ' A , "Alpha, the first" , YES , 0.9 \r\n'
                "\r\n"
                'B,"Be\r\nta",true,0.8\r\n'
                "C,Gamma, no ,0.6\r\n"
                "X,Outside,false,0.5\r\n")
    folder = write_case(tmp_path / "case", partners=partners.encode("utf-8"))
    result = run("validate", str(folder))
    assert result.exit_code == 0, result.output
    assert "case: valid (4 partners" in result.stdout
    case = load_case(folder)
    p = case.partners.set_index("partner")
    assert p.loc["A", "name"] == "Alpha, the first"
    assert p.loc["A", "trust"] == 0.9
    assert not p.loc["C", "member"]


def test_line_numbers_count_line_breaks_inside_quotes(tmp_path: Path) -> None:
    partners = 'partner,name,trust\nA,"Al\npha",0.9\nB,Beta,2\nC,,\nX,,\n'
    folder = write_case(tmp_path / "case", partners=partners)
    result = run("validate", str(folder))
    assert "  partners.csv, line 4, column trust: '2': out of range: must be in [0, 1]" in \
        result.stderr.splitlines()


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", partners=None)
    (folder / "partners.csv").mkdir()
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert "partners.csv: the file is a folder, not an ordinary file" in result.stderr


def test_validate_valid_case(tmp_path: Path) -> None:
    result = run("validate", str(write_case(tmp_path / "case")))
    assert result.exit_code == 0
    assert result.stdout == ("case: valid (4 partners, 2 layers, 6 capabilities, 2 demand "
                             "rows, 0 trade rows)\n")


def test_help_documents_the_exit_codes() -> None:
    text = " ".join(run("validate", "--help").stdout.split())
    assert ("Exit codes: 0 the inputs are valid and no obvious infeasibility was found; 2 bad "
            "input, every problem listed with file, line, column and value; 3 the inputs are "
            "valid but the case cannot be feasible (with the numbers).") in text
    text = " ".join(run("explain", "--help").stdout.split())
    assert "Exit codes: 0 the case is feasible, 2 bad input, 3 infeasible" in text


def test_validate_finds_infeasibility_exit_3(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case")
    result = run("validate", str(folder), "--set", "layers.min_suppliers=3")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "case: the inputs are valid, but the case cannot be feasible:",
        "  layer chips: min_suppliers 3 cannot hold; at most 2 partners with trust >= 0.7 can "
        "supply it (short by 1)",
    ]


# Model files: the case path may not escape; content is parsed, never evaluated.

def _project(tmp_path: Path, model: str) -> Path:
    write_case(tmp_path / "project" / "data" / "c")
    models = tmp_path / "project" / "models"
    models.mkdir(parents=True)
    (models / "m.toml").write_text(model, encoding="utf-8")
    return models / "m.toml"


def test_model_file_inside_project_is_accepted(tmp_path: Path) -> None:
    path = _project(tmp_path, 'case = "../data/c"\n[set]\n"layers[chips].max_share" = 0.55\n')
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert load_case(path).layers.set_index("layer").loc["chips", "max_share"] == 0.55


@pytest.mark.parametrize("case_path, message", [
    ("/etc", "m.toml: case = '/etc': an absolute path is not allowed in a model file; pass "
             "the folder on the command line instead"),
    ("../../outside", "m.toml: case = '../../outside' leaves the project folder 'project'; "
                      "pass the folder on the command line instead"),
    ("../data/../../outside", "m.toml: case = '../data/../../outside' leaves the project "
                              "folder 'project'; pass the folder on the command line instead"),
])
def test_model_file_case_may_not_escape(tmp_path: Path, case_path: str, message: str) -> None:
    write_case(tmp_path / "outside")
    path = _project(tmp_path, f'case = "{case_path}"\n')
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [f"  {message}"]
    # The same folder passed on the command line is the user's choice, and allowed.
    assert run("validate", str(tmp_path / "outside")).exit_code == 0


def test_model_file_escape_through_symlink(tmp_path: Path) -> None:
    write_case(tmp_path / "outside")
    path = _project(tmp_path, 'case = "../data/link"\n')
    (tmp_path / "project" / "data" / "link").symlink_to(tmp_path / "outside")
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "leaves the project folder 'project'" in result.stderr


@pytest.mark.parametrize("model, message", [
    ('case = "../data/c"\nname = [1,\n', "m.toml: not valid TOML: "),
    ('case = "../data/c"\nsolver = { time_limt = 5 }\n', "m.toml: solver.time_limt: Extra "
                                                          "inputs are not permitted"),
    ('case = "../data/c"\n[set]\n"layers.max_share" = "__import__(\'os\').getcwd()"\n',
     "m.toml, line 3: layers.max_share: \"__import__('os').getcwd()\" is not a number"),
    ('case = "../data/c"\n[set]\n"layers.max_share" = [1, 2]\n',
     "m.toml, line 3: layers.max_share: [1, 2] is not a number"),
    ('case = "../data/nothing"\n', "m.toml: case = '../data/nothing': no such case folder"),
    ("name = " + "[" * 5000 + "\n", "m.toml: not valid TOML"),
])
def test_bad_model_file(tmp_path: Path, model: str, message: str) -> None:
    path = _project(tmp_path, model)
    result = run("validate", str(path))
    assert result.exit_code == 2, result.output
    assert any(line.strip().startswith(message) for line in result.stderr.splitlines()), \
        result.stderr


def test_model_file_with_bom(tmp_path: Path) -> None:
    path = _project(tmp_path, "")
    path.write_bytes(b'\xef\xbb\xbfcase = "../data/c"\n')
    assert run("validate", str(path)).exit_code == 0


def test_model_file_not_utf8(tmp_path: Path) -> None:
    path = _project(tmp_path, "")
    path.write_bytes(b'case = "../data/c"\nname = "Z\xfcrich"\n')
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "  m.toml: not UTF-8 text" in result.stderr.splitlines()


def test_path_that_is_not_a_case(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run("validate", str(tmp_path / "notes.txt"))
    assert result.exit_code == 2
    assert "not a case folder, an .xlsx workbook or a .toml model file" in result.stderr
    assert run("validate", str(tmp_path / "missing")).exit_code == 2


@pytest.mark.parametrize("table", ["trade", "scenarios"])
def test_an_optional_table_with_a_header_and_no_rows_is_an_empty_table(tmp_path: Path,
                                                                       table: str) -> None:
    header = {"trade": "exporter,importer,unit_cost,allowed\n",
              "scenarios": "scenario,probability,partner,capacity_factor\n"}[table]
    without = CliRunner().invoke(main, ["solve", str(write_case(tmp_path / "a")),
                                        "--out", str(tmp_path / "a-run")])
    assert without.exit_code == 0, without.output
    folder = write_case(tmp_path / "b", **{table: header})
    assert len(load_case(folder).table(table)) == 0
    result = CliRunner().invoke(main, ["solve", str(folder), "--out", str(tmp_path / "b-run")])
    assert result.exit_code == 0, result.output
    a, b = ((tmp_path / f"{x}-run" / "allocation.csv").read_text() for x in "ab")
    assert a == b
    from solver.case.workbook import case_folder_to_workbook

    book = case_folder_to_workbook(folder, tmp_path / "b.xlsx")
    assert len(load_case(book).table(table)) == 0
