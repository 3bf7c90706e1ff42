"""An explanation in the planner's words: each violated row with the numbers behind it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from solver.diagnose.presolve import Finding, fmt

if TYPE_CHECKING:
    from solver.case.loader import Case
    from solver.model.build import Built


#: What each family asks for, in words, for the report's headings.
FAMILY_TEXT = {
    "demand": "demand is met exactly",
    "supplier_share": "a host supplies at least min_supplier_share of the layer",
    "diversification": "at least min_suppliers partners host each layer",
    "concentration": "no partner supplies more than max_share of a layer",
    "resilience": "N-k: without any resilience_k partners the rest covers resilience x demand",
    "surplus": "surplus capacity at most max_surplus x demand",
    "dependency": "no foreign partner supplies more than max_dependency of a member's demand",
    "domestic": "at least min_domestic of a member's demand is produced at home",
    "participation": "each partner's share of the stack's value within its bounds",
    "budget": "fixed + capacity + trade costs within the budget",
    "input_balance": "every unit produced gets its inputs (inputs.csv)",
    "market_floor": "the coalition holds at least min_share of a market (markets.csv)",
    "market_ceiling": "the coalition holds at most max_share of a market (markets.csv)",
}


@dataclass(frozen=True)
class Violation:
    """One requirement row that must give way, and by how much.

    ``amount`` is in the row's unit (units of demand, partners, value, money);
    ``shortfall`` is the same amount in the unit of the requirement's statement.
    """

    family: str
    """The constraint family of README, The model."""
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
        """Findings and violations grouped by family, in the order of README, The model."""
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
class Slack:
    """One slack entry of the elastic model: row ``i`` of ``family`` on ``side``."""

    family: str
    side: str
    var: Any
    i: int
    weight: float


def slack_value(s: Slack, values: dict[str, np.ndarray]) -> float:
    """The amount of slack entry ``s`` in a solution's ``values``."""
    return float(values[f"{s.family}_{s.side}"][s.i])


class Wording:
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

    def violation(self, s: Slack, values: dict[str, np.ndarray]) -> Violation:
        """The :class:`Violation` of slack entry ``s`` with its amount in ``values``."""
        key = tuple(str(k) for k in self.built.m.row_keys[s.family][s.i])
        amount = slack_value(s, values)
        text = getattr(self, f"_{s.family}", self._generic)(key, s, amount)
        where, requirement, reason, shortfall = text
        return Violation(family=s.family, entity=key, where=where, requirement=requirement,
                         reason=reason, side=s.side, amount=amount, shortfall=shortfall)

    # Each _<family> returns (where, requirement, reason, shortfall in the stated unit).

    def _generic(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
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

    def _demand(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
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

    def _supplier_share(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        partner, layer = key
        share = float(self.layers[layer]["min_supplier_share"])
        need = share * self.layer_demand[layer]
        return (f"partner {partner}, layer {layer}",
                f"min_supplier_share {fmt(share)} ({fmt(need)} from each host)",
                f"as a host it can supply only {fmt(need - amount)}", amount)

    def _diversification(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
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

    def _concentration(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        partner, layer = key
        ms = float(self.layers[layer]["max_share"])
        D = self.layer_demand[layer]
        got = self._supplied(partner, layer)
        return (f"partner {partner}, layer {layer}", f"max_share {fmt(ms)} ({fmt(ms * D)})",
                f"{partner} must supply {fmt(got)} of the demand {fmt(D)}", amount)

    def _resilience(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        partner, layer = key
        res = float(self.layers[layer]["resilience"])
        need = res * self.layer_demand[layer]
        big_k = int(self.layers[layer].get("resilience_k", 1))
        requirement = f"resilience {fmt(res)} (N-{big_k} cover of {fmt(need)})"
        if big_k > 1:
            cap = float(self.eligible_capacity.get(layer, 0.0))
            return (f"layer {layer}, losing its {big_k} largest hosts", requirement,
                    f"without its {big_k} largest hosts the rest can cover only "
                    f"{fmt(need - amount)} (the partners{self._trusted(layer)} can build "
                    f"{fmt(cap)} in all)", amount)
        if not partner:
            return (f"layer {layer}", requirement,
                    f"no partner{self._trusted(layer)} can host it", amount)
        cap = float(self.eligible_capacity.get(layer, 0.0))
        return (f"layer {layer}, losing {partner}", requirement,
                f"without {partner} the rest can cover only {fmt(need - amount)} "
                f"(the partners{self._trusted(layer)} can build {fmt(cap)} in all)", amount)

    def _surplus(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        (layer,) = key
        ms = float(self.layers[layer]["max_surplus"])
        D = self.layer_demand[layer]
        return (f"layer {layer}", f"max_surplus {fmt(ms)} ({fmt(ms * D)} above demand)",
                f"the other requirements need {fmt(ms * D + amount)} of surplus capacity",
                amount)

    def _dependency(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        exporter, member, layer = key
        row = self.demand[(member, layer)]
        md, d = float(row["max_dependency"]), float(row["demand"])
        return (f"member {member}, layer {layer}",
                f"max_dependency {fmt(md)} (at most {fmt(md * d)} from each foreign partner)",
                f"it must take {fmt(md * d + amount)} from {exporter}", amount)

    def _domestic(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
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

    def _participation(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
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

    def _budget(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        budget = float(self.case.objective.budget or 0.0)
        return ("the plan", f"budget {fmt(budget)}",
                f"the other requirements cost at least {fmt(budget + amount)}", amount)

    def _input_balance(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        partner, layer, inp = key
        links = self.case.inputs
        assert links is not None
        link = links[(links["layer"] == layer) & (links["input"] == inp)].iloc[0]
        rule, a = str(link["source"]), float(link["per_unit"])
        pairs = self.built.data.pairs
        hosts = pairs[pairs["layer"] == inp]
        if rule == "local":
            rule_text = f"{inp} for {layer} in {partner} must be local"
            who, hosts = partner, hosts[hosts["partner"] == partner]
        elif rule == "bloc":
            bloc = self.partners[partner]["bloc"]
            rule_text = f"{inp} for {layer} in {partner} must come from its bloc {bloc}"
            who = f"bloc {bloc}"
            hosts = hosts[hosts["partner"].map(lambda p: self.partners[p]["bloc"] == bloc)]
        else:
            rule_text = f"{inp} for {layer} in {partner} may come from any partner"
            who = f"the partners{self._trusted(inp)}"
        cap = float(hosts["capacity"].sum())
        reason = (f"{who} can build at most {fmt(cap)} of {inp}" if len(hosts)
                  else f"{who} cannot produce {inp}")
        return (f"partner {partner}, layer {layer}", f"{fmt(a)} {inp} per unit ({rule_text})",
                reason, amount)

    def _market_floor(self, key: tuple[str, ...], s: Slack, amount: float) -> tuple:
        market, layer = key
        markets = self.built.data.markets
        assert markets is not None
        rows = markets.rows
        row = rows[(rows["market"] == market) & (rows["layer"] == layer)].iloc[0]
        share = float(row["min_share"])
        need = share * float(row["demand"])
        flows = markets.flows
        serving = flows.loc[(flows["importer"] == market) & (flows["layer"] == layer), "pair"]
        cap = float(self.built.data.pairs["capacity"].to_numpy(dtype=float)[
            serving.to_numpy(dtype=int)].sum())
        reason = (f"the routes to {market} can carry {fmt(cap)}" if cap < need else
                  f"the other requirements leave it {fmt(need - amount)}")
        return f"{market} {layer}", f"min_share {fmt(share)} needs {fmt(need)}", reason, amount

