"""``python -m tests.bench.game_arithmetic``: the game's arithmetic over every group, timed.

For 8 to 16 players (``BENCH_GAME_PLAYERS``, e.g. ``8,12,16``), a random cost game with every
one of its 2^n - 1 groups: the least core (one LP) and the nucleolus on the imputation set
(sequential LPs, the exact dependence test of :class:`solver.studies.game.nucleolus.ExactBasis`).
Target: the nucleolus of 16 players in under a minute. The costs are subadditive-looking
(economies of scale with noise), so the core may or may not be empty: both paths are timed.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from itertools import combinations
from typing import Any

PLAYERS = [int(n) for n in os.environ.get("BENCH_GAME_PLAYERS",
                                           "8,10,12,14,16").split(",")]


def game(n: int, seed: int = 0) -> tuple[list[str], dict[frozenset[str], float]]:
    """A random cost game of ``n`` players over every group."""
    rng = random.Random(seed)
    players = [f"p{i:02d}" for i in range(n)]
    alone = {p: rng.uniform(10, 100) for p in players}
    c = {}
    for size in range(1, n + 1):
        for g in combinations(players, size):
            c[frozenset(g)] = sum(alone[p] for p in g) * size ** -0.15 * rng.uniform(0.97, 1.03)
    return players, c


def measure(n: int) -> dict[str, Any]:
    """Seconds for the least core and the nucleolus of one random game of ``n`` players."""
    from solver.studies.game.nucleolus import least_core, nucleolus

    players, c = game(n)
    start = time.perf_counter()
    eps, _ = least_core(players, c)
    least = time.perf_counter() - start
    start = time.perf_counter()
    x = nucleolus(players, c)
    nuc = time.perf_counter() - start
    grand = c[frozenset(players)]
    return {"players": n, "groups": len(c), "least_core": eps, "least_core_seconds": least,
            "nucleolus_seconds": nuc, "efficient": abs(sum(x.values()) - grand) < 1e-6 * grand}


def main() -> None:
    """One line per size, then the JSON of all."""
    rows = []
    for n in PLAYERS:
        row = measure(n)
        rows.append(row)
        print(f"game arithmetic, {n} players ({row['groups']:,} groups): least core "
              f"{row['least_core_seconds']:.2f} s, nucleolus {row['nucleolus_seconds']:.2f} s"
              + (" (target < 60 s)" if n == 16 else ""), flush=True)
        if not row["efficient"]:
            sys.exit(f"game bench: the nucleolus of {n} players does not split c(N)")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
