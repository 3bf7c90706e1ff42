"""Which group solver the game uses: one persistent priced model, or a pathway per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solver.case.loader import Case


def group_solver(case: Case, members: dict[str, list[str]]) -> Any:
    """The game's group solver: one persistent priced model (``GroupSolver``).

    On a pathway case: a priced pathway per group
    (:class:`~solver.studies.game.pathway_groups.PathwayGroupSolver`).
    """
    from solver.case.periods import uses_pathway

    if uses_pathway(case):
        from solver.studies.game.pathway_groups import PathwayGroupSolver

        return PathwayGroupSolver(case, members)
    from solver.studies.game.groups import GroupSolver

    return GroupSolver(case, members)


@dataclass(frozen=True)
class GameSettings:
    """What a worker needs to evaluate groups (``executor.new_solver``)."""

    members: dict[str, list[str]]

    def make_solver(self, case: Case) -> Any:
        """The worker's group solver (:func:`group_solver`)."""
        return group_solver(case, self.members)
