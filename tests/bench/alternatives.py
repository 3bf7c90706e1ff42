"""``python -m tests.bench.alternatives``: what near-optimal searches cost around HiGHS.

On the sample case, three most different plans within 3% and a direction at four slacks are
found with :func:`solver.studies.alternatives.alternatives`. Every HiGHS run (the optimum and
both solves of each search) is counted, with HiGHS's own time; the line printed is the wall
time per plan, HiGHS's share of it, and the models built and handed over (one each: every
search re-solves the same model).
"""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def measure(**search: Any) -> dict[str, Any]:
    """One call of ``alternatives(sample, **search)``, timed, its HiGHS runs counted."""
    from solver import load_case
    from solver.highs.runner import HighsRunner
    from solver.studies.alternatives.alternatives import alternatives

    build_module = importlib.import_module("solver.model.build")
    compile_module = importlib.import_module("solver.highs.compile")
    counts = {"highs_runs": 0, "highs_seconds": 0.0, "builds": 0, "handovers": 0}
    real_solve, real_build = HighsRunner.solve, build_module.build
    real_compile = compile_module.compile_model

    def solve(self: Any, *a: Any, **k: Any) -> Any:
        report = real_solve(self, *a, **k)
        counts["highs_runs"] += 1
        counts["highs_seconds"] += report.highs_seconds
        return report

    def build(*a: Any, **k: Any) -> Any:
        counts["builds"] += 1
        return real_build(*a, **k)

    def compile_model(*a: Any, **k: Any) -> Any:
        counts["handovers"] += 1
        return real_compile(*a, **k)

    HighsRunner.solve = solve  # type: ignore[method-assign]
    build_module.build = build
    compile_module.compile_model = compile_model
    try:
        case = load_case(ROOT / "models" / "allied-ai-stack.toml")
        start = time.perf_counter()
        found = alternatives(case, **search)
        seconds = time.perf_counter() - start
    finally:
        HighsRunner.solve = real_solve  # type: ignore[method-assign]
        build_module.build = real_build
        compile_module.compile_model = real_compile
    plans = len(found.plans)
    return {"search": search, "plans": plans, "wall_seconds": seconds,
            "wall_per_plan": seconds / max(plans, 1),
            "highs_share": counts["highs_seconds"] / seconds, **counts}


def main() -> None:
    """Print one line per search, then the JSON of both."""
    rows = [measure(slack=0.03, count=3),
            measure(slack=[0.002, 0.005, 0.01, 0.02], minimize="share[TW,semiconductors]")]
    for r in rows:
        print(f"alternatives {r['search']}: {r['plans']} plans in {r['wall_seconds']:.2f} s "
              f"({r['wall_per_plan']:.2f} s a plan), HiGHS {r['highs_share']:.0%} of it over "
              f"{r['highs_runs']} runs; models built {r['builds']}, handed over "
              f"{r['handovers']}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
