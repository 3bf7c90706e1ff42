"""Writing one output file: nothing is destroyed, nothing is left half-written.

A file the tool writes (a report page, a comparison, an exported model, a chart, a workbook)
goes to a temporary file beside it, which is renamed over the target only once it is whole;
a write that fails (a full disk) removes the temporary file and leaves the target as it was.
Only an ordinary file, or nothing, is ever replaced, and an existing one only when the
caller says so (``--force``): a rename would turn a device (``/dev/full``), a FIFO or a
link into an ordinary file, and a report's ``--out`` pointed at a case file would replace
the case.

:func:`save_figure` also draws every text of a chart as plain text: an id, a name or a
summary key with ``$`` in it is never read as matplotlib's mathtext markup (which fails on
an unbalanced ``$`` and silently typesets a balanced pair).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from solver.case.files import kind_of
from solver.errors import UsageError


def check_target(path: Path, *, force: bool, option: str = "--force") -> None:
    """Refuse to write ``path`` unless it is absent, or an ordinary file and ``force`` is set.

    Raises :class:`~solver.errors.UsageError` (exit 2) naming the path: one that holds
    anything but an ordinary file (a folder, a device, a FIFO, a socket, a symbolic link) is
    never replaced; an ordinary file only with ``option``.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise UsageError(f"{path}: a part of the path is a file, not a folder") from None
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{path} is a symbolic link; name the file itself (a link is never "
                         "replaced)")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path} is {kind_of(info.st_mode)}, not an ordinary file; it is never "
                         "replaced: name another path")
    if not force:
        raise UsageError(f"{path} already exists; pass {option} to replace it")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed over ``path`` on success.

    The temporary file is beside ``path`` (same file system, so the rename is atomic) and
    hidden (``.NAME.PID.partial``); on any failure, interruptions included, it is removed
    and ``path`` is untouched. The folder of ``path`` is made if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_file(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` and put ``tmp`` in place of ``path`` (see :func:`replacing`)."""
    with replacing(path) as tmp:
        write(tmp)
    return Path(path)


def write_unit(path: Path, unit: str | None) -> Path:
    """Write ``{"unit": unit}`` to ``path`` whole: the case's unit, for the study's page."""
    import json

    text = json.dumps({"unit": unit}, indent=2) + "\n"
    return write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def save_figure(fig: Any, target: Path | Any, **kwargs: Any) -> None:
    """``fig.savefig(target)`` with every text plain (no mathtext); a path is written whole.

    ``target`` is a path (the format from its suffix) or a file object (give ``format``).
    """
    from matplotlib import rc_context
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    rc = {"text.parse_math": False, **kwargs.pop("rc", {})}
    with rc_context(rc):
        if isinstance(target, str | Path):
            fmt = kwargs.pop("format", None) or Path(target).suffix.lstrip(".") or "png"
            write_file(Path(target), lambda tmp: fig.savefig(tmp, format=fmt, **kwargs))
        else:
            fig.savefig(target, **kwargs)
