"""One self-contained HTML page of a run (``coalition report RUN_DIR``).

The page is for people who will never run a command: the status and the checker's verdict,
the cost split, the layer table, a partner-by-layer map of who hosts what and how much, the
main flows between partners, participation per partner, and the scenarios and the coalition
game's tables when the run folder has them. Everything is inline (CSS, SVG charts): the file
opens anywhere, without network. It is built from the written run folder alone.
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from solver.errors import UsageError
from solver.report.cells import plain_frame

#: Optional tables of a run folder shown when present, with their headings.
EXTRA_TABLES = {"scenarios": "Scenarios", "players": "The coalition game: players",
                "groups": "The coalition game: groups"}


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
    except (OSError, UnicodeDecodeError, ValueError) as exc:
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
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise UsageError(f"{path}: cannot be read as a table ({exc})") from None
    return plain_frame(frame)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` for the run folder ``run_dir`` (or to ``out``); its path."""
    run = read_run_folder(run_dir)
    path = Path(out) if out is not None else run.path / "report.html"
    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_text(render_report(run), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(x: Any, kind: str = "num") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "\u2013"
    if isinstance(x, bool) or kind == "text":
        return _e(x)
    try:
        value = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "int":
        return f"{value:,.0f}"
    return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _html_table(frame: pd.DataFrame, kinds: dict[str, str] | None = None,
                table_id: str = "", limit: int = 500, compact: bool = False) -> str:
    """A plain HTML table of ``frame``: numbers right-aligned, at most ``limit`` rows."""
    kinds = kinds or {}
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for record in frame.head(limit).itertuples(index=False, name=None):
        cells = []
        for col, value in zip(frame.columns, record, strict=True):
            kind = kinds.get(col, "text" if isinstance(value, str) else "num")
            cls = ' class="n"' if kind != "text" else ""
            cells.append(f"<td{cls}>{_fmt(value, kind)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="note">{len(frame) - limit} more rows in the CSV file.</p>'
            if len(frame) > limit else "")
    ident = f' id="{_e(table_id)}"' if table_id else ""
    ident += ' class="compact"' if compact else ""
    return (f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + f"</tbody></table></div>{more}")


def heat_map(allocation: pd.DataFrame) -> str:
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
    return (f'<div class="scroll"><table class="heat" id="heatmap"><thead><tr><th></th>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            '<p class="note">Each cell: the partner\'s share of the layer\'s supply (darker: '
            "larger). A dot: the partner could host the layer but does not. Only partners "
            "that host something are listed.</p>")


def render_report(run: RunFolder) -> str:
    """The page for ``run`` as HTML text."""
    from solver.report.chain import chain_section
    from solver.report.charts import (
        COST_UNIT,
        cost_chart,
        flows_chart,
        main_flows,
        participation_chart,
    )
    from solver.report.page import as_dict, page, status_block

    s = run.summary
    costs = as_dict(s.get("costs"))
    title = f"{s.get('case', run.path.name)}: coalition plan"
    cost_rows = pd.DataFrame([{"term": k, "cost": v} for k, v in costs.items()]
                             + [{"term": "total", "cost": s.get("objective")}])
    top = main_flows(run.flows)
    layers = run.layers.copy()
    sections = [
        status_block(s, run),
        _section("costs", "Cost split", f"<p>Every term of the objective, in {COST_UNIT}.</p>"
                 + cost_chart(costs) + _html_table(cost_rows, table_id="cost-table", compact=True)),
        _section("layers", "Layers", "<p>Suppliers, the largest share, concentration (HHI, "
                 "1 = a single supplier) and N-1 coverage (the share of demand the built "
                 "capacity still covers without its largest host).</p>"
                 + _html_table(layers, {"layer": "text", "suppliers": "int",
                                        "max_share": "pct", "n1_coverage": "pct"},
                               table_id="layer-table")),
        _section("hosts", "Who hosts what", heat_map(run.allocation)),
        _section("flows", "Main flows between partners",
                 f"<p>The {len(top)} largest flows from one partner to another, summed over "
                 "layers (supply at home is not a flow here).</p>" + flows_chart(top)
                 + _html_table(top, {"layers": "text"}, table_id="flow-table")),
        _section("participation", "Participation per partner",
                 "<p>Each partner's share of the value the stack supplies.</p>"
                 + participation_chart(run.partners)
                 + _html_table(run.partners, {"participation": "pct", "layers_hosted": "int"},
                               table_id="partner-table")),
    ]
    sections.append(chain_section(run.path))  # empty without inputs.csv
    from solver.report.buildout import buildout_section

    sections.insert(2, buildout_section(run.allocation))  # empty without periods
    for name, frame in run.extra.items():
        sections.append(_section(name, EXTRA_TABLES[name],
                                 _html_table(frame, table_id=f"{name}-table")))
    return page(_e(title), "\n".join(sections), _e(s.get("version", "")))


def _section(ident: str, heading: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{_e(heading)}</h2>{body}</section>'
