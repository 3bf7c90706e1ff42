"""``python -m tests.bench.two_stage [SIZE]``: build time of the two-stage design (SPEC 9).

The synthetic case of SIZE (default M, ~100k flows) gets 20 scenarios, each losing one
partner and closing one route; the model is built with 0, 5, 10 and 20 of them and the
build time per scenario flow is printed (a flat number is a build time proportional to
size). Only the build is timed: the MILP itself is HiGHS's business.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd


def main(argv: list[str] | None = None) -> None:
    """Print one line per scenario count, and the JSON of all of them."""
    from solver import load_case
    from solver.case.generate import SIZES, generate_case
    from solver.case.options import ScenarioOptions
    from solver.model.build import build

    args = sys.argv[1:] if argv is None else argv
    size = SIZES[args[0] if args else "M"]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = generate_case(size.partners, size.layers, size.members, 7, Path(tmp) / "c")
        case = load_case(folder)
        partners = case.partners["partner"].tolist()
        rows = []
        for s in range(20):
            rows.append({"scenario": f"s{s}", "probability": 0.02, "partner": partners[s],
                         "capacity_factor": 0.0})
            rows.append({"scenario": f"s{s}", "probability": 0.02,
                         "exporter": partners[-1 - s], "importer": partners[s + 1]})
        table = pd.DataFrame(rows, columns=["scenario", "probability", "partner", "layer",
                                            "exporter", "importer", "capacity_factor"])
        table["capacity_factor"] = table["capacity_factor"].fillna(0.0)
        case = replace(case, objective=case.objective.model_copy(
            update={"shortage_cost": 1e4}))
        for n in (0, 5, 10, 20):
            keep = table[table["scenario"].isin([f"s{s}" for s in range(n)])]
            two = replace(case, scenarios=keep if n else None,
                          scenario_options=ScenarioOptions(design="expected" if n else "none"))
            start = time.perf_counter()
            built = build(two)
            seconds = time.perf_counter() - start
            flows = built.data.n_flows
            extra = sum(len(js) for js in built.ctx.scenario_flows)
            out.append({"scenarios": n, "flows": flows, "scenario_flows": extra,
                        "build_s": seconds})
            per = f", {1e6 * seconds / (flows + extra):.2f} us per flow" if flows else ""
            print(f"{n:>3} scenarios: {flows + extra:>10,} flow variables, build "
                  f"{seconds:6.2f} s{per}", flush=True)
            del built
    print(json.dumps(out))


if __name__ == "__main__":
    main()
