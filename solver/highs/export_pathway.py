"""The names of a pathway model's rows and columns in an exported file (README, Pathways).

A period's rows and columns are named as a one-period model's, with ``@PERIOD`` after them
(``demand[US,semiconductors]@2030``, ``y[TW,semiconductors]@2026``); the pathway's own
columns and rows name their capability and period: ``b[TW,semiconductors,2026]`` (built),
``x[TW,semiconductors,2030]`` (installed base kept), ``retirement[TW,semiconductors,2030]``,
``in_service[2030,TW,semiconductors]``, ``budget[2030]``.
"""

from __future__ import annotations

from typing import Any


def _owners(path: Any) -> dict[int, tuple[Any, str]]:
    """Each period block's model (by id) with its Built and its period's name."""
    return {id(built.m): (built, period.name)
            for built, period in zip(path.blocks, path.periods, strict=True)}


def _capability(path: Any, c: int, t: int) -> str:
    cap = path.capabilities
    return f"{cap.at[c, 'partner']},{cap.at[c, 'layer']},{path.periods[t].name}"


def pathway_column_names(path: Any, variables: list[Any]) -> list[str]:
    """The names of the pathway model's columns, in ``variables`` order."""
    from solver.highs.model_names import column_names

    owners = _owners(path)
    by_block: dict[int, list[int]] = {}
    names: list[str] = [""] * len(variables)
    for j, var in enumerate(variables):
        block = var.parent_block()
        if id(block) in owners:
            by_block.setdefault(id(block), []).append(j)
        else:  # b[c,tau] or x[c,t]
            c, t = var.index()
            names[j] = f"{var.parent_component().local_name}[{_capability(path, c, t)}]"
    for key, at in by_block.items():
        built, period = owners[key]
        for j, name in zip(at, column_names(built, [variables[j] for j in at]), strict=True):
            names[j] = f"{name}@{period}"
    return names


def pathway_row_names(path: Any, constraints: list[Any]) -> list[str]:
    """The names of the pathway model's rows, in ``constraints`` order."""
    from solver.highs.model_names import row_names_of

    owners = _owners(path)
    names: list[str] = [""] * len(constraints)
    by_block: dict[int, list[int]] = {}
    in_service = path.m.row_keys.get("in_service", [])
    for i, con in enumerate(constraints):
        block = con.parent_block()
        if id(block) in owners:
            by_block.setdefault(id(block), []).append(i)
            continue
        family, index = con.parent_component().local_name, con.index()
        if family == "retirement":
            names[i] = f"retirement[{_capability(path, *index)}]"
        elif family == "in_service" and isinstance(index, int) and index <= len(in_service):
            names[i] = f"in_service[{','.join(map(str, in_service[index - 1]))}]"
        elif family == "budget":
            names[i] = f"budget[{path.periods[index].name}]"
        else:
            names[i] = str(con.name)
    for key, at in by_block.items():
        built, period = owners[key]
        for i, name in zip(at, row_names_of(built, [constraints[i] for i in at]), strict=True):
            names[i] = f"{name}@{period}"
    return names
