"""Planning a bulk run: records grouped into requests under the 6 MiB body limit and the latency budget."""

from __future__ import annotations

from clarify_kit.client.invoke import EndpointClient
from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES, INVOKE_TIMEOUT_S
from clarify_kit.core.rules import assess

__all__ = ["default_records_per_request", "plan_requests"]

_BODY_BUDGET = INVOKE_BODY_MAX_BYTES - 4096  # headroom under the 6 MiB limit for the last newline and rounding
DEFAULT_RECORDS_PER_REQUEST = 10  # when the config does not tell what an explained record costs
MAX_RECORDS_PER_REQUEST = 100


def plan_requests(lines: list[str], records_per_request: int) -> list[list[int]]:
    """Group record indexes into requests of at most ``records_per_request`` records and the body budget."""
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, line in enumerate(lines):
        n = len(line.encode("utf-8")) + 1
        if current and (len(current) >= records_per_request or size + n > _BODY_BUDGET):
            groups.append(current)
            current, size = [], 0
        current.append(i)
        size += n
    if current:
        groups.append(current)
    return groups


def default_records_per_request(client: EndpointClient, *, share: float = 0.5) -> int:
    """Records per call such that their explanations fit ``share`` of the 60 s limit, by the core's latency
    estimate (the synthetic dataset size times ``ClarifyKit.Latency.ContainerMsPerRecord``); without those facts,
    DEFAULT_RECORDS_PER_REQUEST."""
    if client.config is None:
        return DEFAULT_RECORDS_PER_REQUEST
    # MaxRecordCount caps what the container takes in one request; the explainer sends a call's own records to it
    # as they came, so a call carries no more than that
    ceiling = (client.spec.max_record_count if client.spec else None) or MAX_RECORDS_PER_REQUEST
    latency = assess(client.config).latency
    if latency is None:
        return min(ceiling, DEFAULT_RECORDS_PER_REQUEST)
    per_record_s = latency.seconds / max(1, latency.records_explained)
    if per_record_s <= 0:
        return min(ceiling, MAX_RECORDS_PER_REQUEST)
    return max(1, min(ceiling, MAX_RECORDS_PER_REQUEST, int(INVOKE_TIMEOUT_S * share / per_record_s)))
