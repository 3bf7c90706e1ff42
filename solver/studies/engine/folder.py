"""The one protocol of a study's ``--out`` folder: claimed, locked, resumed, read back.

* An existing folder that holds anything is taken only with ``--force`` (start again) or
  ``--resume`` (go on); :func:`refuse_existing`.
* ``--resume`` goes on only with the request that made the folder: the same command, case
  (its sha256, overrides included) and every option that changes an answer. The request is
  written as JSON when the folder is made (:func:`write_request`) and compared on resume;
  :func:`check_request` names what differs (exit 2).
* A folder is written by one process at a time: :class:`FolderLock` holds an exclusive
  ``flock`` on a file in it for as long as the study runs; a second process is refused at
  once. The kernel drops the lock when its process ends, however it ends.
* Rows appended as work finishes are read back with :func:`read_rows`: a torn last row
  (cut off by a crash, no end of line) is dropped, to be computed again; a cell of the
  wrong type or a number that is not finite is refused by file, line and column.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from solver.errors import UsageError

#: The lock file in a folder being written (gone once the study ends).
LOCK = ".coalition.lock"


class FolderLock:
    """An exclusive lock on a study's output folder, made if need be.

    ``acquire`` makes the folder (and remembers that it did) and takes the lock, or raises
    :class:`UsageError` if another process holds it; ``release`` lets it go, and removes the
    folder again if it made it and nothing else was written there.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.made = False
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock (see the class); returns ``self``."""
        import fcntl

        try:
            self.made = not self.out.exists()
            self.out.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            where = exc.filename if isinstance(exc.filename, str) else str(self.out)
            raise UsageError(f"cannot write in {self.out}: {where}: "
                             f"{exc.strerror or type(exc).__name__}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UsageError(f"{self.out} is being written by another process (pid {holder}); "
                             "wait for it to end, or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the lock go (see the class); safe to call twice."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            (self.out / LOCK).unlink(missing_ok=True)
        finally:
            os.close(fd)
        if self.made:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # only if empty: whatever was written stays

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def entries(out: Path) -> list[str]:
    """The names in ``out`` other than the lock (none if it does not exist)."""
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if p.name != LOCK)


def refuse_existing(out: Path, *, resume: bool, force: bool, request: str, study: str) -> None:
    """Raise :class:`UsageError` unless ``out`` can hold this study; nothing is written.

    ``out`` must be a folder or not exist; one that holds anything is taken only with
    ``force``, or with ``resume`` if it has the ``request`` file of an earlier run.
    """
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"{out} exists and is not a folder: choose another --out")
        held = entries(out)
    except OSError as exc:
        raise UsageError(f"cannot write in {out}: {exc.strerror or type(exc).__name__}") \
            from None
    if resume:
        if not (out / request).is_file():
            raise UsageError(f"--resume: {out} holds no earlier {study} ({request} is missing)")
        return
    if held and not force:
        raise UsageError(f"{out} already exists; pass --force to replace it, or --resume "
                         "to go on with it")


def read_request(out: Path, request: str) -> dict[str, Any]:
    """The request an earlier run wrote in ``out`` (exit 2 if it cannot be read)."""
    try:
        found = json.loads((out / request).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"--resume: cannot read {out / request}: {exc}") from None
    if not isinstance(found, dict):
        raise UsageError(f"--resume: {out / request} does not hold a request")
    return found


def differences(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The keys whose values differ between two requests, sorted."""
    return sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))


def check_request(out: Path, before: Mapping[str, Any], now: Mapping[str, Any]) -> None:
    """Raise :class:`UsageError` naming what differs if ``before`` is not ``now``."""
    changed = differences(before, now)
    if not changed:
        return
    shown = "; ".join(f"{k}: was {_short(before.get(k))}, now {_short(now.get(k))}"
                      for k in changed)
    raise UsageError(f"--resume: {out} was made for another request ({shown}); run the "
                     "same command as before, or start again with --force")


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def write_request(out: Path, request: str, meta: Mapping[str, Any]) -> None:
    """Write the request that made ``out`` (whole, or not at all)."""
    from solver.report.writing import write_json

    write_json(out / request, meta)


def read_rows(path: Path, types: Mapping[str, str]) -> pd.DataFrame:
    """The rows appended to ``path``, each cell checked against ``types``.

    ``types`` maps a column to ``str``, ``int``, ``float`` (finite) or ``float?`` (finite
    or empty). A last row without its end of line was torn by a crash: it is dropped (the
    work is done again). Any other row whose cells do not fit raises :class:`UsageError`
    naming the file, line and column. Columns not in ``types`` are kept as text.
    """
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):  # a FIFO would block, a link lead out
            raise UsageError(f"--resume: {path} is not an ordinary file; start again with "
                             "--force")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return pd.DataFrame(columns=list(types))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--resume: cannot read {path}: {exc}") from None
    if text and not text.endswith("\n"):
        text = text[:text.rfind("\n") + 1]  # the torn last row
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        return pd.DataFrame(columns=list(types))
    header, rows = lines[0], lines[1:]
    missing = [c for c in types if c not in header]
    if missing:
        raise UsageError(f"{path.name}: no column {', '.join(missing)}; it was not written by "
                         "this study: start again with --force")
    records = []
    for number, cells in enumerate(rows, start=2):
        if len(cells) != len(header):
            raise UsageError(f"{path.name}, line {number}: {len(cells)} cells for "
                             f"{len(header)} columns; start again with --force")
        record: dict[str, Any] = dict(zip(header, cells, strict=True))
        for column, kind in types.items():
            record[column] = _cell(path, number, column, record[column], kind)
        records.append(record)
    return pd.DataFrame(records, columns=header)


def keep_rows(path: Path, frame: pd.DataFrame) -> None:
    """Rewrite ``path`` with ``frame`` only (whole, or not at all), if it exists."""
    if not path.exists():
        return
    from solver.report.writing import write_csv

    write_csv(path, frame)


def _cell(path: Path, line: int, column: str, text: str, kind: str) -> Any:
    if kind == "str":
        return text
    if kind == "float?" and text == "":
        return None
    try:
        value: float = int(text) if kind == "int" else float(text)
    except ValueError:
        why = "not a whole number" if kind == "int" else "not a number"
    else:
        if math.isfinite(value):
            return value
        why = "not a finite number"
    raise UsageError(f"{path.name}, line {line}, column {column}: {text!r}: {why}; fix it, "
                     "or start again with --force")
