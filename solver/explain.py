"""Why a case is infeasible: the smallest set of requirements that must give way.

The elastic model (``build(case, elastic=True)``) lets every row of every requirement family
be violated through a slack variable. Three solves find what to report:

1. minimise the weighted slack (each unit priced at ``1 / scale`` of its row); zero means
   the case is feasible;
2. minimise the *number* of violated rows (a demand row counting more than all others
   together: demand is given, requirements are policy): a binary per slack,
   ``slack <= M * z``, with ``M`` the most the row can be violated given the variables'
   bounds (all of them bounded by the capacities). For a large model the binaries cover
   only the rows violated in phase 1, so the set is then minimal within those;
   Among sets of the same size, the least weighted violation wins;
3. with only those rows allowed to give way, minimise the weighted slack again: the
   amounts reported are the least violations that make a plan exist.

Each violation is said in the planner's terms, with the numbers that explain it::

    layer semiconductors: min_suppliers 4 cannot hold; at most 3 partners with
    trust >= 0.8 can supply it (short by 1)

The checks of :mod:`solver.presolve` run too; their findings are certain and come first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from solver.presolve import Finding, find_infeasibilities, fmt

if TYPE_CHECKING:
    from solver.case import Case
    from solver.model.build import Built

log = logging.getLogger(__name__)

#: Above this many slack entries, phase 2 puts binaries only on the rows phase 1 violated.
MAX_BINARIES = 5000

#: A row is violated when its slack, in units of the row's scale, exceeds this.
VIOLATION_TOL = 1e-6

#: Relative gap of the weighted-violation solves (phases 1 and 3): amounts are reported to
#: about four digits, and zero (feasible) is recognised whatever the gap.
EXPLAIN_GAP = 1e-4

#: Seconds each explanation solve may take when the case sets no time limit.
DEFAULT_TIME_LIMIT = 120.0

#: Demand is what the planner is given, not a policy: a plan that drops demand is the last
#: resort. Phase 1 prices demand slack this many times higher; phase 2 counts a demand row
#: as more than all other rows together.
DEMAND_PRIORITY = 1000.0

#: What each family asks for, in words, for the report's headings.
FAMILY_TEXT = {
    "demand": "demand is met exactly",
    "supplier_share": "a host supplies at least min_supplier_share of the layer",
    "diversification": "at least min_suppliers partners host each layer",
    "concentration": "no partner supplies more than max_share of a layer",
    "resilience": "N-1: without any one partner the rest covers resilience x demand",
    "surplus": "surplus capacity at most max_surplus x demand",
    "dependency": "no foreign partner supplies more than max_dependency of a member's demand",
    "domestic": "at least min_domestic of a member's demand is produced at home",
    "participation": "each partner's share of the stack's value within its bounds",
    "budget": "fixed + capacity + trade costs within the budget",
}


@dataclass(frozen=True)
class Violation:
    """One requirement row that must give way, and by how much.

    ``amount`` is in the row's unit (units of demand, partners, value, money);
    ``shortfall`` is the same amount in the unit of the requirement's statement.
    """

    family: str
    """The constraint family of SPEC section 3."""
    entity: tuple[str, ...]
    """Ids of the row: ``(layer,)``, ``(partner, layer)``, ``(member, layer)``, ..."""
    where: str
    """The entity in words: ``layer chips``, ``partner A, layer chips``."""
    requirement: str
    """The requirement as the case states it: ``min_suppliers 4``."""
    reason: str
    """Why it cannot hold, with the case's numbers."""
    side: str
    """``below`` (the plan falls short of a floor) or ``above`` (it exceeds a cap)."""
    amount: float
    shortfall: float

    def __str__(self) -> str:
        word = "short" if self.side == "below" else "over"
        return (f"{self.where}: {self.requirement} cannot hold; {self.reason} "
                f"({word} by {fmt(self.shortfall)})")


@dataclass
class Explanation:
    """Which requirements of a case cannot hold together.

    ``findings`` come from the checks before solving (certain, with their numbers);
    ``violations`` from the elastic model (the smallest set of rows that must give way).
    Iterating yields both.
    """

    case: str
    findings: list[Finding] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    feasible: bool = False
    minimal: bool = True
    """False when phase 2 stopped at a limit: the set may not be the smallest."""
    note: str = ""

    def __iter__(self) -> Iterator[Finding | Violation]:
        yield from self.findings
        yield from self.violations

    def families(self) -> dict[str, list[Finding | Violation]]:
        """Findings and violations grouped by family, in the order of SPEC section 3."""
        order = list(FAMILY_TEXT)
        out: dict[str, list[Finding | Violation]] = {}
        for item in sorted(self, key=lambda x: (order.index(x.family)
                                                 if x.family in order else len(order))):
            out.setdefault(item.family, []).append(item)
        return out

    def __str__(self) -> str:
        if self.feasible:
            return f"case {self.case!r} is feasible: every requirement can hold"
        lines: list[str] = []
        if self.findings:
            lines.append("Found before solving (each alone rules out every plan):")
            lines += [f"  {f}" for f in self.findings]
        if self.violations:
            n = len(self.violations)
            size = "smallest" if self.minimal else "a small (possibly not the smallest)"
            lines.append(f"The {size} set of requirements that must give way "
                         f"({n} row{'s' if n != 1 else ''}):")
            grouped: dict[str, list[Violation]] = {}
            for v in self.violations:
                grouped.setdefault(v.family, []).append(v)
            for family in sorted(grouped, key=lambda f: list(FAMILY_TEXT).index(f)
                                 if f in FAMILY_TEXT else len(FAMILY_TEXT)):
                lines.append(f"  {family} ({FAMILY_TEXT.get(family, family)}):")
                lines += [f"    {v}" for v in grouped[family]]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines) if lines else f"case {self.case!r} is infeasible"


@dataclass(frozen=True)
class _Slack:
    """One slack entry of the elastic model: row ``i`` of ``family`` on ``side``."""

    family: str
    side: str
    var: Any
    i: int
    weight: float


def explain(case: Case) -> Explanation:
    """Explain why ``case`` is infeasible (or say that it is feasible).

    Solves the elastic model in three phases (see the module docstring) with the case's
    solver options; returns an :class:`Explanation` whose ``str()`` is the report.
    """
    from solver.model.build import build

    findings = find_infeasibilities(case)
    built = build(case, elastic=True)
    _bound_variables(built)
    slacks = _slacks(built)
    if not slacks:
        return Explanation(case=case.name, findings=findings, feasible=not findings)
    built.m.objective.set_value(sum(
        _priority(s) * s.weight * s.var[s.i] for s in slacks))
    limit = case.solver.time_limit or DEFAULT_TIME_LIMIT

    values = _solve(built, slacks, limit, case.solver.threads)
    if values is None:
        return Explanation(case=case.name, findings=findings, minimal=False,
                           note="(the elastic model found no plan within the time limit; "
                                "raise solver.time_limit)")
    violated = _violated(slacks, values)
    if not violated:
        note = "" if not findings else (
            "(the elastic model found a plan violating nothing: the checks above may have "
            "hit a numerical tolerance)")
        return Explanation(case=case.name, findings=findings, feasible=not findings,
                           note=note)

    final, minimal = values, True
    if len(violated) > 1:
        candidates = list(range(len(slacks))) if len(slacks) <= MAX_BINARIES else violated
        final, minimal = _fewest(built, slacks, candidates, values, limit, case.solver.threads)
    violated = _violated(slacks, final)
    context = _Context(case, built, final)
    violations = [context.violation(slacks[n], final) for n in violated]
    return Explanation(case=case.name, findings=findings, violations=violations,
                       minimal=minimal)


def _priority(s: _Slack) -> float:
    return DEMAND_PRIORITY if s.family == "demand" else 1.0


def _bound_variables(built: Built) -> None:
    """Give k, q, f and built the upper bounds their hard rows imply (capacities).

    Every variable is then bounded, so phase 2's ``M`` is finite, and HiGHS starts tighter.
    """
    m, ctx, data = built.m, built.ctx, built.data
    cap = np.asarray(ctx.arrays["capacity"], dtype=float)
    for a in range(data.n_pairs):
        m.k[a].setub(float(cap[a]))
        m.q[a].setub(float(cap[a]))
    for j, a in enumerate(data.flow_pair.tolist()):
        m.f[j].setub(float(cap[a]))
    for layer, pairs in enumerate(ctx.pairs_of_layer):
        m.built[layer].setub(float(cap[pairs].sum()) if len(pairs) else 0.0)


def _slacks(built: Built) -> list[_Slack]:
    out = []
    for family, var, weights, side in built.ctx.slacks:
        out += [_Slack(family, side, var, i, float(w)) for i, w in enumerate(weights)]
    return out


def _groups(built: Built) -> dict[str, Any]:
    m = built.m
    groups: dict[str, Any] = {"y": m.y, "k": m.k, "q": m.q, "f": m.f, "built": m.built}
    for family, var, _weights, side in built.ctx.slacks:
        groups[f"{family}_{side}"] = var
    return groups


def _solve(built: Built, slacks: list[_Slack], limit: float,
           threads: int) -> dict[str, np.ndarray] | None:
    """Minimise the weighted slack; return the solution's values, or None without one."""
    from solver.highs import HighsRunner, Status

    runner = HighsRunner(time_limit=limit, mip_gap=EXPLAIN_GAP, threads=threads)
    report = runner.solve(built.m, _groups(built))
    if report.status == Status.INTERRUPTED:
        raise KeyboardInterrupt
    return report.values if report.has_solution else None


def _value(s: _Slack, values: dict[str, np.ndarray]) -> float:
    return float(values[f"{s.family}_{s.side}"][s.i])


def _violated(slacks: list[_Slack], values: dict[str, np.ndarray]) -> list[int]:
    return [n for n, s in enumerate(slacks) if _value(s, values) * s.weight > VIOLATION_TOL]


def _fewest(built: Built, slacks: list[_Slack], candidates: list[int],
            phase1: dict[str, np.ndarray], limit: float,
            threads: int) -> tuple[dict[str, np.ndarray], bool]:
    """Phases 2 and 3: the fewest rows that must give way, then the least violation.

    A binary ``z`` per candidate row with ``slack <= M z``; rows outside the candidates may
    not give way. Phase 3 lets only the chosen rows give way and minimises their weighted
    slack. Returns the solution's values and whether its set is proven smallest; falls
    back to ``phase1`` when a phase does not finish.
    """
    import pyomo.environ as pyo

    from solver.highs import HighsRunner, Status

    m = built.m
    big = [_most_violation(built, slacks[n]) for n in candidates]
    use = [n for n, M in zip(candidates, big, strict=True) if M > 0]
    big = [M for M in big if M > 0]
    fixed = set(range(len(slacks))) - set(use)
    for n in fixed:
        slacks[n].var[slacks[n].i].fix(0.0)
    m.explain_z = pyo.Var(range(len(use)), within=pyo.Binary)
    m.explain_link = pyo.Constraint(
        range(len(use)),
        rule=lambda _, k: slacks[use[k]].var[slacks[use[k]].i] - big[k] * m.explain_z[k] <= 0)
    heavy = len(use) + 1.0
    count = sum((heavy if slacks[n].family == "demand" else 1.0) * m.explain_z[k]
                for k, n in enumerate(use))
    # Ties between sets of the same size go to the least weighted violation: a secondary
    # term that sums to at most 1/2, so it never changes the count.
    spread = 2.0 * sum(_priority(slacks[n]) * slacks[n].weight * M
                       for n, M in zip(use, big, strict=True))
    tie = sum((_priority(slacks[n]) * slacks[n].weight / spread) * slacks[n].var[slacks[n].i]
              for n in use)
    m.objective.deactivate()
    m.explain_count = pyo.Objective(expr=count + tie)
    groups = {**_groups(built), "z": m.explain_z}
    try:
        runner = HighsRunner(time_limit=limit, mip_gap=0.0, threads=threads)
        report = runner.solve(m, groups)
        if report.status == Status.INTERRUPTED:
            raise KeyboardInterrupt
    finally:
        for name in ("explain_count", "explain_link", "explain_z"):
            m.del_component(name)
        m.objective.activate()
        for n in fixed:
            slacks[n].var[slacks[n].i].unfix()
    chosen = _violated(slacks, report.values) if report.has_solution else []
    if not report.has_solution or _rank(slacks, chosen) > \
            _rank(slacks, _violated(slacks, phase1)):
        return phase1, False
    proven = report.status == Status.OPTIMAL
    # Phase 3: only the chosen rows may give way; the least violation that makes a plan.
    keep = set(chosen)
    if keep >= set(_violated(slacks, phase1)):
        return phase1, proven  # phase 1's plan is allowed and was already the least
    fixed = {n for n in range(len(slacks)) if n not in keep}
    for n in fixed:
        slacks[n].var[slacks[n].i].fix(0.0)
    try:
        final = _solve(built, slacks, limit, threads)
    finally:
        for n in fixed:
            slacks[n].var[slacks[n].i].unfix()
    if final is None:
        log.warning("explain: phase 3 found no plan; reporting phase 2")
        return report.values, proven
    return final, proven


def _rank(slacks: list[_Slack], rows: list[int]) -> tuple[int, int]:
    """Phase 2's order of sets: fewest demand rows, then fewest rows."""
    return sum(slacks[n].family == "demand" for n in rows), len(rows)


def _most_violation(built: Built, s: _Slack) -> float:
    """The most the row of ``s`` can be violated, from the variables' bounds."""
    import pyomo.environ as pyo
    from pyomo.repn import generate_standard_repn

    con = built.m.component(s.family)[s.i]
    repn = generate_standard_repn(con.body, compute_values=True, quadratic=False)
    own = {id(var[s.i]) for family, var, _w, _side in built.ctx.slacks if family == s.family}
    low = high = float(repn.constant or 0.0)
    for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        if id(v) in own:
            continue
        lb = v.lb if v.lb is not None else -np.inf
        ub = v.ub if v.ub is not None else np.inf
        c = float(c)
        low += c * (lb if c > 0 else ub)
        high += c * (ub if c > 0 else lb)
    bound = con.lower if s.side == "below" else con.upper
    if bound is None:  # this row of the family has no bound on that side
        return 0.0
    most = float(pyo.value(bound)) - low if s.side == "below" else high - float(pyo.value(bound))
    if not np.isfinite(most):
        return 1e9
    return max(most, 0.0) * (1 + 1e-6) + 1e-6


class _Context:
    """The case's numbers that explain a violated row, in the planner's terms."""

    def __init__(self, case: Case, built: Built, values: dict[str, np.ndarray]) -> None:
        self.case, self.built, self.values = case, built, values
        data = built.data
        self.layers: dict[Any, dict[Any, Any]] = case.layers.set_index("layer").to_dict("index")
        self.partners: dict[Any, dict[Any, Any]] = case.partners.set_index(
            "partner").to_dict("index")
        self.demand = dict(zip(zip(data.rows["member"], data.rows["layer"], strict=True),
                               data.rows.to_dict("records"), strict=True))
        self.layer_demand = dict(zip(data.layers["layer"], data.layer_demand.tolist(),
                                     strict=True))
        pairs = data.pairs
        self.eligible = pairs.groupby("layer").size().to_dict()
        self.eligible_capacity = pairs.groupby("layer")["capacity"].sum().to_dict()
        self.pair_pos = {(p, la): a for a, (p, la) in enumerate(
            zip(pairs["partner"], pairs["layer"], strict=True))}
        self.capable = set(zip(case.capabilities["partner"], case.capabilities["layer"],
                               strict=True))

    def violation(self, s: _Slack, values: dict[str, np.ndarray]) -> Violation:
        """The :class:`Violation` of slack entry ``s`` with its amount in ``values``."""
        key = tuple(str(k) for k in self.built.m.row_keys[s.family][s.i])
        amount = _value(s, values)
        text = getattr(self, f"_{s.family}", self._generic)(key, s, amount)
        where, requirement, reason, shortfall = text
        return Violation(family=s.family, entity=key, where=where, requirement=requirement,
                         reason=reason, side=s.side, amount=amount, shortfall=shortfall)

    # Each _<family> returns (where, requirement, reason, shortfall in the stated unit).

    def _generic(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        return (f"{s.family} {', '.join(key)}", s.family, f"the row is violated ({s.side})",
                amount)

    def _where_row(self, member: str, layer: str) -> str:
        return f"layer {layer}" if not self.case.has_demand_file else \
            f"member {member}, layer {layer}"

    def _trusted(self, layer: str) -> str:
        t = float(self.layers[layer]["min_trust"])
        return f" with trust >= {fmt(t)}" if t > 0 else ""

    def _supplied(self, partner: str, layer: str) -> float:
        a = self.pair_pos.get((partner, layer))
        return 0.0 if a is None else float(self.values["q"][a])

    def _demand(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        member, layer = key
        d = float(self.demand[(member, layer)]["demand"])
        where = self._where_row(member, layer)
        if s.side == "above":
            return (where, f"demand {fmt(d)}",
                    f"the other requirements make it receive {fmt(d + amount)}", amount)
        n = int(self.eligible.get(layer, 0))
        cap = float(self.eligible_capacity.get(layer, 0.0))
        D = self.layer_demand[layer]
        reason = f"it can receive only {fmt(d - amount)}; "
        if n:
            reason += (f"the {n} partner{'s' if n != 1 else ''}{self._trusted(layer)} can "
                       f"build at most {fmt(cap)} of the layer's demand {fmt(D)}")
        else:
            reason += f"no partner{self._trusted(layer)} can supply the layer"
        return where, f"demand {fmt(d)}", reason, amount

    def _supplier_share(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        partner, layer = key
        share = float(self.layers[layer]["min_supplier_share"])
        need = share * self.layer_demand[layer]
        return (f"partner {partner}, layer {layer}",
                f"min_supplier_share {fmt(share)} ({fmt(need)} from each host)",
                f"as a host it can supply only {fmt(need - amount)}", amount)

    def _diversification(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        (layer,) = key
        want = int(self.layers[layer]["min_suppliers"])
        n = int(self.eligible.get(layer, 0))
        if n < want:
            reason = f"at most {n} partner{'s' if n != 1 else ''}{self._trusted(layer)} " \
                     "can supply it"
        else:
            hosts = want - amount
            reason = (f"{n} partners{self._trusted(layer)} could host it, but with the other "
                      f"requirements at most {fmt(hosts)} can")
        return f"layer {layer}", f"min_suppliers {want}", reason, amount

    def _concentration(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        partner, layer = key
        ms = float(self.layers[layer]["max_share"])
        D = self.layer_demand[layer]
        got = self._supplied(partner, layer)
        return (f"partner {partner}, layer {layer}", f"max_share {fmt(ms)} ({fmt(ms * D)})",
                f"{partner} must supply {fmt(got)} of the demand {fmt(D)}", amount)

    def _resilience(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        partner, layer = key
        res = float(self.layers[layer]["resilience"])
        need = res * self.layer_demand[layer]
        requirement = f"resilience {fmt(res)} (N-1 cover of {fmt(need)})"
        if not partner:
            return (f"layer {layer}", requirement,
                    f"no partner{self._trusted(layer)} can host it", amount)
        cap = float(self.eligible_capacity.get(layer, 0.0))
        return (f"layer {layer}, losing {partner}", requirement,
                f"without {partner} the rest can cover only {fmt(need - amount)} "
                f"(the partners{self._trusted(layer)} can build {fmt(cap)} in all)", amount)

    def _surplus(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        (layer,) = key
        ms = float(self.layers[layer]["max_surplus"])
        D = self.layer_demand[layer]
        return (f"layer {layer}", f"max_surplus {fmt(ms)} ({fmt(ms * D)} above demand)",
                f"the other requirements need {fmt(ms * D + amount)} of surplus capacity",
                amount)

    def _dependency(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        exporter, member, layer = key
        row = self.demand[(member, layer)]
        md, d = float(row["max_dependency"]), float(row["demand"])
        return (f"member {member}, layer {layer}",
                f"max_dependency {fmt(md)} (at most {fmt(md * d)} from each foreign partner)",
                f"it must take {fmt(md * d + amount)} from {exporter}", amount)

    def _domestic(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        member, layer = key
        row = self.demand[(member, layer)]
        md, d = float(row["min_domestic"]), float(row["demand"])
        need = md * d
        if (member, layer) not in self.capable:
            reason = f"{member} has no capability for {layer}"
        elif (member, layer) not in self.pair_pos:
            reason = (f"{member}'s trust {fmt(self.partners[member]['trust'])} is below "
                      f"the layer's min_trust {fmt(self.layers[layer]['min_trust'])}")
        else:
            reason = f"{member} can produce only {fmt(need - amount)} of it at home"
        return (f"member {member}, layer {layer}", f"min_domestic {fmt(md)} ({fmt(need)} of "
                f"{fmt(d)})", reason, amount)

    def _participation(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        (partner,) = key
        V = float(self.built.data.total_value)
        share = amount / V if V > 0 else amount
        if s.side == "below":
            floor = float(self.partners[partner]["min_participation"])
            return (f"partner {partner}", f"min_participation {fmt(floor)}",
                    f"it can reach only {fmt(floor - share)} of the stack's value", share)
        ceiling = float(self.partners[partner]["max_participation"])
        return (f"partner {partner}", f"max_participation {fmt(ceiling)}",
                f"it must supply {fmt(ceiling + share)} of the stack's value", share)

    def _budget(self, key: tuple[str, ...], s: _Slack, amount: float) -> tuple:
        budget = float(self.case.objective.budget or 0.0)
        return ("the plan", f"budget {fmt(budget)}",
                f"the other requirements cost at least {fmt(budget + amount)}", amount)
