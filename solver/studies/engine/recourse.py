"""Re-route a built plan under a disruption: the second-stage LP of README, Shocks.

Given the capacity a plan built, ``k[p,l]``, and a disruption (the share of each pair's
capacity that survives, ``factor[a]``, and the routes that close), the LP

    min  sum_j t_j f_j + price * sum_r z_r
    s.t. sum_{j in r} f_j + z_r = d_r              for every demand row r
         sum_{j of a} f_j <= factor[a] * k[a]       for every pair a
         f_j = 0 on a closed route,  f, z >= 0

finds how much demand the plan still meets and at what trade cost. It is the one
re-routing LP of the tool (:class:`RerouteLP`): the same model, solved in three stages,
re-routes a design after the loss of a partner in ``stress``. ``price`` is
``objective.shortage_cost``; without it unmet demand is minimised first (a price above any
re-routing can save: longer than an augmenting path times the dearest route) and no
shortage cost is reported. One HiGHS LP is built once per plan and re-solved per scenario
with only its bounds changed (warm-started from the basis of the scenario before; a study
that hands scenarios to workers starts each of its units afresh,
:meth:`Recourse.start_afresh`). With a chain (inputs.csv) the LP also routes
the inputs (:mod:`solver.studies.engine.chain`): production needs the inputs that still
arrive, and an outcome says how much unmet demand that adds (``through_inputs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.highs.runner import new_highs, set_threads
from solver.model.data import ModelData, model_data
from solver.model.two_stage import scenarios_of
from solver.studies.engine.chain import InputBlock, through_inputs
from solver.studies.engine.market_block import MarketBlock, market_target


@dataclass(frozen=True)
class Outcome:
    """What a plan achieves in one disruption: unmet demand per row, flows and costs."""

    unmet: np.ndarray
    flows: np.ndarray
    trade_cost: float
    shortage_cost: float | None
    through_inputs: np.ndarray | None = None
    """With a chain: per layer, the part of its unmet final demand a missing input caused."""
    market_unmet: np.ndarray | None = None
    """With markets: per market row, what the plan sent it that is not delivered."""
    lost_revenue: float | None = None
    """With markets: what ``market_unmet`` would have paid (its price)."""


#: Relative slack when a stage's optimum becomes a bound of the next stage.
STAGE_TOL = 1e-9

#: Unmet demand and cost differences below this share are solver noise, reported as zero.
CLEAN = 1e-7


@dataclass
class _Priced:
    """The outcome of one priced re-routing."""

    flows: np.ndarray
    unmet: np.ndarray
    input_trade_cost: float
    free_unmet: np.ndarray | None
    """With a chain: unmet demand per layer had every input arrived (the balances lifted)."""
    market_unmet: np.ndarray | None = None
    """With markets: per market row, its unmet supply."""
    market_trade_cost: float = 0.0


@dataclass
class _Reroute:
    """The outcome of re-routing after one loss."""

    unmet: np.ndarray
    trade_cost: float
    through_inputs: np.ndarray | None = None
    """With a chain: per layer, the unmet demand a missing input caused."""
    market_unmet: np.ndarray | None = None
    """With markets: per market row, its unmet supply."""


class RerouteLP:
    """The one re-routing LP of a design, kept in one HiGHS model and re-solved.

    Columns: flows ``f[j]`` (allowed routes of the case), unmet demand ``u[r]`` per demand
    row, the largest unmet share ``t[l]`` per layer. Rows: ``sum f <= k`` per capability
    pair, ``sum f + u = d`` per demand row, ``u[r] <= t[l] * d[r]``, and a cap on each
    layer's total unmet demand (open until stage 2). :meth:`run` re-routes after the loss
    of a partner in three stages (``stress``); :meth:`priced` re-routes once at a price of
    unmet demand under any disruption (scenarios, ``stress --sample``, :class:`Recourse`),
    where ``t`` and the layer caps are left open and so bind nothing. With a chain, the
    input flows and balances of :class:`~solver.studies.engine.chain.InputBlock` are added:
    production needs the inputs that still arrive, so shocks cascade. With markets
    (``market_target``: what the plan sent each market row), the market flows of
    :class:`~solver.studies.engine.market_block.MarketBlock` share the capacity, and members
    are served first: their unmet demand is minimised, capped, and only then are trade cost
    and lost market revenue (a market's price per unit not delivered) minimised. With both, what
    is made for markets needs its inputs too (the block's market input flows and balances) and
    takes, at every layer, what members' rationed claims leave.
    """

    def __init__(self, data: Any, capacity: np.ndarray, threads: int = 1,
                 market_target: np.ndarray | None = None) -> None:
        import highspy

        self.data = data
        n_f, n_r, n_l, n_a = data.n_flows, len(data.rows), len(data.layers), data.n_pairs
        self.n_f, self.n_r, self.n_l = n_f, n_r, n_l
        d = data.rows["demand"].to_numpy(dtype=float)
        self.demand = d
        self.trade = data.flows["unit_cost"].to_numpy(dtype=float)
        row_layer = np.asarray(data.row_layer, dtype=np.int64)
        flow_pair = np.asarray(data.flow_pair, dtype=np.int64)
        flow_row = np.asarray(data.flow_row, dtype=np.int64)
        # Row blocks: capacity [0, n_a), demand [n_a, +n_r), fairness [+n_r), layer totals.
        cap0, dem0, fair0, tot0 = 0, n_a, n_a + n_r, n_a + 2 * n_r
        self.tot0 = tot0
        f_cols = np.arange(n_f)
        u_cols = n_f + np.arange(n_r)
        t_cols = n_f + n_r + row_layer
        rows = np.concatenate([cap0 + flow_pair, dem0 + flow_row,
                               dem0 + np.arange(n_r), fair0 + np.arange(n_r),
                               tot0 + row_layer, fair0 + np.arange(n_r)])
        cols = np.concatenate([f_cols, f_cols, u_cols, u_cols, u_cols, t_cols])
        vals = np.concatenate([np.ones(2 * n_f), np.ones(3 * n_r), -d])
        order = np.lexsort((rows, cols))
        rows, cols, vals = rows[order], cols[order], vals[order]
        n_col = n_f + n_r + n_l
        start = np.searchsorted(cols, np.arange(n_col + 1)).astype(np.int32)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = n_col
        lp.num_row_ = tot0 + n_l
        lp.col_cost_ = np.zeros(n_col)
        self.col_upper = np.concatenate([np.full(n_f, inf), d, np.ones(n_l)])
        lp.col_lower_ = np.zeros(n_col)
        lp.col_upper_ = self.col_upper.copy()
        lp.row_lower_ = np.concatenate([np.full(n_a, -inf), d, np.full(n_r, -inf),
                                        np.full(n_l, -inf)])
        lp.row_upper_ = np.concatenate([np.asarray(capacity, dtype=float), d, np.zeros(n_r),
                                        np.full(n_l, inf)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = start
        lp.a_matrix_.index_ = rows.astype(np.int32)
        lp.a_matrix_.value_ = vals
        h = new_highs()
        h.setOptionValue("output_flag", False)
        self.threads = int(threads)
        h.passModel(lp)
        self.capacity = np.asarray(capacity, dtype=float)
        self.n_a = n_a
        self.h = h
        self.inf = inf
        self.flow_partner = data.pairs["partner"].to_numpy()[flow_pair]
        self.row_layer = row_layer
        self.chain = None if data.chain is None else InputBlock(h, data, np.arange(n_a), f_cols,
                                                                u_cols)
        self.markets = None if data.markets is None else MarketBlock(
            h, data, u_cols, np.zeros(data.markets.n_rows) if market_target is None
            else market_target)

    def _solve(self, cost: np.ndarray) -> np.ndarray:
        h = self.h
        n = len(cost)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        set_threads(h, self.threads)
        h.run()
        status = h.getModelStatus()
        if status != type(status).kOptimal:
            raise RuntimeError(f"the re-routing LP ended with {h.modelStatusToString(status)}")
        return np.asarray(h.getSolution().col_value, dtype=float)

    def priced(self, price: float, factor: np.ndarray, closed: np.ndarray,
               closed_inputs: np.ndarray | None = None, lexicographic: bool = False,
               closed_markets: np.ndarray | None = None) -> _Priced:
        """Flows and unmet demand at least trade cost plus ``price`` per unit unmet.

        With ``factor[a]`` of each pair's capacity and the ``closed`` flows shut:

            min  sum_j t_j f_j + price * sum_r u_r
            s.t. sum_{j in r} f_j + u_r = d_r,   sum_{j of a} f_j <= factor[a] * k[a]

        With a chain, ``closed_inputs`` are the input flows whose routes close; the input
        flows are priced at their routes' cost, the chain's rows hold (rationing, module
        :mod:`~solver.studies.engine.chain`), and the outcome says how much of the unmet
        final demand (per layer) a missing input caused: the same LP with the balances lifted.
        ``lexicographic`` (a chain only) minimises the unmet demand first and then the trade
        cost with it capped (no price of unmet demand was given). With markets,
        ``closed_markets`` are the market flows whose routes close, and members' unmet demand
        is minimised first; then trade cost, ``price`` per unit unmet and each market's price
        per unit it is not delivered, with members' unmet demand capped.
        """
        h, n_f, n_r, n_l = self.h, self.n_f, self.n_r, self.n_l
        n_col = n_f + n_r + n_l
        upper = self.col_upper.copy()
        upper[:n_f] = np.where(closed, 0.0, self.inf)
        h.changeColsBounds(n_col, np.arange(n_col, dtype=np.int32), np.zeros(n_col), upper)
        if self.n_a:
            h.changeRowsBounds(self.n_a, np.arange(self.n_a, dtype=np.int32),
                               np.full(self.n_a, -self.inf),
                               np.asarray(factor, dtype=float) * self.capacity)
        layers = np.arange(n_l, dtype=np.int32)
        h.changeRowsBounds(n_l, self.tot0 + layers,
                           np.full(n_l, -self.inf), np.full(n_l, self.inf))
        cost = np.zeros(n_col)
        cost[:n_f] = self.trade
        cost[n_f:n_f + n_r] = price
        free = None
        if self.markets is not None:
            self.markets.open(h, np.zeros(self.markets.n_h, dtype=bool)
                              if closed_markets is None else closed_markets, closed_inputs)
        if self.chain is not None:
            shut = np.zeros(self.chain.n_g, dtype=bool) if closed_inputs is None \
                else closed_inputs
            self.chain.costs(h, on=True)
            self.chain.open(h, np.where(shut, 0.0, self.inf))
            self._relax(relaxed=True)
            free = self.layer_unmet(
                self._solve_members_first(cost) if self.markets is not None
                else self._solve_lexicographic(cost) if lexicographic else self._solve(cost))
            self._relax(relaxed=False)
        if self.markets is not None:
            x = self._solve_members_first(cost)
        elif lexicographic and self.chain is not None:
            x = self._solve_lexicographic(cost)
        else:
            x = self._solve(cost)
        if self.n_a:  # the capacity the staged runs re-route over
            h.changeRowsBounds(self.n_a, np.arange(self.n_a, dtype=np.int32),
                               np.full(self.n_a, -self.inf), self.capacity)
        f, u = np.maximum(x[:n_f], 0.0), np.maximum(x[n_f:n_f + n_r], 0.0)
        if self.markets is not None:
            # Members' unmet demand capped at its least (STAGE_TOL) is not priced after it:
            # the cap's slack is noise, below CLEAN of demand none.
            u[u <= CLEAN * (1.0 + self.demand)] = 0.0
            return _Priced(flows=f, unmet=u, input_trade_cost=0.0 if self.chain is None
                           else self.chain.trade_cost(x), free_unmet=free,
                           market_unmet=self.markets.unmet(x),
                           market_trade_cost=self.markets.trade_cost(x))
        if self.chain is None or free is None:
            return _Priced(flows=f, unmet=u, input_trade_cost=0.0, free_unmet=None)
        return _Priced(flows=f, unmet=u, input_trade_cost=self.chain.trade_cost(x),
                       free_unmet=free)

    def _solve_lexicographic(self, cost: np.ndarray) -> np.ndarray:
        """Least unmet demand first, then least trade cost with it capped (a chain only)."""
        assert self.chain is not None
        n_f, n_r = self.n_f, self.n_r
        first = np.zeros(len(cost))
        first[n_f:n_f + n_r] = 1.0
        self.chain.costs(self.h, on=False)
        most = float(np.clip(self._solve(first)[n_f:n_f + n_r], 0.0, None).sum())
        self.chain.cap_unmet(self.h, most + STAGE_TOL * (1.0 + most))
        self.chain.costs(self.h, on=True)
        second = cost.copy()
        second[n_f:n_f + n_r] = 0.0
        try:
            return self._solve(second)
        finally:
            self.chain.cap_unmet(self.h, self.inf)

    def _solve_members_first(self, cost: np.ndarray) -> np.ndarray:
        """Least members' unmet demand first, then ``cost`` and lost market revenue.

        Lexicographic, not a weight: the first stage prices nothing but members' unmet
        demand (markets free), its optimum caps their total in the second.
        """
        assert self.markets is not None
        markets, chain, n_f, n_r = self.markets, self.chain, self.n_f, self.n_r
        first = np.zeros(len(cost))
        first[n_f:n_f + n_r] = 1.0
        markets.costs(self.h, on=False)
        if chain is not None:
            chain.costs(self.h, on=False)
        most = float(np.clip(self._solve(first)[n_f:n_f + n_r], 0.0, None).sum())
        markets.cap_members(self.h, most + STAGE_TOL * (1.0 + most))
        markets.costs(self.h, on=True)
        if chain is not None:
            chain.costs(self.h, on=True)
        try:
            return self._solve(cost)
        finally:
            markets.cap_members(self.h, self.inf)
            markets.costs(self.h, on=False)

    def run(self, lost: str | None) -> _Reroute:
        """Re-route after losing partner ``lost`` (None: nobody)."""
        h, n_f, n_r, n_l = self.h, self.n_f, self.n_r, self.n_l
        n_col = n_f + n_r + n_l
        upper = self.col_upper.copy()
        if lost is not None:
            upper[:n_f][self.flow_partner == lost] = 0.0
        h.changeColsBounds(n_col, np.arange(n_col, dtype=np.int32), np.zeros(n_col), upper)
        layers = np.arange(n_l, dtype=np.int32)
        h.changeRowsBounds(n_l, self.tot0 + layers,
                           np.full(n_l, -self.inf), np.full(n_l, self.inf))
        cost = np.zeros(n_col)
        cost[n_f:n_f + n_r] = 1.0
        free = None
        if self.markets is not None:  # served after members: priced in the last stage only
            self.markets.costs(h, on=False)
            self.markets.open(h, self.markets.exporter == lost, None if self.chain is None
                              else self.chain.exporter == lost)
        if self.chain is not None:
            self.chain.costs(h, on=False)
            self.chain.open(h, np.where(self.chain.exporter == lost, 0.0, self.inf))
            self._relax(relaxed=True)
            free = self.layer_unmet(self._solve(cost))
            self._relax(relaxed=False)
        x = self._solve(cost)
        per_layer = self.layer_unmet(x)
        h.changeRowsBounds(n_l, self.tot0 + layers,
                           np.full(n_l, -self.inf), per_layer + STAGE_TOL * (1.0 + per_layer))
        cost[:] = 0.0
        cost[n_f + n_r:] = 1.0
        x = self._solve(cost)
        share = x[n_f + n_r:n_f + n_r + n_l]
        upper[n_f + n_r:] = np.minimum(share + STAGE_TOL * (1.0 + share), 1.0)
        h.changeColsBounds(n_col, np.arange(n_col, dtype=np.int32), np.zeros(n_col), upper)
        cost[:] = 0.0
        cost[:n_f] = self.trade
        if self.chain is not None:
            self.chain.costs(h, on=True)
        if self.markets is not None:
            self.markets.costs(h, on=True)
        x = self._solve(cost)
        market_unmet = None
        if self.markets is not None:
            self.markets.costs(h, on=False)
            market_unmet = self.markets.unmet(x)
        # The stages' slack (STAGE_TOL) is not a shortfall: below CLEAN of demand is none.
        unmet = np.clip(x[n_f:n_f + n_r], 0.0, None)
        unmet[unmet <= CLEAN * (1.0 + self.demand)] = 0.0
        trade = float(self.trade @ x[:n_f])
        if self.markets is not None:
            trade += self.markets.trade_cost(x)
        through = None
        if self.chain is not None and free is not None:
            trade += self.chain.trade_cost(x)
            demand = np.bincount(self.row_layer, weights=self.demand, minlength=n_l)
            through = through_inputs(self.layer_unmet(np.concatenate([x[:n_f], unmet])),
                                     free, demand)
        return _Reroute(unmet=unmet, trade_cost=trade, through_inputs=through,
                        market_unmet=market_unmet)

    def _relax(self, relaxed: bool) -> None:
        """Lift the input balances, members' and markets' (``relaxed``), or hold them."""
        if self.chain is not None:
            self.chain.relax(self.h, relaxed)
        if self.markets is not None:
            self.markets.relax(self.h, relaxed)

    def layer_unmet(self, x: np.ndarray) -> np.ndarray:
        """Unmet demand per layer in the solution ``x`` (flows, then unmet per row)."""
        n_f, n_r = self.n_f, self.n_r
        return np.bincount(self.row_layer, weights=np.clip(x[n_f:n_f + n_r], 0.0, None),
                           minlength=self.n_l)


class Recourse:
    """The second-stage LP of one plan, re-solved for each disruption (a :class:`RerouteLP`)."""

    def __init__(self, case: Case, capacity: pd.DataFrame, data: ModelData | None = None,
                 flows: pd.DataFrame | None = None) -> None:
        """``capacity``: the plan's capacity built, columns partner, layer, capacity.

        With markets, ``flows`` are the plan's flows: what they send each market is what a
        disruption asks of it.
        """
        self.case = case
        self.data = data if data is not None else model_data(case)
        d = self.data
        built = capacity.set_index(["partner", "layer"])["capacity"]
        keys = pd.MultiIndex.from_arrays([d.pairs["partner"], d.pairs["layer"]])
        self.k = built.reindex(keys).fillna(0.0).to_numpy(dtype=float)
        self.cost = d.flows["unit_cost"].to_numpy(dtype=float)
        price = case.objective.shortage_cost
        self.price = price
        longest = 2 * (min(d.n_pairs, len(d.rows)) + 1)
        self.lp_price = float(price) if price is not None else \
            1.0 + longest * float(self.cost.max(initial=0.0))
        if price is None and d.markets is not None:
            # Members come first by a stage, not a price: with no shortage cost their unmet
            # demand (capped at its least) costs nothing after it (the checker's rule too).
            self.lp_price = 0.0
        # A chain's unit served may need many shipments upstream: no price is sure to be
        # above them, so without a price unmet demand is minimised first, then trade cost.
        self.lexicographic = price is None and d.chain is not None
        self.lp = RerouteLP(d, self.k, threads=1, market_target=None if d.markets is None
                            else market_target(d, flows))
        self.chain = self.lp.chain
        self.markets = self.lp.markets

    def start_afresh(self) -> None:
        """Solve the next disruption cold: HiGHS forgets the basis of the ones before.

        Each solve sets every bound of the LP, so its answer then depends on that
        disruption alone (and on those after this call, whose basis it starts from).
        """
        self.lp.h.clearSolver()

    def solve(self, factor: np.ndarray, closed: np.ndarray,
              closed_inputs: np.ndarray | None = None,
              closed_markets: np.ndarray | None = None) -> Outcome:
        """Re-route with ``factor[a]`` of each pair's capacity and the ``closed`` flows.

        With a chain, ``closed_inputs`` are the input flows whose routes close, and the
        outcome tells how much of the unmet demand a missing input caused. With markets,
        ``closed_markets`` are the market flows whose routes close, and the outcome tells
        each market's unmet supply and the revenue lost.
        """
        out = self.lp.priced(self.lp_price, factor, closed, closed_inputs, self.lexicographic,
                             closed_markets)
        f, z = out.flows, out.unmet
        z[z < 1e-9] = 0.0
        shortage = None if self.price is None else float(self.price) * float(z.sum())
        through = None if out.free_unmet is None else through_inputs(
            self.lp.layer_unmet(np.concatenate([f, z])), out.free_unmet,
            np.asarray(self.data.final_demand, dtype=float))
        lost = None if out.market_unmet is None or self.markets is None \
            else self.markets.lost_revenue(out.market_unmet)
        return Outcome(unmet=z, flows=f, trade_cost=float(self.cost @ f) + out.input_trade_cost
                       + out.market_trade_cost, shortage_cost=shortage, through_inputs=through,
                       market_unmet=out.market_unmet, lost_revenue=lost)


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
    second = outcome.trade_cost + (outcome.shortage_cost or 0.0) + (outcome.lost_revenue or 0.0)
    extra: dict[str, Any] = {} if outcome.through_inputs is None else {
        "through_inputs": float(outcome.through_inputs.sum())}
    if outcome.market_unmet is not None:
        extra.update(market_unmet=float(outcome.market_unmet.sum()),
                     lost_revenue=outcome.lost_revenue)
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
    lp = Recourse(case, allocation, data, flows)
    planned = plan_flows(data, flows)
    chain, markets = lp.chain, lp.markets
    rows = [outcome_row(case, data, name, float(scenarios.probability[s]),
                        lp.solve(scenarios.factor[s], scenarios.closed[s],
                                 None if chain is None else chain.closed_by(case, s),
                                 None if markets is None
                                 else markets.closed_by(case, s, data.pairs)), planned)
            for s, name in enumerate(scenarios.ids)]
    columns = SCENARIO_COLUMNS + ([] if chain is None else ["through_inputs"]) + (
        [] if markets is None else MARKET_COLUMNS)
    return pd.DataFrame(rows, columns=columns)


#: The columns of the run folder's scenarios.csv.
SCENARIO_COLUMNS = ["scenario", "probability", "unmet", "unmet_share", "worst_layer",
                    "worst_layer_unmet", "worst_layer_share", "rerouted", "trade_cost",
                    "shortage_cost", "second_stage_cost"]

#: With markets: scenarios.csv's columns of the markets' unmet supply (members' unmet apart).
MARKET_COLUMNS = ["market_unmet", "lost_revenue"]
