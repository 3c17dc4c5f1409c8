"""The self-hosted explainer's target error against the Clarify explainer's default budget, measured in one run.

Three 12-feature models (a gradient-boosted regressor, a small MLP, a function with third-order interactions and a
kink), 20 records each explained four times (seeds of their own), a one-row baseline, exact Shapley values by
enumeration. For each model:

(a) Clarify's default plan (the kit's emulation, 2,072 coalitions a record): its median relative error e0, and
    how often its standard errors' intervals cover the exact values (50 %, 90 %, 95 %);
(b) the self-hosted explainer's rounds (clarify_kit.explainer.rounds) with TargetError = e0: its median error,
    its rows against Clarify's, and its intervals' coverage;
(c) the estimators at equal budgets (1/8, 1/4, 1/2 of the default): the Clarify plan and the paired estimator with
    and without products of three signs.

Goals (issue 35): median error within 1.25 x e0 on at most a quarter of Clarify's rows; 90 % intervals covering
at least 85 %.

    python bench/bench_target_error.py
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from goals import exit_status, goal  # noqa: E402

from clarify_kit.core.kernel_shap import Coalitions, attribute, coalitions, standard_errors  # noqa: E402
from clarify_kit.core.paired_shap import PairedSampler  # noqa: E402
from clarify_kit.core.synthetic import n_samples  # noqa: E402
from clarify_kit.explainer.rounds import sample_to_target  # noqa: E402
from clarify_kit.explainer.rows import Record  # noqa: E402

warnings.filterwarnings("ignore")
M = 12
RECORDS = 20
# Runs a record, each with its own seed: with one, the median error of Clarify's default (e0) moved by 15 % from
# one set of draws to the next (MLP 0.0141 or 0.0165), and the rows share with it (0.41 or 0.35).
SEEDS = 4
Z = {"50 %": 0.674, "90 %": 1.645, "95 %": 1.96}


def models() -> tuple[dict[str, Callable[[np.ndarray], np.ndarray]], np.ndarray]:
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, M))
    y = x[:, 0] * x[:, 1] * x[:, 2] + np.maximum(x[:, 3] + x[:, 4], 0) + x[:, 5] * x[:, 6] + 0.5 * x[:, 7]
    y = y + np.sin(x[:, 8] * x[:, 9])
    gbm = GradientBoostingRegressor(n_estimators=100, max_depth=4, random_state=0).fit(x, y)
    mlp = MLPRegressor(hidden_layer_sizes=(32, 16), max_iter=600, random_state=0).fit(x, y)
    linear = rng.normal(size=M) * 0.3
    triples = [tuple(rng.choice(M, 3, replace=False)) for _ in range(8)]
    pairs = [tuple(rng.choice(M, 2, replace=False)) for _ in range(8)]

    def third(z: np.ndarray) -> np.ndarray:
        out = z @ linear + np.abs(z[:, 0] - 0.3)  # a kink
        for i, j, k in triples:
            out = out + z[:, i] * z[:, j] * z[:, k]
        for i, j in pairs:
            out = out + 0.5 * z[:, i] * z[:, j]
        return np.asarray(out)

    return {"gbm": gbm.predict, "mlp": mlp.predict, "third-order": third}, x


def values_of(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, base: np.ndarray) -> Callable[..., np.ndarray]:
    def value(masks: np.ndarray) -> np.ndarray:
        grid = np.where(masks, x[None, :], base[None, :])
        return np.asarray(f(grid), dtype=np.float64).reshape(-1, 1)

    return value


def exact_phi(value: Callable[..., np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    every = coalitions(M, 2**M, 0)
    full, empty = value(np.ones((1, M), bool))[0], value(np.zeros((1, M), bool))[0]
    return attribute(every, value(every.masks), full, empty).phi[:, 0], full, empty


def clarify(value: Callable[..., np.ndarray], full: Any, empty: Any, budget: int, seed: int) -> Any:
    plan = coalitions(M, budget, seed)
    values = value(plan.masks)
    result = attribute(plan, values, full, empty)
    return result.phi[:, 0], standard_errors(plan, values, result)[:, 0]


def rounds(value: Callable[..., np.ndarray], full: Any, empty: Any, target: float, seed: int) -> Any:
    """The self-hosted explainer's rounds, with the model evaluated in process: rows counted as sent."""
    sent = [0]

    def score(batch: list[Record]) -> np.ndarray:
        masks = np.concatenate([r.plan.masks for r in batch])
        sent[0] += len(masks)
        return value(masks)

    record = Record(0, [0.0] * M, Coalitions(np.zeros((0, M), bool), np.zeros(0), np.zeros((M - 1, M - 1)), False))
    ((_, estimate),) = sample_to_target(
        [record], [full - empty], target=target, number_of_samples=None, seed=seed, score=score, n_base=1
    )
    return estimate.phi[:, 0], estimate.standard_error[:, 0], sent[0] + 1  # + the prediction itself


def paired_at(value: Callable[..., np.ndarray], full: Any, empty: Any, budget: int, triples: bool, seed: int) -> Any:
    sampler = PairedSampler(M, budget // 2, seed)
    new = sampler.propose(budget // 2)
    sampler.add(value(new), value(~new))
    return sampler.estimate(full - empty, triples=triples).phi[:, 0]


def rel(phi: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(phi - exact) / np.linalg.norm(exact))


def coverage(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, float]:
    return {
        level: float(np.mean(np.concatenate([np.abs(phi - exact) <= z * se + 1e-12 for phi, se, exact in pairs])))
        for level, z in Z.items()
    }


def main() -> int:
    fs, data = models()
    rng = np.random.default_rng(1)
    base = data.mean(axis=0)
    chosen = data[rng.choice(len(data), RECORDS, replace=False)]
    default = n_samples(M, None)
    print(f"{M} features, {RECORDS} records a model, one baseline row; Clarify's default: {default + 1} rows a record")
    print(
        f"{'model':12s} {'e0':>7s} {'target err':>10s} {'ratio':>6s} {'rows':>6s} {'share':>6s}  coverage (50/90/95 %)"
    )
    for name, f in fs.items():
        cases = []
        for x in chosen:
            value = values_of(f, x, base)
            cases.append((value, *exact_phi(value)))
        seeded = [(seed, case) for seed in range(SEEDS) for case in cases]
        base_runs = [clarify(c[0], c[2], c[3], default, 100 + 1000 * seed + i) for i, (seed, c) in enumerate(seeded)]
        e0 = float(np.median([rel(phi, c[1]) for (phi, _), (_, c) in zip(base_runs, seeded, strict=True)]))
        cover0 = coverage([(phi, se, c[1]) for (phi, se), (_, c) in zip(base_runs, seeded, strict=True)])
        runs = [rounds(c[0], c[2], c[3], e0, 200 + 1000 * seed + i) for i, (seed, c) in enumerate(seeded)]
        err = float(np.median([rel(phi, c[1]) for (phi, _, _), (_, c) in zip(runs, seeded, strict=True)]))
        rows = float(np.mean([r[2] for r in runs]))
        cover = coverage([(phi, se, c[1]) for (phi, se, _), (_, c) in zip(runs, seeded, strict=True)])
        share = rows / (default + 1)
        print(
            f"{name:12s} {e0:7.4f} {err:10.4f} {err / e0 if e0 else 0:6.2f} {rows:6.0f} {share:6.2f}  "
            f"target {'/'.join(f'{c:.2f}' for c in cover.values())}; "
            f"Clarify plan {'/'.join(f'{c:.2f}' for c in cover0.values())}"
        )
        for fraction in (8, 4, 2):
            budget = default // fraction
            errs = {
                "Clarify plan": [rel(clarify(v, fu, em, budget, i)[0], ex) for i, (v, ex, fu, em) in enumerate(cases)],
                "paired": [rel(paired_at(v, fu, em, budget, False, i), ex) for i, (v, ex, fu, em) in enumerate(cases)],
                "paired+3": [rel(paired_at(v, fu, em, budget, True, i), ex) for i, (v, ex, fu, em) in enumerate(cases)],
            }
            print(
                f"    at 1/{fraction} of the budget ({budget} coalitions), median error: "
                + ", ".join(f"{k} {np.median(e):.4f}" for k, e in errs.items())
            )
        goal(f"{name}: median error within 1.25 x Clarify's ({err / e0:.2f} x)", err <= 1.25 * e0)
        goal(f"{name}: at most a quarter of Clarify's rows ({share:.2f})", share <= 0.25)
        goal(f"{name}: 90 % intervals cover at least 85 % ({cover['90 %']:.2f})", cover["90 %"] >= 0.85)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
