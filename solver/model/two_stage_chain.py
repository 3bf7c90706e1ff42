"""A two-stage design over a chain: each scenario's recourse obeys the chain (README, Shocks).

The recourse of :mod:`solver.model.two_stage` in scenario s gains the chain's re-routing rule
(README, Shocks cascade; the same rows as the re-routing LP of ``stress`` and scenarios.csv):
input flows ``h[s,j]`` over the input routes the scenario leaves open (from a pair it does not
wipe out), which count in their supplier's ``scenario_capacity`` row and cost their route's
trade cost in ``scenario_cost``, a fill ratio ``0 <= x[s,m] <= 1`` per layer, and three
families of rows:

- ``scenario_input_balance`` per producing pair (r, l) and input m of l, a producer makes no
  more than the inputs that arrive allow:
  ``sum_p h[s,p,r,l,m] - a[l,m] * (sum_n g[s,r,n,l] + sum h[s,r,.,.,l]) >= 0``;
- ``scenario_claim`` per link (l, m), layer m's output is rationed in proportion to the
  planned claims on it: ``sum_{p,r} h[s,p,r,l,m] - a[l,m] * D_l * x[s,m] = 0``;
- ``scenario_fill`` per layer m with final demand:
  ``sum_{r of m} w[s,r] + d_m * x[s,m] = d_m``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import MonomialTermExpression

from solver.case.scenarios import Scenarios, scenarios_over
from solver.model.constraints import add_bodies
from solver.model.context import Context
from solver.model.data import group_positions


class ChainRecourse:
    """The input flows and fill ratios of every scenario, and the rows they need."""

    def __init__(self, ctx: Context, case: Any, scen: Scenarios) -> None:
        """Add the variables ``sc_h`` (open input flows) and ``sc_x`` (fill ratios)."""
        data = ctx.data
        chain = data.chain
        assert chain is not None
        self.ctx, self.scen, self.chain = ctx, scen, chain
        flows = chain.flows
        closed = scenarios_over(case.scenarios, data.pairs["partner"].to_numpy(dtype=object),
                                data.pairs["layer"].to_numpy(dtype=object),
                                flows["exporter"].to_numpy(dtype=object),
                                flows["importer"].to_numpy(dtype=object),
                                flows["input"].to_numpy(dtype=object)).closed
        supplier = flows["supplier"].to_numpy(dtype=np.int64)
        self.open = [np.flatnonzero((scen.factor[s][supplier] > 0) & ~np.asarray(closed[s]))
                     for s in range(len(scen))]
        sizes = [len(js) for js in self.open]
        self.offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        m = ctx.m
        m.sc_h = pyo.Var(pyo.SetOf(range(int(self.offset[-1]))), within=pyo.NonNegativeReals)
        n_l = len(data.layers)
        self.n_l = n_l
        m.sc_x = pyo.Var(pyo.SetOf(range(len(scen) * n_l)), bounds=(0.0, 1.0))
        self.h = np.fromiter(m.sc_h.values(), dtype=object, count=int(self.offset[-1]))
        self.x = list(m.sc_x.values())
        self.cost = flows["unit_cost"].to_numpy(dtype=float)
        self.supplier = supplier

    def flows_of(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Scenario ``s``'s open input flows (positions in the chain) and their variables."""
        return self.open[s], self.h[self.offset[s]:self.offset[s + 1]]

    def capacity_terms(self, s: int) -> dict[int, list[Any]]:
        """Per supplier pair, its input flows in scenario ``s`` (for ``scenario_capacity``)."""
        js, h = self.flows_of(s)
        out: dict[int, list[Any]] = {}
        for a, v in zip(self.supplier[js].tolist(), h.tolist(), strict=True):
            out.setdefault(a, []).append(v)
        return out

    def cost_terms(self, s: int) -> list[Any]:
        """``sum_j t_j h[s,j]`` over the priced input flows of scenario ``s``."""
        js, h = self.flows_of(s)
        num = self.ctx.num
        if num.is_mutable("input_trade_cost"):  # a sweep varies trade costs: every flow
            tnum = num["input_trade_cost"]
            return [MonomialTermExpression((tnum[j], v))
                    for j, v in zip(js.tolist(), h.tolist(), strict=True)]
        use = np.flatnonzero(self.cost[js] != 0)
        return list(map(MonomialTermExpression, zip(self.cost[js][use].tolist(),
                                                    h[use].tolist(), strict=True)))

    def add_rows(self, final: list[tuple[np.ndarray, np.ndarray]], w: list[Any]) -> None:
        """Add the balance, claim and fill rows of every scenario.

        ``final[s]`` holds scenario s's open final flows (positions) and their variables,
        ``w`` the unmet demand variables, ``n_rows`` per scenario.
        """
        ctx, chain, scen = self.ctx, self.chain, self.scen
        data = ctx.data
        balances, links = chain.balances, chain.links
        producer = balances["producer"].to_numpy(dtype=np.int64)
        per_unit = balances["per_unit"].to_numpy(dtype=float)
        n_pairs, n_rows, n_l = ctx.n_pairs, ctx.n_rows, self.n_l
        total = np.asarray(data.layer_demand, dtype=float)
        d_final = np.asarray(data.final_demand, dtype=float)
        link_need = links["per_unit"].to_numpy(dtype=float) * total[links["layer"].to_numpy()]
        link_input = links["input"].to_numpy(dtype=np.int64)
        rows_of_layer = group_positions(np.asarray(data.row_layer, dtype=np.int64), n_l)
        layer_ids = data.layers["layer"].astype(str).tolist()
        bal_keys: list[tuple[str, ...]] = []
        bal_args: list[list[Any]] = []
        claim_keys: list[tuple[str, ...]] = []
        claim_args: list[list[Any]] = []
        fill_keys: list[tuple[str, ...]] = []
        fill_args: list[list[Any]] = []
        fill_bound: list[float] = []
        for s, name in enumerate(scen.ids):
            js, h = self.flows_of(s)
            fj, fv = final[s]
            out_of: list[list[Any]] = [[] for _ in range(n_pairs)]
            for a, v in zip(np.asarray(data.flow_pair)[fj].tolist(), fv.tolist(), strict=True):
                out_of[a].append(v)
            for a, v in zip(self.supplier[js].tolist(), h.tolist(), strict=True):
                out_of[a].append(v)
            into = group_positions(chain.flows["balance"].to_numpy()[js], len(balances))
            for b, at in enumerate(into):
                # A layer its own input (energy for energy) meets its own row twice: one term.
                coef: dict[int, list[Any]] = {}
                for v, c in [*((v, 1.0) for v in h[at].tolist()),
                             *((v, -per_unit[b]) for v in out_of[producer[b]])]:
                    coef.setdefault(id(v), [v, 0.0])[1] += c
                terms = [v if c == 1.0 else MonomialTermExpression((c, v))
                         for v, c in coef.values() if c != 0.0]
                if not terms:
                    continue
                bal_args.append(terms)
                bal_keys.append((name, str(balances["partner"].iloc[b]),
                                 str(balances["layer"].iloc[b]), str(balances["input"].iloc[b])))
            link_of = chain.balances["link"].to_numpy()[chain.flows["balance"].to_numpy()[js]]
            for k, at in enumerate(group_positions(link_of, len(links))):
                x = self.x[s * n_l + int(link_input[k])]
                claim_args.append([*h[at].tolist(), MonomialTermExpression((-link_need[k], x))])
                claim_keys.append((name, layer_ids[int(links["layer"].iloc[k])],
                                   layer_ids[int(link_input[k])]))
            for lay in np.flatnonzero(d_final > 0).tolist():
                fill_args.append([*(w[s * n_rows + r] for r in rows_of_layer[lay].tolist()),
                                  MonomialTermExpression((float(d_final[lay]),
                                                          self.x[s * n_l + lay]))])
                fill_keys.append((name, layer_ids[lay]))
                fill_bound.append(float(d_final[lay]))
        add_bodies(ctx, "scenario_input_balance", bal_keys, bal_args, [0.0] * len(bal_keys),
                   None, requirement=False)
        zeros = [0.0] * len(claim_keys)
        add_bodies(ctx, "scenario_claim", claim_keys, claim_args, zeros, zeros,
                   requirement=False)
        add_bodies(ctx, "scenario_fill", fill_keys, fill_args, fill_bound, fill_bound,
                   requirement=False)
