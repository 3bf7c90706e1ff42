"""The searches of ``coalition alternatives``, on one persistent model.

README, Near-optimal alternatives.

An :class:`AlternativeSolver` builds the cost model once, adds the search components of
:mod:`solver.model.near_optimal`, and answers every search by changing bounds and weights
and re-solving. A search's first solve is warm-started from the optimum, each next one from
the plan before it in the same search: a search's plans depend on the search alone, never on
the searches a worker ran before it.

- the optimum: minimise cost;
- the most different plan within a slack ``e``: maximise ``t``, the number of hosting
  decisions in which the plan differs from the nearest reference plan (the optimum and the
  alternatives found before it), with cost at most ``c* + e |c*|``; then the cheapest plan at
  that distance;
- a direction: push the quantity as far as it goes within the slack, then the cheapest plan
  that reaches it.

Every plan kept comes from a cost-minimising solve, so it is a :class:`~solver.results.Result`
like any other, checked by the independent checker.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solver.case.loader import Case
from solver.errors import UsageError
from solver.model.near_optimal import Direction
from solver.studies.engine.resolver import Resolver

#: ``participation[IN]``, ``suppliers[telecom]``, ``share[TW,semiconductors]``, ``hosts[IN]``,
#: ``reach[BR]``, ``reach``.
KEY = re.compile(r"^\s*(participation|suppliers|share|hosts|reach)\s*(?:\[\s*([^\],]+?)\s*"
                 r"(?:,\s*([^\]]+?)\s*)?\])?\s*$")

KINDS = {
    "participation": "PARTNER: the partner's share of the coalition's value supplied",
    "suppliers": "LAYER: the number of partners hosting the layer",
    "share": "PARTNER,LAYER: the partner's share of the layer's demand",
    "hosts": "PARTNER: the number of layers the partner hosts",
    "reach": "MARKET: the coalition's share of the market's demand over its layers "
             "(reach alone: of every market's)",
}


def key_parts(key: str) -> tuple[str, str, str | None]:
    """``(kind, first id, second id or None)`` of a KEY; :class:`UsageError` if malformed.

    ``reach`` without brackets (every market) has first id ``""``.
    """
    match = KEY.match(key) if isinstance(key, str) else None
    forms = "; ".join(f"{k}[{v.split(':')[0]}]" for k, v in KINDS.items()) + "; reach"
    if match is None or (match.group(2) is None and match.group(1) != "reach"):
        raise UsageError(f"{key!r} is not a quantity of the plan; use one of {forms}")
    kind, first, second = match.groups()
    if first is None:
        return kind, "", None
    if second is not None and "," in second:
        raise UsageError(f"{key!r}: {kind}[{KINDS[kind].split(':')[0]}] takes "
                         f"{'two ids' if kind == 'share' else 'one id'}")
    if (kind == "share") != (second is not None):
        raise UsageError(f"{key!r}: {kind}[{KINDS[kind].split(':')[0]}] expected")
    return kind, first, second


class NothingToChange(UsageError):
    """A ``--maximize``/``--minimize`` KEY that names nothing a plan can change (exit 2)."""


def parse_direction(case: Case, data: Any, key: str) -> Direction:
    """The :class:`Direction` a ``--maximize``/``--minimize`` KEY names, over ``data``'s pairs.

    Raises :class:`UsageError` for a key of another form, an id the case lacks, or a
    quantity that no plan can change (a partner with no capability, a layer no one hosts).
    """
    kind, first, second = key_parts(key)
    if kind == "reach":
        return reach_direction(case, data, key, first)
    partners = set(case.partners["partner"].astype(str))
    layers = set(case.layers["layer"].astype(str))
    pair_partner = data.pairs["partner"].astype(str).to_numpy()
    pair_layer = data.pairs["layer"].astype(str).to_numpy()
    demand = np.asarray(data.layer_demand, dtype=float)[data.pair_layer]
    coefs: np.ndarray
    if kind == "suppliers":
        if first not in layers:
            raise UsageError(f"{key!r}: {first!r} is not a layer of layers.csv")
        pairs = np.flatnonzero(pair_layer == first)
        coefs = np.ones(len(pairs))
        variable = "y"
    else:
        if first not in partners:
            raise UsageError(f"{key!r}: {first!r} is not a partner of partners.csv")
        if kind == "share" and second not in layers:
            raise UsageError(f"{key!r}: {second!r} is not a layer of layers.csv")
        mine = pair_partner == first
        if kind == "share":
            mine &= pair_layer == second
        pairs = np.flatnonzero(mine)
        if kind == "hosts":
            coefs, variable = np.ones(len(pairs)), "y"
        elif kind == "share":
            pairs = pairs[demand[pairs] > 0]
            coefs, variable = 1.0 / demand[pairs], "q"
        else:
            unit = case.layers.set_index("layer")["unit_value"].astype(float)
            total = float(data.total_value)
            coefs = unit.reindex(pair_layer[pairs]).to_numpy(dtype=float) / max(total, 1e-300)
            variable = "q"
            if total <= 0:
                pairs = pairs[:0]
    if len(pairs) == 0:
        what = {"suppliers": f"no partner may host {first}",
                "share": f"{first} may not supply {second}",
                }.get(kind, f"{first} may host no layer")
        what += " (no capability, or not trusted enough)"
        raise NothingToChange(f"{key!r} names nothing a plan can change: {what}")
    return Direction(key=key.replace(" ", ""), variable=variable,
                     pairs=tuple(int(a) for a in pairs), coefs=tuple(float(c) for c in coefs))


def reach_direction(case: Case, data: Any, key: str, market: str) -> Direction:
    """``reach[M] = sum_r s[r] / sum_r demand_r`` over market ``M``'s rows (all rows: ``""``).

    A linear expression over what the coalition supplies each market row (``s``; demand is
    data). Raises :class:`UsageError` for a case without markets, a market markets.csv lacks,
    or a market without demand.
    """
    table = getattr(case, "markets", None)
    if not getattr(case, "has_markets", False) or table is None:
        raise UsageError(f"{key!r}: the case has no markets outside the coalition "
                         "(markets.csv)")
    known = sorted(set(table["market"].astype(str)))
    if market and market not in known:
        raise UsageError(f"{key!r}: {market!r} is not a market of markets.csv (its markets: "
                         f"{', '.join(known)})")
    markets = data.markets
    rows = markets.rows if markets is not None else None
    mine = np.array([], dtype=np.int64) if rows is None else np.flatnonzero(
        (rows["market"].astype(str) == market).to_numpy() if market else np.ones(len(rows)))
    total = 0.0 if rows is None else float(rows["demand"].to_numpy(dtype=float)[mine].sum())
    if len(mine) == 0 or total <= 0:
        raise NothingToChange(f"{key!r} names nothing a plan can change: "
                         f"{market or 'the markets'} {'has' if market else 'have'} no demand")
    return Direction(key=key.replace(" ", ""), variable="s",
                     pairs=tuple(int(r) for r in mine),
                     coefs=tuple(1.0 / total for _ in mine))


def cost_cap(optimum: float, slack: float) -> float:
    """``c* + e |c*|``, and a hair more so that a plan costing exactly the cap is allowed."""
    return optimum + slack * abs(optimum) + 1e-7 * max(abs(optimum), 1.0)


@dataclass(frozen=True)
class Optimum:
    """The least-cost plan the searches start from: its cost and HiGHS's values."""

    cost: float
    values: dict[str, np.ndarray]

    @property
    def hosted(self) -> np.ndarray:
        """0/1 per pair."""
        return np.asarray(self.values["y"], dtype=float).round()


@dataclass(frozen=True)
class SearchTask:
    """One independent search: ``count`` most different plans, or a direction, at ``slack``."""

    index: int
    slack: float
    count: int = 1
    key: str | None = None
    sense: int = 0
    """+1 maximise ``key``, -1 minimise it, 0: most different plans."""
    earlier: tuple[tuple[tuple[str, str], ...], ...] = ()
    """The hosted (partner, layer) pairs of the plans a resumed search found before."""


@dataclass
class Found:
    """A plan a search found: its verified Result, its distance and the search it answers."""

    task: SearchTask
    number: int
    """1, 2, ... within its search."""
    result: Any
    distance: int
    """Hosting decisions (pairs) in which it differs from the nearest reference plan."""
    seconds: float


@dataclass
class SearchOutcome:
    """What a search sends back from a worker: its plans, and why it stopped early."""

    task: SearchTask
    plans: list[Found] = field(default_factory=list)
    stopped: str = ""
    row: dict[str, Any] = field(default_factory=dict)


class AlternativeSolver:
    """One case's near-optimal search model, built once and re-solved for every search.

    An adapter over the engine's one re-solver (:class:`~solver.studies.engine.resolver.
    Resolver`): a search step is a numbers change of the search model (the cost cap, the
    distance floor, a reference plan's row, the objective's weights, a direction's bounds),
    and every plan kept is a cost-minimising solve checked by the independent checker.
    """

    def __init__(self, case: Case, *, slots: int, key: str | None = None,
                 optimum: Optimum | None = None) -> None:
        from solver.highs.runner import HighsRunner
        from solver.model.build import build
        from solver.model.near_optimal import add_near_optimal

        self.case = case
        opts = case.solver
        self.resolver = Resolver(HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                                             threads=opts.threads))

        def make() -> Any:
            built = build(case)
            self.direction = parse_direction(case, built.data, key) if key else None
            self.near = add_near_optimal(built, max(slots, 1), self.direction)
            return built

        self.build_seconds = self.resolver.build(make)
        self.resolver.add_groups(self.near.groups())
        self.optimum = optimum

    @property
    def built(self) -> Any:
        """The built search model (the cost model with the search components)."""
        return self.resolver.built

    @property
    def runner(self) -> Any:
        """The resolver's HiGHS runner."""
        return self.resolver.runner

    def solve_optimum(self) -> Any:
        """The least-cost plan, as a verified Result (raises as :func:`solver.solve` does)."""
        from solver.solve import finish

        self.near.minimise_cost()
        self.near.cap(None)
        outcome = self.resolver.solve(self._check)
        report = outcome.report
        result = outcome.checked if outcome.has_solution else \
            finish(self.case, self.built, report, self.runner, self.build_seconds)
        self.optimum = Optimum(cost=float(report.objective or 0.0), values=report.values)
        return result

    def cheapest_with(self, lower: float) -> Any:
        """The cheapest plan whose direction is at least ``lower``, with no cost cap.

        A Result either way: a solve without a plan gives one that says why (its status).
        """
        from solver.solve import finish

        near = self.near
        near.cap(None)
        near.distance_floor(0.0)
        near.direction_bounds(lower, None)
        near.minimise_cost()
        outcome = self.resolver.solve(self._check)
        near.direction_bounds(None, None)
        if outcome.has_solution:
            return outcome.checked
        return finish(self.case, self.built, outcome.report, self.runner, self.build_seconds,
                      raise_on_failure=False)

    def _check(self, report: Any) -> tuple[Any, bool]:
        """A cost-minimising plan as a Result, accepted if the checker verifies it."""
        from solver.solve import finish

        result = finish(self.case, self.built, report, self.runner, self.build_seconds,
                        raise_on_failure=False)
        return result, bool(result.verified)

    def _value(self, report: Any, name: str) -> float:
        return float(np.asarray(report.values[name], dtype=float)[0])

    def run(self, task: SearchTask) -> SearchOutcome:
        """Run one search to its end (for a worker process); see :meth:`search`."""
        outcome = SearchOutcome(task=task)
        for found in self.search(task, outcome):
            outcome.plans.append(found)
        outcome.row = {"objective": outcome.plans[-1].result.objective
                       if outcome.plans else None, "status": outcome.stopped or "done"}
        return outcome

    def search(self, task: SearchTask, outcome: SearchOutcome) -> Iterator[Found]:
        """Yield the plans of ``task`` as they are found.

        ``outcome.stopped`` says why the search ended before ``task.count`` plans (empty
        when it did not).
        """
        if self.optimum is None:
            raise RuntimeError("the optimum is needed before a search")
        self.resolver.start = start_of(self.optimum)
        near = self.near
        near.cap(cost_cap(self.optimum.cost, task.slack))
        near.distance_floor(0.0)
        if task.sense:
            yield from self._push(task, outcome)
            return
        near.set_reference(0, self.optimum.hosted)
        for slot in range(1, near.slots):
            self._clear(slot)
        references = [self.optimum.hosted]
        for slot, hosts in enumerate(task.earlier[:near.slots - 1], start=1):
            references.append(self.hosted_of(set(hosts)))
            near.set_reference(slot, references[-1])
        for number in range(len(task.earlier) + 1, task.count + 1):
            started = time.perf_counter()
            near.distance_floor(0.0)
            near.maximise_distance()
            if "no_t" in self.resolver.start:
                self.resolver.start["no_t"] = np.zeros(1)
            first = self._solve().report
            if not first.has_solution:
                outcome.stopped = f"no plan found ({first.status})"
                return
            far = round(self._value(first, "no_t"))
            if far < 1 and first.status != "optimal":
                outcome.stopped = (f"HiGHS stopped ({first.status}) before it found a plan "
                                   "that differs; raise --time-limit")
                return
            if far < 1:
                outcome.stopped = ("no other plan within the slack" if number == 1 else
                                   "no plan within the slack differs from every one found")
                return
            near.distance_floor(far - 0.5)
            near.minimise_cost()
            result = self._cheapest()
            if result is None:
                outcome.stopped = "no plan found at that distance"
                return
            hosted = np.asarray(result_hosted(self, result))
            distance = self._note(result, task, references)
            yield Found(task=task, number=number, result=result, distance=distance,
                        seconds=time.perf_counter() - started)
            if number < near.slots:
                references.append(hosted)
                near.set_reference(number, hosted)

    def hosted_of(self, hosts: set[tuple[str, str]]) -> np.ndarray:
        """0/1 per pair of the model: whether (partner, layer) is in ``hosts``."""
        pairs = self.built.data.pairs
        return np.array([1.0 if (str(p), str(layer)) in hosts else 0.0 for p, layer in
                         zip(pairs["partner"], pairs["layer"], strict=True)])

    def _clear(self, slot: int) -> None:
        m = self.near.m
        m.no_offset[slot].set_value(float(self.built.ctx.n_pairs + 1))

    def _push(self, task: SearchTask, outcome: SearchOutcome) -> Iterator[Found]:
        near = self.near
        started = time.perf_counter()
        near.direction_bounds(None, None)
        near.push(task.sense)
        first = self._solve().report
        if not first.has_solution:
            outcome.stopped = f"no plan found ({first.status})"
            return
        best = self._value(first, "no_x")
        give = 1e-6 * max(abs(best), 1.0)
        if task.sense > 0:
            near.direction_bounds(best - give, None)
        else:
            near.direction_bounds(None, best + give)
        near.minimise_cost()
        result = self._cheapest()
        near.direction_bounds(None, None)
        if result is None:
            outcome.stopped = "no plan found at that value"
            return
        assert self.optimum is not None
        differs = self._note(result, task, [self.optimum.hosted], value=best)
        yield Found(task=task, number=1, result=result, distance=differs,
                    seconds=time.perf_counter() - started)

    def _note(self, result: Any, task: SearchTask, references: list[np.ndarray],
              value: float | None = None) -> int:
        """Say in the plan's summary.json which search found it, against what cap and plans.

        ``references`` are the 0/1 hosting of the plans it is compared with (the optimum,
        then the plans its search found before it); ``distance`` is the number of hosting
        decisions in which it differs from the nearest of them, returned too. The
        references are written as their hosted pairs, so that the checker recomputes it.
        """
        assert self.optimum is not None
        hosted = np.asarray(result_hosted(self, result))
        distance = min(int(np.sum(np.abs(hosted - ref) > 0.5)) for ref in references)
        note: dict[str, Any] = {
            "slack": task.slack, "optimum": self.optimum.cost,
            "cost_cap": cost_cap(self.optimum.cost, task.slack),
            "search": "most different" if not task.sense else
            f"{'maximize' if task.sense > 0 else 'minimize'} {task.key}",
            "distance": distance,
            "references": [self.hosted_pairs(ref) for ref in references]}
        if value is not None:
            note["value"] = value
        result.summary["alternative"] = note
        return distance

    def hosted_pairs(self, hosted: np.ndarray) -> list[list[str]]:
        """The ``[partner, layer]`` pairs a 0/1 hosting per pair of the model hosts."""
        pairs = self.built.data.pairs
        return [[str(p), str(layer)] for p, layer, on in
                zip(pairs["partner"], pairs["layer"], hosted, strict=True) if on > 0.5]

    def _cheapest(self) -> Any:
        """The cheapest plan as the model now stands, as a checked Result (None: no plan)."""
        outcome = self._solve(self._check)
        return outcome.checked if outcome.has_solution else None

    def _solve(self, check: Any = None) -> Any:
        """A solve of a search, started from the plan before it in the search; the outcome.

        The plan accepted becomes the search's next start (:meth:`search` begins each search
        from the optimum).
        """
        outcome = self.resolver.solve(check)
        if outcome.accepted:
            self.resolver.start = dict(outcome.report.values)
        return outcome


def result_hosted(solver: AlternativeSolver, result: Any) -> list[float]:
    """0/1 per pair of ``solver``'s model, read from ``result.allocation``."""
    pairs = solver.built.data.pairs
    hosted = result.allocation.set_index(["partner", "layer"])["hosted"]
    keys = list(zip(pairs["partner"], pairs["layer"], strict=True))
    return [1.0 if bool(hosted.get(k, False)) else 0.0 for k in keys]


def start_of(optimum: Optimum) -> dict[str, np.ndarray]:
    """A search's first MIP start: the optimum's plan, at distance 0 from itself.

    The same start wherever a search runs (this process or a worker, after whichever
    search), so that its plans are too; :meth:`AlternativeSolver.search` sets it.
    """
    start = dict(optimum.values)
    if "no_t" in start:
        start["no_t"] = np.zeros(1)
    return start


@dataclass(frozen=True)
class SearchSettings:
    """What a worker needs to run searches (``executor.new_solver``)."""

    slots: int
    key: str | None
    optimum: Optimum

    def make_solver(self, case: Case) -> AlternativeSolver:
        """The worker's persistent search model, starting from the optimum."""
        return AlternativeSolver(case, slots=self.slots, key=self.key, optimum=self.optimum)
