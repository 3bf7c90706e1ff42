"""The chain's run tables (README, The stack as a chain): ``input_flows.csv`` and ``inputs.csv``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from solver.results import ZERO, clean

INPUT_FLOW_COLUMNS = ("exporter", "importer", "layer", "input", "quantity", "unit_cost")


def input_flows_table(data: Any, values: dict[str, np.ndarray]) -> pd.DataFrame | None:
    """One row per nonzero input flow g[p,r,l,m] (README, The stack as a chain); None without.

    ``exporter`` p sends ``quantity`` of ``input`` m to ``importer`` r for r's production of
    ``layer`` l, at the route's ``unit_cost`` for m. Written as ``input_flows.csv``.
    """
    if data.chain is None:
        return None
    g = data.chain.flows
    qty = clean(values.get("g", np.zeros(len(g))))
    keep = qty > ZERO
    out = pd.DataFrame({name: g[name].to_numpy()[keep] for name in INPUT_FLOW_COLUMNS
                        if name != "quantity"})
    out.insert(4, "quantity", qty[keep])
    out["unit_cost"] = out["unit_cost"].astype(float)
    return out.sort_values(["exporter", "importer", "layer", "input"]).reset_index(drop=True)


def inputs_table(case: Any, allocation: pd.DataFrame,
                 input_flows: pd.DataFrame) -> pd.DataFrame:
    """Per producing pair and input: what it needed and where it came from (``inputs.csv``).

    Columns partner, layer, input, source (the case's rule), required (``a[l,m] * q``), and
    the input received from the producer itself (domestic), from others of its bloc (bloc),
    from outside it (imported), and the largest source with its quantity.
    """
    assert case.inputs is not None
    links = case.inputs[case.inputs["per_unit"] > 0][["layer", "input", "per_unit", "source"]]
    made = allocation[allocation["supplied"] > 0][["partner", "layer", "supplied"]]
    rows = made.merge(links, on="layer")
    rows["required"] = rows["per_unit"] * rows["supplied"]
    bloc = case.partners.set_index("partner")["bloc"]
    g = input_flows.assign(
        domestic=np.where(input_flows["exporter"] == input_flows["importer"],
                          input_flows["quantity"], 0.0))
    same = (input_flows["exporter"].map(bloc) == input_flows["importer"].map(bloc)).to_numpy()
    g["bloc"] = np.where(same, g["quantity"], 0.0) - g["domestic"]
    g["imported"] = np.where(same, 0.0, g["quantity"])
    keys = ["importer", "layer", "input"]
    sums = g.groupby(keys)[["domestic", "bloc", "imported"]].sum()
    top = g.sort_values("quantity", ascending=False, kind="stable").drop_duplicates(keys)
    top = top.set_index(keys)[["exporter", "quantity"]]
    top.columns = pd.Index(["largest_source", "largest_quantity"])
    rows = rows.merge(sums.join(top), left_on=["partner", "layer", "input"],
                      right_index=True, how="left")
    rows[["domestic", "bloc", "imported", "largest_quantity"]] = rows[
        ["domestic", "bloc", "imported", "largest_quantity"]].fillna(0.0)
    rows["largest_source"] = rows["largest_source"].fillna("")
    columns = ["partner", "layer", "input", "source", "required", "domestic", "bloc",
               "imported", "largest_source", "largest_quantity"]
    return rows[columns].sort_values(["partner", "layer", "input"]).reset_index(drop=True)
