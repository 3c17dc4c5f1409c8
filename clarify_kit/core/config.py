"""The deployment config: SageMaker's own request shapes plus the kit's settings, loaded with field-path errors."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from clarify_kit.core import _api_models as api
from clarify_kit.core._api_models import (
    ClarifyExplainerConfig,
    EndpointConfigSpec,
    EndpointSpec,
    ProductionVariant,
)
from clarify_kit.core._document import Document, Positions, position_of
from clarify_kit.core.errors import ConfigError, Issue

__all__ = [
    "AlarmSettings",
    "AutoscalingSettings",
    "DriftSettings",
    "MonitoringSettings",
    "BaselineSettings",
    "ContainerDefinition",
    "ContainerSettings",
    "DataCaptureSettings",
    "DeploymentConfig",
    "FrameworkImage",
    "KitSettings",
    "LatencySettings",
    "ModelSpec",
    "OPT_OUT_RULES",
    "OptOut",
    "TextSettings",
    "config_from_dict",
    "config_from_document",
    "json_schema",
    "position_of",
]

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
    Aggregation: Literal["mean_abs", "median", "mean_sq"] = Field(
        "mean_abs",
        description="Global attribution per feature, as Model Monitor's agg_method: mean_abs (mean of absolute "
        "values), median (of the signed values) or mean_sq (mean of squares).",
    )
    NdcgThreshold: Annotated[StrictFloat, Field(gt=0, le=1)] = Field(0.9, description="Alarm below this NDCG.")
    MassThreshold: Annotated[StrictFloat, Field(gt=0)] = Field(
        0.5, description="Alarm when the total global attribution changes by more than this share."
    )
    PredictionThreshold: Annotated[StrictFloat, Field(gt=0)] = Field(
        0.1, description="Alarm when the mean prediction changes by more than this."
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


class DeploymentConfig(_KitModel):
    """One SageMaker real-time endpoint with Clarify online explainability."""

    Model: ModelSpec
    EndpointConfig: EndpointConfigSpec
    Endpoint: EndpointSpec = Field(default_factory=lambda: EndpointSpec())
    ClarifyKit: KitSettings = Field(default_factory=KitSettings)
    # Where each field stands in the file it was read from (empty for a config built in code).
    _positions: Positions = PrivateAttr(default_factory=dict)

    @property
    def positions(self) -> Positions:
        """Field path -> (line, column) in the file the config was read from, recorded while it was parsed."""
        return self._positions

    def __eq__(self, other: object) -> bool:
        """Two configs are equal when their fields are, wherever in which file they were written."""
        if not isinstance(other, DeploymentConfig):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True))

    @property
    def clarify(self) -> ClarifyExplainerConfig | None:
        """The ClarifyExplainerConfig, or None when the endpoint config has no explainer."""
        explainer = self.EndpointConfig.ExplainerConfig
        return explainer.ClarifyExplainerConfig if explainer else None

    @property
    def container(self) -> ContainerDefinition | None:
        """The model container: PrimaryContainer, or the one entry of Containers (AWS's multi-model notebook writes
        ``Containers: [{Mode: MultiModel, ...}]``, which the service takes as the primary container)."""
        model = self.Model
        if model.PrimaryContainer is not None:
            return model.PrimaryContainer
        if model.Containers and len(model.Containers) == 1 and model.InferenceExecutionConfig is None:
            return model.Containers[0]
        return None

    @property
    def container_path(self) -> str:
        """Where the model container stands in the file: ``Model.PrimaryContainer`` or ``Model.Containers[0]``."""
        single = self.Model.PrimaryContainer is None and self.Model.Containers and len(self.Model.Containers) == 1
        return "Model.Containers[0]" if single else "Model.PrimaryContainer"

    @property
    def variants(self) -> list[ProductionVariant]:
        return list(self.EndpointConfig.ProductionVariants)

    def explainer_config_dict(self) -> dict[str, Any] | None:
        """The ExplainerConfig exactly as written in the file (no defaults injected)."""
        explainer = self.EndpointConfig.ExplainerConfig
        return explainer.model_dump(exclude_unset=True) if explainer else None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, for editors (``clarify-kit schema``)."""
    schema = DeploymentConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "clarify-kit deployment config"
    return schema


def config_from_document(document: Document, *, source: str = "config") -> DeploymentConfig:
    """Validate a parsed config document; the config keeps the document's field positions.

    Raises
    ------
    ConfigError: with one Issue per problem, each naming the dotted field path, and the document's positions.
    """
    try:
        config = config_from_dict(document.data, source=source)
    except ConfigError as err:
        err.positions = document.positions
        raise
    config._positions = document.positions
    return config


def config_from_dict(data: Any, *, source: str = "config") -> DeploymentConfig:
    """Validate an already-parsed config document.

    Raises
    ------
    ConfigError: with one Issue per problem, each naming the dotted field path.
    """
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{source}: the config must be a mapping with Model and EndpointConfig; it is {kind}")
    try:
        return DeploymentConfig.model_validate(data)
    except ValidationError as err:
        errors = _one_union_branch(err.errors(include_url=False), data)
        raise ConfigError([_issue(e, data) for e in errors]) from None
    except RecursionError as err:
        raise ConfigError(f"{source}: the config is nested too deeply") from err


# --- pydantic error -> "path: message" -------------------------------------------------------------------------


_UNION_MODELS = ("FrameworkImage",)


def _one_union_branch(errors: list[Any], data: Any) -> list[Any]:
    """Keep, for a field that is a string or a mapping (Image), only the errors of the branch the file used."""
    kept = []
    for err in errors:
        loc = tuple(err["loc"])
        branch = next((i for i, part in enumerate(loc) if part in _UNION_MODELS), None)
        if branch is not None:
            if not isinstance(_value_at(data, loc[:branch]), dict):
                continue
            err = {**err, "loc": loc[:branch] + loc[branch + 1 :]}
        elif (
            err["type"] == "string_type"
            and isinstance(err.get("input"), dict)
            and any(e is not err and any(p in _UNION_MODELS for p in e["loc"]) for e in errors)
        ):
            continue
        kept.append(err)
    return kept


def format_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("EndpointConfig", "ProductionVariants", 0, "X")`` -> ``EndpointConfig.ProductionVariants[0].X``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _shown(value: Any, limit: int = 60) -> str:
    """A short rendering of a value for a message; large lists and mappings are never serialized whole."""
    if isinstance(value, list):
        inner = ", ".join(_shown(v, 20) for v in value[:4])
        text = f"[{inner}{', ...' if len(value) > 4 else ''}]" + (f" ({len(value)} items)" if len(value) > 4 else "")
    elif isinstance(value, dict):
        keys = ", ".join(str(k)[:20] for k in list(value)[:4])
        text = f"{{{keys}{', ...' if len(value) > 4 else ''}}}"
    elif isinstance(value, str):
        text = repr(value[: limit + 1])
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the last key of ``loc``."""
    model: Any = DeploymentConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    return _inner_model(meta) if meta is not None and meta is not annotation else None


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


# pydantic's own steps in an error location: "[key]" for mapping keys, "function-after[...]" and the like (always
# with brackets: a user's key such as "x-variant" is never one).
_INTERNAL_STEP = re.compile(r"^(\[key\]|[a-z]+(-[a-z]+)+\[.*\])$")


def _issue(err: Any, data: Any) -> Issue:
    # pydantic adds internal steps to some locations ("[key]" for mapping keys, "function-after[...]"); drop them.
    loc: tuple[Any, ...] = tuple(p for p in err["loc"] if not (isinstance(p, str) and _INTERNAL_STEP.match(p)))
    kind = err["type"]
    ctx, value = err.get("ctx", {}) or {}, err.get("input")
    describe = _DESCRIBE.get(kind)
    message = describe(loc, ctx, value) if describe else None
    text = str(err["msg"]).removeprefix("Value error, ")  # a validator of the kit's own says what to do
    return Issue(format_path(loc), message or f"{text} (got {_shown(value)})")


def _unknown_key(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    owner = _model_at(loc)
    known = sorted(owner.model_fields) if owner else []
    name = str(loc[-1]) if loc else ""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == name.lower()]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    allowed = f"; allowed keys here: {', '.join(known)}" if known and not close else ""
    return f"unknown key{hint}{allowed}"


def _not_allowed(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    choices = re.findall(r"'((?:[^'\\]|\\.)*)'", str(ctx.get("expected", "")))
    if len(", ".join(choices)) <= 500:
        return f"{_shown(value)} is not allowed; allowed values: {', '.join(map(repr, choices))}"
    close = difflib.get_close_matches(str(value), choices, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    return (
        f"{_shown(value)} is not allowed; {hint}({len(choices)} allowed values: {', '.join(choices[:8])}, ...; "
        "`clarify-kit schema` lists them all)"
    )


def _pattern_mismatch(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    pattern = str(ctx.get("pattern", ""))
    if pattern.startswith("^(?:") and pattern.endswith(")\\Z"):
        pattern = pattern[4:-3]
    return f"{_shown(value)} does not match the API pattern {pattern}"


_WANTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "float_type": "a number",
    "dict_type": "a mapping",
    "list_type": "a list",
    "model_type": "a mapping",
}


def _wrong_type(kind: str) -> Callable[[tuple[Any, ...], dict[str, Any], Any], str]:
    def describe(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
        if kind == "string_type" and isinstance(value, bool) and loc and str(loc[-1]) == "EnableExplanations":
            literal = "`true`" if value else "`false`"
            return (
                f"YAML read {str(value).lower()} as a boolean, but EnableExplanations is a JMESPath expression "
                f"string; write the literal with backticks and quotes: '{literal}'"
            )
        return f"{_shown(value)} ({_type_name(value)}) must be {_WANTED[kind]}"

    return describe


def _length(unit: str) -> Callable[[tuple[Any, ...], dict[str, Any], Any], str]:
    def describe(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
        n = len(value) if hasattr(value, "__len__") else "?"
        return f"{n} {unit}; the API allows {_bound(ctx)} {unit}"

    return describe


def _out_of_range(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    return f"{_shown(value)} is out of range; allowed: {_bound(ctx)}"


def _not_whole(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    return f"{_shown(value)} must be a whole number"


# pydantic error type -> the message for it ("path: message"); other types keep pydantic's own message.
_DESCRIBE: dict[str, Callable[[tuple[Any, ...], dict[str, Any], Any], str]] = {
    "extra_forbidden": _unknown_key,
    "missing": lambda loc, ctx, value: "required field is missing",
    "literal_error": _not_allowed,
    "string_too_long": _length("characters"),
    "string_too_short": _length("characters"),
    "too_long": _length("items"),
    "too_short": _length("items"),
    **dict.fromkeys(("greater_than_equal", "less_than_equal", "greater_than", "less_than"), _out_of_range),
    "string_pattern_mismatch": _pattern_mismatch,
    **{kind: _wrong_type(kind) for kind in _WANTED},
    "int_from_float": _not_whole,
    "int_parsing": _not_whole,
}


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _bound(ctx: dict[str, Any]) -> str:
    words = {
        "min_length": "at least",
        "ge": "at least",
        "gt": "more than",
        "max_length": "at most",
        "le": "at most",
        "lt": "less than",
    }
    return " and ".join(f"{words[k]} {v}" for k, v in ctx.items() if k in words) or "a different value"
