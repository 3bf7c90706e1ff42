"""Morris and Sobol: sampling and analysis by SALib (README, Global sensitivity).

SALib is the reference implementation of both methods: Morris's elementary effects on
``LEVELS`` levels (N trajectories, N (k + 1) points; mu, mu*, sigma and mu*'s confidence by
bootstrap) and Saltelli's sampling for Sobol's first and total indices (N base points,
N (k + 2) points; S1, ST and their confidence). The same seed gives the same points and the
same confidence intervals.

An output that is the same at every point depends on no parameter: its indices are 0
(Sobol's estimators would divide by its variance, 0).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from solver.errors import UsageError

METHODS = ("morris", "sobol")

#: Morris's grid: each parameter takes 4 levels of its range.
LEVELS = 4

#: Bootstrap resamples behind each confidence interval, and its level.
RESAMPLES = 100
CONFIDENCE = 0.95

#: The index columns of indices.csv, per method.
INDICES = {"morris": ("mu", "mu_star", "sigma", "mu_star_conf"),
           "sobol": ("S1", "S1_conf", "ST", "ST_conf")}

#: The index a ranking sorts parameters by.
RANK_BY = {"morris": "mu_star", "sobol": "ST"}


def problem(axes: Sequence[Any]) -> dict[str, Any]:
    """SALib's problem: one variable per axis, uniform on (LOW, HIGH)."""
    return {"num_vars": len(axes), "names": [a.column for a in axes],
            "bounds": [[float(a.values[0]), float(a.values[1])] for a in axes]}


def count(method: str, samples: int, k: int) -> int:
    """How many points ``samples`` trajectories (Morris) or base points (Sobol) make."""
    return samples * (k + 1) if method == "morris" else samples * (k + 2)


def check_method(method: str, samples: int) -> None:
    """Raise :class:`UsageError` for an unknown method or too few samples."""
    if method not in METHODS:
        raise UsageError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    if samples < 2:
        raise UsageError(f"--samples {samples}: at least 2 (a spread needs two)")


def sample(method: str, spec: dict[str, Any], samples: int, seed: int) -> np.ndarray:
    """The points of the study: a row per point, a column per parameter."""
    if method == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(spec, samples, num_levels=LEVELS, seed=seed))
    from SALib.sample import sobol

    with warnings.catch_warnings():
        # SALib advises a power of 2 for the best balance; any N gives valid estimates.
        warnings.simplefilter("ignore")
        return np.asarray(sobol.sample(spec, samples, calc_second_order=False,
                                       scramble=True, seed=seed))


def analyze(method: str, spec: dict[str, Any], x: np.ndarray, y: np.ndarray,
            seed: int) -> dict[str, np.ndarray]:
    """The method's indices of one output ``y`` (a value per point), one entry per column."""
    k = spec["num_vars"]
    if np.ptp(y) == 0:
        return {name: np.zeros(k) for name in INDICES[method]}
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(spec, x, y, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                             num_levels=LEVELS, seed=seed)
    else:
        from SALib.analyze import sobol

        res = sobol.analyze(spec, y, calc_second_order=False, num_resamples=RESAMPLES,
                            conf_level=CONFIDENCE, seed=seed)
    return {name: np.asarray(res[name], dtype=float) for name in INDICES[method]}


def indices_table(method: str, spec: dict[str, Any], x: np.ndarray,
                  outputs: dict[str, np.ndarray], seed: int) -> pd.DataFrame:
    """indices.csv: a row per (parameter, output) with the method's indices."""
    frames = []
    for output, y in outputs.items():
        found = analyze(method, spec, x, y, seed)
        frame = pd.DataFrame({"parameter": spec["names"], "output": output, **found})
        frames.append(frame)
    columns = ["parameter", "output", *INDICES[method]]
    return pd.concat(frames, ignore_index=True)[columns] if frames else \
        pd.DataFrame(columns=columns)
