"""coalition: design coalition supply chains with a mixed-integer model (Pyomo + HiGHS).

The public API::

    from solver import load_case, solve
    case = load_case("models/allied-ai-stack.toml")
    result = solve(case.with_overrides({"layers.max_share": 0.4}), time_limit=60)
    result.write("out/")

Heavy modules (Pyomo, pandas) are imported on first use, so that ``coalition --help`` is
instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Case",
    "CaseError",
    "CoalitionError",
    "InfeasibleError",
    "NoSolutionError",
    "Problem",
    "Result",
    "UsageError",
    "VerificationError",
    "__version__",
    "check_run",
    "load_case",
    "solve",
]

_WHERE = {
    "Case": "solver.case",
    "load_case": "solver.case",
    "solve": "solver.solve",
    "Result": "solver.results",
    "check_run": "solver.check",
    "CaseError": "solver.errors",
    "CoalitionError": "solver.errors",
    "InfeasibleError": "solver.errors",
    "NoSolutionError": "solver.errors",
    "Problem": "solver.errors",
    "UsageError": "solver.errors",
    "VerificationError": "solver.errors",
}

if TYPE_CHECKING:
    from solver.case import Case, load_case
    from solver.check import check_run
    from solver.errors import (
        CaseError,
        CoalitionError,
        InfeasibleError,
        NoSolutionError,
        Problem,
        UsageError,
        VerificationError,
    )
    from solver.results import Result
    from solver.solve import solve


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'solver' has no attribute {name!r}")
