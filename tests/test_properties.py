"""Property-based tests: random tiny cases that are feasible by construction.

Every plan must pass the independent checker, and tightening a requirement (a lower
max_share, more min_suppliers, a higher resilience or min_trust) must never lower the
optimal cost when the tighter case is still feasible.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from solver import load_case, solve

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

MAX_SHARES = (1.0, 0.5, 0.34, 0.25)
SUPPLIER_SHARES = (0.0, 0.05, 0.1, 0.2)
RESILIENCE = (0.0, 0.5, 1.0)
TRUST = (0.4, 0.8, 1.0)
MIN_TRUST = (0.0, 0.5, 0.9)

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Layer:
    name: str
    demand: float
    min_trust: float
    min_suppliers: int
    min_supplier_share: float
    max_share: float
    resilience: float
    redundancy_cost: float
    trusted: int
    """How many partners may supply the layer (capable and trusted enough)."""


@dataclass
class RandomCase:
    partners: list[tuple[str, float, float]]
    layers: list[Layer]
    capabilities: list[tuple[str, str, float, float, float, float]]
    trade: list[tuple[str, float]]
    risk_weight: float

    def write(self, folder: Path) -> Path:
        partners = "partner,trust,disruption_risk\n" + "".join(
            f"{p},{t},{r}\n" for p, t, r in self.partners)
        layers = ("layer,demand,min_trust,min_suppliers,min_supplier_share,max_share,"
                  "resilience,redundancy_cost\n") + "".join(
            f"{x.name},{x.demand},{x.min_trust},{x.min_suppliers},{x.min_supplier_share},"
            f"{x.max_share},{x.resilience},{x.redundancy_cost}\n" for x in self.layers)
        capabilities = "partner,layer,capacity,unit_cost,fixed_cost,min_capacity\n" + "".join(
            f"{p},{layer},{cap},{cost},{fixed},{minc}\n"
            for p, layer, cap, cost, fixed, minc in self.capabilities)
        tables = {"partners": partners, "layers": layers, "capabilities": capabilities}
        if self.trade:
            tables["trade"] = "exporter,importer,unit_cost\n" + "".join(
                f"{p},coalition,{cost}\n" for p, cost in self.trade)
        return write_case(folder, **tables)


@st.composite
def random_cases(draw: st.DrawFn, room: str) -> RandomCase:
    """2-4 partners, 1-2 layers, one consumer; every requirement satisfiable.

    Feasible by construction: each capable partner can build the whole demand of a layer
    (capacity >= demand, so min_capacity <= capacity is harmless), at least one partner is
    trusted for each layer, max_share * trusted >= 1, min_suppliers <= trusted,
    min_supplier_share * trusted <= 1 and min_supplier_share <= max_share, and resilience
    is set only with two or more trusted partners (any one lost leaves >= demand).

    The first layer leaves ``room`` to tighten that requirement (one of :data:`KINDS`) and
    stay feasible (except ``min_trust``, which may leave nobody trusted).
    """
    n_partners = draw(st.integers(2, 4))
    names = [f"P{i}" for i in range(n_partners)]
    trust = {p: draw(st.sampled_from(TRUST)) for p in names}
    partners = [(p, trust[p], draw(st.sampled_from((0.0, 0.1, 0.3)))) for p in names]
    layers: list[Layer] = []
    capabilities = []
    for i in range(draw(st.integers(1, 2))):
        first = i == 0
        name = f"L{i}"
        demand = float(draw(st.integers(1, 100)))
        two = first and room in ("max_share", "resilience")
        capable = draw(st.lists(st.sampled_from(names), min_size=2 if two else 1,
                                max_size=n_partners, unique=True))
        best = max(trust[p] for p in capable)
        min_trust = 0.0 if two else draw(st.sampled_from([t for t in MIN_TRUST if t <= best]))
        trusted = sum(trust[p] >= min_trust for p in capable)
        shares = [s for s in MAX_SHARES if s * trusted >= 1]
        if first and room == "max_share":
            shares = shares[:-1]
        resilience = RESILIENCE[:-1] if first and room == "resilience" else RESILIENCE
        most = trusted - 1 if first and room == "min_suppliers" else trusted
        layers.append(Layer(
            name=name,
            demand=demand,
            min_trust=min_trust,
            min_suppliers=draw(st.integers(0, most)),
            min_supplier_share=draw(st.sampled_from(SUPPLIER_SHARES)),
            max_share=draw(st.sampled_from(shares)),
            resilience=draw(st.sampled_from(resilience)) if trusted >= 2 else 0.0,
            redundancy_cost=draw(st.sampled_from((0.0, 0.5, 2.0))),
            trusted=trusted,
        ))
        for p in capable:
            capacity = demand * draw(st.sampled_from((1.0, 1.5, 3.0)))
            capabilities.append((
                p, name, capacity,
                float(draw(st.integers(0, 10))),
                float(draw(st.sampled_from((0, 5, 50)))),
                draw(st.sampled_from((0.0, 0.5 * demand))),
            ))
    trade = [(p, float(draw(st.integers(0, 3)))) for p in names
             if draw(st.booleans())]
    return RandomCase(partners, layers, capabilities, trade,
                      risk_weight=draw(st.sampled_from((0.0, 1.0))))


def tightening(layer: Layer, kind: str) -> st.SearchStrategy[dict[str, float]]:
    """The requirement ``kind`` of ``layer`` made stricter, to a value that stays feasible."""
    values: list[float]
    if kind == "max_share":
        values = [s for s in MAX_SHARES if s < layer.max_share and s * layer.trusted >= 1]
    elif kind == "min_suppliers":
        values = [float(layer.min_suppliers + 1)]
    elif kind == "resilience":
        values = [r for r in (*RESILIENCE, 0.75) if r > layer.resilience]
    else:
        values = [t for t in (*MIN_TRUST, 1.0) if t > layer.min_trust]
    return st.sampled_from(values).map(lambda v: {f"layers[{layer.name}].{kind}": v})


KINDS = ("max_share", "min_suppliers", "resilience", "min_trust")


@SETTINGS
@given(data=st.data())
def test_random_cases_are_verified_and_tightening_never_lowers_cost(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    random_case = data.draw(random_cases(room=kind), label="case")
    tighter = data.draw(tightening(random_case.layers[0], kind), label="tightening")
    with tempfile.TemporaryDirectory() as tmp:
        case = load_case(random_case.write(Path(tmp) / "case")).with_overrides(
            {"objective.risk_weight": random_case.risk_weight})
        loose = solve(case, mip_gap=1e-9)
        assert loose.status == "optimal"
        assert loose.verified, loose.violations
        assert loose.objective is not None
        tight = solve(case.with_overrides(tighter), mip_gap=1e-9, raise_on_failure=False)
        event(f"tighter {kind}: {tight.status}")
        if tight.status == "infeasible":
            return
        assert tight.status == "optimal"
        assert tight.verified, tight.violations
        assert tight.objective is not None
        # HiGHS may violate a row by 1e-6 (its feasibility tolerance), priced in the cost.
        slack = 1e-6 * (1.0 + abs(loose.objective))
        assert tight.objective >= loose.objective - slack, tighter
