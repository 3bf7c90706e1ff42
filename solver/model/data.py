"""The index sets and numbers of the model, computed from a case with pandas.

Everything the Pyomo formulation needs is laid out here as flat arrays, so the model is
built without per-row DataFrame access: pairs ``A`` (capability rows whose partner is
trusted for the layer), demand rows ``R`` (consumer, layer), and flows ``F`` (pair x demand
row over an allowed route). Variables are created only over these sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.case.chain import input_matrix, leontief_inverse, total_requirement
from solver.case.loader import Case
from solver.group_sums import sort_order


@dataclass(frozen=True)
class ModelData:
    """Flat arrays describing the model's sets and parameters.

    Attributes ending in ``_of_*`` are integer positions into another set: e.g.
    ``flow_pair[j]`` is the pair (row of ``pairs``) that flow ``j`` comes from.
    """

    partners: pd.DataFrame
    layers: pd.DataFrame
    pairs: pd.DataFrame
    rows: pd.DataFrame
    flows: pd.DataFrame
    pair_layer: np.ndarray
    pair_partner: np.ndarray
    row_layer: np.ndarray
    flow_pair: np.ndarray
    flow_row: np.ndarray
    layer_demand: np.ndarray
    """D_l, the total requirement of each layer (final demand plus what other layers consume)."""
    total_value: float
    final_demand: np.ndarray | None = None
    """d_l, final demand per layer (None: equal to ``layer_demand``, the case has no chain)."""
    chain: Chain | None = None
    """The input links and input flows (README, The stack as a chain); None without inputs."""
    markets: Markets | None = None
    """Markets outside the coalition and their flows (README, Markets outside the coalition)."""

    @property
    def n_pairs(self) -> int:
        """Number of (partner, layer) pairs that may host."""
        return len(self.pairs)

    @property
    def n_flows(self) -> int:
        """Number of flow variables."""
        return len(self.flows)


def model_data(case: Case, keep_zero_demand: bool = False,
               like: tuple[Case, ModelData] | None = None) -> ModelData:
    """Lay out the sets of README, The model for ``case``.

    Demand rows with zero demand carry no flows unless ``keep_zero_demand`` (a sweep that
    varies demand keeps them so that the structure does not change between points).
    ``like``, another case and its data (a pathway's earlier period), lends its flows and
    input flows where they would come out the same: the same pairs, demand rows, partners,
    trade and inputs.
    """
    partners = case.partners.reset_index(drop=True)
    layers = case.layers.reset_index(drop=True)
    # Ids by position (unique, and every table's ids name them: validated).
    p_pos, l_pos = _positions(partners["partner"]), _positions(layers["layer"])

    cap = case.capabilities
    cap_p, cap_l = _codes(p_pos, cap["partner"]), _codes(l_pos, cap["layer"])
    trust = partners["trust"].to_numpy(dtype=float)[cap_p]
    min_trust = layers["min_trust"].to_numpy(dtype=float)[cap_l]
    keep = np.flatnonzero(trust >= min_trust)
    order = keep[sort_order(cap["layer"].to_numpy(dtype=object)[keep],
                            cap["partner"].to_numpy(dtype=object)[keep])]
    pairs = cap.iloc[order].reset_index(drop=True)
    pair_layer, pair_partner = cap_l[order], cap_p[order]

    demand = case.demand
    if not keep_zero_demand:
        demand = demand[demand["demand"] > 0]
    order = sort_order(demand["layer"], demand["member"])
    rows = demand.iloc[order].reset_index(drop=True)
    row_layer = _codes(l_pos, rows["layer"])
    layer_demand = np.bincount(row_layer, weights=rows["demand"].to_numpy(dtype=float),
                               minlength=len(layers))

    same = like is not None and _same_layout(case, pairs, rows, *like)
    flows = (like[1].flows if same and like is not None
             else _flows(case, pairs, rows, pair_layer, row_layer, len(layers)))
    unit_value = layers["unit_value"].to_numpy(dtype=float)
    final_demand = chain = None
    if case.has_inputs:
        final_demand = layer_demand
        chain = (like[1].chain if same and like is not None and like[1].chain is not None
                 else make_chain(case, partners, layers, pairs, pair_layer, pair_partner))
        layer_demand = total_requirement(chain.matrix, final_demand)
    markets = market_data(case, partners, layers, pairs, pair_layer, pair_partner,
                          None if chain is None else chain.matrix)
    return ModelData(
        partners=partners,
        layers=layers,
        pairs=pairs,
        rows=rows,
        flows=flows,
        pair_layer=pair_layer,
        pair_partner=pair_partner,
        row_layer=row_layer,
        flow_pair=flows["pair"].to_numpy(),
        flow_row=flows["row"].to_numpy(),
        layer_demand=layer_demand,
        total_value=float(unit_value @ layer_demand),
        final_demand=final_demand,
        chain=chain,
        markets=markets,
    )


def _positions(ids: pd.Series) -> dict[Any, int]:
    """Each id's position."""
    return {key: i for i, key in enumerate(ids.to_numpy(dtype=object).tolist())}


def _codes(positions: dict[Any, int], ids: pd.Series) -> np.ndarray:
    """The position of each of ``ids`` (every one is known: the case is validated)."""
    return np.fromiter((positions[key] for key in ids.to_numpy(dtype=object).tolist()),
                       dtype=np.int64, count=len(ids))


def _same_layout(case: Case, pairs: pd.DataFrame, rows: pd.DataFrame, other: Case,
                 data: ModelData) -> bool:
    """Whether ``case`` lays out the flows and input flows ``other`` laid out as ``data``."""

    def same(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
        return a is b or (a is not None and b is not None and a.equals(b))

    def same_ids(a: pd.DataFrame, b: pd.DataFrame, columns: tuple[str, ...]) -> bool:
        return len(a) == len(b) and all(map(same_column, (a[c] for c in columns),
                                            (b[c] for c in columns)))

    def same_column(x: pd.Series, y: pd.Series) -> bool:
        return x.dtype == y.dtype and np.array_equal(x.to_numpy(), y.to_numpy())

    return (same_ids(pairs, data.pairs, ("partner", "layer"))
            and same_ids(rows, data.rows, ("member", "layer"))
            and same(case.trade, other.trade) and same(case.inputs, other.inputs)
            and same(case.partners, other.partners)
            and same_ids(case.layers, other.layers, ("layer",)))


@dataclass(frozen=True)
class Chain:
    """The input links of a case and the input flows over which they are served.

    ``links`` has one row per (layer, input) with ``per_unit > 0``: positions ``layer`` and
    ``input`` into the layers, ``per_unit`` and ``source``. ``balances`` has one row per
    (producer pair, link of its layer): the input balance rows. ``flows`` has one row per input
    flow g[p, r, l, m]: ``supplier`` (the pair (p, m)), ``producer`` (the pair (r, l)),
    ``balance`` (its row of ``balances``), exporter, importer, input, layer, unit_cost, domestic;
    sorted by supplier pair.
    """

    matrix: np.ndarray
    links: pd.DataFrame
    balances: pd.DataFrame
    flows: pd.DataFrame

    @property
    def n_flows(self) -> int:
        """Number of input flow variables."""
        return len(self.flows)


def make_chain(case: Case, partners: pd.DataFrame, layers: pd.DataFrame, pairs: pd.DataFrame,
               pair_layer: np.ndarray, pair_partner: np.ndarray) -> Chain:
    """Lay out the input links, balance rows and input flows of ``case`` (it has inputs)."""
    layer_ids = layers["layer"].astype(str).tolist()
    matrix = input_matrix(layer_ids, case.inputs)
    assert case.inputs is not None
    l_pos = {name: i for i, name in enumerate(layer_ids)}
    given = case.inputs[case.inputs["per_unit"] > 0]
    links = pd.DataFrame({
        "layer": [l_pos[str(x)] for x in given["layer"]],
        "input": [l_pos[str(x)] for x in given["input"]],
        "per_unit": given["per_unit"].to_numpy(dtype=float),
        "source": given["source"].astype(str).to_numpy(),
    }).sort_values(["layer", "input"]).reset_index(drop=True)
    links_of_layer = group_positions(links["layer"].to_numpy(), len(layers))
    pairs_of_layer = group_positions(pair_layer, len(layers))

    producer = np.concatenate([np.repeat(pairs_of_layer[lay], len(links_of_layer[lay]))
                               for lay in range(len(layers))] + [np.zeros(0, np.int64)])
    link = np.concatenate([np.tile(links_of_layer[lay], len(pairs_of_layer[lay]))
                           for lay in range(len(layers))] + [np.zeros(0, np.int64)])
    producer, link = producer.astype(np.int64), link.astype(np.int64)
    balances = pd.DataFrame({
        "producer": producer,
        "link": link,
        "partner": pairs["partner"].to_numpy(dtype=object)[producer],
        "layer": pairs["layer"].to_numpy(dtype=object)[producer],
        "input": np.asarray(layer_ids, dtype=object)[links["input"].to_numpy()[link]]
        if len(link) else np.zeros(0, dtype=object),
        "per_unit": links["per_unit"].to_numpy()[link],
    })

    # Every (balance row, supplier pair of its input), then the source rule and the routes.
    # The suppliers of a balance row are the pairs of its input layer (pairs_of_layer).
    link_input = links["input"].to_numpy()[link]
    by_layer = np.argsort(pair_layer, kind="stable")
    pair_first = np.searchsorted(pair_layer[by_layer], np.arange(len(layers) + 1))
    counts = np.diff(pair_first)[link_input].astype(np.int64)
    balance = np.repeat(np.arange(len(balances), dtype=np.int64), counts)
    offset = np.arange(len(balance), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts,
                                                                 counts)
    supplier = by_layer[pair_first[link_input][balance] + offset].astype(np.int64)
    exporter_p, importer_p = pair_partner[supplier], pair_partner[producer[balance]]
    domestic = exporter_p == importer_p
    # Compared as integer codes, not strings (a few hundred thousand candidate flows).
    rule = np.select([links["source"].to_numpy() == "local",
                      links["source"].to_numpy() == "bloc"], [1, 2], 0)[link[balance]]
    blocs = pd.factorize(partners["bloc"].astype(str))[0]
    by_rule = np.flatnonzero(np.where(
        rule == 1, domestic, np.where(rule == 2, blocs[exporter_p] == blocs[importer_p], True)))
    # Routes are looked up only for the flows the source rules leave.
    balance, supplier, domestic = balance[by_rule], supplier[by_rule], domestic[by_rule]
    exporter_p, importer_p = exporter_p[by_rule], importer_p[by_rule]
    names = pd.Index(partners["partner"].astype(str).to_numpy(dtype=object))
    input_layer = pair_layer[supplier]
    unit_cost, allowed = route_terms(case, names, exporter_p, importer_p, layer_ids, input_layer)
    unit_cost[domestic] = 0.0
    # Sorted by supplier pair, then balance row (the order the model reads them in).
    keep = np.flatnonzero(allowed | domestic)
    keep = keep[np.lexsort((balance[keep], supplier[keep]))]
    balance, supplier = balance[keep], supplier[keep]
    flows = pd.DataFrame({
        "supplier": supplier,
        "producer": producer[balance],
        "balance": balance,
        "exporter": names.to_numpy()[exporter_p[keep]],
        "importer": names.to_numpy()[importer_p[keep]],
        "input": np.asarray(layer_ids, dtype=object)[input_layer[keep]]
        if len(keep) else np.zeros(0, dtype=object),
        "layer": balances["layer"].to_numpy()[balance],
        "unit_cost": unit_cost[keep],
        "domestic": domestic[keep],
    })
    return Chain(matrix=matrix, links=links, balances=balances, flows=flows)


#: A coefficient of the Leontief inverse below this is taken as no link.
NO_LINK = 1e-12


@dataclass(frozen=True)
class Markets:
    """The market rows, market flows and the layers their supply reaches.

    ``rows`` has one row per markets.csv row with positive demand, sorted by (layer, market):
    market, layer, position ``layer_pos``, demand, min_share, max_share, price, entry_cost.
    ``flows`` has one row per market flow h[p, r]: ``pair``, ``row``, exporter, importer (the
    market), layer, unit_cost; sorted by pair. ``reach[l, l']`` is ``Linv[l, l']``: the
    requirement of layer l per unit of l' sent to a market. ``upper[l]`` is the most the
    markets can add to D_l (every market at its max_share).
    """

    rows: pd.DataFrame
    flows: pd.DataFrame
    reach: np.ndarray
    upper: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of market rows."""
        return len(self.rows)

    @property
    def n_flows(self) -> int:
        """Number of market flow variables."""
        return len(self.flows)

    @property
    def entry_rows(self) -> list[int]:
        """The market rows with an entry cost (each has a binary e)."""
        return np.flatnonzero(self.rows["entry_cost"].to_numpy(dtype=float) > 0).tolist()

    @property
    def reached(self) -> list[int]:
        """The layers whose requirement market supply can raise (each has a variable mk)."""
        return np.flatnonzero(self.upper > 0).tolist()


def market_data(case: Case, partners: pd.DataFrame, layers: pd.DataFrame, pairs: pd.DataFrame,
                pair_layer: np.ndarray, pair_partner: np.ndarray,
                matrix: np.ndarray | None) -> Markets | None:
    """Lay out the markets of ``case`` (a :class:`~solver.case.loader.Case`), or None."""
    if case.markets is None or case.markets.empty:
        return None
    layer_ids = layers["layer"].astype(str).tolist()
    l_pos = {name: i for i, name in enumerate(layer_ids)}
    given = case.markets[case.markets["demand"] > 0]
    rows = pd.DataFrame({
        "market": given["market"].astype(str).to_numpy(dtype=object),
        "layer": given["layer"].astype(str).to_numpy(dtype=object),
        "layer_pos": [l_pos[str(x)] for x in given["layer"]],
        **{c: given[c].to_numpy(dtype=float)
           for c in ("demand", "min_share", "max_share", "price", "entry_cost")},
    }).sort_values(["layer", "market"]).reset_index(drop=True)
    n_layers = len(layers)
    rows_of_layer = group_positions(rows["layer_pos"].to_numpy(dtype=np.int64), n_layers)
    pairs_of_layer = group_positions(pair_layer, n_layers)
    pair = np.concatenate([np.repeat(pairs_of_layer[lay], len(rows_of_layer[lay]))
                           for lay in range(n_layers)] + [np.zeros(0, np.int64)]).astype(np.int64)
    row = np.concatenate([np.tile(rows_of_layer[lay], len(pairs_of_layer[lay]))
                          for lay in range(n_layers)] + [np.zeros(0, np.int64)]).astype(np.int64)
    names = pd.Index(pd.unique(np.concatenate([
        partners["partner"].astype(str).to_numpy(dtype=object),
        rows["market"].to_numpy(dtype=object)])))
    exporter = names.get_indexer(pd.Index(pairs["partner"].astype(str)))[pair]
    importer = names.get_indexer(pd.Index(rows["market"]))[row]
    unit_cost, allowed = route_terms(case, names, exporter, importer, layer_ids,
                                     pair_layer[pair])
    pair, row, unit_cost = pair[allowed], row[allowed], unit_cost[allowed]
    flows = pd.DataFrame({
        "pair": pair,
        "row": row,
        "exporter": pairs["partner"].to_numpy(dtype=object)[pair],
        "importer": rows["market"].to_numpy(dtype=object)[row],
        "layer": rows["layer"].to_numpy(dtype=object)[row],
        "unit_cost": unit_cost,
    }).sort_values(["pair", "row"], kind="stable").reset_index(drop=True)
    reach = np.eye(n_layers) if matrix is None or not matrix.any() else leontief_inverse(matrix)
    reach = np.where(np.abs(reach) < NO_LINK, 0.0, reach)
    most = np.bincount(rows["layer_pos"].to_numpy(dtype=np.int64),
                       weights=(rows["demand"] * rows["max_share"]).to_numpy(dtype=float),
                       minlength=n_layers)
    return Markets(rows=rows, flows=flows, reach=reach, upper=reach @ most)


def route_terms(case: Case, names: pd.Index, exporter: np.ndarray, importer: np.ndarray,
                layer_ids: list[str], layer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each shipment's route cost and whether it is allowed, from trade.csv.

    ``exporter``/``importer`` are positions in ``names``, ``layer`` positions in ``layer_ids``.
    A trade row with a layer overrides the route's row without one, for that layer only; a
    route without a row is allowed at zero cost.
    """
    unit_cost = np.zeros(len(exporter))
    allowed = np.ones(len(exporter), dtype=bool)
    trade = case.trade
    if trade.empty or not len(exporter):
        return unit_cost, allowed
    width, n_layers = len(names), len(layer_ids) + 1
    # Each trade row's exporter, importer and layer by position (-1: none of the model's),
    # looked up by their text; a row without a layer holds for every layer.
    name_at = {x: i for i, x in enumerate(names.tolist())}
    t_exp, t_imp = (np.array([name_at.get(str(x), -1) for x in trade[side].tolist()],
                             dtype=np.int64) for side in ("exporter", "importer"))
    named = np.array(["" if pd.isna(x) else str(x) for x in trade["layer"].tolist()]
                     if "layer" in trade else [""] * len(trade), dtype=object)
    layer_at = {x: i for i, x in enumerate(layer_ids)}
    t_lay = np.array([layer_at.get(x, -1) if x != "" else -1 for x in named.tolist()],
                     dtype=np.int64)
    known = (t_exp >= 0) & (t_imp >= 0) & ((t_lay >= 0) | (named == ""))
    t_key = (t_exp[known].astype(np.int64) * width + t_imp[known]) * n_layers + t_lay[known] + 1
    order = np.argsort(t_key, kind="stable")
    t_key = t_key[order]
    t_cost = trade["unit_cost"].to_numpy(dtype=float)[known][order]
    t_allowed = trade["allowed"].to_numpy(dtype=bool)[known][order]
    route = (exporter.astype(np.int64) * width + importer) * n_layers
    # The route's row without a layer first, then its row for the layer over it.
    for key in (route, route + np.asarray(layer, dtype=np.int64) + 1):
        if not len(t_key):
            break
        at = np.minimum(np.searchsorted(t_key, key), len(t_key) - 1)
        found = t_key[at] == key
        unit_cost[found] = t_cost[at[found]]
        allowed[found] = t_allowed[at[found]]
    return unit_cost, allowed


def _flows(case: Case, pairs: pd.DataFrame, rows: pd.DataFrame, pair_layer: np.ndarray,
           row_layer: np.ndarray, n_layers: int) -> pd.DataFrame:
    """Every (pair, demand row) of the same layer over an allowed route, sorted by both.

    Vectorised: rows are sorted by layer, so the rows of a pair's layer are one contiguous
    block; routes are looked up by integer code (no string merge).
    """
    n_pairs = len(pairs)
    row_count = np.bincount(row_layer, minlength=n_layers).astype(np.int64)
    row_first = np.full(n_layers, len(row_layer), dtype=np.int64)
    np.minimum.at(row_first, row_layer, np.arange(len(row_layer), dtype=np.int64))
    per_pair = row_count[pair_layer]
    pair = np.repeat(np.arange(n_pairs, dtype=np.int64), per_pair)
    first = np.cumsum(per_pair) - per_pair
    row = row_first[pair_layer][pair] + np.arange(len(pair), dtype=np.int64) - first[pair]

    names = pd.Index(pd.unique(np.concatenate([
        pairs["partner"].to_numpy(dtype=object), rows["member"].to_numpy(dtype=object)])))
    exporter_code = names.get_indexer(pairs["partner"].to_numpy(dtype=object))[pair]
    importer_code = names.get_indexer(rows["member"].to_numpy(dtype=object))[row]
    domestic = exporter_code == importer_code
    layer_ids = case.layers["layer"].astype(str).tolist()
    unit_cost, allowed = route_terms(case, names, exporter_code, importer_code, layer_ids,
                                     pair_layer[pair])
    unit_cost[domestic] = 0.0
    keep = allowed | domestic
    pair, row = pair[keep], row[keep]
    flows = pd.DataFrame({
        "pair": pair,
        "exporter": pd.Series(pairs["partner"].to_numpy(dtype=object)[pair], dtype=object),
        "layer": pd.array(pairs["layer"].to_numpy(dtype=object)[pair], dtype="str"),
        "row": row,
        "importer": pd.Series(rows["member"].to_numpy(dtype=object)[row], dtype=object),
        "unit_cost": unit_cost[keep],
        "allowed": allowed[keep],
        "domestic": domestic[keep],
    })
    return flows


def group_positions(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """For each group 0..n-1, the positions ``i`` with ``keys[i] == group`` (vectorised)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[g]: bounds[g + 1]] for g in range(n)]
