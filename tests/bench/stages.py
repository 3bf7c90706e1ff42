"""One solve of one case, stage by stage, in a fresh process (for a clean peak RSS).

``python -m tests.bench.stages CASE_DIR [--relax]`` prints one JSON object: per stage its
seconds and the peak resident memory reached during it, plus the problem's size and outcome.
The stages are the library's own steps, in the order :func:`solver.solve` runs them:
load and validate, the presolve checks, build, hand-over to HiGHS, freeing the Pyomo model
(HiGHS keeps the only copy), HiGHS's solve (HiGHS's own run time, and the rest of the solve
call separately), extraction of the tables, the
checker, and writing.

``--relax`` solves the LP relaxation (the binaries made continuous before the hand-over);
the checker then still runs, on a plan that is not integral. The build is what
:func:`solver.solve` builds: the matrices from numpy (:mod:`solver.model.assembly`) where
every family has an array form; ``--pyomo`` builds and compiles the Pyomo model instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.memory import peak_mb, reset_peak


def run(case_dir: str, relax: bool, pyomo: bool = False) -> dict[str, Any]:
    """Solve ``case_dir`` stage by stage; see the module docstring."""
    stages: dict[str, dict[str, float]] = {}
    mark = {"t": time.perf_counter()}

    def begin() -> None:
        reset_peak()
        mark["t"] = time.perf_counter()

    def end(name: str, seconds: float | None = None) -> None:
        took = time.perf_counter() - mark["t"] if seconds is None else seconds
        stages[name] = {"seconds": took, "peak_mb": peak_mb()}

    begin()
    import pyomo.environ as pyo

    from solver import solve as solve_module  # noqa: F401  (the package's lazy imports)
    from solver.case.loader import load_case
    from solver.diagnose.presolve import find_infeasibilities
    from solver.highs.runner import HighsRunner
    from solver.model.assembly import assemble
    from solver.model.build import Built, build
    from solver.solve import finish, hand_over

    end("imports")

    begin()
    case = load_case(case_dir)
    end("load")

    begin()
    findings = find_infeasibilities(case)
    end("presolve")
    if findings:
        raise SystemExit(f"{case_dir}: infeasible before solving: {findings}")

    # As in solve(): the matrices straight from numpy where every family has an array form
    # (solver.model.assembly), else the Pyomo model (--pyomo forces it).
    begin()
    built: Any = None if pyomo else assemble(case)
    built = built or build(case)
    end("build")
    build_seconds = stages["build"]["seconds"]
    path = "pyomo" if isinstance(built, Built) else "arrays"

    if relax:
        # Bench-only, not a stage; the collector is paused so that no collection the
        # pipeline would pay for happens here instead.
        from pyomo.common.gc_manager import PauseGC

        if path == "arrays":
            built.compiled.bounds.integer[:] = 0
        else:
            with PauseGC():
                for v in built.m.y.values():
                    v.domain = pyo.UnitInterval

    opts = case.solver
    runner = HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                         threads=opts.threads)
    # As in solve(): hand the model over, let HiGHS keep the only copy, free the Pyomo model.
    begin()
    hand_over(runner, built)
    end("handover")
    n_binaries = 0 if relax else runner.column_counts["y"]
    begin()
    runner.forget_model()
    built.release()
    end("release")
    begin()
    report = runner.solve(None)
    end("solve_call")
    stages["highs"] = {"seconds": report.highs_seconds, "peak_mb": stages["solve_call"]["peak_mb"]}
    stages["solve_call"]["seconds"] = max(report.wall_seconds - report.highs_seconds, 0.0)

    # The checker runs inside finish(): wrap it to split extraction from checking.
    import solver.check.run as check_module

    inner = check_module.check_solution

    def timed_check(*args: Any, **kwargs: Any) -> Any:
        end("extract")
        begin()
        try:
            return inner(*args, **kwargs)
        finally:
            end("check")

    check_module.check_solution = timed_check  # type: ignore[assignment]
    begin()
    result = finish(case, built, report, runner, build_seconds, raise_on_failure=False)
    if "extract" not in stages:
        end("extract")
        stages["check"] = {"seconds": 0.0, "peak_mb": 0.0}
    check_module.check_solution = inner  # type: ignore[assignment]

    with tempfile.TemporaryDirectory() as tmp:
        begin()
        result.write(Path(tmp) / "run", force=True)
        end("write")

    h = runner.highs
    return {
        "stages": stages,
        "status": result.status,
        "objective": result.objective,
        "verified": result.verified,
        "relaxed": relax,
        "rows": h.getNumRow(),
        "cols": h.getNumCol(),
        "nnz": h.getNumNz(),
        "flows": built.data.n_flows,
        "binaries": n_binaries,
        "path": path,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case_dir")
    parser.add_argument("--relax", action="store_true", help="solve the LP relaxation")
    parser.add_argument("--pyomo", action="store_true",
                        help="build the Pyomo model even where the array path applies")
    args = parser.parse_args(argv)
    out = run(args.case_dir, args.relax, args.pyomo)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
