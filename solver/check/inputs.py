"""The checker's view of the chain (README, The stack as a chain), written apart from the model.

The total requirement is recomputed by its own linear solve, ``(I - A^T) D = d``; every input
flow of ``input_flows.csv`` is checked against its route (for the input's layer), the source
rule of its link and the hosts that may supply the input; every producing pair's inputs must
balance, ``sum_p g[p,r,l,m] = a[l,m] * q[r,l]``; and input deliveries count in what a partner
supplies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from solver.check.common import Tolerance, Violation, codes, fmt, missing_columns, numbers

INPUT_FLOW_COLUMNS = ("exporter", "importer", "layer", "input", "quantity", "unit_cost")


def coefficients(layer_ids: pd.Index, inputs: pd.DataFrame | None) -> pd.DataFrame | None:
    """The links with a positive coefficient, as layer and input codes; None if there are none."""
    if inputs is None:
        return None
    given = inputs[inputs["per_unit"].to_numpy(dtype=float) > 0]
    if given.empty:
        return None
    return pd.DataFrame({
        "layer": codes(layer_ids, given["layer"].astype(str)),
        "input": codes(layer_ids, given["input"].astype(str)),
        "per_unit": given["per_unit"].to_numpy(dtype=float),
        "source": given["source"].astype(str).to_numpy(),
    }).reset_index(drop=True)


def requirement(links: pd.DataFrame, final: np.ndarray) -> np.ndarray:
    """D solving ``D_l = d_l + sum_l' a[l', l] D_l'``, by its own linear solve."""
    n = len(final)
    system = np.eye(n)
    for layer, inp, a in zip(links["layer"], links["input"], links["per_unit"], strict=True):
        system[inp, layer] -= a
    return np.asarray(np.linalg.solve(system, final), dtype=float)


@dataclass
class InputFlows:
    """The plan's input flows with codes: exporter and importer partners, input and layer."""

    exporter: np.ndarray
    importer: np.ndarray
    input: np.ndarray
    layer: np.ndarray
    qty: np.ndarray
    trade_cost: np.ndarray
    names: pd.DataFrame

    def key(self, i: Any) -> str:
        """``exporter->importer,input for layer`` of flow ``i``."""
        row = self.names.iloc[i]
        return f"{row['exporter']}->{row['importer']},{row['input']} for {row['layer']}"


def read_input_flows(data: Any, frame: pd.DataFrame | None, out: list[Violation],
                     tol: Tolerance) -> InputFlows:
    """``input_flows.csv`` read and its rows' ids, routes, costs and source rules checked."""
    file = "input_flows.csv"
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in INPUT_FLOW_COLUMNS})
    if frame is None or missing_columns(frame, INPUT_FLOW_COLUMNS, file, out):
        frame = empty
    f = frame[list(INPUT_FLOW_COLUMNS)].reset_index(drop=True)

    def key(i: Any) -> str:
        return f"{f['exporter'].iloc[i]}->{f['importer'].iloc[i]},{f['input'].iloc[i]} " \
               f"for {f['layer'].iloc[i]}"

    qty = numbers(f, "quantity", key, file, out)
    written = numbers(f, "unit_cost", key, file, out)
    ex = codes(data.partner_ids, f["exporter"].astype(str))
    im = codes(data.partner_ids, f["importer"].astype(str))
    la = codes(data.layer_ids, f["layer"].astype(str))
    inp = codes(data.layer_ids, f["input"].astype(str))
    known = (ex >= 0) & (im >= 0) & (la >= 0) & (inp >= 0)
    for i in np.flatnonzero(~known):
        out.append(Violation("table", key(i), float(abs(qty[i])),
                             f"{file}: {key(i)} names an unknown partner or layer; ignored"))
    for i in np.flatnonzero(known & (qty < -tol.absolute)):
        out.append(Violation("table", key(i), float(-qty[i]),
                             f"{file}: quantity of {key(i)} is {fmt(qty[i])}, negative"))
    idx = np.flatnonzero(known)
    importer_as_consumer = codes(data.consumer_ids, f["importer"].astype(str))[idx]
    cost, allowed = data.routes(ex[idx], importer_as_consumer, inp[idx])
    flows = InputFlows(exporter=ex[idx], importer=im[idx], input=inp[idx], layer=la[idx],
                       qty=qty[idx], trade_cost=cost, names=f.iloc[idx].reset_index(drop=True))
    bad, miss = tol.differ(written[idx], cost)
    for i in np.flatnonzero(bad):
        out.append(Violation("table", flows.key(i), float(miss[i]),
                             f"{file}: unit_cost of {flows.key(i)} is {fmt(written[idx][i])}, "
                             f"but the case's trade cost of the route for "
                             f"{flows.names['input'].iloc[i]} is {fmt(cost[i])}"))
    _check_routes(data, flows, allowed, out)
    return flows


def _check_routes(data: Any, flows: InputFlows, allowed: np.ndarray,
                  out: list[Violation]) -> None:
    """Each input flow: allowed route, a trusted host of the input, a link, its source rule."""
    links = data.inputs
    n_layers = len(data.layer_ids)
    link_code = (links["layer"].to_numpy() * n_layers + links["input"].to_numpy()
                 if links is not None else np.zeros(0, dtype=np.int64))
    source_of = dict(zip(link_code.tolist(), links["source"].tolist(), strict=True)) \
        if links is not None else {}
    supplier = data.pair_lookup.find(flows.exporter * n_layers + flows.input)
    producer = data.pair_lookup.find(flows.importer * n_layers + flows.layer)
    trusted = data.pairs["trusted"].to_numpy(dtype=bool)
    bloc = data.partners["bloc"].astype(str).to_numpy()
    for i in range(len(flows.qty)):
        if flows.qty[i] <= 0:
            continue
        ex, im = int(flows.exporter[i]), int(flows.importer[i])
        rule = source_of.get(int(flows.layer[i]) * n_layers + int(flows.input[i]))
        why = None
        if rule is None:
            why = "the case has no such input link (inputs.csv)"
        elif supplier[i] < 0 or not trusted[supplier[i]]:
            why = "the exporter is not a trusted host of the input"
        elif producer[i] < 0 or not trusted[producer[i]]:
            why = "the importer is not a trusted host of the layer"
        elif not allowed[i]:
            why = "trade.csv forbids the route for this input"
        elif rule == "local" and ex != im:
            why = "the input must be local (source = local)"
        elif rule == "bloc" and bloc[ex] != bloc[im]:
            why = "the input must come from the producer's bloc (source = bloc)"
        if why is not None:
            out.append(Violation("input_balance", flows.key(i), float(flows.qty[i]),
                                 f"input {flows.names['input'].iloc[i]} for "
                                 f"{flows.names['layer'].iloc[i]}: {flows.key(i)} ships "
                                 f"{fmt(flows.qty[i])} units, but {why}"))


def delivered(data: Any, flows: InputFlows) -> np.ndarray:
    """What each capability pair delivers as inputs (to add to its final flows)."""
    n_layers = len(data.layer_ids)
    pair = data.pair_lookup.find(flows.exporter * n_layers + flows.input)
    use = pair >= 0
    return np.bincount(pair[use], weights=flows.qty[use], minlength=len(data.pairs))


def check_input_balance(data: Any, pairs: pd.DataFrame, flows: InputFlows,
                        out: list[Violation], tol: Tolerance) -> None:
    """Every supplying pair gets its inputs: ``sum_p g[p,r,l,m] = a[l,m] * q[r,l]``."""
    links = data.inputs
    if links is None:
        return
    received: dict[tuple[int, int, int], float] = {}
    for r, la, m, g in zip(flows.importer.tolist(), flows.layer.tolist(),
                           flows.input.tolist(), flows.qty.tolist(), strict=True):
        received[(r, la, m)] = received.get((r, la, m), 0.0) + g
    partner = codes(data.partner_ids, pairs["partner"].astype(str))
    layer = codes(data.layer_ids, pairs["layer"].astype(str))
    q = pairs["q"].to_numpy(dtype=float)
    for la, m, a in zip(links["layer"].tolist(), links["input"].tolist(),
                        links["per_unit"].tolist(), strict=True):
        for i in np.flatnonzero(layer == la):
            need = a * q[i]
            got = received.pop((int(partner[i]), la, m), 0.0)
            if tol.differ(np.array([got]), np.array([need]))[0][0]:
                who, what = pairs["partner"].iloc[i], data.layer_ids[m]
                out.append(Violation(
                    "input_balance", f"{who},{data.layer_ids[la]},{what}", abs(got - need),
                    f"layer {data.layer_ids[la]}: input_balance: {who} supplies {fmt(q[i])} "
                    f"units, which need {fmt(need)} of {what}; it receives {fmt(got)}"))
    for (r, la, m), got in received.items():
        if got > tol.absolute:
            out.append(Violation(
                "input_balance", f"{data.partner_ids[r]},{data.layer_ids[la]}", got,
                f"input_flows.csv: {data.partner_ids[r]} receives {fmt(got)} of "
                f"{data.layer_ids[m]} for {data.layer_ids[la]}, which it does not produce "
                "with that input"))


@dataclass
class Shipments:
    """Final and input flows together, as a partner's shipping cost reads them."""

    exporter: pd.Series
    qty: np.ndarray
    trade_cost: np.ndarray


def shipments(data: Any, final: Any, flows: InputFlows) -> Shipments:
    """Every shipment of the plan (final flows, then input flows) with its trade cost."""
    return Shipments(
        exporter=pd.concat([final.exporter.astype(str),
                            flows.names["exporter"].astype(str)], ignore_index=True),
        qty=np.concatenate([final.qty, flows.qty]),
        trade_cost=np.concatenate([final.trade_cost, flows.trade_cost]))
