"""The frame of the HTML report: the page's style and its status block."""

from __future__ import annotations

import html
import math
from string import Template
from typing import Any

import pandas as pd

from solver.report.numbers import percent, readable, yes_no

_CSS = """
:root { --ink:#14263d; --muted:#5b6b7d; --line:#dde3ea; --card:#fff; --bg:#f4f6f9;
        --ok:#2e7d4f; --bad:#b3261e; --blue:#2f6db3; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { background:#14263d; color:#fff; padding:28px 32px 22px; }
header h1 { margin:0; font-size:24px; font-weight:600; }
header p { margin:6px 0 0; color:#c5d1de; font-size:13px; }
main { max-width:1120px; margin:0 auto; padding:20px 24px 40px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px;
          padding:18px 22px; margin:18px 0; box-shadow:0 1px 2px rgba(20,38,61,.05); }
h2 { margin:0 0 10px; font-size:18px; font-weight:600; }
p { margin:6px 0 12px; color:var(--muted); }
.note { font-size:12px; }
p.verdict { color:var(--ink); font-size:16px; }
.kpis { display:flex; flex-wrap:wrap; gap:12px; margin-top:6px; }
.kpi { flex:1 1 150px; border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
.kpi b { display:block; font-size:20px; font-variant-numeric:tabular-nums; }
.kpi span { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.badge { display:inline-block; padding:2px 10px; border-radius:999px; color:#fff;
         font-size:13px; font-weight:600; }
.badge.ok { background:var(--ok); } .badge.bad { background:var(--bad); }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; margin:8px 0; font-size:13px; }
th, td { padding:5px 9px; border-bottom:1px solid var(--line); text-align:left;
         white-space:nowrap; }
thead th { background:#eef2f6; font-weight:600; position:sticky; top:0; }
tbody tr:nth-child(even) td { background:#fafbfc; }
td.n { text-align:right; font-variant-numeric:tabular-nums; }
svg.chart { width:100%; height:auto; max-width:760px; display:block; margin:6px 0 10px; }
table.heat { width:auto; }
table.heat thead th { background:none; }
table.compact { width:auto; min-width:320px; }
table.heat td.cell { width:44px; min-width:44px; text-align:center; padding:4px 2px;
                     border:1px solid #fff; font-variant-numeric:tabular-nums; }
table.heat tbody tr:nth-child(even) td.cell:not([style]) { background:#fafbfc; }
table.heat td.can { color:#9aa5b1; }
table.heat th.rot { height:130px; vertical-align:bottom; padding:0 2px; background:none; }
table.heat th.rot span { writing-mode:vertical-rl; transform:rotate(180deg); font-weight:500; }
footer { text-align:center; color:var(--muted); font-size:12px; padding:10px 0 30px; }
@media print { body { background:#fff; } section { box-shadow:none; break-inside:avoid; } }
"""

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header><h1>$heading</h1><p>$subtitle</p></header>
<main>
$body
</main>
<footer>Written by coalition $version from the folder's tables.</footer>
</body>
</html>
""")


#: What a run's page is about, under its title.
RUN_SUBTITLE = ("Who co-produces each layer of the stack, at what cost, and how robust the "
                "plan is.")


def page(title: str, body: str, version: str, subtitle: str = RUN_SUBTITLE) -> str:
    """The whole HTML document around ``body`` (all arguments already escaped)."""
    return PAGE.substitute(title=title, heading=title, body=body, version=version, css=_CSS,
                           subtitle=subtitle)


def as_dict(x: Any) -> dict[str, Any]:
    """``x`` if it is a dict (a summary's section), else an empty one."""
    return x if isinstance(x, dict) else {}


def e(x: Any) -> str:
    """``x`` as HTML text, escaped."""
    return html.escape(str(x), quote=True)


_e = e


def _n(x: Any, fmt: str | None = None) -> str:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "\u2013"
    if math.isnan(value):
        return "\u2013"
    return readable(value, 6) if fmt is None else format(value, fmt)


def cell(x: Any, kind: str = "num") -> str:
    """One table cell's text, by ``kind``; a missing value is a dash.

    num: ``52,260.3``; int: ``52,260``; pct: ``40.4%``; bool: yes/no; text: escaped.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "\u2013"
    if kind == "bool":
        return yes_no(x)
    if isinstance(x, bool) or kind == "text" or isinstance(x, str):
        return e(x)
    if kind == "pct":
        return percent(x)
    if kind == "int":
        return readable(round(float(x)), 15)
    if kind == "sci":
        return format(float(x), ".1e")
    return readable(x, 6)


def html_table(frame: pd.DataFrame, kinds: dict[str, str] | None = None,
               headers: dict[str, str] | None = None, table_id: str = "",
               limit: int = 500, compact: bool = False) -> str:
    """A plain HTML table of ``frame``: numbers right-aligned, at most ``limit`` rows.

    ``kinds`` says how a column shows (see :func:`cell`; text cells by default when the
    value is text), ``headers`` a readable header for a column name.
    """
    kinds, headers = kinds or {}, headers or {}
    head = "".join(f"<th>{e(headers.get(str(c), _header(str(c))))}</th>"
                   for c in frame.columns)
    rows = []
    for record in frame.head(limit).itertuples(index=False, name=None):
        cells = []
        for col, value in zip(frame.columns, record, strict=True):
            kind = kinds.get(str(col), "text" if isinstance(value, str) else "num")
            cls = ' class="n"' if kind not in ("text", "bool") else ""
            cells.append(f"<td{cls}>{cell(value, kind)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="note">{len(frame) - limit} more rows in the CSV file.</p>'
            if len(frame) > limit else "")
    ident = f' id="{e(table_id)}"' if table_id else ""
    ident += ' class="compact"' if compact else ""
    return (f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + f"</tbody></table></div>{more}")


def _header(column: str) -> str:
    """``worst_layer`` as ``worst layer``; an override key (``layers.max_share``) as it is."""
    return column.replace("_", " ") if column.replace("_", "").isalnum() else column


def section(ident: str, heading: str, body: str) -> str:
    """One card of the page: ``<section id=ident>`` with its heading and ``body`` (HTML)."""
    return f'<section id="{ident}"><h2>{e(heading)}</h2>{body}</section>'


def status_block(s: dict[str, Any], run: Any) -> str:
    """The first section: status, verification, total cost, gap, size and solver."""
    verified = s.get("verified") is True
    badge = ('<span class="badge ok" id="verified">verified by the independent checker'
             '</span>' if verified else
             '<span class="badge bad" id="verified">NOT verified</span>')
    solver, size = as_dict(s.get("solver")), as_dict(s.get("size"))
    hosted = run.allocation["hosted"].astype(str).str.lower().isin(["true", "1"])
    unit = s.get("unit") if isinstance(s.get("unit"), str) else None
    kpis = [("status", _e(s.get("status", "?"))),
            ("total cost" + (f", {_e(unit)}" if unit else ""), _n(s.get("objective"))),
            ("gap", _n(s.get("gap"), ".2e")), ("layers", str(len(run.layers))),
            ("hosting pairs", f"{int(hosted.sum())} of {len(run.allocation)}"),
            ("solver", _e(f"{solver.get('name', '?')} {solver.get('version', '')}"))]
    cells = "".join(f'<div class="kpi"><span>{k}</span><b>{v}</b></div>' for k, v in kpis)
    overrides = s.get("overrides") or []
    extra = (f"<p>Overrides: {_e(', '.join(map(str, overrides)))}</p>" if overrides else "")
    model = (f"<p class=\"note\">{_n(size.get('variables'), ',.0f')} variables "
             f"({_n(size.get('binaries'), ',.0f')} binary), "
             f"{_n(size.get('constraints'), ',.0f')} constraints.</p>" if size else "")
    return (f'<section id="status"><h2>Status {badge}</h2><div class="kpis">{cells}</div>'
            f"{extra}{model}</section>")
