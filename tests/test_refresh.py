"""A held model's numbers read again after its parameters change: a fresh compile's.

:func:`solver.highs.refresh.refresh` evaluates every parametric number in one pass over the
expressions (a tape) and compares arrays; here its coefficients, row bounds, costs, offset
and column bounds after random changes of every mutable quantity of the sample model are
those of the same model compiled anew, to the last bit (but a zero's sign), and the changes
it reports are exactly the numbers that differ from what it held.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from solver.case.loader import load_case
from solver.highs.compile import Compiled, compile_model
from solver.model.build import build
from solver.model.numbers import QUANTITIES

SAMPLE = Path(__file__).resolve().parent.parent / "models" / "allied-ai-stack.toml"


def same_numbers(a: np.ndarray, b: np.ndarray) -> None:
    """Equal to the last bit, but for the sign of a zero (HiGHS takes -0 as 0, and refresh
    sends no change between them)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    bad = np.flatnonzero((a != b) & ~(np.isnan(a) & np.isnan(b)))
    assert not len(bad), (bad[:5], a[bad[:5]], b[bad[:5]])


def numbers(c: Compiled) -> dict[str, np.ndarray]:
    return {"value": c.value.copy(), "row_lower": c.row_lower.copy(),
            "row_upper": c.row_upper.copy(), "cost": c.cost.copy(),
            "offset": np.array([c.offset]), "lower": c.bounds.lower.copy(),
            "upper": c.bounds.upper.copy(), "integer": c.bounds.integer.astype(float)}


def scale_params(m: pyo.ConcreteModel, rng: np.random.Generator) -> None:
    """Give a random few entries of every mutable Param a new value (some to 0)."""
    for param in m.component_objects(pyo.Param, active=True):
        if not param.mutable:
            continue
        for data in param.values():
            if rng.random() < 0.3 and data.value is not None:
                factor = 0.0 if rng.random() < 0.1 else rng.uniform(0.5, 1.5)
                data.set_value(float(data.value) * factor)


@pytest.mark.parametrize("seed", range(3))
def test_refresh_gives_a_fresh_compiles_numbers_to_the_last_bit(seed: int) -> None:
    case = load_case(SAMPLE)
    mutable = frozenset(col for _, cols in QUANTITIES.values() for col in cols)
    built = build(case, mutable=mutable)
    held = compile_model(built.m)
    rng = np.random.default_rng(seed)
    for step in range(6):
        before = numbers(held)
        scale_params(built.m, rng)
        variables = list(built.m.component_data_objects(pyo.Var))
        # Every other step moves a few plain bounds too (the others keep every bound object).
        for v in rng.choice(len(variables), 5 * (step % 2), replace=False).tolist():
            var = variables[v]
            if var.ub is not None and not var.is_integer():
                var.setub(float(var.ub) * 0.9)  # a plain bound moved by a study
        changes = held.refresh()
        fresh = numbers(compile_model(built.m))
        now = numbers(held)
        for name in fresh:
            same_numbers(now[name], fresh[name])
        # What is reported changed is exactly what differs from before.
        differ = np.flatnonzero(now["value"] != before["value"])
        at = []
        for row, col, value in changes.coefs:
            lo, hi = int(held.start[row]), int(held.start[row + 1])
            at.append(lo + int(np.flatnonzero(held.index[lo:hi] == col)[0]))
            assert now["value"][at[-1]] == value
        assert sorted(at) == differ.tolist()
        rows = np.flatnonzero((now["row_lower"] != before["row_lower"])
                              | (now["row_upper"] != before["row_upper"]))
        assert (changes.rows[0].tolist() if changes.rows is not None else []) == rows.tolist()
        cols = np.flatnonzero((now["lower"] != before["lower"])
                              | (now["upper"] != before["upper"]))
        assert (changes.bounds[0].tolist() if changes.bounds is not None else []) \
            == cols.tolist()
        costs = np.flatnonzero(now["cost"] != before["cost"])
        assert (changes.costs[0].tolist() if changes.costs is not None else []) \
            == costs.tolist()


def every_kind_of_number() -> pyo.ConcreteModel:
    """Parameters in coefficients, both ends of rows, row constants, costs, the objective's
    constant and variable bounds, alone and in sums and products."""
    m = pyo.ConcreteModel()
    m.p = pyo.Param(range(4), mutable=True, initialize={0: 1.0, 1: 4.0, 2: 2.0, 3: 10.0})
    m.x = pyo.Var(range(3), bounds=(0, m.p[3]))
    m.y = pyo.Var(within=pyo.NonNegativeReals, bounds=(m.p[0], None))
    m.coef = pyo.Constraint(expr=m.p[0] * m.x[0] + (m.p[1] + 2) * m.x[1] + m.y >= m.p[2])
    m.constant = pyo.Constraint(expr=m.x[0] + m.p[1] + 0.5 * m.p[2] <= 3 * m.p[1])
    m.ranged = pyo.Constraint(expr=pyo.inequality(m.p[0] - 1, m.x[1] + m.x[2] + m.p[3],
                                                  m.p[1] * m.p[2] + m.p[3]))
    m.equal = pyo.Constraint(expr=m.x[2] - m.p[2] * m.y == m.p[0] / (m.p[1] + 1))
    m.obj = pyo.Objective(expr=m.p[2] * m.x[0] + (m.p[0] + m.p[1]) * m.x[1] + m.y
                          + m.p[3] * m.p[0] + 7)
    return m


def test_every_kind_of_parametric_number_is_read_again() -> None:
    m = every_kind_of_number()
    held = compile_model(m)
    rng = np.random.default_rng(0)
    for _ in range(30):
        for i in range(4):
            m.p[i].set_value(float(rng.choice([0.0, -1.5, rng.uniform(-5, 5), 1e-9])))
        held.refresh()
        fresh = numbers(compile_model(m))
        now = numbers(held)
        for name in fresh:
            same_numbers(now[name], fresh[name])
