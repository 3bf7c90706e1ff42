"""``python -m tests.bench.share``: what a group of the coalition game costs around HiGHS.

The sample's members are the players (``--players member``, 16 of them), so the game is
sampled: ``SAMPLES`` random orders give the groups to evaluate. Two numbers, as the issue
asks:

- **wall/HiGHS per group**: the wall time of the group loop (every group re-solved on the
  one persistent model, each plan read back and checked by the independent
  checker) over HiGHS's own time for the same groups (target <= 1.10). The grand coalition's
  solve and the one model build before the loop are timed apart, not hidden in the ratio.
- **2 workers against 1**: the same groups on two local worker processes, each re-solving
  its own persistent model (target >= 1.8x on two cores). Worker start-up (imports, build)
  is inside the two-worker time.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: Random orders of the sampled Shapley value: about 130 groups of the 16 members.
SAMPLES = int(os.environ.get("BENCH_SHARE_SAMPLES", "8"))


def measure(workers: int, samples: int = SAMPLES) -> dict[str, Any]:
    """One game on the sample's members with ``workers`` processes, its group loop timed."""
    from solver import load_case
    from solver.highs.runner import HighsRunner
    from solver.studies.game import share as share_module

    counts: dict[str, Any] = {"loop_highs_seconds": 0.0, "in_loop": False}
    real_solve, real_evaluate = HighsRunner.solve, share_module._evaluate

    def solve(self: Any, *a: Any, **k: Any) -> Any:
        report = real_solve(self, *a, **k)
        if counts["in_loop"]:
            counts["loop_highs_seconds"] += report.highs_seconds
        return report

    def evaluate(*a: Any, **k: Any) -> Any:
        counts["in_loop"] = True
        start = time.perf_counter()
        try:
            rows = real_evaluate(*a, **k)
        finally:
            counts["loop_seconds"] = time.perf_counter() - start
            counts["in_loop"] = False
        counts["groups"] = len(rows)
        return rows

    HighsRunner.solve = solve  # type: ignore[method-assign]
    share_module._evaluate = evaluate  # type: ignore[assignment]
    try:
        case = load_case(ROOT / "models" / "allied-ai-stack.toml")
        start = time.perf_counter()
        result = share_module.share(case, players="member", exact_up_to=0, samples=samples,
                                    seed=0, workers=workers)
        seconds = time.perf_counter() - start
    finally:
        HighsRunner.solve = real_solve  # type: ignore[method-assign]
        share_module._evaluate = real_evaluate  # type: ignore[assignment]
    groups = int(counts["groups"])
    row: dict[str, Any] = {
        "workers": workers, "groups": groups, "wall_seconds": seconds,
        "loop_seconds": counts["loop_seconds"],
        "loop_per_group": counts["loop_seconds"] / max(groups, 1),
        "outside_loop_seconds": seconds - counts["loop_seconds"],
        "costs": dict(zip(result.groups["group"], result.groups["cost"].astype(float),
                          strict=True))}
    if workers == 1:  # HiGHS's time is counted in this process only
        row["highs_per_group"] = counts["loop_highs_seconds"] / max(groups, 1)
        row["wall_over_highs"] = counts["loop_seconds"] / counts["loop_highs_seconds"]
    return row


def main() -> None:
    """Print the two lines, then the JSON of both runs."""
    one = measure(1)
    two = measure(2)
    # The same seed gives the same game on every executor: the same groups (those the
    # separation MIP adds included), each c(S) bit for bit.
    if one["costs"] != two["costs"]:
        apart = sorted(one["costs"].keys() ^ two["costs"].keys())
        moved = sorted(g for g in one["costs"].keys() & two["costs"].keys()
                       if one["costs"][g] != two["costs"][g])
        sys.exit(f"share bench: one worker and two differ: groups evaluated by one run only "
                 f"{apart[:3]} ({len(apart)}), costs not the same {moved[:3]} ({len(moved)})")
    speedup = one["loop_seconds"] / two["loop_seconds"]
    print(f"share, {one['groups']} groups of the sample's 16 members: "
          f"{one['loop_per_group'] * 1000:.0f} ms a group, HiGHS "
          f"{one['highs_per_group'] * 1000:.0f} ms, wall/HiGHS {one['wall_over_highs']:.2f} "
          f"(target <= 1.10); grand coalition and build {one['outside_loop_seconds']:.1f} s")
    print(f"share, 2 workers against 1: {speedup:.2f}x ({one['loop_seconds']:.1f} s -> "
          f"{two['loop_seconds']:.1f} s, target >= 1.8x on {os.cpu_count()} cores); the same "
          "groups and costs, bit for bit")
    for row in (one, two):
        row.pop("costs")
    print(json.dumps({"one_worker": one, "two_workers": two, "speedup": speedup}))


if __name__ == "__main__":
    main()
