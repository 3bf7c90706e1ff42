"""A numbers-only sweep in a fresh process: seconds per point against HiGHS's time per point.

``python -m tests.bench.sweep CASE_DIR --workers N --points P`` sweeps the demand of every
row over ``P`` multipliers (a numbers-only sweep: the model is built once per worker and
re-solved) and prints one JSON object: wall seconds, HiGHS seconds summed over points,
per-point rows, and how many models were built.

``wall`` is the whole ``sweep()`` call (worker start-up, the model build and the first
point's imports included; :mod:`tests.bench.run` divides it by ``highs`` for M). With one
worker the point loop is also timed apart, as :mod:`tests.bench.share` times its group
loop: ``imports`` (the modules a point uses, imported before the sweep), ``loop`` (the
point loop, first point to last) and ``build`` (the one model build inside it) are reported
apart, and ``point_wall_over_highs`` is ``(loop - build) / highs``: the wall time of the
points, each re-solved, read back, checked and, if HiGHS finds no plan, given its reason,
over HiGHS's own time for the same points. ``resolve_wall_over_highs`` leaves out the
points that built the model (the first: its build and its hand-over to HiGHS), as the
sensitivity bench gives its ratio without the first sample's build.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def multipliers(points: int) -> list[float]:
    """``points`` demand multipliers from 0.9 up in steps of 0.01 (on M all feasible; on the
    sample those above 1.00 are infeasible)."""
    return [round(0.9 + 0.01 * i, 2) for i in range(points)]


def _import_seconds() -> float:
    """Import what a point uses (built, solved, read back, checked, explained); the seconds."""
    import importlib

    start = time.perf_counter()
    # What a point imports when it first needs it, HiGHS and the checker's parts included.
    for module in ("highspy", "solver.check.run", "solver.check.claims", "solver.check.design",
                   "solver.check.reports", "solver.check.rerouting",
                   "solver.check.scenario_claims", "solver.check.shortage",
                   "solver.check.case_data", "solver.diagnose.presolve",
                   "solver.highs.runner", "solver.highs.compile", "solver.highs.refresh",
                   "solver.model.build", "solver.model.numbers", "solver.model.two_stage",
                   "solver.solve"):
        importlib.import_module(module)
    return time.perf_counter() - start


def run(case_dir: str, workers: int, points: int) -> dict[str, Any]:
    """Run the sweep; see the module docstring."""
    from solver.case.loader import load_case
    from solver.studies.engine.progress import Progress
    from solver.studies.engine.resolver import Resolver
    from solver.studies.sweep.sweep import sweep

    class Clock(Progress):
        """The point loop's wall time, from its start to its end as the progress sees them."""

        started = seconds = 0.0

        def start(self, total: int, done: int) -> None:
            self.started = time.perf_counter()

        def finish(self, interrupted: bool = False) -> None:
            self.seconds = time.perf_counter() - self.started

    imports = _import_seconds() if workers == 1 else None
    builds: list[float] = []
    real_build = Resolver.build

    def build(self: Any, make: Any) -> float:
        seconds = real_build(self, make)
        builds.append(seconds)
        return seconds

    case = load_case(case_dir)
    vary = ["demand.demand*=" + ",".join(f"{m:g}" for m in multipliers(points))]
    clock = Clock()
    Resolver.build = build  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        table = sweep(case, vary, workers=workers, plots=False, progress=clock)
        wall = time.perf_counter() - start
    finally:
        Resolver.build = real_build  # type: ignore[method-assign]
    highs = float(table["solve_seconds"].sum())
    row: dict[str, Any] = {
        "workers": workers,
        "points": len(table),
        "wall": wall,
        "highs": highs,
        "point_seconds": float(table["seconds"].sum()),
        "rebuilt": int(table["rebuilt"].fillna(False).astype(bool).sum()),
        "statuses": sorted(set(table["status"].astype(str))),
        "verified": bool(table["verified"].fillna(False).astype(bool).all()),
    }
    if workers == 1:  # the loop and its builds are seen in this process only
        rebuilt = table["rebuilt"].fillna(False).astype(bool)
        first = float(table.loc[rebuilt, "seconds"].sum())
        row.update(imports=imports, loop=clock.seconds, build=sum(builds),
                   point_wall_over_highs=(clock.seconds - sum(builds)) / max(highs, 1e-9),
                   resolve_wall_over_highs=(clock.seconds - first) / max(
                       float(table.loc[~rebuilt, "solve_seconds"].sum()), 1e-9))
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case_dir")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--points", type=int, default=20)
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(run(args.case_dir, args.workers, args.points)) + "\n")


if __name__ == "__main__":
    main()
