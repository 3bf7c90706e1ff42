"""The README's case format is the row models' description, word for word."""

from pathlib import Path

from solver.case.schema import TABLES, markdown_tables

README = Path(__file__).resolve().parent.parent / "README.md"


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
