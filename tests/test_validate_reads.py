"""The columns each cross-table check declares it reads (``validate.READS``) are all it reads.

After overrides, only the checks that read a column the overrides wrote run again
(``apply_overrides``). A check that read an undeclared column would miss what an override
broke there. Each column a check does not declare is scrambled here, in the sample and its
chain, markets, shocks and pathway variants, and with values that break every cross-table
rule; the check must answer exactly as before (and not fail).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from solver.case.loader import Case, load_case
from solver.case.schema import TABLES
from solver.case.validate import CHECKS, EVERY, READS, cross_checks, reads_any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["allied-ai-stack.toml", "allied-ai-stack-chain.toml", "allied-ai-stack-markets.toml",
          "allied-ai-stack-shocks.toml", "allied-ai-stack-2035.toml"]

#: Case fields of the tables (``demand`` is the field ``demand_table``).
FIELD = {"demand": "demand_table"}


@pytest.fixture(scope="module", params=MODELS)
def case(request: Any) -> Case:
    return load_case(ROOT / "models" / request.param)


def with_table(case: Case, table: str, frame: pd.DataFrame) -> Case:
    """``case`` with ``table`` replaced (and its derived demand forgotten)."""
    new = dataclasses.replace(case, **{FIELD.get(table, table): frame})
    new.__dict__.pop("demand", None)
    return new


def scrambled(column: pd.Series, how: int) -> pd.Series:
    """``column`` with other values of its kind: numbers far off or missing, flags flipped,
    ids that name nothing."""
    if column.dtype == bool:
        return ~column
    if column.dtype.kind in "iu":
        return column * 0 + (10**9 if how == 0 else 0)
    if column.dtype.kind == "f":
        return column * 0.0 + (1e12 if how == 0 else -1.0 if how == 1 else np.nan)
    return column.astype(str).map(lambda v: f"zz-{v}-{how}")


def undeclared(case: Case, check: Any) -> list[tuple[str, str]]:
    """The (table, column) pairs of the case's tables that ``check`` does not declare."""
    out = []
    for table in TABLES:
        frame = case.table(table)
        if frame is None or frame.empty:
            continue
        reads = READS[check].get(table, frozenset())
        if reads is EVERY:
            continue
        out += [(table, c) for c in frame.columns if c not in reads and not c.startswith("_")]
    return out


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_a_check_reads_only_what_it_declares(case: Case, check: Any) -> None:
    before = [str(p) for p in check(case, None)]
    pairs = undeclared(case, check)
    assert pairs, "every table is read whole: nothing to scramble"
    for table, column in pairs:
        frame = case.table(table)
        assert frame is not None
        for how in range(3):
            changed = frame.copy()
            changed[column] = scrambled(frame[column], how)
            after = [str(p) for p in check(with_table(case, table, changed), None)]
            assert after == before, (check.__name__, table, column, how)


def test_every_check_declares_what_it_reads() -> None:
    assert set(READS) == set(CHECKS)
    for reads in READS.values():
        assert set(reads) <= set(TABLES)


def test_only_checks_that_read_a_written_column_run(case: Case) -> None:
    written = {("capabilities", "unit_cost"), ("objective", "budget")}
    assert not any(reads_any(c, written) for c in CHECKS)
    assert cross_checks(case, written=written) == []
    assert reads_any(CHECKS[1], {("capabilities", "capacity")})
    assert all(reads_any(c, {(t, "*") for t in TABLES}) for c in CHECKS)


def test_an_override_still_names_what_it_breaks_across_tables(case: Case) -> None:
    from solver.errors import CaseError

    with pytest.raises(CaseError) as err:
        case.with_overrides(["capabilities.min_capacity=1e6"], source="--set")
    assert "min_capacity is above capacity" in str(err.value)
    with pytest.raises(CaseError) as err:
        case.with_overrides(["partners.min_participation=0.9",
                             "partners.max_participation=0.5"], source="--set")
    assert "min_participation is above max_participation" in str(err.value)
