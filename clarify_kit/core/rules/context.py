"""What follows from a config, for the rules to share: the field paths they name, and ``Context``, the config's
explainer spec and the facts derived from it (synthetic dataset, latency, records per request), each computed once."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from clarify_kit.core.codecs import base_content_type, is_numeric
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import CodecError, ExpressionError
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.core.synthetic import LatencyEstimate, SyntheticDataset, estimate_latency, records_per_request

__all__ = ["BASELINE", "CLARIFY", "EXPLAINER", "INFERENCE", "KIT", "SHAP", "Context"]

EXPLAINER = "EndpointConfig.ExplainerConfig"
CLARIFY = f"{EXPLAINER}.ClarifyExplainerConfig"
INFERENCE = f"{CLARIFY}.InferenceConfig"
SHAP = f"{CLARIFY}.ShapConfig"
BASELINE = f"{SHAP}.ShapBaselineConfig"
KIT = "ClarifyKit"


class Context:
    """What the rules share: the config, its explainer spec and the facts derived from them (each computed once).

    A derived fact is None when the config does not tell it (no explainer, an S3 baseline, an unreadable one):
    the rule that owns the problem reports it; the others skip what they cannot check.
    """

    def __init__(
        self,
        config: DeploymentConfig,
        measured_ms_per_record: float | None = None,
        measured_batch: int | None = None,
        baseline_text: str | None = None,
        measured_ms_per_request: float | None = None,
    ) -> None:
        self.config = config
        self.kit = config.ClarifyKit
        self.measured_ms_per_record = measured_ms_per_record
        self.measured_ms_per_request = measured_ms_per_request
        self.measured_batch = measured_batch
        self.spec: ExplainerSpec | None = ExplainerSpec.from_config(config) if config.clarify else None
        if self.spec is not None and baseline_text is not None:
            self.spec = self.spec.with_baseline(baseline_text)  # an S3 baseline, read for this precheck

    @cached_property
    def baseline_rows(self) -> list[list[Any]] | None:
        """The inline baseline's records, or None (no explainer, S3 baseline, unsupported type, unreadable)."""
        spec = self.spec
        if spec is None or spec.baseline is None or not spec.baseline_type_supported:
            return None
        try:
            return spec.baseline_rows()
        except (CodecError, ExpressionError):
            return None

    @property
    def baseline_path(self) -> str:
        """Where the baseline's records come from: ShapBaseline inline, or the S3 object read for this precheck."""
        from_s3 = self.spec is not None and self.spec.baseline_uri is not None
        return f"{BASELINE}.ShapBaselineUri" if from_s3 else f"{BASELINE}.ShapBaseline"

    @cached_property
    def feature_counts(self) -> list[tuple[str, int]]:
        """Every place that states the feature count, as (path, count), most authoritative first."""
        spec = self.spec
        if spec is None:
            return []
        sources: list[tuple[str, int]] = []
        if spec.feature_headers is not None:
            sources.append((f"{INFERENCE}.FeatureHeaders", len(spec.feature_headers)))
        if spec.feature_types is not None:
            sources.append((f"{INFERENCE}.FeatureTypes", len(spec.feature_types)))
        rows = self.baseline_rows
        if rows and len({len(r) for r in rows}) == 1:
            sources.append((self.baseline_path, len(rows[0])))
        if not sources and self.kit.Baseline.Features:
            sources.append((f"{KIT}.Baseline.Features", self.kit.Baseline.Features))
        return sources

    @property
    def n_features(self) -> int | None:
        """The feature count (before text units): the explainer's own derivation, else ClarifyKit.Baseline.Features."""
        counted = self.spec.n_features() if self.spec is not None else None
        return counted if counted is not None else self.kit.Baseline.Features

    @cached_property
    def sample_scores(self) -> list[tuple[int, list[float] | None, list[str] | None, str]]:
        """For each sample output: (index, scores, labels, error); scores None when they cannot be read."""
        spec = self.spec
        out: list[tuple[int, list[float] | None, list[str] | None, str]] = []
        if spec is None:
            return out
        for i, sample in enumerate(self.kit.Container.SampleOutputs):
            try:
                scores = spec.scores(sample)
            except (CodecError, ExpressionError) as err:
                out.append((i, None, None, f"no score can be extracted: {err}"))
                continue
            try:
                out.append((i, scores, spec.labels(sample), ""))
            except (CodecError, ExpressionError) as err:
                out.append((i, scores, None, f"no label headers can be extracted: {err}"))
        return out

    @property
    def n_classes(self) -> int | None:
        """The score count per record the sample outputs agree on, or None."""
        counts = {len(scores) for _, scores, _, _ in self.sample_scores if scores is not None}
        return counts.pop() if len(counts) == 1 else None

    @property
    def baseline_has_text(self) -> bool:
        rows = self.baseline_rows
        return bool(rows) and any(not is_numeric(v) for v in rows[0])  # type: ignore[index]

    @cached_property
    def text_unit_counts(self) -> list[int] | None:
        """Explained features (non-text features plus text units) of each sample record, for text configs."""
        spec = self.spec
        samples = self.kit.Container.SampleRecords
        if spec is None or not spec.is_text or not samples:
            return None
        from clarify_kit.core.text_units import split_units

        kinds = spec.feature_kinds(self.baseline_rows[0] if self.baseline_rows else None)
        try:
            rows = spec.parse_request("\n".join(samples))
        except (CodecError, ExpressionError):
            return None
        counts = []
        for row in rows:
            try:
                units = sum(
                    len(split_units(str(v), spec.language or "xx", spec.granularity or "token"))
                    for v, kind in zip(row, kinds, strict=False)
                    if kind == "text"
                )
            except CodecError:
                return None
            counts.append(len(row) - (kinds.count("text") or 1) + units)
        return counts

    @cached_property
    def explained_features(self) -> int | None:
        """n_features of the synthetic-dataset formula: for text, non-text features plus the text units of the
        longest sample record (or ClarifyKit.Text.UnitsPerRecord per text feature); None when unknown."""
        spec, n = self.spec, self.n_features
        if spec is None or n is None or not spec.is_text:
            return n
        if self.kit.Text.UnitsPerRecord is not None:
            texts = spec.feature_kinds(self.baseline_rows[0] if self.baseline_rows else None).count("text") or 1
            return n - texts + texts * self.kit.Text.UnitsPerRecord
        return max(self.text_unit_counts) if self.text_unit_counts else None

    @cached_property
    def synthetic(self) -> SyntheticDataset:
        spec = self.spec
        records = len(self.baseline_rows) if self.baseline_rows else self.kit.Baseline.Records
        return SyntheticDataset.compute(self.explained_features, records, spec.number_of_samples if spec else None)

    @property
    def ms_per_record(self) -> float | None:
        """Container time per synthetic record: measured by the container precheck, else the config's."""
        return self.measured_ms_per_record or self.kit.Latency.ContainerMsPerRecord

    @cached_property
    def records_per_request(self) -> int:
        """Synthetic records per explainer-to-container request (MaxRecordCount, MaxPayloadInMB)."""
        spec = self.spec
        assert spec is not None
        rows = self.baseline_rows
        # An unknown baseline counts as modest 64-byte records: the estimate then leans on MaxRecordCount.
        size = max(len(spec.encode_records([r]).encode("utf-8")) + 1 for r in rows) if rows else 64
        return records_per_request(self.measured_batch or spec.max_record_count, spec.max_payload_bytes, size)

    def estimate(self, synthetic_size: int) -> LatencyEstimate | None:
        """The latency of one InvokeEndpoint call whose records each have ``synthetic_size`` synthetic records."""
        per_record_ms = self.ms_per_record
        if self.spec is None or per_record_ms is None:
            return None
        latency = self.kit.Latency
        return estimate_latency(
            synthetic_size,
            per_record_ms=per_record_ms,
            per_request_ms=(
                self.measured_ms_per_request
                if self.measured_ms_per_request is not None
                else latency.ContainerMsPerRequest
            ),
            records_per_call=latency.RecordsPerInvocation,
            batch=self.records_per_request,
            measured=bool(self.measured_ms_per_record),  # as ms_per_record reads it
        )

    @cached_property
    def latency(self) -> LatencyEstimate | None:
        return self.estimate(self.synthetic.size) if self.synthetic.size is not None else None

    def content_type_is(self, media_type: str, *, output: bool = False) -> bool:
        spec = self.spec
        return spec is not None and base_content_type(spec.accept if output else spec.content_type) == media_type
