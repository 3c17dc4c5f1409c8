"""The capacity plan: what clarify-kit capacity measured and what follows from it, with its text and JSON forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clarify_kit.core.capacity import ContainerFigures, Targets

__all__ = ["DEFAULT_MAX_ERROR", "CapacityPlan"]

# The median normalised attribution error (||phi_hat - phi|| / ||phi||) a plan's recommendation must meet by
# default: 5 %, where the ranking of the leading features is stable in practice.
DEFAULT_MAX_ERROR = 0.05


@dataclass
class CapacityPlan:
    """The measured figures and what follows from them; ``as_dict`` is the ``--json`` form."""

    n_features: int
    number_of_samples: int
    rows_per_explained_record: int
    container_requests_per_explained_record: int
    latency_ms: dict[str, float]
    latencies_ms: list[float]
    figures: ContainerFigures
    explained_records_per_s_per_instance: float
    plain_predictions_per_s_per_instance: float
    throughput_by_callers: dict[int, float]
    targets: Targets
    measured_plain_per_s: float = 0.0
    accuracy: list[dict[str, Any]] = field(default_factory=list)
    target_errors: list[dict[str, Any]] = field(default_factory=list)
    recommended: dict[str, Any] | None = None
    max_error: float = DEFAULT_MAX_ERROR
    reference: str = ""
    instances: dict[str, Any] | None = None
    cost: dict[str, float] | None = None
    records_source: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_features": self.n_features,
            "number_of_samples": self.number_of_samples,
            "rows_per_explained_record": self.rows_per_explained_record,
            "container_requests_per_explained_record": self.container_requests_per_explained_record,
            "latency_ms": self.latency_ms,
            "explained_records_per_s_per_instance": round(self.explained_records_per_s_per_instance, 3),
            "plain_predictions_per_s_per_instance": round(self.plain_predictions_per_s_per_instance, 3),
            "measured_plain_predictions_per_s": round(self.measured_plain_per_s, 3),
            "explained_records_per_s_by_callers": {str(k): round(v, 3) for k, v in self.throughput_by_callers.items()},
            "container": {
                "ms_per_record": round(self.figures.ms_per_record, 5),
                "ms_per_request": round(self.figures.ms_per_request, 3),
                "concurrency": self.figures.concurrency,
                "explainer_ms_per_row": round(self.figures.explainer_ms_per_row, 5),
            },
            "utilisation": self.targets.utilisation,
            "targets": {
                "ExplanationsPerInstance": round(self.targets.explanations_per_instance, 3),
                "InvocationsPerInstance": round(self.targets.invocations_per_instance, 3),
            },
            "accuracy": self.accuracy,
            "accuracy_reference": self.reference,
            "self_hosted_target_errors": self.target_errors,
            "max_error": self.max_error,
            "recommended": self.recommended,
            "records": self.records_source,
            "notes": self.notes,
            "config": self.config_snippet(),
        }
        if self.instances is not None:
            out["instances"] = self.instances
        if self.cost is not None:
            out.update(self.cost)
        return out

    def config_snippet(self) -> dict[str, Any]:
        """The measured figures as ClarifyKit.Latency settings: synth's targets and alarm and smoke use them."""
        return {
            "ClarifyKit": {
                "Latency": {
                    "ContainerMsPerRecord": _significant(self.figures.ms_per_record),
                    "ContainerMsPerRequest": _significant(self.figures.ms_per_request),
                    "ContainerConcurrency": self.figures.concurrency,
                    "P99Ms": _significant(self.latency_ms["p99"]),
                }
            }
        }

    def render(self) -> str:
        t = self.targets
        lines = [
            f"one explained record: {self.rows_per_explained_record} synthetic rows in "
            f"{self.container_requests_per_explained_record} container requests "
            f"({self.n_features} features, NumberOfSamples {self.number_of_samples})",
            f"latency of one explained call: p50 {self.latency_ms['p50']:.1f} ms, p99 {self.latency_ms['p99']:.1f} ms "
            f"over {len(self.latencies_ms)} calls",
            f"container: {self.figures.ms_per_record:.4g} ms per record, {self.figures.ms_per_request:.3g} ms per "
            f"request; explainer " + _explainer_cost(self.figures.explainer_ms_per_row),
            "one instance like this one sustains "
            f"{self.explained_records_per_s_per_instance:.3g} explained records/s "
            f"({self.figures.concurrency:g} at once); plain predictions: {self.measured_plain_per_s:.4g}/s measured "
            f"from here with 4 callers (an estimate from the per-record and per-request figures: "
            f"{self.plain_predictions_per_s_per_instance:.4g}/s)",
            f"scaling targets at {t.utilisation:.0%} utilisation, per instance per minute: ExplanationsPerInstance "
            f"{t.explanations_per_instance:.4g}, InvocationsPerInstance {t.invocations_per_instance:.4g}",
        ]
        if self.instances is not None:
            i = self.instances
            lines.append(
                f"for {i['target_rps']:g} invocations/s ({i['explained_share']:.0%} explained): {i['count']} "
                f"instances, {i['headroom']:.0%} headroom at that load"
            )
        if self.cost is not None:
            lines.append(
                f"cost: ${self.cost['cost_per_1000_explanations']:.4g} per 1,000 explanations, "
                f"${self.cost['cost_per_1000_predictions']:.4g} per 1,000 plain predictions (at "
                f"{t.utilisation:.0%} utilisation)"
            )
        if self.accuracy:
            lines.append(f"accuracy against {self.reference}:")
            lines.append(
                f"  {'NumberOfSamples':>15s} {'rows':>7s} {'p50 ms':>8s} {'median error':>12s} {'top-1 kept':>10s}"
            )
            for row in self.accuracy:
                mark = "  (configured)" if row["configured"] else ("  (default)" if row["default"] else "")
                lines.append(
                    f"  {row['number_of_samples']:>15d} {row['rows']:>7d} {row['predicted_p50_ms']:>8.1f} "
                    f"{row['median_error']:>12.2%} {row['top_feature_kept']:>10.0%}{mark}"
                )
        if self.target_errors:
            lines += self._render_target_errors()
        if self.recommended is not None:
            r = self.recommended
            saved = (
                f"saves {r['latency_saved_share']:.0%} of the latency and {r['cost_saved_share']:.0%} of the cost "
                "per explanation against the configured one"
                if r["latency_saved_share"] >= 0
                else "the configured NumberOfSamples does not meet it"
            )
            lines.append(
                f"smallest NumberOfSamples within {self.max_error:.0%} median error: {r['number_of_samples']} ({saved})"
            )
        elif self.accuracy:
            lines.append(f"no NumberOfSamples tried meets {self.max_error:.0%} median error")
        lines += [f"note: {note}" for note in self.notes]
        snippet = self.config_snippet()["ClarifyKit"]["Latency"]
        lines.append(
            "record in the config (ClarifyKit.Latency) for synth's targets and alarm: "
            + ", ".join(f"{k}: {v}" for k, v in snippet.items())
        )
        return "\n".join(lines)

    def _render_target_errors(self) -> list[str]:
        lines = [
            "self-hosted explainer with ClarifyKit.SelfHosted.TargetError (same records and reference; rows counted "
            "on the wire, median per record):",
            f"  {'TargetError':>11s} {'rows':>7s} {'of configured':>13s} {'requests':>8s} {'p50 ms':>8s} "
            f"{'median error':>12s} {'90% covered':>11s}",
        ]
        for row in self.target_errors:
            share = "-" if row["rows_share_of_configured"] is None else f"{row['rows_share_of_configured']:.0%}"
            coverage = "-" if row["coverage_90"] is None else f"{row['coverage_90']:.0%}"
            mark = "  (configured)" if row["configured"] else ""
            lines.append(
                f"  {row['target_error']:>11.2%} {row['rows']:>7d} {share:>13s} {row['container_requests']:>8d} "
                f"{row['predicted_p50_ms']:>8.1f} {row['median_error']:>12.2%} {coverage:>11s}{mark}"
            )
        return lines


def _significant(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def _explainer_cost(ms_per_row: float) -> str:
    if ms_per_row <= 0:
        return "cost per row below what these timings resolve (the explained call took no longer than the container)"
    return f"{ms_per_row * 1000:.2g} us per row"
