"""c(S) for the groups of the coalition game on a pathway case (README, Sharing the cost).

On a pathway a group's cost is the discounted total of its own pathway: the group builds
from its own installed base, period by period. In every period, after that period's targets,
group S is the case with the members outside S removed (no capacity, installed base or
builds, and no demand; as in every group, no participation bounds or budget) and each
outside supplier offering the share ``D_l(S) / D_l(N)`` of that period's demand of its
capacity, installed base and build rate of layer l, as the one-period game does
(:mod:`solver.studies.game.groups`). A row left without capacity cannot be hosted (its
``min_capacity`` is raised above it), as the one-period game bounds such a row's hosting at
0: it cannot count as a supplier for nothing. Its pathway is built with every period's block
priced (:func:`solver.model.pathway.build_pathway`), solved anew for each group, and
verified by the pathway checker against the case of S: every rule but the priced requirement
rows must hold, and the plan's cost must agree with the checker's recomputation. ``c(S)`` is
the priced objective: the discounted costs plus the prices of the rows the group cannot
meet.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.studies.game.groups import PRICED, GroupOutcome, GroupTask, evaluate


@dataclass(frozen=True)
class GroupOfPeriod:
    """Restricts one period's case to group S (module docstring): ``Case -> Case``."""

    inside: frozenset[str]

    def __call__(self, case: Case) -> Case:
        """Period case of the whole coalition -> the same period for the group."""
        member = case.partners.set_index("partner")["member"].astype(bool)
        demand = case.demand
        layers = case.layers["layer"].astype(str)
        total = demand.groupby("layer")["demand"].sum().reindex(layers, fill_value=0.0)
        mine = demand[demand["member"].isin(self.inside)].groupby("layer")["demand"].sum() \
            .reindex(layers, fill_value=0.0)
        share = (mine / total.where(total > 0)).fillna(0.0)
        cap = case.capabilities
        is_member = cap["partner"].map(member).to_numpy(dtype=bool)
        is_in = cap["partner"].isin(self.inside).to_numpy(dtype=bool)
        factor = np.where(is_member, np.where(is_in, 1.0, 0.0),
                          cap["layer"].astype(str).map(share).to_numpy(dtype=float))
        capacity = cap["capacity"].to_numpy(dtype=float) * factor
        # A row left without capacity cannot be hosted (as the one-period game bounds its
        # hosting at 0): a minimum above it, or it could count as a supplier for nothing.
        floor = cap["min_capacity"].to_numpy(dtype=float)
        changed = {"capacity": capacity,
                   "min_capacity": np.where(capacity <= 0, np.maximum(floor, 1.0), floor),
                   "existing": pd.to_numeric(cap["existing"], errors="coerce").fillna(0.0)
                   .to_numpy(dtype=float) * factor}
        if "max_build" in cap:
            build = pd.to_numeric(cap["max_build"], errors="coerce").to_numpy(dtype=float)
            # An empty max_build is the capacity (README, Pathways): scaled with it.
            changed["max_build"] = np.where(np.isnan(build), capacity, build * factor)
        # As game_case, in every period (a target may set them): no participation bounds.
        partners = case.partners.assign(min_participation=0.0, max_participation=1.0)
        demand = demand.assign(demand=np.where(demand["member"].isin(self.inside),
                                               demand["demand"], 0.0))
        return dataclasses.replace(case, partners=partners,
                                   capabilities=cap.assign(**changed), demand_table=demand,
                                   objective=case.objective.model_copy(update={"budget": None}))


def group_case(case: Case, inside: set[str], label: str) -> Case:
    """The pathway case of group S: each period restricted to S after its targets."""
    return dataclasses.replace(case, period_group=GroupOfPeriod(frozenset(inside)),
                               overrides=(*case.overrides, f"share group {label}"))


class PathwayGroupSolver:
    """Evaluates c(S) of groups on a pathway, each group's priced pathway built anew.

    The interface of :class:`~solver.studies.game.groups.GroupSolver` that the game uses.
    """

    def __init__(self, case: Case, members: dict[str, list[str]]) -> None:
        self.case = case
        self.members = members
        self.builds = 0
        self.highs_seconds = 0.0

    def run(self, task: GroupTask) -> GroupOutcome:
        """Evaluate one group; a failure becomes a row with its status."""
        return evaluate(task, self._solve)

    def _solve(self, task: GroupTask) -> dict[str, Any]:
        from solver.solve_pathway import solve_pathway

        inside = {m for p in task.players for m in self.members[p]}
        result = solve_pathway(group_case(self.case, inside, task.label), priced=True,
                               raise_on_failure=False, explain=False)
        self.builds += 1
        self.highs_seconds += float(result.summary["seconds"]["solve"])
        wrong = [v for v in result.violations if v.family not in PRICED]
        if wrong:
            return {"status": "unverified: " + "; ".join(str(v) for v in wrong[:2])}
        slack = float(result.summary["priced_slack_cost"])
        return {"cost": float(result.objective or 0.0) + slack,
                "shortfall_cost": slack + float(result.costs.get("shortage", 0.0)),
                "status": result.status}
