"""The planner's desk: workbooks out, ``report``, ``compare`` and ``export``.

The commands are thin: each calls one library function of :mod:`solver.report` or
:mod:`solver.studies` and prints what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def format_option(func: F) -> F:
    """``--format csv|xlsx``: xlsx also writes the tables as one workbook beside the CSV."""
    return click.option(
        "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
        show_default=True,
        help="xlsx: also write the tables as one workbook (a sheet per table) beside the "
             "CSV files.")(func)


def study_workbook(folder: Path, name: str, files: list[str]) -> Path:
    """Write the CSV tables ``files`` of a study's ``folder`` as ``NAME.xlsx``; its path."""
    import pandas as pd

    from solver.report.cells import plain_frame
    from solver.report.xlsx import write_workbook

    tables = {}
    for file in files:
        path = folder / file
        if path.is_file() and path.stat().st_size:
            tables[path.stem] = plain_frame(pd.read_csv(path))
    return write_workbook(folder / f"{name}.xlsx", tables)
