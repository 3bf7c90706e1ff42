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

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Alternatives",
    "Case",
    "CaseError",
    "CoalitionError",
    "InfeasibleError",
    "NoSolutionError",
    "Problem",
    "Result",
    "SensitivityResult",
    "ShareResult",
    "SolverError",
    "UsageError",
    "VerificationError",
    "__version__",
    "alternatives",
    "check_run",
    "frontier",
    "load_case",
    "sensitivity",
    "share",
    "solve",
    "stress",
    "sweep",
]

_WHERE = {
    "Case": "solver.case.loader",
    "load_case": "solver.case.loader",
    "solve": "solver.solve",
    "Result": "solver.results",
    "check_run": "solver.check.run",
    "sweep": "solver.studies.sweep.sweep",
    "stress": "solver.studies.shocks.stress",
    "frontier": "solver.studies.sweep.frontier",
    "share": "solver.studies.game.share",
    "sensitivity": "solver.studies.sensitivity.study",
    "SensitivityResult": "solver.studies.sensitivity.study",
    "alternatives": "solver.studies.alternatives.alternatives",
    "Alternatives": "solver.studies.alternatives.alternatives",
    "ShareResult": "solver.studies.game.share",
    "CaseError": "solver.errors",
    "CoalitionError": "solver.errors",
    "InfeasibleError": "solver.errors",
    "NoSolutionError": "solver.errors",
    "Problem": "solver.errors",
    "SolverError": "solver.errors",
    "UsageError": "solver.errors",
    "VerificationError": "solver.errors",
}

if TYPE_CHECKING:
    from solver.case.loader import Case, load_case
    from solver.check.run import check_run
    from solver.errors import (
        CaseError,
        CoalitionError,
        InfeasibleError,
        NoSolutionError,
        Problem,
        SolverError,
        UsageError,
        VerificationError,
    )
    from solver.results import Result
    from solver.solve import solve
    from solver.studies.alternatives.alternatives import Alternatives, alternatives
    from solver.studies.game.share import ShareResult, share
    from solver.studies.sensitivity.study import SensitivityResult, sensitivity
    from solver.studies.shocks.stress import stress
    from solver.studies.sweep.frontier import frontier
    from solver.studies.sweep.sweep import sweep


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'solver' has no attribute {name!r}")


class _Package(types.ModuleType):
    """The package module, which keeps ``solver.solve`` the function of the public API.

    Importing the submodule ``solver.solve`` makes the import system bind that module as
    the package's attribute ``solve``, over the function of the same name, so that
    ``from solver import solve`` would give a module. As with an eager
    ``from solver.solve import solve``, the function wins.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _WHERE and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
