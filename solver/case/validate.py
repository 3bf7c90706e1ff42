"""Checks across the tables of a case: ids that name nothing, contradictions.

Each check is a function of the case that returns problems; :func:`cross_checks` runs all
of them. Checks of one column alone live with the row models (:mod:`solver.case.tables`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping
from typing import Protocol

import numpy as np
import pandas as pd

from solver.case.chain import input_matrix, unproductive_cycle
from solver.case.schema import COALITION, SOURCES, TABLES
from solver.case.tables import MAX_PROBLEMS_PER_FAULT, cut
from solver.errors import Problem
from solver.group_sums import sum_by


class Case(Protocol):
    """What the cross-table checks read of a case (:class:`solver.case.loader.Case`)."""

    @property
    def partners(self) -> pd.DataFrame: ...  # noqa: D102
    @property
    def layers(self) -> pd.DataFrame: ...  # noqa: D102
    @property
    def capabilities(self) -> pd.DataFrame: ...  # noqa: D102
    @property
    def trade(self) -> pd.DataFrame: ...  # noqa: D102
    @property
    def demand_table(self) -> pd.DataFrame | None: ...  # noqa: D102
    def table(self, name: str) -> pd.DataFrame | None: ...  # noqa: D102


Lines = Mapping[str, pd.Series]


def _problems(
    case: Case, lines: Lines | None, table: str, mask: np.ndarray | pd.Series, column: str,
    message: Callable[[pd.Series], str],
) -> list[Problem]:
    frame = case.table(table)
    assert frame is not None
    mask = np.asarray(mask, dtype=bool)
    out = []
    fname = TABLES[table].filename
    line_series = lines.get(table) if lines is not None else None
    bad = np.flatnonzero(mask)
    for i in bad[:MAX_PROBLEMS_PER_FAULT]:
        row = frame.iloc[i]
        line = int(line_series.iloc[i]) if line_series is not None else None
        out.append(Problem(fname, message(row), line=line, column=column,
                           value=cut(_text(row[column]))))
    if len(bad) > MAX_PROBLEMS_PER_FAULT:
        example = out[-1].message
        out.append(Problem(fname, f"... and {len(bad) - MAX_PROBLEMS_PER_FAULT} more lines "
                                  f"with the same problem: {example}", column=column))
    return out


def _text(value: object) -> str:
    """A cell's value as the planner wrote it: ``90``, not ``90.0``."""
    if isinstance(value, float | np.floating):
        return f"{float(value):.15g}"
    return str(value)


def _const(text: str) -> Callable[[pd.Series], str]:
    return lambda _row: text


def check_ids(case: Case, lines: Lines | None) -> list[Problem]:
    """Every partner and layer id used by another table exists."""
    partners = set(case.partners["partner"])
    layers = set(case.layers["layer"])
    members = set(case.partners.loc[case.partners["member"].astype(bool), "partner"])
    out: list[Problem] = []
    refs = [
        ("capabilities", "partner", partners, "names no partner of partners.csv"),
        ("capabilities", "layer", layers, "names no layer of layers.csv"),
        ("trade", "exporter", partners, "names no partner of partners.csv"),
    ]
    if case.demand_table is not None:
        refs += [("demand", "layer", layers, "names no layer of layers.csv")]
        importers = partners
    else:
        importers = partners | {COALITION}
    importers = importers | market_ids(case)
    refs += [("trade", "importer", importers, "names no partner of partners.csv"
              + (" nor a market of markets.csv" if market_ids(case) else ""))]
    refs += [("inputs", "layer", layers, "names no layer of layers.csv"),
             ("inputs", "input", layers, "names no layer of layers.csv")]
    for table, column, known, text in refs:
        frame = case.table(table)
        if frame is None or frame.empty:
            continue
        mask = ~frame[column].isin(known).to_numpy()
        out += _problems(case, lines, table, mask, column, _const(text))
    if "layer" in case.trade and not case.trade.empty:
        named = blank_ids(case.trade["layer"])
        mask = ((named != "") & ~named.isin(layers)).to_numpy()
        out += _problems(case, lines, "trade", mask, "layer",
                         _const("names no layer of layers.csv"))
    if case.demand_table is not None:
        frame = case.demand_table
        unknown = ~frame["member"].isin(partners).to_numpy()
        out += _problems(case, lines, "demand", unknown, "member",
                         lambda r: "names no partner of partners.csv")
        nonmember = frame["member"].isin(partners).to_numpy() & ~frame["member"].isin(
            members).to_numpy()
        out += _problems(case, lines, "demand", nonmember, "member",
                         lambda r: "demand for a non-member: only partners with member = true "
                                   "may carry demand")
    return out


def check_capabilities(case: Case, lines: Lines | None) -> list[Problem]:
    """min_capacity <= capacity on every capability row."""
    cap = case.capabilities
    mask = (cap["min_capacity"] > cap["capacity"]).to_numpy()
    return _problems(case, lines, "capabilities", mask, "min_capacity",
                     lambda r: f"min_capacity is above capacity ({r['capacity']:g})")


def check_existing(case: Case, lines: Lines | None) -> list[Problem]:
    """The installed base fits: existing <= capacity on every row (README, Pathways)."""
    cap = case.capabilities
    mask = (cap["existing"] > cap["capacity"]).to_numpy()
    return _problems(case, lines, "capabilities", mask, "existing",
                     lambda r: f"existing is above capacity ({r['capacity']:g})")


def check_periods(case: Case, lines: Lines | None) -> list[Problem]:
    """periods.csv's years strictly increase; targets.csv names periods and parses as --set.

    Whether a target's key names something is judged when it is applied to its period
    (:func:`solver.case.periods.period_case`), as ``--set`` is.
    """
    from solver.case.overrides import OverrideError, parse_assignment

    periods, targets = case.table("periods"), case.table("targets")
    out: list[Problem] = []
    if periods is not None and not periods.empty:
        year = periods["year"].to_numpy()
        mask = np.zeros(len(year), dtype=bool)
        mask[1:] = year[1:] <= np.maximum.accumulate(year)[:-1]
        out += _problems(case, lines, "periods", mask, "year",
                         _const("years must strictly increase down the file"))
    if targets is None or targets.empty:
        return out
    known = set() if periods is None else set(periods["period"].astype(str))
    if periods is None or periods.empty:
        return out + _problems(case, lines, "targets", np.ones(len(targets), dtype=bool),
                               "period", _const("targets.csv needs periods.csv"))
    out += _problems(case, lines, "targets", ~targets["period"].astype(str).isin(known)
                     .to_numpy(), "period", _const("not a period of periods.csv"))
    bad: dict[int, str] = {}
    for i, text in enumerate(targets["set"].astype(str)):
        if not text.strip():
            continue  # the empty cell is named once, as a required value
        try:
            parse_assignment(text)
        except OverrideError as exc:
            bad[i] = str(exc)
    mask = np.zeros(len(targets), dtype=bool)
    mask[list(bad)] = True
    messages = iter(bad[i] for i in sorted(bad))
    return out + _problems(case, lines, "targets", mask, "set", lambda r: next(messages))


def check_trade(case: Case, lines: Lines | None) -> list[Problem]:
    """No route from a partner to itself (domestic supply is always allowed and free)."""
    trade = case.trade
    if trade.empty:
        return []
    mask = (trade["exporter"] == trade["importer"]).to_numpy()
    return _problems(case, lines, "trade", mask, "importer",
                     lambda r: "exporter = importer: supply to oneself is domestic, always "
                               "allowed at zero cost; remove this row")


def check_partners(case: Case, lines: Lines | None) -> list[Problem]:
    """min_participation <= max_participation for every partner; ``coalition`` is reserved.

    Without demand.csv the whole coalition is one consumer named ``coalition``; a partner
    of that name would be mistaken for it.
    """
    p = case.partners
    mask = (p["min_participation"] > p["max_participation"]).to_numpy()
    out = _problems(case, lines, "partners", mask, "min_participation",
                    lambda r: f"min_participation is above max_participation "
                              f"({r['max_participation']:g})")
    if case.demand_table is None:
        reserved = (p["partner"] == COALITION).to_numpy()
        out += _problems(case, lines, "partners", reserved, "partner",
                         lambda r: f"{COALITION!r} is reserved for the single consumer of a "
                                   "case without demand.csv; rename the partner")
    return out


def check_layer_demand(case: Case, lines: Lines | None) -> list[Problem]:
    """layers.demand agrees with demand.csv where both are given; some demand exists."""
    layers = case.layers
    if case.demand_table is None:
        if not (layers["demand"].fillna(0.0) > 0).any():
            return [Problem("layers.csv", "no demand: give layers.demand or a demand.csv",
                            column="demand")]
        return []
    if case.demand_table.empty:
        return [Problem("demand.csv", "no demand: the table has a header but no rows; give its "
                                      "rows, or remove it and give layers.demand")]
    table = case.demand_table
    given = layers["demand"].to_numpy(dtype=float)
    # Each layer's demand rows summed as groupby sums them (a study re-checks this per point).
    summed = sum_by(table["layer"], table["demand"].to_numpy(), layers["layer"].to_numpy())
    mask = ~np.isnan(given) & ~np.isclose(given, summed, rtol=1e-9, atol=1e-9)
    if not mask.any():
        return []
    totals = table.groupby("layer")["demand"].sum()
    return _problems(case, lines, "layers", mask, "demand",
                     lambda r: f"contradicts demand.csv, whose rows for this layer sum to "
                               f"{float(totals.get(r['layer'], 0.0)):g}; leave it empty or "
                               "make them agree")


def check_scenarios(case: Case, lines: Lines | None) -> list[Problem]:
    """scenarios.csv: ids that exist, partner rows xor route rows, one probability each.

    A row names a partner (and maybe one of its layers) that keeps ``capacity_factor`` of its
    built capacity, or a route (exporter and importer, maybe one layer) that closes. Every
    row of a scenario gives the same probability, and the probabilities sum to at most 1
    (the rest is "no disruption").
    """
    frame = case.table("scenarios")
    if frame is None or frame.empty:
        return []
    ids = {c: blank_ids(frame[c]) for c in ("partner", "layer", "exporter", "importer")}
    partners = set(case.partners["partner"])
    importers = partners if case.demand_table is not None else partners | {COALITION}
    has = {c: (v != "").to_numpy() for c, v in ids.items()}
    out: list[Problem] = []
    for column, known, text in (
            ("partner", partners, "names no partner of partners.csv"),
            ("layer", set(case.layers["layer"]), "names no layer of layers.csv"),
            ("exporter", partners, "names no partner of partners.csv"),
            ("importer", importers, "names no partner of partners.csv")):
        mask = has[column] & ~ids[column].isin(known).to_numpy()
        out += _problems(case, lines, "scenarios", mask, column, _const(text))
    route = has["exporter"] | has["importer"]
    out += _problems(case, lines, "scenarios", has["partner"] & route, "exporter", _const(
        "a row names a partner that loses capacity or a route that closes, not both: "
        "split it into two rows"))
    out += _problems(case, lines, "scenarios", ~has["partner"] & ~route, "partner", _const(
        "the row names neither a partner nor a route (exporter, importer): what is lost?"))
    out += _problems(case, lines, "scenarios", has["exporter"] & ~has["importer"], "importer",
                     _const("a closed route needs both exporter and importer"))
    out += _problems(case, lines, "scenarios", has["importer"] & ~has["exporter"], "exporter",
                     _const("a closed route needs both exporter and importer"))
    same = has["exporter"] & (ids["exporter"] == ids["importer"]).to_numpy()
    out += _problems(case, lines, "scenarios", same, "importer", _const(
        "exporter = importer: domestic supply is not a route; name the partner instead"))
    factor = frame["capacity_factor"].to_numpy(dtype=float)
    out += _problems(case, lines, "scenarios", route & ~has["partner"] & (factor > 0),
                     "capacity_factor", _const(
                         "a route row closes the route: capacity_factor is for partner rows; "
                         "leave it empty"))
    prob = frame["probability"].astype(float)
    first = prob.groupby(frame["scenario"]).transform("first")
    firsts = first.to_numpy(dtype=float)
    differs = ~np.isclose(prob.to_numpy(), firsts, rtol=1e-12, atol=0.0)
    head = dict(zip(frame["scenario"], firsts, strict=True))
    out += _problems(case, lines, "scenarios", differs, "probability", lambda r: (
        f"scenario {r['scenario']}: a different probability than on its first row "
        f"({head[r['scenario']]:g}); give one probability per scenario"))
    heads = ~frame["scenario"].duplicated().to_numpy()
    running = np.cumsum(np.where(heads, prob.to_numpy(), 0.0))
    over = heads & (running > 1.0 + 1e-9)
    if over.any():
        out += _problems(case, lines, "scenarios", over & (np.cumsum(over) == 1),
                         "probability", lambda r: (
                             f"the scenarios' probabilities sum to {running[-1]:g}, above 1 "
                             f"(from scenario {r['scenario']} on); the rest of 1 is \"no "
                             "disruption\""))
    return out


def check_inputs(case: Case, lines: Lines | None) -> list[Problem]:
    """inputs.csv: a source from the list, and coefficients that make a productive chain.

    The matrix ``A`` of per_unit must have spectral radius below 1, or no amount of production
    serves the final demand: the message names the layers of a cycle that needs more of
    itself than it makes (README, The stack as a chain).
    """
    frame = case.table("inputs")
    if frame is None or frame.empty:
        return []
    out = _problems(case, lines, "inputs", ~frame["source"].isin(SOURCES).to_numpy(), "source",
                    _const(f"not a source: one of {', '.join(SOURCES)}"))
    layer_ids = case.layers["layer"].astype(str).tolist()
    found = unproductive_cycle(input_matrix(layer_ids, frame))
    if found is None:
        return out
    cycle, radius = found
    names = [layer_ids[i] for i in cycle]
    links = set(itertools.pairwise(names))
    first = np.array([(str(la), str(inp)) in links for la, inp in
                      zip(frame["layer"], frame["input"], strict=True)])
    first &= np.cumsum(first) == 1
    if not first.any():
        first[0] = True
    text = (f"the input coefficients are not productive (spectral radius {radius:.4g} >= 1): "
            f"the cycle {' -> '.join(names)} needs more of these layers than it makes; lower "
            "a per_unit on it")
    return out + _problems(case, lines, "inputs", first, "per_unit", _const(text))


def market_ids(case: Case) -> set[str]:
    """The markets of markets.csv (empty without it)."""
    frame = case.table("markets")
    return set() if frame is None else set(frame["market"].astype(str))


def check_markets(case: Case, lines: Lines | None) -> list[Problem]:
    """markets.csv: a market is not a partner, its layer exists, min_share <= max_share.

    A market id that is also a partner id (or ``coalition``) would make a trade row's importer
    ambiguous (README, Markets outside the coalition).
    """
    frame = case.table("markets")
    if frame is None or frame.empty:
        return []
    partners = set(case.partners["partner"].astype(str)) | {COALITION}
    market = frame["market"].astype(str)
    out = _problems(case, lines, "markets", market.isin(partners).to_numpy(), "market",
                    lambda r: f"{r['market']!r} is a partner id; a market is a country or "
                              "region outside the coalition: give it another id")
    out += _problems(case, lines, "markets",
                     ~frame["layer"].astype(str).isin(set(case.layers["layer"])).to_numpy(),
                     "layer", _const("names no layer of layers.csv"))
    out += _problems(case, lines, "markets",
                     (frame["min_share"] > frame["max_share"]).to_numpy(), "min_share",
                     lambda r: f"min_share is above max_share ({r['max_share']:g})")
    return out


def blank_ids(column: pd.Series) -> pd.Series:
    """An optional id column as strings, ``""`` where empty (a cell or a column left out)."""
    return column.fillna("").astype(str)


CHECKS: list[Callable[[Case, Lines | None], list[Problem]]] = [
    check_ids,
    check_capabilities,
    check_existing,
    check_periods,
    check_trade,
    check_partners,
    check_layer_demand,
    check_scenarios,
    check_inputs,
    check_markets,
]

#: Every column of a table (its rows included), in :data:`READS`.
EVERY = frozenset({"*"})

#: The columns each cross-table check reads, by table. An override changes numbers of the
#: columns it writes (never a key column; a trade route it adds is a new row, every column):
#: after it, only the checks that read a written column can find something new
#: (:func:`cross_checks` with ``written``). Held to the checks by ``tests/test_validate_reads.py``.
READS: dict[Callable[[Case, Lines | None], list[Problem]], dict[str, frozenset[str]]] = {
    check_ids: {"partners": frozenset({"partner", "member"}), "layers": frozenset({"layer"}),
                "capabilities": frozenset({"partner", "layer"}),
                "trade": frozenset({"exporter", "importer", "layer"}),
                "demand": frozenset({"member", "layer"}),
                "inputs": frozenset({"layer", "input"}), "markets": frozenset({"market"})},
    check_capabilities: {"capabilities": frozenset({"min_capacity", "capacity"})},
    check_existing: {"capabilities": frozenset({"existing", "capacity"})},
    check_periods: {"periods": EVERY, "targets": EVERY},
    check_trade: {"trade": frozenset({"exporter", "importer"})},
    check_partners: {"partners": frozenset({"partner", "min_participation",
                                            "max_participation"})},
    check_layer_demand: {"layers": frozenset({"layer", "demand"}),
                         "demand": frozenset({"layer", "demand"})},
    check_scenarios: {"scenarios": EVERY, "partners": frozenset({"partner"}),
                      "layers": frozenset({"layer"})},
    check_inputs: {"inputs": EVERY, "layers": frozenset({"layer"})},
    check_markets: {"markets": EVERY, "partners": frozenset({"partner"}),
                    "layers": frozenset({"layer"})},
}


def reads_any(check: Callable[[Case, Lines | None], list[Problem]],
              written: Collection[tuple[str, str]]) -> bool:
    """Whether ``check`` reads any of the ``(table, column)`` pairs in ``written``.

    A column ``"*"`` in ``written`` stands for every column of its table (rows added).
    """
    reads = READS[check]
    return any(table in reads and (column == "*" or reads[table] is EVERY
                                   or column in reads[table])
               for table, column in written)


def cross_checks(case: Case, lines: Lines | None = None,
                 written: Collection[tuple[str, str]] | None = None) -> list[Problem]:
    """Run every cross-table check; ``lines`` maps a table to its rows' line numbers.

    With ``written`` (the ``(table, column)`` pairs overrides wrote in a case that was valid
    before them), only the checks that read one of them (:data:`READS`).
    """
    out: list[Problem] = []
    for check in CHECKS:
        if written is None or reads_any(check, written):
            out.extend(check(case, lines))
    return out
