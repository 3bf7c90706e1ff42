"""The comparison of two runs as the text ``coalition compare`` prints."""

from __future__ import annotations

import math
from typing import Any

#: Share changes below this are not listed on the screen (compare.csv has them all).
SHOWN_SHARE_CHANGE = 1e-4


def _n(x: Any, fmt: str = ",.6g") -> str:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "-"
    return "-" if math.isnan(value) else format(value, fmt)


def format_comparison(c: Any) -> str:
    """Costs, hosts gained and lost, layer metrics and participation, A against B.

    ``c`` is a :class:`solver.report.compare.Comparison`.
    """
    lines = []
    for tag, run in (("A", c.a), ("B", c.b)):
        verified = "" if run.verified is None else (", verified" if run.verified
                                                     else ", NOT verified")
        lines.append(f"{tag}: {run.label} ({run.status}{verified}, total cost "
                     f"{_n(run.objective)})")
    lines += ["", f"{'cost':<14}{'A':>16}{'B':>16}{'change':>16}{'%':>9}"]
    for row in c.costs.to_dict("records"):
        share = row["change_share"]
        pct = "-" if share is None or math.isnan(share) else f"{100 * share:+.1f}%"
        change = row["change"]
        moved = "0" if change is not None and abs(change) <= 1e-12 else _n(change, "+,.6g")
        lines.append(f"{row['term']:<14}{_n(row['a']):>16}{_n(row['b']):>16}{moved:>16}"
                     f"{pct:>9}")
    hosts = c.hosts
    shown = hosts[(hosts["change"] != "share")
                  | ((hosts["share_b"] - hosts["share_a"]).abs() >= SHOWN_SHARE_CHANGE)]
    lines += ["", f"hosts: {len(c.gained)} gained, {len(c.lost)} lost, "
                  f"{int((hosts['change'] == 'share').sum())} other shares moved"]
    if len(shown):
        lines.append(f"  {'layer':<22}{'partner':<10}{'change':<8}{'share A':>9}"
                     f"{'share B':>9}{'capacity A':>13}{'capacity B':>13}")
        for row in shown.to_dict("records"):
            lines.append(f"  {row['layer']!s:<22}{row['partner']!s:<10}{row['change']:<8}"
                         f"{row['share_a']:>9.3f}{row['share_b']:>9.3f}"
                         f"{_n(row['capacity_a']):>13}{_n(row['capacity_b']):>13}")
    lines += ["", _side_by_side(c.layers, "layer", {"suppliers": ("suppliers", ".0f"),
                                                     "max_share": ("max share", ".3f"),
                                                     "hhi": ("HHI", ".3f"),
                                                     "n1_coverage": ("N-1", ".3f")})]
    partners = c.partners
    changed = partners[partners["change"].fillna(0).abs() > 1e-9]["partner"].unique()
    lines.append("")
    if len(changed):
        lines.append(_side_by_side(partners[partners["partner"].isin(changed)], "partner",
                                   {"participation": ("participation", ".3f"),
                                    "layers_hosted": ("layers hosted", ".0f")}))
    else:
        lines.append("partners: participation and layers hosted unchanged")
    lines += [f"note: {n}" for n in c.notes]
    return "\n".join(lines)


def _side_by_side(frame: Any, key: str, metrics: dict[str, tuple[str, str]]) -> str:
    """One row per key: each metric as A, B (and a * where it changed)."""
    present = [m for m in metrics if m in set(frame["metric"])]
    head = f"{key:<22}" + "".join(f"{metrics[m][0] + ' A/B':>22}" for m in present)
    out = [head]
    for k, rows in frame.groupby(key, sort=True):
        cells = []
        by_metric = {r["metric"]: r for r in rows.to_dict("records")}
        for m in present:
            r = by_metric.get(m)
            if r is None:
                cells.append(f"{'-':>22}")
                continue
            fmt = metrics[m][1]
            mark = "*" if r["change"] is not None and not math.isnan(float(r["change"])) \
                and abs(float(r["change"])) > 1e-9 else " "
            cells.append(f"{_n(r['a'], fmt):>10} {_n(r['b'], fmt):>9}{mark:>2}")
        out.append(f"{k!s:<22}" + "".join(cells))
    return "\n".join(out)
