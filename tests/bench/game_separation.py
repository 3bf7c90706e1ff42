"""``python -m tests.bench.game_separation``: separation against enumeration, 8 to 10 members.

On random games (:mod:`tests.game_cases`), every proper group's c(S) is enumerated and the
separation MIP's most blocking group (of the Shapley split and of a lopsided one) and the
least core by row generation must equal what the enumeration gives; the run stops with an
error if they do not. Prints the time of each and how few groups row generation needed.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

CASES = [(0, 8), (1, 8), (2, 9), (3, 10)]


def main() -> None:
    """One line per random game, then the JSON of all."""
    from tests.game_cases import compare

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed, n in CASES:
            start = time.perf_counter()
            try:
                row = compare(Path(tmp) / f"case-{seed}", seed, n)
            except AssertionError as exc:
                sys.exit(f"game separation bench: seed {seed}, {n} members: separation and "
                         f"enumeration differ: {exc}")
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            print(f"game separation, {n} members (seed {seed}): equal to enumeration of "
                  f"{row['groups']:,} groups; least core {row['least_core']:.6g} from "
                  f"{row['rows_needed']} groups in {row['rounds']} rounds; "
                  f"{row['seconds']:.1f} s", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
