"""The products of three signs the cross-fit takes: the true ones when the pairs show them, none of rounding."""

from __future__ import annotations

import numpy as np

from clarify_kit.core.paired_products import choose_products


def _pairs(m: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.where(rng.random((n, m)) < 0.5, 1.0, -1.0), rng.random(n) + 0.5


def test_the_products_in_the_values_are_the_ones_taken() -> None:
    # GIVEN odd values made of the signs and three products of three, on 200 pairs of 12 features
    signs, weight = _pairs(12, 200, 0)
    truth = [(0, 4, 9), (1, 2, 11), (3, 7, 8)]
    values = signs @ np.linspace(-1, 1, 12) + sum(
        c * np.prod(signs[:, list(t)], axis=1) for t, c in zip(truth, [0.8, -0.5, 0.3], strict=True)
    )
    # WHEN up to ten products are chosen
    chosen = choose_products(signs, values[:, None], weight, 10)
    # THEN exactly those three are, and no product of rounding after them
    assert chosen == truth


def test_values_the_signs_explain_take_no_product_and_room_bounds_the_rest() -> None:
    signs, weight = _pairs(8, 120, 1)
    linear = (signs @ np.arange(8.0))[:, None]
    assert choose_products(signs, linear, weight, 20) == []
    noise = np.random.default_rng(2).normal(size=(120, 2))
    assert len(choose_products(signs, noise, weight, 5)) == 5
    assert choose_products(signs, noise, weight, 0) == []
