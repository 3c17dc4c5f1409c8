"""Exact sums of floats: each float64 added as an integer multiple of 2^-1074 (the smallest float64 step), so that
a sum does not depend on the order or the grouping of its terms and partial sums merge bit for bit.

Standard library; numpy, where installed, sums large blocks at C speed to the same integers.
"""

from __future__ import annotations

__all__ = ["exact", "exact_column_sums", "exact_mean"]

_SCALE = 1074  # 2^-1074 is the smallest positive float64: every float is an integer multiple of it


def exact(value: float) -> int:
    """``value`` (finite) as an exact integer multiple of 2^-1074."""
    numerator, denominator = value.as_integer_ratio()  # the denominator is a power of two
    return numerator << (_SCALE + 1 - denominator.bit_length())


_BATCH = 1023  # rows summed at once by numpy: 1023 mantissas below 2^53 cannot overflow an int64


def exact_column_sums(rows: list[list[float]], width: int) -> list[int]:
    """The exact sum of each column of ``rows`` (finite floats), in 2^-1074 units."""
    try:
        import numpy as np
    except ModuleNotFoundError:  # Lambda's runtime: the same integers, one value at a time
        return [sum(exact(row[j]) for row in rows) for j in range(width)]
    totals = [0] * width
    values = np.asarray(rows, dtype=np.float64).reshape(len(rows), width)
    for start in range(0, len(values), _BATCH):
        block = values[start : start + _BATCH]
        mantissas, exponents = np.frexp(block)
        whole = (mantissas * 2.0**53).astype(np.int64)
        shifts = exponents.astype(np.int64) - 53 + _SCALE
        tiny = shifts < 0  # subnormals: their own path (exact too)
        for j in range(width):
            column, shift = whole[:, j], shifts[:, j]
            if tiny[:, j].any():
                totals[j] += sum(exact(float(v)) for v in block[tiny[:, j], j])
                column, shift = column[~tiny[:, j]], shift[~tiny[:, j]]
            kinds, where = np.unique(shift, return_inverse=True)
            sums = np.zeros(len(kinds), dtype=np.int64)
            np.add.at(sums, where, column)
            totals[j] += sum(int(total) << int(kind) for total, kind in zip(sums, kinds, strict=True))
    return totals


def exact_mean(total: int, count: int) -> float:
    return total / (count << _SCALE) if count else 0.0  # int / int: one correct rounding
