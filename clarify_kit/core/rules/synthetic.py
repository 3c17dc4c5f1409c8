"""Rules on the synthetic dataset and the explainer's latency against the 60 s InvokeEndpoint limit."""

from __future__ import annotations

from clarify_kit.core.limits import INVOKE_TIMEOUT_S
from clarify_kit.core.rules._registry import Findings, rule
from clarify_kit.core.rules.context import INFERENCE, KIT, SHAP, Context
from clarify_kit.core.synthetic import n_samples

_MAX_UNITS = 1_000_000


@rule(
    "R13",
    title="The synthetic dataset can be sized",
    source="DG-CREATE synthetic dataset: baseline records x MIN(NumberOfSamples, 2^n_features - 2)",
    fix="state what the file cannot: ClarifyKit.Baseline.Records for an S3 baseline, FeatureHeaders or "
    "ClarifyKit.Baseline.Features, ClarifyKit.Text.UnitsPerRecord or sample records for text",
)
def synthetic_dataset(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None:
        return
    if spec.baseline_uri is not None and spec.baseline is None and ctx.kit.Baseline.Records is None:
        out.note(
            f"{KIT}.Baseline.Records",
            "the S3 baseline cannot be read offline: set its record count to size the synthetic dataset",
        )
    if spec.is_text:
        _text_units(ctx, out)
        if ctx.explained_features is None:
            return
    n = ctx.explained_features
    if n is None:
        out.note(
            f"{INFERENCE}.FeatureHeaders",
            "the feature count is unknown (S3 baseline, no FeatureHeaders): "
            "set FeatureHeaders or ClarifyKit.Baseline.Features to size the synthetic dataset",
        )
        return
    if n == 1:
        out.warn(
            SHAP,
            "one feature: the documented sample formula gives 0 coalitions (2^1 - 2); a single feature "
            "gets the whole difference from the baseline",
        )
    cap = 2**n - 2 if n < 63 else None
    if spec.number_of_samples is not None and cap is not None and spec.number_of_samples > cap:
        out.note(
            f"{SHAP}.NumberOfSamples",
            f"{spec.number_of_samples} exceeds the {cap} distinct coalitions of {n} features; the explainer uses {cap}",
        )
    if ctx.synthetic.size is not None and ctx.ms_per_record is None:
        out.note(
            f"{KIT}.Latency.ContainerMsPerRecord",
            "not set: latency not estimated; run the container precheck "
            "(--container-url) or set the container time per record",
        )


def _text_units(ctx: Context, out: Findings) -> None:
    if ctx.kit.Text.UnitsPerRecord is not None or ctx.n_features is None:
        return
    counts = ctx.text_unit_counts
    if counts:
        out.note(
            f"{KIT}.Container.SampleRecords",
            f"text units per sample record: {counts}; the estimate uses the largest, {max(counts)} features",
        )
    elif not ctx.kit.Container.SampleRecords:
        out.note(
            f"{KIT}.Text.UnitsPerRecord",
            "not set and no SampleRecords: the synthetic dataset of a text "
            "record grows with its units (tokens, sentences or paragraphs); set one of them to size it",
        )


@rule(
    "samples-identify",
    title="NumberOfSamples pins every attribution down",
    source="Kernel SHAP is a weighted least-squares fit of the sampled coalitions (docs/explainer.md 3.3); kit: "
    "the plan's own regression, built here, must have full rank",
    fix="raise NumberOfSamples (the default, 2 x features + 2048, always suffices) or leave it unset",
)
def samples_identify(ctx: Context, out: Findings) -> None:
    spec, n = ctx.spec, ctx.explained_features
    if spec is None or spec.is_text or n is None or n < 2 or spec.number_of_samples is None:
        return
    samples = spec.number_of_samples
    if samples > 4 * n + 16 or (n < 63 and samples >= 2**n - 2):  # ample, or every coalition: always full rank
        return
    from clarify_kit.core.kernel_shap import coalitions

    seeds = [spec.seed] if spec.seed is not None else list(range(5))  # unseeded: plans as the explainer draws them

    def pinned(count: int) -> bool:
        return all(coalitions(n, count, seed).identified for seed in seeds)

    if pinned(samples):
        return
    which = f"the plan of Seed {spec.seed} leaves" if spec.seed is not None else "plans drawn unseeded leave"
    enough = next((c for c in (2 * n + 10, 3 * n + 16) if pinned(c)), 4 * n + 16)  # measured on the same seeds
    out.warn(
        f"{SHAP}.NumberOfSamples",
        f"{samples} coalitions cannot pin down {n} attributions ({which} the regression singular): the explainer "
        "still answers, with a least-squares guess that can be far off and that no error measures (the "
        f"self-hosted explainer gives it no standard_error); set NumberOfSamples to {enough} or more, or leave it "
        "unset",
    )


@rule(
    "latency-budget",
    title="Explanations finish well within the 60 s InvokeEndpoint limit",
    source="BOTO-RT InvokeEndpoint: 'model containers must respond to requests within 60 seconds'; DG-CREATE",
    fix="reduce NumberOfSamples or the baseline records, raise MaxRecordCount, or send fewer records per call",
)
def latency_budget(ctx: Context, out: Findings) -> None:
    estimate, spec = ctx.latency, ctx.spec
    if estimate is None or spec is None:
        return
    latency = ctx.kit.Latency
    detail = (
        f"{estimate.seconds:.1f} s for {latency.RecordsPerInvocation} explained record(s): "
        f"{ctx.synthetic.size} synthetic records each, {estimate.container_requests} container requests"
    )
    fix = "reduce NumberOfSamples or the baseline records, raise MaxRecordCount, or send fewer records per call"
    if spec.is_text:
        _text_budget(ctx, out)
    if estimate.seconds > INVOKE_TIMEOUT_S:
        out.error(f"{SHAP}.NumberOfSamples", f"{detail}: over the {INVOKE_TIMEOUT_S:.0f} s InvokeEndpoint limit; {fix}")
    elif estimate.share_of_limit > latency.WarnAtShare:
        out.warn(
            f"{SHAP}.NumberOfSamples",
            f"{detail}: {estimate.share_of_limit:.0%} of the "
            f"{INVOKE_TIMEOUT_S:.0f} s limit (warning above {latency.WarnAtShare:.0%}); {fix}",
        )


def _text_budget(ctx: Context, out: Findings) -> None:
    """Report the longest text (in units) whose explanation stays within the warning share of the limit."""
    spec = ctx.spec
    assert spec is not None
    budget = INVOKE_TIMEOUT_S * ctx.kit.Latency.WarnAtShare
    baseline_records = ctx.synthetic.baseline_records or 1

    def fits(units: int) -> bool:
        estimate = ctx.estimate(n_samples(units, spec.number_of_samples) * baseline_records)
        return estimate is not None and estimate.seconds <= budget

    low, high = 1, 1
    while fits(high) and high < _MAX_UNITS:
        low, high = high, high * 2
    if high >= _MAX_UNITS:
        out.note(
            f"{SHAP}.TextConfig",
            "text length does not bring the estimate near the limit (NumberOfSamples "
            "caps the synthetic dataset); the model's own time per longer text still grows",
        )
        return
    while low + 1 < high:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    out.note(
        f"{SHAP}.TextConfig",
        f"texts up to about {low} {spec.granularity or 'token'} units stay within "
        f"{ctx.kit.Latency.WarnAtShare:.0%} of the 60 s limit at {ctx.ms_per_record:g} ms per synthetic record",
    )


@rule(
    "scaling-targets",
    title="Scaling targets and the latency alarm follow the measured figures unless a reason says otherwise",
    source="AWS's guide to scaling explainable endpoints (target tracking on ExplanationsPerInstance); kit: targets "
    "derived from ClarifyKit.Latency (clarify-kit capacity measures them)",
    fix="remove the hand-set value to derive it, or say why in TargetsReason / ModelLatencyP99Reason",
)
def scaling_targets(ctx: Context, out: Findings) -> None:
    scaling, alarms = ctx.kit.Autoscaling, ctx.kit.Alarms
    for name in ("TargetInvocationsPerInstance", "TargetExplanationsPerInstance"):
        if getattr(scaling, name) is not None and scaling.TargetsReason is None:
            out.error(
                f"{KIT}.Autoscaling.{name}",
                "set by hand without ClarifyKit.Autoscaling.TargetsReason: the target is derived from the measured "
                "figures (clarify-kit capacity) unless a reason says why not; remove it, or add TargetsReason",
            )
    if alarms.ModelLatencyP99Ms is not None and alarms.ModelLatencyP99Reason is None:
        out.error(
            f"{KIT}.Alarms.ModelLatencyP99Ms",
            "set by hand without ClarifyKit.Alarms.ModelLatencyP99Reason: the threshold follows the measured p99 "
            "(ClarifyKit.Latency.P99Ms) or the estimate unless a reason says why not; remove it, or add the reason",
        )
