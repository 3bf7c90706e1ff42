"""Build and hand-over of a case over 1, 2 and 4 periods against the same case in one.

``python -m tests.bench.pathway CASE_DIR`` writes ``periods.csv`` (and the installed base,
lead times and lifetimes it makes meaningful) into copies of a generated case, builds and
hands over each as ``coalition solve`` does (:func:`tests.bench.chain.measure`, each in a
fresh process) and prints one JSON object: per period count its seconds, rows, columns and
nonzeros, each size per period, and the time per nonzero of 4 periods against the case without
periods.csv. make bench prints it (README, Performance: within 1.2x, sizes linear in periods).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: The period counts measured.
COUNTS = (1, 2, 4)


def add_periods(case_dir: Path, n: int, seed: int) -> Path:
    """Write ``periods.csv`` of ``n`` periods into ``case_dir``, with an installed base.

    Periods 2 to 5 years apart with demand growing 10% each; a third of the capabilities
    have an installed base of up to half their capacity (retired in a later period for a
    few), lead times of 0 to 3 years and, for some, lifetimes.
    """
    rng = np.random.default_rng(seed)
    years = 2026 + np.concatenate([[0], np.cumsum(rng.integers(2, 6, n - 1))]).astype(int)
    pd.DataFrame({"period": [str(y) for y in years], "year": years,
                  "years": np.append(np.diff(years), 5), "demand_factor": 1.1 ** np.arange(n)}
                 ).to_csv(case_dir / "periods.csv", index=False)
    cap = pd.read_csv(case_dir / "capabilities.csv")
    k = len(cap)
    has_base = rng.random(k) < 1 / 3
    cap["existing"] = np.where(has_base, np.round(cap["capacity"] * rng.random(k) / 2, 2), 0.0)
    until = rng.choice(years[1:], k) if n > 1 else np.full(k, years[0] + 10)
    cap["existing_until"] = pd.array(np.where(has_base & (rng.random(k) < 0.2), until, -1),
                                     dtype="Int64")
    cap.loc[cap["existing_until"] < 0, "existing_until"] = pd.NA
    cap["lead_time"] = rng.integers(0, 4, k).astype(float)
    cap["lifetime"] = np.where(rng.random(k) < 0.3, 10.0, np.nan)
    cap.to_csv(case_dir / "capabilities.csv", index=False)
    return case_dir / "periods.csv"


def run(case_dir: Path, seed: int, repeat: int) -> dict[str, Any]:
    """Measure the case without periods.csv and over each of :data:`COUNTS` periods."""
    from tests.bench.chain import measured, ratio

    with tempfile.TemporaryDirectory(prefix="coalition-pathway-") as tmp:
        folders = {"single": case_dir}
        for n in COUNTS:
            folder = Path(tmp) / f"periods-{n}"
            shutil.copytree(case_dir, folder)
            add_periods(folder, n, seed)
            folders[str(n)] = folder
        got = measured(folders, repeat)
    out: dict[str, Any] = {"single": got.pop("single"), "periods": got}
    for n, m in got.items():
        m.update({f"{k}_per_period": m[k] / int(n) for k in ("rows", "cols", "nnz")})
    out["ratio"] = ratio(got[str(COUNTS[-1])], out["single"])
    one = out["periods"]["1"]
    # How far each size per period strays from one period's (1.0: linear in periods).
    out["linearity"] = max(out["periods"][str(n)][f"{k}_per_period"] / max(one[k], 1)
                           for n in COUNTS for k in ("rows", "cols", "nnz"))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case_dir", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="measure each this many times (the median per nonzero)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.case_dir, args.seed, args.repeat)))


if __name__ == "__main__":
    main()
