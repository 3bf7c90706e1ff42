"""What the formulations written apart from the model (tests/test_*_formulation.py) share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import highspy
import pandas as pd
import pytest


def optimum(h: Any) -> float | None:
    """Minimise the highspy model ``h``: its optimum, or None if it is infeasible."""
    h.minimize()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    assert status == highspy.HighsModelStatus.kOptimal, status
    return float(h.getInfo().objective_function_value)


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    """A case folder holding ``tables`` (a CSV file each)."""
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def seeds(count: int, unit: int) -> list[Any]:
    """The random seeds ``0 .. count - 1``; those from ``unit`` on are marked ``exhaustive``.

    ``make test`` runs the first ``unit`` seeds, ``make test-slow`` the others.
    """
    import pytest

    return [s if s < unit else pytest.param(s, marks=pytest.mark.exhaustive)
            for s in range(count)]


def assert_same_optimum(case: Any, want: float | None) -> None:
    """``solve(case)`` reaches ``want`` (the formulation's optimum; None: both infeasible)."""
    from solver import solve
    from solver.errors import InfeasibleError

    try:
        result = solve(case, mip_gap=0.0)
    except InfeasibleError:
        assert want is None
        return
    assert result.verified, result.violations
    assert want is not None
    assert result.objective == pytest.approx(want, rel=1e-7, abs=1e-6)
