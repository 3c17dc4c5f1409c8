"""The static rules: every rule of docs/explainer.md 5.2 (R1-R15) and the kit's stricter rules.

Each rule is a small function registered once (``@rule``) with its id, title, source and fix; ``RULES`` lists
them in report order, and the README's rule catalogue is generated from it (tools/gen_rule_catalogue.py).
"""

from __future__ import annotations

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.findings import Assessment
from clarify_kit.core.rules import baseline, formats, synthetic, topology  # noqa: F401 - importing registers the rules
from clarify_kit.core.rules._registry import RULES, Findings, Rule
from clarify_kit.core.rules.context import BASELINE, CLARIFY, INFERENCE, SHAP, Context

__all__ = ["BASELINE", "CLARIFY", "INFERENCE", "RULES", "SHAP", "Rule", "assess"]


def assess(
    config: DeploymentConfig,
    *,
    measured_ms_per_record: float | None = None,
    measured_batch: int | None = None,
    baseline_text: str | None = None,
    measured_ms_per_request: float | None = None,
) -> Assessment:
    """Judge a validated config by every static rule and derive what follows from it; no I/O, no AWS calls.

    The one place that says whether a config is valid and what it costs: precheck, the CDK construct, the client
    and the CLI all ask it.

    Parameters
    ----------
    config: the loaded deployment config.
    measured_ms_per_record: container time per record measured by the container precheck, if any; it replaces
        ``ClarifyKit.Latency.ContainerMsPerRecord`` in the latency estimate.
    measured_batch: the records per container request the container precheck found it takes (1 when it refuses
        batches), in place of MaxRecordCount in the estimate.
    measured_ms_per_request: the container's fixed cost per request measured by the container precheck, in place
        of ``ClarifyKit.Latency.ContainerMsPerRequest``.
    baseline_text: the S3 baseline's content (clarify_kit.adapters.baseline.read_baseline), checked like an inline
        one.

    Returns
    -------
    The findings, the synthetic-dataset size and the latency estimate per InvokeEndpoint call.
    """
    found = Assessment()
    ctx = Context(config, measured_ms_per_record, measured_batch, baseline_text, measured_ms_per_request)
    for rule in RULES:
        rule.check(ctx, Findings(found, rule, config))
    if ctx.spec is not None:
        found.synthetic = ctx.synthetic
        found.latency = ctx.latency
        found.records_per_request = ctx.records_per_request
    return found
