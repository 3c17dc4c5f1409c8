"""Capacity planning: measure what explanations cost on the real container behind the kit's explainer, and plan
instances, scaling targets, cost and NumberOfSamples from it (the arithmetic is clarify_kit.core.capacity)."""

from __future__ import annotations

from clarify_kit.planning.capacity import RATE_SECONDS, measure_capacity
from clarify_kit.planning.plan import DEFAULT_MAX_ERROR, CapacityPlan

__all__ = ["DEFAULT_MAX_ERROR", "RATE_SECONDS", "CapacityPlan", "measure_capacity"]
