"""Small case folders for tests: a valid base case and a generator of larger random ones.

``write_case(folder, **tables)`` writes the base case with any table replaced by the CSV
text given (or left out when given ``None``); tests make one fault per fixture this way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: A small valid case. Layer ``chips`` may be supplied only by A and B (trust >= 0.7).
BASE: dict[str, str] = {
    "partners": (
        "partner,name,member,trust\n"
        "A,Alpha,true,0.9\n"
        "B,Beta,true,0.8\n"
        "C,Gamma,true,0.6\n"
        "X,Outside,false,0.5\n"
    ),
    "layers": (
        "layer,demand,min_suppliers,max_share,min_trust\n"
        "chips,100,2,0.6,0.7\n"
        "cloud,50,1,1,0\n"
    ),
    "capabilities": (
        "partner,layer,capacity,unit_cost,fixed_cost\n"
        "A,chips,80,1.0,5\n"
        "B,chips,60,1.2,5\n"
        "C,chips,100,0.8,5\n"
        "A,cloud,50,2,1\n"
        "B,cloud,40,1.5,1\n"
        "X,cloud,30,1,1\n"
    ),
}

#: demand.csv matching BASE's layers.demand, for cases that need per-member demand.
DEMAND = (
    "member,layer,demand\n"
    "A,chips,60\n"
    "B,chips,40\n"
    "A,cloud,20\n"
    "C,cloud,30\n"
)

#: BASE's layers.csv without layers.demand (to go with :data:`DEMAND`).
LAYERS_NO_DEMAND = (
    "layer,min_suppliers,max_share,min_trust\n"
    "chips,2,0.6,0.7\n"
    "cloud,1,1,0\n"
)


def write_case(folder: Path, **tables: str | bytes | None) -> Path:
    """Write :data:`BASE` into ``folder`` with ``tables`` replacing (or, as None, removing) some.

    A table given as bytes is written as is (for encoding faults); ``demand=DEMAND`` adds a
    demand.csv. Returns ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    content: dict[str, str | bytes | None] = {**BASE, **tables}
    for name, text in content.items():
        path = folder / f"{name}.csv"
        if text is None:
            path.unlink(missing_ok=True)
        elif isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return folder


def write_random_case(folder: Path, partners: int, layers: int, members: int,
                      seed: int = 0) -> Path:
    """A random feasible case with demand.csv, sized for solver-time tests.

    Every partner can supply most layers with ample capacity, so the case is feasible;
    fixed costs, shares and N-1 requirements make it a real MILP that takes HiGHS a while.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    p_ids = [f"P{i:03d}" for i in range(partners)]
    l_ids = [f"L{i:02d}" for i in range(layers)]
    lines = ["partner,member,trust"]
    lines += [f"{p},{'true' if i < members else 'false'},{rng.uniform(0.5, 1):.3f}"
              for i, p in enumerate(p_ids)]
    (folder / "partners.csv").write_text("\n".join(lines) + "\n")
    lines = ["layer,min_suppliers,max_share,min_trust,resilience,redundancy_cost"]
    lines += [f"{la},3,0.4,0.5,0.5,0.05" for la in l_ids]
    (folder / "layers.csv").write_text("\n".join(lines) + "\n")
    demand = rng.uniform(10, 100, size=(members, layers)).round(1)
    lines = ["partner,layer,capacity,unit_cost,fixed_cost"]
    for p in p_ids:
        for j, la in enumerate(l_ids):
            if rng.random() < 0.8:
                cap = demand[:, j].sum() * rng.uniform(0.2, 0.6)
                lines.append(f"{p},{la},{cap:.1f},{rng.uniform(0.5, 2):.3f},"
                             f"{rng.uniform(5, 50):.1f}")
    (folder / "capabilities.csv").write_text("\n".join(lines) + "\n")
    lines = ["member,layer,demand"]
    lines += [f"{p_ids[i]},{la},{demand[i, j]}" for i in range(members)
              for j, la in enumerate(l_ids)]
    (folder / "demand.csv").write_text("\n".join(lines) + "\n")
    lines = ["exporter,importer,unit_cost"]
    lines += [f"{e},{p_ids[i]},{rng.uniform(0, 0.5):.3f}" for e in p_ids
              for i in range(members) if e != p_ids[i]]
    (folder / "trade.csv").write_text("\n".join(lines) + "\n")
    return folder
