"""Property-based tests with per-member demand: random small cases with demand.csv.

The cases of ``test_properties.py`` have one consumer and no demand.csv. These have 2-3
members with their own demand, outside suppliers, trade.csv with trade costs and forbidden
routes, and random max_dependency, min_domestic, participation bounds, max_surplus and
budget. Each case is solved exactly (mip_gap 0) and

* a plan passes the independent checker, in memory and when written and re-read;
* a case built to be feasible is solved, with no presolve finding;
* a presolve finding means infeasible: HiGHS, run without the presolve checks, agrees;
* tightening one requirement never lowers the optimal cost, and loosening one keeps a
  feasible case feasible and never raises the cost.

"Sound" cases are feasible by construction: every member can build its own demand of every
layer at home (trusted, enough capacity, min_capacity at most its demand), and every
requirement admits that plan (the self-sufficiency plan: each member builds and supplies
exactly its own demand, nobody trades). The other cases draw some requirements freely, so
they are often infeasible.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from solver import check_run, load_case, solve
from solver.case.loader import Case
from solver.diagnose.presolve import find_infeasibilities
from solver.results import Result

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case  # type: ignore[no-redef]

# A solve of these cases takes ~0.1 s and loading one ~0.1 s: keep the examples few.
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
PER_KIND = settings(SETTINGS, max_examples=4)

KINDS = ("max_dependency", "min_domestic", "min_participation", "max_participation",
         "max_surplus", "budget")

MAX_DEPENDENCY = (1.0, 0.7, 0.5, 0.2, 0.0)
MIN_DOMESTIC = (0.0, 0.3, 0.7, 1.0)
MAX_SURPLUS = (None, 0.0, 0.2, 1.0)


def rel_slack(x: float) -> float:
    """What two exact optima may differ by: 1e-6 relative (HiGHS tolerances)."""
    return 1e-6 * (1.0 + abs(x))


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """A CSV table; a ``None`` cell is written empty (the column's default)."""
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return repr(value) if isinstance(value, float) else str(value)

    return ",".join(columns) + "\n" + "".join(
        ",".join(cell(row.get(c)) for c in columns) + "\n" for row in rows)


@dataclass
class MemberCase:
    partners: list[dict[str, Any]]
    layers: list[dict[str, Any]]
    capabilities: list[dict[str, Any]]
    demand: list[dict[str, Any]]
    trade: list[dict[str, Any]]
    budget: float | None
    risk_weight: float
    sound: bool
    """Feasible by construction (the self-sufficiency plan meets every requirement)."""

    def write(self, folder: Path) -> Path:
        tables = {
            "partners": csv_text(("partner", "member", "trust", "min_participation",
                                  "max_participation", "disruption_risk"), self.partners),
            "layers": csv_text(("layer", "unit_value", "min_suppliers", "min_supplier_share",
                                "max_share", "min_trust", "resilience", "redundancy_cost",
                                "max_surplus"), self.layers),
            "capabilities": csv_text(("partner", "layer", "capacity", "unit_cost",
                                      "fixed_cost", "min_capacity"), self.capabilities),
            "demand": csv_text(("member", "layer", "demand", "max_dependency",
                                "min_domestic"), self.demand),
        }
        if self.trade:
            tables["trade"] = csv_text(("exporter", "importer", "unit_cost", "allowed"),
                                       self.trade)
        return write_case(folder, **tables)

    def load(self, folder: Path) -> Case:
        overrides: dict[str, Any] = {"solver.mip_gap": 0.0,
                                     "objective.risk_weight": self.risk_weight}
        if self.budget is not None:
            overrides["objective.budget"] = self.budget
        return load_case(self.write(folder)).with_overrides(overrides)


@st.composite
def member_cases(draw: st.DrawFn, sound: bool) -> MemberCase:
    """2-3 members, 1-2 outside suppliers, 1-3 layers; see the module docstring.

    An unsound case draws each requirement freely one time in five (else as a sound one).
    """

    def wild() -> bool:
        """Whether this requirement is drawn freely: never if sound, else one time in five."""
        return not sound and draw(st.integers(0, 4)) == 4

    def pick(safe: Sequence[Any], free: Sequence[Any]) -> Any:
        return draw(st.sampled_from(list(free) if wild() else list(safe)))

    members = [f"M{i}" for i in range(draw(st.integers(2, 3)))]
    outside = [f"X{i}" for i in range(draw(st.integers(1, 2)))]
    layers = [f"L{i}" for i in range(draw(st.integers(1, 3)))]
    d: dict[tuple[str, str], int] = {}
    for layer in layers:
        for i, m in enumerate(members):
            # The first member always has demand: every layer has some (D_l >= 5).
            d[m, layer] = draw(st.integers(5, 20) if i == 0
                               else st.one_of(st.just(0), st.integers(5, 20)))
    total = {layer: sum(d[m, layer] for m in members) for layer in layers}
    value = {layer: draw(st.sampled_from((1.0, 2.0, 0.5))) for layer in layers}
    big_v = sum(value[la] * total[la] for la in layers)

    layer_rows = []
    for layer in layers:
        hosts = sum(d[m, layer] > 0 for m in members)
        top = max(d[m, layer] for m in members) / total[layer]
        layer_rows.append({
            "layer": layer,
            "unit_value": value[layer],
            "min_suppliers": draw(st.integers(0, hosts + len(outside) if wild() else hosts)),
            # d >= 5 and D <= 60, so each member's own demand is >= 5/60 of the layer's.
            "min_supplier_share": pick((0.0, 0.05), (0.0, 0.05, 0.3)),
            "max_share": pick([s for s in (1.0, 0.8, 0.6, 0.5) if s == 1 or s >= top + 1e-9],
                              (1.0, 0.6, 0.4)),
            "min_trust": draw(st.sampled_from((0.0, 0.5))),
            "resilience": pick((0.0,), (0.0, 0.0, 0.5)),
            "redundancy_cost": draw(st.sampled_from((0.0, 0.5))),
            "max_surplus": draw(st.sampled_from(MAX_SURPLUS)),
        })

    capability_rows = []
    self_cost = 0.0
    for m in members:
        for layer in layers:
            own = d[m, layer]
            # A member with demand can build it at home (in a sound case, and always the
            # first member: capabilities.csv may not be empty); others may.
            if own == 0:
                capable = draw(st.booleans())
            else:
                capable = m == members[0] or pick((True,), (True, True, False))
            if not capable:
                continue
            capacity = total[layer] * pick((1.0, 2.0), (1.0, 2.0, 0.2))
            unit_cost = float(draw(st.integers(1, 10)))
            fixed = float(draw(st.sampled_from((0, 5, 30))))
            base = min(own, capacity) if own > 0 else capacity
            min_capacity = pick((0.0, 0.5 * base), (0.0, 0.5 * base, capacity))
            capability_rows.append({"partner": m, "layer": layer, "capacity": capacity,
                                    "unit_cost": unit_cost, "fixed_cost": fixed,
                                    "min_capacity": min_capacity})
            if own > 0:
                self_cost += fixed + unit_cost * own
    for x in outside:
        for layer in layers:
            if draw(st.integers(0, 4)) == 0:
                continue
            capacity = total[layer] * draw(st.sampled_from((0.5, 1.0, 2.0)))
            capability_rows.append({
                "partner": x, "layer": layer, "capacity": capacity,
                "unit_cost": float(draw(st.integers(0, 5))),
                "fixed_cost": float(draw(st.sampled_from((0, 5, 30)))),
                "min_capacity": draw(st.sampled_from((0.0, 0.25 * capacity))),
            })

    partner_rows = []
    for m in members:
        share = sum(value[la] * d[m, la] for la in layers) / big_v
        if not wild():
            lo = share * draw(st.sampled_from((0.0, 0.5, 0.9)))
            hi = min(1.0, share * draw(st.sampled_from((1.2, 2.0)))) \
                if draw(st.booleans()) else 1.0
        else:
            lo = draw(st.sampled_from((0.0, 0.1, 0.3, 0.5)))
            hi = draw(st.sampled_from([h for h in (1.0, 0.5, 0.2) if h >= lo]))
        partner_rows.append({
            "partner": m, "member": True,
            "trust": pick((0.8, 1.0), (0.8, 1.0, 0.4)),
            "min_participation": lo, "max_participation": hi,
            "disruption_risk": draw(st.sampled_from((0.0, 0.1, 0.3))),
        })
    for x in outside:
        lo = pick((0.0,), (0.0, 0.0, 0.2))
        partner_rows.append({
            "partner": x, "member": False,
            "trust": draw(st.sampled_from((0.3, 0.6, 1.0))),
            "min_participation": lo,
            "max_participation": draw(st.sampled_from([h for h in (0.0, 0.2, 0.5, 1.0)
                                                       if h >= lo])),
            "disruption_risk": draw(st.sampled_from((0.0, 0.1, 0.3))),
        })

    demand_rows = []
    write_zeros = draw(st.booleans())
    for m in members:
        for layer in layers:
            if d[m, layer] == 0 and not write_zeros:
                continue
            demand_rows.append({
                "member": m, "layer": layer, "demand": d[m, layer],
                "max_dependency": draw(st.sampled_from(MAX_DEPENDENCY)),
                "min_domestic": draw(st.sampled_from(MIN_DOMESTIC)),
            })

    trade_rows = []
    for exporter in members + outside:
        for importer in members:
            if exporter == importer:
                continue
            kind = draw(st.sampled_from(("none", "none", "cost", "forbidden")))
            if kind != "none":
                trade_rows.append({"exporter": exporter, "importer": importer,
                                   "unit_cost": float(draw(st.integers(0, 4))),
                                   "allowed": kind == "cost"})

    factor = pick((None, 1.01, 1.5, 3.0), (None, 1.5, 0.8, 0.3))
    budget = None if factor is None else self_cost * factor + 1.0
    return MemberCase(partner_rows, layer_rows, capability_rows, demand_rows, trade_rows,
                      budget=budget, risk_weight=draw(st.sampled_from((0.0, 1.0))),
                      sound=sound)


def assert_verified(case: Case, result: Result, folder: Path) -> None:
    """The plan passes the checker, in memory and written to ``folder`` and re-read."""
    assert result.status == "optimal", result.status
    assert result.violations == [], [str(v) for v in result.violations]
    assert result.verified is True
    assert result.objective is not None
    result.write(folder)
    assert check_run(case, folder) == []


def solve_unscreened(case: Case) -> Result:
    """Solve with HiGHS even when the presolve checks have findings."""
    with mock.patch("solver.diagnose.presolve.find_infeasibilities", return_value=[]):
        result = solve(case, raise_on_failure=False)
    # Were the checks really bypassed? (A findings-only outcome says "presolve".)
    assert result.summary["solver"]["termination"] != "presolve"
    return result


@pytest.mark.parametrize("sound", [True, False], ids=["sound", "wild"])
@SETTINGS
@given(data=st.data())
def test_random_member_cases_are_verified_and_findings_mean_infeasible(
        sound: bool, data: st.DataObject) -> None:
    random_case = data.draw(member_cases(sound), label="case")
    with tempfile.TemporaryDirectory() as tmp:
        case = random_case.load(Path(tmp) / "case")
        findings = find_infeasibilities(case)
        result = solve(case, raise_on_failure=False)
        event(f"{result.status}, {'some' if findings else 'no'} presolve findings")
        if random_case.sound:
            # Feasible by construction: no finding, and HiGHS finds the optimum.
            assert findings == [], [str(f) for f in findings]
            assert result.status == "optimal"
        if result.has_solution:
            assert findings == [], [str(f) for f in findings]
            assert_verified(case, result, Path(tmp) / "run")
            return
        assert result.status == "infeasible"
        if findings:
            # A finding is a proof of infeasibility: the model itself has no plan either.
            unscreened = solve_unscreened(case)
            assert unscreened.status == "infeasible", (
                [str(f) for f in findings], unscreened.status, unscreened.objective)


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    value: float


def changes(case: Case, spend: float, tighter: bool) -> list[Change]:
    """Every single change of one requirement of ``case``, tighter or looser, that stays valid.

    ``spend`` is the optimal plan's fixed + capacity + trade cost (to tighten the budget
    around it). Participation stays min <= max (else the case would not validate).
    """
    out: list[Change] = []
    assert case.demand_table is not None
    for row in case.demand_table.itertuples():
        key = f"demand[{row.member},{row.layer}]"
        dep, dom = float(row.max_dependency), float(row.min_domestic)
        out += [Change("max_dependency", f"{key}.max_dependency", v)
                for v in (*MAX_DEPENDENCY, 0.9) if (v < dep if tighter else v > dep)]
        out += [Change("min_domestic", f"{key}.min_domestic", v)
                for v in (*MIN_DOMESTIC, 0.5) if (v > dom if tighter else v < dom)]
    for row in case.partners.itertuples():
        key = f"partners[{row.partner}]"
        lo, hi = float(row.min_participation), float(row.max_participation)
        if tighter:
            out += [Change("min_participation", f"{key}.min_participation",
                           lo + f * (hi - lo)) for f in (0.05, 0.25, 0.5, 1.0) if hi > lo]
            out += [Change("max_participation", f"{key}.max_participation",
                           lo + f * (hi - lo)) for f in (0.0, 0.5, 0.9) if hi > lo]
        else:
            out += [Change("min_participation", f"{key}.min_participation", lo * f)
                    for f in (0.0, 0.5) if lo > 0]
            out += [Change("max_participation", f"{key}.max_participation",
                           hi + f * (1.0 - hi)) for f in (0.5, 1.0) if hi < 1]
    for row in case.layers.itertuples():
        key = f"layers[{row.layer}].max_surplus"
        cap = row.max_surplus
        if cap is None or cap != cap:  # empty cell: no cap
            if tighter:
                out += [Change("max_surplus", key, v) for v in (0.0, 0.5, 2.0)]
        elif tighter:
            out += [Change("max_surplus", key, cap * f) for f in (0.0, 0.5) if cap > 0]
        else:
            out += [Change("max_surplus", key, cap + v) for v in (0.1, 1.0)]
    budget = case.objective.budget
    if tighter:
        start = spend if budget is None else min(budget, spend)
        out += [Change("budget", "objective.budget", start * f)
                for f in (1.0, 0.999, 0.9, 0.5) if budget is None or start * f < budget]
    elif budget is not None:
        out += [Change("budget", "objective.budget", budget * f) for f in (1.001, 2.0)]
    return out


def draw_change(data: st.DataObject, case: Case, base: Result, kind: str,
                tighter: bool) -> Change:
    """One change of requirement ``kind``, tighter or looser (the example is dropped if none)."""
    spend = sum(base.costs[t] for t in ("fixed", "capacity", "trade"))
    options = [c for c in changes(case, spend, tighter) if c.kind == kind]
    assume(options)
    return data.draw(st.sampled_from(options), label="change")


def solve_base(random_case: MemberCase, tmp: str, kind: str,
               tighter: bool) -> tuple[Case, Result]:
    """The sound case and its exact optimum (after checking that ``kind`` can change)."""
    case = random_case.load(Path(tmp) / "case")
    # Whether a change exists does not depend on the optimum's spend: drop hopeless
    # examples before solving.
    assume(any(c.kind == kind for c in changes(case, 1.0, tighter)))
    base = solve(case, raise_on_failure=False)
    assert base.status == "optimal"  # sound: feasible by construction
    assert base.verified is True, [str(v) for v in base.violations]
    return case, base


@pytest.mark.parametrize("kind", KINDS)
@PER_KIND
@given(random_case=member_cases(sound=True), data=st.data())
def test_tightening_a_member_requirement_never_lowers_cost(
        kind: str, random_case: MemberCase, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case, base = solve_base(random_case, tmp, kind, tighter=True)
        change = draw_change(data, case, base, kind, tighter=True)
        tight = solve(case.with_overrides({change.key: change.value}),
                      raise_on_failure=False)
        event(f"tighter {kind}: {tight.status}")
        if not tight.has_solution:
            assert tight.status == "infeasible"
            return
        assert tight.status == "optimal"
        assert tight.verified is True, [str(v) for v in tight.violations]
        assert base.objective is not None and tight.objective is not None
        assert tight.objective >= base.objective - rel_slack(base.objective), change


@pytest.mark.parametrize("kind", KINDS)
@PER_KIND
@given(random_case=member_cases(sound=True), data=st.data())
def test_loosening_a_member_requirement_keeps_feasible_and_never_raises_cost(
        kind: str, random_case: MemberCase, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case, base = solve_base(random_case, tmp, kind, tighter=False)
        change = draw_change(data, case, base, kind, tighter=False)
        loose = solve(case.with_overrides({change.key: change.value}),
                      raise_on_failure=False)
        # The base plan still satisfies the looser case, so it must be feasible.
        assert loose.status == "optimal", change
        assert loose.verified is True, [str(v) for v in loose.violations]
        assert base.objective is not None and loose.objective is not None
        assert loose.objective <= base.objective + rel_slack(base.objective), change
