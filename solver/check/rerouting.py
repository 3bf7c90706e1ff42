"""The checker's own re-routing LP: each scenario's outcome recomputed (README, Shocks).

Written apart from the tool's re-routing LP (it imports nothing of the model, the HiGHS
hand-over or the studies, and solves with scipy's ``linprog``), from the case, the plan's
built capacity (``allocation.csv``) and the rules of README, Shocks and Shocks cascade. In a
scenario every capability pair keeps ``capacity_factor`` of its built capacity ``k`` and the
routes it names close. Columns: final flows ``f[p,n,l]`` (trusted hosts, allowed routes),
unmet final demand ``u[r]`` per demand row and, with a chain, input flows ``g[p,r,l,m]``
(trusted hosts of m, routes allowed for m, the link's source rule) and a fill ratio
``0 <= x[m] <= 1`` per layer. Rows:

- capacity: ``sum f[a] + sum g[a] <= factor[a] * k[a]`` per pair a;
- demand: ``sum_p f[p,n,l] + u[n,l] = d[n,l]`` per demand row;
- input balance: ``sum_p g[p,r,l,m] >= a[l,m] * (sum f[r,.,l] + sum g[r,.,.,l])``;
- rationing: ``sum_{p,r} g[p,r,l,m] = x[m] * a[l,m] * D_l`` per link (l, m);
- fill: ``sum_{r of m} u[r] + x[m] * d_m = d_m`` per layer with final demand.

With ``objective.shortage_cost`` the LP minimises trade cost plus the price of unmet demand
and the claimed ``trade_cost + shortage_cost * unmet`` must be its optimum; without a price it
minimises unmet demand first, then trade cost, and ``unmet`` and ``trade_cost`` must be those
two optima. ``rerouted`` is at most the scenario's final flows (final demand less
``unmet``): which of equally good routings was chosen is not unique. With a chain,
``through_inputs`` is at most ``unmet`` and at least ``unmet`` less what the same LP without
the input balances leaves unmet (with a price, the most any of its optima leaves). A
two-stage design's scenario flows are checked by :mod:`solver.check.design`; over a chain its
scenarios.csv is held here too (given the capacity it builds, a design's recourse in each
scenario is this LP's optimum, since the recourse term grows with every scenario's cost).

With markets (README, Markets outside the coalition) the LP gains market flows ``h`` (in the
capacity rows) and each market row's unmet supply ``v``, ``sum h + v`` = what the plan
supplied it (:mod:`solver.check.market_rerouting`); members are served first: ``unmet`` must
be their least unmet demand, ``trade_cost + shortage_cost * unmet + lost_revenue`` the least
cost with it, and ``market_unmet`` and ``lost_revenue`` within what that cost's optima leave.
With markets and a chain, goods sent to markets need their inputs: market input flows
``g'[p,r,l,m]`` (the routes, source rules and costs of ``g``, in the capacity rows) and a
market balance per balance row, ``sum_p g'[p,r,l,m] >= a[l,m] * (sum h[r,.,l] +
sum g'[r,.,.,l])``. Markets have no claims: rationing and fill stay on members' own total
requirement (D of members' final demand), so at every layer markets take what members leave.
``through_inputs`` is then held against members' least unmet demand with and without the
balances (members' and markets' lifted alike).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.scenarios import scenarios_over
from solver.check.case_data import CaseData
from solver.check.common import Tolerance, Violation, codes, fmt, line_of
from solver.check.inputs import requirement
from solver.check.market_rerouting import market_columns

FILE = "scenarios.csv"

#: Relative slack when the least unmet demand caps the second (trade cost) stage.
STAGE_TOL = 1e-9


@dataclass
class _Rows:
    """A sparse block of rows: triplets and bounds (``lower == upper`` for an equality)."""

    rows: list[np.ndarray]
    cols: list[np.ndarray]
    vals: list[np.ndarray]
    lower: list[np.ndarray]
    upper: list[np.ndarray]
    count: int = 0

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], [], [], [], [])

    def add(self, row: np.ndarray, col: np.ndarray, val: np.ndarray, n: int,
            lower: np.ndarray | float, upper: np.ndarray | float) -> np.ndarray:
        """Add ``n`` rows (``row`` counts from 0 within them); their positions."""
        self.rows.append(np.asarray(row, dtype=np.int64) + self.count)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.asarray(val, dtype=float))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.count += n
        return np.arange(self.count - n, self.count)


@dataclass
class MarketOutcome:
    """A scenario re-routed with markets: members' least unmet demand, then the least cost."""

    least: float
    best: float
    """The least trade + shortage + lost revenue cost with members' unmet demand at ``least``."""
    unmet: tuple[float, float]
    """The least and most unmet market supply of an optimum."""
    lost: tuple[float, float]
    """The least and most lost revenue of an optimum."""


class ScenarioLP:
    """The re-routing LP of one plan over a case, re-solved per scenario."""

    def __init__(self, case: Case, data: CaseData, pairs: pd.DataFrame,
                 market_supplied: np.ndarray | None = None) -> None:
        """``pairs``: the case's capability pairs with the plan's built capacity ``k``.

        ``market_supplied``: with markets, what the plan supplies each row of markets.csv.
        """
        self.case = case
        trusted = np.flatnonzero(pairs["trusted"].to_numpy(dtype=bool))
        self.k = pairs["k"].to_numpy(dtype=float)[trusted]
        p_code = codes(data.partner_ids, pairs["partner"].to_numpy()[trusted])
        l_code = codes(data.layer_ids, pairs["layer"].to_numpy()[trusted])
        n_a = len(trusted)
        demand = data.demand[data.demand["demand"].to_numpy(dtype=float) > 0]
        d = demand["demand"].to_numpy(dtype=float)
        r_member = codes(data.consumer_ids, demand["member"].to_numpy())
        r_layer = codes(data.layer_ids, demand["layer"].to_numpy())
        n_r, n_l = len(d), len(data.layer_ids)
        self.d, self.r_layer, self.n_l = d, r_layer, n_l

        # Final flows: every trusted host of the row's layer over an allowed route.
        a_of, r_of = _cross(l_code, r_layer)
        cost, allowed = data.routes(p_code[a_of], r_member[r_of], l_code[a_of])
        a_of, r_of, f_cost = a_of[allowed], r_of[allowed], cost[allowed]
        n_f = len(a_of)
        ids = data.partner_ids.to_numpy()
        f_keys = (ids[p_code[a_of]], data.consumer_ids.to_numpy()[r_member[r_of]],
                  data.layer_ids.to_numpy()[l_code[a_of]])

        links = data.inputs
        g_sup = g_prod = g_bal = np.zeros(0, dtype=np.int64)
        g_cost = np.zeros(0)
        n_b = 0
        if links is not None:
            per_unit = links["per_unit"].to_numpy(dtype=float)
            # Balance rows: every trusted producer pair and link of its layer.
            b_link, b_pair = _cross(links["layer"].to_numpy(), l_code)
            n_b = len(b_pair)
            # Input flows: every balance row and trusted host of its input, by source and route.
            g_bal, g_sup = _cross(links["input"].to_numpy()[b_link], l_code)
            g_prod = b_pair[g_bal]
            source = links["source"].to_numpy()[b_link[g_bal]]
            bloc = data.partners["bloc"].reindex(data.partner_ids).astype(str).to_numpy()
            exporter, importer = p_code[g_sup], p_code[g_prod]
            keep = np.where(source == "local", exporter == importer,
                            np.where(source == "bloc", bloc[exporter] == bloc[importer], True))
            cost, allowed = data.routes(exporter, importer, l_code[g_sup])
            keep &= allowed
            g_bal, g_sup, g_prod, g_cost = g_bal[keep], g_sup[keep], g_prod[keep], cost[keep]
        n_g = len(g_bal)
        g_keys = (ids[p_code[g_sup]], ids[p_code[g_prod]], data.layer_ids.to_numpy()[
            l_code[g_sup]])

        # Columns: f, g, u, x, then with markets their flows h and unmet supply v, and with
        # markets and a chain the input flows g' of what is made for markets.
        f0, g0, u0, x0 = 0, n_f, n_f + n_g, n_f + n_g + n_r
        n_x = n_l if links is not None else 0
        mk = None if market_supplied is None else market_columns(
            case, market_supplied, ids[p_code], data.layer_ids.to_numpy()[l_code])
        self.markets = mk
        n_h, n_v = (0, 0) if mk is None else (len(mk.pair), len(mk.target))
        n_gm = n_g if mk is not None else 0
        h0 = x0 + n_x
        self.h_cols, self.v_cols = h0 + np.arange(n_h), h0 + n_h + np.arange(n_v)
        gm_cols = h0 + n_h + n_v + np.arange(n_gm)
        self.n_col = h0 + n_h + n_v + n_gm
        self.u_cols = u0 + np.arange(n_r)
        self.cost = np.concatenate([f_cost, g_cost, np.zeros(n_r + n_x),
                                    np.zeros(0) if mk is None else mk.cost,
                                    np.zeros(0) if mk is None else mk.price, g_cost[:n_gm]])
        self.upper = np.concatenate([np.full(n_f + n_g, np.inf), d, np.ones(n_x),
                                     np.full(n_h, np.inf),
                                     np.zeros(0) if mk is None else mk.target,
                                     np.full(n_gm, np.inf)])
        block = _Rows.empty()
        h_pair = np.zeros(0, dtype=np.int64) if mk is None else mk.pair
        self.cap_rows = block.add(np.concatenate([a_of, g_sup, h_pair, g_sup[:n_gm]]),
                                  np.concatenate([f0 + np.arange(n_f), g0 + np.arange(n_g),
                                                  self.h_cols, gm_cols]),
                                  np.ones(n_f + n_g + n_h + n_gm), n_a, -np.inf, self.k)
        if mk is not None:  # a market row: sum h + v = what the plan sent it
            block.add(np.concatenate([mk.row, np.arange(n_v)]),
                      np.concatenate([self.h_cols, self.v_cols]), np.ones(n_h + n_v), n_v,
                      mk.target, mk.target)
        block.add(np.concatenate([r_of, np.arange(n_r)]),
                  np.concatenate([f0 + np.arange(n_f), self.u_cols]), np.ones(n_f + n_r),
                  n_r, d, d)
        self.balance_rows = np.zeros(0, dtype=np.int64)
        if links is not None:
            b_per_unit = per_unit[b_link]
            # Balance b: + its own input flows, - a * (the producer pair's f and g out).
            bf, fj = _cross(b_pair, a_of)
            bg, gj = _cross(b_pair, g_sup)
            self.balance_rows = block.add(
                np.concatenate([g_bal, bf, bg]),
                np.concatenate([g0 + np.arange(n_g), f0 + fj, g0 + gj]),
                np.concatenate([np.ones(n_g), -b_per_unit[bf], -b_per_unit[bg]]),
                n_b, 0.0, np.inf)
            if mk is not None:  # what is made for markets needs its inputs too
                bh, hj = _cross(b_pair, mk.pair)
                self.balance_rows = np.concatenate([self.balance_rows, block.add(
                    np.concatenate([g_bal, bh, bg]),
                    np.concatenate([gm_cols, self.h_cols[hj], gm_cols[gj]]),
                    np.concatenate([np.ones(n_g), -b_per_unit[bh], -b_per_unit[bg]]),
                    n_b, 0.0, np.inf)])
            # Rationing of each link's input, and the fill of each layer's final demand. The
            # claims are members' (D of their final demand): markets take what members leave.
            final = data.layers["final_demand"].to_numpy(dtype=float)
            total = requirement(links, final)
            link_of_g = b_link[g_bal]
            n_k = len(links)
            block.add(np.concatenate([link_of_g, np.arange(n_k)]),
                      np.concatenate([g0 + np.arange(n_g), x0 + links["input"].to_numpy()]),
                      np.concatenate([np.ones(n_g),
                                      -per_unit * total[links["layer"].to_numpy()]]),
                      n_k, 0.0, 0.0)
            filled = np.flatnonzero(final > 0)
            at = np.full(n_l, -1)
            at[filled] = np.arange(len(filled))
            mine = at[r_layer] >= 0
            block.add(np.concatenate([at[r_layer][mine], np.arange(len(filled))]),
                      np.concatenate([self.u_cols[mine], x0 + filled]),
                      np.concatenate([np.ones(int(mine.sum())), final[filled]]),
                      len(filled), final[filled], final[filled])
        self.block = block
        self.chained = links is not None
        sc = case.scenarios
        pair_ids = (ids[p_code], data.layer_ids.to_numpy()[l_code])
        self.scenarios = scenarios_over(sc, *pair_ids, *f_keys)
        self.closed_inputs = scenarios_over(sc, *pair_ids, *g_keys).closed
        self.gm_cols = gm_cols
        self.closed_markets = None if mk is None else scenarios_over(sc, *pair_ids,
                                                                     *mk.keys).closed
        self.n_f, self.n_g = n_f, n_g
        self._split: dict[bool, tuple[Any, ...]] = {}

    def _matrices(self, balances: bool) -> tuple[Any, ...]:
        """The rows as ``A_ub``, ``A_eq`` and the masks that split them.

        The same in every scenario: only the capacity rows' (finite) upper bounds change.
        """
        if balances not in self._split:
            from scipy.sparse import coo_matrix, vstack

            blk = self.block
            lower, upper = np.concatenate(blk.lower), np.concatenate(blk.upper)
            keep = np.ones(blk.count, dtype=bool)
            if not balances:
                keep[self.balance_rows] = False
            matrix = coo_matrix((np.concatenate(blk.vals), (np.concatenate(blk.rows),
                                                            np.concatenate(blk.cols))),
                                shape=(blk.count, self.n_col)).tocsr()[keep]
            lower, upper = lower[keep], upper[keep]
            eq = lower == upper
            le = ~eq & np.isfinite(upper)
            ge = ~eq & np.isfinite(lower)
            a_ub = vstack([matrix[le], -matrix[ge]]).tocsr()
            self._split[balances] = (a_ub, matrix[eq], keep, le, ge, eq)
        return self._split[balances]

    def solve(self, s: int, price: float | None, balances: bool = True
              ) -> tuple[float, float]:
        """Scenario ``s``'s least unmet demand and least trade cost with it.

        With a ``price``: the least trade + price * unmet, and NaN. ``balances=False`` drops
        the input balances and gives, second, the most unmet demand of an optimum with a
        price and NaN without one.
        """
        run = self._runner(s, balances)
        unmet_cost = np.zeros(self.n_col)
        unmet_cost[self.u_cols] = 1.0
        if price is not None:
            priced = self.cost + float(price) * unmet_cost
            best = run(priced)
            if balances:
                return best, float("nan")
            # The most unmet demand any optimum leaves (the tool's choice among them).
            return best, -run(-unmet_cost, (priced, best + STAGE_TOL * (1.0 + abs(best))))
        least = max(run(unmet_cost), 0.0)
        if not balances:
            return least, float("nan")
        return least, run(self.cost, (unmet_cost, least + STAGE_TOL * (1.0 + least)))

    def solve_markets(self, s: int, price: float | None) -> MarketOutcome:
        """Scenario ``s`` with markets: members served first, then trade and lost revenue.

        Stage 1: members' least unmet demand. Stage 2, with it capped: the least trade cost
        plus ``price`` per unit of members' unmet demand plus each market's price per unit of
        its unmet supply. Then, with both capped, the least and most unmet market supply and
        lost revenue of any optimum (which of equally good routings is chosen is not unique).
        """
        assert self.markets is not None
        run = self._runner(s, True)
        unmet_cost = np.zeros(self.n_col)
        unmet_cost[self.u_cols] = 1.0
        least = max(run(unmet_cost), 0.0)
        caps = [(unmet_cost, least + STAGE_TOL * (1.0 + least))]
        second = self.cost + (0.0 if price is None else float(price)) * unmet_cost
        best = run(second, *caps)
        caps.append((second, best + STAGE_TOL * (1.0 + abs(best))))
        sent, lost = np.zeros(self.n_col), np.zeros(self.n_col)
        sent[self.v_cols], lost[self.v_cols] = 1.0, self.markets.price
        return MarketOutcome(least=least, best=best,
                             unmet=(run(sent, *caps), -run(-sent, *caps)),
                             lost=(run(lost, *caps), -run(-lost, *caps)))

    def _runner(self, s: int, balances: bool) -> Any:
        """Scenario ``s``'s LP as ``run(cost, *extra)``: its optimum with ``extra`` rows.

        Each extra row is ``(coefficients, upper bound)``.
        """
        from scipy.optimize import linprog
        from scipy.sparse import coo_matrix, vstack

        blk = self.block
        lower, upper = np.concatenate(blk.lower), np.concatenate(blk.upper)
        upper[self.cap_rows] = self.scenarios.factor[s] * self.k
        a_ub, a_eq, keep, le, ge, eq = self._matrices(balances)
        lower, upper = lower[keep], upper[keep]
        b_ub = np.concatenate([upper[le], -lower[ge]])
        col_upper = self.upper.copy()
        col_upper[:self.n_f][self.scenarios.closed[s]] = 0.0
        col_upper[self.n_f:self.n_f + self.n_g][self.closed_inputs[s]] = 0.0
        if len(self.gm_cols):
            col_upper[self.gm_cols[self.closed_inputs[s]]] = 0.0
        if self.closed_markets is not None:
            col_upper[self.h_cols[self.closed_markets[s]]] = 0.0
        bounds = np.column_stack([np.zeros(self.n_col), col_upper])

        def run(cost: np.ndarray, *extra: tuple[np.ndarray, float]) -> float:
            ub, bu = a_ub, b_ub
            if extra:
                ub = vstack([a_ub, *(coo_matrix(e[0][None, :]) for e in extra)]).tocsr()
                bu = np.concatenate([b_ub, [e[1] for e in extra]])
            res = linprog(cost, A_ub=ub, b_ub=bu, A_eq=a_eq, b_eq=lower[eq],
                          bounds=bounds, method="highs")
            if res.status != 0:
                raise RuntimeError(f"the checker's re-routing LP failed: {res.message}")
            return float(res.fun)

        return run


def _cross(group_a: np.ndarray, group_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with ``group_a[i] == group_b[j]`` (positions into a and b)."""
    left = pd.DataFrame({"g": np.asarray(group_a), "i": np.arange(len(group_a))})
    right = pd.DataFrame({"g": np.asarray(group_b), "j": np.arange(len(group_b))})
    both = left.merge(right, on="g", sort=False).sort_values(["i", "j"])
    return both["i"].to_numpy(dtype=np.int64), both["j"].to_numpy(dtype=np.int64)


def recheck_scenarios(case: Case, data: CaseData, pairs: pd.DataFrame, table: pd.DataFrame,
                      recomputed: dict[str, dict[str, Any]], out: list[Violation],
                      tol: Tolerance, market_supplied: np.ndarray | None = None) -> None:
    """Re-route the plan in every scenario and hold scenarios.csv's claims to the optima.

    Without a price the least unmet demand and trade cost go into ``recomputed`` (compared
    by :mod:`solver.check.scenario_claims`); with one, the claimed second-stage cost is
    compared here, and so is ``through_inputs`` with a chain. With markets
    (``market_supplied``: what the plan supplies each row of markets.csv), see
    :func:`_check_markets`.
    """
    if not {"scenario", "unmet", "trade_cost"} <= set(table.columns):
        return  # scenario_claims names the missing columns
    lp = ScenarioLP(case, data, pairs, market_supplied)
    index = {sid: s for s, sid in enumerate(lp.scenarios.ids)}
    price = case.objective.shortage_cost
    for i, row in enumerate(table.to_dict("records")):
        sid = str(row["scenario"])
        if sid not in index:
            continue  # scenario_claims names it
        unmet, trade = _cell(row["unmet"]), _cell(row["trade_cost"])
        where = f"{FILE}, line {line_of(i)} (scenario {sid})"
        if lp.markets is not None:
            least = _check_markets(lp, index[sid], price, row, where, sid, recomputed, out, tol)
            _check_rerouted(row, unmet, float(lp.d.sum()), where, sid, out, tol)
            if lp.chained and least is not None:  # members first: their least, at any price
                _check_through(lp, index[sid], None, row, unmet, least, where, sid, out, tol)
            continue
        try:
            least, cheapest = lp.solve(index[sid], price)
        except RuntimeError as exc:
            out.append(Violation("scenario", sid, 1.0, f"{where}: not re-checked: {exc}"))
            continue
        if price is None:
            recomputed.setdefault(sid, {}).update({"unmet": least, "trade_cost": cheapest})
        else:
            claimed = trade + float(price) * unmet
            bad, miss = tol.differ(claimed, least)
            if bool(bad):
                out.append(Violation("scenario", sid, float(np.nan_to_num(miss, nan=1.0)),
                                     f"{where}: trade_cost + shortage_cost * unmet is "
                                     f"{fmt(claimed)}, the least re-routing cost is "
                                     f"{fmt(least)}"))
        _check_rerouted(row, unmet, float(lp.d.sum()), where, sid, out, tol)
        if lp.chained:
            _check_through(lp, index[sid], price, row, unmet, least, where, sid, out, tol)


def _check_markets(lp: ScenarioLP, s: int, price: float | None, row: Mapping[Any, Any],
                   where: str, sid: str, recomputed: dict[str, dict[str, Any]],
                   out: list[Violation], tol: Tolerance) -> float | None:
    """A scenario with markets: members first, then trade cost and lost market revenue.

    ``unmet`` must be members' least unmet demand (compared by scenario_claims);
    ``trade_cost + shortage_cost * unmet + lost_revenue`` the least cost with it; and
    ``market_unmet`` and ``lost_revenue`` within what the optima of that cost leave. Returns
    members' least unmet demand (None: the LP failed, and that is reported).
    """
    try:
        got = lp.solve_markets(s, price)
    except RuntimeError as exc:
        out.append(Violation("scenario", sid, 1.0, f"{where}: not re-checked: {exc}"))
        return None
    recomputed.setdefault(sid, {})["unmet"] = got.least
    unmet, trade = _cell(row["unmet"]), _cell(row["trade_cost"])
    sent, lost = _cell(row.get("market_unmet", "nan")), _cell(row.get("lost_revenue", "nan"))
    claimed = trade + (0.0 if price is None else float(price)) * unmet + lost
    bad, miss = tol.differ(claimed, got.best)
    if bool(bad):
        out.append(Violation("scenario", sid, float(np.nan_to_num(miss, nan=1.0)),
                             f"{where}: trade_cost + shortage_cost + lost_revenue is "
                             f"{fmt(claimed)}, the least re-routing cost with members served "
                             f"first is {fmt(got.best)}"))
    for col, value, (low, high) in (("market_unmet", sent, got.unmet),
                                    ("lost_revenue", lost, got.lost)):
        slack = tol.absolute + tol.relative * max(abs(low), abs(high))
        if not np.isfinite(value) or value < low - slack or value > high + slack:
            exact = fmt(low) if high - low <= slack else f"between {fmt(low)} and {fmt(high)}"
            out.append(Violation("scenario", sid, 1.0 if not np.isfinite(value) else
                                 max(low - value, value - high),
                                 f"{where}: column {col} is {row.get(col)!r}, recomputed "
                                 f"{exact} (members served first)"))
    return got.least


def _check_rerouted(row: Mapping[Any, Any], unmet: float, demand: float, where: str,
                    sid: str, out: list[Violation], tol: Tolerance) -> None:
    """``rerouted`` is at most every final flow of the scenario, final demand less ``unmet``.

    Which of equally good routings the tool chose is not unique, so this bound is all that
    holds of it (``rerouted`` counts the flows above the plan's, each within its final flow).
    """
    rerouted = _cell(row.get("rerouted", "nan"))
    most = max(demand - unmet, 0.0)
    if np.isfinite(rerouted) and rerouted > most + tol.absolute + tol.relative * most:
        out.append(Violation("scenario", sid, rerouted - most,
                             f"{where}: rerouted {fmt(rerouted)} is above every flow the "
                             f"scenario can ship, {fmt(most)} (final demand less unmet)"))


def _check_through(lp: ScenarioLP, s: int, price: float | None, row: Mapping[Any, Any],
                   unmet: float, least: float, where: str, sid: str, out: list[Violation],
                   tol: Tolerance) -> None:
    """``through_inputs`` within [unmet - unmet had every input arrived, unmet]."""
    through = _cell(row.get("through_inputs", "nan"))
    if not np.isfinite(through) or through < 0:
        out.append(Violation("table", FILE, 1.0, f"{where}: column through_inputs: "
                                                 f"{row.get('through_inputs')!r} is not a "
                                                 "finite number >= 0"))
        return
    # Each layer's part below 1e-7 of its demand is noise the tool reports as zero.
    noise = 1e-7 * (lp.n_l + float(lp.d.sum()))
    if through > unmet + tol.absolute + tol.relative * unmet + noise:
        out.append(Violation("scenario", sid, through - unmet,
                             f"{where}: through_inputs {fmt(through)} is above unmet "
                             f"{fmt(unmet)}"))
    try:
        least_free, most_free = lp.solve(s, price, balances=False)
    except RuntimeError as exc:
        out.append(Violation("scenario", sid, 1.0, f"{where}: not re-checked: {exc}"))
        return
    # Had every input arrived, the LP would leave ``free`` unmet: the rest the inputs caused
    # (with a price, the claimed unmet less the most an optimum without balances leaves).
    free = least_free if price is None else most_free
    floor = (least if price is None else unmet) - free
    if np.isfinite(floor) and through < floor - tol.absolute - tol.relative * unmet - noise:
        out.append(Violation("scenario", sid, floor - through,
                             f"{where}: through_inputs {fmt(through)} is below what the "
                             f"missing inputs cause, {fmt(floor)} (unmet {fmt(unmet)}, "
                             f"{fmt(free)} had every input arrived)"))


def _cell(cell: Any) -> float:
    """A text cell as a number (NaN if it is not one: scenario_claims reports it)."""
    try:
        return float(str(cell).strip() or "nan")
    except ValueError:
        return float("nan")
