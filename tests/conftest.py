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


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--exhaustive``: also run the tests marked ``exhaustive`` (``make test-slow``)."""
    parser.addoption("--exhaustive", action="store_true",
                     help="also run the exhaustive tests: the further seeds and larger cases "
                          "of tests the unit suite runs small (make test-slow)")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``exhaustive`` marker."""
    config.addinivalue_line("markers", "exhaustive: a further seed or a larger case of a test "
                                       "the unit suite runs small; run by make test-slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the ``exhaustive`` tests unless ``--exhaustive`` is given."""
    if config.getoption("--exhaustive"):
        return
    left = [item for item in items if item.get_closest_marker("exhaustive") is not None]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if item.get_closest_marker("exhaustive") is None]
