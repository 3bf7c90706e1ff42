"""The disruption scenarios of scenarios.csv (README, Shocks) as arrays over pairs and flows.

A scenario is the set of its rows. A partner row keeps ``capacity_factor`` of the built
capacity of the partner (of one layer, or of every layer); a route row closes the route from
exporter to importer (of one layer, or of every layer). Where several rows of a scenario
touch the same pair, the smallest factor holds. Used by the recourse LP
(:mod:`solver.studies.engine.recourse`), the two-stage model and the checker alike, so the three
agree on what a scenario leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.validate import blank_ids


@dataclass(frozen=True)
class Scenarios:
    """Scenario ids and probabilities, and what each leaves of every pair and flow.

    ``factor[s, a]`` is the share of pair ``a``'s built capacity that survives scenario
    ``s``; ``closed[s, j]`` whether flow ``j``'s route is closed in it.
    """

    ids: list[str]
    probability: np.ndarray
    factor: np.ndarray
    closed: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def rest(self) -> float:
        """The probability of no disruption: what the scenarios leave of 1."""
        return max(0.0, 1.0 - float(self.probability.sum()))


def scenario_table(frame: pd.DataFrame | None) -> pd.DataFrame:
    """scenarios.csv with ``""`` for an empty id, in file order (empty frame if absent)."""
    cols = ["scenario", "probability", "partner", "layer", "exporter", "importer",
            "capacity_factor"]
    if frame is None:
        return pd.DataFrame({c: pd.Series([], dtype=float if c in ("probability",
                                                                   "capacity_factor")
                                          else object) for c in cols})
    out = frame[cols].copy()
    for c in ("partner", "layer", "exporter", "importer"):
        out[c] = blank_ids(out[c])
    out["scenario"] = out["scenario"].astype(str)
    return out.reset_index(drop=True)


def scenarios_over(frame: pd.DataFrame | None, pair_partner: np.ndarray,
                   pair_layer: np.ndarray, flow_exporter: np.ndarray,
                   flow_importer: np.ndarray, flow_layer: np.ndarray) -> Scenarios:
    """The scenarios of ``frame`` over pairs (partner, layer ids) and flows (route, layer ids).

    Vectorised per row of scenarios.csv (a handful), not per pair or flow.
    """
    table = scenario_table(frame)
    ids = list(pd.unique(table["scenario"]))
    pos = {s: i for i, s in enumerate(ids)}
    first = table.drop_duplicates("scenario").set_index("scenario")["probability"]
    probability = first.reindex(ids).to_numpy(dtype=float)
    factor = np.ones((len(ids), len(pair_partner)))
    closed = np.zeros((len(ids), len(flow_exporter)), dtype=bool)
    pp, pl = np.asarray(pair_partner, dtype=object), np.asarray(pair_layer, dtype=object)
    fe, fi, fl = (np.asarray(x, dtype=object) for x in (flow_exporter, flow_importer,
                                                         flow_layer))
    row: Any
    for row in table.itertuples(index=False):
        s = pos[row.scenario]
        if row.partner:
            hit = pp == row.partner
            if row.layer:
                hit &= pl == row.layer
            factor[s, hit] = np.minimum(factor[s, hit], float(row.capacity_factor))
        elif row.exporter:
            hit = (fe == row.exporter) & (fi == row.importer)
            if row.layer:
                hit &= fl == row.layer
            closed[s, hit] = True
    return Scenarios(ids=ids, probability=probability, factor=factor, closed=closed)


def has_scenarios(frame: pd.DataFrame | None) -> bool:
    """Whether a case has scenarios (a scenarios.csv with rows)."""
    return frame is not None and not frame.empty


def cvar(values: np.ndarray, probability: np.ndarray, alpha: float) -> float:
    """CVaR at ``alpha`` of a discrete distribution: the mean of its worst ``1 - alpha`` share.

    Sorted from the worst outcome down, the outcomes fill the tail's mass ``1 - alpha`` (the
    last one in part); ``probability`` sums to 1. With ``alpha = 0`` it is the mean.
    """
    order = np.argsort(-np.asarray(values, dtype=float), kind="stable")
    v = np.asarray(values, dtype=float)[order]
    p = np.asarray(probability, dtype=float)[order]
    tail = 1.0 - float(alpha)
    before = np.concatenate([[0.0], np.cumsum(p)[:-1]])
    take = np.clip(tail - before, 0.0, p)
    return float(take @ v) / tail


def recourse_term(costs: np.ndarray, probability: np.ndarray, design: str, alpha: float,
                  weight: float) -> float:
    """The recourse term of README, Shocks for second-stage ``costs`` (no disruption first).

    ``expected``: ``E[C]``; ``cvar``: ``(1 - weight) * E[C] + weight * CVaR_alpha[C]``.
    """
    mean = float(np.asarray(probability, dtype=float) @ np.asarray(costs, dtype=float))
    if design != "cvar" or weight == 0:
        return mean
    return (1 - weight) * mean + weight * cvar(costs, probability, alpha)
