"""A table that a model file names instead of the case folder's (README, The case format).

``[scenarios] file``, ``[chain] file``, ``[markets] file``, ``[pathway] periods`` and
``[pathway] targets``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from solver.case.schema import TABLES
from solver.case.tables import LINE, read_table
from solver.case.validate import cross_checks
from solver.errors import CaseError, Problem


def with_table_file(case: Any, model: Path, table: str, file: str,
                    allow_outside: bool) -> Any:
    """The case (a :class:`solver.case.loader.Case`) with the table the model file names."""
    option = {"scenarios": "[scenarios] file", "inputs": "[chain] file",
              "markets": "[markets] file"}.get(
        table, f"[pathway] {table}")
    where = (model.resolve().parent / file).resolve()
    if not allow_outside and (Path(file).is_absolute()
                              or not where.is_relative_to(model.resolve().parent.parent)):
        raise CaseError([Problem(model.name, f"{option} = {file!r} leaves the project "
                                             "folder; keep the file inside it")])
    if not where.is_file():
        raise CaseError([Problem(model.name, f"{option} = {file!r}: no such file")])
    frame, problems = read_table(where, TABLES[table])
    if frame is None:
        raise CaseError(problems)
    lines = {table: frame[LINE]}
    digest = hashlib.sha256((case.files_sha256 + "\0").encode() + where.read_bytes())
    read = frame.drop(columns=[LINE])
    changes: dict[str, Any] = {table: read, "files_sha256": digest.hexdigest()}
    new = replace(case, **changes)
    filename = TABLES[table].filename
    problems += [p for p in cross_checks(new, lines=lines) if p.file == filename]
    if problems:
        raise CaseError(problems)
    return new
