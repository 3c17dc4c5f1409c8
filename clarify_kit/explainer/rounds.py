"""The self-hosted explainer's sampling to a target error (ClarifyKit.SelfHosted.TargetError, docs/explainer.md 3.10).

Every record to explain gets a ``PairedSampler``. Round by round, the records not yet done propose complementary
pairs, their synthetic rows go to the container together (so batches stay full), and each record's fit is
checked: a record whose estimated relative error is at or below the target, or that has spent its budget
(NumberOfSamples: the Clarify explainer's coalitions per record), is done. The pairs of a record grow by a quarter each
round: at most a quarter more pairs than the target needed, for a few more container round trips (measured in
bench/bench_target_error.py: growing by half overshot the target to 0.4 of it and cost 10-20 % more rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from clarify_kit.core.kernel_shap import Coalitions, logit
from clarify_kit.core.paired_shap import Estimate, PairedSampler, first_round_pairs
from clarify_kit.core.synthetic import n_samples
from clarify_kit.explainer.rows import Record

__all__ = ["GROWTH", "sample_to_target"]

GROWTH = 1.25  # each round draws a quarter as many pairs again as the record has


@dataclass
class _Active:
    """A record being explained in rounds: its sampler and its last estimate."""

    record: Record
    sampler: PairedSampler
    delta: np.ndarray
    estimate: Estimate | None = None


def sample_to_target(
    records: Sequence[Record],
    deltas: Sequence[np.ndarray],
    *,
    target: float,
    number_of_samples: int | None,
    seed: int | None,
    score: Callable[[list[Record]], np.ndarray],
    n_base: int,
    use_logit: bool = False,
) -> list[tuple[Record, Estimate]]:
    """Explain ``records`` (tabular, at least two features each) to ``target``: ``score`` takes the round's
    records (their plans hold the round's masks) and returns the scores of their synthetic rows, in order.
    ``deltas``: each record's prediction minus the expected value (log-odds with ``use_logit``)."""
    width = len(records[0].features) if records else 0
    budget = max(1, n_samples(width, number_of_samples) // 2)
    active = [
        _Active(record, PairedSampler(width, budget, None if seed is None else seed + record.position), delta)
        for record, delta in zip(records, deltas, strict=True)
    ]
    done: list[tuple[Record, Estimate]] = []
    while active:
        round_records: list[Record] = []
        halves: list[np.ndarray] = []
        for item in active:
            grown = int(item.sampler.count * GROWTH) + 1
            new = item.sampler.propose(first_round_pairs(width) if item.estimate is None else grown)
            halves.append(new)
            masks = np.concatenate([new, ~new])
            round_records.append(_round_record(item.record, masks, n_base))
        scores = score(round_records)
        offset = 0
        still: list[_Active] = []
        for item, new, round_record in zip(active, halves, round_records, strict=True):
            count = round_record.row_count
            values = scores[offset : offset + count].reshape(count // n_base, n_base, -1).mean(axis=1)
            offset += count
            if use_logit:
                values = logit(values)
            item.sampler.add(values[: len(new)], values[len(new) :])
            item.estimate = item.sampler.estimate(item.delta)
            if item.estimate.relative_error <= target or item.sampler.done or item.estimate.exact:
                done.append((item.record, item.estimate))
            else:
                still.append(item)
        active = still
    return done


def _round_record(record: Record, masks: np.ndarray, n_base: int) -> Record:
    """The record with this round's masks as its plan (only the masks are read to compose rows)."""
    m = masks.shape[1]
    plan = Coalitions(masks, np.zeros(len(masks)), np.zeros((m - 1, m - 1)), False)
    return Record(record.position, record.features, plan, cells=record.cells, row_count=len(masks) * n_base)
