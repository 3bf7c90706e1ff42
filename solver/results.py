"""The solution tables of README, A worked example, and their metrics.

Writing them as a run folder: :mod:`solver.report.run_folder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.chain import input_matrix, total_requirement
from solver.group_sums import Groups, lookup, sort_order, sum_by, total

#: Flows below this are written as zero (not listed in flows.csv).
ZERO = 1e-9

COST_TERMS = ("fixed", "capacity", "trade", "redundancy", "risk", "shortage")


@dataclass(repr=False)
class Result:
    """The outcome of a solve: status, objective, tables and the run's report.

    ``allocation``, ``flows``, ``layers`` and ``partners`` are the DataFrames written to the
    run folder; ``summary`` is the content of ``summary.json``.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    costs: dict[str, float]
    allocation: pd.DataFrame
    flows: pd.DataFrame
    layers: pd.DataFrame
    partners: pd.DataFrame
    summary: dict[str, Any]
    violations: list[Any] = field(default_factory=list)
    shortage: pd.DataFrame | None = None
    """With ``objective.shortage_cost``: unmet demand per demand row (``shortage.csv``)."""
    scenarios: pd.DataFrame | None = None
    """With scenarios.csv: what the plan leaves unmet in each scenario (``scenarios.csv``)."""
    scenario_flows: pd.DataFrame | None = None
    """A two-stage design's flows in each scenario (``scenario_flows.csv``)."""
    input_flows: pd.DataFrame | None = None
    """With inputs.csv: the input flows (``input_flows.csv``, :func:`input_flows_table`)."""
    inputs: pd.DataFrame | None = None
    """With inputs.csv: each producer's inputs and their sources (``inputs.csv``)."""
    builds: pd.DataFrame | None = None
    """A pathway's new capacity per period and its years of service (``builds.csv``)."""
    markets: pd.DataFrame | None = None
    """With markets.csv: each market's supply, share and revenue (``markets.csv``)."""

    def __repr__(self) -> str:
        objective = "None" if self.objective is None else f"{self.objective:,.6g}"
        gap = "" if self.gap is None else f", gap={self.gap:.2e}"
        hosted = int(self.allocation["hosted"].sum()) if "hosted" in self.allocation else 0
        return (f"Result(status={self.status!r}, objective={objective}{gap}, "
                f"verified={self.verified}, {len(self.layers)} layers, {hosted} hosting "
                f"pairs, {len(self.flows)} flows)")

    def _repr_html_(self) -> str:
        """The result as tables in a notebook."""
        from solver.report.notebook import result_html

        return result_html(self)

    @property
    def verified(self) -> bool:
        """Whether the independent checker found no violation."""
        return bool(self.summary.get("verified"))

    @property
    def has_solution(self) -> bool:
        """Whether the result carries a feasible plan."""
        return self.objective is not None

    def write(self, out: str | Path, *, force: bool = False, xlsx: bool = False) -> Path:
        """Write the run folder (README, A worked example) atomically; return its path.

        An existing folder is replaced only with ``force``; otherwise
        :class:`~solver.errors.UsageError` is raised and nothing is touched. With ``xlsx``
        the tables are also written as one workbook, ``run.xlsx`` (README: the planner's desk).
        """
        from solver.report.run_folder import write_run

        return write_run(self, Path(out), force=force, xlsx=xlsx)


def allocation_table(case: Any, data: Any, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per capability pair: hosted, capacity built, supplied, share and cost.

    ``share`` is over the layer's total requirement D, market supply included.
    """
    demand = data.layer_demand
    markets = getattr(data, "markets", None)
    if markets is not None and "s" in values:
        sent = np.bincount(markets.rows["layer_pos"].to_numpy(dtype=np.int64),
                           weights=clean(values["s"]), minlength=len(data.layers))
        demand = np.asarray(demand, dtype=float) + markets.reach @ sent
    return AllocationLayout.of(case, data).table(values, demand)


class AllocationLayout:
    """Where each row of ``allocation.csv`` takes its numbers from, worked out once.

    The rows are the case's capability pairs sorted by partner and layer; a pair the model
    has no variables for is not hosted and builds nothing. A study that re-solves one model
    many times (the coalition game) makes the layout once and fills it per plan.
    """

    COLUMNS = ("partner", "layer", "hosted", "capacity", "supplied", "share", "unit_cost",
               "fixed_cost", "cost")

    #: The last layout made, reused by :meth:`of` for a case and model of the same pairs.
    _last: AllocationLayout | None = None

    def __init__(self, case: Any, data: Any) -> None:
        cap = case.capabilities[["partner", "layer", "unit_cost", "fixed_cost"]]
        model = pd.DataFrame({"partner": data.pairs["partner"].to_numpy(),
                              "layer": data.pairs["layer"].to_numpy(),
                              "at": np.arange(len(data.pairs))})
        rows = cap.assign(row=np.arange(len(cap))).merge(model, on=["partner", "layer"],
                                                         how="left")
        rows = rows.sort_values(["partner", "layer"], kind="stable").reset_index(drop=True)
        at = rows["at"].to_numpy(dtype=float)
        self.known = ~np.isnan(at)
        self.at = np.where(self.known, at, 0).astype(np.int64)
        self.pair_layer = np.asarray(data.pair_layer, dtype=np.int64)[self.at] if len(
            data.pairs) else np.zeros(len(rows), dtype=np.int64)
        self.ids = {"partner": rows["partner"], "layer": rows["layer"]}
        """The id columns of the table (Series, as the case's capabilities hold them)."""
        self.costs = {"unit_cost": rows["unit_cost"].to_numpy(),
                      "fixed_cost": rows["fixed_cost"].to_numpy()}
        """The cost columns of the table, as the case's capabilities hold them."""
        self.unit_cost = self.costs["unit_cost"].astype(float)
        self.fixed_cost = self.costs["fixed_cost"].astype(float)
        self.order = rows["row"].to_numpy(dtype=np.int64)
        """The capability row of each row of the table."""
        self.key = _pairs_key(case, data)

    @classmethod
    def of(cls, case: Any, data: Any) -> AllocationLayout:
        """The layout of ``case`` and ``data``: the last one's rows if the pairs are the same.

        A sweep point changes numbers, not pairs: the merge and sort are kept, and only the
        costs are read again from this case (the same rows in the same order).
        """
        last = cls._last
        key = _pairs_key(case, data)
        if last is None or not same_parts(last.key, key):
            cls._last = cls(case, data)
            return cls._last
        layout = object.__new__(cls)
        layout.known, layout.at, layout.pair_layer = last.known, last.at, last.pair_layer
        layout.order, layout.key, layout.ids = last.order, key, last.ids
        layout.costs = {name: case.capabilities[name].to_numpy()[last.order]
                        for name in ("unit_cost", "fixed_cost")}
        layout.unit_cost = layout.costs["unit_cost"].astype(float)
        layout.fixed_cost = layout.costs["fixed_cost"].astype(float)
        return layout

    def table(self, values: dict[str, np.ndarray], layer_demand: np.ndarray) -> pd.DataFrame:
        """The allocation of the plan ``values`` (y, k, q per model pair)."""
        def taken(column: np.ndarray) -> np.ndarray:
            column = np.asarray(column)
            if not len(column):  # the model has no pairs: nothing is hosted or built
                return np.zeros(len(self.at), dtype=column.dtype)
            return np.where(self.known, column[self.at], 0)

        hosted = taken(values["y"] > 0.5).astype(bool)
        capacity = taken(clean(values["k"])).astype(float)
        supplied = taken(clean(values["q"])).astype(float)
        demand = np.asarray(layer_demand, dtype=float)[self.pair_layer] if len(
            layer_demand) else np.zeros(len(self.at))
        share = np.divide(supplied, demand, out=np.zeros(len(supplied)),
                          where=(demand > 0) & self.known)
        return pd.DataFrame({
            **self.ids, "hosted": hosted, "capacity": capacity, "supplied": supplied,
            "share": share, **self.costs,
            "cost": self.fixed_cost * hosted + self.unit_cost * capacity})


def _pairs_key(case: Any, data: Any) -> tuple[Any, ...]:
    """What an allocation's layout depends on but its costs: the case's and model's pairs."""
    cap = case.capabilities
    return (cap["partner"].to_numpy(), cap["layer"].to_numpy(), cap["partner"].dtype,
            cap["layer"].dtype, cap["unit_cost"].dtype, cap["fixed_cost"].dtype,
            data.pairs["partner"].to_numpy(), data.pairs["layer"].to_numpy(),
            np.asarray(data.pair_layer))


def same_parts(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether two tuples of parts are equal, arrays element by element.

    Arrays need the same dtype and shape, nested tuples are compared part by part, the rest
    by ``==``: cheaper than hashing id columns at every point of a study.
    """
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x is y:  # one part kept for both (an array is not changed in place here)
            continue
        if isinstance(x, tuple) and isinstance(y, tuple):
            if not same_parts(x, y):
                return False
        elif isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                    and x.dtype == y.dtype and x.shape == y.shape
                    and bool((x == y).all())):
                return False
        elif x is not y and x != y:
            return False
    return True


def _resilience_k(case: Any) -> pd.Series | None:
    """Each layer's ``resilience_k`` if some layer asks for more than N-1, else None."""
    if "resilience_k" not in case.layers:
        return None
    given = case.layers["resilience_k"].to_numpy(dtype=float, na_value=np.nan)
    if not bool((np.where(np.isnan(given), 1.0, given).astype(int) > 1).any()):
        return None  # the common case, told from the array
    k = case.layers.set_index("layer")["resilience_k"].fillna(1).astype(int)
    return k if bool((k > 1).any()) else None


def flows_table(data: Any, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per nonzero flow: exporter, importer, layer, quantity, unit_cost.

    Sorted by exporter, importer and layer (a flow's key: one flow per key).
    """
    f = data.flows
    qty = clean(values["f"])
    order = _flow_order(f)
    at = order[qty[order] > ZERO]  # the nonzero flows, in the table's order
    return pd.DataFrame({
        "exporter": f["exporter"].to_numpy()[at],
        "importer": f["importer"].to_numpy()[at],
        "layer": f["layer"].to_numpy()[at],
        "quantity": qty[at],
        "unit_cost": f["unit_cost"].to_numpy(dtype=float)[at],
    })


#: The last flows laid out and their order (:func:`_flow_order`).
_FLOW_ORDER: list[tuple[pd.DataFrame, np.ndarray]] = []


def _flow_order(flows: pd.DataFrame) -> np.ndarray:
    """The positions of ``flows`` sorted by exporter, importer and layer.

    As ``sort_values`` sorts unique keys; made once per flows frame (a study's points share
    one while their layout holds).
    """
    if _FLOW_ORDER and _FLOW_ORDER[0][0] is flows:
        return _FLOW_ORDER[0][1]
    order = sort_order(flows["exporter"], flows["importer"], flows["layer"])
    _FLOW_ORDER[:] = [(flows, order)]
    return order


def shortage_table(data: Any, values: dict[str, np.ndarray]) -> pd.DataFrame | None:
    """With shortage: one row per demand row left partly unmet (member, layer, demand, unmet).

    ``None`` when the model has no shortage variables (demand is hard). Written as
    ``shortage.csv``; the checker reads the unmet amounts from it (README, The model).
    """
    if "z" not in values:
        return None
    rows = data.rows
    unmet = clean(values["z"])
    keep = unmet > ZERO
    out = pd.DataFrame({
        "member": rows["member"].to_numpy()[keep],
        "layer": rows["layer"].to_numpy()[keep],
        "demand": rows["demand"].to_numpy(dtype=float)[keep],
        "unmet": unmet[keep],
    })
    return out.sort_values(["member", "layer"]).reset_index(drop=True)


def layers_table(case: Any, allocation: pd.DataFrame,
                 shortage: pd.DataFrame | None = None,
                 market_supply: pd.Series | None = None) -> pd.DataFrame:
    """Per layer: demand, capacity, supply, suppliers, concentration and N-1 coverage.

    With ``shortage`` (a :func:`shortage_table`), also ``unmet`` per layer, and the surplus
    is the positive part of capacity minus demand. With markets, ``market_supply`` is what
    the coalition sends them per layer (``market_supplied``), and ``demand`` is the total
    requirement with it (README, Markets outside the coalition).

    Per-layer sums as pandas' groupby makes them, from arrays (solver/group_sums.py): a
    study's point makes this table at every solve.
    """
    ids = case.layers["layer"].to_numpy(dtype=object)
    n = len(ids)
    final = sum_by(case.demand["layer"], case.demand["demand"], ids)
    chained = bool(getattr(case, "has_inputs", False))
    # With inputs or markets, demand is the total requirement D (README, The stack as a chain).
    demand = requirement(case, final, market_supply) \
        if chained or market_supply is not None else final
    columns: dict[str, Any] = {"layer": case.layers["layer"].reset_index(drop=True),
                               "demand": demand}
    if chained:
        columns.update(final_demand=final, total_requirement=demand)
    if market_supply is not None:
        columns["market_supplied"] = market_supply.to_numpy(dtype=float)
    by = Groups(allocation["layer"])
    capacity = by.sum(allocation["capacity"].to_numpy(), ids)
    share = allocation["share"].to_numpy()
    hhi = by.sum(share**2, ids)
    without = capacity - by.max(allocation["capacity"].to_numpy(), ids)
    columns.update(
        capacity=capacity,
        supplied=by.sum(allocation["supplied"].to_numpy(), ids),
        suppliers=Groups(by.keys[allocation["hosted"].to_numpy(dtype=bool)]).count(
            ids).astype(int),
        max_share=by.max(share, ids),
        hhi=hhi,
        effective_suppliers=np.divide(1.0, hhi, out=np.zeros(n), where=hhi > 0),
        n1_coverage=np.divide(without, demand, out=np.full(n, np.nan), where=demand > 0))
    k_of = _resilience_k(case)
    if k_of is not None:
        # N-k: the share of demand left after losing the layer's resilience_k largest hosts.
        ranked = allocation.sort_values("capacity", ascending=False, kind="stable")
        rank = ranked.groupby("layer").cumcount()
        top = ranked[rank.to_numpy() < ranked["layer"].map(k_of).to_numpy()]
        lost = pd.Series(ids).map(top.groupby("layer")["capacity"].sum()).fillna(0.0)
        columns["nk_coverage"] = np.divide(capacity - lost.to_numpy(dtype=float), demand,
                                           out=np.full(n, np.nan), where=demand > 0)
    surplus = capacity - demand
    # Rounding noise of the sums (capacity equal to demand up to 1e-14) is no surplus.
    noise = np.abs(surplus) <= ZERO * np.maximum(1.0, demand)
    columns["surplus"] = np.where(noise, 0.0, surplus)
    if shortage is not None:
        columns["surplus"] = np.maximum(columns["surplus"], 0.0)
        columns["unmet"] = sum_by(shortage["layer"], shortage["unmet"].to_numpy(), ids)
    return _sorted_frame(columns, "layer")


def partners_table(case: Any, allocation: pd.DataFrame, flows: pd.DataFrame,
                   market_supply: pd.Series | None = None) -> pd.DataFrame:
    """Per partner: value supplied, participation share, layers hosted and cost.

    With markets, the stack's value includes what is sent to them (``market_supply``).
    Per-partner sums as pandas' groupby makes them, from arrays (solver/group_sums.py).
    """
    partners = case.partners.reset_index(drop=True)
    value = allocation["supplied"].to_numpy() * lookup(case.layers, "layer", "unit_value",
                                                       allocation["layer"].to_numpy())
    total_value = _stack_value(case, market_supply)
    ids = partners["partner"].to_numpy(dtype=object)
    by = Groups(allocation["partner"])
    sums = by.sum(value, ids)
    own = by.sum(allocation["cost"].to_numpy(), ids)
    shipped = sum_by(flows["exporter"].to_numpy(dtype=object),
                     flows["quantity"].to_numpy() * flows["unit_cost"].to_numpy(), ids)
    columns = {
        "partner": partners["partner"],
        "member": partners["member"],
        "value": sums,
        "participation": sums / total_value if total_value > 0 else 0.0,
        "layers_hosted": Groups(by.keys[allocation["hosted"].to_numpy(dtype=bool)]).count(
            ids).astype(int),
        "cost": own + shipped,
    }
    return _sorted_frame(columns, "partner")


def _stack_value(case: Any, market_supply: pd.Series | None) -> float:
    """V: the stack's value, sum over layers of unit_value times demand (or D).

    Summed over the layers with demand rows in sorted order, as pandas sums it (with inputs
    or markets: over every layer, D the total requirement).
    """
    plain = not getattr(case, "has_inputs", False) and market_supply is None
    need = Groups(case.demand["layer"])
    demand = case.demand["demand"].to_numpy()
    if plain and need.codes is not None and demand.dtype == np.float64:
        layers = need.uniques  # the layers with demand rows, sorted, as groupby orders them
        return total(need.sum(demand, layers)
                     * lookup(case.layers, "layer", "unit_value", layers))
    unit_value = case.layers.set_index("layer")["unit_value"]
    by_layer = case.demand.groupby("layer")["demand"].sum()
    if not plain:
        ids = case.layers["layer"].astype(str).tolist()
        final = by_layer.reindex(ids).fillna(0.0).to_numpy(dtype=float)
        by_layer = pd.Series(requirement(case, final, market_supply), index=ids)
    return float((by_layer * unit_value.reindex(by_layer.index)).sum())


def _sorted_frame(columns: dict[str, Any], key: str) -> pd.DataFrame:
    """The table of ``columns`` (each in the case's order) sorted by ``key``.

    As ``sort_values(key).reset_index(drop=True)`` sorts a table of unique keys.
    """
    order = sort_order(columns[key])
    if not bool((order == np.arange(len(order))).all()):
        columns = {name: _taken(column, order) for name, column in columns.items()}
    return pd.DataFrame(columns)


def _taken(column: Any, order: np.ndarray) -> Any:
    """``column``'s entries in ``order`` (a Series keeps its dtype; a number stays one)."""
    if isinstance(column, pd.Series):
        return pd.Series(column.array.take(order), dtype=column.dtype)
    if isinstance(column, np.ndarray):
        return column[order]
    return column


def cost_terms(case: Any, allocation: pd.DataFrame, flows: pd.DataFrame,
               layers: pd.DataFrame, shortage: pd.DataFrame | None = None) -> dict[str, float]:
    """The objective's terms recomputed from the tables (README, The model).

    With markets ``flows`` holds the market flows too; their own terms are
    :func:`solver.market_tables.market_cost_terms`. Each sum is pandas' ``Series.sum`` of
    the same products (:func:`~solver.group_sums.total`), made from arrays.
    """
    obj = case.objective
    supplied = allocation["supplied"].to_numpy(dtype=float)
    fixed = total(allocation["fixed_cost"].to_numpy(dtype=float)
                  * allocation["hosted"].to_numpy())
    capacity = total(allocation["unit_cost"].to_numpy(dtype=float)
                     * allocation["capacity"].to_numpy(dtype=float))
    trade = total(flows["quantity"].to_numpy(dtype=float)
                  * flows["unit_cost"].to_numpy(dtype=float))
    rc = lookup(case.layers, "layer", "redundancy_cost", layers["layer"])
    redundancy = obj.redundancy_weight * total(layers["surplus"].to_numpy(dtype=float) * rc)
    value = supplied * lookup(case.layers, "layer", "unit_value", allocation["layer"])
    risk_p = lookup(case.partners, "partner", "disruption_risk", allocation["partner"])
    risk = obj.risk_weight * total(value * risk_p)
    price = obj.shortage_cost or 0.0
    unmet = float(shortage["unmet"].sum()) if shortage is not None else 0.0
    return {"fixed": fixed, "capacity": capacity, "trade": trade, "redundancy": redundancy,
            "risk": risk, "shortage": price * unmet}


def requirement(case: Any, final: np.ndarray, supply: pd.Series | None) -> np.ndarray:
    """D = (I - A^T)^-1 (d + s): the total requirement, with market supply ``s`` if given."""
    need = np.asarray(final, dtype=float)
    if supply is not None:
        need = need + supply.to_numpy(dtype=float)
    if not getattr(case, "has_inputs", False):
        return need
    return total_requirement(input_matrix(case.layers["layer"].astype(str).tolist(),
                                          case.inputs), need)


def clean(x: np.ndarray) -> np.ndarray:
    """Clip solver noise: tiny negatives and values below :data:`ZERO` become 0."""
    x = np.asarray(x, dtype=float).copy()
    x[np.abs(x) < ZERO] = 0.0
    return x
