"""Synthetic dataset size, container calls and the explainer latency estimate (docs/explainer.md 3.3, 3.4)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from clarify_kit.core.limits import AUTO_RECORD_COUNT, DEFAULT_SAMPLE_BASE, INVOKE_TIMEOUT_S

__all__ = [
    "LatencyEstimate",
    "SyntheticDataset",
    "default_samples",
    "estimate_latency",
    "n_samples",
    "records_per_request",
]


def default_samples(n_features: int) -> int:
    """n_samples without NumberOfSamples: ``MIN(2*n_features + 2^11, 2^n_features - 2)``."""
    return n_samples(n_features, None)


def n_samples(n_features: int, number_of_samples: int | None) -> int:
    """Coalitions per baseline record, by the documented formula (0 for one feature: nothing to sample)."""
    if n_features < 1:
        return 0
    cap = 2**n_features - 2 if n_features < 63 else math.inf
    wanted = number_of_samples if number_of_samples is not None else 2 * n_features + DEFAULT_SAMPLE_BASE
    return int(min(wanted, cap))


def records_per_request(max_record_count: int | None, max_payload_bytes: int, bytes_per_record: int) -> int:
    """How many synthetic records fit one explainer-to-container request."""
    by_payload = max(1, max_payload_bytes // max(1, bytes_per_record))
    return max(1, min(max_record_count or AUTO_RECORD_COUNT, by_payload))


@dataclass(frozen=True)
class SyntheticDataset:
    """The size of the synthetic dataset for one explained record; None where a fact is unknown."""

    n_features: int | None
    n_samples: int | None
    baseline_records: int | None
    size: int | None

    @classmethod
    def compute(
        cls, n_features: int | None, baseline_records: int | None, number_of_samples: int | None
    ) -> SyntheticDataset:
        samples = n_samples(n_features, number_of_samples) if n_features is not None else None
        size = samples * baseline_records if samples is not None and baseline_records is not None else None
        return cls(n_features, samples, baseline_records, size)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LatencyEstimate:
    """Estimated explainer time for one InvokeEndpoint call, against the 60 s limit. ``measured``: the container's
    speed was measured (the container precheck); else it is ClarifyKit.Latency's assumption."""

    seconds: float
    container_requests: int
    records_per_request: int
    records_explained: int
    measured: bool = False

    @property
    def share_of_limit(self) -> float:
        return self.seconds / INVOKE_TIMEOUT_S

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["share_of_limit"] = round(self.share_of_limit, 4)
        out["limit_seconds"] = INVOKE_TIMEOUT_S
        return out


def estimate_latency(
    synthetic_size: int,
    *,
    per_record_ms: float,
    per_request_ms: float,
    records_per_call: int,
    batch: int,
    measured: bool = False,
) -> LatencyEstimate:
    """Time for ``records_per_call`` explained records: the prediction call plus every synthetic batch.

    Assumes the synthetic dataset is built per explained record (the documented formula is per record; whether
    the service merges records is unverified, so the larger figure is used).
    """
    requests_per_record = math.ceil(synthetic_size / batch) if synthetic_size else 0
    total_requests = 1 + requests_per_record * records_per_call
    total_records = records_per_call + synthetic_size * records_per_call
    seconds = (total_requests * per_request_ms + total_records * per_record_ms) / 1000.0
    return LatencyEstimate(round(seconds, 4), total_requests, batch, records_per_call, measured)
