"""The ``--out`` folder of ``coalition alternatives``: checked, written as plans come, resumed.

It holds ``alternatives.json`` (what was asked: the case's fingerprint, the slacks, the count
and the direction), ``optimum/`` and one run folder per plan, ``alternatives.csv`` and
``plots/``. A plan's run folder is written whole (a temporary folder, then a rename) before
the table that lists it, so whatever stops a search, every plan in the table is complete;
``--resume`` reads those plans back and searches only for the rest.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from solver.errors import UsageError
from solver.report.readback import read_csv
from solver.report.writing import write_file, write_json
from solver.studies.engine.folder import entries

META = "alternatives.json"
TABLE = "alternatives.csv"


@dataclass
class WrittenPlan:
    """A plan read back from its run folder: what the table of plans needs of a Result."""

    objective: float
    verified: bool
    allocation: pd.DataFrame
    partners: pd.DataFrame
    layers: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    markets: pd.DataFrame | None = None
    """With markets.csv: the run folder's markets.csv (what ``reach`` is read from)."""

    @property
    def hosts(self) -> tuple[tuple[str, str], ...]:
        """The hosted (partner, layer) pairs; on a pathway (partner, layer@period)."""
        from solver.studies.alternatives.pathway import keyed

        a = keyed(self.allocation[self.allocation["hosted"]], "layer")  # chips@2030
        return tuple(zip(a["partner"].astype(str), a["layer"].astype(str), strict=True))


def check_folder(folder: Path, *, force: bool, resume: bool) -> None:
    """Raise :class:`UsageError` unless ``folder`` can hold this search (checked first).

    A new search needs an empty or absent folder, or with ``force`` an earlier search's;
    ``resume`` needs an earlier search's.
    """
    from solver.report.run_folder import check_out

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    earlier = (folder / META).is_file()
    if resume:
        if not earlier:
            raise UsageError(f"--resume: {folder} holds no earlier search ({META} is missing)")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(f"--resume: {folder} is not writable")
        return
    if entries(folder):
        if not force:
            raise UsageError(f"{folder} already exists; pass --force to replace it, or "
                             "--resume to go on with it")
        if not earlier and not (folder / TABLE).is_file():
            raise UsageError(f"{folder} does not hold alternatives (no {TABLE}); --force "
                             "replaces only an earlier search: choose another --out")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(f"cannot write in {folder}: not writable")
        return
    if str(folder) not in ("", ".") and folder.is_dir():
        return  # empty, or holding only the lock of a search that is writing it
    check_out(folder)


def prepare(folder: Path, meta: dict[str, Any], *, resume: bool,
            case: Any = None) -> dict[str, WrittenPlan]:
    """Make ``folder`` ready; with ``resume``, the plans the earlier search wrote, by name.

    A new search empties an earlier search's folder (its run folders, table and plots) and
    writes ``alternatives.json``. ``resume`` refuses a folder made for another case, slack,
    count or direction, and every plan read back is checked again against ``case`` by the
    independent checker (:func:`read_plans`).
    """
    if resume:
        try:
            before = json.loads((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise UsageError(f"--resume: cannot read {folder / META}: {exc}") from None
        if before != meta:
            changed = sorted(k for k in meta if before.get(k) != meta[k])
            raise UsageError(f"--resume: {folder} was made with another "
                             f"{', '.join(changed) or 'request'}; run the same command "
                             "as before, or start again with --force")
        return read_plans(folder, case)
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.is_dir() and ((entry / "summary.json").is_file() or entry.name == "plots"):
                shutil.rmtree(entry)
            elif entry.name in (TABLE, META, "alternatives.xlsx"):
                entry.unlink()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / META, meta)
    except OSError as exc:
        raise UsageError(f"cannot write {folder}: {exc.strerror or exc}") from None
    return {}


def read_plans(folder: Path, case: Any = None) -> dict[str, WrittenPlan]:
    """The plans ``alternatives.csv`` lists whose run folders are complete, by name.

    With ``case`` each is first re-verified by the independent checker: a plan edited (or
    damaged) since it was written is refused by name, exit 2, never trusted.
    """
    path = folder / TABLE
    if not path.is_file():
        return {}
    names = read_csv(path, required=["plan"])["plan"].astype(str)
    plans = {}
    for name in names:
        if name != "optimum" and (folder / name / "summary.json").is_file():
            if case is not None:
                recheck(case, folder / name)
            plans[name] = read_plan(folder / name)
    return plans


def recheck(case: Any, run: Path) -> None:
    """Raise :class:`UsageError` if the checker rejects the plan written in ``run``."""
    from solver.check.run import check_run

    violations = check_run(case, run)
    if violations:
        raise UsageError(f"--resume: {run} does not pass the independent check any more "
                         f"({violations[0]}); start again with --force")


def read_plan(run: Path) -> WrittenPlan:
    """One run folder as a :class:`WrittenPlan`."""
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    def table(name: str) -> pd.DataFrame:
        return read_csv(run / name)

    allocation = table("allocation.csv")
    allocation["hosted"] = allocation["hosted"].astype(str).str.lower().eq("true")
    return WrittenPlan(objective=float(summary["objective"]),
                       verified=bool(summary.get("verified")), allocation=allocation,
                       partners=table("partners.csv"), layers=table("layers.csv"),
                       summary=summary, markets=table("markets.csv")
                       if (run / "markets.csv").is_file() else None)


def write_plan(result: Any, run: Path) -> None:
    """Write a plan's run folder whole (see :func:`solver.report.run_folder.write_run`)."""
    from solver.report.run_folder import write_run

    write_run(result, run, force=True)


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` whole or not at all (a temporary file, then a rename)."""
    from solver.report.cells import safe_frame

    write_file(path, lambda tmp: safe_frame(table).to_csv(tmp, index=False,
                                                          float_format="%.10g"))
