"""One page for each study folder: sweep, stress, frontier, game, alternatives, sensitivity.

Each study is read from the outside, from the files its command writes (README, Commands),
never from the code that wrote them, and shown as its verdict in words, its chart (inline
SVG) and its table. A folder may hold more than one study (``stress --scenarios`` and
``--sample`` into the same ``--out``): each gets its own sections on the one page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.errors import UsageError
from solver.report.cells import plain_frame
from solver.report.charts import figure, style_axes, svg_text
from solver.report.numbers import percent, readable, with_unit
from solver.report.page import e, html_table, section

#: Columns of a sweep or frontier row that are results, not a varied key.
RESULT_COLUMNS = {"point", "status", "reason", "objective", "bound", "gap", "verified",
                  "rebuilt", "seconds", "solve_seconds", "overrides", "tightest"}

#: How known study columns show (see :func:`solver.report.page.cell`).
KINDS = {"unmet_share": "pct", "worst_layer_unmet_share": "pct", "mean_share": "pct",
         "cvar95_share": "pct", "lost_in_worst": "pct", "disruption_risk": "pct",
         "verified": "bool", "rebuilt": "bool", "tightest": "bool", "gap": "sci",
         "size": "int", "layers_hosted": "int", "hosts_changed": "int", "distance": "int",
         "point": "int", "probe": "int", "draw": "int", "increase_pct": "num",
         "gain_share": "pct", "probability": "num"}

#: Readable headers of study columns.
HEADERS = {"objective": "total cost", "cvar95": "CVaR 95%", "p95": "P95",
           "mean_share": "mean %", "cvar95_share": "CVaR 95% %", "unmet_share": "unmet %",
           "lost_in_worst": "lost in the worst 5%", "increase_pct": "+%",
           "worst_layer_unmet_share": "worst layer %", "rerouting_cost": "re-routing",
           "redesign_extra_cost": "redesign extra", "shapley_se": "Shapley s.e.",
           "saving_shapley": "saving (Shapley)", "saving_nucleolus": "saving (nucleolus)",
           "saving_proportional": "saving (proportional)", "n1_coverage": "N-1 coverage"}


@dataclass
class StudyFolder:
    """A study folder's files as read: tables by file name, JSON by file name, its unit."""

    path: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def unit(self) -> str | None:
        """The unit the study's case names (README, The case format), if a file records it."""
        for info in self.meta.values():
            if isinstance(info.get("unit"), str) and info["unit"]:
                return str(info["unit"])
        return None

    @property
    def case(self) -> str:
        """The case's name, if a file records it, else the folder's."""
        for info in self.meta.values():
            if isinstance(info.get("case"), str):
                return str(info["case"])
        return self.path.name


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table of a study folder; :class:`UsageError` naming the file if unreadable."""
    try:
        return plain_frame(pd.read_csv(path, keep_default_na=True))
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise UsageError(f"{path}: cannot be read as a table ({exc})") from None


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file of a study folder as a dict; :class:`UsageError` naming it if invalid."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    return data if isinstance(data, dict) else {}


def _read(folder: Path, tables: tuple[str, ...], meta: tuple[str, ...] = ()) -> StudyFolder:
    study = StudyFolder(path=folder)
    for name in tables:
        if (folder / name).is_file():
            study.tables[name] = read_table(folder / name)
    for name in meta:
        if (folder / name).is_file():
            study.meta[name] = read_json(folder / name)
    return study


def _chart(width: float, height: float) -> tuple[Any, Any]:
    fig = figure(width, height)
    ax = fig.add_subplot()
    style_axes(ax)
    return fig, ax


def _varied(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in RESULT_COLUMNS and not c.startswith("cost_")]


def _solved(table: pd.DataFrame) -> pd.DataFrame:
    return table[pd.to_numeric(table["objective"], errors="coerce").notna()]


def sweep_sections(folder: Path) -> list[str]:
    """A sweep (sweep.csv, sweep.json): the range of the total cost, a curve per key."""
    study = _read(folder, ("sweep.csv",), ("sweep.json",))
    table = study.tables["sweep.csv"]
    unit = study.unit
    keys = _varied(table)
    solved = _solved(table)
    words = f"{len(table)} points, {len(solved)} with a plan"
    if len(table) > len(solved):
        failed = table.loc[~table.index.isin(solved.index), "status"].astype(str)
        words += f" ({len(failed)} without: {', '.join(sorted(set(failed)))})"
    if len(solved):
        cost = solved["objective"].astype(float).to_numpy()
        cheap, dear = solved.iloc[int(cost.argmin())], solved.iloc[int(cost.argmax())]

        def where(row: pd.Series) -> str:
            return ", ".join(f"{k} = {readable(row[k], 6)}" for k in keys)

        words += (f". The total cost runs from {readable(cheap['objective'], 6)} "
                  f"({where(cheap)}) to {readable(dear['objective'], 6)} ({where(dear)})"
                  + (f", in {unit}" if unit else "") + ".")
    charts = "".join(_sweep_chart(table, key, [k for k in keys if k != key], unit)
                     for key in keys)
    shown = table[[c for c in ["point", *keys, "status", "objective", "gap", "verified",
                               *[c for c in table.columns if c.startswith("cost_")]]
                   if c in table]]
    headers = {**HEADERS, **_cost_headers(shown), "objective": with_unit("total cost", unit)}
    return [section("sweep", "Sweep", f'<p class="verdict">{e(words)}</p>' + charts
                    + html_table(shown, KINDS, headers, table_id="sweep-table"))]


def _cost_headers(frame: pd.DataFrame) -> dict[str, str]:
    return {c: c[len("cost_"):] for c in frame.columns if str(c).startswith("cost_")}


def _sweep_chart(table: pd.DataFrame, key: str, others: list[str], unit: str | None) -> str:
    fig, ax = _chart(7.0, 3.4)
    frame = table.copy()
    frame[key] = pd.to_numeric(frame[key], errors="coerce")
    groups = list(frame.groupby(others, dropna=False, sort=True)) if others else [((), frame)]
    for group_key, group in groups:
        g = group.sort_values(key)
        label = ", ".join(f"{o} = {v}" for o, v in zip(
            others, group_key if isinstance(group_key, tuple) else (group_key,), strict=True))
        ax.plot(g[key], pd.to_numeric(g["objective"], errors="coerce"), marker="o",
                label=label or "total cost")
    ax.set_xlabel(key, fontsize=9)
    ax.set_ylabel(with_unit("total cost", unit), fontsize=9)
    if others:
        ax.legend(fontsize=7, frameon=False)
    return svg_text(fig, e(f"total cost against {key}"))


def stress_sections(folder: Path) -> list[str]:
    """Each partner lost in turn (stress.csv): the worst losses, in words and bars."""
    study = _read(folder, ("stress.csv",), ("stress.json",))
    table, unit = study.tables["stress.csv"], study.unit
    totals = table[table["scope"] == "total"].sort_values("unmet_share", ascending=False)
    if totals.empty:
        return [section("stress", "Losing one partner", "<p>stress.csv has no partner.</p>")]
    worst = totals.iloc[0]
    safe = totals[totals["unmet"].astype(float) <= 1e-9]["lost"].astype(str).tolist()
    words = (f"Losing {worst['lost']} hurts most: {readable(worst['unmet'], 6)} of demand "
             f"({percent(worst['unmet_share'])}) is left unmet after re-routing the built "
             f"capacity, worst in {worst.get('worst_layer', '-')}. "
             + (f"Losing any of {', '.join(safe)} leaves nothing unmet."
                if safe else "Every partner's loss leaves some demand unmet."))
    fig, ax = _chart(7.0, 0.6 + 0.28 * len(totals))
    shown = totals.iloc[::-1]
    ax.barh(shown["lost"].astype(str), 100 * shown["unmet_share"].astype(float),
            color="#b5534f")
    ax.set_xlabel("unmet demand after losing the partner (% of all demand)", fontsize=9)
    columns = [c for c in ("lost", "layers_hosted", "unmet", "unmet_share", "rerouting_cost",
                           "redesign_status", "redesign_cost", "redesign_extra_cost",
                           "redesign_reason") if c in totals and totals[c].notna().any()]
    return [section("stress", "Losing one partner", f'<p class="verdict">{e(words)}</p>'
                    + svg_text(fig, "unmet demand per lost partner")
                    + html_table(totals[columns], KINDS, {
                        **HEADERS, "lost": "partner lost", "unmet": with_unit("unmet", unit),
                        "rerouting_cost": with_unit("re-routing", unit),
                        "redesign_cost": with_unit("redesign cost", unit),
                        "redesign_extra_cost": with_unit("redesign extra", unit)},
                                 table_id="stress-table"))]


def monte_carlo_sections(folder: Path) -> list[str]:
    """Random disruptions (draws.csv, distribution.csv, worst_partners.csv)."""
    study = _read(folder, ("draws.csv", "distribution.csv", "worst_partners.csv"),
                  ("sample.json",))
    dist = study.tables.get("distribution.csv", pd.DataFrame())
    draws = study.tables.get("draws.csv", pd.DataFrame())
    worst = study.tables.get("worst_partners.csv", pd.DataFrame())
    total = dist[dist["scope"] == "total"] if "scope" in dist else pd.DataFrame()
    words = f"{len(draws)} random disruptions, each partner lost with its disruption_risk."
    if len(total):
        t = total.iloc[0]
        words += (f" Unmet demand: mean {readable(t['mean'], 6)} ({percent(t['mean_share'])}"
                  f" of demand), P95 {readable(t['p95'], 6)}, CVaR 95% "
                  f"{readable(t['cvar95'], 6)} ({percent(t['cvar95_share'])}).")
    if len(worst):
        names = ", ".join(f"{r['partner']} ({percent(r['lost_in_worst'], 0)})"
                          for r in worst.head(5).to_dict("records"))
        words += f" Lost most often in the worst 5% of draws: {names}."
    chart = ""
    if "unmet" in draws and len(draws):
        fig, ax = _chart(7.0, 3.2)
        values = draws["unmet"].astype(float).to_numpy()
        ax.hist(values, bins=min(40, max(5, len(values) // 10)), color="#2f6db3")
        ax.set_xlabel(with_unit("unmet demand in a draw, all layers", study.unit), fontsize=9)
        ax.set_ylabel("draws", fontsize=9)
        chart = svg_text(fig, "histogram of unmet demand")
    body = f'<p class="verdict">{e(words)}</p>' + chart
    if len(dist):
        body += html_table(dist, KINDS, {**HEADERS, **{c: with_unit(HEADERS.get(c, c), study.unit)
                                                     for c in ("mean", "p95", "cvar95")}},
                           table_id="distribution-table")
    if len(worst):
        body += html_table(worst, KINDS, HEADERS, table_id="worst-partners-table")
    return [section("monte-carlo", "Random disruptions", body)]


def scenarios_sections(folder: Path) -> list[str]:
    """Named shocks (``stress --scenarios``: scenarios.csv): what each leaves unmet."""
    table = _read(folder, ("scenarios.csv",)).tables["scenarios.csv"]
    if table.empty:
        return [section("scenarios", "Named shocks", "<p>scenarios.csv has no scenario.</p>")]
    worst = table.sort_values("unmet", ascending=False).iloc[0]
    words = (f"{len(table)} scenario{'s' if len(table) != 1 else ''}; the worst, "
             f"{worst['scenario']}, leaves "
             f"{readable(worst['unmet'], 6)} ({percent(worst.get('unmet_share'))}) of demand "
             "unmet after re-routing.")
    fig, ax = _chart(7.0, 0.6 + 0.3 * len(table))
    ax.barh(table["scenario"].astype(str), 100 * table["unmet_share"].astype(float),
            color="#b5534f")
    ax.set_xlabel("unmet demand (% of all demand)", fontsize=9)
    return [section("scenarios", "Named shocks", f'<p class="verdict">{e(words)}</p>'
                    + svg_text(fig, "unmet demand per scenario")
                    + html_table(table, KINDS, HEADERS, table_id="scenarios-table"))]


def frontier_sections(folder: Path) -> list[str]:
    """The cost of one requirement (frontier.csv, frontier_search.csv)."""
    study = _read(folder, ("frontier.csv", "frontier_search.csv"), ("frontier.json",))
    curve, unit = study.tables["frontier.csv"], study.unit
    keys = _varied(curve)
    key = keys[0] if keys else curve.columns[1]
    solved = _solved(curve)
    words = f"{key}: {len(solved)} of {len(curve)} points with a plan."
    if len(solved) > 1:
        loose, tight = solved.iloc[0], solved.iloc[-1]
        rise = float(tight["objective"]) - float(loose["objective"])
        pct = 100 * rise / float(loose["objective"]) if float(loose["objective"]) else 0.0
        words = (f"The tightest feasible {key} is {readable(tight[key], 6)}; tightening it "
                 f"from {readable(loose[key], 6)} raises the total cost from "
                 f"{readable(loose['objective'], 6)} to {readable(tight['objective'], 6)} "
                 f"({pct:+.1f}%)" + (f", in {unit}" if unit else "") + ".")
    fig, ax = _chart(7.0, 3.4)
    ax.plot(pd.to_numeric(solved[key]), solved["objective"].astype(float), marker="o",
            color="#14263d")
    ax.set_xlabel(key, fontsize=9)
    ax.set_ylabel(with_unit("total cost", unit), fontsize=9)
    body = (f'<p class="verdict">{e(words)}</p>' + svg_text(fig, e(f"cost against {key}"))
            + html_table(curve[[c for c in ("point", key, "status", "objective", "gap",
                                           "verified") if c in curve]], KINDS,
                         {**HEADERS, "objective": with_unit("total cost", unit)},
                         table_id="frontier-table"))
    search = study.tables.get("frontier_search.csv")
    if search is not None and len(search):
        body += ("<p>How the tightest value was found (each probe's status, and why a value "
                 "has no plan):</p>" + html_table(search, KINDS, HEADERS,
                                                 table_id="frontier-search-table"))
    return [section("frontier", "Trade-off curve", body)]


def game_sections(folder: Path) -> list[str]:
    """The coalition game (players.csv, groups.csv, summary.json): a split and its verdict."""
    study = _read(folder, ("players.csv", "groups.csv"), ("summary.json",))
    players = study.tables["players.csv"]
    s = study.meta.get("summary.json", {})
    unit = study.unit
    words = []
    if isinstance(s.get("gain"), int | float):
        words.append(f"Together the players pay {readable(s.get('grand_cost'), 6)} instead of "
                     f"{readable(s.get('standalone_total'), 6)} alone: cooperation saves "
                     f"{readable(s['gain'], 6)}"
                     + (f" ({percent(s['gain_share'])})" if s.get("gain_share") is not None
                        else "") + (f", in {unit}" if unit else "") + ".")
    blocking = s.get("most_blocking")
    for split, info in (blocking if isinstance(blocking, dict) else {}).items():
        if not isinstance(info, dict) or not isinstance(info.get("excess"), int | float):
            continue
        if info["excess"] > 1e-6 * max(abs(float(s.get("grand_cost") or 1.0)), 1.0):
            words.append(f"Under the {split} split, {info.get('group')} would pay "
                         f"{readable(info['excess'], 4)} less on its own.")
        else:
            words.append(f"Under the {split} split no group found pays less on its own.")
    evaluated, total = s.get("groups_evaluated"), s.get("groups_total")
    if evaluated is not None and total is not None and evaluated != total:
        words.append(f"Only {evaluated} of {total} groups were evaluated: what holds for the "
                     "others is not established.")
    splits = [c for c in ("proportional", "shapley", "nucleolus")
              if f"saving_{c}" in players and players[f"saving_{c}"].notna().any()]
    fig, ax = _chart(7.0, 3.4)
    at = np.arange(len(players))
    width = 0.8 / max(len(splits), 1)
    for i, name in enumerate(splits):
        ax.bar(at + i * width, players[f"saving_{name}"].astype(float), width, label=name)
    ax.set_xticks(at + width * (len(splits) - 1) / 2, players["player"].astype(str),
                  fontsize=8)
    ax.set_ylabel(with_unit("saving against standing alone", unit), fontsize=9)
    ax.grid(axis="y", color="#e3e7ec", linewidth=0.8)
    if splits:
        ax.legend(fontsize=8, frameon=False)
    body = (f'<p class="verdict">{e(" ".join(words))}</p>'
            + svg_text(fig, "saving per player under each split")
            + html_table(players, KINDS, HEADERS, table_id="players-table"))
    groups = study.tables.get("groups.csv")
    if groups is not None and len(groups):
        body += "<p>The cost of each group on its own, c(S):</p>" + html_table(
            groups, KINDS, HEADERS, table_id="groups-table", limit=200)
    return [section("game", "The coalition game", body)]


def alternatives_sections(folder: Path) -> list[str]:
    """Near-optimal plans (alternatives.csv, alternatives.json, optimum/summary.json)."""
    study = _read(folder, ("alternatives.csv",), ("alternatives.json",))
    if (folder / "optimum" / "summary.json").is_file():
        study.meta["optimum"] = read_json(folder / "optimum" / "summary.json")
    table = study.tables["alternatives.csv"]
    plans = table[table["plan"].astype(str) != "optimum"]
    key = study.meta.get("alternatives.json", {}).get("key")
    if plans.empty:
        words = "No plan other than the optimum was found."
    elif key and "value" in table:
        best = plans.iloc[-1]
        words = (f"{key} goes from {readable(table['value'].iloc[0], 4)} in the optimum to "
                 f"{readable(best['value'], 4)} for {float(best['increase_pct']):+.2f}% of "
                 "cost.")
    else:
        slack = readable(100 * plans["slack"].astype(float).max(), 4)
        changed = plans["hosts_changed"].astype(int)
        words = (f"{len(plans)} plans within {slack}% of the least cost each host "
                 f"{changed.min()} to {changed.max()} partner-layer pairs differently.")
    fig, ax = _chart(7.0, 0.6 + 0.32 * len(table))
    shown = table.iloc[::-1]
    ax.barh(shown["plan"].astype(str), shown["increase_pct"].astype(float), color="#2f6db3")
    ax.set_xlabel("cost above the optimum (%)", fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    columns = [c for c in ("plan", "search", "slack", "value", "cost", "increase_pct",
                           "verified", "hosts_changed", "shifts") if c in table]
    return [section("alternatives", "Near-optimal alternatives",
                    f'<p class="verdict">{e(words)}</p>'
                    + svg_text(fig, "cost of each plan above the optimum")
                    + html_table(table[columns], KINDS, HEADERS, table_id="alternatives-table")
                    + '<p class="note">Each plan is a run folder beside this page: '
                      "<code>coalition report</code> on it draws its own page.</p>")]


#: Readable headers of the sensitivity study's indices (README, Global sensitivity).
INDEX_HEADERS = {"mu": "mu", "mu_star": "mu*", "sigma": "sigma", "mu_star_conf": "mu* conf.",
                 "S1": "S1 (first order)", "S1_conf": "S1 conf.", "ST": "ST (total)",
                 "ST_conf": "ST conf."}


def _output_name(output: str) -> str:
    """``objective`` is the total cost, ``cost_trade`` the trade cost; a metric as named."""
    if output == "objective":
        return "the total cost"
    return f"the {output[len('cost_'):]} cost" if output.startswith("cost_") else output


def sensitivity_sections(folder: Path) -> list[str]:
    """Which assumptions move the answer (indices.csv, sensitivity.json).

    Per output, the parameter that moves it most; mu* (Morris, in the output's unit) or ST
    (Sobol, a fraction of its variance) as bars with their 95% intervals; the table gives
    each output's unit as sensitivity.json records it.
    """
    study = _read(folder, ("indices.csv",), ("sensitivity.json",))
    table = study.tables["indices.csv"]
    info = study.meta.get("sensitivity.json", {})
    method = str(info.get("method") or ("sobol" if "ST" in table else "morris"))
    rank = "ST" if method == "sobol" else "mu_star"
    if table.empty or rank not in table:
        return [section("sensitivity", "Global sensitivity",
                        "<p>indices.csv has no index.</p>")]
    recorded = info.get("units")
    units: dict[str, Any] = recorded if isinstance(recorded, dict) else {}

    def unit_of(output: str) -> str | None:
        # Sobol's indices are fractions of the output's variance, whatever its unit.
        found = units.get(output) if method == "morris" else None
        return str(found) if found else None

    outputs = list(dict.fromkeys(table["output"].astype(str)))
    words = [f"{method.capitalize()} indices of {len(outputs)} output"
             f"{'s' if len(outputs) != 1 else ''} over "
             f"{table['parameter'].nunique()} parameters, ranked by {INDEX_HEADERS[rank]}"
             + (" (in each output's unit)." if method == "morris" else
                " (a fraction of each output's variance).")]
    for output in outputs:
        rows = table[table["output"].astype(str) == output]
        values = pd.to_numeric(rows[rank], errors="coerce").fillna(0.0)
        if not len(rows) or float(values.abs().max()) == 0.0:
            words.append(f"No parameter moves {_output_name(output)}.")
            continue
        top = rows.iloc[int(values.to_numpy().argmax())]
        amount = readable(top[rank], 4) + (f" {unit_of(output)}" if unit_of(output) else "")
        conf = f"{rank}_conf"
        within = f" +/- {readable(top[conf], 2)}" if conf in rows else ""
        words.append(f"{top['parameter']} moves {_output_name(output)} most "
                     f"({INDEX_HEADERS[rank]} {amount}{within}).")
    chart_output = "objective" if "objective" in outputs else outputs[0]
    bars = table[table["output"].astype(str) == chart_output].copy()
    bars[rank] = pd.to_numeric(bars[rank], errors="coerce").fillna(0.0)
    bars = bars.sort_values(rank, kind="stable")
    errors = pd.to_numeric(bars[f"{rank}_conf"], errors="coerce").fillna(0.0) \
        if f"{rank}_conf" in bars else None
    fig, ax = _chart(7.0, 0.6 + 0.3 * len(bars))
    ax.barh(bars["parameter"].astype(str), bars[rank], color="#2f6db3", xerr=errors,
            ecolor="#888888", capsize=2)
    ax.set_xlabel(with_unit(f"{INDEX_HEADERS[rank]} of {_output_name(chart_output)}, "
                            "95% interval", unit_of(chart_output)), fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    shown = table.copy()
    if method == "morris":
        shown.insert(2, "unit", [unit_of(o) or "" for o in shown["output"].astype(str)])
    shown["output"] = [_output_name(o).removeprefix("the ") for o in shown["output"].astype(str)]
    return [section("sensitivity", "Global sensitivity",
                    f'<p class="verdict">{e(" ".join(words))}</p>'
                    + svg_text(fig, e(f"{INDEX_HEADERS[rank]} per parameter, "
                                      f"{_output_name(chart_output)}"))
                    + html_table(shown, KINDS, {**HEADERS, **INDEX_HEADERS},
                                 table_id="indices-table"))]


#: Each study: the file that marks its folder, its title and its sections, in page order.
STUDIES: list[tuple[str, str, Callable[[Path], list[str]]]] = [
    ("sweep.csv", "sweep", sweep_sections),
    ("frontier.csv", "trade-off curve", frontier_sections),
    ("stress.csv", "stress test", stress_sections),
    ("scenarios.csv", "named shocks", scenarios_sections),
    ("distribution.csv", "random disruptions", monte_carlo_sections),
    ("players.csv", "coalition game", game_sections),
    ("alternatives.csv", "near-optimal alternatives", alternatives_sections),
    ("indices.csv", "global sensitivity", sensitivity_sections),
]


def study_kinds(folder: Path) -> list[str]:
    """The studies whose files ``folder`` holds (by their marking file), in page order."""
    return [marker for marker, _, _ in STUDIES if (folder / marker).is_file()]


def render_study_page(folder: Path) -> str:
    """The page of a study folder as HTML text; UsageError if it holds no study."""
    from solver.report.page import page

    found = [(title, sections) for marker, title, sections in STUDIES
             if (folder / marker).is_file()]
    if not found:
        raise UsageError(f"{folder}: not a folder coalition writes (no summary.json, "
                         + ", ".join(m for m, _, _ in STUDIES) + ")")
    body = [part for _, sections in found for part in sections(folder)]
    version = ""
    for name in ("sweep.json", "summary.json", "optimum/summary.json"):
        if (folder / name).is_file():
            version = str(read_json(folder / name).get("version", "") or "")
    title = f"{folder.name}: " + " and ".join(t for t, _ in found)
    subtitle = ("The study's verdict, its chart and its table, from the files in "
                f"{folder.name}/ (the CSV files hold every number).")
    return page(e(title), "\n".join(body), e(version), e(subtitle))
