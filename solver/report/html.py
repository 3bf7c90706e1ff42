"""One self-contained HTML page of a run (``coalition report RUN_DIR``).

The page is for people who will never run a command: the status and the checker's verdict,
the cost split, the layer table, a partner-by-layer map of who hosts what and how much, the
main flows between partners, participation per partner, and the scenarios and the coalition
game's tables when the run folder has them. Everything is inline (CSS, SVG charts): the file
opens anywhere, without network. It is built from the written run folder alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from solver.errors import UsageError
from solver.report.by_period import by_period, periods_in
from solver.report.numbers import with_unit
from solver.report.page import e as _e
from solver.report.page import html_table, section
from solver.report.readback import read_csv
from solver.report.writing import check_target, write_file

#: Optional tables of a run folder shown when present, with their headings.
EXTRA_TABLES = {"scenarios": "Scenarios", "players": "The coalition game: players",
                "groups": "The coalition game: groups",
                "markets": "Markets outside the coalition: the coalition's share"}


@dataclass
class RunFolder:
    """The tables of a run folder that the report shows."""

    path: Path
    summary: dict[str, Any]
    allocation: pd.DataFrame
    flows: pd.DataFrame
    layers: pd.DataFrame
    partners: pd.DataFrame
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def read_run_folder(run_dir: str | Path) -> RunFolder:
    """Read the tables of ``run_dir``; :class:`~solver.errors.UsageError` if one is missing."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such run folder")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{folder} is not a run folder: it has no summary.json") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{folder / 'summary.json'}: not valid JSON ({exc})") from None
    tables = {}
    for name in ("allocation", "flows", "layers", "partners"):
        tables[name] = _table(folder / f"{name}.csv", required=True)
    extra = {}
    for name in EXTRA_TABLES:
        if (folder / f"{name}.csv").is_file():
            extra[name] = _table(folder / f"{name}.csv", required=False)
    return RunFolder(path=folder, summary=summary if isinstance(summary, dict) else {},
                     extra=extra, **tables)


def _table(path: Path, required: bool) -> pd.DataFrame:
    if not path.is_file():
        raise UsageError(f"{path}: missing from the run folder")
    return read_csv(path)


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a run folder (a plan), rather than a study's folder."""
    return (folder / "summary.json").is_file() and (folder / "allocation.csv").exists()


def write_report(folder: str | Path, out: str | Path | None = None, *,
                 force: bool = False) -> Path:
    """Write ``report.html`` for any folder the tool writes (or to ``out``); its path.

    A run folder gets the plan's page (:func:`render_report`); a study's folder (sweep,
    stress test, frontier, game, alternatives) the study's page
    (:func:`solver.report.study_pages.render_study_page`). The folder's own ``report.html``
    is replaced when it is an ordinary file; an ``out`` that exists only with ``force``
    (:func:`solver.report.writing.check_target`).
    """
    path_in = Path(folder)
    if not path_in.is_dir():
        raise UsageError(f"{path_in}: no such folder")
    from solver.report.study_pages import render_study_page, study_kinds

    path = Path(out) if out is not None else path_in / "report.html"
    check_target(path, force=force or out is None)
    if is_run_folder(path_in) or not study_kinds(path_in):
        text = render_report(read_run_folder(path_in))
    else:
        text = render_study_page(path_in)
    return write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def heat_map(allocation: pd.DataFrame, table_id: str = "heatmap") -> str:
    """Partners by layers: each cell the partner's share of the layer's supply, shaded."""
    alloc = allocation.copy()
    alloc["hosted"] = alloc["hosted"].astype(str).str.lower().isin(["true", "1"])
    layers = sorted(alloc["layer"].astype(str).unique())
    hosting = alloc[alloc["hosted"]]
    partners = sorted(hosting["partner"].astype(str).unique())
    share = alloc.pivot_table(index="partner", columns="layer", values="share",
                              aggfunc="sum").reindex(index=partners, columns=layers)
    hosted = alloc.pivot_table(index="partner", columns="layer", values="hosted",
                               aggfunc="max").reindex(index=partners, columns=layers)
    capable = alloc.pivot_table(index="partner", columns="layer", values="share",
                                aggfunc="size").reindex(index=partners, columns=layers)
    head = "".join(f'<th class="rot"><span>{_e(layer)}</span></th>' for layer in layers)
    rows = []
    for p in partners:
        cells = []
        for layer in layers:
            s: Any = share.at[p, layer]
            if bool(hosted.at[p, layer] is True or hosted.at[p, layer] == 1):
                value = 0.0 if pd.isna(s) else float(s)
                alpha = 0.12 + 0.88 * min(value / 0.5, 1.0)
                ink = "#fff" if alpha > 0.55 else "#14263d"
                cells.append(f'<td class="cell" style="background:rgba(47,109,179,{alpha:.2f});'
                             f'color:{ink}" title="{_e(p)} hosts {_e(layer)}: '
                             f'{100 * value:.1f}% of supply">{100 * value:.0f}%</td>')
            elif not pd.isna(capable.at[p, layer]):  # type: ignore[arg-type]
                cells.append('<td class="cell can" title="could host, does not">\u00b7</td>')
            else:
                cells.append('<td class="cell"></td>')
        rows.append(f"<tr><th>{_e(p)}</th>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="heat" id="{table_id}"><thead><tr><th></th>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            '<p class="note">Each cell: the partner\'s share of the layer\'s supply (darker: '
            "larger). A dot: the partner could host the layer but does not. Only partners "
            "that host something are listed.</p>")


#: Readable headers of the run folder's columns (the page; the CSV files keep their names).
HEADERS = {
    "capacity": "capacity built", "max_share": "largest share", "hhi": "HHI",
    "effective_suppliers": "effective suppliers", "n1_coverage": "N-1 coverage",
    "nk_coverage": "N-k coverage", "layers_hosted": "layers hosted", "unmet_share": "unmet %",
    "worst_layer": "worst layer", "worst_layer_unmet": "worst layer unmet",
    "worst_layer_share": "worst layer %", "trade_cost": "trade cost",
    "shortage_cost": "shortage cost", "second_stage_cost": "second-stage cost",
}

#: How each known column shows: a share as a percentage, a bool as yes/no.
KINDS = {"layer": "text", "partner": "text", "suppliers": "int", "layers_hosted": "int",
         "max_share": "pct", "n1_coverage": "pct", "nk_coverage": "pct",
         "participation": "pct", "unmet_share": "pct", "worst_layer_share": "pct",
         "member": "bool", "hosted": "bool", "verified": "bool",
         "share": "pct", "floor": "pct", "ceiling": "pct", "entered": "bool"}


def render_report(run: RunFolder) -> str:
    """The page for ``run`` as HTML text."""
    from solver.report.chain import chain_section
    from solver.report.charts import cost_chart, main_flows, participation_chart
    from solver.report.page import as_dict, page, status_block

    s = run.summary
    unit = s.get("unit") if isinstance(s.get("unit"), str) else None
    in_unit = f", in {_e(unit)}" if unit else ""
    per_period = ", in each period" if periods_in(run.allocation) else ""
    costs = as_dict(s.get("costs"))
    title = f"{s.get('case', run.path.name)}: coalition plan"
    cost_rows = pd.DataFrame([{"term": k, "cost": v} for k, v in costs.items()]
                             + [{"term": "total", "cost": s.get("objective")}])
    cost_rows.columns = ["term", with_unit("cost", unit)]
    tops = [main_flows(f) for f in _period_frames(run.flows)]
    sections = [
        status_block(s, run),
        section("costs", "Cost split", f"<p>Every term of the objective{in_unit}.</p>"
                + cost_chart(costs, unit)
                + html_table(cost_rows, table_id="cost-table", compact=True)),
        section("layers", "Layers", "<p>Suppliers, the largest share, concentration (HHI, "
                "1 = a single supplier) and N-1 coverage (the share of demand the built "
                f"capacity still covers without its largest host); quantities{in_unit} of "
                "output.</p>"
                + html_table(run.layers, KINDS, HEADERS, table_id="layer-table")),
        section("hosts", "Who hosts what", by_period(
            run.allocation, lambda rows, tag: heat_map(rows, f"heatmap{tag}"))),
        section("flows", "Main flows between partners",
                f"<p>The {max(map(len, tops), default=0)} largest flows from one partner to "
                "another, summed over layers (supply at home is not a flow here)"
                f"{in_unit} of output{per_period}.</p>"
                + by_period(run.flows, lambda rows, tag: _flows_panel(rows, tag, unit))),
        section("participation", "Participation per partner",
                f"<p>Each partner's share of the value the stack supplies{per_period}.</p>"
                + by_period(run.partners, lambda rows, tag: participation_chart(rows)
                            + html_table(rows, KINDS, HEADERS,
                                         table_id=f"partner-table{tag}"))),
    ]
    sections.append(chain_section(run.path, unit))  # empty without inputs.csv
    from solver.report.buildout import buildout_section

    sections.insert(2, buildout_section(run.allocation))  # empty without periods
    for name, frame in run.extra.items():
        sections.append(section(name, EXTRA_TABLES[name],
                                html_table(frame, KINDS, HEADERS, table_id=f"{name}-table")))
    return page(_e(title), "\n".join(sections), _e(s.get("version", "")))


def _period_frames(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """``frame``'s rows of each period (the whole frame for a one-period run)."""
    periods = periods_in(frame)
    if not periods:
        return [frame]
    return [frame[frame["period"].astype(str) == p] for p in periods]


def _flows_panel(flows: pd.DataFrame, tag: str, unit: str | None) -> str:
    """The main flows of one period (or of a one-period run): bars and their table."""
    from solver.report.charts import flows_chart, main_flows

    top = main_flows(flows)
    return flows_chart(top, unit) + html_table(top, {"layers": "text"},
                                               table_id=f"flow-table{tag}")
