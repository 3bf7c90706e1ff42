"""Numbers for people: ``52,260`` rather than ``5.226e+04``, ``0.74`` rather than ``0.7399...``.

What the screen and the report pages show is rounded to a few significant digits, with
thousands separators and never in exponent notation within the range a plan's quantities
take (1e-4 to 1e15); what the CSV files hold is every float's shortest text that reads back
to the same float (Python's ``repr``, pandas' default), so nothing is lost and nothing
spurious is added.
"""

from __future__ import annotations

import math
from typing import Any

#: What a missing number shows as.
MISSING = "-"


def readable(x: Any, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits, its whole part whole, separators, no exponent.

    ``readable(52260.3) == "52,260"``, ``readable(895.243) == "895.2"``,
    ``readable(0.16) == "0.16"``; a tiny or huge magnitude (below 1e-4, from 1e15) keeps the
    exponent, a missing value (None, NaN) is ``-`` and text is shown as it is.
    """
    try:
        value = float(x)
    except (TypeError, ValueError):
        return MISSING if x is None else str(x)
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 15:
        return format(value, f".{digits}g")
    text = f"{value:,.{max(digits - 1 - magnitude, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent(x: Any, decimals: int = 1) -> str:
    """A share (0.404) as a percentage (``40.4%``); a missing value as ``-``."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return MISSING if x is None else str(x)
    return MISSING if math.isnan(value) else f"{100 * value:.{decimals}f}%"


def yes_no(x: Any) -> str:
    """A bool cell (True, "true", 1) as ``yes`` or ``no``; a missing one as ``-``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    return "yes" if str(x).strip().lower() in ("true", "1", "1.0", "yes") else "no"


def with_unit(label: str, unit: str | None) -> str:
    """``total cost (USD bn a year)``; the label alone when the case names no unit."""
    return f"{label} ({unit})" if unit else label
