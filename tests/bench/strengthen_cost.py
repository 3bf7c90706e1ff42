"""``python -m tests.bench.strengthen_cost [--sizes sample,S,M] [--limit S]``: nothing slower.

``--strengthen auto`` (the default) must never make a solve more than 5% slower than HiGHS
alone (issue 29). On the sample case and the generated cases of each size
(:mod:`solver.case.generate`, seed 1) ``coalition solve`` runs with ``--strengthen auto`` and
with ``--strengthen off``, each in a fresh process. Printed per case: what ``auto`` decided
and the seconds it took (summary.json's ``seconds.strengthen``: the whole cost ``auto`` adds
where it declines), both wall times and their ratio (which also carries the machine's noise:
the two solves are the same HiGHS run when ``auto`` declines). L's MIP takes hours, so with
L in ``--sizes`` every solve gets ``--limit`` seconds (default 120) and only the decision time
is meaningful there. Last, one JSON line with all of it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.run import ROOT, SAMPLE, coalition_command

#: The most ``auto`` may add to a solve, relative (issue 29).
ALLOWED = 0.05


def case_of(name: str, tmp: Path) -> str:
    """The case to solve: the sample model file, or a generated case of size ``name``."""
    if name == "sample":
        return SAMPLE
    folder = tmp / name
    subprocess.run([*coalition_command(), "generate", "--size", name.lower(), "--seed", "1",
                    str(folder)], cwd=ROOT, check=True, capture_output=True)
    return str(folder)


def solve(case: str, out: Path, mode: str, limit: float | None) -> dict[str, Any]:
    """``coalition solve --strengthen mode``: wall seconds and summary.json's figures."""
    extra = ["--time-limit", str(limit)] if limit is not None else []
    start = time.perf_counter()
    subprocess.run([*coalition_command(), "solve", case, "--out", str(out), "-q", "--force",
                    "--strengthen", mode, *extra], cwd=ROOT, check=False,
                   capture_output=True)
    wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text())
    done = summary.get("strengthen") or {}
    return {"wall_s": wall, "status": summary.get("status"),
            "objective": summary.get("objective"),
            "highs_s": summary["seconds"].get("solve"),
            "strengthen_s": summary["seconds"].get("strengthen", 0.0),
            "applied": done.get("applied"), "reason": done.get("reason")}


def main(argv: list[str] | None = None) -> None:
    """Solve each case with auto and off; the table and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="sample,S,M",
                        help="cases: sample and named sizes (default sample,S,M)")
    parser.add_argument("--limit", type=float, default=120.0,
                        help="time limit of the solves at L, seconds (default 120)")
    args = parser.parse_args(argv)
    results = []
    print(f"{'case':<7} {'auto decided':<58} {'auto s':>8} {'wall auto':>10} "
          f"{'wall off':>9} {'ratio':>6}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes.split(","):
            case = case_of(name, Path(tmp))
            limit = args.limit if name == "L" else None
            auto = solve(case, Path(tmp) / f"{name}-auto", "auto", limit)
            off = solve(case, Path(tmp) / f"{name}-off", "off", limit)
            decided = "strengthened" if auto["applied"] else f"declined: {auto['reason']}"
            ratio = auto["wall_s"] / off["wall_s"]
            own = auto["strengthen_s"] / max(off["highs_s"] or off["wall_s"], 1e-9)
            print(f"{name:<7} {decided[:58]:<58} {auto['strengthen_s']:8.4f} "
                  f"{auto['wall_s']:9.2f}s {off['wall_s']:8.2f}s {ratio:6.3f}", flush=True)
            results.append({"case": name, "auto": auto, "off": off, "wall_ratio": ratio,
                            "auto_share_of_solve": own, "within": own <= ALLOWED,
                            "load": os.getloadavg()})
    print(json.dumps({"allowed": ALLOWED, "results": results}))


if __name__ == "__main__":
    main()
