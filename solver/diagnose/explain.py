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

The checks of :mod:`solver.diagnose.presolve` run too; their findings are certain and come first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from solver.diagnose.presolve import find_infeasibilities
from solver.diagnose.wording import (
    Explanation,
    Slack,
    Wording,
    slack_value,
)

if TYPE_CHECKING:
    from solver.case.loader import Case
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
    context = Wording(case, built, final)
    violations = [context.violation(slacks[n], final) for n in violated]
    return Explanation(case=case.name, findings=findings, violations=violations,
                       minimal=minimal)


def _priority(s: Slack) -> float:
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
    if hasattr(m, "res_s"):
        # N-k's dual variables: at an optimum t is a capacity and s[a] <= k[a] <= cap[a].
        for t in m.res_t.values():
            t.setub(float(cap.max()) if len(cap) else 0.0)
        for s, a in zip(m.res_s.values(), ctx.res_pairs, strict=True):
            s.setub(float(cap[a]))


def _slacks(built: Built) -> list[Slack]:
    out = []
    for family, var, weights, side in built.ctx.slacks:
        out += [Slack(family, side, var, i, float(w)) for i, w in enumerate(weights)]
    return out


def _groups(built: Built) -> dict[str, Any]:
    m = built.m
    groups: dict[str, Any] = {"y": m.y, "k": m.k, "q": m.q, "f": m.f, "built": m.built}
    for family, var, _weights, side in built.ctx.slacks:
        groups[f"{family}_{side}"] = var
    return groups


def _solve(built: Built, slacks: list[Slack], limit: float,
           threads: int) -> dict[str, np.ndarray] | None:
    """Minimise the weighted slack; return the solution's values, or None without one."""
    from solver.highs.runner import HighsRunner, raise_if_stopped

    runner = HighsRunner(time_limit=limit, mip_gap=EXPLAIN_GAP, threads=threads)
    report = runner.solve(built.m, _groups(built))
    raise_if_stopped(report)
    return report.values if report.has_solution else None


def _violated(slacks: list[Slack], values: dict[str, np.ndarray]) -> list[int]:
    return [n for n, s in enumerate(slacks) if slack_value(s, values) * s.weight > VIOLATION_TOL]


def _fewest(built: Built, slacks: list[Slack], candidates: list[int],
            phase1: dict[str, np.ndarray], limit: float,
            threads: int) -> tuple[dict[str, np.ndarray], bool]:
    """Phases 2 and 3: the fewest rows that must give way, then the least violation.

    A binary ``z`` per candidate row with ``slack <= M z``; rows outside the candidates may
    not give way. Phase 3 lets only the chosen rows give way and minimises their weighted
    slack. Returns the solution's values and whether its set is proven smallest; falls
    back to ``phase1`` when a phase does not finish.
    """
    import pyomo.environ as pyo

    from solver.highs.runner import HighsRunner, Status, raise_if_stopped

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
        raise_if_stopped(report)
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


def _rank(slacks: list[Slack], rows: list[int]) -> tuple[int, int]:
    """Phase 2's order of sets: fewest demand rows, then fewest rows."""
    return sum(slacks[n].family == "demand" for n in rows), len(rows)


def _most_violation(built: Built, s: Slack) -> float:
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
