"""Stress tests: lose each partner in turn from the optimal design and re-route supply.

The design (who hosts what, the capacity built) is the optimal plan of the case. For each
lost partner, a linear program re-routes supply over the capacity that remains and the
routes that are allowed, in three stages on one HiGHS model:

1. serve as much demand as possible (``min sum u``, ``u`` the unmet demand per row);
2. share each layer's shortfall fairly: minimise the largest unmet share of any member
   (``u[n,l] <= t_l * d[n,l]``, ``min sum t``), with the served total of stage 1 kept;
3. among those plans, ship at the least trade cost.

The lost partner's supply is gone; its own demand stays (as in the N-1 requirement of
README, The model). With a chain (inputs.csv) production also needs the inputs that still
arrive (:mod:`solver.studies.engine.chain`), and each layer row says how much of its unmet
demand the chain adds (``through_inputs``). With markets (markets.csv) a market asks for
what the plan sent it and takes what members leave: members' unmet demand is minimised
first, and the ``total`` and ``layer`` rows say apart what the markets lose
(``market_unmet``, and at their prices ``lost_revenue``). Planning rules that are not physical
(dependency, domestic, shares) do not bind an emergency re-routing. The cost of re-routing
is the trade cost of the re-routed plan minus that of the same LP with nobody lost. With
``redesign=True`` each loss is also solved as a new design without the partner (every
requirement of the case kept).

:func:`stress` returns one table (``stress.csv``) with a ``scope`` column: a ``total`` row
per lost partner (with the costs), then a ``layer`` row per layer and a ``member`` row per
consumer, each with its demand and the demand left unmet. Lost partners come worst first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.errors import InfeasibleError, UsageError
from solver.report.cells import safe_frame
from solver.report.writing import write_csv, write_unit
from solver.studies.engine.market_block import MarketBlock, market_target
from solver.studies.engine.recourse import CLEAN, MARKET_COLUMNS, RerouteLP

log = logging.getLogger(__name__)

COLUMNS = ("lost", "scope", "layer", "member", "demand", "unmet", "unmet_share",
           "lost_capacity", "layers_hosted", "trade_cost", "rerouting_cost",
           "redesign_status", "redesign_cost", "redesign_extra_cost", "redesign_reason")

def without_partner(case: Case, partner: str) -> Case:
    """The case with ``partner`` unable to supply anything (its demand stays).

    What asks the lost partner to produce goes with its capabilities: its participation
    floor and, for a member, its own ``min_domestic`` (it can no longer supply itself).
    """
    caps = case.capabilities[case.capabilities["partner"] != partner].reset_index(drop=True)
    partners = case.partners.copy()
    partners.loc[partners["partner"] == partner, "min_participation"] = 0.0
    demand = case.demand_table
    if demand is not None:
        demand = demand.copy()
        demand.loc[demand["member"] == partner, "min_domestic"] = 0.0
    new = replace(case, capabilities=caps, partners=partners, demand_table=demand,
                  overrides=(*case.overrides, f"without {partner}"))
    new.__dict__.pop("demand", None)
    return new


def stress(
    case: Case,
    *,
    redesign: bool = False,
    partners: Sequence[str] | None = None,
    result: Any = None,
    out: str | Path | None = None,
    progress: Any = None,
    period: str | None = None,
) -> pd.DataFrame:
    """Lose each partner in turn from the optimal design; return the table of ``stress.csv``.

    ``result`` is the design to stress (default: :func:`solver.solve` of ``case``, which
    raises if the case has no plan). ``partners`` limits the partners lost (default: all).
    With ``out`` the table is written to ``out/stress.csv`` (the case's unit to
    ``out/stress.json``). ``progress`` (a
    :class:`solver.studies.engine.steps.Steps`) is told of each partner lost.

    On a pathway case the loss hits the capacity in service in ``period`` (default: the last),
    re-routed under that period's case (:mod:`solver.studies.shocks.period`); a redesign
    is the whole pathway's, its cost the discounted total.
    """
    from solver.model.data import model_data
    from solver.solve import solve
    from solver.studies.shocks.period import chosen_period, period_of, period_result

    full = case
    period = chosen_period(full, period)
    case = period_of(full, period, "coalition stress")
    if result is None:
        result = solve(full)
    result = period_result(result, None if case is full else period)
    names = case.partners["partner"].tolist()
    lost_list = list(partners) if partners is not None else names
    unknown = [p for p in lost_list if p not in names]
    if unknown:
        raise UsageError(f"no such partner: {', '.join(unknown)}")
    data = model_data(case)
    built = result.allocation.set_index(["partner", "layer"])["capacity"]
    keys = pd.MultiIndex.from_frame(data.pairs[["partner", "layer"]])
    capacity = built.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    target = None if data.markets is None else market_target(data, getattr(result, "flows",
                                                                           None))
    lp = RerouteLP(data, capacity, threads=case.solver.threads, market_target=target)
    baseline = lp.run(None)
    rows = data.rows
    d = lp.demand
    members = sorted(set(rows["member"]))
    layer_ids = data.layers["layer"].tolist()
    hosted = result.allocation[result.allocation["hosted"]]
    redesigned = Redesign(full, result.objective) if redesign else None
    frames = []
    if progress is not None:
        progress.start("stress", len(lost_list))
    for p in lost_list:
        rr = lp.run(p)
        own = hosted[hosted["partner"] == p]
        total = _frame(p, "total", "", "", float(d.sum()), float(rr.unmet.sum()))
        total.update(lost_capacity=float(own["capacity"].sum()), layers_hosted=len(own),
                     trade_cost=rr.trade_cost,
                     rerouting_cost=_clean(rr.trade_cost - baseline.trade_cost,
                                           baseline.trade_cost))
        if redesigned is not None:
            total.update(redesigned(p))
        by_layer = np.bincount(lp.row_layer, weights=rr.unmet, minlength=len(layer_ids))
        demand_layer = np.bincount(lp.row_layer, weights=d, minlength=len(layer_ids))
        layer_rows = [_frame(p, "layer", layer, "", float(demand_layer[i]), float(by_layer[i]))
                      for i, layer in enumerate(layer_ids) if demand_layer[i] > 0
                      or (lp.markets is not None and layer in lp.markets.targeted)]
        if rr.through_inputs is not None:
            # Shocks cascade: how much of each layer's shortfall a missing input caused.
            total["through_inputs"] = float(rr.through_inputs.sum())
            for row in layer_rows:
                row["through_inputs"] = float(rr.through_inputs[layer_ids.index(row["layer"])])
        if lp.markets is not None and rr.market_unmet is not None:
            _market_columns(lp.markets, rr.market_unmet, total, layer_rows)
        member_of = rows["member"].to_numpy()
        member_rows = [_frame(p, "member", "", n, float(d[member_of == n].sum()),
                              float(rr.unmet[member_of == n].sum())) for n in members]
        frames.append([total, *layer_rows, *member_rows])
        if progress is not None:
            extra = f", redesign {total.get('redesign_status')}" if redesign else ""
            progress.step(f"lost {p}: unmet {100 * total['unmet_share']:.1f}%{extra}")
    if progress is not None:
        progress.finish()
    frames.sort(key=lambda f: (-f[0]["unmet_share"], -f[0].get("lost_revenue", 0.0),
                               -f[0]["rerouting_cost"], f[0]["lost"]))
    columns = list(COLUMNS) + ([] if lp.chain is None else ["through_inputs"]) + (
        [] if lp.markets is None else list(MARKET_COLUMNS))
    table = pd.DataFrame([r for f in frames for r in f]).reindex(columns=columns)
    table["layers_hosted"] = table["layers_hosted"].astype("Int64")
    table = table.reset_index(drop=True)
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(folder / "stress.csv", safe_frame(table))
        write_unit(folder / "stress.json", case.unit)
    return table


def _market_columns(markets: MarketBlock, unmet: np.ndarray, total: dict[str, Any],
                    layer_rows: list[dict[str, Any]]) -> None:
    """Add what the markets lose (supply, revenue) to the total row and each layer row."""
    total.update(market_unmet=float(unmet.sum()), lost_revenue=markets.lost_revenue(unmet))
    for row in layer_rows:
        mine = np.where(markets.row_layer == row["layer"], unmet, 0.0)
        row.update(market_unmet=float(mine.sum()), lost_revenue=markets.lost_revenue(mine))


def _clean(x: float, scale: float) -> float:
    return 0.0 if abs(x) <= CLEAN * (1.0 + abs(scale)) else x


def _frame(lost: str, scope: str, layer: str, member: str, demand: float,
           unmet: float) -> dict[str, Any]:
    return {"lost": lost, "scope": scope, "layer": layer, "member": member, "demand": demand,
            "unmet": unmet, "unmet_share": unmet / demand if demand > 0 else 0.0}


class Redesign:
    """Each loss solved again as a new design, on the engine's one re-solver.

    Losing a partner removes its capabilities (sets, not numbers): each loss builds its own
    model, solved by the one :class:`~solver.studies.engine.resolver.Resolver` and runner
    of the stress test and checked by the independent checker. A loss that counting rules
    out (:func:`~solver.diagnose.presolve.find_infeasibilities`) is not built.
    """

    def __init__(self, case: Case, base_objective: float | None) -> None:
        from solver.studies.engine.resolver import Resolver, runner_for

        self.case = case
        self.base_objective = base_objective
        self.resolver = Resolver(runner_for(case.solver))

    def __call__(self, partner: str) -> dict[str, Any]:
        """The ``redesign_*`` columns of the loss of ``partner``."""
        from solver.case.periods import uses_pathway
        from solver.diagnose.presolve import find_infeasibilities

        reduced = without_partner(self.case, partner)
        if uses_pathway(reduced):
            return self._pathway(reduced)
        findings = find_infeasibilities(reduced)
        status, cost = ("infeasible", None) if findings else self._solve(reduced)
        base = self.base_objective
        extra = cost - base if cost is not None and base is not None else None
        if extra is not None:
            extra = _clean(extra, base or 0.0)
        reason = ""
        if status == "infeasible":
            reason = str(findings[0]) if findings else (
                f"no plan meets every requirement without {partner} (coalition explain with "
                f"its capabilities removed tells which)")
        elif cost is None:
            reason = f"no plan found within the limits ({status})"
        return {"redesign_status": status, "redesign_cost": cost,
                "redesign_extra_cost": extra, "redesign_reason": reason}

    def _pathway(self, reduced: Case) -> dict[str, Any]:
        """The ``redesign_*`` columns of a pathway's loss: the whole pathway solved again."""
        from solver.solve import solve

        try:
            result = solve(reduced, raise_on_failure=False)
        except InfeasibleError as exc:  # it names the period that cannot hold
            return {"redesign_status": "infeasible", "redesign_cost": None,
                    "redesign_extra_cost": None, "redesign_reason": " ".join(
                        line.strip() for line in str(exc).splitlines()[1:]) or str(exc)}
        cost, base = result.objective, self.base_objective
        extra = cost - base if cost is not None and base is not None else None
        if extra is not None:
            extra = _clean(extra, base or 0.0)
        reason = "" if result.has_solution else \
            f"no plan found within the limits ({result.status})"
        return {"redesign_status": result.status, "redesign_cost": cost,
                "redesign_extra_cost": extra, "redesign_reason": reason}

    def _solve(self, reduced: Case) -> tuple[str, float | None]:
        """Status and cost of the reduced case's design (its plan checked)."""
        from solver.model.build import build
        from solver.solve import finish

        resolver = self.resolver
        seconds = resolver.build(lambda: build(reduced))

        def check(report: Any) -> tuple[Any, bool]:
            result = finish(reduced, resolver.built, report, resolver.runner, seconds,
                            raise_on_failure=False)
            return result, bool(result.verified)

        outcome = resolver.solve(check)
        report = outcome.report
        return str(report.status), report.objective if outcome.has_solution else None


def worst_cases(table: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``total`` rows of the ``n`` worst losses, each with its worst-hit layer."""
    totals = table[table["scope"] == "total"].head(n).copy()
    layers = table[table["scope"] == "layer"]
    worst = layers.sort_values(["unmet_share", "unmet"], ascending=False)
    worst = worst.drop_duplicates("lost").set_index("lost")
    totals["worst_layer"] = totals["lost"].map(worst["layer"]).fillna("")
    totals["worst_layer_unmet_share"] = totals["lost"].map(worst["unmet_share"]).fillna(0.0)
    return totals.reset_index(drop=True)
