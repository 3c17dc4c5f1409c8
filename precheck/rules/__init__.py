"""The static precheck: every rule of clarify-explainer.md 5.2 (R1-R15) and the kit's stricter rules.

Each rule is a small function registered once (``@rule``) with its id, title, source and fix; ``RULES`` lists
them in report order, and the README's rule catalogue is generated from it (tools/gen_rule_catalogue.py).
"""

from __future__ import annotations

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.precheck.report import Report
from clarify_kit.precheck.rules import baseline, formats, synthetic, topology  # noqa: F401 - importing registers the rules
from clarify_kit.precheck.rules._registry import BASELINE, CLARIFY, INFERENCE, RULES, SHAP, Context, Findings, Rule

__all__ = ["BASELINE", "CLARIFY", "INFERENCE", "RULES", "SHAP", "Rule", "static_precheck"]


def static_precheck(config: DeploymentConfig, *, measured_ms_per_record: float | None = None,
                    measured_batch: int | None = None, baseline_text: str | None = None) -> Report:
    """Run every static rule on a validated config; no I/O, no AWS calls.

    Parameters
    ----------
    config: the loaded deployment config.
    measured_ms_per_record: container time per record measured by the container precheck, if any; it replaces
        ``ClarifyKit.Latency.ContainerMsPerRecord`` in the latency estimate.
    measured_batch: the records per container request the container precheck found it takes (1 when it refuses
        batches), in place of MaxRecordCount in the estimate.
    baseline_text: the S3 baseline's content (clarify_kit.adapters.baseline.read_baseline), checked like an inline one.
    """
    report = Report()
    ctx = Context(config, measured_ms_per_record, measured_batch, baseline_text)
    for rule in RULES:
        rule.check(ctx, Findings(report, rule, config))
    if ctx.spec is not None:
        report.synthetic = ctx.synthetic
        report.latency = ctx.latency
    return report
