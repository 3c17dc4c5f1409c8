"""Rules on what is deployed: the explainer itself, the model container, endpoint kinds, names and instances."""

from __future__ import annotations

from clarify_kit.core.image_reference import image_reference_problem
from clarify_kit.core.limits import (
    CFN_ENDPOINT_CONFIG_PROPERTIES,
    CFN_SCHEMA,
    MAX_ENVIRONMENT_BYTES,
    MIN_MULTI_AZ_INSTANCES,
)
from clarify_kit.core.rules._registry import Findings, rule
from clarify_kit.core.rules.context import EXPLAINER, KIT, Context

VARIANTS = "EndpointConfig.ProductionVariants"


@rule(
    "R1",
    title="The endpoint config carries a Clarify explainer",
    source="BOTO-SM ExplainerConfig.ClarifyExplainerConfig; ShapConfig and ShapBaselineConfig are required members",
    fix="add ExplainerConfig.ClarifyExplainerConfig.ShapConfig.ShapBaselineConfig",
)
def explainer_present(ctx: Context, out: Findings) -> None:
    explainer = ctx.config.EndpointConfig.ExplainerConfig
    if explainer is None:
        out.error(
            EXPLAINER,
            "required: the kit deploys endpoints with Clarify online explainability; add "
            "ExplainerConfig.ClarifyExplainerConfig.ShapConfig.ShapBaselineConfig",
        )
    elif explainer.ClarifyExplainerConfig is None:
        out.error(f"{EXPLAINER}.ClarifyExplainerConfig", "required: an empty ExplainerConfig enables nothing")


@rule(
    "R14",
    title="Only single-container real-time endpoints",
    source="DG-OVERVIEW (real-time endpoints, 'the model container'); BOTO-RT (no EnableExplanations on async)",
    fix="use Model.PrimaryContainer and instance-based variants; remove Containers, InferenceExecutionConfig, "
    "AsyncInferenceConfig and ServerlessConfig",
)
def topology(ctx: Context, out: Findings) -> None:
    model, endpoint_config = ctx.config.Model, ctx.config.EndpointConfig
    if ctx.config.ClarifyKit.Explainer == "SelfHosted":
        _self_hosted_topology(ctx, out)
        return
    if model.Containers and (len(model.Containers) > 1 or model.PrimaryContainer is not None):
        out.error(
            "Model.Containers",
            f"{len(model.Containers)} containers: the Clarify explainer calls a single "
            "model container; use Model.PrimaryContainer (or one entry in Containers)",
        )
    if model.InferenceExecutionConfig is not None:
        out.error(
            "Model.InferenceExecutionConfig",
            "inference pipelines (Serial/Direct) are not supported with "
            "the Clarify explainer; remove it and use Model.PrimaryContainer",
        )
    if endpoint_config.AsyncInferenceConfig is not None:
        out.error(
            "EndpointConfig.AsyncInferenceConfig",
            "asynchronous inference has no EnableExplanations and is "
            "not documented for the Clarify explainer; remove AsyncInferenceConfig",
        )
    for i, variant in enumerate(endpoint_config.ProductionVariants):
        if variant.ServerlessConfig is not None:
            out.error(
                f"{VARIANTS}[{i}].ServerlessConfig",
                "serverless variants are not supported with the Clarify "
                "explainer (6 GB memory cap, cold starts against the 60 s limit); use InstanceType and "
                "InitialInstanceCount",
            )
    if endpoint_config.ShadowProductionVariants:
        out.warn(
            "EndpointConfig.ShadowProductionVariants",
            "whether the explainer applies to shadow variants is not documented; test them separately",
        )


@rule(
    "target-error",
    title="TargetError takes effect with the self-hosted explainer only",
    source="docs/explainer.md 3.10 (the kit's own estimator; the Clarify explainer spends NumberOfSamples)",
    fix="set ClarifyKit.Explainer: SelfHosted, or remove ClarifyKit.SelfHosted.TargetError",
)
def target_error(ctx: Context, out: Findings) -> None:
    target = ctx.config.ClarifyKit.SelfHosted.TargetError
    if target is not None and ctx.config.ClarifyKit.Explainer == "SelfHosted":
        out.note(
            "ClarifyKit.SelfHosted.TargetError",
            f"records stop sampling once their estimated error is {target} or less: the synthetic dataset and "
            "latency below are the most a record can cost (NumberOfSamples), not what it will",
        )
    elif target is not None:
        out.warn(
            "ClarifyKit.SelfHosted.TargetError",
            f"{target} is ignored: the Clarify explainer spends NumberOfSamples on every record; set "
            "ClarifyKit.Explainer: SelfHosted to sample to a target error",
        )


def _self_hosted_topology(ctx: Context, out: Findings) -> None:
    """The self-hosted explainer runs in the model's own container: serverless and asynchronous variants work
    (requests carry CustomAttributes on both), several containers or an inference pipeline do not."""
    model, endpoint_config = ctx.config.Model, ctx.config.EndpointConfig
    if model.Containers or model.InferenceExecutionConfig is not None:
        out.error(
            "Model.Containers" if model.Containers else "Model.InferenceExecutionConfig",
            "the self-hosted explainer runs in front of one model server in one container; use Model.PrimaryContainer",
        )
    container = model.PrimaryContainer
    image = container.Image if container else None
    problem = image_reference_problem(image) if isinstance(image, str) and image else None
    if problem:
        out.error("Model.PrimaryContainer.Image", f"the self-hosted image is built FROM it: {problem}")
    async_config = endpoint_config.AsyncInferenceConfig
    if async_config is not None and not async_config.OutputConfig.KmsKeyId:
        out.error(
            "EndpointConfig.AsyncInferenceConfig.OutputConfig.KmsKeyId",
            "asynchronous responses (with "
            "their explanations) are written to S3: encrypt them with a KMS key (KmsKeyId)",
        )


@rule(
    "container",
    title="The model container has an image and a valid environment",
    source="BOTO-SM CreateModel: ContainerDefinition.Image; Environment at most 32 KB in total",
    fix="set Model.PrimaryContainer.Image (an ECR URI, or {Framework, Version}); shorten the environment",
)
def model_container(ctx: Context, out: Findings) -> None:
    model = ctx.config.Model
    container, where = ctx.config.container, ctx.config.container_path
    if container is None:
        if not model.Containers:
            out.error("Model.PrimaryContainer", "required: the model container (Image, ModelDataUrl, Mode)")
        return
    if not container.Image and not container.ModelPackageName:
        out.error(f"{where}.Image", "required: the container image URI (ECR)")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in (container.Environment or {}).items())
    if size > MAX_ENVIRONMENT_BYTES:
        out.error(
            f"{where}.Environment",
            f"{size} bytes; the API allows at most {MAX_ENVIRONMENT_BYTES} bytes of keys and values in total",
        )


@rule(
    "names",
    title="Resource names are the kit's",
    source="kit: generated names change with the config, so every change replaces the resource safely "
    "(CFN createOnlyProperties)",
    fix="remove ModelName and EndpointConfigName from the file",
)
def generated_names(ctx: Context, out: Findings) -> None:
    cfg = ctx.config
    given = [
        ("Model.ModelName", cfg.Model.ModelName),
        ("EndpointConfig.EndpointConfigName", cfg.EndpointConfig.EndpointConfigName),
        ("Endpoint.EndpointConfigName", cfg.Endpoint.EndpointConfigName),
    ]
    given += [(f"{VARIANTS}[{i}].ModelName", v.ModelName) for i, v in enumerate(cfg.EndpointConfig.ProductionVariants)]
    for path, value in given:
        if value is not None:
            out.warn(
                path,
                f"{value!r} is ignored: the kit generates this name from the config, so that every "
                "change replaces the resource safely; remove it",
            )


@rule(
    "variant",
    title="Instance-based variants name their instance type",
    source="BOTO-SM ProductionVariant: InstanceType (or InstancePools) for instance-based variants",
    fix="set InstanceType, for example ml.m5.xlarge",
)
def variant_instance_type(ctx: Context, out: Findings) -> None:
    for i, variant in enumerate(ctx.config.EndpointConfig.ProductionVariants):
        if variant.ServerlessConfig is None and variant.InstanceType is None and not variant.InstancePools:
            out.error(
                f"{VARIANTS}[{i}].InstanceType", "required for an instance-based variant (for example ml.m5.xlarge)"
            )


@rule(
    "multi-az",
    title="Two or more instances in two or more Availability Zones",
    source="kit: SageMaker spreads a variant's instances over Availability Zones only when there are at least two",
    fix="set InitialInstanceCount (and every minimum) to 2 or more, list subnets in two zones, or add "
    "ClarifyKit.OptOuts: [{Rule: multi-az, Reason: ...}]",
)
def multi_az(ctx: Context, out: Findings) -> None:
    for i, variant in enumerate(ctx.config.EndpointConfig.ProductionVariants):
        if variant.ServerlessConfig is not None:
            continue
        path = f"{VARIANTS}[{i}]"
        _instance_count(variant.InitialInstanceCount, f"{path}.InitialInstanceCount", out)
        scaling = variant.ManagedInstanceScaling
        if scaling and scaling.Status == "ENABLED" and (scaling.MinInstanceCount or 0) < MIN_MULTI_AZ_INSTANCES:
            out.kit_error(
                f"{path}.ManagedInstanceScaling.MinInstanceCount",
                f"{scaling.MinInstanceCount} lets the "
                f"variant shrink to one Availability Zone; set at least {MIN_MULTI_AZ_INSTANCES}",
            )
    auto = ctx.kit.Autoscaling
    if auto.Enabled and auto.MinCapacity < MIN_MULTI_AZ_INSTANCES:
        out.kit_error(
            f"{KIT}.Autoscaling.MinCapacity",
            f"{auto.MinCapacity} lets autoscaling shrink the endpoint "
            f"to one Availability Zone; set at least {MIN_MULTI_AZ_INSTANCES}",
        )
    for where, vpc in (
        ("Model.VpcConfig", ctx.config.Model.VpcConfig),
        ("EndpointConfig.VpcConfig", ctx.config.EndpointConfig.VpcConfig),
    ):
        if vpc is not None and len(set(vpc.Subnets)) < MIN_MULTI_AZ_INSTANCES:
            out.kit_error(
                f"{where}.Subnets",
                f"{len(set(vpc.Subnets))} subnet is one Availability Zone; list "
                f"subnets in at least {MIN_MULTI_AZ_INSTANCES} zones",
            )


def _instance_count(count: int | None, path: str, out: Findings) -> None:
    if count is None:
        out.error(
            path,
            f"required: at least {MIN_MULTI_AZ_INSTANCES} instances so that SageMaker places them in "
            "different Availability Zones",
        )
    elif count < MIN_MULTI_AZ_INSTANCES:
        out.kit_error(
            path,
            f"{count} instance is one Availability Zone; set at least {MIN_MULTI_AZ_INSTANCES}, or "
            "add ClarifyKit.OptOuts: [{Rule: multi-az, Reason: ...}]",
        )


@rule(
    "autoscaling",
    title="Autoscaling bounds hold every variant's initial count",
    source="Application Auto Scaling RegisterScalableTarget: MinCapacity <= MaxCapacity",
    fix="raise ClarifyKit.Autoscaling.MaxCapacity",
)
def autoscaling_bounds(ctx: Context, out: Findings) -> None:
    auto = ctx.kit.Autoscaling
    if not auto.Enabled:
        return
    if auto.MaxCapacity < auto.MinCapacity:
        out.error(f"{KIT}.Autoscaling.MaxCapacity", f"{auto.MaxCapacity} is below MinCapacity {auto.MinCapacity}")
    for i, variant in enumerate(ctx.config.EndpointConfig.ProductionVariants):
        count = variant.InitialInstanceCount
        if count is not None and count > auto.MaxCapacity:
            out.error(
                f"{KIT}.Autoscaling.MaxCapacity",
                f"{auto.MaxCapacity} is below {VARIANTS}[{i}].InitialInstanceCount {count}",
            )


@rule(
    "mme",
    title="Multi-model endpoints name the target models to smoke-test",
    source="DG-CREATE (multi-model endpoints share one explainer config); DG-INVOKE (TargetModel)",
    fix="list the target models under ClarifyKit.TargetModels",
)
def multi_model(ctx: Context, out: Findings) -> None:
    container = ctx.config.container
    if container is not None and container.Mode == "MultiModel" and not ctx.kit.TargetModels:
        out.note(
            f"{KIT}.TargetModels",
            "a multi-model endpoint: list the target models to smoke-test; all of them "
            "share this one explainer config (baseline and headers)",
        )


@rule(
    "network",
    title="Network isolation and VPC leave the explainer what it reads",
    source="BOTO-SM CreateModel EnableNetworkIsolation ('No inbound or outbound network calls'); ShapBaselineUri "
    "('accessible to the VPC'); docs/explainer.md 3.2 (UNVERIFIED with isolation)",
    fix="keep the baseline inline (ShapBaseline) under network isolation; in a VPC, give S3 a gateway endpoint",
)
def network(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None or spec.baseline_uri is None:
        return
    if ctx.config.Model.EnableNetworkIsolation:
        out.warn(
            "Model.EnableNetworkIsolation",
            "with network isolation, whether the explainer can read "
            "ShapBaselineUri is not documented (UNVERIFIED); use an inline ShapBaseline, or test a deployment",
        )
    if ctx.config.Model.VpcConfig is not None:
        out.note("Model.VpcConfig", "the S3 baseline must be reachable from the VPC (an S3 gateway endpoint or a NAT)")


# A CDK token's string form (aws-cdk-lib Token.asString): a config value holding one would be resolved by CDK as a
# token it never made, and synthesis fails.
_CDK_TOKEN = "${Token["


@rule(
    "cdk-token",
    title="No value looks like a CDK token",
    source="aws-cdk-lib: strings of the form ${Token[...]} are resolved as tokens at synthesis",
    fix="write the value itself; a region or account comes from the stack, not from the config",
)
def cdk_tokens(ctx: Context, out: Findings) -> None:
    stack: list[tuple[object, str]] = [(ctx.config.model_dump(mode="json", exclude_unset=True), "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, str) and _CDK_TOKEN in value:
            out.error(
                where,
                f"{value[:60]!r} holds {_CDK_TOKEN}...], the form of a CDK token: CDK would resolve it "
                "as one at synthesis and fail; write the value itself",
            )


@rule(
    "drift-monitor",
    title="A drift monitor has a baseline and data capture to read",
    source="kit: the scheduled drift function reads the endpoint's captured responses (DataCaptureConfig with "
    "Output) and compares them with ClarifyKit.Monitoring.Drift.BaselineUri",
    fix="set ClarifyKit.Monitoring.Drift.BaselineUri and enable capture (ClarifyKit.DataCapture.Enabled, or "
    "EndpointConfig.DataCaptureConfig capturing Output)",
)
def drift_monitor(ctx: Context, out: Findings) -> None:
    settings = ctx.kit.Monitoring.Drift
    if not settings.Enabled:
        return
    path = f"{KIT}.Monitoring.Drift"
    if settings.BaselineUri is None:
        out.error(
            f"{path}.BaselineUri",
            "required with Enabled: an S3 capture prefix or a partial result of clarify-kit drift --partial",
        )
    given = ctx.config.EndpointConfig.DataCaptureConfig
    if given is not None:
        modes = {o.CaptureMode for o in given.CaptureOptions}
        if not modes & {"Output", "InputAndOutput"}:
            out.error(f"{path}.Enabled", "EndpointConfig.DataCaptureConfig captures no Output: nothing to read")
    elif not ctx.kit.DataCapture.Enabled or "Output" not in ctx.kit.DataCapture.CaptureModes:
        out.error(
            f"{path}.Enabled",
            "the drift function reads captured responses: set ClarifyKit.DataCapture.Enabled (with Output among its "
            "CaptureModes) or EndpointConfig.DataCaptureConfig",
        )


@rule(
    "tracing",
    title="Request tracing is not combined with data capture, serverless variants or a multi-model container",
    source="BOTO-SM CreateEndpointConfig TracingConfig: \"You can't enable tracing together with data capture "
    '(EnableCapture set to True in DataCaptureConfig), with serverless variants, or with multi-model endpoints."',
    fix="turn off TracingConfig.EnableTracing, or the data capture, serverless variant or multi-model container",
)
def tracing(ctx: Context, out: Findings) -> None:
    tracing_config = ctx.config.EndpointConfig.TracingConfig
    if tracing_config is None or not tracing_config.EnableTracing:
        return
    path = "EndpointConfig.TracingConfig.EnableTracing"
    given = ctx.config.EndpointConfig.DataCaptureConfig
    if (given is not None and given.EnableCapture is not False) or (given is None and ctx.kit.DataCapture.Enabled):
        where = "EndpointConfig.DataCaptureConfig" if given is not None else f"{KIT}.DataCapture.Enabled"
        out.error(path, f"tracing cannot be enabled together with data capture ({where}); the API refuses both")
    for i, variant in enumerate(ctx.config.EndpointConfig.ProductionVariants):
        if variant.ServerlessConfig is not None:
            out.error(path, f"tracing cannot be enabled with a serverless variant ({VARIANTS}[{i}].ServerlessConfig)")
    container = ctx.config.container
    if container is not None and container.Mode == "MultiModel":
        out.error(path, "tracing cannot be enabled on a multi-model endpoint (Model.PrimaryContainer.Mode MultiModel)")


@rule(
    "cfn-members",
    title="Every endpoint config member has a CloudFormation property to render it",
    source=f"CloudFormation's AWS::SageMaker::EndpointConfig schema ({CFN_SCHEMA}); BOTO-SM CreateEndpointConfig",
    fix="remove the member to deploy with the kit's stack, or create that endpoint config with the API",
)
def cfn_members(ctx: Context, out: Findings) -> None:
    given = ctx.config.EndpointConfig.model_dump(exclude_unset=True)
    for member in sorted(set(given) - CFN_ENDPOINT_CONFIG_PROPERTIES):
        out.error(
            f"EndpointConfig.{member}",
            f"CloudFormation's AWS::SageMaker::EndpointConfig has no {member} property ({CFN_SCHEMA}'s schema), so "
            "the kit's stack cannot deploy it, and it is never dropped silently: remove it, or create this endpoint "
            "config with the API (CreateEndpointConfig)",
        )
