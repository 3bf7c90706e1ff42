"""``python -m tests.bench.hard_cap [NAME ...] [--all] [--off-limit S] [--no-off]``: proofs.

The hard OR-Library capacitated facility instances (capa, capb, capc: 100 sites x 1,000
customers, ``tests/orlib/cap[abc].txt.gz``) are written as case folders
(:mod:`tests.orlib_cases`) and solved by ``coalition solve`` twice in a fresh process each:
with the defaults (``--strengthen auto``, which strengthens them) and with HiGHS alone
(``--strengthen off``, under ``--time-limit`` so the bench ends). Printed per instance: the
wall time to proof (or to the limit), the gap, the objective against the published optimum
and what the strengthening did; then one JSON line with all of it and the load average
(the machine is shared: times depend on it). Default instances: capa_8000, capb_6000,
capc_5750 (issue 29); ``--all`` runs the 12.
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

from tests.bench.run import ROOT, coalition_command
from tests.orlib_cases import ORLIB_DIR, optimum, write_orlib_case

DEFAULT = ("capa_8000", "capb_6000", "capc_5750")
ALL = tuple(f"{family}_{capacity}" for family, capacities in (
    ("capa", (8000, 10000, 12000, 14000)), ("capb", (5000, 6000, 7000, 8000)),
    ("capc", (5000, 5750, 6500, 7250))) for capacity in capacities)
#: A proof: the gap HiGHS stops at by default (SPEC: mip_gap 1e-4).
PROVED_GAP = 1e-4


def write_instance(name: str, folder: Path) -> Path:
    """The case folder of ``name`` (``capa_8000``: file capa, capacity 8000)."""
    family, capacity = name.split("_")
    write_orlib_case(ORLIB_DIR / f"{family}.txt.gz", folder, capacity=float(capacity))
    return folder


def solve_timed(case: Path, out: Path, extra: list[str]) -> dict[str, Any]:
    """``coalition solve case`` with ``extra`` options: wall seconds and summary.json."""
    start = time.perf_counter()
    proc = subprocess.run([*coalition_command(), "solve", str(case), "--out", str(out), "-q",
                           *extra], cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    summary = out / "summary.json"
    if not summary.exists():
        return {"wall_s": seconds, "exit": proc.returncode, "error": proc.stderr[-500:]}
    data = json.loads(summary.read_text())
    return {"wall_s": seconds, "exit": proc.returncode, "status": data.get("status"),
            "objective": data.get("objective"), "bound": data.get("bound"),
            "gap": data.get("gap"), "verified": data.get("verified"),
            "strengthen": data.get("strengthen")}


def proved(run: dict[str, Any], best: float) -> bool:
    """Optimal at the published optimum, with a gap of at most ``PROVED_GAP``."""
    gap, objective = run.get("gap"), run.get("objective")
    return (run.get("status") == "optimal" and gap is not None and gap <= PROVED_GAP
            and objective is not None and abs(objective - best) <= 1e-6 * abs(best))


def cell(run: dict[str, Any] | None, best: float) -> str:
    """One column of the table: time to proof, or to the end and the gap left."""
    if run is None:
        return "-"
    if "error" in run:
        return f"failed (exit {run['exit']})"
    gap = run.get("gap")
    gap_text = f"gap {100 * gap:.4f}%" if gap is not None else "no bound"
    word = "proved" if proved(run, best) else "NOT proved"
    return f"{run['wall_s']:7.1f} s {word}, {gap_text}"


def main(argv: list[str] | None = None) -> None:
    """Solve each instance with the defaults and with HiGHS alone; the table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"instances (default {' '.join(DEFAULT)})")
    parser.add_argument("--all", action="store_true", help="all 12 instances of the class")
    parser.add_argument("--off-limit", type=float, default=600.0,
                        help="time limit of HiGHS alone, seconds (default 600)")
    parser.add_argument("--no-off", action="store_true", help="skip HiGHS alone")
    args = parser.parse_args(argv)
    names = ALL if args.all else tuple(args.names) or DEFAULT
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        parser.error(f"unknown instance(s) {', '.join(unknown)}; known: {', '.join(ALL)}")
    results = []
    print(f"{'instance':<11} {'defaults (strengthen auto)':<38} HiGHS alone "
          f"(--strengthen off, limit {args.off_limit:.0f} s)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            case = write_instance(name, Path(tmp) / name)
            best = optimum(name)
            load = os.getloadavg()
            auto = solve_timed(case, Path(tmp) / f"{name}-auto", [])
            off = None if args.no_off else solve_timed(
                case, Path(tmp) / f"{name}-off",
                ["--strengthen", "off", "--time-limit", str(args.off_limit)])
            print(f"{name:<11} {cell(auto, best):<38} {cell(off, best)}", flush=True)
            done = auto.get("strengthen") or {}
            if done.get("applied"):
                print(f"{'':<11} strengthen {done['seconds']:.1f} s: Lagrangian bound "
                      f"{done['lagrangian_bound']:.1f}, plan {done['plan_cost']}, "
                      f"{done['closed']} of {done['hosts']} hosts closed, {done['opened']} "
                      f"opened, {done['rows_added']} rows", flush=True)
            results.append({"instance": name, "optimum": best, "load_before": load,
                            "load_after": os.getloadavg(), "auto": auto, "off": off,
                            "auto_proved": proved(auto, best),
                            "off_proved": off is not None and proved(off, best)})
    print(json.dumps({"cores": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
