"""The build-out of a pathway in words: capacity in service and new builds per layer and period."""

from __future__ import annotations

from typing import Any


def buildout_lines(result: Any) -> list[str]:
    """Per layer and period: capacity in service, and ``+N`` decided that period (README, Pathways).

    Empty for a run without periods.
    """
    layers = result.layers
    if "period" not in layers or result.builds is None:
        return []
    periods = list(dict.fromkeys(layers["period"].astype(str)))
    builds = result.builds
    decided = builds.groupby(["layer", builds["period"].astype(str)])["built"].sum()
    width = max(12, *(len(p) + 2 for p in periods))
    lines = ["build-out: capacity in service (+ decided in the period)",
             f"{'layer':<24}" + "".join(f"{p:>{width + 8}}" for p in periods)]
    in_service = layers.assign(period=layers["period"].astype(str)).set_index(
        ["layer", "period"])["capacity"]
    for layer in sorted(set(layers["layer"])):
        cells = []
        for p in periods:
            new = float(decided.get((layer, p), 0.0))
            cell = f"{float(in_service.get((layer, p), 0.0)):,.4g}"
            cells.append(f"{cell:>{width}}" + (f" {'+' + format(new, ',.3g'):>7}" if new
                                               else " " * 8))
        lines.append(f"{layer!s:<24}" + "".join(cells))
    return lines
