"""The config's models: SageMaker's own request shapes, widened where the kit reads more (a framework image by
name), and the kit's own settings under ``ClarifyKit`` (frozen pydantic models, unknown keys refused)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from clarify_kit.core import _api_models as api
from clarify_kit.core.drift import (
    DEFAULT_MASS_THRESHOLD,
    DEFAULT_NDCG_THRESHOLD,
    DEFAULT_PREDICTION_THRESHOLD,
)
from clarify_kit.core.drift_partial import DEFAULT_AGGREGATION
from clarify_kit.core.drift_partial import Aggregation as AggregationName

MediaType = Literal["text/csv", "application/jsonlines"]
# The kit's own stricter rules that a config may switch to warnings, each with a reason.
OPT_OUT_RULES = ("multi-az",)


class _KitModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the API shapes, where the kit widens them -------------------------------------------------------------------


class FrameworkImage(_KitModel):
    """A SageMaker framework image named by framework and version, resolved per region at precheck and synth."""

    Framework: Annotated[StrictStr, Field(min_length=1, max_length=64)] = Field(
        description="SageMaker framework name, e.g. xgboost, sklearn, pytorch, tensorflow, huggingface."
    )
    Version: Annotated[StrictStr, Field(min_length=1, max_length=64)] = Field(
        description="Framework version as the SDK names it, e.g. 1.7-1 (xgboost), 1.2-1 (sklearn), 2.1 (pytorch)."
    )
    PyVersion: Annotated[StrictStr, Field(pattern=r"^py[0-9]+$")] | None = Field(
        None, description="Python version of the image, e.g. py3 or py310, where the framework has several."
    )
    InstanceType: StrictStr | None = Field(
        None, description="Instance type that selects the CPU/GPU image; default: the first variant's."
    )
    ImageScope: Literal["inference", "inference_graviton"] = Field("inference", description="Image scope.")


_ImageUri = Annotated[StrictStr, Field(min_length=0, max_length=255, pattern=r"^(?:[\S]+)\Z")]


class ContainerDefinition(api.ContainerDefinition):
    """ContainerDefinition; the image may also be named by framework and version (FrameworkImage)."""

    # Widens the generated member on purpose (pydantic validates the override; mypy sees a narrower base).
    Image: _ImageUri | FrameworkImage | None = Field(  # type: ignore[assignment]
        None,
        description="The path where inference code is stored, or {Framework, Version} of a SageMaker framework image.",
    )


class ModelSpec(api.ModelSpec):
    """The CreateModel request; ModelName is optional and ignored (the kit names the model)."""

    PrimaryContainer: ContainerDefinition | None = Field(
        None,
        description="The location of the primary docker image containing inference code, associated "
        "artifacts, and custom environment map that the inference code uses when the model is deployed for "
        "predictions.",
    )
    Containers: Annotated[list[ContainerDefinition], Field(min_length=0, max_length=15)] | None = Field(  # type: ignore[assignment]
        None, description="Specifies the containers in the inference pipeline."
    )


class OptOut(_KitModel):
    """An explicit, reasoned exception to one of the kit's stricter rules (its error becomes a warning)."""

    Rule: Literal["multi-az"] = Field(description="The kit rule to relax: " + ", ".join(OPT_OUT_RULES) + ".")
    Reason: Annotated[StrictStr, Field(min_length=10, max_length=500)] = Field(
        description="Why the exception is acceptable; shown in every precheck report and as a CDK annotation."
    )


class ContainerSettings(_KitModel):
    """What the model container reads and writes. Inferred from the ExplainerConfig when omitted."""

    ContentType: MediaType | None = Field(
        None,
        description="Request format of the container; default: application/jsonlines when a ContentTemplate "
        "is set, else text/csv.",
    )
    Accept: MediaType | None = Field(
        None,
        description="Response format of the container; default: application/jsonlines when a "
        "ProbabilityAttribute or LabelAttribute is set, else text/csv.",
    )
    SampleOutputs: Annotated[list[StrictStr], Field(max_length=100)] = Field(
        default_factory=list,
        description="Container output records (one line each, in the Accept format) on which EnableExplanations "
        "and the probability/label selectors are evaluated. Without them only syntax is checked.",
    )
    SampleRecords: Annotated[list[StrictStr], Field(max_length=100)] = Field(
        default_factory=list,
        description="Request records (one line each, in the ContentType format) used by the container precheck "
        "and the smoke test; default: the baseline records.",
    )


class BaselineSettings(_KitModel):
    """Facts about a baseline kept in S3, which the static precheck cannot read."""

    Records: Annotated[StrictInt, Field(ge=1)] | None = Field(None, description="Number of records in the S3 baseline.")
    Features: Annotated[StrictInt, Field(ge=1, le=4096)] | None = Field(
        None, description="Number of features per record, when neither FeatureHeaders nor FeatureTypes give it."
    )


class LatencySettings(_KitModel):
    """Container latency assumptions for the explainer latency estimate against the 60 s InvokeEndpoint limit."""

    ContainerMsPerRecord: Annotated[StrictFloat, Field(gt=0)] | None = Field(
        None, description="Container time per synthetic record, in ms (measured by the container precheck if unset)."
    )
    ContainerMsPerRequest: Annotated[StrictFloat, Field(ge=0)] = Field(
        5.0, description="Fixed container and network cost per explainer-to-container request, in ms."
    )
    RecordsPerInvocation: Annotated[StrictInt, Field(ge=1)] = Field(
        1, description="Records a client sends in one InvokeEndpoint call, all of them explained."
    )
    WarnAtShare: Annotated[StrictFloat, Field(gt=0, le=1)] = Field(
        0.5, description="Warn when the estimate exceeds this share of the 60 s limit."
    )
    ContainerConcurrency: Annotated[StrictFloat | StrictInt, Field(ge=1, le=1024)] = Field(
        1,
        description="Explained records one instance works on at once at full speed (clarify-kit capacity measures "
        "it: the container's parallel requests and the explainer's overlap); the scaling targets grow with it.",
    )
    P99Ms: Annotated[StrictFloat, Field(gt=0)] | None = Field(
        None,
        description="p99 latency in ms of one InvokeEndpoint call explaining one record, measured by clarify-kit "
        "capacity; the ModelLatency alarm uses it instead of the estimate.",
    )


class TextSettings(_KitModel):
    """Text-length assumptions for NLP explainability (the feature count grows with each text)."""

    UnitsPerRecord: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None,
        description="Text units (tokens, sentences or paragraphs) per record for the latency estimate; "
        "default: counted on the sample records.",
    )


class SelfHostedSettings(_KitModel):
    """How the self-hosted explainer's image starts the model server (ClarifyKit.Explainer: SelfHosted)."""

    ModelCommand: Annotated[StrictStr, Field(min_length=1, max_length=1024)] = Field(
        "serve",
        description="The base image's command that starts its model server (SageMaker images ship "
        "`serve`); it must listen on ModelPort (SAGEMAKER_BIND_TO_PORT is set to it).",
    )
    ModelPort: Annotated[StrictInt, Field(ge=1024, le=65535)] = Field(
        8081, description="The model server's internal port (not 8080: the explainer takes SageMaker's 8080)."
    )

    TargetError: Annotated[StrictFloat, Field(gt=0, lt=1)] | None = Field(
        None,
        description="Sample coalitions in rounds until a record's estimated relative error (the L2 norm of its "
        "attributions' standard errors over the norm of its attributions) is at most this, or NumberOfSamples "
        "is spent; easy records stop early (e.g. 0.02). Unset: the Clarify explainer's synthetic data and budget.",
    )

    @field_validator("ModelPort")
    @classmethod
    def _not_the_explainers_port(cls, port: int) -> int:
        if port == 8080:
            raise ValueError(
                "8080 is the explainer's port (SageMaker sends requests there); give the model server "
                "another, e.g. 8081"
            )
        return port

    User: Annotated[StrictStr, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")] | None = Field(
        None,
        description="Run the explainer and the model server as this non-root user (created with uid 10001); "
        "leave unset when the base image's model server needs root, as many SageMaker images do.",
    )


class AutoscalingSettings(_KitModel):
    """Application Auto Scaling target tracking on invocations per instance, for every variant."""

    Enabled: StrictBool = Field(True, description="Create a scalable target and policy per variant.")
    MinCapacity: Annotated[StrictInt, Field(ge=1)] = Field(2, description="Never below 2 (multi-AZ).")
    MaxCapacity: Annotated[StrictInt, Field(ge=1)] = Field(4, description="Upper bound; at least the initial count.")
    TargetInvocationsPerInstance: Annotated[StrictFloat, Field(gt=0)] | None = Field(
        None,
        description="InvocationsPerInstance target (per minute); default: derived from ClarifyKit.Latency's "
        "figures (what one instance sustains, at TargetUtilisation). Setting it needs TargetsReason.",
    )
    TargetExplanationsPerInstance: Annotated[StrictFloat, Field(gt=0)] | None = Field(
        None,
        description="ExplanationsPerInstance target (records explained per minute per instance) for variants with "
        "the Clarify explainer; default: derived like TargetInvocationsPerInstance. Setting it needs TargetsReason.",
    )
    TargetsReason: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = Field(
        None, description="Why the targets are set by hand instead of derived from the measured figures."
    )
    TargetUtilisation: Annotated[StrictFloat, Field(gt=0, le=1)] = Field(
        0.5,
        description="Share of one instance's measured capacity the derived targets aim at (0.5: AWS's "
        "load-testing rule of thumb, headroom for bursts while new instances start).",
    )
    ExplainedShare: Annotated[StrictFloat, Field(ge=0, le=1)] = Field(
        1.0,
        description="Share of records EnableExplanations explains, for the InvocationsPerInstance target "
        "(1: every record, the safe assumption).",
    )
    ScaleInCooldownSeconds: Annotated[StrictInt, Field(ge=0)] = Field(300, description="Wait after a scale-in.")
    ScaleOutCooldownSeconds: Annotated[StrictInt, Field(ge=0)] = Field(60, description="Wait after a scale-out.")


class AlarmSettings(_KitModel):
    """CloudWatch alarms the stack creates; they also drive the blue/green auto-rollback."""

    Enabled: StrictBool = Field(True, description="Create the alarms, their SNS topic and the auto-rollback.")
    Invocation5XXErrorsThreshold: Annotated[StrictFloat, Field(ge=0)] = Field(
        1.0, description="Alarm when Invocation5XXErrors summed over a minute reaches this count."
    )
    ModelLatencyP99Ms: Annotated[StrictFloat, Field(gt=0)] | None = Field(
        None,
        description="ModelLatency p99 threshold in ms; default: 1.5 times ClarifyKit.Latency.P99Ms (measured) "
        "or else the explainer latency estimate, at least 1 s and at most 48 s (80 % of the 60 s limit). "
        "Setting it needs ModelLatencyP99Reason.",
    )
    ModelLatencyP99Reason: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = Field(
        None, description="Why ModelLatencyP99Ms is set by hand instead of derived from the measured figures."
    )
    EvaluationPeriods: Annotated[StrictInt, Field(ge=1)] = Field(3, description="One-minute periods evaluated.")
    NotifyEmails: Annotated[
        list[Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]], Field(max_length=10)
    ] = Field(default_factory=list, description="Addresses subscribed to the alarm topic.")


CaptureMode = Literal["Input", "Output"]


def _both_capture_modes() -> list[CaptureMode]:
    return ["Input", "Output"]


class DataCaptureSettings(_KitModel):
    """Data capture into a bucket the stack creates (encrypted with the endpoint key, no public access, TLS only).

    Ignored when EndpointConfig.DataCaptureConfig is given: that one is rendered as written, into your bucket.
    """

    Enabled: StrictBool = Field(False, description="Create the capture bucket and capture requests and responses.")
    InitialSamplingPercentage: Annotated[StrictInt, Field(ge=0, le=100)] = Field(
        100, description="Share of invocations captured (CreateEndpointConfig allows 0 to 100)."
    )
    CaptureModes: Annotated[list[CaptureMode], Field(min_length=1, max_length=2)] = Field(
        default_factory=_both_capture_modes, description="What is captured."
    )


class DriftSettings(_KitModel):
    """A scheduled drift monitor (ClarifyKit.Monitoring.Drift): a function that reads the last window of the data
    capture prefix, compares its served explanations with a baseline and publishes the measures as metrics."""

    Enabled: StrictBool = Field(False, description="Create the scheduled drift function, its metrics and alarms.")
    Schedule: Annotated[StrictStr, Field(pattern=r"^(rate|cron)\(.+\)$", max_length=256)] = Field(
        "rate(1 hour)", description="EventBridge schedule expression, e.g. rate(1 hour) or cron(5 * * * ? *)."
    )
    WindowHours: Annotated[StrictInt, Field(ge=1, le=720)] = Field(
        1, description="Hours of capture the function reads on each run, ending at the current hour."
    )
    BaselineUri: Annotated[StrictStr, Field(pattern=r"^s3://[^/]+/.+", max_length=1024)] | None = Field(
        None,
        description="The baseline: an S3 capture prefix (every file under it) or a partial result written by "
        "clarify-kit drift --partial (a .json object). Required when Enabled.",
    )
    Aggregation: AggregationName = Field(
        DEFAULT_AGGREGATION,
        description="Global attribution per feature, as Model Monitor's agg_method: mean_abs (mean of absolute "
        "values), median (of the signed values) or mean_sq (mean of squares).",
    )
    NdcgThreshold: Annotated[StrictFloat, Field(gt=0, le=1)] = Field(
        DEFAULT_NDCG_THRESHOLD, description="Alarm below this NDCG."
    )
    MassThreshold: Annotated[StrictFloat, Field(gt=0)] = Field(
        DEFAULT_MASS_THRESHOLD, description="Alarm when the total global attribution changes by more than this share."
    )
    PredictionThreshold: Annotated[StrictFloat, Field(gt=0)] = Field(
        DEFAULT_PREDICTION_THRESHOLD, description="Alarm when the mean prediction changes by more than this."
    )
    Namespace: Annotated[StrictStr, Field(pattern=r"^[^:].*$", min_length=1, max_length=255)] = Field(
        "ClarifyKit/Drift", description="CloudWatch namespace of the published metrics."
    )


class MonitoringSettings(_KitModel):
    """Monitoring beyond the endpoint's own metrics."""

    Drift: DriftSettings = Field(default_factory=DriftSettings)


class KitSettings(_KitModel):
    """clarify-kit's own settings; every key has a default, so a file with only Model and EndpointConfig works."""

    Container: ContainerSettings = Field(default_factory=ContainerSettings)
    Baseline: BaselineSettings = Field(default_factory=BaselineSettings)
    Latency: LatencySettings = Field(default_factory=LatencySettings)
    Text: TextSettings = Field(default_factory=TextSettings)
    Autoscaling: AutoscalingSettings = Field(default_factory=AutoscalingSettings)
    Alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    DataCapture: DataCaptureSettings = Field(default_factory=DataCaptureSettings)
    Monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    OptOuts: list[OptOut] = Field(
        default_factory=list,
        description="Reasoned exceptions: [{Rule: multi-az, Reason: ...}] turns the multi-AZ errors into warnings.",
    )
    TargetModels: Annotated[list[StrictStr], Field(max_length=50)] = Field(
        default_factory=list, description="Target models of a multi-model endpoint to smoke-test."
    )
    StackName: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z][A-Za-z0-9-]*$")] = Field(
        "ClarifyEndpoint", description="CloudFormation stack name."
    )
    SelfHosted: SelfHostedSettings = Field(default_factory=SelfHostedSettings)
    Explainer: Literal["Clarify", "SelfHosted"] = Field(
        "Clarify",
        description="Clarify: SageMaker's Clarify explainer serves the explanations (ExplainerConfig). "
        "SelfHosted: the kit's explainer runs inside the model's own container (clarify-kit serve-container), "
        "with the same settings and response; requests switch it with CustomAttributes EnableExplanations=...",
    )

    def opt_out(self, rule: str) -> OptOut | None:
        """Return the opt-out for ``rule``, if the config declares one."""
        return next((o for o in self.OptOuts if o.Rule == rule), None)
