"""Peak resident memory of this process, per stage (Linux ``/proc``)."""

from __future__ import annotations

import resource


def peak_mb() -> float:
    """The peak resident set size since the last :func:`reset_peak` (or start), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start a new peak (writing 5 to ``clear_refs`` resets VmHWM to the current RSS)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        pass
