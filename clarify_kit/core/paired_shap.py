"""Kernel SHAP in rounds of complementary pairs, to a target error, with a standard error on every attribution.

The self-hosted explainer's own estimator (``ClarifyKit.SelfHosted.TargetError``, docs/explainer.md 3.10). It
evaluates coalitions in complementary pairs ``(S, N \\ S)`` only. Writing a coalition as signs ``u = 2z - 1``, a
pair gives the odd part of the value function, ``g(u) = (v(S) - v(N \\ S)) / 2``, and only the odd part carries
Shapley values: a product of signs over an even set ``T`` has none, one over an odd set gives ``2 / |T|`` to each
of its members. So the estimator fits ``g`` by least squares, weighted by the Shapley kernel, on a few odd terms:

- the M signs themselves (this alone is Kernel SHAP with paired sampling, exact for every game whose interactions
  are of order two or less);
- products of three signs (a PolySHAP-style extension: exact for interactions of order up to four among their
  features),

under the efficiency constraint (the full coalition's value is known). Pairs are drawn without replacement, by
subset size: a size's pairs share one weight, the size's kernel mass over the pairs drawn of it (post-
stratification), so a size drawn whole is exact and adds no variance.

Two fits choose the products differently, and the one with the smaller estimated error is the record's (the
cross-fit, after it loses, sits out until the pairs have doubled):

- fixed: every product among the k features with the largest attributions, k as large as two pairs a term allow,
  fitted on all pairs. Best for a model whose interactions are dense and spread thin (measured at 50 features,
  a tanh network, at the budget: 4-7 % error where the cross-fit had 4-8 %);
- cross-fitted: the products chosen by the data. Orthogonal matching pursuit takes, among the products of the 12
  features with the largest attributions, those that remove most of what the signs leave. A fit whose terms were
  chosen on its own pairs fits their noise, and its residuals then understate its error (measured: 90 % intervals
  covering 59-82 %); so the pairs of each size not drawn whole alternate between two halves, the products chosen
  on one half are fitted on the other (sizes drawn whole go to both), and the attributions are the mean of the
  two fits. Best for a model of few strong interactions anywhere among the features (trees, explicit products):
  exact after a few rounds where the fixed products never covered them.

Standard errors come from a fit's own residuals: each sampled pair's influence on the attributions, its residual
inflated by its leverage (HC3), summed within sizes with the finite-population correction of drawing without
replacement (of all pairs drawn of a size, for the halves too: drawn together, their errors lean against each
other). The cross-fit's variance is a quarter of the sum of its halves'. The relative error estimate
``sqrt(sum SE^2) / ||phi||`` (HC2 residuals, unbiased for the variance) decides when a record is done.
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
from clarify_kit.core.paired_products import Triple, choose_products

__all__ = ["Estimate", "PairedSampler", "first_round_pairs"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Products of three signs the cross-fit may take: one for every four pairs of the half that chooses them. Measured
# (bench/bench_target_error.py, rows to the Clarify default's median error as a share of its rows, MLP /
# third-order / gbm): the fixed fit alone 0.46 / 0.26 / 0.10; the cross-fit alone, one product in 7 pairs 0.42 /
# 0.08 / 0.07, in 4 0.42 / 0.08 / 0.06, in 3 0.41 / 0.08 / 0.06; both, the better one, 0.40 / 0.08 / 0.06. Either
# fit stays a small solve with at most 120 products (400 cost 0.8 s of CPU a record at 50 features). The cross-fit
# costs twice the fixed fit; after it loses it waits until the pairs have doubled, so that a model it does not
# help pays little for it: fitting CPU a record, the fast container's logistic model to a 2 % target, fixed fit
# alone against both: 9.7 -> 18.3 ms at 20 features (6 rounds), 82 -> 147 ms at 50 (12 rounds, at the budget).
_TERMS_PER_PAIR = 0.25
_MAX_TRIPLES = 120
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


@dataclass(frozen=True)
class _Fit:
    """One least-squares fit: attributions, standard errors (HC3), the HC2 errors the stopping rule reads."""

    phi: FloatArray
    standard_error: FloatArray
    expected: FloatArray
    identified: bool
    exact: bool

    def estimate(self) -> Estimate:
        if self.exact:
            return Estimate(self.phi, self.standard_error, 0.0, True)
        if not self.identified:
            return Estimate(self.phi, self.standard_error, math.inf, False)
        return Estimate(self.phi, self.standard_error, _relative(float(np.linalg.norm(self.expected)), self.phi), False)


@dataclass(frozen=True)
class _Pairs:
    """Some drawn pairs: their coalitions as signs, their odd values, their sizes (grouped, in drawn order), the
    pairs of each size among them, and each pair's weight."""

    signs: FloatArray
    values: FloatArray
    stratum: NDArray[np.int_]
    counts: FloatArray
    weight: FloatArray
    drawn: FloatArray  # the pairs of each size drawn in all, for the correction of drawing without replacement


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
        self._cross_fit_at = 0  # the pairs from which the next estimate tries the cross-fit again

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
        """Fit the drawn pairs: ``delta`` (K,) is the prediction minus the expected value over the baseline. Of
        the fixed products and the cross-fitted ones (the module's docstring), the fit with the smaller estimated
        error."""
        delta = np.asarray(delta, dtype=np.float64).reshape(-1)
        signs = _signs(np.concatenate(self.drawn))
        values = np.concatenate(self._values)
        stratum = np.concatenate([np.full(len(d), i) for i, d in enumerate(self.drawn)])
        every = self._pairs(signs, values, stratum, np.arange(len(signs)))
        with one_thread():
            if not triples or np.all(every.counts >= self.population):
                return self._fit_falling_back(every, delta, []).estimate()
            top = _top_products(self.m, len(signs), _sizes(every))
            fixed = self._fit_falling_back(every, delta, top).estimate()
            if len(signs) < self._cross_fit_at:
                return fixed
            crossed = self._cross_fit(signs, values, stratum, delta)
        if crossed is not None and crossed.relative_error < fixed.relative_error:
            self._cross_fit_at = 0
            return crossed
        # the cross-fit costs twice the fixed fit: after a loss, try it again once the pairs have doubled
        self._cross_fit_at = 2 * len(signs)
        return fixed

    # --- internals ------------------------------------------------------------------------------------------

    def _cross_fit(
        self, signs: FloatArray, values: FloatArray, stratum: NDArray[np.int_], delta: FloatArray
    ) -> Estimate | None:
        """The mean of the two halves' fits, each with the products the other half chose; None when neither chose
        any (then it would be the signs' fit on half the pairs each)."""
        halves: list[tuple[list[Triple], _Pairs]] = []
        for choose, fit in _halves(stratum, self.population):
            fitter = self._pairs(signs, values, stratum, fit)
            # at most one product for every four pairs that choose, and at least two drawn pairs a term in the fit
            # (sizes drawn whole aside): fitted on fewer, products that alias the true ones on those pairs leave
            # residuals near zero while the attributions are off (measured: a sparse tree 5-7 % off, claiming 0-1 %)
            drawn = int((fitter.counts < self.population)[fitter.stratum].sum())
            room = min(int(len(choose) * _TERMS_PER_PAIR), drawn // 2 - self.m, _MAX_TRIPLES)
            chooser = self._pairs(signs, values, stratum, choose)
            halves.append((choose_products(chooser.signs, chooser.values, chooser.weight, room), fitter))
        if not any(sets for sets, _ in halves):
            return None
        one, two = (self._fit_falling_back(fitter, delta, sets) for sets, fitter in halves)
        return _Fit(
            (one.phi + two.phi) / 2,
            np.sqrt(one.standard_error**2 + two.standard_error**2) / 2,
            np.sqrt(one.expected**2 + two.expected**2) / 2,
            one.identified and two.identified,
            False,
        ).estimate()

    # --- internals ------------------------------------------------------------------------------------------

    def _pairs(
        self, signs: FloatArray, values: FloatArray, stratum: NDArray[np.int_], rows: NDArray[np.int_]
    ) -> _Pairs:
        """Some of the drawn pairs (``rows``, in drawn order), each weighing its size's kernel mass over the pairs of
        that size among them."""
        counts = np.bincount(stratum[rows], minlength=len(self.sizes)).astype(np.float64)
        weight = (self.mass / np.maximum(counts, 1))[stratum[rows]]
        drawn = np.bincount(stratum, minlength=len(self.sizes)).astype(np.float64)
        return _Pairs(signs[rows], values[rows], stratum[rows], counts, weight, drawn)

    def _fit_falling_back(self, pairs: _Pairs, delta: FloatArray, sets: list[Triple]) -> _Fit:
        """The fit of these pairs with the signs and ``sets``; the signs alone if the pairs cannot tell the
        products apart; the least-squares answer with an unknown error if they cannot even pin the signs down."""
        fitted = self._fit(pairs, delta, sets)
        if fitted is None and sets:
            fitted = self._fit(pairs, delta, [])
        if fitted is None:
            fitted = self._fit(pairs, delta, [], identified=False)
        assert fitted is not None
        return fitted

    def _fit(self, pairs: _Pairs, delta: FloatArray, sets: list[Triple], *, identified: bool = True) -> _Fit | None:
        """The constrained weighted least-squares fit and its standard errors. With ``identified`` (the default),
        None when the design is singular: the pairs drawn do not pin every term down, so the fit interpolates
        them with residuals of zero and standard errors of zero while the attributions may be far off (measured:
        30 % off, claimed exact). Without it, the pseudo-inverse's answer, with an unknown error."""
        design = _design(pairs.signs, sets)
        weighted = design * pairs.weight[:, None]
        gram = weighted.T @ design
        inverse = _invertible(gram)
        if inverse is None:
            if identified:
                return None
            inverse = gram_inverse(gram)
        ones = np.ones(design.shape[1])
        inv_ones = inverse @ ones
        denominator = float(ones @ inv_ones)
        # the constrained inverse: coefficients = H b + inv_ones * (delta / 2) / denominator
        h = inverse - np.outer(inv_ones, inv_ones) / denominator
        coefficients = h @ (weighted.T @ pairs.values) + np.outer(inv_ones, delta / 2) / denominator
        to_phi = _shapley_map(self.m, sets)  # (M, p)
        phi = to_phi @ coefficients
        residual = pairs.values - design @ coefficients
        leverage = ((weighted @ h) * design).sum(axis=1)  # a matrix product: einsum's own loop took 10x as long
        room = np.maximum(1 - leverage, 0.05)[:, None]
        reach = weighted @ (to_phi @ h).T  # (n, M): how a pair's residual moves each attribution
        # Reported: HC3 (residuals over 1 - leverage), conservative where the fit has few pairs per term, so
        # that the intervals hold. The stopping rule: HC2 (over its root), unbiased for the variance itself.
        variance = self._variance(reach, residual / room, pairs)
        expected = self._variance(reach, residual / np.sqrt(room), pairs)
        exact = bool(np.all(pairs.counts >= self.population))
        return _Fit(phi, np.sqrt(variance), np.sqrt(expected), identified or exact, exact)

    def _variance(self, reach: FloatArray, residual: FloatArray, pairs: _Pairs) -> FloatArray:
        """The attributions' variance (M, K): each pair's influence, spread within its size, with the correction
        for drawing without replacement (a size drawn whole adds nothing). The pairs are grouped by size (the
        order of ``drawn``): each size's sums are one slice of the rows, summed in one call for all sizes.

        The correction reads the pairs drawn in all, not those of the fit: the two halves of a size are drawn
        together without replacement, and their errors lean against each other (the mean of two halves of n
        pairs has the variance of n pairs, 1/n - 1/N, where each half on its own has 2/n - 1/N)."""
        n = pairs.counts.astype(np.int64)
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
        population, drawn = self.population[present], pairs.drawn[present]
        correction = (1 - drawn / population) * np.where(sizes > 1, sizes / np.maximum(sizes - 1, 1), 1.0)
        correction[drawn >= population] = 0.0  # a size drawn whole is exact
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


def _sizes(pairs: _Pairs) -> FloatArray:
    """How large each feature's attribution is, to rank the features: the signs' weighted least-squares
    coefficients (M, K), unconstrained (the ranking needs no standard errors); zeros when the signs are not
    identified."""
    weighted = pairs.signs * pairs.weight[:, None]
    try:
        coefficients = np.linalg.solve(weighted.T @ pairs.signs, weighted.T @ pairs.values)
    except np.linalg.LinAlgError:
        return np.zeros((pairs.signs.shape[1], 1))
    return np.asarray(coefficients, dtype=np.float64)


def _top_products(m: int, pairs: int, phi: FloatArray) -> list[Triple]:
    """Every product of three among the k features with the largest attributions, k as large as two pairs a term
    (and 120 products) allow."""
    room = min(pairs // 2 - m, _MAX_TRIPLES)
    k = 2
    while k < m and math.comb(k + 1, 3) <= room:
        k += 1
    if k < 3:
        return []
    top = sorted(int(j) for j in np.argsort(-np.abs(phi).sum(axis=1), kind="stable")[:k])
    return [(a, b, c) for a, b, c in itertools.combinations(top, 3)]


def _halves(stratum: NDArray[np.int_], population: FloatArray) -> list[tuple[NDArray[np.int_], NDArray[np.int_]]]:
    """The two cross-fitting halves, as (pairs that choose the products, pairs that fit them), each in the order of
    the pairs (grouped by size). A size drawn whole belongs to both; any other size's pairs alternate between the
    halves in the order they were drawn (a random order)."""
    counts = np.bincount(stratum, minlength=len(population))
    position = np.arange(len(stratum)) - (np.cumsum(counts) - counts)[stratum]
    shared = (counts >= population)[stratum]
    first = np.flatnonzero(shared | (position % 2 == 0))
    second = np.flatnonzero(shared | (position % 2 == 1))
    return [(first, second), (second, first)]


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


def _design(signs: FloatArray, sets: list[Triple]) -> FloatArray:
    if not sets:
        return signs
    index = np.array(sets)
    products = signs[:, index[:, 0]] * signs[:, index[:, 1]] * signs[:, index[:, 2]]
    return np.concatenate([signs, products], axis=1)


def _shapley_map(m: int, sets: list[Triple]) -> FloatArray:
    """Coefficients of the sign terms to Shapley values: a term over an odd set T gives 2 / |T| to each member."""
    out = np.zeros((m, m + len(sets)))
    out[np.arange(m), np.arange(m)] = 2.0
    for column, members in enumerate(sets, start=m):
        out[list(members), column] = 2.0 / len(members)
    return out
