"""A two-stage design's own scenario outcomes (README, Shocks): read, not re-solved.

scenarios.csv and scenario_flows.csv of a design solved with ``design = "expected"`` or
``"cvar"`` come from the solved model's scenario flows, so that the checker verifies what the
design itself planned; over a chain, what its missing inputs caused is told by the
re-routing LP of :mod:`solver.studies.engine.recourse`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.scenarios import recourse_term
from solver.model.data import ModelData
from solver.model.two_stage import scenarios_of
from solver.studies.engine.chain import through_inputs
from solver.studies.engine.recourse import (
    SCENARIO_COLUMNS,
    Outcome,
    Recourse,
    outcome_row,
    plan_flows,
)


def design_tables(case: Case, data: ModelData, ctx: Any, values: dict[str, np.ndarray],
                  flows: pd.DataFrame, baseline: float
                  ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """A two-stage design's own scenario outcomes: scenarios.csv, scenario_flows.csv, recourse.

    Read from the solved model's scenario flows ``sc_g`` and unmet demand ``sc_w`` (not
    re-solved), so that the checker verifies what the design itself planned. ``flows`` are
    the no-disruption flows, ``baseline`` their second-stage cost (trade + shortage).
    """
    planned = plan_flows(data, flows)
    scen = scenarios_of(case, data)
    g, w = values["sc_g"], values["sc_w"]
    n_rows = len(data.rows)
    price = case.objective.shortage_cost
    rows, frames = [], []
    start = 0
    costs = [baseline]
    cascade = None if data.chain is None else _DesignCascade(case, data, ctx, values)
    for s, name in enumerate(scen.ids):
        js = ctx.scenario_flows[s]
        f = np.zeros(data.n_flows)
        f[js] = np.maximum(g[start:start + len(js)], 0.0)
        start += len(js)
        z = np.maximum(w[s * n_rows:(s + 1) * n_rows], 0.0)
        z[z < 1e-9] = 0.0
        f[f < 1e-9] = 0.0
        trade = float(data.flows["unit_cost"].to_numpy(dtype=float) @ f)
        through = None
        if cascade is not None:
            trade += cascade.trade_cost(s)
            through = cascade.through_inputs(s, z)
        outcome = Outcome(unmet=z, flows=f, trade_cost=trade,
                          shortage_cost=None if price is None else price * float(z.sum()),
                          through_inputs=through)
        rows.append(outcome_row(case, data, name, float(scen.probability[s]), outcome,
                                planned))
        costs.append(trade + (outcome.shortage_cost or 0.0))
        keep = f > 0
        frames.append(pd.DataFrame({
            "scenario": name,
            "exporter": data.flows["exporter"].to_numpy()[keep],
            "importer": data.flows["importer"].to_numpy()[keep],
            "layer": data.flows["layer"].to_numpy()[keep],
            "quantity": f[keep]}))
    opts = case.scenario_options
    pi = np.array([scen.rest, *scen.probability.tolist()])
    term = recourse_term(np.array(costs), pi, opts.design, opts.cvar_alpha, opts.cvar_weight)
    moved = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["scenario", "exporter", "importer", "layer", "quantity"])
    columns = SCENARIO_COLUMNS + ([] if cascade is None else ["through_inputs"])
    return pd.DataFrame(rows, columns=columns), moved, term


class _DesignCascade:
    """A design's scenario input flows over a chain, and what its missing inputs caused."""

    def __init__(self, case: Case, data: ModelData, ctx: Any,
                 values: dict[str, np.ndarray]) -> None:
        self.case, self.data = case, data
        self.chain = ctx.chain_recourse
        self.h = np.maximum(np.asarray(values["sc_h"], dtype=float), 0.0)
        # The re-routing LP of the design's capacity tells what every input arriving allows.
        self.recourse = Recourse(case, pd.DataFrame({
            "partner": data.pairs["partner"], "layer": data.pairs["layer"],
            "capacity": np.asarray(values["k"], dtype=float)}), data)
        self.scen = scenarios_of(case, data)

    def trade_cost(self, s: int) -> float:
        """The trade cost of scenario ``s``'s input flows."""
        js = self.chain.open[s]
        return float(self.chain.cost[js] @ self.h[self.chain.offset[s]:self.chain.offset[s + 1]])

    def through_inputs(self, s: int, unmet: np.ndarray) -> np.ndarray:
        """Per layer, the part of the design's unmet final demand a missing input caused."""
        lp = self.recourse
        assert lp.chain is not None
        out = lp.lp.priced(lp.lp_price, self.scen.factor[s], self.scen.closed[s],
                           lp.chain.closed_by(self.case, s))
        assert out.free_unmet is not None
        per_layer = np.bincount(self.data.row_layer, weights=unmet,
                                minlength=len(self.data.layers))
        return through_inputs(per_layer, out.free_unmet,
                              np.asarray(self.data.final_demand, dtype=float))
