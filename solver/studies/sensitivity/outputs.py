"""What a sensitivity study measures of each plan (README, Global sensitivity).

The total cost (``objective``) and each cost term (``cost_fixed``, ...) always; and any of
``share[P,L]`` (P's share of layer L's demand), ``participation[P]`` (P's share of the
stack's value), ``suppliers[L]``, ``hosts[P]`` (layers P hosts), ``hhi[L]``,
``n1_coverage[L]`` and ``unmet[SCENARIO]`` (what the plan leaves unmet in a scenario of
scenarios.csv). Each is read from the tables of the plan's result, and has its unit: costs
and quantities (unmet demand) are in the model file's ``unit``, shares are fractions, counts
are counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solver.errors import UsageError
from solver.results import COST_TERMS

#: Per metric: the ids it takes (what each names), its table, column and unit (``None``: a
#: quantity, in the case's unit).
METRICS: dict[str, tuple[tuple[str, ...], str, str, str | None]] = {
    "share": (("partner", "layer"), "allocation", "share",
              "fraction of the layer's demand"),
    "participation": (("partner",), "partners", "participation",
                      "fraction of the stack's value"),
    "hosts": (("partner",), "partners", "layers_hosted", "layers hosted"),
    "suppliers": (("layer",), "layers", "suppliers", "partners supplying"),
    "hhi": (("layer",), "layers", "hhi", "Herfindahl index, 0 to 1"),
    "n1_coverage": (("layer",), "layers", "n1_coverage", "fraction of the layer's demand"),
    "unmet": (("scenario",), "scenarios", "unmet", None),
}

#: The outputs every study measures: the total cost and each cost term.
ALWAYS = ("objective", *(f"cost_{t}" for t in COST_TERMS))

#: A quantity's unit when the model file names none.
DEMAND_UNITS = "units of demand"

_NAME = re.compile(r"^(?P<kind>[a-z_0-9]+)\[(?P<ids>[^\]]*)\]$")


@dataclass(frozen=True)
class Metric:
    """One measured quantity of a plan: ``kind[id,...]``."""

    kind: str
    ids: tuple[str, ...]

    @property
    def name(self) -> str:
        """The metric as written, ``share[TW,semiconductors]``: its column in samples.csv."""
        return f"{self.kind}[{','.join(self.ids)}]"

    def measure(self, result: Any) -> float:
        """The metric's value in ``result`` (a :class:`~solver.results.Result`)."""
        names, table_name, column, _ = METRICS[self.kind]
        table = getattr(result, table_name)
        if table is None or not len(table):
            return 0.0
        mask = np.ones(len(table), dtype=bool)
        for name, value in zip(names, self.ids, strict=True):
            mask &= np.array([str(v) == value for v in table[name].to_numpy(dtype=object)],
                             dtype=bool)
        picked = table[column].to_numpy()[mask]
        # Twelve significant digits: a ratio such as a share is 0.4 in one plan and
        # 0.39999999999999997 in the next for the same plan, and that is not an effect.
        return float(f"{float(picked[0]):.12g}") if len(picked) else 0.0


def parse_output(text: str) -> Metric:
    """Parse ``kind[id,...]``; raise :class:`UsageError` naming what is wrong."""
    match = _NAME.match(text.strip())
    kinds = ", ".join(f"{k}[{','.join(v[0]).upper()}]" for k, v in METRICS.items())
    if not match or match["kind"] not in METRICS:
        raise UsageError(f"--output {text!r}: expected one of {kinds} (the total cost and "
                         "each cost term are always measured)")
    ids = tuple(part.strip() for part in match["ids"].split(","))
    names = METRICS[match["kind"]][0]
    if len(ids) != len(names) or not all(ids):
        raise UsageError(f"--output {text!r}: {match['kind']} takes "
                         f"{', '.join(n.upper() for n in names)}")
    return Metric(kind=match["kind"], ids=ids)


def check_outputs(case: Any, metrics: Sequence[Metric]) -> None:
    """Raise :class:`UsageError` if a metric names an id the case does not have."""
    known = {
        "partner": set(case.partners["partner"].astype(str)),
        "layer": set(case.layers["layer"].astype(str)),
        "scenario": set() if case.scenarios is None else
        set(case.scenarios["scenario"].astype(str)),
    }
    seen: set[str] = set()
    for metric in metrics:
        if metric.name in seen:
            raise UsageError(f"--output {metric.name} is given twice")
        seen.add(metric.name)
        for what, value in zip(METRICS[metric.kind][0], metric.ids, strict=True):
            if value not in known[what]:
                where = "scenarios.csv" if what == "scenario" else f"{what}s.csv"
                have = "the case has no scenarios.csv" if what == "scenario" and \
                    case.scenarios is None else f"no {what} {value!r} in {where}"
                raise UsageError(f"--output {metric.name}: {have}")


def unit(output: str, case_unit: str | None) -> str | None:
    """The unit of an output column of samples.csv; ``case_unit`` is the model file's.

    The total cost and each term are in ``case_unit`` (``None`` when the model file names
    none: a cost is then shown without a unit, as every command shows it); unmet demand
    is a quantity, in ``case_unit`` or else in units of demand; the other metrics are
    fractions or counts whatever the case.
    """
    if output in ALWAYS or output.startswith("cost_"):
        return case_unit
    match = _NAME.match(output)
    if not match or match["kind"] not in METRICS:
        return None
    return METRICS[match["kind"]][3] or case_unit or DEMAND_UNITS


def label(output: str) -> str:
    """An output as a person reads it: ``total cost``, ``capacity cost``, ``hhi[energy]``."""
    if output == "objective":
        return "total cost"
    if output.startswith("cost_"):
        return f"{output[5:]} cost"
    return output
