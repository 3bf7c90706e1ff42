"""Build and hand-over of a case with a chain against the same case without one.

``python -m tests.bench.chain CASE_DIR`` builds the model of the case and hands it over to
HiGHS (no solve) and prints one JSON object: build and hand-over seconds, rows, columns and
nonzeros. :func:`add_chain` writes an inputs.csv into a generated case: every layer with 2 or
3 inputs (seeded), sources mixed as a real stack's are (mostly ``any``, some ``bloc`` and
``local``), coefficients small enough for a productive chain. make bench compares the time per
nonzero of the two (README, Performance: within 1.2x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def add_chain(case_dir: Path, seed: int) -> Path:
    """Write ``inputs.csv`` into ``case_dir``: 2-3 inputs per layer; return its path."""
    rng = np.random.default_rng(seed)
    layers = pd.read_csv(case_dir / "layers.csv")["layer"].astype(str).tolist()
    rows = []
    for layer in layers:
        others = [m for m in layers if m != layer]
        for inp in rng.choice(others, size=int(rng.integers(2, 4)), replace=False):
            rows.append({"layer": layer, "input": str(inp),
                         "per_unit": float(rng.choice([0.02, 0.05, 0.1])),
                         "source": str(rng.choice(["any", "any", "bloc", "local"]))})
    path = case_dir / "inputs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def measure(case_dir: str, pyomo: bool = False) -> dict[str, Any]:
    """Build the case's model as solve() does and hand it over to HiGHS; seconds and size.

    A pathway case (periods.csv) is built as :func:`solver.solve_pathway.solve_pathway`
    builds it. ``pyomo`` builds and compiles the Pyomo model even where the array path
    applies.
    """
    from solver.case.loader import load_case
    from solver.case.periods import uses_pathway
    from solver.highs.runner import HighsRunner
    from solver.model.assembly import assemble
    from solver.model.build import build
    from solver.model.pathway import build_pathway
    from solver.model.pathway_arrays import assemble_pathway
    from solver.solve import hand_over
    from solver.solve_pathway import hand_over_pathway

    case = load_case(case_dir)
    pathway = uses_pathway(case)
    start = time.perf_counter()
    if pathway:
        built: Any = (None if pyomo else assemble_pathway(case)) or build_pathway(case)
    else:
        built = (None if pyomo else assemble(case)) or build(case)
    build_seconds = time.perf_counter() - start
    runner = HighsRunner(threads=1)
    start = time.perf_counter()
    (hand_over_pathway if pathway else hand_over)(runner, built)
    handover = time.perf_counter() - start
    h = runner.highs
    return {"build": build_seconds, "handover": handover, "rows": h.getNumRow(),
            "cols": h.getNumCol(), "nnz": h.getNumNz(),
            "per_nnz_us": 1e6 * (build_seconds + handover) / max(h.getNumNz(), 1)}


def measured(folders: dict[str, Path], repeat: int = 3) -> dict[str, dict[str, Any]]:
    """:func:`measure` of each folder in fresh processes, the folders in turn ``repeat`` times.

    Per folder: its first run, with ``per_nnz_us`` the median and ``runs`` all of them.
    Taking the folders in turn puts each round under about the same load of a shared machine:
    compare them round by round (:func:`ratio`).
    """
    from tests.bench.run import python_module

    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in folders}
    for _ in range(max(repeat, 1)):
        for label, folder in folders.items():
            runs[label].append(python_module("tests.bench.chain", str(folder)))
    out = {}
    for label, got in runs.items():
        out[label] = {**got[0], "per_nnz_us": statistics.median(r["per_nnz_us"] for r in got),
                      "runs": [r["per_nnz_us"] for r in got]}
    return out


def ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    """The median, over rounds, of ``a``'s time per nonzero over ``b``'s in the same round."""
    return statistics.median(x / max(y, 1e-12) for x, y in zip(a["runs"], b["runs"], strict=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case_dir")
    parser.add_argument("--pyomo", action="store_true", help="build the Pyomo model")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.case_dir, args.pyomo)))


if __name__ == "__main__":
    main()
