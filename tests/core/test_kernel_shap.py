"""The Kernel SHAP engine against brute-force Shapley values, additivity in every mode and seed determinism."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest

from clarify_kit.core.kernel_shap import coalitions, explain, logit
from clarify_kit.core.synthetic import default_samples, n_samples

Model = Callable[[np.ndarray], np.ndarray]


def interacting(x: np.ndarray) -> np.ndarray:
    """Two outputs with products, a sine and a squashing: interactions everywhere."""
    a = np.sin(x[:, 0]) * x[:, 1] + x[:, 2] ** 2 - x[:, 0] * x[:, 3] * x[:, -1]
    b = np.tanh(x.sum(axis=1)) + x[:, 1] * x[:, 2]
    return np.stack([a, b], axis=1)


def probability(x: np.ndarray) -> np.ndarray:
    z = 0.8 * x[:, 0] - 0.5 * x[:, 1] * x[:, 2] + 0.3 * x.sum(axis=1)
    return (1 / (1 + np.exp(-z)))[:, None]


def evaluator(model: Model, x: np.ndarray, baseline: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def evaluate(masks: np.ndarray) -> np.ndarray:
        grid = np.where(masks[:, None, :], x[None, None, :], baseline[None, :, :])
        out = model(grid.reshape(-1, x.size))
        return out.reshape(masks.shape[0], baseline.shape[0], -1).mean(axis=1)

    return evaluate


def brute_force(
    model: Model, x: np.ndarray, baseline: np.ndarray, link: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    m = x.size
    evaluate = evaluator(model, x, baseline)

    def value(subset: tuple[int, ...]) -> np.ndarray:
        mask = np.zeros((1, m), dtype=bool)
        mask[0, list(subset)] = True
        return link(evaluate(mask))[0]

    phi = np.zeros((m, value(()).size))
    for j in range(m):
        others = [k for k in range(m) if k != j]
        for r in range(m):
            weight = math.factorial(r) * math.factorial(m - r - 1) / math.factorial(m)
            for subset in itertools.combinations(others, r):
                phi[j] += weight * (value(tuple(sorted((*subset, j)))) - value(subset))
    return phi


@pytest.mark.parametrize("n_baseline", [1, 4])
@pytest.mark.parametrize("m", [4, 6, 9])
def test_all_coalitions_give_exact_shapley_values(m: int, n_baseline: int) -> None:
    # GIVEN a nonlinear two-output model, a record and one or several baseline records
    rng = np.random.default_rng(m * 10 + n_baseline)
    x, baseline = rng.normal(size=m), rng.normal(size=(n_baseline, m))
    # WHEN the default sample count covers all 2^m - 2 coalitions
    result = explain(m, evaluator(interacting, x, baseline))
    # THEN the attributions are the Shapley values, to 1e-9
    assert result.exhaustive
    np.testing.assert_allclose(result.phi, brute_force(interacting, x, baseline, lambda v: v), atol=1e-9, rtol=0)


def test_use_logit_gives_exact_shapley_values_of_the_log_odds() -> None:
    rng = np.random.default_rng(3)
    x, baseline = rng.normal(size=6), rng.normal(size=(3, 6))
    result = explain(6, evaluator(probability, x, baseline), use_logit=True)
    np.testing.assert_allclose(result.phi, brute_force(probability, x, baseline, logit), atol=1e-9, rtol=0)
    assert result.prediction[0] == pytest.approx(logit(probability(x[None, :]))[0, 0])


@pytest.mark.parametrize(
    ("m", "samples", "use_logit"),
    [(12, 200, False), (20, None, False), (30, 64, True), (50, None, False), (9, 3, False)],
)
def test_additivity_holds_when_coalitions_are_sampled(m: int, samples: int | None, use_logit: bool) -> None:
    rng = np.random.default_rng(m)
    x, baseline = rng.normal(size=m), rng.normal(size=(2, m))
    model = probability if use_logit else interacting
    result = explain(m, evaluator(model, x, baseline), number_of_samples=samples, seed=7, use_logit=use_logit)
    assert not result.exhaustive
    assert result.additivity_error() < 1e-9
    assert np.isfinite(result.phi).all()


def test_the_same_seed_gives_identical_attributions_and_another_seed_differs() -> None:
    rng = np.random.default_rng(0)
    x, baseline = rng.normal(size=16), rng.normal(size=(1, 16))
    evaluate = evaluator(interacting, x, baseline)
    first = explain(16, evaluate, number_of_samples=300, seed=42)
    again = explain(16, evaluate, number_of_samples=300, seed=42)
    other = explain(16, evaluate, number_of_samples=300, seed=43)
    assert np.array_equal(first.phi, again.phi)
    assert not np.array_equal(first.phi, other.phi)


def test_sampled_attributions_approach_the_exact_ones() -> None:
    rng = np.random.default_rng(5)
    x, baseline = rng.normal(size=10), rng.normal(size=(1, 10))
    exact = brute_force(interacting, x, baseline, lambda v: v)
    sampled = explain(10, evaluator(interacting, x, baseline), number_of_samples=600, seed=1)
    assert np.abs(sampled.phi - exact).max() < 0.1 * np.abs(exact).max()


def test_plan_sizes_follow_the_documented_formula() -> None:
    assert n_samples(10, None) == 1022 and n_samples(20, None) == 2088  # DG-CREATE worked examples
    assert default_samples(4) == 14 and default_samples(12) == 2072 and n_samples(14, 100) == 100
    assert n_samples(1, None) == 0
    for m, budget in [(10, 1022), (14, 2076), (20, 2088), (14, 100)]:
        plan = coalitions(m, budget, 1)
        assert plan.size <= budget
        assert not plan.masks.all(axis=1).any() and plan.masks.any(axis=1).all()  # proper coalitions only
    assert coalitions(10, 1022, None).exhaustive


def test_one_feature_gets_the_whole_difference() -> None:
    result = explain(1, lambda masks: np.where(masks[:, :1], 3.0, 1.0))
    assert result.phi.tolist() == [[2.0]] and result.expected_value.tolist() == [1.0]


def test_the_model_is_evaluated_once_with_the_full_and_empty_coalitions_last() -> None:
    calls: list[np.ndarray] = []

    def evaluate(masks: np.ndarray) -> np.ndarray:
        calls.append(masks)
        return masks.sum(axis=1, keepdims=True).astype(float)

    result = explain(5, evaluate)
    assert len(calls) == 1
    assert calls[0][-2].all() and not calls[0][-1].any()
    np.testing.assert_allclose(result.phi[:, 0], np.ones(5))  # an additive model: each feature adds 1
