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


def refuse_special(path: Path) -> None:
    """Raise :class:`~solver.errors.UsageError` if ``path`` is there and not an ordinary file."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    if not stat.S_ISREG(info.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else kind_of(info.st_mode)
        raise UsageError(f"{path} is {what}, not an ordinary file; it is never replaced")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed over ``path`` on success.

    The temporary file is beside ``path`` (same file system, so the rename is atomic) and
    hidden (``.NAME.PID.partial``); on any failure, interruptions included, it is removed
    and ``path`` is untouched. The folder of ``path`` is made if needed. A ``path`` that
    holds anything but an ordinary file (a folder, a device, a FIFO, a symbolic link) is
    never replaced: :class:`~solver.errors.UsageError` before anything is written.
    """
    path = Path(path)
    refuse_special(path)
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


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole (see :func:`replacing`)."""
    return write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` as indented JSON to ``path`` whole (see :func:`replacing`)."""
    import json

    return write_text(path, json.dumps(value, indent=2) + "\n")


def write_csv(path: Path, frame: Any, **kwargs: Any) -> Path:
    """Write a table to ``path`` whole with ``frame.to_csv`` (no index unless asked).

    See :func:`replacing`. Text cells are written as given: a caller that writes ids
    passes :func:`solver.report.cells.safe_frame` of its table where its readers expect it.
    """
    kwargs.setdefault("index", False)
    return write_file(path, lambda tmp: frame.to_csv(tmp, **kwargs))


def append_text(path: Path, text: str) -> None:
    """Append ``text`` (whole rows, each ending with a new line) to ``path`` in one write.

    A write that fails (a full disk) cuts ``path`` back to its length before, so it never
    leaves part of a row behind; only a crash in the middle of the write can (a reader of
    the study's folder drops a last row without its end of line). A ``path`` that is there
    and not an ordinary file is refused as :func:`replacing` refuses it.
    """
    refuse_special(path)  # a FIFO would block, a link write elsewhere
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        before = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, before)
            raise
    finally:
        os.close(fd)


def write_unit(path: Path, unit: str | None) -> Path:
    """Write ``{"unit": unit}`` to ``path`` whole: the case's unit, for the study's page."""
    return write_json(path, {"unit": unit})


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
