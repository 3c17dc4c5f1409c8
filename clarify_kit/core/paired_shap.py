"""Kernel SHAP in rounds of complementary pairs, to a target error, with a standard error on every attribution.

The self-hosted explainer's own estimator (``ClarifyKit.SelfHosted.TargetError``, docs/explainer.md 3.10). It
evaluates coalitions in complementary pairs ``(S, N \\ S)`` only. Writing a coalition as signs ``u = 2z - 1``, a
pair gives the odd part of the value function, ``g(u) = (v(S) - v(N \\ S)) / 2``, and only the odd part carries
Shapley values: a product of signs over an even set ``T`` has none, one over an odd set gives ``2 / |T|`` to each
of its members. So the estimator fits ``g`` by least squares, weighted by the Shapley kernel, on a few odd terms:

- the M signs themselves (this alone is Kernel SHAP with paired sampling, exact for every game whose interactions
  are of order two or less);
- once the pairs outnumber them well, the products of three signs among the features with the largest
  attributions (a PolySHAP-style extension: exact for interactions of order up to four among those features);

under the efficiency constraint (the full coalition's value is known). Pairs are drawn without replacement, by
subset size: a size's pairs share one weight, the size's kernel mass over the pairs drawn of it (post-
stratification), so a size drawn whole is exact and adds no variance.

Standard errors come from the fit's own residuals: each sampled pair's influence on the attributions, its
residual inflated by its leverage (HC3), summed within sizes with the finite-population correction of drawing
without replacement. The relative error estimate ``sqrt(sum SE^2) / ||phi||`` decides when a record is done.
``bench/bench_target_error.py`` compares this estimator with the Clarify plan's at equal rows and measures how
often the intervals cover the exact values.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from clarify_kit.core.blas import one_thread
from clarify_kit.core.kernel_shap import gram_inverse

__all__ = ["Estimate", "PairedSampler", "first_round_pairs"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Pairs per model term before products of three signs join the fit. Measured (bench/bench_target_error.py): at
# 1.1 the fit nearly interpolates and its standard errors cover 60-70 % at the 90 % level; at 2 they cover 90 %+.
_PAIRS_PER_TERM = 2.0
_MAX_TRIPLES = 120  # the fit stays a small solve: 400 cost 0.8 s of CPU a record at 50 features
_ENUMERATE_UP_TO = 20_000  # a size with at most this many pairs is drawn from its full list (cached: <= 1 MB)


def first_round_pairs(m: int) -> int:
    """Pairs of the first round: every single feature against the rest, and as many drawn pairs again."""
    return 2 * m


@dataclass(frozen=True)
class Estimate:
    """Attributions (M, K), their standard errors (M, K) and the estimated relative L2 error of the record."""

    phi: FloatArray
    standard_error: FloatArray
    relative_error: float
    exact: bool


class PairedSampler:
    """The pairs drawn for one record and their values; ``propose`` draws more, ``estimate`` fits them."""

    def __init__(self, m: int, max_pairs: int, seed: int | None = None) -> None:
        if m < 2:
            raise ValueError("a paired sampler needs at least two features")
        self.m = m
        self.rng = np.random.default_rng(None if seed is None else seed % 2**32)
        self.sizes = np.arange(1, m // 2 + 1)
        self.population = np.array([_pairs_of_size(m, int(s)) for s in self.sizes], dtype=np.float64)
        self.max_pairs = int(min(max(1, max_pairs), self.population.sum()))
        # the Shapley kernel's mass on the pairs of each size (a size and its complement), summing to 1
        kernel = np.array([_pair_mass(m, int(s)) for s in self.sizes])
        self.mass = kernel / kernel.sum()
        self.drawn: list[BoolArray] = [np.zeros((0, m), dtype=bool) for _ in self.sizes]
        self._seen: list[set[bytes]] = [set() for _ in self.sizes]
        self._pending: list[BoolArray] = []
        # the odd part g of each size's pairs (n, K), in the order of ``drawn``; K is known at the first ``add``
        self._values: list[FloatArray] = []

    @property
    def count(self) -> int:
        return int(sum(len(d) for d in self.drawn))

    @property
    def done(self) -> bool:
        """Every pair the budget allows has been drawn."""
        return self.count >= self.max_pairs

    def propose(self, total: int) -> BoolArray:
        """New first halves to evaluate (each with its complement) so that ``total`` pairs are drawn, within the
        budget; returns (n, M) masks. Sizes are filled in proportion to their kernel mass, a size that is
        exhausted handing its share to the others."""
        total = min(total, self.max_pairs)
        want = _allocate(self.mass, self.population, total)
        fresh = []
        for i, size in enumerate(self.sizes):
            need = int(want[i]) - len(self.drawn[i])
            if need > 0:
                fresh.append(self._draw(i, int(size), need))
        new = np.concatenate(fresh) if fresh else np.zeros((0, self.m), dtype=bool)
        self._pending.append(new)
        return new

    def add(self, first: FloatArray, second: FloatArray) -> None:
        """The values (n, K) of the last proposal's halves and of their complements, in proposal order."""
        new = self._pending.pop(0)
        odd = (np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)) / 2
        odd = odd.reshape(len(new), -1)
        sizes = new.sum(axis=1)
        order = np.argsort(sizes, kind="stable")
        # keep the pairs grouped by size: ``drawn`` and ``_values`` stay in the same order
        if not self._values:
            self._values = [np.zeros((0, odd.shape[1])) for _ in self.sizes]
        for i, size in enumerate(self.sizes):
            rows = order[sizes[order] == size]
            self.drawn[i] = np.concatenate([self.drawn[i], new[rows]])
            self._values[i] = np.concatenate([self._values[i], odd[rows]])

    def estimate(self, delta: FloatArray, *, triples: bool = True) -> Estimate:
        """Fit the drawn pairs: ``delta`` (K,) is the prediction minus the expected value over the baseline."""
        delta = np.asarray(delta, dtype=np.float64).reshape(-1)
        masks = np.concatenate(self.drawn)
        values = np.concatenate(self._values)
        stratum = np.concatenate([np.full(len(d), i) for i, d in enumerate(self.drawn)])
        counts = np.array([len(d) for d in self.drawn], dtype=np.float64)
        weight = (self.mass / np.maximum(counts, 1))[stratum]  # a size's kernel mass over its pairs drawn
        sets = self._terms(masks, values, weight, delta) if triples else []
        signs = _signs(masks)
        with one_thread():
            fitted = self._fit(_design(signs, sets), weight, values, delta, stratum, counts, sets)
            if fitted is None and sets:  # the pairs drawn cannot tell some products apart: the signs alone
                fitted = self._fit(signs, weight, values, delta, stratum, counts, [])
            if fitted is None:  # not even the signs: the least-squares answer, with no error it could claim
                fitted = self._fit(signs, weight, values, delta, stratum, counts, [], identified=False)
        assert fitted is not None
        return fitted

    # --- internals ------------------------------------------------------------------------------------------

    def _terms(
        self, masks: BoolArray, values: FloatArray, weight: FloatArray, delta: FloatArray
    ) -> list[tuple[int, ...]]:
        """The products of three signs the fit can afford, among the features with the largest attributions."""
        room = int(len(masks) / _PAIRS_PER_TERM) - self.m
        k = 2
        while k < self.m and math.comb(k + 1, 3) <= min(room, _MAX_TRIPLES):
            k += 1
        if k < 3:
            return []
        with one_thread():
            linear = self._fit(_signs(masks), weight, values, delta, None, None, [], identified=False)
        assert linear is not None
        top = np.argsort(-np.abs(linear.phi).sum(axis=1), kind="stable")[:k]
        return [tuple(sorted(t)) for t in itertools.combinations(sorted(int(j) for j in top), 3)]

    def _fit(
        self,
        design: FloatArray,
        weight: FloatArray,
        values: FloatArray,
        delta: FloatArray,
        stratum: NDArray[np.int_] | None,
        counts: FloatArray | None,
        sets: list[tuple[int, ...]],
        *,
        identified: bool = True,
    ) -> Estimate | None:
        """The constrained weighted least-squares fit and its standard errors. With ``identified`` (the default),
        None when the design is singular: the pairs drawn do not pin every term down, so the fit interpolates
        them with residuals of zero and standard errors of zero while the attributions may be far off (measured:
        30 % off, claimed exact). Without it, the pseudo-inverse's answer, with an infinite relative error."""
        m = self.m
        p = design.shape[1]
        weighted = design * weight[:, None]
        gram = weighted.T @ design
        inverse = _invertible(gram)
        if inverse is None:
            if identified:
                return None
            inverse = gram_inverse(gram)
        ones = np.ones(p)
        inv_ones = inverse @ ones
        denominator = float(ones @ inv_ones)
        # the constrained inverse: coefficients = H b + inv_ones * (delta / 2) / denominator
        h = inverse - np.outer(inv_ones, inv_ones) / denominator
        coefficients = h @ (weighted.T @ values) + np.outer(inv_ones, delta / 2) / denominator
        to_phi = _shapley_map(m, sets)  # (M, p)
        phi = to_phi @ coefficients
        if stratum is None or counts is None:
            return Estimate(phi, np.zeros_like(phi), math.inf, False)
        residual = values - design @ coefficients
        leverage = ((weighted @ h) * design).sum(axis=1)  # a matrix product: einsum's own loop took 10x as long
        room = np.maximum(1 - leverage, 0.05)[:, None]
        reach = weighted @ (to_phi @ h).T  # (n, M): how a pair's residual moves each attribution
        # Reported: HC3 (residuals over 1 - leverage), conservative where the fit has few pairs per term, so
        # that the intervals hold. The stopping rule: HC2 (over its root), unbiased for the variance itself.
        se = np.sqrt(self._variance(reach, residual / room, stratum, counts))
        expected = np.sqrt(self._variance(reach, residual / np.sqrt(room), stratum, counts))
        exact = bool(np.all(counts >= self.population))
        if not identified and not exact:
            return Estimate(phi, se, math.inf, False)
        return Estimate(phi, se, 0.0 if exact else _relative(float(np.linalg.norm(expected)), phi), exact)

    def _variance(
        self, reach: FloatArray, residual: FloatArray, stratum: NDArray[np.int_], counts: FloatArray
    ) -> FloatArray:
        """The attributions' variance (M, K): each pair's influence, spread within its size, with the correction
        for drawing without replacement (a size drawn whole adds nothing). The pairs are grouped by size (the
        order of ``drawn``): each size's sums are one slice of the rows, summed in one call for all sizes."""
        n = counts.astype(np.int64)
        present = np.flatnonzero(n > 0)
        out = np.zeros((reach.shape[1], residual.shape[1]))
        if len(present) == 0:
            return out
        starts = (np.cumsum(n) - n)[present]
        sizes = n[present]
        # influence[pair, feature, k]: how the pair's residual moves attribution ``feature`` of score k
        influence = reach[:, :, None] * residual[:, None, :]
        means = np.add.reduceat(influence, starts, axis=0) / sizes[:, None, None]
        centred = influence - np.repeat(np.where((sizes > 1)[:, None, None], means, 0.0), sizes, axis=0)
        squares = np.add.reduceat(centred**2, starts, axis=0)
        population = self.population[present]
        correction = (1 - sizes / population) * np.where(sizes > 1, sizes / np.maximum(sizes - 1, 1), 1.0)
        correction[sizes >= population] = 0.0  # a size drawn whole is exact
        return np.asarray(np.einsum("s,smk->mk", correction, squares), dtype=np.float64)

    def _draw(self, index: int, size: int, need: int) -> BoolArray:
        """``need`` new pairs of one size (first halves), distinct from those drawn, in random order."""
        m, seen = self.m, self._seen[index]
        population = int(self.population[index])
        need = min(need, population - len(seen))
        if population <= _ENUMERATE_UP_TO and need > population // 4:
            every, keys = _size_halves(m, size)
            free = np.array([j for j, key in enumerate(keys) if key not in seen], dtype=np.int64)
            chosen = every[self.rng.permutation(free)[:need]]
        else:
            rows: list[BoolArray] = []
            found: set[bytes] = set()
            while len(rows) < need:
                block = _random_halves(self.rng, m, size, 2 * (need - len(rows)) + 8)
                for row, key in zip(block, np.packbits(block, axis=1), strict=True):
                    code = key.tobytes()
                    if code not in seen and code not in found:
                        found.add(code)
                        rows.append(row)
                        if len(rows) == need:
                            break
            chosen = np.array(rows, dtype=bool).reshape(-1, m)
        seen.update(row.tobytes() for row in np.packbits(chosen, axis=1))
        return np.asarray(chosen, dtype=bool)


def _invertible(gram: FloatArray) -> FloatArray | None:
    """inv(gram), or None when gram is singular or too ill-conditioned to trust (relative to its own scale)."""
    scale = float(np.abs(gram).max()) or 1.0
    try:
        inverse = np.linalg.inv(gram / scale)
    except np.linalg.LinAlgError:
        return None
    probe = np.linspace(1.0, 2.0, len(gram))
    if not np.all(np.isfinite(inverse)) or not np.allclose((gram / scale) @ (inverse @ probe), probe, atol=1e-8):
        return None
    return np.asarray(inverse / scale, dtype=np.float64)


def _relative(error: float, phi: FloatArray) -> float:
    """The error relative to the attributions' norm; for attributions of zero, 0 when the fit leaves no error
    (a record the model's output does not depend on) and infinite otherwise (no relative error can be claimed)."""
    norm = float(np.linalg.norm(phi))
    if norm > 0:
        return error / norm
    return 0.0 if error == 0 else math.inf


def _pairs_of_size(m: int, s: int) -> int:
    """Complementary pairs whose smaller half has ``s`` features."""
    return math.comb(m, s) // 2 if 2 * s == m else math.comb(m, s)


def _pair_mass(m: int, s: int) -> float:
    """The Shapley kernel's total weight on coalitions of size s and m - s."""
    one = (m - 1) / (s * (m - s))  # comb(m, s) coalitions, each weighing (m-1) / (comb(m, s) s (m - s))
    return one if 2 * s == m else 2 * one


def _allocate(mass: FloatArray, population: FloatArray, total: int) -> NDArray[np.int64]:
    """Pairs per size summing to ``total`` (at most the population): proportional to the mass, water-filled."""
    want = np.zeros(len(mass), dtype=np.int64)
    free = np.ones(len(mass), dtype=bool)
    left = total
    while left > 0 and free.any():
        share = mass * free / (mass * free).sum() * left
        capped = free & (want + share >= population)
        if capped.any():
            left -= int((population[capped] - want[capped]).sum())
            want[capped] = population[capped].astype(np.int64)
            free &= ~capped
            continue
        floor = np.floor(share).astype(np.int64)
        want += floor
        left -= int(floor.sum())
        order = np.argsort(-(share - floor))
        for j in order[:left]:
            want[j] += 1
        left = 0
    return want


@lru_cache(maxsize=32)
def _size_halves(m: int, s: int) -> tuple[BoolArray, tuple[bytes, ...]]:
    """Every pair of one size, as first halves (for a size of half the features, the halves holding feature 0),
    and their packed keys. Cached, read-only: every record and round of a width draws from the same list."""
    combos = [c for c in itertools.combinations(range(m), s) if 2 * s != m or c[0] == 0]
    out = np.zeros((len(combos), m), dtype=bool)
    for i, combo in enumerate(combos):
        out[i, list(combo)] = True
    out.setflags(write=False)
    return out, tuple(row.tobytes() for row in np.packbits(out, axis=1))


def _random_halves(rng: np.random.Generator, m: int, s: int, n: int) -> BoolArray:
    keys = rng.random((n, m))
    cut = np.sort(keys, axis=1)[:, s - 1]
    halves = keys <= cut[:, None]
    if 2 * s == m:  # one canonical half per pair: the one holding feature 0
        halves[~halves[:, 0]] = ~halves[~halves[:, 0]]
    return halves


def _signs(masks: BoolArray) -> FloatArray:
    """Coalitions as signs: +1 in, -1 out."""
    return np.where(masks, 1.0, -1.0)


def _design(signs: FloatArray, sets: list[tuple[int, ...]]) -> FloatArray:
    if not sets:
        return signs
    index = np.array(sets)
    products = signs[:, index[:, 0]] * signs[:, index[:, 1]] * signs[:, index[:, 2]]
    return np.concatenate([signs, products], axis=1)


def _shapley_map(m: int, sets: list[tuple[int, ...]]) -> FloatArray:
    """Coefficients of the sign terms to Shapley values: a term over an odd set T gives 2 / |T| to each member."""
    out = np.zeros((m, m + len(sets)))
    out[np.arange(m), np.arange(m)] = 2.0
    for column, members in enumerate(sets, start=m):
        out[list(members), column] = 2.0 / len(members)
    return out
