"""Numbers for people: attributions without floating-point noise (no ``-0.000000``, ``5.551e-17``).

Kernel SHAP's solver and float sums leave residues of about 1e-16 times a record's attribution mass where the exact
value is 0. A value whose magnitude is at most ``ZERO_TOLERANCE`` times its record's scale (the sum of the record's
absolute attributions for that label, which bounds |f(x) - E[f(x)]|) is shown as ``0``; every other value with the
same number of significant digits. Data outputs (CSV, JSON, the explain output) keep every value as computed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["ZERO_TOLERANCE", "display_number", "noise_scale", "percentile"]

# Relative to the record's scale: far above the solver's noise (~1e-16), far below any attribution worth reading.
ZERO_TOLERANCE = 1e-9


def noise_scale(values: Iterable[float]) -> float:
    """The scale a record's noise is measured against: the sum of its absolute attributions (finite ones)."""
    return math.fsum(abs(v) for v in values if math.isfinite(v))


def display_number(value: float, digits: int = 4, *, scale: float | None = None, sign: bool = False) -> str:
    """``value`` with ``digits`` significant digits; ``0`` for zero, negative zero and noise within
    ``ZERO_TOLERANCE * scale`` of zero; ``+`` before positive numbers when ``sign``."""
    if not math.isfinite(value):
        return str(value)
    if value == 0 or (scale is not None and abs(value) <= ZERO_TOLERANCE * scale):
        return "0"
    return f"{value:{'+' if sign else ''}.{digits}g}"


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0 to 100) of ``values``, interpolated between neighbours (numpy's default, linear);
    one value is its own every percentile.

    Raises
    ------
    ValueError: ``values`` is empty.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("the percentile of no value")
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
