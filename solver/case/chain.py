"""The stack as a chain (README, The stack as a chain): input coefficients and total requirement.

``a[l, m]`` (inputs.csv's per_unit) is the amount of layer ``m`` consumed per unit of layer ``l``
supplied. The total requirement of the layers is ``D = (I - A^T)^-1 d`` for final demand ``d``:
``D_l = d_l + sum_l' a[l', l] D_l'``. It exists, and is non-negative, when ``A`` is productive
(spectral radius below 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: A spectral radius this close to 1 is taken as 1: the total requirement would be huge.
PRODUCTIVE_MARGIN = 1e-9


def input_matrix(layer_ids: Sequence[str], inputs: pd.DataFrame | None) -> np.ndarray:
    """``A`` as a layers-by-layers array (rows: the layer produced, columns: its input).

    Rows naming a layer that is not in ``layer_ids`` are left out (validation reports them).
    """
    n = len(layer_ids)
    a = np.zeros((n, n))
    if inputs is None or inputs.empty:
        return a
    pos = {str(name): i for i, name in enumerate(layer_ids)}
    for layer, inp, per_unit in zip(inputs["layer"].astype(str), inputs["input"].astype(str),
                                    inputs["per_unit"].to_numpy(dtype=float), strict=True):
        if layer in pos and inp in pos and np.isfinite(per_unit):
            a[pos[layer], pos[inp]] += per_unit
    return a


def spectral_radius(a: np.ndarray) -> float:
    """The largest absolute eigenvalue of ``a`` (0 for an empty matrix)."""
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(np.linalg.eigvals(a))))


def unproductive_cycle(a: np.ndarray) -> tuple[list[int], float] | None:
    """The layers of a cycle that makes ``A`` unproductive, and ``A``'s spectral radius.

    None when ``A`` is productive. The cycle is found inside the strongly connected group of
    layers whose own coefficients have spectral radius >= 1 (the part of the chain that needs
    more of itself than it makes), as the layers in the order their inputs link them, the
    first repeated at the end.
    """
    radius = spectral_radius(a)
    if radius < 1.0 - PRODUCTIVE_MARGIN:
        return None
    for group in _strong_components(a > 0):
        sub = a[np.ix_(group, group)]
        if spectral_radius(sub) >= 1.0 - PRODUCTIVE_MARGIN:
            return _cycle_in(a > 0, group), radius
    return list(range(len(a))), radius


def total_requirement(a: np.ndarray, final: np.ndarray) -> np.ndarray:
    """``D = (I - A^T)^-1 d``: what must be supplied of each layer to serve final demand ``d``."""
    if not a.any():
        return np.asarray(final, dtype=float).copy()
    return np.linalg.solve(np.eye(len(a)) - a.T, np.asarray(final, dtype=float))


def leontief_inverse(a: np.ndarray) -> np.ndarray:
    """``(I - A^T)^-1``: column ``m`` is the total requirement of one unit of final ``m``."""
    return np.linalg.inv(np.eye(len(a)) - a.T)


def _strong_components(edges: np.ndarray) -> list[list[int]]:
    """Strongly connected groups of a directed graph with a cycle (Tarjan), largest first."""
    n = len(edges)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    groups: list[list[int]] = []
    counter = [0]

    def visit(v: int) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack[v] = True
        for w in np.flatnonzero(edges[v]).tolist():
            if index[w] < 0:
                visit(w)
                low[v] = min(low[v], low[w])
            elif on_stack[w]:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack[w] = False
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or edges[v, v]:
                groups.append(sorted(group))

    for v in range(n):
        if index[v] < 0:
            visit(v)
    return sorted(groups, key=len, reverse=True)


def _cycle_in(edges: np.ndarray, group: list[int]) -> list[int]:
    """A cycle through the first layer of a strongly connected ``group``."""
    start = group[0]
    if edges[start, start]:
        return [start, start]
    inside = set(group)
    previous = {start: -1}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in np.flatnonzero(edges[v]).tolist():
                if w == start:
                    path = [v]
                    while previous[path[-1]] != -1:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if w in inside and w not in previous:
                    previous[w] = v
                    nxt.append(w)
        frontier = nxt
    return [*group, start]
