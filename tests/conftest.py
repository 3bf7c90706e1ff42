"""What every test session shares: it leaves nothing behind in the repository."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Folders that tools keep for themselves (caches, the environment), not the tests' output.
KEPT = {".git", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
        "__pycache__", "build", "dist"}


def _files() -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in KEPT and not d.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(folder, f), ROOT) for f in files)
    return found


@pytest.fixture(scope="session", autouse=True)
def leaves_nothing_in_the_repository() -> Iterator[None]:
    """Fail the session if a test wrote a file into the repository (out/..., a stray CSV)."""
    before = _files()
    yield
    new = sorted(f for f in _files() - before if not f.endswith(".py"))  # .py: someone's edit
    assert not new, f"the tests left files in the repository: {new[:10]}"
