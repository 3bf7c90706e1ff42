"""Floats compared to the last bit, for the tests that hold arithmetic to pandas'."""

from __future__ import annotations

import numpy as np


def same_bits(a: np.ndarray, b: np.ndarray) -> None:
    """Assert ``a`` and ``b`` hold the same floats bit for bit (NaN where NaN, signed zeros)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    assert (a.view(np.int64) == b.view(np.int64)).all() or np.array_equal(a, b, equal_nan=True)
    assert (np.signbit(a) == np.signbit(b)).all()
