"""The output folder of a sweep: each finished point appended at once, and resumed.

``sweep.csv``
    one row per point: the varied values, status, reason, objective, cost terms, gap,
    seconds, and whether the point needed a new model (``rebuilt``).
``sweep_layers.csv``
    per point and layer: suppliers, HHI, N-1 coverage (the columns of ``layers.csv``).
``allocations.csv``
    per point and capability pair: the columns of ``allocation.csv``.
``sweep.json``
    what was swept (to check that ``resume`` continues the same sweep).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from solver.errors import UsageError
from solver.report.cells import safe_frame
from solver.report.readback import read_csv
from solver.report.run_folder import check_writable
from solver.report.writing import append_text, write_file, write_json
from solver.results import COST_TERMS
from solver.studies.engine.folder import FolderLock, entries, read_rows
from solver.studies.sweep.grid import Point
from solver.studies.sweep.point_solver import RETRY, PointOutcome

#: The columns of sweep.csv that hold numbers (checked when a sweep is resumed).
NUMBERS = ("point", "objective", "bound", "gap", *(f"cost_{t}" for t in COST_TERMS),
           "seconds", "solve_seconds")

FILES = {"sweep": "sweep.csv", "layers": "sweep_layers.csv", "allocations": "allocations.csv"}


def refuse_existing(out: Path, *, resume: bool, force: bool, study: str = "sweep") -> None:
    """Raise :class:`UsageError` unless ``out`` can hold this sweep; nothing is written.

    ``out`` must be a folder (or not exist yet); one that holds anything is taken only with
    ``resume`` (and a ``sweep.json``) or ``force``. An error reading it names the path.
    ``study`` names the study and its record (``sensitivity``: ``sensitivity.json``).
    """
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"{out} exists and is not a folder: choose another --out")
        if not out.exists() or not entries(out) or force:
            return
    except OSError as exc:
        raise cannot_write(out, exc) from None
    if not resume:
        raise UsageError(f"{out} already exists; pass --resume to continue the {study} "
                         "in it, or --force to start again")
    if not (out / f"{study}.json").is_file():
        raise UsageError(f"{out} holds no {study} (no {study}.json) to resume")


def cannot_write(out: Path, exc: OSError) -> UsageError:
    """The one line for an output folder the system will not let the sweep use."""
    where = exc.filename if isinstance(exc.filename, str) else str(out)
    reason = exc.strerror or type(exc).__name__
    return UsageError(f"cannot write the sweep in {out}: {where}: {reason}")


class SweepFolder:
    """The output folder of a sweep, appended to as points finish.

    An :class:`OSError` of the folder (read-only, a file where a folder should be, no
    space) is a :class:`~solver.errors.UsageError` naming the path, exit 2.

    Another study keeps the protocol under its own names: ``study`` (its record is
    ``STUDY.json``), ``files`` (``sweep`` is the one row per point) and ``resumed`` (the
    keys of the record that a resume must find unchanged, and what a change means).
    """

    study = "sweep"
    files: ClassVar[dict[str, str]] = FILES
    resumed: tuple[tuple[str, str], ...] = (
        ("case_sha256", "the case or its overrides changed"),
        ("vary", "the varied keys or values changed"),
        ("mode", "the mode changed"))

    def __init__(self, out: Path, meta: dict[str, Any], columns: list[str], *,
                 resume: bool, force: bool) -> None:
        self.out = out
        self.columns = columns
        self.done: dict[int, dict[str, Any]] = {}
        self._started: set[str] = set()  # the files appended to (their header is there)
        refuse_existing(out, resume=resume, force=force, study=self.study)
        check_writable(out)
        meta_path = out / f"{self.study}.json"
        made = not out.exists()
        self._lock = FolderLock(out).acquire()  # one writer at a time
        try:
            if entries(out):
                if force:
                    for name in [*self.files.values(), meta_path.name]:
                        (out / name).unlink(missing_ok=True)
                    shutil.rmtree(out / "plots", ignore_errors=True)
                else:
                    self._check_meta(json.loads(meta_path.read_text(encoding="utf-8")), meta)
                    self._load()
            out.mkdir(parents=True, exist_ok=True)
            write_json(meta_path, meta)
        except OSError as exc:
            self._lock.release()
            if made:
                shutil.rmtree(out, ignore_errors=True)
            raise cannot_write(out, exc) from None
        except (ValueError, RecursionError) as exc:  # sweep.json is not JSON
            self._lock.release()
            raise UsageError(f"cannot resume the {self.study} in {out}: {meta_path.name} is "
                             f"not valid JSON ({exc}); pass --force to start again") from None
        except BaseException:
            self._lock.release()
            raise

    def _check_meta(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for key, what in self.resumed:
            if old.get(key) != new.get(key):
                raise UsageError(f"cannot resume the {self.study} in {self.out}: {what} since "
                                 "it started; pass --force to start again")

    def _load(self) -> None:
        path = self.out / self.files["sweep"]
        if not path.exists():
            return
        table = _read(path)
        if table is None or "overrides" not in table or "point" not in table:
            return
        read_rows(path, {c: ("int" if c == "point" else "float?") for c in NUMBERS
                         if c in table})  # a cell that is not a finite number is refused
        # A row torn by a crash lacks its last column (overrides): that point is not done.
        table = table[table["overrides"].notna() & table["status"].notna()
                      & ~table["status"].isin(RETRY)]
        table = table.drop_duplicates("point", keep="last")
        keep = set(table["point"].astype(int))
        # Keep only complete points, so that the per-point files agree with sweep.csv.
        self._rewrite(self.files["sweep"], table)
        for name in self.files.keys() - {"sweep"}:
            frame = _read(self.out / self.files[name])
            if frame is not None:
                self._rewrite(self.files[name], frame[frame["point"].astype(int).isin(keep)])
        self.done = {int(r["point"]): {str(k): v for k, v in r.items()}
                     for r in table.to_dict("records")}

    def _rewrite(self, name: str, frame: pd.DataFrame) -> None:
        write_file(self.out / name, lambda tmp: safe_frame(frame).to_csv(tmp, index=False))

    def is_done(self, point: Point) -> bool:
        """Whether ``point`` finished in an earlier run with the same overrides."""
        row = self.done.get(point.index)
        return row is not None and row.get("overrides") == point.label

    def append(self, outcome: PointOutcome) -> None:
        """Write one finished point to every file at once (one write per file)."""
        row = pd.DataFrame([outcome.row]).reindex(columns=self.columns)
        # The plan first and the row last: a point counts as done once it is in sweep.csv.
        if outcome.allocation is not None:
            self._write("allocations", outcome.allocation)
        if outcome.layers is not None:
            self._write("layers", outcome.layers)
        self._write("sweep", row)

    def _write(self, name: str, frame: pd.DataFrame) -> None:
        try:
            self._append(name, frame)
        except OSError as exc:
            raise cannot_write(self.out, exc) from None

    def _append(self, name: str, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows (after the header, if the file has none) in one write.

        A write that fails leaves the file as it was (:func:`append_text`).
        """
        path = self.out / self.files[name]
        header = name not in self._started and (not path.exists() or path.stat().st_size == 0)
        append_text(path, safe_frame(frame).to_csv(index=False, header=header))
        self._started.add(name)

    def close(self) -> None:
        """Close the files (everything written so far stays)."""
        self._started = set()

    def release(self) -> None:
        """Close the files and let another process write the folder."""
        self.close()
        self._lock.release()

    def finalize(self, table: pd.DataFrame) -> None:
        """Rewrite the files sorted by point once every point has finished."""
        try:
            self._finalize(table)
        except OSError as exc:
            raise cannot_write(self.out, exc) from None

    def _finalize(self, table: pd.DataFrame) -> None:
        self.close()
        self._rewrite(self.files["sweep"], table)
        for name in self.files.keys() - {"sweep"}:
            frame = _read(self.out / self.files[name])
            if frame is not None:
                # A point solved again after a torn write appears twice: keep its last plan.
                keys = ["point"] + [c for c in ("period", "partner", "layer") if c in frame]
                frame = frame.drop_duplicates(keys, keep="last")
                # A pathway's periods stay in their order, not sorted by name.
                order = ["point"] if "period" in frame else keys
                self._rewrite(self.files[name], frame.sort_values(order, kind="stable"))


def _read(path: Path) -> pd.DataFrame | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    return read_csv(path)


def read_sweep(out: str | Path) -> dict[str, pd.DataFrame]:
    """The tables of a sweep folder: ``sweep``, ``layers`` and ``allocations``."""
    folder = Path(out)
    tables = {}
    for name, filename in FILES.items():
        frame = _read(folder / filename)
        if frame is not None:
            tables[name] = frame
    return tables
