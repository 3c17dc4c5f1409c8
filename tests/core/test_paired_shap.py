"""The self-hosted explainer's estimator: pairs drawn without replacement, exact where it should be, standard
errors that cover the exact Shapley values, and a budget it never exceeds."""

from __future__ import annotations

import numpy as np
import pytest

from clarify_kit.core.kernel_shap import attribute, coalitions, standard_errors
from clarify_kit.core.paired_shap import PairedSampler, first_round_pairs


def _game(m: int, seed: int, order: int) -> tuple[object, np.ndarray]:
    """A random game with interactions up to ``order`` and its exact Shapley values (enumerated)."""
    rng = np.random.default_rng(seed)
    linear = rng.normal(size=m)
    pairs = [(tuple(rng.choice(m, 2, replace=False)), rng.normal()) for _ in range(2 * m)]
    triples = [(tuple(rng.choice(m, 3, replace=False)), rng.normal()) for _ in range(m if order >= 3 else 0)]
    fours = [(tuple(rng.choice(m, 5, replace=False)), rng.normal()) for _ in range(m if order >= 5 else 0)]

    def value(masks: np.ndarray) -> np.ndarray:
        z = masks.astype(float)
        out = z @ linear
        for terms in (pairs, triples, fours):
            for members, weight in terms:
                out = out + weight * np.prod(z[:, list(members)], axis=1)
        return out[:, None]

    every = coalitions(m, 2**m, 0)
    full, empty = value(np.ones((1, m), bool))[0], value(np.zeros((1, m), bool))[0]
    exact = attribute(every, value(every.masks), full, empty).phi[:, 0]
    return value, exact


def _run(m: int, value: object, target: float, budget: int, seed: int) -> tuple[PairedSampler, object]:
    sampler = PairedSampler(m, budget, seed)
    delta = value(np.ones((1, m), bool))[0] - value(np.zeros((1, m), bool))[0]  # type: ignore[operator]
    total = first_round_pairs(m)
    while True:
        new = sampler.propose(total)
        sampler.add(value(new), value(~new))  # type: ignore[operator]
        estimate = sampler.estimate(delta)
        if estimate.relative_error <= target or sampler.done or estimate.exact:
            return sampler, estimate
        total = int(sampler.count * 1.5) + 1


def test_a_game_of_pairwise_interactions_is_explained_exactly_from_the_first_round() -> None:
    # GIVEN a game whose interactions are of order two at most
    value, exact = _game(12, 0, order=2)
    # WHEN the sampler fits its first round of pairs
    sampler, estimate = _run(12, value, 1e-9, 2000, 1)
    # THEN it is exact (paired sampling cancels even interactions) and says so with zero standard errors
    assert np.allclose(estimate.phi[:, 0], exact, atol=1e-10)
    assert float(np.max(estimate.standard_error)) < 1e-9
    assert sampler.count == first_round_pairs(12)


def test_interactions_of_order_three_are_fitted_once_the_pairs_afford_them() -> None:
    value, exact = _game(10, 3, order=3)
    _, estimate = _run(10, value, 1e-9, 511, 2)
    assert np.allclose(estimate.phi[:, 0], exact, atol=1e-8)


def _products_game(m: int, seed: int) -> tuple[object, np.ndarray]:
    """The signs and five products of three, anywhere among ``m`` features, and its exact Shapley values."""
    rng = np.random.default_rng(seed)
    linear, weights = rng.normal(size=m), rng.normal(size=5)
    triples = [rng.choice(m, 3, replace=False) for _ in range(5)]

    def value(masks: np.ndarray) -> np.ndarray:
        z = masks.astype(float)
        products = sum(w * np.prod(z[:, t], axis=1) for t, w in zip(triples, weights, strict=True))
        return (z @ linear + products)[:, None]

    every = coalitions(m, 2**m, 0)
    ends = value(np.array([[True] * m, [False] * m]))
    return value, attribute(every, value(every.masks), ends[0], ends[1]).phi[:, 0]


def test_products_of_three_spread_over_all_the_features_are_found_by_the_data() -> None:
    for seed in range(4):
        # GIVEN a game whose odd part is the signs and five products of three, anywhere among 12 features
        value, exact = _products_game(12, seed)
        # WHEN explained to an error of 1e-9 within 2,000 pairs
        sampler, estimate = _run(12, value, 1e-9, 2000, seed)
        # THEN the products are chosen from the pairs' values, and the attributions are exact after a few rounds
        # (all products among the features with the largest attributions, 120 at most, never got there)
        assert np.allclose(estimate.phi[:, 0], exact, atol=1e-9)
        assert sampler.count <= 200, sampler.count


def test_pairs_are_distinct_within_the_budget_and_a_whole_space_is_exact() -> None:
    value, exact = _game(8, 5, order=5)
    sampler, estimate = _run(8, value, 0.0, 10_000, 3)
    drawn = np.concatenate(sampler.drawn)
    assert len({row.tobytes() for row in np.packbits(drawn, axis=1)}) == len(drawn) == 127  # every pair, once
    assert estimate.exact and np.allclose(estimate.phi[:, 0], exact, atol=1e-9)
    capped, _ = _run(12, _game(12, 1, order=5)[0], 0.0, 300, 4)
    assert capped.count == 300


def test_the_intervals_cover_the_exact_values_as_often_as_they_claim() -> None:
    # GIVEN games with interactions up to order five, explained to a 2 % target
    covered, total = 0, 0
    for seed in range(12):
        value, exact = _game(14, seed, order=5)
        _, estimate = _run(14, value, 0.02, 2000, seed)
        inside = np.abs(estimate.phi[:, 0] - exact) <= 1.645 * estimate.standard_error[:, 0] + 1e-12
        covered, total = covered + int(inside.sum()), total + len(exact)
    # THEN the 90 % intervals cover at least 85 % of the attributions
    assert covered / total >= 0.85, covered / total


@pytest.mark.parametrize("m", [12, 16])
def test_the_clarify_plans_standard_errors_cover_the_exact_values(m: int) -> None:
    covered, total = 0, 0
    for seed in range(10):
        value, exact = _game(m, seed, order=5)
        plan = coalitions(m, 400, seed)
        values = value(plan.masks)  # type: ignore[operator]
        full, empty = value(np.ones((1, m), bool))[0], value(np.zeros((1, m), bool))[0]  # type: ignore[operator]
        result = attribute(plan, values, full, empty)
        se = standard_errors(plan, values, result)[:, 0]
        covered += int((np.abs(result.phi[:, 0] - exact) <= 1.645 * se).sum())
        total += m
    assert covered / total >= 0.85, covered / total
    exhaustive = coalitions(8, 10_000, 0)
    value, _ = _game(8, 0, order=3)
    values = value(exhaustive.masks)  # type: ignore[operator]
    result = attribute(exhaustive, values, np.ones(1), np.zeros(1))
    assert not standard_errors(exhaustive, values, result).any()


def test_a_record_the_model_ignores_stops_at_the_first_round() -> None:
    # GIVEN a model whose output does not depend on the features
    def constant(masks: np.ndarray) -> np.ndarray:
        return np.full((len(masks), 1), 0.7)

    # WHEN it is explained to a target error
    sampler, estimate = _run(20, constant, 0.01, 2000, 0)
    # THEN its attributions are zero, and it stops at once instead of spending the budget
    assert not estimate.phi.any() and sampler.count == first_round_pairs(20)


def _sparse_tree_like(masks: np.ndarray) -> np.ndarray:
    """A model that reads four of ten features, with the ANDs of a tree's splits (orders three and four)."""
    z = masks.astype(float)
    out = 0.5 * z[:, 0] - 0.6 * z[:, 1] + 0.3 * z[:, 0] * z[:, 1] * z[:, 6] - 0.2 * z[:, 1] * z[:, 6] * z[:, 7]
    return (out + 0.1 * z[:, 0] * z[:, 1] * z[:, 6] * z[:, 7])[:, None]


def test_a_fit_the_pairs_cannot_pin_down_never_claims_a_small_error() -> None:
    # GIVEN a model of few features and high-order ANDs, whose pairs often leave the products of three signs
    # collinear (the fit then interpolates them: residuals of zero, yet attributions 15-30 % off)
    every = coalitions(10, 2**10, 0)
    ends = _sparse_tree_like(np.array([[True] * 10, [False] * 10]))
    exact = attribute(every, _sparse_tree_like(every.masks), ends[0], ends[1]).phi[:, 0]
    for seed in range(40):
        # WHEN it is explained to a target of 1 %
        _, estimate = _run(10, _sparse_tree_like, 0.01, 511, seed)
        error = float(np.linalg.norm(estimate.phi[:, 0] - exact) / np.linalg.norm(exact))
        # THEN whenever the sampler claims the target, the attributions are within a few times of it
        if estimate.relative_error <= 0.01:
            assert error <= 0.05, (seed, error, estimate.relative_error)


def test_a_clarify_plan_that_cannot_pin_the_attributions_down_claims_no_error() -> None:
    # GIVEN 20 coalitions for 14 features: the plan's regression is singular
    value, exact = _game(14, 0, order=2)
    plan = coalitions(14, 20, 1)
    values = value(plan.masks)  # type: ignore[operator]
    full, empty = value(np.ones((1, 14), bool))[0], value(np.zeros((1, 14), bool))[0]  # type: ignore[operator]
    result = attribute(plan, values, full, empty)
    # THEN the least-squares answer is far off, and no standard error pretends otherwise (its residuals are zero)
    assert not plan.identified
    assert np.linalg.norm(result.phi[:, 0] - exact) / np.linalg.norm(exact) > 0.2
    assert standard_errors(plan, values, result) is None
    assert coalitions(14, 2 * 14 + 2048, 1).identified
