"""Reading a case's files safely: ordinary files only, never more than a cap.

A path given by a planner may be a link to ``/dev/zero`` (endless), a FIFO (a read that
never returns), a folder or a link that points to itself. :func:`read_capped` refuses all of
them with a message a planner can act on, and reads at most ``limit + 1`` bytes whatever the
file system says its size is (``st_size`` of a device or a growing file cannot be trusted).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class FileRefused(Exception):
    """The file cannot be read as a case file; ``str(exc)`` says why, in a planner's words."""


def is_present(path: Path) -> bool:
    """Whether ``path`` names something, a broken or looping link included (not "missing")."""
    return os.path.lexists(path)


def read_capped(path: Path, limit: int, what: str = "a case file") -> bytes:
    """The bytes of the ordinary file ``path``, at most ``limit`` of them.

    Raises :class:`FileRefused` for a link loop, a broken link, anything that is not an
    ordinary file (checked on the open file, so a swap after the check does not count) and a
    file longer than ``limit``; :class:`OSError` for other faults (permissions).
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRefused("is a link loop (a symbolic link that leads back to itself); "
                              "point it at a file") from None
        if exc.errno == errno.ENOENT and path.is_symlink():
            raise FileRefused(f"is a link to {os.readlink(path)}, which does not exist") from None
        raise
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(f"is {kind_of(info.st_mode)}, not an ordinary file: {what} must be a "
                          "file saved on disk")
    # O_NONBLOCK: should the path have become a FIFO since the check, open does not wait.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise FileRefused(f"is not an ordinary file: {what} must be a file saved on disk")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(f"is larger than {limit:,} bytes, the most {what} may be")
    return data


def kind_of(mode: int) -> str:
    """What a file mode names, in words: a folder, a FIFO (a pipe), a device, ..."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (a pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
