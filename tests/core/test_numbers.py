"""Numbers for people (issue 23, section 6): no floating-point noise, one number of significant digits."""

from __future__ import annotations

import pytest

from clarify_kit.core.numbers import ZERO_TOLERANCE, display_number, noise_scale


@pytest.mark.parametrize(
    ("value", "scale", "shown"),
    [
        (-0.0, None, "0"),
        (0.0, None, "0"),
        (5.551e-17, 0.8, "0"),
        (2.03e-16, 0.05, "0"),
        (-3e-12, 1.0, "0"),
        (0.12345678, 1.0, "0.1235"),
        (2e-6, 1.0, "2e-06"),  # small but real: shown, not zeroed
    ],
)
def test_noise_shows_as_zero_and_real_values_keep_their_digits(value: float, scale: float | None, shown: str) -> None:
    assert display_number(value, scale=scale) == shown


def test_sign_is_shown_only_on_real_values() -> None:
    assert display_number(0.5, sign=True) == "+0.5"
    assert display_number(-1e-18, scale=1.0, sign=True) == "0"


def test_the_tolerance_is_relative_to_the_records_mass() -> None:
    scale = noise_scale([0.3, -0.2, float("nan")])
    assert scale == pytest.approx(0.5)
    assert display_number(0.4 * ZERO_TOLERANCE, scale=scale) == "0"
    assert display_number(2 * ZERO_TOLERANCE, scale=scale) != "0"


def test_one_percentile_for_the_kit_equal_to_numpys_linear_one() -> None:
    import random

    import numpy as np

    from clarify_kit.core.numbers import percentile

    rng = random.Random(3)
    for size in (1, 2, 3, 10, 101):
        values = [rng.random() for _ in range(size)]
        for q in (0, 50, 90, 95, 99, 100):
            assert abs(percentile(values, q) - float(np.percentile(values, q))) < 1e-12
