"""What an explained record costs one instance, and the scaling targets, instance counts and prices that follow.

Every explained record makes the explainer score its synthetic dataset (baseline records x NumberOfSamples rows) on
the model container, so an explainable endpoint is sized by its explanations, not its invocations. The model here is
the one the container precheck and ``clarify-kit capacity`` measure:

- a container request costs ``ms_per_request`` plus ``ms_per_record`` for each row it carries, and one instance
  serves ``concurrency`` requests at once at full speed;
- one explained record is one prediction call (its own row) and ``ceil(rows / batch)`` synthetic batches, plus the
  explainer's own work, ``explainer_ms_per_row`` per synthetic row (building rows, reading scores, solving);
- what one instance sustains is ``concurrency`` such records at a time; the targets aim at ``utilisation`` of that
  (AWS's load-testing rule of thumb is half), so that a burst is absorbed while new instances start.

Pure arithmetic: the measurements come from clarify_kit.planning, the figures at synth from ClarifyKit.Latency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.synthetic import SyntheticDataset

__all__ = [
    "ASSUMED_MS_PER_RECORD",
    "EXPLAINER_MS_PER_ROW",
    "ContainerFigures",
    "Targets",
    "Workload",
    "cost_per_1000",
    "instances_for",
    "targets",
    "targets_for_config",
    "workload_of",
]

# The explainer's own work per synthetic row (building the row, reading its score, its share of the solve), as
# bench/bench_capacity.py measures it on the kit's explainer; ``capacity`` measures it on the real container.
EXPLAINER_MS_PER_ROW = 0.004
# The container time per record assumed at synth when neither ClarifyKit.Latency.ContainerMsPerRecord nor a
# measurement gives one: a slow tabular model (scikit-learn forests take 0.01-0.1 ms per row in batches), so that
# the targets err towards more instances. The synth annotation says to measure instead.
ASSUMED_MS_PER_RECORD = 1.0


@dataclass(frozen=True)
class ContainerFigures:
    """What the model container costs: per request, per record (row), and how many requests it serves at once."""

    ms_per_record: float
    ms_per_request: float
    concurrency: float = 1.0
    explainer_ms_per_row: float = EXPLAINER_MS_PER_ROW


@dataclass(frozen=True)
class Workload:
    """One explained record's work: synthetic rows, and the rows one container request carries."""

    rows: int
    batch: int

    @property
    def synthetic_requests(self) -> int:
        return math.ceil(self.rows / self.batch) if self.rows else 0

    @property
    def container_requests(self) -> int:
        """Requests per explained record: the prediction call and the synthetic batches."""
        return 1 + self.synthetic_requests

    def explained_ms(self, figures: ContainerFigures) -> float:
        """Instance time (container and explainer) of one explained record, in ms."""
        container = self.container_requests * figures.ms_per_request + (self.rows + 1) * figures.ms_per_record
        return container + self.rows * figures.explainer_ms_per_row

    @staticmethod
    def plain_ms(figures: ContainerFigures) -> float:
        """Instance time of one prediction without explanation, in ms."""
        return figures.ms_per_request + figures.ms_per_record


@dataclass(frozen=True)
class Targets:
    """Target-tracking values per instance and minute, with what they were derived from."""

    explanations_per_instance: float
    invocations_per_instance: float
    explained_per_s: float  # explained records one instance sustains
    plain_per_s: float  # predictions without explanation one instance sustains
    utilisation: float


def targets(
    figures: ContainerFigures,
    workload: Workload,
    *,
    utilisation: float = 0.5,
    explained_share: float = 1.0,
    records_per_invocation: int = 1,
    explained_per_s: float | None = None,
    plain_per_s: float | None = None,
) -> Targets:
    """The ExplanationsPerInstance and InvocationsPerInstance targets (per minute) at ``utilisation``.

    ``explained_per_s`` and ``plain_per_s`` are what one instance sustains when measured; else they follow from the
    figures. An invocation carries ``records_per_invocation`` records, ``explained_share`` of them explained.
    """
    explained = explained_per_s or figures.concurrency * 1000.0 / workload.explained_ms(figures)
    plain = plain_per_s or figures.concurrency * 1000.0 / Workload.plain_ms(figures)
    seconds_per_invocation = records_per_invocation * (explained_share / explained + (1 - explained_share) / plain)
    return Targets(
        explanations_per_instance=explained * 60 * utilisation,
        invocations_per_instance=60 * utilisation / seconds_per_invocation,
        explained_per_s=explained,
        plain_per_s=plain,
        utilisation=utilisation,
    )


def instances_for(
    rps: float, explained_share: float, t: Targets, *, records_per_invocation: int = 1, minimum: int = 2
) -> tuple[int, float]:
    """Instances for ``rps`` invocations per second at the targets' utilisation (never fewer than ``minimum``, two
    for multi-AZ), and the headroom that leaves (the share of their capacity unused at that load)."""
    records = rps * records_per_invocation
    busy = records * (explained_share / t.explained_per_s + (1 - explained_share) / t.plain_per_s)
    count = max(minimum, math.ceil(busy / t.utilisation - 1e-9))
    return count, 1 - busy / count


def cost_per_1000(hourly_price: float, per_s: float, utilisation: float) -> float:
    """Price of 1,000 records at ``per_s`` records per second per instance, each instance ``utilisation`` busy."""
    return hourly_price / 3600.0 / (per_s * utilisation) * 1000.0


def targets_for_config(config: DeploymentConfig, workload: Workload | None) -> tuple[Targets | None, str | None]:
    """The derived targets for ``config`` (its ClarifyKit.Latency figures and Autoscaling settings), and a note when
    a figure was assumed. None without a workload (the synthetic dataset's size unknown)."""
    if workload is None:
        return None, None
    latency, scaling = config.ClarifyKit.Latency, config.ClarifyKit.Autoscaling
    note = None
    per_record = latency.ContainerMsPerRecord
    if per_record is None:
        per_record = ASSUMED_MS_PER_RECORD
        note = (
            f"ClarifyKit.Latency.ContainerMsPerRecord is not set: the scaling targets assume {per_record:g} ms per "
            "record; measure it with `clarify-kit capacity CONFIG --container-url URL`"
        )
    figures = ContainerFigures(per_record, latency.ContainerMsPerRequest, float(latency.ContainerConcurrency))
    derived = targets(
        figures,
        workload,
        utilisation=scaling.TargetUtilisation,
        explained_share=scaling.ExplainedShare,
        records_per_invocation=latency.RecordsPerInvocation,
    )
    return derived, note


def workload_of(synthetic: SyntheticDataset, batch: int | None) -> Workload | None:
    """The workload of one explained record from the synthetic dataset and the batch size; None when unknown."""
    if synthetic.size is None or batch is None:
        return None
    return Workload(synthetic.size, max(1, batch))
