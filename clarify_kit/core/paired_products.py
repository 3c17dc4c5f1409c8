"""The products of three signs a paired fit takes, chosen by the data (clarify_kit.core.paired_shap's cross-fit).

Orthogonal matching pursuit on the pairs' odd values, weighted by the Shapley kernel: the candidates (every product
of three among the 12 features with the largest attributions, 220 at most) are made orthogonal to the signs, and
each step takes the candidate that removes most of what the signs and the products already taken leave. The steps
work on the candidates' gram matrix, orthogonalized a column at a time (Gram-Schmidt), so a step costs a
matrix-vector product and no refit: 120 steps over 220 candidates and 537 pairs take about 5 ms.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["Triple", "choose_products"]

FloatArray = NDArray[np.float64]
Triple = tuple[int, int, int]

_CANDIDATE_FEATURES = 12  # products among the 12 features with the largest attributions: 220 candidates


def choose_products(signs: FloatArray, values: FloatArray, weight: FloatArray, room: int) -> list[Triple]:
    """Up to ``room`` products of three signs that explain most of what the signs leave of these pairs' odd values
    (``signs`` (n, M) of +-1, ``values`` (n, K), ``weight`` (n,) the kernel's), fewer when the rest is rounding.
    A candidate the signs and the products taken already span is never taken: these pairs cannot tell it apart."""
    m = signs.shape[1]
    if room < 1 or m < 3:
        return []
    root = np.sqrt(weight)[:, None]
    basis, upper = np.linalg.qr(signs * root)
    target = values * root
    along = basis.T @ target
    size = np.abs(np.linalg.lstsq(upper, along, rcond=None)[0]).sum(axis=1)
    top = sorted(int(j) for j in np.argsort(-size, kind="stable")[: min(m, _CANDIDATE_FEATURES)])
    candidates = list(itertools.combinations(top, 3))
    index = np.array(candidates)
    atoms = signs[:, index[:, 0]] * signs[:, index[:, 1]] * signs[:, index[:, 2]] * root
    atoms -= basis @ (basis.T @ atoms)
    norms = np.sqrt(np.einsum("ij,ij->j", atoms, atoms))
    usable = norms > 1e-6 * math.sqrt(float(weight.sum()))  # a product the signs already span is no candidate
    atoms = atoms[:, usable] / norms[usable]
    candidates = [c for c, keep in zip(candidates, usable, strict=True) if keep]
    if not candidates:
        return []
    gram = atoms.T @ atoms
    left = atoms.T @ (target - basis @ along)  # (C, K): each candidate against what the signs and those taken leave
    energy = max(float((target**2).sum()), 1e-300)
    # Gram-Schmidt on the gram matrix: ``along_taken[:, t]`` holds every candidate's product with the t-th taken one
    # made orthogonal to those before it; ``free`` the part of each candidate's norm that those taken leave
    along_taken = np.zeros((len(candidates), room))
    free = np.ones(len(candidates))
    taken: list[int] = []
    while len(taken) < room:
        gain = (left**2).sum(axis=1) / np.maximum(free, 1e-300)  # how much of what is left each candidate removes
        gain[free < 1e-8] = -1.0  # (nearly) a combination of those taken: the pairs cannot tell it apart
        j = int(np.argmax(gain))
        if gain[j] <= 1e-20 * energy:  # nothing left but rounding (a game the signs fit exactly), or no candidate
            break
        t = len(taken)
        direction = (gram[:, j] - along_taken[:, :t] @ along_taken[j, :t]) / math.sqrt(free[j])
        along_taken[:, t] = direction
        left = left - np.outer(direction, left[j] / math.sqrt(free[j]))
        free = free - direction**2
        taken.append(j)
    return sorted(candidates[j] for j in taken)
