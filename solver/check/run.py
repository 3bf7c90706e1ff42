"""The independent solution checker: re-verify a written plan against its case.

The checker recomputes every constraint family of README, The model, and every term of the
objective, from the case tables and the solution tables of README, A worked example alone
(``allocation.csv``, ``flows.csv``, ``summary.json``), and recomputes the report tables
(``layers.csv``, ``partners.csv``) from them. It never imports the model code or
Pyomo, so a bug in the formulation cannot hide itself.

Tolerance
---------
Two quantities ``a`` and ``b`` are compared with an absolute tolerance of ``1e-6`` plus a
relative tolerance of ``1e-6`` of the larger magnitude::

    allowed = 1e-6 + 1e-6 * max(|a|, |b|)

``a <= b`` holds when ``a - b <= allowed``; ``a == b`` holds when ``|a - b| <= allowed``.
For a sum the magnitude is that of the sum and of the bound it is compared with (every flow,
capacity and supplied quantity is non-negative, so this is also the sum of magnitudes). The
same rule applies to the objective and its terms, compared with ``summary.json``. It is
:data:`TOLERANCE`; :func:`check_solution` takes another :class:`Tolerance` if asked.

What is checked
---------------
* ``table``: the written tables are well formed: required columns, finite numbers, no
  negative flow, ids that exist, one allocation row per capability pair, no duplicate keys,
  the cost columns agree with the case (``unit_cost``, ``fixed_cost``, ``cost``, ``share``,
  a flow's trade ``unit_cost``), and ``summary.json`` carries a status, an objective and its
  cost terms.
* ``route``: a flow comes from a partner of S(l) (a capability pair whose partner is trusted
  enough for the layer), goes to a consumer with a demand row for the layer, and uses a route
  that ``trade.csv`` does not forbid (domestic supply is always allowed).
* ``supplied``: ``allocation.supplied`` equals the sum of the partner's flows of the layer.
* ``hosting``: ``hosted`` is 0/1, ``min_capacity*y <= k <= capacity*y``, and a partner
  outside S(l) does not host the layer.
* the families of README, The model (``demand``, ``capacity``, ``supplier_share``,
  ``diversification``, ``concentration``, ``resilience``, ``surplus``, ``dependency``,
  ``domestic``, ``participation``, ``budget``), with ``q`` read from
  ``allocation.supplied`` and ``y``, ``k`` from ``allocation.hosted`` and ``capacity``.
  ``hosted`` counts as 1 from 0.5 up (after a value other than 0/1 is reported). Lower
  bounds (supplier_share, diversification, resilience) count only partners of S(l), whose
  hosting outside S(l) is a ``hosting`` violation; upper bounds (surplus) count all built
  capacity. Resilience is reported once per layer, for the loss of its largest host.
* ``shortage``: with ``objective.shortage_cost`` set, the unmet demand ``z`` of each demand
  row is read from ``shortage.csv`` (:mod:`solver.check.shortage`); ``demand`` then checks
  ``sum_p f + z = d``, the objective's ``shortage`` term is ``shortage_cost * sum z`` and the
  surplus priced by redundancy is the positive part of built minus demand.
* ``report``: ``layers.csv`` and ``partners.csv`` (HHI, N-1 coverage, participation, ...)
  agree with the same metrics recomputed from the case and the checked plan
  (:mod:`solver.check.reports`).
* ``status``: a status that means there is no plan (``infeasible``, ``no_solution``, ...)
  with tables that hold one (anything hosted, built, supplied or shipped) is a ``table``
  violation of ``summary.json``; a status the tool does not write is one too.
* ``objective``: when the run has a solution (status ``optimal`` or ``time_limit``), each
  cost term and the objective recomputed from the case's costs agree with ``summary.json``,
  and the reported bound is not above the objective.

The constraints are checked whatever the status; only the objective needs a solution. A
comparison that NaN makes undecidable fails (:class:`Tolerance` tests that it holds).
A violation's ``entity`` is ``LAYER`` (diversification, resilience, surplus),
``PARTNER,LAYER`` (a capability pair), ``MEMBER,LAYER`` (a demand row),
``EXPORTER->IMPORTER,LAYER`` (a flow), ``PARTNER`` (participation), ``budget``,
``objective``/``costs.TERM``/``bound``, or a file name.

Everything is vectorised with pandas/numpy over flows and pairs; only the violations found
are turned into Python objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.case.loader import Case
from solver.case.periods import uses_pathway
from solver.check.case_data import (
    CaseData,
)
from solver.check.common import (
    SOLVED,
    TOLERANCE,
    Tolerance,
    Violation,
)
from solver.check.costs import (
    check_budget,
    check_objective,
    check_status,
    cost_terms,
    finite_number,
)
from solver.check.families import (
    check_capacity,
    check_concentration,
    check_demand,
    check_dependency,
    check_diversification,
    check_domestic,
    check_hosting,
    check_participation,
    check_resilience,
    check_routes,
    check_supplied,
    check_supplier_share,
    check_surplus,
)
from solver.check.inputs import (
    check_input_balance,
    delivered,
    read_input_flows,
    shipments,
)
from solver.check.plan import (
    read_allocation,
    read_flows,
)
from solver.errors import UsageError
from solver.report.readback import read_csv

__all__ = ["TOLERANCE", "Tolerance", "Violation", "check_run", "check_solution", "provenance_note"]


def check_solution(case: Case, allocation: pd.DataFrame, flows: pd.DataFrame,
                   summary: Mapping[str, Any], *, layers: pd.DataFrame | None = None,
                   partners: pd.DataFrame | None = None,
                   shortage: pd.DataFrame | None = None,
                   scenario_flows: pd.DataFrame | None = None,
                   scenarios: pd.DataFrame | None = None,
                   tolerance: Tolerance = TOLERANCE,
                   data: CaseData | None = None,
                   input_flows: pd.DataFrame | None = None,
                   scenario_table: bool = True,
                   markets: pd.DataFrame | None = None) -> list[Violation]:
    """Every violation of the case's requirements by a written solution (empty: verified).

    ``allocation`` and ``flows`` are the run tables (README, A worked example) as written or read
    back from CSV, ``summary`` the content of ``summary.json``; ``layers`` and ``partners``, if
    given, are checked against the metrics recomputed from the plan. The objective
    comparison is made only when the status says the run has a solution (``optimal`` or
    ``time_limit``). With ``objective.shortage_cost`` set, ``shortage`` is the unmet demand
    (``shortage.csv``, :mod:`solver.check.shortage`); None means none is unmet. A two-stage
    design also gives ``scenario_flows`` and ``scenarios`` (:mod:`solver.check.design`).
    ``data`` is ``CaseData.of(case)`` if the caller has it already (a coalition game checks
    many groups of one case: :meth:`CaseData.with_numbers`). ``scenario_table=False`` is for
    a plan that claims no scenario outcomes (a group of the game, checked in memory): a run
    folder of a case with scenarios holds scenarios.csv, and every claim of it is checked.
    With markets.csv, ``flows`` holds the market flows too (the market as importer) and
    ``markets`` is the run's markets.csv (:mod:`solver.check.markets`).
    """
    from solver.check.claims import check_alternative, check_gap
    from solver.check.design import check_design, designs, planned_flows
    from solver.check.reports import check_layers, check_partners
    from solver.check.rerouting import recheck_scenarios
    from solver.check.scenario_claims import check_scenario_table
    from solver.check.shortage import read_unmet

    out: list[Violation] = []
    case = as_solved(case, summary, out)
    data = CaseData.of(case) if data is None else data
    market = None
    if case.has_markets:
        from solver.check.markets import check_markets, split_flows

        flows, market_flows = split_flows(case, flows)
        market = check_markets(case, data, market_flows, markets, out, tolerance)
        data = data.with_market_supply(market.supply)
    pairs = read_allocation(data, allocation, out, tolerance)
    fl = read_flows(data, flows, out, tolerance)
    if pairs is None or fl is None:
        return out
    check_routes(data, fl, out)
    chain = read_input_flows(data, input_flows, out, tolerance) if data.inputs is not None \
        else None
    extra = None if chain is None else delivered(data, chain)
    if market is not None:
        extra = market.delivered if extra is None else extra + market.delivered
    check_supplied(pairs, fl, out, tolerance, extra)
    if chain is not None:
        check_input_balance(data, pairs.frame, chain, out, tolerance)
    soft = case.objective.shortage_cost is not None
    unmet = read_unmet(data, shortage, out, tolerance) if soft else None
    check_demand(data, fl, out, tolerance, unmet)
    check_capacity(pairs, out, tolerance)
    check_hosting(pairs, out, tolerance)
    check_supplier_share(data, pairs, out, tolerance)
    check_diversification(data, pairs, out)
    check_concentration(data, pairs, out, tolerance)
    check_resilience(data, pairs, out, tolerance)
    check_surplus(data, pairs, out, tolerance)
    check_dependency(data, fl, out, tolerance)
    check_domestic(data, fl, out, tolerance)
    check_participation(data, pairs, out, tolerance)
    costs = cost_terms(case, data, pairs, fl, unmet)
    if chain is not None:
        costs["trade"] += float(chain.trade_cost @ chain.qty)
    if market is not None:
        costs["trade"] += float(market.trade_cost @ market.qty)
        costs.update(market.costs)
    recomputed: dict[str, dict[str, Any]] = {}
    if designs(case):
        costs["recourse"] = check_design(case, data, pairs.frame, costs, scenario_flows,
                                         planned_flows(flows), recomputed, out, tolerance)
    if summary.get("status") in SOLVED and scenarios is not None and (
            not designs(case) or data.inputs is not None):
        recheck_scenarios(case, data, pairs.frame, scenarios, recomputed, out, tolerance,
                          None if market is None else market.supplied)
    if summary.get("status") in SOLVED and (scenario_table or scenarios is not None):
        check_scenario_table(case, data, scenarios, recomputed, out, tolerance)
    check_budget(case, costs, out, tolerance)
    check_status(summary, pairs, fl, out)
    if summary.get("unit", case.unit) != case.unit:
        out.append(Violation("table", "summary.json", 1.0,
                             f"summary.json: unit {summary.get('unit')!r}, the model file's is "
                             f"{case.unit!r}"))
    check_objective(summary, costs, out, tolerance)
    objective = finite_number(summary.get("objective"))
    if summary.get("status") in SOLVED and objective is not None:
        # A gap off only because the objective is (already a violation) is not repeated.
        wrong = any(v.entity in ("objective", "bound") for v in out)
        check_gap(summary, objective, None if wrong else finite_number(summary.get("bound")),
                  out, tolerance, required=not wrong and summary.get("bound") is not None)
        if summary.get("alternative") is not None:
            check_alternative(summary, objective, pairs.frame, out, tolerance)
    if layers is not None:
        check_layers(data, pairs, layers, out, tolerance, unmet)
    if partners is not None:
        shipped: Any = fl if chain is None else shipments(data, fl, chain)
        if market is not None:
            from solver.check.inputs import Shipments

            shipped = Shipments(
                exporter=pd.concat([shipped.exporter.astype(str), market.exporter],
                                   ignore_index=True),
                qty=np.concatenate([shipped.qty, market.qty]),
                trade_cost=np.concatenate([shipped.trade_cost, market.trade_cost]))
        check_partners(data, pairs, shipped, partners, out, tolerance)
    return out


def read_table(path: Path, out: list[Violation]) -> pd.DataFrame | None:
    """A run folder's CSV table with every cell as text; a ``table`` violation if unreadable."""
    name = path.name
    if not path.is_file():
        out.append(Violation("table", name, 1.0, f"{name}: missing from the run folder"))
        return None
    try:
        frame = read_csv(path, text=True, label=name)
        if len(frame.columns) == 0:
            out.append(Violation("table", name, 1.0, f"{name}: empty (not even a header row)"))
            return None
        return frame
    except UsageError as exc:
        out.append(Violation("table", name, 1.0, str(exc)))
    except OSError as exc:
        out.append(Violation("table", name, 1.0, f"{name}: cannot be read: "
                                                 f"{exc.strerror or exc}"))
    return None


def read_summary(path: Path, out: list[Violation]) -> Mapping[str, Any] | None:
    """``summary.json`` as a mapping; a ``table`` violation if missing or malformed."""
    name = path.name
    if not path.is_file():
        out.append(Violation("table", name, 1.0, f"{name}: missing from the run folder"))
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        out.append(Violation("table", name, 1.0, f"{name}: not valid JSON: {exc}"))
        return None
    if not isinstance(content, dict):
        out.append(Violation("table", name, 1.0, f"{name}: not a JSON object"))
        return None
    return content


def check_run(case: Case, run_dir: Path, *, tolerance: Tolerance = TOLERANCE) -> list[Violation]:
    """Check a written run folder (the five files of README, A worked example) against ``case``.

    A missing, unreadable or malformed file is a ``table`` violation, never an exception.
    """
    run_dir = Path(run_dir)
    out: list[Violation] = []
    if not run_dir.is_dir():
        return [Violation("table", str(run_dir.name), 1.0,
                          f"{run_dir.name}: no such run folder")]
    allocation = read_table(run_dir / "allocation.csv", out)
    flows = read_table(run_dir / "flows.csv", out)
    summary = read_summary(run_dir / "summary.json", out)
    layers = read_table(run_dir / "layers.csv", out)
    partners = read_table(run_dir / "partners.csv", out)
    shortage = None
    if case.objective.shortage_cost is not None:
        shortage = read_table(run_dir / "shortage.csv", out)
    if summary is not None:
        case = as_solved(case, summary, [])  # check_solution names a bad design
    scenario_flows = scenarios = None
    if case.scenarios is not None and not case.scenarios.empty and summary is not None \
            and summary.get("status") in SOLVED:
        scenarios = read_table(run_dir / "scenarios.csv", out)
        if case.scenario_options.design != "none":
            scenario_flows = read_table(run_dir / "scenario_flows.csv", out)
    input_flows = None
    if case.inputs is not None and (case.inputs["per_unit"] > 0).any():
        input_flows = read_table(run_dir / "input_flows.csv", out)
    markets = read_table(run_dir / "markets.csv", out) if case.has_markets else None
    if allocation is None or flows is None or summary is None:
        return out
    if uses_pathway(case):
        from solver.check.pathway import check_pathway

        builds = read_table(run_dir / "builds.csv", out)
        tables = {"allocation": allocation, "flows": flows, "layers": layers,
                  "partners": partners, "shortage": shortage, "input_flows": input_flows,
                  "markets": markets, "scenarios": scenarios}
        return out + check_pathway(case, tables, builds, summary, check_solution, tolerance)
    return out + check_solution(case, allocation, flows, summary, layers=layers,
                                partners=partners, shortage=shortage,
                                scenario_flows=scenario_flows, scenarios=scenarios,
                                tolerance=tolerance, input_flows=input_flows, markets=markets)


def as_solved(case: Case, summary: Mapping[str, Any], out: list[Violation]) -> Case:
    """``case`` with the options the run records it was solved with (its ``design``).

    A plan solved with ``solve --design expected`` is checked as the two-stage design it is,
    against the same model file; a recorded design that is not one is a ``table`` violation.
    """
    from dataclasses import replace

    from pydantic import ValidationError

    from solver.case.options import ScenarioOptions

    design = summary.get("design")
    if design is None:
        return case
    if not isinstance(design, Mapping):
        out.append(Violation("table", "summary.json", 1.0, f"summary.json: design {design!r} "
                                                           "is not a design"))
        return case
    try:
        options = ScenarioOptions.model_validate(
            {**design, "file": case.scenario_options.file})
    except (ValidationError, TypeError) as exc:
        out.append(Violation("table", "summary.json", 1.0, f"summary.json: design {design!r} "
                                                           f"is not a design: {exc}"))
        return case
    return replace(case, scenario_options=options)


def provenance_note(case: Case, run_dir: Path) -> str | None:
    """A note if the run folder was solved from other inputs than ``case`` (else None).

    ``summary.json`` records the case's fingerprint and overrides; a run checked against
    other inputs (most often: without the run's ``--set``) shows violations that are not
    the plan's fault.
    """
    try:
        summary = json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(summary, dict):
        return None
    case = as_solved(case, summary, [])  # the fingerprint covers the design solved
    if summary.get("case_sha256") in (None, case.sha256):
        return None
    ran = summary.get("overrides") or []
    given = list(case.overrides)
    if isinstance(ran, list) and ran != given:
        return (f"note: the run was solved with overrides {', '.join(map(str, ran)) or '(none)'}"
                f"; checking with {', '.join(given) or '(none)'}: pass the run's --set to "
                "check it against what was solved")
    return ("note: the run was solved from case files that differ from these (its "
            "case_sha256 differs)")
