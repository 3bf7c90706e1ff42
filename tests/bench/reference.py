"""The floor no modelling layer can beat: the model's matrices built with numpy into highspy.

The same sets (:func:`solver.model.data.model_data`) and numbers are laid out as one sparse
matrix, row by row in the order of the Pyomo model's constraint families, with the
single-variable families as column bounds, and passed to HiGHS in one ``passModel`` call.
This is bench code: the model's one definition is :mod:`solver.model`; this copy exists
only to measure what building and handing over the same matrix costs without Pyomo, and the
bench checks that both give HiGHS the same numbers of rows, columns and nonzeros and the same
LP relaxation optimum.

``python -m tests.bench.reference CASE_DIR [--mip]`` prints one JSON object: seconds and
peak RSS of load, build, hand-over and solve, and the problem's size and objective.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.bench.memory import peak_mb, reset_peak

INF = np.inf


@dataclass
class Matrices:
    """An LP/MIP in HiGHS's terms: costs, bounds, row bounds and a CSR matrix."""

    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    @property
    def nnz(self) -> int:
        return len(self.value)


class _Rows:
    """Collects rows as COO triplets, family after family."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.n = 0

    def add(self, n: int, row: np.ndarray, col: np.ndarray, val: np.ndarray,
            lower: np.ndarray | float, upper: np.ndarray | float) -> None:
        """Add ``n`` rows; ``row`` numbers them 0..n-1 within the family."""
        if n == 0:
            return
        self.rows.append(np.asarray(row, dtype=np.int64) + self.n)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(val, dtype=float), len(row)))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), n))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), n))
        self.n += n

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        row = np.concatenate(self.rows)
        order = np.argsort(row, kind="stable")
        start = np.zeros(self.n + 1, dtype=np.int32)
        np.cumsum(np.bincount(row, minlength=self.n), out=start[1:])
        return (start, np.concatenate(self.cols)[order].astype(np.int32),
                np.concatenate(self.vals)[order], np.concatenate(self.lower),
                np.concatenate(self.upper))


def build_matrices(case: Any) -> Matrices:
    """The MILP of SPEC section 3 for ``case``, as the Pyomo model lays it out."""
    from solver.model.data import model_data
    from solver.model.numbers import values

    data = model_data(case)
    a = values(case, data)
    n_a, n_f, n_l = data.n_pairs, data.n_flows, len(data.layers)
    n_p = len(data.partners)
    y0, k0, q0, f0, b0 = 0, n_a, 2 * n_a, 3 * n_a, 3 * n_a + n_f
    n_cols = b0 + n_l
    pairs = np.arange(n_a)
    flows = np.arange(n_f)
    layers = np.arange(n_l)
    pl = data.pair_layer
    D = data.layer_demand
    d = a["demand"]
    domestic = data.flows["domestic"].to_numpy(dtype=bool)
    frow = data.flow_row

    lower = np.zeros(n_cols)
    upper = np.full(n_cols, INF)
    upper[y0:k0] = 1.0
    integrality = np.zeros(n_cols, dtype=np.int32)
    integrality[y0:k0] = 1
    # concentration, dependency, domestic: bounds on single variables
    share = a["max_share"][pl]
    capped = share < 1.0
    upper[q0 + pairs[capped]] = (share * D[pl])[capped]
    dep = a["max_dependency"][frow]
    capped = ~domestic & (dep < 1.0)
    upper[f0 + flows[capped]] = (dep * d[frow])[capped]
    dom = a["min_domestic"][frow]
    floor = domestic & (dom > 0)
    lower[f0 + flows[floor]] = (dom * d[frow])[floor]

    r = _Rows()
    # define_supplied: q[a] - sum f = 0
    r.add(n_a, np.concatenate([pairs, data.flow_pair]),
          np.concatenate([q0 + pairs, f0 + flows]),
          np.concatenate([np.ones(n_a), -np.ones(n_f)]), 0.0, 0.0)
    # define_built: built[l] - sum k = 0
    r.add(n_l, np.concatenate([layers, pl]), np.concatenate([b0 + layers, k0 + pairs]),
          np.concatenate([np.ones(n_l), -np.ones(n_a)]), 0.0, 0.0)
    # demand
    r.add(len(d), frow, f0 + flows, 1.0, d, d)
    # capacity: q - k <= 0
    r.add(n_a, np.concatenate([pairs, pairs]), np.concatenate([q0 + pairs, k0 + pairs]),
          np.concatenate([np.ones(n_a), -np.ones(n_a)]), -INF, 0.0)
    # hosting: k - cap y <= 0; hosting_min: k - minc y >= 0
    r.add(n_a, np.concatenate([pairs, pairs]), np.concatenate([k0 + pairs, y0 + pairs]),
          np.concatenate([np.ones(n_a), -a["capacity"]]), -INF, 0.0)
    use = pairs[a["min_capacity"] > 0]
    i = np.arange(len(use))
    r.add(len(use), np.concatenate([i, i]), np.concatenate([k0 + use, y0 + use]),
          np.concatenate([np.ones(len(use)), -a["min_capacity"][use]]), 0.0, INF)
    # supplier_share: q - mss D y >= 0
    need = a["min_supplier_share"][pl] * D[pl]
    use = pairs[need > 0]
    i = np.arange(len(use))
    r.add(len(use), np.concatenate([i, i]), np.concatenate([q0 + use, y0 + use]),
          np.concatenate([np.ones(len(use)), -need[use]]), 0.0, INF)
    # diversification: sum y >= min_suppliers
    lay = layers[(D > 0) & (a["min_suppliers"] > 0)]
    pos = np.full(n_l, -1)
    pos[lay] = np.arange(len(lay))
    inside = pos[pl] >= 0
    r.add(len(lay), pos[pl][inside], y0 + pairs[inside], 1.0, a["min_suppliers"][lay], INF)
    # resilience: built[l] - k[a] >= res D, and built[l] >= res D where nobody hosts
    res = a["resilience"]
    use = pairs[res[pl] > 0]
    i = np.arange(len(use))
    bare = layers[(res > 0) & (np.bincount(pl, minlength=n_l) == 0)]
    j = len(use) + np.arange(len(bare))
    r.add(len(use) + len(bare), np.concatenate([i, i, j]),
          np.concatenate([b0 + pl[use], k0 + use, b0 + bare]),
          np.concatenate([np.ones(len(use)), -np.ones(len(use)), np.ones(len(bare))]),
          np.concatenate([(res * D)[pl[use]], (res * D)[bare]]), INF)
    # surplus: built <= (1 + max_surplus) D
    ms = a["max_surplus"]
    lay = layers[~np.isnan(ms)]
    r.add(len(lay), np.arange(len(lay)), b0 + lay, 1.0, -INF, ((1.0 + ms) * D)[lay])
    # participation: lo V <= sum v q <= hi V
    lo, hi, v = a["min_participation"], a["max_participation"], a["unit_value"]
    V = float(v @ D)
    who = np.flatnonzero((lo > 0) | (hi < 1))
    pos = np.full(n_p, -1)
    pos[who] = np.arange(len(who))
    inside = pos[data.pair_partner] >= 0
    r.add(len(who), pos[data.pair_partner][inside], q0 + pairs[inside], v[pl][inside],
          np.where(lo[who] > 0, lo[who] * V, 0.0), np.where(hi[who] < 1, hi[who] * V, INF))
    # budget
    if not np.isnan(a["budget"][0]):
        n_cost = 2 * n_a + n_f
        r.add(1, np.zeros(n_cost, dtype=np.int64),
              np.concatenate([y0 + pairs, k0 + pairs, f0 + flows]),
              np.concatenate([a["fixed_cost"], a["unit_cost"], a["trade_cost"]]), -INF,
              a["budget"][0])

    cost = np.zeros(n_cols)
    cost[y0:k0] = a["fixed_cost"]
    cost[k0:q0] = a["unit_cost"]
    cost[f0:b0] = a["trade_cost"]
    red = a["redundancy_weight"][0] * a["redundancy_cost"]
    cost[b0:] = red
    cost[q0:f0] = a["risk_weight"][0] * a["disruption_risk"][data.pair_partner] * v[pl]
    start, index, value, row_lower, row_upper = r.csr()
    return Matrices(cost=cost, offset=-float(red @ D), col_lower=lower, col_upper=upper,
                    integrality=integrality, row_lower=row_lower, row_upper=row_upper,
                    start=start, index=index, value=value)


def pass_to_highs(mat: Matrices, mip: bool) -> Any:
    """A ``highspy.Highs`` holding ``mat`` (with integrality only if ``mip``)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    integrality = mat.integrality if mip else np.zeros(mat.n_cols, dtype=np.int32)
    h.passModel(mat.n_cols, mat.n_rows, mat.nnz, 2, 1, mat.offset, mat.cost, mat.col_lower,
                mat.col_upper, mat.row_lower, mat.row_upper, mat.start, mat.index,
                mat.value, integrality)
    return h


def run(case_dir: str, mip: bool, threads: int = 1, mip_gap: float = 1e-4) -> dict[str, Any]:
    """Load, build, hand over and solve; per stage seconds and peak RSS (MB)."""
    out: dict[str, Any] = {"stages": {}}

    def stage(name: str, start: float) -> None:
        out["stages"][name] = {"seconds": time.perf_counter() - start, "peak_mb": peak_mb()}
        reset_peak()

    import highspy  # noqa: F401  (imports are not a stage)

    from solver.case.loader import load_case
    from solver.model.data import model_data  # noqa: F401
    from solver.model.numbers import values  # noqa: F401

    reset_peak()
    t = time.perf_counter()
    case = load_case(case_dir)
    stage("load", t)
    t = time.perf_counter()
    mat = build_matrices(case)
    stage("build", t)
    t = time.perf_counter()
    h = pass_to_highs(mat, mip)
    stage("handover", t)
    h.setOptionValue("threads", threads)
    h.setOptionValue("mip_rel_gap", mip_gap)
    t = time.perf_counter()
    h.run()
    wall = time.perf_counter() - t
    stage("solve", t)
    out["stages"]["solve"]["seconds"] = h.getRunTime()
    out["solve_wall"] = wall
    info = h.getInfo()
    out.update(status=h.modelStatusToString(h.getModelStatus()),
               objective=info.objective_function_value, rows=mat.n_rows, cols=mat.n_cols,
               nnz=mat.nnz, mip=mip, peak_mb=max(s["peak_mb"] for s in out["stages"].values()))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case_dir")
    parser.add_argument("--mip", action="store_true", help="keep integrality (default: LP)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    json.dump(run(args.case_dir, args.mip, args.threads), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
