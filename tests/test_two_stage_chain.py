"""A two-stage design over a chain against a formulation written apart (README, Shocks).

The formulation below is written from the text with highspy's modelling calls (no code of
``solver``): the first stage (capacities k, final flows f, input flows g, ``q = sum f + sum
g <= k``, balances ``sum_p g[p,r,l,m] = a[l,m] q[r,l]``, unmet demand at a price), and in each
scenario s the re-routing of README, Shocks cascade: final flows F and input flows H within
what survives of each pair's capacity and over the routes left open, balances ``sum_p
H[p,r,l,m] >= a[l,m] * (what (r, l) ships)``, claims ``sum H of link (l, m) = x[m] a[l,m]
D_l``, fills ``sum_{r of m} W[r] + x[m] d_m = d_m``. The objective is the capacity cost plus
the expected second-stage cost (trade of every flow plus the price of unmet demand).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case, solve
from solver.cli import main

try:
    from formulation import optimum
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.formulation import optimum
    from tests.tiny import write_case

PRICE = 20.0
CAPS = {("A", "chips"): 1.0, ("C", "chips"): 3.0, ("B", "cloud"): 1.0, ("C", "cloud"): 4.0,
        ("A", "power"): 1.0, ("C", "power"): 2.0}
DEMAND = {("A", "cloud"): 6.0, ("B", "cloud"): 4.0, ("B", "chips"): 2.0}
LINKS = {("cloud", "chips"): 0.5, ("chips", "power"): 0.2, ("cloud", "power"): 0.1,
         ("power", "power"): 0.05}
TRADE = {("A", "B"): 1.0, ("B", "A"): 1.0, ("C", "A"): 2.0, ("C", "B"): 2.0, ("A", "C"): 1.0,
         ("B", "C"): 1.0}
#: name -> (probability, {pair: capacity factor}, closed (exporter, importer, layer) routes)
SCENARIOS: dict[str, tuple[float, dict[tuple[str, str], float], set[tuple[str, str, str]]]] = {
    "fab_fire": (0.2, {("A", "chips"): 0.3}, set()),
    "strait": (0.1, {}, {("A", "B", "chips"), ("A", "C", "chips")}),
    "no_c_cloud": (0.1, {("C", "cloud"): 0.0}, set()),
}
LAYERS = ("chips", "cloud", "power")


def case_folder(tmp_path: Path) -> Path:
    """The case above as CSV files."""
    scen = ["scenario,probability,partner,layer,exporter,importer,capacity_factor"]
    for name, (p, factors, closed) in SCENARIOS.items():
        scen += [f"{name},{p},{q},{lay},,,{f}" for (q, lay), f in factors.items()]
        scen += [f"{name},{p},,{lay},{e},{i}," for e, i, lay in sorted(closed)]
    return write_case(
        tmp_path / "case",
        partners="partner,member,bloc\nA,true,x\nB,true,x\nC,false,y\n",
        layers="layer,min_supplier_share\n" + "".join(f"{x},0\n" for x in LAYERS),
        capabilities="partner,layer,capacity,unit_cost\n" + "".join(
            f"{p},{lay},100,{c}\n" for (p, lay), c in CAPS.items()),
        demand="member,layer,demand\n" + "".join(
            f"{n},{lay},{d}\n" for (n, lay), d in DEMAND.items()),
        inputs="layer,input,per_unit,source\n" + "".join(
            f"{lay},{m},{a},any\n" for (lay, m), a in LINKS.items()),
        trade="exporter,importer,unit_cost,allowed\n" + "".join(
            f"{e},{i},{c},true\n" for (e, i), c in TRADE.items()),
        scenarios="\n".join(scen) + "\n",
    )


def independent_optimum(cascade: bool = True) -> float:
    """The expected-cost design by the formulation of the text (``cascade=False``: the
    scenarios route no inputs, the old recourse)."""
    a = np.zeros((3, 3))
    for (lay, m), per in LINKS.items():
        a[LAYERS.index(lay), LAYERS.index(m)] = per
    d = np.array([sum(v for (_, x), v in DEMAND.items() if x == lay) for lay in LAYERS])
    big_d = dict(zip(LAYERS, np.linalg.solve(np.eye(3) - a.T, d).tolist(), strict=True))
    final = dict(zip(LAYERS, d.tolist(), strict=True))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    k = {pair: h.addVariable(lb=0, ub=100, obj=cost) for pair, cost in CAPS.items()}
    rest = 1.0 - sum(p for p, _, _ in SCENARIOS.values())

    def route(e: str, i: str) -> float:
        return 0.0 if e == i else TRADE.get((e, i), 0.0)

    def outcome(weight: float, factor: dict[tuple[str, str], float],
                closed: set[tuple[str, str, str]], first: bool) -> None:
        """One outcome's flows and rows, its cost at ``weight`` in the objective."""
        out: dict[tuple[str, str], list[Any]] = {pair: [] for pair in CAPS}
        into: dict[tuple[str, str, str], list[Any]] = {}
        link_flows: dict[tuple[str, str], list[Any]] = {link: [] for link in LINKS}
        unmet: dict[str, list[Any]] = {lay: [] for lay in LAYERS}
        for (n, lay), dem in DEMAND.items():
            f = []
            for (p, host), _ in CAPS.items():
                if host == lay and factor.get((p, lay), 1.0) > 0 and (p, n, lay) not in closed:
                    f.append(h.addVariable(lb=0, obj=weight * route(p, n)))
                    out[(p, host)].append(f[-1])
            w = h.addVariable(lb=0, obj=weight * PRICE)
            unmet[lay].append(w)
            h.addConstr(sum(f, start=w) == dem)
        for (lay, m) in LINKS:
            for (r, prod) in CAPS:
                if prod != lay:
                    continue
                into[(r, lay, m)] = []
                for (p, host) in CAPS:
                    if host == m and factor.get((p, m), 1.0) > 0 and (p, r, m) not in closed:
                        g = h.addVariable(lb=0, obj=weight * route(p, r))
                        out[(p, host)].append(g)
                        into[(r, lay, m)].append(g)
                        link_flows[(lay, m)].append(g)
        for pair, ships in out.items():
            h.addConstr(sum(ships, start=-factor.get(pair, 1.0) * k[pair]) <= 0)
        for (r, lay, m), got in into.items():
            made = sum(out[(r, lay)], start=0.0 * k[(r, lay)])
            if first:
                h.addConstr(sum(got, start=-LINKS[(lay, m)] * made) == 0)
            elif cascade:
                h.addConstr(sum(got, start=-LINKS[(lay, m)] * made) >= 0)
        if first or not cascade:
            return
        x = {lay: h.addVariable(lb=0, ub=1) for lay in LAYERS}
        for (lay, m), flows in link_flows.items():
            h.addConstr(sum(flows, start=-LINKS[(lay, m)] * big_d[lay] * x[m]) == 0)
        for lay in LAYERS:
            if final[lay] > 0:
                h.addConstr(sum(unmet[lay], start=final[lay] * x[lay]) == final[lay])

    outcome(rest, {}, set(), first=True)
    for p, factor, closed in SCENARIOS.values():
        outcome(p, factor, closed, first=False)
    found = optimum(h)
    assert found is not None
    return found


def test_a_design_over_a_chain_is_the_formulation_of_the_text(tmp_path: Path) -> None:
    case = load_case(case_folder(tmp_path)).with_overrides(
        [f"objective.shortage_cost={PRICE}"])
    from dataclasses import replace

    from solver.case.options import ScenarioOptions

    result = solve(replace(case, scenario_options=ScenarioOptions(design="expected")),
                   mip_gap=0.0)
    assert result.verified, result.violations
    assert result.objective == pytest.approx(independent_optimum(), rel=1e-6)
    # The chain's rows bind: without them the recourse would be cheaper.
    assert independent_optimum(cascade=False) < independent_optimum() - 1e-3
    assert result.scenarios is not None
    rows = result.scenarios.set_index("scenario")
    assert (rows["through_inputs"] <= rows["unmet"] + 1e-9).all()


def test_solve_designs_over_a_chain_from_the_command_line(tmp_path: Path) -> None:
    folder = case_folder(tmp_path)
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["solve", str(folder), "--design", "expected", "--set",
                                    f"objective.shortage_cost={PRICE}", "--out", str(out)])
    assert res.exit_code == 0, res.output
    check = ["check", str(folder), str(out), "--set", f"objective.shortage_cost={PRICE}"]
    res = CliRunner().invoke(main, check)
    assert res.exit_code == 0, res.output
    # A scenario claiming only its final flows' trade cost (its inputs shipped for free) is
    # rejected: the checker's own re-routing LP prices the inputs too.
    table = pd.read_csv(out / "scenarios.csv")
    assert (table["trade_cost"] > 0).any()
    at = int(np.argmax(table["trade_cost"].to_numpy()))
    table.loc[at, "second_stage_cost"] -= table.loc[at, "trade_cost"]
    table.loc[at, "trade_cost"] = 0.0
    table.to_csv(out / "scenarios.csv", index=False)
    res = CliRunner().invoke(main, check)
    assert res.exit_code == 5, res.output
    assert f"scenario {table.loc[at, 'scenario']}" in res.output


def test_a_tie_of_worst_layers_may_name_either(tmp_path: Path) -> None:
    # Chips (final 20) feed cloud (final 10) at 0.5: D chips 25. A fire leaves 60% of A's
    # chips; rationed, chips lose 8 of 20 and cloud 4 of 10: both 40%, either is the worst.
    # A design at a price of 3 does not insure against it (10 more chips cost 10, save 3.6).
    folder = write_case(
        tmp_path / "case", partners="partner\nA\nB\n",
        layers="layer,demand,min_supplier_share\nchips,20,0\ncloud,10,0\n",
        capabilities="partner,layer,capacity,unit_cost\nA,chips,100,1\nB,cloud,100,1\n",
        inputs="layer,input,per_unit\ncloud,chips,0.5\n",
        scenarios="scenario,probability,partner,layer,capacity_factor\nfire,0.1,A,chips,0.6\n")
    out = tmp_path / "run"
    args = ["--set", "objective.shortage_cost=3"]
    res = CliRunner().invoke(main, ["solve", str(folder), "--design", "expected", *args,
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "scenarios.csv")
    assert table.loc[0, "unmet"] == pytest.approx(12.0)
    assert table.loc[0, "worst_layer_share"] == pytest.approx(0.4)
    for layer, unmet, code in (("chips", 8.0, 0), ("cloud", 4.0, 0), ("cloud", 8.0, 5)):
        table.loc[0, ["worst_layer", "worst_layer_unmet", "worst_layer_share"]] = [
            layer, unmet, unmet / {"chips": 20.0, "cloud": 10.0}[layer]]
        table.to_csv(out / "scenarios.csv", index=False)
        res = CliRunner().invoke(main, ["check", str(folder), str(out), *args])
        assert res.exit_code == code, (layer, unmet, res.output)
