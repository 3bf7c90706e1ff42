"""The hand-over: a Pyomo model compiled to HiGHS's matrices, and kept in step on re-solves."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from solver.highs.compile import compile_model
from solver.highs.reading import column_bounds
from solver.highs.runner import HighsRunner, Status


def solve(m: pyo.ConcreteModel, runner: HighsRunner | None = None) -> float:
    runner = runner or HighsRunner()
    report = runner.solve(m, {})
    assert report.status == Status.OPTIMAL, report.status
    assert report.objective is not None
    return report.objective


def contrib_optimum(m: pyo.ConcreteModel) -> float:
    """The optimum as Pyomo's own HiGHS interface finds it (the reference)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    results = Highs().solve(m, load_solutions=False)
    return float(results.incumbent_objective)


def mixed_model() -> pyo.ConcreteModel:
    """A small MILP using every kind of linear expression Pyomo builds."""
    m = pyo.ConcreteModel()
    m.p = pyo.Param(mutable=True, initialize=2.0)
    m.x = pyo.Var(range(4), within=pyo.NonNegativeReals)
    m.y = pyo.Var(within=pyo.Binary)
    m.z = pyo.Var(bounds=(-3, 8))
    m.w = pyo.Var(within=pyo.Integers, bounds=(0, 5))
    m.x[3].fix(1.5)
    m.sum = pyo.Constraint(expr=sum(m.x[i] for i in range(4)) + m.z >= 4)  # LinearExpression
    m.nested = pyo.Constraint(expr=2 * (m.x[0] - m.x[1]) + 3 * (m.z + 1) <= 10)  # generic
    m.ranged = pyo.Constraint(expr=pyo.inequality(-1, m.x[1] - m.w + 0.5, 6))
    m.param = pyo.Constraint(expr=m.p * m.x[2] + m.y >= m.p)
    m.twice = pyo.Constraint(expr=m.x[0] + m.x[0] + m.w <= 7)  # a variable twice
    m.eq = pyo.Constraint(expr=m.w - m.x[2] == 1)
    m.single = pyo.Constraint(expr=m.z <= 6)
    m.off = pyo.Constraint(expr=m.z >= 100)
    m.off.deactivate()
    m.obj = pyo.Objective(expr=3 * m.x[0] + m.x[1] + 2 * m.x[2] + 5 * m.y - m.z + m.w + 7,
                          sense=pyo.minimize)
    return m


def test_same_optimum_as_pyomos_interface() -> None:
    m = mixed_model()
    assert solve(m) == pytest.approx(contrib_optimum(m), rel=1e-9)


def test_maximize_and_constant_objective() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(3), bounds=(0, 4))
    m.c = pyo.Constraint(expr=m.x[0] + 2 * m.x[1] + m.x[2] <= 6)
    m.obj = pyo.Objective(expr=m.x[0] + 3 * m.x[1] + 10, sense=pyo.maximize)
    assert solve(m) == pytest.approx(contrib_optimum(m), rel=1e-9)
    assert solve(m) == pytest.approx(3 * 3 + 10)


def test_groups_map_back_to_their_columns() -> None:
    m = mixed_model()
    runner = HighsRunner()
    report = runner.solve(m, {"x": m.x, "w": m.w})
    assert report.values["x"].shape == (4,)
    assert report.values["x"][3] == pytest.approx(1.5)  # the fixed variable keeps its value
    for i in range(4):
        col = int(runner._columns["x"][i])
        assert report.values["x"][i] == runner.highs.getSolution().col_value[col]


def test_bounds_read_in_bulk_equal_the_public_ones() -> None:
    m = pyo.ConcreteModel()
    m.p = pyo.Param(mutable=True, initialize=3.0)
    m.x = pyo.Var(range(6), within=pyo.NonNegativeReals)
    m.y = pyo.Var(range(3), within=pyo.Binary)
    m.z = pyo.Var(bounds=(-2, 5))
    m.x[1].setub(4.0)
    m.x[2].setlb(-1.0)
    m.x[3].setub(m.p * 2)
    m.x[4].fix(2.5)
    m.x[5].setlb(m.p)
    m.y[1].domain = pyo.UnitInterval
    variables = [*m.x.values(), *m.y.values(), m.z]
    got = column_bounds(variables)
    for i, v in enumerate(variables):
        lo = v.value if v.fixed else (-np.inf if v.lb is None else v.lb)
        hi = v.value if v.fixed else (np.inf if v.ub is None else v.ub)
        assert (got.lower[i], got.upper[i]) == (lo, hi), v.name
    assert got.integer.tolist() == [0] * 6 + [1, 0, 1] + [0]


def test_resolve_follows_every_kind_of_parameter_and_bound() -> None:
    m = pyo.ConcreteModel()
    m.a = pyo.Param(mutable=True, initialize=1.0)  # a coefficient
    m.b = pyo.Param(mutable=True, initialize=4.0)  # a right-hand side and a constant
    m.c = pyo.Param(mutable=True, initialize=2.0)  # a cost and the objective's constant
    m.u = pyo.Param(mutable=True, initialize=10.0)  # a variable bound
    m.x = pyo.Var(bounds=(0, m.u))
    m.y = pyo.Var(within=pyo.NonNegativeReals)
    m.demand = pyo.Constraint(expr=m.a * m.x + m.y + m.b >= 2 * m.b)
    m.cap = pyo.Constraint(expr=m.y <= 3)
    m.obj = pyo.Objective(expr=m.c * m.x + 5 * m.y + m.c)
    runner = HighsRunner()
    assert solve(m, runner) == pytest.approx(contrib_optimum(m))
    compiled = runner._compiled
    for a, b, c, u in [(2.0, 4.0, 2.0, 10.0), (1.0, 9.0, 2.0, 10.0), (1.0, 4.0, 7.0, 10.0),
                       (1.0, 10.0, 2.0, 8.0), (0.5, 4.0, 1.0, 3.0)]:
        m.a.value, m.b.value, m.c.value, m.u.value = a, b, c, u
        again = solve(m, runner)
        assert runner._compiled is compiled, "a numbers-only change must not hand over again"
        assert again == pytest.approx(contrib_optimum(m), rel=1e-9)


def test_bound_and_fixing_changes_are_sent() -> None:
    m = mixed_model()
    runner = HighsRunner()
    solve(m, runner)
    compiled = runner._compiled
    m.z.setub(2.0)
    m.x[3].unfix()
    m.y.fix(1)
    assert solve(m, runner) == pytest.approx(contrib_optimum(m), rel=1e-9)
    assert runner._compiled is compiled
    m.w.domain = pyo.NonNegativeReals
    assert solve(m, runner) == pytest.approx(contrib_optimum(m), rel=1e-9)


def test_structural_changes_hand_over_again() -> None:
    m = mixed_model()
    runner = HighsRunner()
    solve(m, runner)
    first = runner._compiled
    m.off.activate()
    m.off.set_value(m.z >= 5)
    assert solve(m, runner) == pytest.approx(contrib_optimum(m), rel=1e-9)
    assert runner._compiled is not first
    m.extra = pyo.Constraint(expr=m.x[0] >= 1)
    assert solve(m, runner) == pytest.approx(contrib_optimum(m), rel=1e-9)
    m.obj.deactivate()
    m.obj2 = pyo.Objective(expr=m.x[1] + m.w)
    assert solve(m, runner) == pytest.approx(contrib_optimum(m), rel=1e-9)


def test_compiled_matrix() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(3), within=pyo.NonNegativeReals)
    m.c1 = pyo.Constraint(expr=m.x[2] + 2 * m.x[0] >= 1)
    m.c2 = pyo.Constraint(expr=pyo.inequality(0, m.x[1] - m.x[2] + 4, 5))
    m.obj = pyo.Objective(expr=m.x[0])
    c = compile_model(m)
    # Columns in declaration order; each row's terms in the order written.
    assert [v.name for v in c.columns.variables] == ["x[0]", "x[1]", "x[2]"]
    assert c.start.tolist() == [0, 2, 4]
    assert c.index.tolist() == [2, 0, 1, 2]
    assert c.value.tolist() == [1.0, 2.0, 1.0, -1.0]
    assert c.row_lower.tolist() == [1.0, -4.0]
    assert c.row_upper.tolist() == [np.inf, 1.0]
    assert c.cost.tolist() == [1.0, 0.0, 0.0]


def test_infeasible_and_unbounded() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.NonNegativeReals)
    m.c = pyo.Constraint(expr=m.x <= -1)
    m.obj = pyo.Objective(expr=m.x)
    assert HighsRunner().solve(m, {}).status == Status.INFEASIBLE
    m.c.deactivate()
    m.obj.sense = pyo.maximize
    report = HighsRunner().solve(m, {})
    assert report.status in (Status.UNBOUNDED, Status.INFEASIBLE)
    assert not report.has_solution
