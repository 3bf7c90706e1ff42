"""Writing a run folder (README, A worked example): its tables and summary.json.

A run folder appears complete or not at all: it is written into a temporary sibling folder
and renamed into place.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.errors import UsageError


def _json_default(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"cannot write {type(x).__name__} to JSON")


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    return x


def write_tables(folder: Path, tables: dict[str, pd.DataFrame], summary: dict[str, Any]) -> None:
    """Write CSV tables (full precision) and ``summary.json`` into an existing folder.

    ``summary["seconds"]["write"]``, if present, is set to the time the tables took.
    """
    from solver.report.cells import safe_frame

    start = time.perf_counter()
    for name, frame in tables.items():
        safe_frame(frame).to_csv(folder / f"{name}.csv", index=False)
    if isinstance(summary.get("seconds"), dict):
        summary["seconds"]["write"] = time.perf_counter() - start
    text = json.dumps(_finite(summary), indent=2, default=_json_default, allow_nan=False)
    (folder / "summary.json").write_text(text + "\n", encoding="utf-8")


#: What a run folder holds: ``--force`` replaces a folder that holds nothing else.
RUN_FILES = frozenset({"allocation.csv", "flows.csv", "layers.csv", "partners.csv",
                       "shortage.csv", "summary.json", "run.xlsx", "report.html",
                       "scenarios.csv", "scenario_flows.csv", "input_flows.csv",
                       "inputs.csv", "builds.csv", "markets.csv"})


def check_out(out: Path, *, force: bool = False) -> None:
    """Raise :class:`UsageError` unless ``out`` can become a run folder.

    Checked before a solve, so that a bad ``--out`` fails at once, not after the solve.
    An existing folder is replaced only if it is empty, or with ``force`` if it is a run
    folder (it holds nothing but run files): ``--force`` never deletes a case or other work.
    """
    if str(out) in ("", "."):
        raise UsageError("--out must name a run folder, not the current folder")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise UsageError(f"{out} exists and is not a folder")
        if not any(out.iterdir()):
            return  # an empty folder: nothing to lose
        if not force:
            raise UsageError(f"{out} already exists; pass --force to replace it")
        other = sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES)
        if other or not (out / "summary.json").is_file():
            shown = ", ".join(other[:5]) + (" ..." if len(other) > 5 else "")
            raise UsageError(f"{out} is not a run folder (it holds {shown or 'no summary.json'})"
                             "; --force replaces only a run folder: choose another --out")
        return
    check_writable(out)


def check_writable(out: Path) -> None:
    """Raise :class:`UsageError` unless a folder can be made at ``out`` (or written in it).

    Tried, not guessed from permission bits: a folder is made and removed in ``out`` if it is
    one, else in its nearest existing parent, so that ``/proc/rt``, a path under a regular
    file, a read-only folder or file system fail here, by name, before any work.
    """
    parent = out
    while not (parent.exists() or parent.is_symlink()):
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"cannot make {out}: {parent} is not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=".coalition-probe-", dir=parent)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if parent == out:
            raise UsageError(f"cannot write in {out}: {reason}") from None
        raise UsageError(f"cannot make {out}: {parent} does not let a folder be made in it "
                         f"({reason})") from None
    os.rmdir(probe)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    return True


def remove_stale_partials(out: Path) -> list[Path]:
    """Remove what an earlier write of ``out`` left behind when its process was killed.

    A run is written to ``.OUT.PID.RANDOM.partial`` beside ``out`` (and a replaced run is moved
    to ``.OUT.old-PID`` for a moment); a process killed with SIGKILL cannot clean up. Only
    folders whose process no longer exists are removed; a live writer's are left alone.
    """
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    for leftover in out.parent.glob(f".{glob.escape(out.name)}.*"):
        rest = leftover.name[len(out.name) + 2:]
        if rest.endswith(".partial"):
            pid_text = rest.split(".", 1)[0]
        elif rest.startswith("old-"):
            pid_text = rest[4:]
        else:
            continue
        if not pid_text.isdigit() or _alive(int(pid_text)) or not leftover.is_dir():
            continue
        shutil.rmtree(leftover, ignore_errors=True)
        removed.append(leftover)
    return removed


def write_run(result: Any, out: Path, *, force: bool = False, xlsx: bool = False) -> Path:
    """Write ``result`` to ``out`` atomically (temporary sibling folder, then rename).

    ``result`` is a :class:`solver.results.Result`.
    """
    check_out(out, force=force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial",
                                    dir=out.parent))
    except OSError as exc:
        raise UsageError(f"cannot make {out}: {exc.strerror or type(exc).__name__}") from None
    try:
        # mkdtemp makes the folder private (0700); a run folder is as any other the user makes.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        tables = {"allocation": result.allocation, "flows": result.flows,
                  "layers": result.layers, "partners": result.partners}
        if result.input_flows is not None and result.inputs is not None:
            tables["input_flows"] = result.input_flows
            tables["inputs"] = result.inputs
        if result.shortage is not None:
            tables["shortage"] = result.shortage
        if result.scenarios is not None:
            tables["scenarios"] = result.scenarios
        if result.scenario_flows is not None:
            tables["scenario_flows"] = result.scenario_flows
        if result.builds is not None:
            tables["builds"] = result.builds
        if result.markets is not None:
            tables["markets"] = result.markets
        write_tables(tmp, tables, result.summary)
        if xlsx:
            from solver.report.xlsx import write_workbook

            write_workbook(tmp / "run.xlsx", tables, result.summary)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
