"""A numbers-only sweep in a fresh process: seconds per point against HiGHS's time per point.

``python -m tests.bench.sweep CASE_DIR --workers N --points P`` sweeps the demand of every
row over ``P`` multipliers (a numbers-only sweep: the model is built once per worker and
re-solved) and prints one JSON object: wall seconds, HiGHS seconds summed over points,
per-point rows, and how many models were built.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def multipliers(points: int) -> list[float]:
    """``points`` demand multipliers from 0.9 up in steps of 0.01 (all feasible)."""
    return [round(0.9 + 0.01 * i, 2) for i in range(points)]


def run(case_dir: str, workers: int, points: int) -> dict[str, Any]:
    """Run the sweep; see the module docstring."""
    from solver.case.loader import load_case
    from solver.studies.sweep.sweep import sweep

    case = load_case(case_dir)
    vary = ["demand.demand*=" + ",".join(f"{m:g}" for m in multipliers(points))]
    start = time.perf_counter()
    table = sweep(case, vary, workers=workers, plots=False)
    wall = time.perf_counter() - start
    return {
        "workers": workers,
        "points": len(table),
        "wall": wall,
        "highs": float(table["solve_seconds"].sum()),
        "point_seconds": float(table["seconds"].sum()),
        "rebuilt": int(table["rebuilt"].fillna(False).astype(bool).sum()),
        "statuses": sorted(set(table["status"].astype(str))),
        "verified": bool(table["verified"].fillna(False).astype(bool).all()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case_dir")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--points", type=int, default=20)
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(run(args.case_dir, args.workers, args.points)) + "\n")


if __name__ == "__main__":
    main()
