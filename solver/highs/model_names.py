"""The names of a one-period model's columns and rows in an exported file.

README, The planner's desk (export).
``y[TW,semiconductors]``, ``f[TW,US,semiconductors]``, ``demand[US,semiconductors]``: shared by
:mod:`solver.highs.export` and a pathway's names (:mod:`solver.highs.export_pathway`).
"""

from __future__ import annotations

from typing import Any


def column_names(built: Any, variables: list[Any]) -> list[str]:
    """``y[TW,semiconductors]``, ``f[TW,US,semiconductors]``, ... for the model's columns.

    With markets also ``h[TW,BR,semiconductors]`` (a market flow), ``s[BR,semiconductors]``,
    ``e[BR,semiconductors]`` and ``mk[semiconductors]``.
    """
    data = built.data
    pairs = [f"{p},{lyr}" for p, lyr in zip(data.pairs["partner"], data.pairs["layer"],
                                            strict=True)]
    flows = [f"{e},{i},{lyr}" for e, i, lyr in zip(data.flows["exporter"],
                                                   data.flows["importer"],
                                                   data.flows["layer"], strict=True)]
    keys = {"y": pairs, "k": pairs, "q": pairs, "f": flows,
            "built": [str(x) for x in data.layers["layer"]]}
    if data.chain is not None:  # g[exporter,importer,layer,input] (README, The stack as a chain)
        g = data.chain.flows
        keys["g"] = [f"{e},{i},{lyr},{m}" for e, i, lyr, m in zip(
            g["exporter"], g["importer"], g["layer"], g["input"], strict=True)]
    if data.markets is not None:  # README, Markets outside the coalition
        keys.update(market_column_keys(data.markets, keys["built"]))
    return [_named(v, keys) for v in variables]


def market_column_keys(markets: Any, layers: list[str]) -> dict[str, list[str]]:
    """``h[TW,BR,chips]``, ``s[BR,chips]``, ``e[BR,chips]`` and ``mk[chips]``'s keys."""
    h = markets.flows
    rows = [f"{m},{lyr}" for m, lyr in zip(markets.rows["market"], markets.rows["layer"],
                                           strict=True)]
    return {"h": [f"{e},{i},{lyr}" for e, i, lyr in zip(h["exporter"], h["importer"],
                                                          h["layer"], strict=True)],
            "s": rows, "e": [rows[r] for r in markets.entry_rows],
            "mk": [layers[lay] for lay in markets.reached]}


def row_names_of(built: Any, constraints: list[Any]) -> list[str]:
    """``demand[US,semiconductors]``, ``budget``, ... for the model's rows."""
    keys = {name: [",".join(map(str, k)) for k in rows]
            for name, rows in built.m.row_keys.items()}
    return [_named(c, keys) for c in constraints]


def _named(item: Any, keys: dict[str, list[str]]) -> str:
    component = item.parent_component().local_name
    index = item.index()
    table = keys.get(component)
    if table is not None and isinstance(index, int) and 0 <= index < len(table):
        return f"{component}[{table[index]}]" if table[index] else component
    return str(item.name)
