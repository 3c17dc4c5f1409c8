"""The Kernel SHAP engine against brute-force Shapley values, additivity in every mode and seed determinism."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest

from clarify_kit.core.kernel_shap import attribute, coalitions, explain, logit
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


@pytest.mark.parametrize("seed", [3, None], ids=["seeded", "fresh"])
@pytest.mark.parametrize(("m", "budget"), [(20, 2088), (50, 2148), (7, 61), (31, 999)])
def test_a_sampled_plan_is_the_weighted_least_squares_it_stands_for(m: int, budget: int, seed: int | None) -> None:
    """The plan's shortcuts (cached enumerated part, paired draws counted once, 16-bit keys, block products, fresh
    plans drawn and inverted several at a time) against the textbook computation: every budget row is a proper
    coalition, the draws come in complementary pairs, and its gram inverse and attributions equal those of the
    dense weighted design in float64."""
    coalitions(m, budget, seed)  # a fresh plan after the first comes from the ones drawn with it
    plan = coalitions(m, budget, seed)
    masks, weights = plan.masks, plan.weights
    assert masks.shape == (budget, m) and not masks.all(axis=1).any() and masks.any(axis=1).all()
    assert weights.sum() == pytest.approx(1.0)
    design = masks[:, :-1].astype(float) - masks[:, -1:].astype(float)
    gram = (design * weights[:, None]).T @ design
    np.testing.assert_allclose(plan.gram_inverse @ gram, np.eye(m - 1), atol=1e-8)
    drawn = weights == weights[-1]  # the drawn rows share one weight; the enumerated sizes come first
    draws = masks[drawn]
    pairs = len(draws) // 2
    assert (draws[len(draws) - pairs :] == ~draws[:pairs]).all()
    values = np.random.default_rng(0).normal(size=(budget, 2))
    prediction, expected = np.array([1.5, -0.5]), np.array([0.2, 0.1])
    result = attribute(plan, values, prediction, expected)
    delta = prediction - expected
    target = (values - expected) - masks[:, -1:] * delta
    head = np.linalg.solve(gram, (design * weights[:, None]).T @ target)
    np.testing.assert_allclose(result.phi[:-1], head, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.phi.sum(axis=0), delta, rtol=1e-12)


def test_fresh_plans_are_independent_draws() -> None:
    """Without a seed every record gets draws of its own, also when several plans were drawn together."""
    plans = [coalitions(20, 2088, None) for _ in range(20)]
    drawn = [plan.masks[plan.weights == plan.weights[-1]].tobytes() for plan in plans]
    assert len(set(drawn)) == len(plans)
    assert len({plan.gram_inverse.tobytes() for plan in plans}) == len(plans)


def test_drawn_coalitions_are_uniform_subsets_of_kernel_distributed_sizes() -> None:
    """Many draws at 16 features: the sizes not enumerated appear in proportion to their kernel weight, each
    feature equally often within a size, and every drawn coalition has exactly its size."""
    m, budget = 16, 20_000
    plan = coalitions(m, budget, seed=11)
    drawn = plan.masks[plan.weights == plan.weights[-1]]
    small = np.minimum(drawn.sum(axis=1), m - drawn.sum(axis=1))  # a size and its complement's count together
    present = sorted(set(small.tolist()))
    assert present == list(range(present[0], m // 2 + 1)) and present[0] > 1  # the smallest sizes are enumerated
    kernel = {s: (m - 1) / (s * (m - s)) * (1 if 2 * s == m else 2) for s in present}
    total = sum(kernel.values())
    for s in present:
        assert np.mean(small == s) == pytest.approx(kernel[s] / total, abs=0.015)
        within = drawn[drawn.sum(axis=1) == s]
        np.testing.assert_allclose(within.mean(axis=0), s / m, atol=0.06)
