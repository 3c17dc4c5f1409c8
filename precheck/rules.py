"""The static precheck: every rule of clarify-explainer.md 5.2 (R1-R15) and the kit's stricter rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from clarify_kit.codecs import CSV, JSONLINES, SUPPORTED_CONTENT_TYPES, base_content_type
from clarify_kit.config import DeploymentConfig
from clarify_kit.errors import CodecError, ExpressionError
from clarify_kit.explainer import ExplainerSpec
from clarify_kit.expressions import evaluate, lint
from clarify_kit.synthetic import (
    INVOKE_TIMEOUT_S,
    SyntheticDataset,
    estimate_latency,
    n_samples,
    records_per_request,
)
from precheck.report import Report

__all__ = ["static_precheck"]

EXPLAINER = "EndpointConfig.ExplainerConfig"
CLARIFY = f"{EXPLAINER}.ClarifyExplainerConfig"
INFERENCE = f"{CLARIFY}.InferenceConfig"
SHAP = f"{CLARIFY}.ShapConfig"
BASELINE = f"{SHAP}.ShapBaselineConfig"
KIT = "ClarifyKit"
# "The size limit for ShapBaseline is 4 KB" (ClarifyShapBaselineConfig docs); counted in UTF-8 bytes to be safe.
MAX_INLINE_BASELINE_BYTES = 4096
# InvokeEndpoint Body: max 6291456 bytes (sagemaker-runtime service model).
MAX_INVOKE_BODY_BYTES = 6_291_456
# ContainerDefinition.Environment: "total size ... 32 KB" (CreateModel docs).
MAX_ENVIRONMENT_BYTES = 32 * 1024
MIN_INSTANCES = 2  # multi-AZ: SageMaker spreads instances across AZs only when there are at least two

Rule = Callable[["_Context"], None]


class _Context:
    """What the rules share: the config, the resolved explainer spec and the report they write to."""

    def __init__(self, config: DeploymentConfig, report: Report, measured_ms_per_record: float | None) -> None:
        self.config = config
        self.report = report
        self.measured_ms_per_record = measured_ms_per_record
        self.spec: ExplainerSpec | None = ExplainerSpec.from_config(config) if config.clarify else None
        self.n_features: int | None = None
        self.n_classes: int | None = None
        self.baseline_rows: list[list[Any]] | None = None

    def error(self, path: str, message: str, rule: str) -> None:
        self.report.add("error", path, message, rule)

    def warn(self, path: str, message: str, rule: str) -> None:
        self.report.add("warning", path, message, rule)

    def note(self, path: str, message: str, rule: str) -> None:
        self.report.add("note", path, message, rule)

    def kit_error(self, path: str, message: str, rule: str) -> None:
        """An error of a kit rule that the config may relax to a warning with an explicit opt-out."""
        opt_out = self.config.ClarifyKit.opt_out(rule)
        if opt_out:
            self.warn(path, f"{message} (accepted by opt-out: {opt_out.Reason})", rule)
        else:
            self.error(path, message, rule)


def static_precheck(config: DeploymentConfig, *, measured_ms_per_record: float | None = None) -> Report:
    """Run every static rule on a validated config; no I/O, no AWS calls.

    Parameters
    ----------
    config: the loaded deployment config.
    measured_ms_per_record: container time per record measured by the container precheck, if any; it replaces
        ``ClarifyKit.Latency.ContainerMsPerRecord`` in the latency estimate.
    """
    report = Report()
    ctx = _Context(config, report, measured_ms_per_record)
    for rule in _RULES:
        rule(ctx)
    return report


# --- topology ----------------------------------------------------------------------------------------------------


def _explainer_present(ctx: _Context) -> None:  # R1
    explainer = ctx.config.EndpointConfig.ExplainerConfig
    if explainer is None:
        ctx.error(EXPLAINER, "required: the kit deploys endpoints with Clarify online explainability; add "
                  "ExplainerConfig.ClarifyExplainerConfig.ShapConfig.ShapBaselineConfig", "R1")
    elif explainer.ClarifyExplainerConfig is None:
        ctx.error(f"{EXPLAINER}.ClarifyExplainerConfig", "required: an empty ExplainerConfig enables nothing", "R1")


def _topology(ctx: _Context) -> None:  # R14
    cfg = ctx.config
    model = cfg.Model
    if model.Containers:
        ctx.error("Model.Containers", f"{len(model.Containers)} containers: the Clarify explainer calls a single "
                  "model container; use Model.PrimaryContainer", "R14")
    if model.InferenceExecutionConfig is not None:
        ctx.error("Model.InferenceExecutionConfig", "inference pipelines (Serial/Direct) are not supported with "
                  "the Clarify explainer; remove it and use Model.PrimaryContainer", "R14")
    if model.PrimaryContainer is None and not model.Containers:
        ctx.error("Model.PrimaryContainer", "required: the model container (Image, ModelDataUrl, Mode)", "R14")
    elif model.PrimaryContainer is not None:
        container = model.PrimaryContainer
        if not container.Image and not container.ModelPackageName:
            ctx.error("Model.PrimaryContainer.Image", "required: the container image URI (ECR)", "R14")
        if container.Environment:
            size = sum(len(k.encode()) + len(v.encode()) for k, v in container.Environment.items())
            if size > MAX_ENVIRONMENT_BYTES:
                ctx.error("Model.PrimaryContainer.Environment", f"{size} bytes; the API allows at most "
                          f"{MAX_ENVIRONMENT_BYTES} bytes of keys and values in total", "R14")
    if cfg.EndpointConfig.AsyncInferenceConfig is not None:
        ctx.error("EndpointConfig.AsyncInferenceConfig", "asynchronous inference has no EnableExplanations and is "
                  "not documented for the Clarify explainer; remove AsyncInferenceConfig", "R14")
    for i, variant in enumerate(cfg.EndpointConfig.ProductionVariants):
        if variant.ServerlessConfig is not None:
            ctx.error(f"EndpointConfig.ProductionVariants[{i}].ServerlessConfig", "serverless variants are not "
                      "supported with the Clarify explainer (6 GB memory cap, cold starts against the 60 s limit); "
                      "use InstanceType and InitialInstanceCount", "R14")
    if cfg.EndpointConfig.ShadowProductionVariants:
        ctx.warn("EndpointConfig.ShadowProductionVariants", "whether the explainer applies to shadow variants is "
                 "not documented; test them separately", "R14")


def _generated_names(ctx: _Context) -> None:
    """Names a pasted boto3 request may carry: the kit generates them, so they are ignored (with a warning)."""
    cfg = ctx.config
    given = [("Model.ModelName", cfg.Model.ModelName), ("EndpointConfig.EndpointConfigName",
             cfg.EndpointConfig.EndpointConfigName), ("Endpoint.EndpointConfigName", cfg.Endpoint.EndpointConfigName)]
    given += [(f"EndpointConfig.ProductionVariants[{i}].ModelName", v.ModelName)
              for i, v in enumerate(cfg.EndpointConfig.ProductionVariants)]
    for path, value in given:
        if value is not None:
            ctx.warn(path, f"{value!r} is ignored: the kit generates this name from the config, so that every "
                     "change replaces the resource safely; remove it", "names")


def _multi_az(ctx: _Context) -> None:
    cfg = ctx.config
    for i, variant in enumerate(cfg.EndpointConfig.ProductionVariants):
        path = f"EndpointConfig.ProductionVariants[{i}]"
        if variant.ServerlessConfig is not None:
            continue
        if variant.InstanceType is None and not variant.InstancePools:
            ctx.error(f"{path}.InstanceType", "required for an instance-based variant (for example ml.m5.xlarge)",
                      "variant")
        count = variant.InitialInstanceCount
        if count is None:
            ctx.error(f"{path}.InitialInstanceCount", f"required: at least {MIN_INSTANCES} instances so that "
                      "SageMaker places them in different Availability Zones", "multi-az")
        elif count < MIN_INSTANCES:
            ctx.kit_error(f"{path}.InitialInstanceCount", f"{count} instance is one Availability Zone; set at least "
                          f"{MIN_INSTANCES}, or add ClarifyKit.OptOuts: [{{Rule: multi-az, Reason: ...}}]", "multi-az")
        scaling = variant.ManagedInstanceScaling
        if scaling and scaling.Status == "ENABLED" and (scaling.MinInstanceCount or 0) < MIN_INSTANCES:
            ctx.kit_error(f"{path}.ManagedInstanceScaling.MinInstanceCount", f"{scaling.MinInstanceCount} lets the "
                          f"variant shrink to one Availability Zone; set at least {MIN_INSTANCES}", "multi-az")
    auto = cfg.ClarifyKit.Autoscaling
    if auto.Enabled:
        if auto.MinCapacity < MIN_INSTANCES:
            ctx.kit_error(f"{KIT}.Autoscaling.MinCapacity", f"{auto.MinCapacity} lets autoscaling shrink the endpoint "
                          f"to one Availability Zone; set at least {MIN_INSTANCES}", "multi-az")
        if auto.MaxCapacity < auto.MinCapacity:
            ctx.error(f"{KIT}.Autoscaling.MaxCapacity", f"{auto.MaxCapacity} is below MinCapacity "
                      f"{auto.MinCapacity}", "autoscaling")
        for i, variant in enumerate(cfg.EndpointConfig.ProductionVariants):
            count = variant.InitialInstanceCount
            if count is not None and count > auto.MaxCapacity:
                ctx.error(f"{KIT}.Autoscaling.MaxCapacity", f"{auto.MaxCapacity} is below "
                          f"EndpointConfig.ProductionVariants[{i}].InitialInstanceCount {count}", "autoscaling")
    vpcs = (("Model.VpcConfig", cfg.Model.VpcConfig), ("EndpointConfig.VpcConfig", cfg.EndpointConfig.VpcConfig))
    for where, vpc in vpcs:
        if vpc is not None and len(set(vpc.Subnets)) < MIN_INSTANCES:
            ctx.kit_error(f"{where}.Subnets", f"{len(set(vpc.Subnets))} subnet is one Availability Zone; list "
                          f"subnets in at least {MIN_INSTANCES} zones", "multi-az")


# --- baseline and features ---------------------------------------------------------------------------------------


def _baseline(ctx: _Context) -> None:  # R2, R3, R4, R5
    clarify = ctx.config.clarify
    if clarify is None or ctx.spec is None:
        return
    base = clarify.ShapConfig.ShapBaselineConfig
    spec = ctx.spec
    if base.ShapBaseline is None and base.ShapBaselineUri is None:
        ctx.error(BASELINE, "set exactly one of ShapBaseline (inline, up to 4 KB) or ShapBaselineUri (s3://...): "
                  "the online explainer has no default baseline", "R2")
    elif base.ShapBaseline is not None and base.ShapBaselineUri is not None:
        ctx.error(BASELINE, "ShapBaseline and ShapBaselineUri are mutually exclusive; keep one", "R2")
    if base.MimeType is not None and base_content_type(base.MimeType) not in SUPPORTED_CONTENT_TYPES:
        ctx.error(f"{BASELINE}.MimeType", f"{base.MimeType!r} is not supported; allowed values: "
                  f"{', '.join(SUPPORTED_CONTENT_TYPES)}", "R4")
        return
    if base_content_type(spec.baseline_mime_type) != base_content_type(spec.content_type):
        ctx.error(f"{BASELINE}.MimeType", f"{spec.baseline_mime_type!r} differs from the container input format "
                  f"{spec.content_type!r}; the baseline must be in the same format as the requests", "R5")
    if base.ShapBaseline is not None:
        size = len(base.ShapBaseline.encode("utf-8"))
        if size > MAX_INLINE_BASELINE_BYTES:
            ctx.error(f"{BASELINE}.ShapBaseline", f"{size} bytes in UTF-8; the inline limit is "
                      f"{MAX_INLINE_BASELINE_BYTES}: move the baseline to S3 and set ShapBaselineUri", "R3")
        try:
            ctx.baseline_rows = spec.baseline_rows()
        except (CodecError, ExpressionError) as err:
            ctx.error(f"{BASELINE}.ShapBaseline", f"cannot be read as {spec.baseline_mime_type}: {err}", "R5")
            return
        if not ctx.baseline_rows:
            ctx.error(f"{BASELINE}.ShapBaseline", "holds no record", "R5")
    elif base.ShapBaselineUri is not None and ctx.config.ClarifyKit.Baseline.Records is None:
        ctx.note(f"{KIT}.Baseline.Records", "the S3 baseline cannot be read offline: set its record count to size "
                 "the synthetic dataset", "R13")


def _features(ctx: _Context) -> None:  # R5, R7, R12
    spec = ctx.spec
    if spec is None:
        return
    sources: list[tuple[str, int]] = []
    if spec.feature_headers is not None:
        sources.append((f"{INFERENCE}.FeatureHeaders", len(spec.feature_headers)))
        duplicates = sorted({h for h in spec.feature_headers if spec.feature_headers.count(h) > 1})
        if duplicates:
            ctx.warn(f"{INFERENCE}.FeatureHeaders", f"duplicate headers {duplicates} make attributions ambiguous",
                     "R7")
    if spec.feature_types is not None:
        sources.append((f"{INFERENCE}.FeatureTypes", len(spec.feature_types)))
    if ctx.baseline_rows:
        widths = {len(r) for r in ctx.baseline_rows}
        first = len(ctx.baseline_rows[0])
        for i, row in enumerate(ctx.baseline_rows):
            if len(row) != first:
                ctx.error(f"{BASELINE}.ShapBaseline", f"record {i + 1} has {len(row)} fields but record 1 has {first}; "
                          "every baseline record needs the same features", "R5")
                break
        if len(widths) == 1:
            sources.append((f"{BASELINE}.ShapBaseline", first))
    if not sources and ctx.config.ClarifyKit.Baseline.Features:
        sources.append((f"{KIT}.Baseline.Features", ctx.config.ClarifyKit.Baseline.Features))
    if sources:
        name, count = sources[0]
        for other, other_count in sources[1:]:
            if other_count != count:
                hint = ""
                if other.endswith("ShapBaseline") and other_count == count + 1:
                    hint = "; remove the label/target column: baseline records hold only the features"
                ctx.error(other, f"{other_count} {'fields' if other.endswith('ShapBaseline') else 'items'} but "
                          f"{name.rsplit('.', 1)[-1]} has {count}: the feature counts must agree{hint}", "R5")
        ctx.n_features = count



def _feature_types(ctx: _Context) -> None:  # R7, R12
    spec = ctx.spec
    if spec is None:
        return
    if spec.feature_types is not None:
        if "text" not in spec.feature_types:
            ctx.error(f"{INFERENCE}.FeatureTypes", "FeatureTypes applies to NLP explainability only and must hold at "
                      "least one 'text'; remove it for tabular models", "R7")
        elif not spec.is_text:
            ctx.error(f"{SHAP}.TextConfig", "required because FeatureTypes has a 'text' feature: add TextConfig with "
                      "Language and Granularity", "R12")
    rows = ctx.baseline_rows
    baseline_has_text = bool(rows) and any(not _is_number(v) for v in rows[0])  # type: ignore[index]
    if spec.is_text and spec.feature_types is None and rows and not baseline_has_text:
        ctx.error(f"{SHAP}.TextConfig", "TextConfig is set but no feature is text: FeatureTypes is absent and "
                  "the baseline has no text value to infer one from", "R12")


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


# --- formats and expressions -------------------------------------------------------------------------------------


def _formats(ctx: _Context) -> None:  # R8, R9
    spec = ctx.spec
    if spec is None:
        return
    inference = f"{INFERENCE}"
    if base_content_type(spec.content_type) == JSONLINES:
        if not spec.content_template:
            ctx.error(f"{inference}.ContentTemplate", "required when the container reads JSON Lines: the explainer "
                      'writes each synthetic record with it, e.g. \'{"features":$features}\'', "R8")
        if not spec.features_attribute:
            ctx.warn(f"{inference}.FeaturesAttribute", "not set: JSON Lines requests must then be bare JSON lists "
                     "of features; set it (e.g. 'features') when records are objects", "R8")
    else:
        for name in ("ContentTemplate", "FeaturesAttribute"):
            if getattr(spec, _snake(name)):
                ctx.warn(f"{inference}.{name}", "ignored: the container reads text/csv", "R8")
    if spec.content_template is not None:
        count = spec.content_template.count("$features")
        if count != 1:
            ctx.error(f"{inference}.ContentTemplate", f"{spec.content_template!r} holds $features {count} times; it "
                      "must hold it exactly once ($record is not documented for online explainability)", "R8")
        else:
            try:
                json.loads(spec.content_template.replace("$features", "[1,2]"))
            except ValueError:
                ctx.error(f"{inference}.ContentTemplate", f"{spec.content_template!r} does not give valid JSON once "
                          "$features is replaced by a list", "R8")
    if spec.features_attribute is not None:
        _compiles(ctx, f"{inference}.FeaturesAttribute", spec.features_attribute)
    csv_out = base_content_type(spec.accept) == CSV
    for name, index_name in (("ProbabilityAttribute", "ProbabilityIndex"), ("LabelAttribute", "LabelIndex")):
        attr = getattr(spec, _snake(name))
        index = getattr(spec, _snake(index_name))
        if csv_out and attr is not None:
            ctx.warn(f"{inference}.{name}", f"ignored: the container answers text/csv; use {index_name}", "R9")
        if not csv_out and index is not None:
            ctx.warn(f"{inference}.{index_name}", f"ignored: the container answers JSON Lines; use {name}", "R9")
        if attr is not None:
            _compiles(ctx, f"{inference}.{name}", attr)
    if not csv_out and spec.probability_attribute is None:
        ctx.warn(f"{inference}.ProbabilityAttribute", "not set: each JSON Lines output record must then be a bare "
                 "number or list of numbers", "R9")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _compiles(ctx: _Context, path: str, expr: str) -> bool:
    try:
        problems = lint(expr)
    except ExpressionError as err:
        ctx.error(path, str(err), "R6")
        return False
    for problem in problems:
        ctx.error(path, problem, "R6")
    return not problems


def _expressions(ctx: _Context) -> None:  # R6, R9 on sample outputs
    spec = ctx.spec
    if spec is None:
        return
    samples = ctx.config.ClarifyKit.Container.SampleOutputs
    enable = spec.enable_explanations
    path = f"{CLARIFY}.EnableExplanations"
    if enable is None:
        ctx.note(path, "not set: every record is explained", "R6")
    elif _compiles(ctx, path, enable):
        if not samples:
            ctx.note(path, "only the syntax was checked: add ClarifyKit.Container.SampleOutputs (container output "
                     "records) to evaluate it", "R6")
        for i, sample in enumerate(samples):
            sample_path = f"{KIT}.Container.SampleOutputs[{i}]"
            try:
                result = evaluate(enable, spec.output_record(sample))
            except (ExpressionError, CodecError) as err:
                ctx.error(path, f"on {sample_path} {sample!r}: {err}", "R6")
                continue
            if not result.is_boolean:
                fix = " Compare with a backticked literal, e.g. [0]>`0.5`." if result.value is not None else ""
                ctx.error(path, f"{enable!r} evaluates to {result.describe()} on {sample_path} {sample!r}.{fix}",
                          "R6")
    label_counts: set[int] = set()
    for i, sample in enumerate(samples):
        sample_path = f"{KIT}.Container.SampleOutputs[{i}]"
        try:
            scores = spec.scores(sample)
        except (CodecError, ExpressionError) as err:
            ctx.error(sample_path, f"no score can be extracted: {err}", "R9")
            continue
        label_counts.add(len(scores))
        try:
            labels = spec.labels(sample)
        except (CodecError, ExpressionError) as err:
            ctx.error(sample_path, f"no label headers can be extracted: {err}", "R9")
            continue
        if labels is not None and len(labels) != len(scores):
            ctx.error(sample_path, f"{len(labels)} label headers but {len(scores)} scores", "R9")
    if len(label_counts) > 1:
        ctx.error(f"{KIT}.Container.SampleOutputs", f"records give different score counts {sorted(label_counts)}",
                  "R9")
    elif label_counts:
        ctx.n_classes = label_counts.pop()
    if spec.label_headers is not None and ctx.n_classes is not None and len(spec.label_headers) != ctx.n_classes:
        ctx.error(f"{INFERENCE}.LabelHeaders", f"{len(spec.label_headers)} headers but the container outputs "
                  f"{ctx.n_classes} scores per record", "R7")


def _samples(ctx: _Context) -> None:  # R15
    records = ctx.config.ClarifyKit.Container.SampleRecords
    if not records or ctx.spec is None:
        return
    body = "\n".join(records).encode("utf-8")
    if len(body) > MAX_INVOKE_BODY_BYTES:
        ctx.error(f"{KIT}.Container.SampleRecords", f"{len(body)} bytes in one request; InvokeEndpoint accepts at "
                  f"most {MAX_INVOKE_BODY_BYTES}", "R15")
    try:
        rows = ctx.spec.parse_request("\n".join(records))
    except (CodecError, ExpressionError) as err:
        ctx.error(f"{KIT}.Container.SampleRecords", f"cannot be read as {ctx.spec.content_type}: {err}", "R15")
        return
    if ctx.n_features is not None and not ctx.spec.is_text:
        for i, row in enumerate(rows):
            if len(row) != ctx.n_features:
                ctx.error(f"{KIT}.Container.SampleRecords[{i}]", f"{len(row)} features; the config has "
                          f"{ctx.n_features}", "R15")


# --- synthetic dataset and latency -------------------------------------------------------------------------------


def _synthetic(ctx: _Context) -> None:  # R13
    spec = ctx.spec
    if spec is None:
        return
    kit = ctx.config.ClarifyKit
    n_features = ctx.n_features
    if spec.is_text and n_features is not None:
        n_features = _text_feature_count(ctx, n_features)
    baseline_records = len(ctx.baseline_rows) if ctx.baseline_rows else kit.Baseline.Records
    synthetic = SyntheticDataset.compute(n_features, baseline_records, spec.number_of_samples)
    ctx.report.synthetic = synthetic
    if n_features is None and spec.is_text:
        return
    if n_features is None:
        ctx.note(f"{INFERENCE}.FeatureHeaders", "the feature count is unknown (S3 baseline, no FeatureHeaders): "
                 "set FeatureHeaders or ClarifyKit.Baseline.Features to size the synthetic dataset", "R13")
        return
    if n_features == 1:
        ctx.warn(SHAP, "one feature: the documented sample formula gives 0 coalitions (2^1 - 2); a single feature "
                 "gets the whole difference from the baseline", "R13")
    cap = 2**n_features - 2 if n_features < 63 else None
    if spec.number_of_samples is not None and cap is not None and spec.number_of_samples > cap:
        ctx.note(f"{SHAP}.NumberOfSamples", f"{spec.number_of_samples} exceeds the {cap} distinct coalitions of "
                 f"{n_features} features; the explainer uses {cap}", "R13")
    if synthetic.size is None:
        return
    per_record_ms = ctx.measured_ms_per_record or kit.Latency.ContainerMsPerRecord
    if per_record_ms is None:
        ctx.note(f"{KIT}.Latency.ContainerMsPerRecord", "not set: latency not estimated; run the container precheck "
                 "(--container-url) or set the container time per record", "R13")
        return
    bytes_per_record = _bytes_per_record(spec, ctx.baseline_rows)
    batch = records_per_request(spec.max_record_count, spec.max_payload_bytes, bytes_per_record)
    estimate = estimate_latency(
        synthetic.size,
        per_record_ms=per_record_ms,
        per_request_ms=kit.Latency.ContainerMsPerRequest,
        records_per_call=kit.Latency.RecordsPerInvocation,
        batch=batch,
    )
    ctx.report.latency = estimate
    detail = (f"{estimate.seconds:.1f} s for {kit.Latency.RecordsPerInvocation} explained record(s): "
              f"{synthetic.size} synthetic records each, {estimate.container_requests} container requests")
    fix = "reduce NumberOfSamples or the baseline records, raise MaxRecordCount, or send fewer records per call"
    if spec.is_text:
        _text_budget(ctx, spec, baseline_records or 1, per_record_ms, batch)
    if estimate.seconds > INVOKE_TIMEOUT_S:
        ctx.error(f"{SHAP}.NumberOfSamples", f"{detail}: over the {INVOKE_TIMEOUT_S:.0f} s InvokeEndpoint limit; "
                  f"{fix}", "latency-budget")
    elif estimate.share_of_limit > kit.Latency.WarnAtShare:
        ctx.warn(f"{SHAP}.NumberOfSamples", f"{detail}: {estimate.share_of_limit:.0%} of the "
                 f"{INVOKE_TIMEOUT_S:.0f} s limit (warning above {kit.Latency.WarnAtShare:.0%}); {fix}",
                 "latency-budget")


def _text_feature_count(ctx: _Context, n_features: int) -> int | None:
    """n_features for the size formula: non-text features plus the text units of the longest sample record
    (None when neither ClarifyKit.Text.UnitsPerRecord nor sample records tell the unit count)."""
    spec = ctx.spec
    assert spec is not None
    kit = ctx.config.ClarifyKit
    kinds = spec.feature_kinds(ctx.baseline_rows[0] if ctx.baseline_rows else None)
    texts = kinds.count("text") or 1
    if kit.Text.UnitsPerRecord is not None:
        return n_features - texts + texts * kit.Text.UnitsPerRecord
    samples = kit.Container.SampleRecords
    if not samples:
        ctx.note(f"{KIT}.Text.UnitsPerRecord", "not set and no SampleRecords: the synthetic dataset of a text "
                 "record grows with its units (tokens, sentences or paragraphs); set one of them to size it", "R13")
        return None
    from clarify_kit.text_units import split_units

    try:
        rows = spec.parse_request("\n".join(samples))
    except (CodecError, ExpressionError):
        return None
    counts = []
    for row in rows:
        units = sum(len(split_units(str(v), spec.language or "xx", spec.granularity or "token"))
                    for v, kind in zip(row, kinds, strict=False) if kind == "text")
        counts.append(len(row) - texts + units)
    ctx.note(f"{KIT}.Container.SampleRecords", f"text units per sample record: {counts}; the estimate uses the "
             f"largest, {max(counts)} features", "R13")
    return max(counts)


def _text_budget(ctx: _Context, spec: ExplainerSpec, baseline_records: int, per_record_ms: float, batch: int) -> None:
    """Report the longest text (in units) whose explanation stays within the warning share of the limit."""
    kit = ctx.config.ClarifyKit
    budget = INVOKE_TIMEOUT_S * kit.Latency.WarnAtShare

    def seconds(units: int) -> float:
        size = n_samples(units, spec.number_of_samples) * baseline_records
        return estimate_latency(size, per_record_ms=per_record_ms, per_request_ms=kit.Latency.ContainerMsPerRequest,
                                records_per_call=kit.Latency.RecordsPerInvocation, batch=batch).seconds

    low, high = 1, 1
    while seconds(high) <= budget and high < 1_000_000:
        low, high = high, high * 2
    if high >= 1_000_000:
        ctx.note(f"{SHAP}.TextConfig", "text length does not bring the estimate near the limit (NumberOfSamples "
                 "caps the synthetic dataset); the model's own time per longer text still grows", "R13")
        return
    while low + 1 < high:
        middle = (low + high) // 2
        low, high = (middle, high) if seconds(middle) <= budget else (low, middle)
    ctx.note(f"{SHAP}.TextConfig", f"texts up to about {low} {spec.granularity or 'token'} units stay within "
             f"{kit.Latency.WarnAtShare:.0%} of the 60 s limit at {per_record_ms:g} ms per synthetic record", "R13")


def _bytes_per_record(spec: ExplainerSpec, rows: list[list[Any]] | None) -> int:
    if rows:
        return max(len(spec.encode_records([r]).encode("utf-8")) + 1 for r in rows)
    return 64  # unknown baseline: a modest record; the estimate then leans on MaxRecordCount


def _mme(ctx: _Context) -> None:
    container = ctx.config.Model.PrimaryContainer
    if container is not None and container.Mode == "MultiModel" and not ctx.config.ClarifyKit.TargetModels:
        ctx.note(f"{KIT}.TargetModels", "a multi-model endpoint: list the target models to smoke-test; all of them "
                 "share this one explainer config (baseline and headers)", "mme")


_RULES: list[Rule] = [
    _explainer_present,
    _topology,
    _generated_names,
    _multi_az,
    _baseline,
    _features,
    _feature_types,
    _formats,
    _expressions,
    _samples,
    _synthetic,
    _mme,
]
