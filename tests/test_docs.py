"""The README's case format is the row models' description, word for word."""

from pathlib import Path

from solver.case.schema import TABLES, markdown_tables

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_readme_case_format_is_generated_from_the_schema() -> None:
    text = README.read_text(encoding="utf-8")
    assert markdown_tables() in text, "README.md's case format is stale: regenerate it " \
        "with `python -m solver.case.schema`"


def test_every_column_is_described() -> None:
    table = markdown_tables()
    for spec in TABLES.values():
        for name, field in spec.row.model_fields.items():
            assert field.description, f"{spec.table}.{name} has no description"
            assert f"| {name} |" in table


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first = text.index("```sh")
    assert "make run" in text[first:first + 200]
    assert "make test" in text[first:first + 200]


def test_every_command_and_option_has_help_that_renders() -> None:
    from click.testing import CliRunner

    from solver.cli import main

    for name, command in main.commands.items():
        assert command.help, f"coalition {name} has no help"
        for param in command.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), f"coalition {name} {param.name}: no help"
        out = CliRunner().invoke(main, [name, "--help"])
        assert out.exit_code == 0, out.output
        assert "\\b" not in out.output, f"coalition {name} --help shows a raw \\b"
        examples = out.output.split("Example")[-1].split("Options:")[0]
        for line in examples.splitlines():
            assert "   --" not in line.strip(), f"coalition {name} --help runs lines together"


def test_the_readme_shows_the_sample_model_file_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    toml = (ROOT / "models" / "allied-ai-stack.toml").read_text()
    assert f"```toml\n{toml}```" in readme


def test_the_readme_lists_every_key_of_summary_json(tmp_path: Path) -> None:
    import json

    from solver import load_case, solve

    result = solve(load_case(ROOT / "models" / "allied-ai-stack.toml"))
    summary = json.loads((result.write(tmp_path / "run") / "summary.json").read_text())
    row = next(line for line in (ROOT / "README.md").read_text().splitlines()
               if line.startswith("| summary.json |"))
    for key, value in summary.items():
        assert key in row, f"summary.json's {key} is not in the README"
        for sub in value if isinstance(value, dict) else ():
            assert sub in row, f"summary.json's {key}.{sub} is not in the README"


def test_docstrings_point_at_readme_sections_that_exist() -> None:
    """The code cites the README's sections by title (it has no other contract file)."""
    import re

    headings = [line[3:] for line in README.read_text(encoding="utf-8").splitlines()
                if line.startswith("## ")]
    for path in (ROOT / "solver").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"SPEC(?: section)? \d", text), f"{path} cites a SPEC section"
        for rest in re.findall(r"README, (.{1,40})", text):
            assert any(rest.startswith(h.split(":")[0]) for h in headings), \
                f"{path}: no README section begins {rest!r}"
