"""Claims of summary.json beyond the objective: the gap, and an alternative's search.

The ``gap`` is a finite number >= 0 and, with a bound, ``|objective - bound| / |objective|``.
A near-optimal alternative's ``alternative`` entry (README, Near-optimal alternatives) says
against what it was found: its ``slack`` is a finite number >= 0, its ``cost_cap`` is
``optimum + slack * |optimum|``, the plan's objective is within that cap and not below the
optimum by more than the optimum's MIP gap, and its ``distance`` is recomputed: its
``references`` are the plans it was compared with (the optimum, then the plans its search
found before it), each the list of its hosted ``[partner, layer]`` capability pairs, and the
distance is the number of hosting decisions in which the plan (``allocation.csv``'s hosted)
differs from the nearest of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from solver.check.common import Tolerance, Violation, fmt
from solver.check.costs import finite_number

FILE = "summary.json"


def check_gap(summary: Mapping[str, Any], objective: float, bound: float | None,
              out: list[Violation], tol: Tolerance, *, required: bool = True) -> None:
    """``gap``: finite and >= 0 (absent only when not ``required``), as recomputed with a bound."""
    written = summary.get("gap")
    if written is None and not required:
        return
    gap = finite_number(written)
    if gap is None or gap < 0:
        out.append(Violation("table", "gap", 1.0, f"{FILE}: the gap {written!r} is not a "
                                                  "finite number >= 0"))
        return
    if bound is not None:
        recomputed = abs(objective - bound) / max(abs(objective), 1e-10)
        bad, miss = tol.differ(gap, recomputed)
        if bool(bad):
            out.append(Violation("objective", "gap", float(miss),
                                 f"objective: {FILE} says the gap is {fmt(gap)}, recomputed "
                                 f"from the objective and the bound {fmt(recomputed)}"))


def check_alternative(summary: Mapping[str, Any], objective: float, pairs: pd.DataFrame,
                      out: list[Violation], tol: Tolerance) -> None:
    """An alternative's ``alternative`` entry against the plan's objective (see module)."""
    note = summary.get("alternative")
    if note is None:
        return
    if not isinstance(note, Mapping):
        out.append(Violation("table", "alternative", 1.0, f"{FILE}: alternative is not an "
                                                          "object"))
        return
    values = {k: finite_number(note.get(k)) for k in ("slack", "optimum", "cost_cap", "distance")}
    bad_keys = [k for k, v in values.items() if v is None]
    slack, optimum, cap, distance = (values[k] for k in ("slack", "optimum", "cost_cap",
                                                         "distance"))
    if slack is not None and slack < 0:
        bad_keys.append("slack")
    if distance is not None and (distance != int(distance) or not 0 <= distance <= len(pairs)):
        bad_keys.append("distance")
    search = note.get("search")
    if not isinstance(search, str) or not (search == "most different" or search.startswith(
            ("maximize ", "minimize "))):
        bad_keys.append("search")
    references = _references(note.get("references"), pairs)
    if references is None:
        bad_keys.append("references")
    for k in bad_keys:
        out.append(Violation("table", f"alternative.{k}", 1.0,
                             f"{FILE}: alternative.{k} is {_short(note.get(k))}, not what a "
                             "search writes"))
    if references is not None and distance is not None and "distance" not in bad_keys:
        _check_distance(int(distance), references, pairs, out)
    if slack is None or optimum is None or cap is None or slack < 0:
        return
    claimed = optimum + slack * abs(optimum)
    bad, miss = tol.differ(cap, claimed)
    if bool(bad):
        out.append(Violation("objective", "alternative.cost_cap", float(miss),
                             f"objective: {FILE}'s cost_cap {fmt(cap)} is not the optimum "
                             f"{fmt(optimum)} plus slack {fmt(slack)} ({fmt(claimed)})"))
    over, excess = tol.over(objective, min(cap, claimed))
    if bool(over):
        out.append(Violation("objective", "alternative.cost_cap", float(excess),
                             f"objective: the plan costs {fmt(objective)}, above its cost cap "
                             f"{fmt(min(cap, claimed))} (by {fmt(float(excess))})"))
    gap = finite_number((summary.get("solver") or {}).get("mip_gap")) or 0.0
    under, short = tol.over(optimum - gap * abs(optimum), objective)
    if bool(under):
        out.append(Violation("objective", "alternative.optimum", float(short),
                             f"objective: the plan costs {fmt(objective)}, below the optimum "
                             f"{fmt(optimum)} it is an alternative to"))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _references(written: Any, pairs: pd.DataFrame) -> list[set[tuple[str, str]]] | None:
    """The reference plans' hosted pairs (None unless well formed).

    Well formed: a non-empty list of lists of ``[partner, layer]`` capability pairs of the
    case, each pair at most once in a plan.
    """
    if not isinstance(written, list) or not written:
        return None
    known = set(zip(pairs["partner"].astype(str), pairs["layer"].astype(str), strict=True))
    plans = []
    for plan in written:
        if not isinstance(plan, list):
            return None
        hosted = set()
        for pair in plan:
            if not isinstance(pair, list) or len(pair) != 2 or \
                    not all(isinstance(part, str) for part in pair):
                return None
            key = (pair[0], pair[1])
            if key not in known or key in hosted:
                return None
            hosted.add(key)
        plans.append(hosted)
    return plans


def _check_distance(distance: int, references: list[set[tuple[str, str]]],
                    pairs: pd.DataFrame, out: list[Violation]) -> None:
    """``distance`` = min over the references R of |hosted symmetric-difference R|."""
    on = pairs["y"].to_numpy() >= 0.5
    hosted = set(zip(pairs["partner"].astype(str)[on], pairs["layer"].astype(str)[on],
                     strict=True))
    nearest = min(len(hosted ^ ref) for ref in references)
    if nearest != distance:
        out.append(Violation("objective", "alternative.distance", float(abs(nearest - distance)),
                             f"objective: {FILE} says the plan differs from the nearest of its "
                             f"{len(references)} reference plan(s) in {distance} hosting "
                             f"decisions; allocation.csv's hosted gives {nearest}"))
