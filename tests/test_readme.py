"""The README true to the letter: every ``console`` block is run and its output compared.

Each ``$ command`` of a block runs in a scratch folder that sees the repository's models/
and data/ (so ``out/`` is written there, never into the repository), in README order, and
what it prints (stderr, then stdout) must be what the block shows:

* a number matches to the digits the README prints (``895.2`` matches ``895.243`` printed
  as ``895.2``; the tool prints the same digits, so in practice the texts are equal);
* times (``00:01 elapsed``, ``00:02 left``) are ignored;
* ``...`` stands for any number of lines; lines on stderr the block does not show (the
  progress of a solve) may be left out, lines on stdout may not.

The cases a block names but the repository lacks (``my-case``, ``my-case.xlsx``, the
two-member ``case`` of the game) are made here as the README describes them. Blocks that
solve for more than a few seconds of CPU (the stress test with redesigns, the frontier,
the sweep, the bloc game, the alternatives, SCIP, the sensitivity study, the
pathway) are skipped with their reason unless
``COALITION_README=all`` is set: ``make test`` must stay under ten minutes on a loaded
2-core machine.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: Blocks not run by ``make test`` (by the start of their first command), and why.
LONG = {
    "coalition sweep models/allied-ai-stack.toml --out out/sweep":
        "4 MILP solves with plots (about 5 s of CPU)",
    "coalition stress models/allied-ai-stack.toml --redesign":
        "21 re-routings and 21 redesign MILPs",
    "coalition frontier models/allied-ai-stack.toml":
        "about 15 MILP solves for the bisection and the curve",
    "coalition share models/allied-ai-stack.toml --players bloc":
        "15 groups of the bloc game (about 20 s)",
    "coalition share models/allied-ai-stack.toml --players member":
        "284 groups of the member game and its separation MIP (about 3 minutes)",
    "coalition alternatives models/allied-ai-stack.toml --slack 0.03":
        "6 MILP solves of near-optimal searches",
    "coalition alternatives models/allied-ai-stack.toml --slack 0.002":
        "4 searches of near-optimal plans",
    "coalition export models/allied-ai-stack.toml --format mps":
        "a SCIP solve of the sample (about 3 s of CPU)",
    "coalition sensitivity models/allied-ai-stack-chain.toml --workers 2":
        "54 MILP solves of the Morris study over the chain (about 10 minutes)",
    "coalition solve models/allied-ai-stack-2035.toml":
        "the four-period pathway of the sample (about 40 s)",
    "coalition frontier models/allied-ai-stack-2035.toml":
        "6 solves of the four-period pathway (about 4 minutes)",
    "coalition share models/allied-ai-stack-2035.toml":
        "15 four-period pathways of the bloc game (about 2 minutes)",
}

_TIME = re.compile(r"\b\d+:\d\d(?::\d\d)? (elapsed|left)\b")
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?")


@dataclass
class Command:
    """One ``$ command`` of a block and the lines the README shows it printing."""

    text: str
    expected: list[str] = field(default_factory=list)


def console_blocks(text: str) -> list[list[Command]]:
    """Every ```console block of ``text`` as its commands (continuation lines joined)."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        commands: list[Command] = []
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("$ "):
                command = line[2:]
                while command.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    command = command[:-1].rstrip() + " " + lines[i].strip()
                commands.append(Command(command))
            elif commands:
                commands[-1].expected.append(line)
            i += 1
        blocks.append(commands)
    return blocks


def _normal(line: str) -> str:
    return " ".join(_TIME.sub("TIME", line).split())


def same(expected: str, actual: str) -> bool:
    """Whether ``actual`` prints what ``expected`` shows, numbers to its printed digits."""
    exp, act = _normal(expected), _normal(actual)
    if exp == act:
        return True
    if _NUMBER.sub("#", exp) != _NUMBER.sub("#", act):
        return False
    for e, a in zip(_NUMBER.findall(exp), _NUMBER.findall(act), strict=True):
        if e == a:
            continue
        try:
            want, got = float(e.replace(",", "").rstrip("%")), float(a.replace(",", "")
                                                                      .rstrip("%"))
        except ValueError:
            return False
        decimals = len(e.rstrip("%").split(".")[1]) if "." in e and "e" not in e else 0
        if "e" in e or round(got, decimals) != want:
            return False
    return True


def mismatch(expected: list[str], stdout: list[str], stderr: list[str]) -> str | None:
    """Why the output does not show as the README says, or None if it does."""
    actual = [(line, False) for line in stderr] + [(line, True) for line in stdout]
    j, skipping = 0, False
    for want in expected:
        if want.strip() == "...":
            skipping = True
            continue
        while j < len(actual) and not same(want, actual[j][0]):
            if not skipping and actual[j][1]:
                return f"expected {want!r}, printed {actual[j][0]!r}"
            j += 1
        if j == len(actual):
            return f"expected {want!r}, not printed"
        j, skipping = j + 1, False
    rest = [line for line, out in actual[j:] if out]
    if rest and not skipping:
        return f"printed {rest[0]!r}, not in the README"
    return None


def _my_case(work: Path) -> None:
    """``my-case``: the sample with a misspelt column and a capacity of '200x'."""
    folder = work / "my-case"
    shutil.copytree(ROOT / "data" / "allied-ai-stack", folder,
                    ignore=shutil.ignore_patterns("*.md", "figures", "shocks"))
    layers = folder / "layers.csv"
    layers.write_text(layers.read_text().replace("min_suppliers", "min_supplier", 1))
    caps = (folder / "capabilities.csv").read_text().splitlines()
    cells = caps[1].split(",")
    cells[2] = "200x"
    caps[1] = ",".join(cells)
    (folder / "capabilities.csv").write_text("\n".join(caps) + "\n")


def _my_workbook(work: Path) -> None:
    """``my-case.xlsx``: a formula, a date, a merged header and a sheet of notes."""
    import openpyxl

    from solver.case.workbook import case_folder_to_workbook

    path = case_folder_to_workbook(ROOT / "data" / "allied-ai-stack", work / "my-case.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["partners"]["D3"] = "=0.5+0.4"
    wb["partners"]["D4"] = datetime(2024, 3, 1)
    wb["layers"].merge_cells("A1:B1")
    wb.create_sheet("notes")["A1"] = "sources"
    wb.save(path)


def _game_case(work: Path) -> None:
    """``case``: members A (chips at 3) and B (at 5), 10 chips each; S sells 10 at 1."""
    folder = work / "case"
    folder.mkdir()
    for name, text in {
        "partners": "partner,member\nA,true\nB,true\nS,false\n",
        "layers": "layer\nchips\n",
        "capabilities": "partner,layer,capacity,unit_cost\nA,chips,100,3\nB,chips,100,5\n"
                        "S,chips,10,1\n",
        "demand": "member,layer,demand\nA,chips,10\nB,chips,10\n",
    }.items():
        (folder / f"{name}.csv").write_text(text)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    for name in ("models", "data"):
        (folder / name).symlink_to(ROOT / name)
    _my_case(folder)
    _my_workbook(folder)
    _game_case(folder)
    return folder


def run(command: str, work: Path) -> subprocess.CompletedProcess[str]:
    """Run one README command in ``work``: ``coalition`` as this Python's ``-m solver``."""
    args = shlex.split(command)
    if args[0] == "coalition":
        args = [sys.executable, "-m", "solver", *args[1:]]
    elif args[0] == "ls":
        args = ["ls", "-C", *args[1:]]  # in columns, as on a terminal
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=600,
                          check=False, env=env)


BLOCKS = console_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_console_blocks() -> None:
    assert len(BLOCKS) >= 10
    first = [block[0].text for block in BLOCKS]
    for start in LONG:
        assert any(text.startswith(start) for text in first), f"no block starts {start!r}"


@pytest.mark.parametrize("index", range(len(BLOCKS)),
                         ids=[b[0].text[:60] for b in BLOCKS])
def test_a_console_block_prints_what_it_shows(work: Path, index: int) -> None:
    block = BLOCKS[index]
    reason = next((why for start, why in LONG.items() if block[0].text.startswith(start)),
                  None)
    if reason and os.environ.get("COALITION_README") != "all":
        pytest.skip(f"long ({reason}); COALITION_README=all runs it")
    for command in block:
        done = run(command.text, work)
        why = mismatch(command.expected, done.stdout.splitlines(), done.stderr.splitlines())
        assert why is None, f"$ {command.text}\n{why}\n--- stdout\n{done.stdout}\n" \
                            f"--- stderr\n{done.stderr}"


def test_the_matching_rules() -> None:
    assert same("total cost 895.2, gap 8.66e-05", "total cost 895.2, gap 8.66e-05")
    assert same("[1/4] point 0: 00:01 elapsed, 00:02 left", "[1/4] point 0: 00:03 elapsed, "
                "00:09 left")
    assert not same("total cost 895.2", "total cost 895.3")
    assert not same("4 points", "5 points")
    assert mismatch(["a", "...", "z"], ["a", "b", "c", "z"], []) is None
    assert mismatch(["a", "z"], ["a", "b", "z"], []) is not None  # stdout is shown whole
    assert mismatch(["a", "z"], ["a", "z"], ["progress"]) is None  # stderr may be left out
    assert mismatch(["a"], ["a", "b"], []) is not None


def _usage(name: str) -> tuple[str, set[str]]:
    from click.testing import CliRunner

    from solver.cli import main

    command = main.commands[name]
    flags = {opt for p in command.params for opt in getattr(p, "opts", ())}
    usage = CliRunner().invoke(main, [name, "--help"]).output.splitlines()[0]
    return usage, flags


def test_the_command_table_names_commands_and_options_as_their_help_does() -> None:
    from solver.cli import main

    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Commands"):text.index("`coalition COMMAND --help`")]
    rows = re.findall(r"^\| `coalition (\S+)([^`]*)` \|", table, flags=re.M)
    assert sorted(name for name, _ in rows) == sorted(main.commands)
    for name, rest in rows:
        usage, flags = _usage(name)
        for option in re.findall(r"--[a-z][a-z-]*", rest):
            assert option in flags, f"README: coalition {name} has no {option}"
        tokens = rest.split()
        for before, token in zip(["", *tokens], tokens, strict=False):
            if re.fullmatch(r"[A-Z][A-Z_]*", token) and \
                    not before.lstrip("[").startswith("--"):  # an argument, not a value
                assert token in usage, f"README: coalition {name} {token}: {usage}"


def test_make_figures_draws_every_figure_the_readme_shows() -> None:
    text = README.read_text(encoding="utf-8")
    figures = re.findall(r"\]\((data/allied-ai-stack/figures/[^)]+\.png)\)", text)
    assert len(figures) >= 5
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("\nfigures:"):].split("\n\n")[0]
    for path in figures:
        assert (ROOT / path).is_file(), path
        assert f"$(FIGURES)/{Path(path).name}" in recipe, f"make figures does not draw {path}"
