"""c(S) for the groups of the coalition game: one persistent priced model, re-solved.

The game's model (README, Sharing the cost) is built once for the whole coalition, with
capacities and demands as mutable parameters
(:func:`solver.model.build.build` with ``priced=True``). A
group S is then a change of numbers: members outside S lose their capacity (and cannot
host), their demand goes to zero, and an outside supplier offers the share
``D_l(S) / D_l(N)`` of its capacity of layer l. HiGHS re-solves, warm-started from the
previous group's plan. Each plan is verified by the independent checker against the case
restricted to S: everything but the priced requirement rows must hold, and the plan's cost
must agree with the checker's own recomputation.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from solver.case.loader import Case

#: The columns of ``groups.csv``.
GROUP_COLUMNS = ("group", "size", "cost", "shortfall_cost", "status", "seconds")

#: Requirement families that a group may violate at a price (the checker reports them).
PRICED = {"supplier_share", "diversification", "concentration", "resilience", "surplus",
          "dependency", "domestic"}


def game_case(case: Case) -> Case:
    """The case as a group sees it: no participation bounds or budget (README, Sharing the cost)."""
    partners = case.partners.assign(min_participation=0.0, max_participation=1.0)
    objective = case.objective.model_copy(update={"budget": None})
    return dataclasses.replace(case, partners=partners, objective=objective)


@dataclass(frozen=True)
class GameSettings:
    """What a worker needs to evaluate groups (see :func:`solver.studies.workers.new_solver`)."""

    members: dict[str, list[str]]

    def make_solver(self, case: Case) -> GroupSolver:
        """The worker's persistent group solver."""
        return GroupSolver(case, self.members)


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


class GroupSolver:
    """Evaluates c(S) of groups in turn on one persistent priced model.

    ``case`` is :func:`game_case` of the case; ``members`` maps each player to the member
    partners it stands for. ``builds`` counts the models built (one), ``retries`` the
    groups solved again without a warm start because the warm-started plan failed.
    """

    def __init__(self, case: Case, members: dict[str, list[str]]) -> None:
        self.case = case
        self.members = members
        self.builds = 0
        self.retries = 0
        self.highs_seconds = 0.0
        self._built: Any = None

    def _setup(self) -> None:
        from solver.highs.runner import HighsRunner
        from solver.model.build import build
        from solver.solve import variable_groups

        case = self.case
        self._built = build(case, mutable={"capabilities.capacity", "demand.demand"},
                            priced=True)
        self.builds += 1
        data = self._built.data
        member = case.partners.set_index("partner")["member"].astype(bool)
        self.capacity = data.pairs["capacity"].to_numpy(dtype=float)
        self.demand = data.rows["demand"].to_numpy(dtype=float)
        self.pair_partner = data.pairs["partner"].to_numpy(dtype=object)
        self.pair_member = self.pair_partner_is(member)
        self.row_member = data.rows["member"].to_numpy(dtype=object)
        self.n_layers = len(data.layers)
        self.layer_pos = {lay: i for i, lay in enumerate(data.layers["layer"])}
        self.D_N = np.bincount(data.row_layer, weights=self.demand, minlength=self.n_layers)
        self.groups = dict(variable_groups(self._built.m))
        self.slacks = []
        for name, var, _w, side in self._built.ctx.slacks:
            key = f"slack_{name}_{side}"
            self.groups[key] = var
            self.slacks.append((key, name))
        opts = case.solver
        self.runner = HighsRunner(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                                  threads=opts.threads)
        self.y = list(self._built.m.y.values())
        self._start: dict[str, np.ndarray] = {}

    def pair_partner_is(self, flag: Any) -> np.ndarray:
        """``flag[partner]`` for each pair of the model."""
        return np.array([bool(flag[p]) for p in self.pair_partner], dtype=bool)

    def run(self, task: GroupTask) -> GroupOutcome:
        """Evaluate one group; a failure becomes a row with its status."""
        start = time.perf_counter()
        row: dict[str, Any] = {"group": task.label, "size": len(task.players), "cost": None,
                               "shortfall_cost": None, "status": "error", "seconds": None}
        try:
            row.update(self._solve(task))
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one group's failure is its row, not the study's end
            row["status"] = f"error: {type(exc).__name__}: {exc}"[:200]
        row["seconds"] = time.perf_counter() - start
        row["objective"] = row["cost"]
        return GroupOutcome(point=task, row=row)

    def numbers(self, inside: set[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Capacity per pair, demand per row and the layers' share D_l(S)/D_l(N) for S."""
        data = self._built.data
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
        member = case.partners.set_index("partner")["member"].astype(bool)
        is_member = cap["partner"].map(member).to_numpy(dtype=bool)
        is_in = cap["partner"].isin(inside).to_numpy()
        layer_share = cap["layer"].map(self.layer_pos).map(lambda i: share[i])
        capacity = np.where(is_member, np.where(is_in, cap["capacity"], 0.0),
                            cap["capacity"].to_numpy(dtype=float) * layer_share.to_numpy())
        demand = case.demand.copy()
        demand["demand"] = np.where(demand["member"].isin(inside), demand["demand"], 0.0)
        return dataclasses.replace(case, capabilities=cap.assign(capacity=capacity),
                                   demand_table=demand,
                                   overrides=(*case.overrides, f"share group {label}"))

    def _solve(self, task: GroupTask) -> dict[str, Any]:
        if self._built is None:
            self._setup()
        built = self._built
        inside = {m for p in task.players for m in self.members[p]}
        capacity, demand, share = self.numbers(inside)
        built.num.update(built.m, {"capacity": capacity, "demand": demand})
        for a, var in enumerate(self.y):
            var.setub(0 if capacity[a] <= 0 else 1)
        warm = bool(self._start) and self.runner.warm_start(built.m, self._start)
        row = self._attempt(task, inside, capacity, demand, share)
        if warm and row.get("cost") is None:
            # HiGHS can lose the objective offset of a MIP start in its presolved space and
            # stop at a wrong "optimum" (which the checker refuses): solve again, cold.
            self.runner.highs.clearSolver()
            self.retries += 1
            row = self._attempt(task, inside, capacity, demand, share)
        return row

    def _attempt(self, task: GroupTask, inside: set[str], capacity: np.ndarray,
                 demand: np.ndarray, share: np.ndarray) -> dict[str, Any]:
        """Solve the group as the model now stands and verify the plan."""
        from pyomo.core import value

        from solver.model.build import slack_prices
        from solver.solve import finish

        built = self._built
        report = self.runner.solve(built.m, self.groups)
        self.highs_seconds += report.highs_seconds
        if not report.has_solution:
            return {"status": str(report.status)}
        slack_cost = 0.0
        for key, family in self.slacks:
            prices = np.array([float(value(p)) for p in slack_prices(built.ctx, family)])
            slack_cost += float(prices @ report.values[key])
        case_s = self.restricted(inside, share, task.label)
        data = built.data
        built.data = dataclasses.replace(
            data, pairs=data.pairs.assign(capacity=capacity),
            rows=data.rows.assign(demand=demand),
            layer_demand=np.bincount(data.row_layer, weights=demand, minlength=self.n_layers))
        plan_cost = float(report.objective or 0.0) - slack_cost
        plan = dataclasses.replace(report, objective=plan_cost, bound=None, gap=None)
        quiet = logging.getLogger("solver.solve")
        was, quiet.disabled = quiet.disabled, True  # priced violations are expected
        try:
            result = finish(case_s, built, plan, self.runner, 0.0, raise_on_failure=False)
        finally:
            built.data = data
            quiet.disabled = was
        wrong = [v for v in result.violations if v.family not in PRICED]
        if wrong:
            return {"status": "unverified: " + "; ".join(str(v) for v in wrong[:2])}
        self._start = dict(report.values)
        return {"cost": report.objective,
                "shortfall_cost": slack_cost + float(result.costs.get("shortage", 0.0)),
                "status": str(report.status)}
