"""c(S) for the groups of the coalition game: one persistent priced model, re-solved.

The game's model (README, Sharing the cost) is built once for the whole coalition, with
capacities and demands as mutable parameters
(:func:`solver.model.build.build` with ``priced=True``). A
group S is then a change of numbers: members outside S lose their capacity (and cannot
host), their demand goes to zero, and an outside supplier offers the share
``D_l(S) / D_l(N)`` of its capacity of layer l. HiGHS re-solves, cold (a group's c(S)
does not depend on the groups solved before it, whichever worker solves it), on the
engine's one re-solver (:class:`~solver.studies.engine.resolver.Resolver`). Each plan is
verified by the independent checker against the case restricted to S: everything but the
priced requirement rows must hold, and the plan's cost must agree with the checker's own
recomputation.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.studies.engine.resolver import Resolver, runner_for

#: The columns of ``groups.csv``.
GROUP_COLUMNS = ("group", "size", "cost", "shortfall_cost", "status", "seconds")

#: Requirement families that a group may violate at a price (the checker reports them).
PRICED = {"supplier_share", "diversification", "concentration", "resilience", "surplus",
          "dependency", "domestic", "input_balance"}


def game_case(case: Case) -> Case:
    """The case as a group sees it: no participation bounds or budget (README, Sharing the cost)."""
    partners = case.partners.assign(min_participation=0.0, max_participation=1.0)
    objective = case.objective.model_copy(update={"budget": None})
    return dataclasses.replace(case, partners=partners, objective=objective)


@dataclass(frozen=True)
class GroupTask:
    """One group to evaluate: its players (sorted) and its position in the work list."""

    index: int
    players: tuple[str, ...]

    @property
    def label(self) -> str:
        """The group as its players joined by ``+``."""
        return "+".join(self.players)


@dataclass
class GroupOutcome:
    """An evaluated group: its ``groups.csv`` row (``objective`` for the progress bar)."""

    point: GroupTask
    row: dict[str, Any]

    @property
    def failed(self) -> bool:
        """Whether the group has no verified cost."""
        return self.row.get("cost") is None


def evaluate(task: GroupTask, solve: Any) -> GroupOutcome:
    """``groups.csv``'s row of ``task`` from ``solve(task)`` (the row's cost and status).

    A failure becomes a row with its status: one group's failure is not the study's end.
    """
    start = time.perf_counter()
    row: dict[str, Any] = {"group": task.label, "size": len(task.players), "cost": None,
                           "shortfall_cost": None, "status": "error", "seconds": None}
    try:
        row.update(solve(task))
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        row["status"] = f"error: {type(exc).__name__}: {exc}"[:200]
    row["seconds"] = time.perf_counter() - start
    row["objective"] = row["cost"]
    return GroupOutcome(point=task, row=row)


class GroupSolver:
    """Evaluates c(S) of groups in turn on one persistent priced model (a Resolver's).

    ``case`` is :func:`game_case` of the case; ``members`` maps each player to the member
    partners it stands for. A group is a numbers change: capacities, demands and the
    hosting bounds of the partners outside it.
    """

    def __init__(self, case: Case, members: dict[str, list[str]]) -> None:
        self.case = case
        self.members = members
        self.resolver: Resolver | None = None
        self._check_data: Any = None
        self._cap_rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._alloc_rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._layout: Any = None

    @property
    def builds(self) -> int:
        """How many models were built (one, once a group has been evaluated)."""
        return self.resolver.builds if self.resolver is not None else 0

    @property
    def highs_seconds(self) -> float:
        """HiGHS's own time over every group evaluated here."""
        return self.resolver.highs_seconds if self.resolver is not None else 0.0

    def _setup(self) -> Resolver:
        from solver.model.build import build
        from solver.results import AllocationLayout

        case = self.case
        resolver = Resolver(runner_for(case.solver), groups=priced_groups)
        resolver.build(lambda: build(case, mutable={"capabilities.capacity", "demand.demand"},
                                     priced=True))
        built = resolver.built
        data = built.data
        member = case.partners.set_index("partner")["member"].astype(bool)
        self.capacity = data.pairs["capacity"].to_numpy(dtype=float)
        self.demand = data.rows["demand"].to_numpy(dtype=float)
        self.pair_partner = data.pairs["partner"].to_numpy(dtype=object)
        self.pair_member = self.pair_partner_is(member)
        self.row_member = data.rows["member"].to_numpy(dtype=object)
        self.n_layers = len(data.layers)
        self.layer_pos = {lay: i for i, lay in enumerate(data.layers["layer"])}
        self.D_N = np.bincount(data.row_layer, weights=self.demand, minlength=self.n_layers)
        self.y = list(built.m.y.values())
        self._layout = AllocationLayout(case, data)
        self.resolver = resolver
        return resolver

    def pair_partner_is(self, flag: Any) -> np.ndarray:
        """``flag[partner]`` for each pair of the model."""
        return np.array([bool(flag[p]) for p in self.pair_partner], dtype=bool)

    def run(self, task: GroupTask) -> GroupOutcome:
        """Evaluate one group; a failure becomes a row with its status."""
        return evaluate(task, self._solve)

    def numbers(self, inside: set[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Capacity per pair, demand per row and the layers' share D_l(S)/D_l(N) for S."""
        assert self.resolver is not None
        data = self.resolver.built.data
        row_in = np.array([m in inside for m in self.row_member], dtype=bool)
        demand = np.where(row_in, self.demand, 0.0)
        d_s = np.bincount(data.row_layer, weights=demand, minlength=self.n_layers)
        share = np.divide(d_s, self.D_N, out=np.zeros(self.n_layers), where=self.D_N > 0)
        pair_in = np.array([p in inside for p in self.pair_partner], dtype=bool)
        capacity = np.where(self.pair_member, np.where(pair_in, self.capacity, 0.0),
                            self.capacity * share[data.pair_layer])
        return capacity, demand, share

    def restricted(self, inside: set[str], share: np.ndarray, label: str) -> Case:
        """The case of group S, with the sets of the whole coalition (for the checker)."""
        case = self.case
        cap = case.capabilities
        if self._cap_rows is None:
            member = case.partners.set_index("partner")["member"].astype(bool)
            self._cap_rows = (cap["partner"].map(member).to_numpy(dtype=bool),
                              cap["layer"].map(self.layer_pos).to_numpy(dtype=int),
                              cap["capacity"].to_numpy(dtype=float))
        is_member, layer_at, full = self._cap_rows
        is_in = cap["partner"].isin(inside).to_numpy()
        capacity = np.where(is_member, np.where(is_in, full, 0.0), full * share[layer_at])
        demand = case.demand
        demand = demand.assign(demand=np.where(demand["member"].isin(inside),
                                               demand["demand"], 0.0))
        return dataclasses.replace(case, capabilities=cap.assign(capacity=capacity),
                                   demand_table=demand,
                                   overrides=(*case.overrides, f"share group {label}"))

    def claimed_costs(self, allocation: Any, flows: Any, shortage: Any,
                      layer_demand: np.ndarray) -> dict[str, float]:
        """The plan's cost terms as the tables state them, for the checker to recompute.

        As :func:`solver.results.cost_terms` (README, The model) without the per-layer
        table: the game uses only the cost, so the reported metrics are not built.
        """
        from solver.results import ZERO

        if self._alloc_rows is None:
            case = self.case
            layers = case.layers.set_index("layer")
            risk = case.partners.set_index("partner")["disruption_risk"]
            self._alloc_rows = (
                allocation["layer"].map(self.layer_pos).to_numpy(dtype=int),
                allocation["layer"].map(layers["unit_value"]).to_numpy(dtype=float)
                * allocation["partner"].map(risk).to_numpy(dtype=float),
                np.array([layers.loc[lay, "redundancy_cost"] for lay in self.layer_pos],
                         dtype=float))
        layer_at, value_risk, redundancy_cost = self._alloc_rows
        obj = self.case.objective
        capacity = allocation["capacity"].to_numpy(dtype=float)
        surplus = np.bincount(layer_at, weights=capacity, minlength=self.n_layers) \
            - layer_demand
        surplus[np.abs(surplus) <= ZERO * np.maximum(1.0, layer_demand)] = 0.0
        unmet = float(shortage["unmet"].sum()) if shortage is not None else 0.0
        return {
            "fixed": float(allocation["fixed_cost"].to_numpy(dtype=float)
                           @ allocation["hosted"].to_numpy(dtype=float)),
            "capacity": float(allocation["unit_cost"].to_numpy(dtype=float) @ capacity),
            "trade": float(flows["quantity"].to_numpy(dtype=float)
                           @ flows["unit_cost"].to_numpy(dtype=float)),
            "redundancy": obj.redundancy_weight * float(redundancy_cost
                                                        @ np.maximum(surplus, 0.0)),
            "risk": obj.risk_weight * float(
                value_risk @ allocation["supplied"].to_numpy(dtype=float)),
            "shortage": (obj.shortage_cost or 0.0) * unmet,
        }

    def _solve(self, task: GroupTask) -> dict[str, Any]:
        resolver = self.resolver or self._setup()
        built = resolver.built
        inside = {m for p in task.players for m in self.members[p]}
        capacity, demand, share = self.numbers(inside)
        built.num.update(built.m, {"capacity": capacity, "demand": demand})
        for a, var in enumerate(self.y):
            var.setub(0 if capacity[a] <= 0 else 1)

        def check(report: Any) -> tuple[dict[str, Any], bool]:
            row = self._check(report, task, inside, demand, share)
            return row, row.get("cost") is not None

        outcome = resolver.solve(check)
        if outcome.checked is None:
            return {"status": str(outcome.report.status)}
        return outcome.checked

    def _check(self, report: Any, task: GroupTask, inside: set[str], demand: np.ndarray,
               share: np.ndarray) -> dict[str, Any]:
        """The group's row from a plan, verified with the checker.

        The checker reads the plan's allocation, flows and shortfall as tables and the case
        of S as its own :class:`~solver.check.case_data.CaseData` (made once, with each
        group's capacities and demands read again), checks every requirement family and
        recomputes the cost. What the game does not use (the per-layer and per-partner
        metrics of a run) is neither built nor checked.
        """
        from solver.case.chain import total_requirement
        from solver.chain_tables import input_flows_table
        from solver.check.case_data import CaseData
        from solver.check.run import check_solution
        from solver.model.build import priced_slack_cost
        from solver.results import flows_table, shortage_table

        assert self.resolver is not None
        built = self.resolver.built
        # Each slack's column in the plan read back (priced_groups); a diversification price
        # follows the demand, so the prices are read at each group.
        keys = {id(var): f"slack_{name}_{side}" for name, var, _w, side in built.ctx.slacks}
        slack_cost = priced_slack_cost(built.ctx, lambda var: report.values[keys[id(var)]])
        case_s = self.restricted(inside, share, task.label)
        data = built.data
        layer_demand = np.bincount(data.row_layer, weights=demand, minlength=self.n_layers)
        if data.chain is not None:  # the group's own total requirement (its own inputs)
            layer_demand = total_requirement(data.chain.matrix, layer_demand)
        data_s = dataclasses.replace(data, rows=data.rows.assign(demand=demand),
                                     layer_demand=layer_demand)
        allocation = self._layout.table(report.values, layer_demand)
        flows = flows_table(data_s, report.values)
        shortage = shortage_table(data_s, report.values)
        input_flows = input_flows_table(data_s, report.values)
        costs = self.claimed_costs(allocation, flows if input_flows is None
                                   else pd.concat([flows, input_flows]), shortage, layer_demand)
        summary = {"status": str(report.status),
                   "objective": float(report.objective or 0.0) - slack_cost, "costs": costs}
        if self._check_data is None:
            self._check_data = CaseData.of(self.case)
        violations = check_solution(case_s, allocation, flows, summary, shortage=shortage,
                                    data=self._check_data.with_numbers(case_s),
                                    input_flows=input_flows, scenario_table=False)
        wrong = [v for v in violations if v.family not in PRICED]
        if wrong:
            return {"status": "unverified: " + "; ".join(str(v) for v in wrong[:2])}
        return {"cost": report.objective,
                "shortfall_cost": slack_cost + costs["shortage"],
                "status": str(report.status)}


def priced_groups(built: Any) -> dict[str, Any]:
    """The variables a plan of the game's priced model is read back as.

    The model's own, and each requirement family's slack (``slack_<family>_<side>``).
    """
    from solver.solve import variable_groups

    groups = dict(variable_groups(built.m))
    for name, var, _w, side in built.ctx.slacks:
        groups[f"slack_{name}_{side}"] = var
    return groups
