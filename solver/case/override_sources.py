"""Where each override came from, so that a problem with it names the place.

A ``--set`` is named by its number on the command line (``--set 2``), a key of a model
file's ``[set]`` table by the file and its line (``allied.toml, line 7``; a key the scan below
cannot place, such as one of an inline table, names the file and ``[set]``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from solver.errors import Problem

#: A table header line: ``[set]``, ``[ objective ]``, ``[[x]]`` (with a comment after it).
HEADER = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?$")
#: One part of a key: a bare key, a "basic" or a 'literal' string.
PART = r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)"""
#: The key of a ``KEY = VALUE`` line: parts joined by dots (``layers.max_share = 0.5``).
KEY = re.compile(rf"^\s*({PART}(?:\s*\.\s*{PART})*)\s*=")


def flat_keys(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The ``[set]`` table with TOML's dotted keys joined again.

    ``layers.max_share = 0.5`` (no quotes) is, in TOML, the table ``layers`` holding
    ``max_share``: as an override it is the key ``layers.max_share``.
    """
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(flat_keys(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def command_line_places(count: int) -> list[Problem]:
    """One place per ``--set`` given: ``--set 1``, ``--set 2``, ..."""
    return [Problem(f"--set {n}", "") for n in range(1, count + 1)]


def model_file_places(name: str, text: str, keys: Iterable[str]) -> list[Problem]:
    """The place of each key of the ``[set]`` table of the model file ``name`` (its text)."""
    lines = _set_lines(text)
    return [Problem(name, "", line=lines[k]) if k in lines else Problem(f"{name} [set]", "")
            for k in keys]


def _set_lines(text: str) -> dict[str, int]:
    """Key -> line number (from 1) of each ``KEY = ...`` line under the ``[set]`` header."""
    found: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        header = HEADER.match(line)
        if header:
            inside = header.group(1) == "set"
            continue
        match = KEY.match(line) if inside else None
        if match is None:
            continue
        try:
            parsed = tomllib.loads(f"{match.group(1)} = 0")
        except tomllib.TOMLDecodeError:
            continue
        for key in flat_keys(parsed):
            found.setdefault(key, number)
    return found
