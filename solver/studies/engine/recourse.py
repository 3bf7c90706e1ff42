"""Re-route a built plan under a disruption: the second-stage LP of README, Shocks.

Given the capacity a plan built, ``k[p,l]``, and a disruption (the share of each pair's
capacity that survives, ``factor[a]``, and the routes that close), the LP

    min  sum_j t_j f_j + price * sum_r z_r
    s.t. sum_{j in r} f_j + z_r = d_r              for every demand row r
         sum_{j of a} f_j <= factor[a] * k[a]       for every pair a
         f_j = 0 on a closed route,  f, z >= 0

finds how much demand the plan still meets and at what trade cost. ``price`` is
``objective.shortage_cost``; without it unmet demand is minimised first (a price above any
re-routing can save: longer than an augmenting path times the dearest route) and no
shortage cost is reported. One HiGHS LP is built once per plan and re-solved per scenario
with only its bounds changed (warm-started). With a chain (inputs.csv) the LP also routes
the inputs (:mod:`solver.studies.engine.chain`): production needs the inputs that still
arrive, and an outcome says how much unmet demand that adds (``through_inputs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.scenarios import recourse_term
from solver.model.data import ModelData, model_data
from solver.model.two_stage import scenarios_of
from solver.studies.engine.chain import InputBlock, through_inputs


@dataclass(frozen=True)
class Outcome:
    """What a plan achieves in one disruption: unmet demand per row, flows and costs."""

    unmet: np.ndarray
    flows: np.ndarray
    trade_cost: float
    shortage_cost: float | None
    through_inputs: np.ndarray | None = None
    """With a chain: per demand row, the part of ``unmet`` a missing input caused."""


class Recourse:
    """The second-stage LP of one plan, re-solved for each disruption."""

    def __init__(self, case: Case, capacity: pd.DataFrame, data: ModelData | None = None
                 ) -> None:
        """``capacity``: the plan's capacity built, columns partner, layer, capacity."""
        from solver.highs.runner import new_highs

        self.case = case
        self.data = data if data is not None else model_data(case)
        d = self.data
        built = capacity.set_index(["partner", "layer"])["capacity"]
        keys = pd.MultiIndex.from_arrays([d.pairs["partner"], d.pairs["layer"]])
        self.k = built.reindex(keys).fillna(0.0).to_numpy(dtype=float)
        self.demand = d.rows["demand"].to_numpy(dtype=float)
        self.cost = d.flows["unit_cost"].to_numpy(dtype=float)
        price = case.objective.shortage_cost
        self.price = price
        n_rows = len(d.rows)
        longest = 2 * (min(d.n_pairs, n_rows) + 1)
        self.lp_price = float(price) if price is not None else \
            1.0 + longest * float(self.cost.max(initial=0.0))
        n_f = d.n_flows
        self.n_f, self.n_rows, self.n_pairs = n_f, n_rows, d.n_pairs
        # Column-wise: flow j is in demand row flow_row[j] and capacity row n_rows + pair.
        index = np.empty(2 * n_f + n_rows, dtype=np.int32)
        index[0:2 * n_f:2] = d.flow_row
        index[1:2 * n_f:2] = n_rows + d.flow_pair
        index[2 * n_f:] = np.arange(n_rows, dtype=np.int32)
        start = np.concatenate([np.arange(0, 2 * n_f + 1, 2),
                                2 * n_f + np.arange(1, n_rows + 1)]).astype(np.int32)
        value = np.ones(len(index))
        col_cost = np.concatenate([self.cost, np.full(n_rows, self.lp_price)])
        inf = 1e30
        lower = np.zeros(n_f + n_rows)
        upper = np.full(n_f + n_rows, inf)
        row_lower = np.concatenate([self.demand, np.full(d.n_pairs, -inf)])
        row_upper = np.concatenate([self.demand, self.k])
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.passModel(n_f + n_rows, n_rows + d.n_pairs, len(index), 1, 1, 0.0, col_cost,
                    lower, upper, row_lower, row_upper, start, index, value,
                    np.zeros(n_f + n_rows, dtype=np.int32))
        self._h = h
        self._flow_cols = np.arange(n_f, dtype=np.int32)
        self._cap_rows = (n_rows + np.arange(d.n_pairs)).astype(np.int32)
        self.chain = None
        if d.chain is not None:
            # Shocks cascade: production needs the inputs that still arrive.
            self.chain = InputBlock(h, d, self._cap_rows, self._flow_cols)
            self.chain.costs(h, on=True)

    def solve(self, factor: np.ndarray, closed: np.ndarray,
              closed_inputs: np.ndarray | None = None) -> Outcome:
        """Re-route with ``factor[a]`` of each pair's capacity and the ``closed`` flows.

        With a chain, ``closed_inputs`` are the input flows whose routes close, and the
        outcome tells how much of the unmet demand a missing input caused.
        """
        h = self._h
        if self.n_pairs:
            h.changeRowsBounds(self.n_pairs, self._cap_rows, np.full(self.n_pairs, -1e30),
                               np.asarray(factor, dtype=float) * self.k)
        if self.n_f:
            h.changeColsBounds(self.n_f, self._flow_cols, np.zeros(self.n_f),
                               np.where(closed, 0.0, 1e30))
        through = None
        if self.chain is not None:
            shut = np.zeros(self.chain.n_g, dtype=bool) if closed_inputs is None \
                else closed_inputs
            self.chain.open(h, np.where(shut, 0.0, 1e30))
            self.chain.relax(h, relaxed=True)
            free = self._run()[self.n_f:self.n_f + self.n_rows]
            self.chain.relax(h, relaxed=False)
        x = self._run()
        f = np.maximum(x[:self.n_f], 0.0)
        z = np.maximum(x[self.n_f:self.n_f + self.n_rows], 0.0)
        z[z < 1e-9] = 0.0
        trade = float(self.cost @ f)
        if self.chain is not None:
            through = through_inputs(z, np.maximum(free, 0.0), self.demand)
            trade += self.chain.trade_cost(x)
        shortage = None if self.price is None else float(self.price) * float(z.sum())
        return Outcome(unmet=z, flows=f, trade_cost=trade, shortage_cost=shortage,
                       through_inputs=through)

    def _run(self) -> np.ndarray:
        import highspy

        h = self._h
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"recourse LP: {h.modelStatusToString(h.getModelStatus())}")
        return np.asarray(h.getSolution().col_value, dtype=float)


def plan_flows(data: ModelData, flows: pd.DataFrame | None) -> np.ndarray:
    """A plan's flows (exporter, importer, layer, quantity) over the flows of ``data``."""
    out = np.zeros(data.n_flows)
    if flows is None or flows.empty:
        return out
    keys = pd.MultiIndex.from_arrays([data.flows["exporter"].astype(str),
                                      data.flows["importer"].astype(str),
                                      data.flows["layer"].astype(str)])
    given = flows.astype({"exporter": str, "importer": str, "layer": str}).groupby(
        ["exporter", "importer", "layer"])["quantity"].sum()
    return given.reindex(keys).fillna(0.0).to_numpy(dtype=float)


def outcome_row(case: Case, data: ModelData, name: str, probability: float,
                outcome: Outcome, planned: np.ndarray) -> dict[str, Any]:
    """One row of the run folder's scenarios.csv for ``outcome``."""
    layers = data.layers["layer"].tolist()
    per_layer = np.bincount(data.row_layer, weights=outcome.unmet, minlength=len(layers))
    # Unmet demand is final demand: its shares are of final demand, not of the total
    # requirement D (README, The stack as a chain).
    demand = np.asarray(data.layer_demand if data.final_demand is None else data.final_demand,
                        dtype=float)
    share = np.divide(per_layer, demand, out=np.zeros(len(layers)), where=demand > 0)
    total = float(outcome.unmet.sum())
    worst = int(np.argmax(share)) if len(layers) and share.max() > 0 else -1
    second = outcome.trade_cost + (outcome.shortage_cost or 0.0)
    extra = {} if outcome.through_inputs is None else {
        "through_inputs": float(outcome.through_inputs.sum())}
    return {**extra,
        "scenario": name,
        "probability": probability,
        "unmet": total,
        "unmet_share": total / float(demand.sum()) if demand.sum() > 0 else 0.0,
        "worst_layer": layers[worst] if worst >= 0 else "",
        "worst_layer_unmet": float(per_layer[worst]) if worst >= 0 else 0.0,
        "worst_layer_share": float(share[worst]) if worst >= 0 else 0.0,
        "rerouted": float(np.maximum(outcome.flows - planned, 0.0).sum()),
        "trade_cost": outcome.trade_cost,
        "shortage_cost": outcome.shortage_cost,
        "second_stage_cost": second if outcome.shortage_cost is not None else None,
    }


def evaluate_scenarios(case: Case, allocation: pd.DataFrame,
                       flows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per scenario of ``case.scenarios``, what the plan leaves unmet and what it costs.

    ``allocation`` holds the plan's capacity (partner, layer, capacity); ``flows`` its
    planned flows (to count what is re-routed). The table of the run folder's scenarios.csv.
    """
    data = model_data(case)
    scenarios = scenarios_of(case, data)
    lp = Recourse(case, allocation, data)
    planned = plan_flows(data, flows)
    chain = lp.chain
    rows = [outcome_row(case, data, name, float(scenarios.probability[s]),
                        lp.solve(scenarios.factor[s], scenarios.closed[s],
                                 None if chain is None else chain.closed_by(case, s)), planned)
            for s, name in enumerate(scenarios.ids)]
    columns = SCENARIO_COLUMNS + ([] if chain is None else ["through_inputs"])
    return pd.DataFrame(rows, columns=columns)


#: The columns of the run folder's scenarios.csv.
SCENARIO_COLUMNS = ["scenario", "probability", "unmet", "unmet_share", "worst_layer",
                    "worst_layer_unmet", "worst_layer_share", "rerouted", "trade_cost",
                    "shortage_cost", "second_stage_cost"]


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
    for s, name in enumerate(scen.ids):
        js = ctx.scenario_flows[s]
        f = np.zeros(data.n_flows)
        f[js] = np.maximum(g[start:start + len(js)], 0.0)
        start += len(js)
        z = np.maximum(w[s * n_rows:(s + 1) * n_rows], 0.0)
        z[z < 1e-9] = 0.0
        f[f < 1e-9] = 0.0
        trade = float(data.flows["unit_cost"].to_numpy(dtype=float) @ f)
        outcome = Outcome(unmet=z, flows=f, trade_cost=trade,
                          shortage_cost=None if price is None else price * float(z.sum()))
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
    return pd.DataFrame(rows, columns=SCENARIO_COLUMNS), moved, term
