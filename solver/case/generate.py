"""Synthetic cases for scale tests: ``coalition generate`` (README, Commands).

A generated case has the structure of a real one (sparse capabilities, trust tiers, forbidden
routes, shares that bind) and is feasible by construction: the generator first lays out a
*witness* plan, in which every layer is supplied in equal parts by a small core of trusted
partners, and then draws every requirement so that the witness meets it. The optimum is then
cheaper than the witness, usually by shifting supply to cheaper partners up to the binding
``max_share``.

Everything is drawn from one ``numpy`` generator seeded by ``seed`` and written with a fixed
number format, so the same arguments give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from solver.errors import UsageError
from solver.report.writing import write_csv


@dataclass(frozen=True)
class Size:
    """The arguments of a named size."""

    partners: int
    layers: int
    members: int


#: Named sizes for the bench, by the number of flow variables they give (roughly).
SIZES: dict[str, Size] = {
    "S": Size(partners=80, layers=16, members=45),  # ~10k flow variables
    "M": Size(partners=240, layers=30, members=95),  # ~100k
    "L": Size(partners=700, layers=90, members=120),  # ~1M
}

MEMBER_TRUST = (np.array([0.95, 0.85, 0.75]), np.array([0.5, 0.3, 0.2]))
OUTSIDE_TRUST = (np.array([0.9, 0.7, 0.5, 0.3]), np.array([0.2, 0.3, 0.3, 0.2]))
LAYER_MIN_TRUST = (np.array([0.0, 0.5, 0.7, 0.8]), np.array([0.3, 0.3, 0.25, 0.15]))
MAX_SHARES = np.array([0.25, 0.3, 0.35, 0.4, 0.5])

#: Probability that a partner can produce a layer outside the layer's core.
CAPABILITY_DENSITY = 0.3
#: Share of capability pairs with a fixed cost, and its range as a share of the layer's
#: demand times its base unit cost. Fixed costs make the MIP a facility location problem;
#: these keep HiGHS's time on the named sizes at seconds to minutes.
FIXED_COST_RATE, FIXED_COST_RANGE = 0.1, (0.002, 0.02)
#: Share of capability pairs with a minimum efficient scale.
MIN_CAPACITY_RATE = 0.1
#: min_supplier_share values drawn per layer.
SUPPLIER_SHARES = np.array([0.0, 0.01, 0.02])
#: Probability that a member has demand for a layer.
DEMAND_DENSITY = 0.6
#: Share of demand rows with an exit-rights cap, and of core rows with a domestic floor.
DEPENDENCY_RATE, DOMESTIC_RATE = 0.2, 0.3
#: Share of members with a participation floor, and of partners with a ceiling.
FLOOR_RATE, CEILING_RATE = 0.2, 0.1
#: Share of (exporter, importer) routes with a trade cost row.
TRADE_RATE = 0.1
#: Share of members a low-trust outside partner may not export to.
FORBIDDEN_RATE = 0.3


def _tier(rng: np.random.Generator, tiers: tuple[np.ndarray, np.ndarray], n: int
          ) -> np.ndarray:
    """``n`` draws from the tier values ``tiers[0]`` with probabilities ``tiers[1]``."""
    return rng.choice(tiers[0], size=n, p=tiers[1])


def _down(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round down to ``digits`` decimals (keeps a drawn lower-than bound valid)."""
    scale = 10.0**digits
    return np.floor(np.asarray(x, dtype=float) * scale) / scale


def _up(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round up to ``digits`` decimals (keeps a drawn higher-than bound valid)."""
    scale = 10.0**digits
    return np.ceil(np.asarray(x, dtype=float) * scale) / scale


#: The largest case ``generate`` writes: well beyond size L, and still a file set that fits
#: on a laptop (a size is checked before any memory is allocated).
MAX_PARTNERS = 2_000
MAX_LAYERS = 200
#: partners x members x layers, which the number of flow variables follows: 10 times L's.
MAX_PRODUCT = 10 * 700 * 120 * 90


def generate_case(partners: int, layers: int, members: int, seed: int,
                  out_dir: str | Path) -> Path:
    """Write a feasible synthetic case folder of the given size; return its path.

    ``members`` of the ``partners`` are coalition members (they carry demand); the rest are
    outside suppliers. The folder is created if needed; existing case files are replaced.
    """
    if partners < 1 or layers < 1 or members < 1:
        raise UsageError("--partners, --layers and --members must be at least 1")
    if members > partners:
        raise UsageError(f"--members ({members}) cannot exceed --partners ({partners})")
    for flag, value, most in (("--partners", partners, MAX_PARTNERS),
                              ("--layers", layers, MAX_LAYERS)):
        if value > most:
            raise UsageError(f"{flag} {value}: at most {most:,} (size L has "
                             f"{getattr(SIZES['L'], flag[2:])})")
    if partners * members * layers > MAX_PRODUCT:
        raise UsageError(f"--partners {partners} x --members {members} x --layers {layers} "
                         f"= {partners * members * layers:,}: at most {MAX_PRODUCT:,} (ten "
                         "times size L, about 10M flow variables)")
    if not 0 <= seed < 2**32:
        raise UsageError(f"--seed {seed}: a seed is a whole number from 0 to {2**32 - 1}")
    rng = np.random.default_rng(seed)
    n_p, n_l, n_m = partners, layers, members

    # Partners: the first n_m are members; trust comes in tiers.
    pid = np.array([f"P{i + 1:04d}" for i in range(n_p)], dtype=object)
    is_member = np.arange(n_p) < n_m
    trust = np.where(is_member, _tier(rng, MEMBER_TRUST, n_p),
                     _tier(rng, OUTSIDE_TRUST, n_p))
    risk = _down(rng.uniform(0.0, 0.1, n_p))

    # Layers: value, trust floor, the share cap and the size of the core that meets it.
    lid = np.array([f"L{i + 1:03d}" for i in range(n_l)], dtype=object)
    min_trust = _tier(rng, LAYER_MIN_TRUST, n_l)
    max_share = rng.choice(MAX_SHARES, size=n_l)
    unit_value = np.round(rng.uniform(0.5, 3.0, n_l), 2)
    core_size = np.ceil(1.0 / max_share - 1e-9).astype(int) + rng.integers(0, 3, n_l)
    extra = rng.random((n_p, n_l)) < CAPABILITY_DENSITY
    core = np.zeros((n_p, n_l), dtype=bool)
    for layer in range(n_l):
        eligible = np.flatnonzero(trust >= min_trust[layer])
        if len(eligible) < core_size[layer]:
            # Too few trusted partners in a tiny case: relax the trust floor.
            min_trust[layer] = 0.0
            eligible = np.arange(n_p)
        k = min(int(core_size[layer]), len(eligible))
        core_size[layer] = k
        core[rng.choice(eligible, size=k, replace=False), layer] = True
    max_share = np.maximum(max_share, _up(1.0 / core_size, 2))
    capable = core | extra

    # Demand: each member needs each layer with some probability; every layer has demand.
    needs = rng.random((n_m, n_l)) < DEMAND_DENSITY
    for missing in np.flatnonzero(~needs.any(axis=0)):
        needs[rng.integers(n_m), missing] = True
    amount = np.round(rng.lognormal(np.log(100.0), 0.8, (n_m, n_l)), 2) + 0.01
    demand = np.where(needs, amount, 0.0)
    total = demand.sum(axis=0)
    witness = total / core_size  # what each core partner supplies in the witness plan

    # Layer requirements, each met by the witness (built = demand, k = q = witness).
    min_suppliers = np.minimum(core_size, rng.integers(2, 5, n_l))
    min_supplier_share = np.minimum(rng.choice(SUPPLIER_SHARES, n_l), _down(0.5 / core_size))
    resilience = np.where(rng.random(n_l) < 0.5,
                          _down(rng.uniform(0.3, 0.9, n_l) * (1.0 - 1.0 / core_size), 2), 0.0)
    redundancy_cost = np.round(rng.uniform(0.0, 0.05, n_l), 3)
    max_surplus = np.where(rng.random(n_l) < 0.4, np.round(rng.uniform(0.2, 1.0, n_l), 2),
                           np.nan)

    # Capabilities: core partners can carry their witness share with room to spare; others
    # have a random capacity and may be cheaper (the trade-off the optimum explores).
    cp, cl = np.nonzero(capable)
    is_core = core[cp, cl]
    base_cost = rng.uniform(0.5, 2.0, n_l)
    cap_core = witness[cl] * rng.uniform(1.1, 2.5, len(cp))
    cap_other = total[cl] * max_share[cl] * rng.uniform(0.2, 1.2, len(cp))
    capacity = _up(np.where(is_core, cap_core, cap_other), 2)
    min_capacity = np.where(
        rng.random(len(cp)) < MIN_CAPACITY_RATE,
        _down(np.where(is_core, witness[cl], capacity) * rng.uniform(0.1, 0.8, len(cp)), 2),
        0.0)
    unit_cost = np.round(base_cost[cl] * rng.uniform(0.6, 1.6, len(cp)), 4)
    fixed_cost = np.where(
        rng.random(len(cp)) < FIXED_COST_RATE,
        np.round(total[cl] * base_cost[cl] * rng.uniform(*FIXED_COST_RANGE, len(cp)), 2), 0.0)

    # Demand rows: exit-rights caps the witness meets, domestic floors only at home cores.
    dm, dl = np.nonzero(needs)
    row_k = core_size[dl]
    max_dependency = np.where(
        rng.random(len(dm)) < DEPENDENCY_RATE,
        np.minimum(1.0, _up(np.maximum(1.0 / row_k + 0.05, rng.uniform(0.3, 0.8, len(dm))), 2)),
        1.0)
    home_core = core[dm, dl]
    min_domestic = np.where(home_core & (rng.random(len(dm)) < DOMESTIC_RATE),
                            _down(rng.uniform(0.2, 1.0, len(dm)) / row_k, 2), 0.0)

    # Participation: value each partner supplies in the witness, as a share of the total.
    value = (core * (unit_value * witness)).sum(axis=1)
    share = value / float(unit_value @ total)
    floor = np.where(is_member & (share > 0) & (rng.random(n_p) < FLOOR_RATE),
                     _down(0.8 * share), 0.0)
    ceiling = np.where(rng.random(n_p) < CEILING_RATE,
                       np.minimum(1.0, _up(1.5 * share + 0.02)), 1.0)

    # Trade: costs on a sample of routes; low-trust outsiders outside every core are
    # forbidden to export to some members (no core route is ever cut).
    ex, im = np.nonzero(rng.random((n_p, n_m)) < TRADE_RATE)
    keep = ex != im
    ex, im = ex[keep], im[keep]
    t_cost = np.round(rng.uniform(0.0, 0.3, len(ex)), 4)
    sanctioned = np.flatnonzero(~is_member & (trust < 0.6) & ~core.any(axis=1))
    ban = rng.random((len(sanctioned), n_m)) < FORBIDDEN_RATE
    bx, bm = np.nonzero(ban)
    routes = pd.DataFrame({
        "exporter": pid[np.concatenate([ex, sanctioned[bx]])],
        "importer": pid[np.concatenate([im, bm])],
        "unit_cost": np.concatenate([t_cost, np.zeros(len(bx))]),
        "allowed": np.concatenate([np.ones(len(ex), dtype=bool), np.zeros(len(bx), dtype=bool)]),
    })
    routes = routes.drop_duplicates(["exporter", "importer"], keep="last")
    routes["allowed"] = np.where(routes["allowed"], "true", "false")

    tables = {
        "partners": pd.DataFrame({
            "partner": pid,
            "name": [f"Partner {i + 1}" for i in range(n_p)],
            "member": np.where(is_member, "true", "false"),
            "trust": trust,
            "min_participation": floor,
            "max_participation": ceiling,
            "disruption_risk": risk,
        }),
        "layers": pd.DataFrame({
            "layer": lid,
            "name": [f"Layer {i + 1}" for i in range(n_l)],
            "unit_value": unit_value,
            "min_suppliers": min_suppliers,
            "min_supplier_share": min_supplier_share,
            "max_share": max_share,
            "min_trust": min_trust,
            "resilience": resilience,
            "redundancy_cost": redundancy_cost,
            "max_surplus": max_surplus,
        }),
        "capabilities": pd.DataFrame({
            "partner": pid[cp], "layer": lid[cl], "capacity": capacity,
            "unit_cost": unit_cost, "fixed_cost": fixed_cost, "min_capacity": min_capacity,
        }),
        "demand": pd.DataFrame({
            "member": pid[dm], "layer": lid[dl], "demand": demand[dm, dl],
            "max_dependency": max_dependency, "min_domestic": min_domestic,
        }),
        "trade": routes.sort_values(["exporter", "importer"]),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        if frame.empty:  # only trade.csv can be: a tiny case may draw no route
            path.unlink(missing_ok=True)
            continue
        write_csv(path, frame, float_format="%.10g", lineterminator="\n")
    return out

