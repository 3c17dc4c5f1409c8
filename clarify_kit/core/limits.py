"""Every AWS limit and default the kit relies on, each once, with its source.

Sources are the tags of docs/explainer.md: BOTO-SM and BOTO-RT are botocore's SageMaker and
SageMaker Runtime service models (read from botocore into ``_api_limits`` by tools/gen_api_models.py, so they
follow botocore), DG-* the developer guide's Clarify online explainability pages. The kit's own choices (not AWS's)
are marked "kit".
"""

from __future__ import annotations

from clarify_kit.core._api_limits import CFN_ENDPOINT_CONFIG_PROPERTIES, CFN_SCHEMA, INVOKE_ENDPOINT, SHAPES

__all__ = [
    "CFN_ENDPOINT_CONFIG_PROPERTIES",
    "CFN_SCHEMA",
    "LABEL_HEADERS_MAX",
    "ALARM_LATENCY_CEILING_MS",
    "ALARM_LATENCY_FACTOR",
    "ALARM_LATENCY_FLOOR_MS",
    "AUTO_RECORD_COUNT",
    "BYTES_PER_MB",
    "CLIENT_READ_TIMEOUT_S",
    "CUSTOM_ATTRIBUTES_MAX_CHARS",
    "DEFAULT_MAX_PAYLOAD_MB",
    "DEFAULT_SAMPLE_BASE",
    "EXPRESSION_MAX_CHARS",
    "INVOKE_BODY_MAX_BYTES",
    "INVOKE_HEADERS",
    "INVOKE_TIMEOUT_S",
    "LOGIT_EPS",
    "MAX_ENVIRONMENT_BYTES",
    "MAX_PAYLOAD_MB",
    "MAX_ROLLBACK_ALARMS",
    "MIN_MULTI_AZ_INSTANCES",
    "MIN_PAYLOAD_MB",
    "NAME_MAX_CHARS",
    "SHAP_BASELINE_MAX_BYTES",
    "VPC_MAX_SECURITY_GROUPS",
    "VPC_MAX_SUBNETS",
]


def _bound(value: int | None) -> int:
    assert value is not None, "the service model lost a bound the kit relies on: check tools/gen_api_models.py"
    return value


# InvokeEndpoint Body: at most 6 MiB, in the request and in the response (BOTO-RT).
INVOKE_BODY_MAX_BYTES = _bound(INVOKE_ENDPOINT["Body"][2])
# InvokeEndpoint's request headers: HTTP header (lower case) -> (member, min length, max length) (BOTO-RT).
INVOKE_HEADERS: dict[str, tuple[str, int, int]] = {
    header.lower(): (member, low or 0, _bound(high))
    for member, (header, low, high) in INVOKE_ENDPOINT.items()
    if header is not None
}
# CustomAttributes: at most 1024 visible US-ASCII characters (BOTO-RT).
CUSTOM_ATTRIBUTES_MAX_CHARS = _bound(INVOKE_ENDPOINT["CustomAttributes"][2])
# "A customer's model containers must respond to requests within 60 seconds" (BOTO-RT InvokeEndpoint docs).
INVOKE_TIMEOUT_S = 60.0
# "... the SDK socket timeout should be set to be 70 seconds" (BOTO-RT InvokeEndpoint docs).
CLIENT_READ_TIMEOUT_S = 70.0
# EnableExplanations (config and InvokeEndpoint header), ContentTemplate, FeaturesAttribute, ProbabilityAttribute
# and LabelAttribute: 1 to 64 characters (BOTO-SM ClarifyEnableExplanations, BOTO-RT).
EXPRESSION_MAX_CHARS = _bound(SHAPES["ClarifyEnableExplanations"][1])
# LabelHeaders: 1 to 16 names (BOTO-SM ClarifyLabelHeaders).
LABEL_HEADERS_MAX = _bound(SHAPES["ClarifyLabelHeaders"][1])
# ShapBaseline: "The size limit for ShapBaseline is 4 KB" (BOTO-SM); counted in UTF-8 bytes, the stricter reading.
SHAP_BASELINE_MAX_BYTES = _bound(SHAPES["ClarifyShapBaseline"][1])
# ClarifyInferenceConfig.MaxPayloadInMB: 1 to 25 (BOTO-SM), "Defaults to 6 MB" (BOTO-SM docs).
MIN_PAYLOAD_MB, MAX_PAYLOAD_MB = _bound(SHAPES["ClarifyMaxPayloadInMB"][0]), _bound(SHAPES["ClarifyMaxPayloadInMB"][1])
DEFAULT_MAX_PAYLOAD_MB = 6
# MB counted as 10^6 bytes: the smaller reading of "MB", so the batches the kit plans never exceed the service's.
BYTES_PER_MB = 1_000_000
# Without MaxRecordCount the explainer tunes the batch size at runtime (BOTO-SM); the kit's first try (kit).
AUTO_RECORD_COUNT = 1000
# Default NumberOfSamples term: MIN(2 * n_features + 2^11, 2^n_features - 2) (DG-CREATE synthetic dataset).
DEFAULT_SAMPLE_BASE = 2**11
# SageMaker spreads a variant's instances over Availability Zones only when there are at least two (kit rule,
# from the SageMaker best practice "deploy multiple instances ... across Availability Zones").
MIN_MULTI_AZ_INSTANCES = 2
# ModelName, EndpointConfigName, EndpointName, VariantName: at most 63 characters (BOTO-SM EndpointName).
NAME_MAX_CHARS = _bound(SHAPES["EndpointName"][1])
# ContainerDefinition.Environment: at most 32 KB of keys and values in total (BOTO-SM CreateModel docs).
MAX_ENVIRONMENT_BYTES = 32 * 1024
# DeploymentConfig.AutoRollbackConfiguration.Alarms: 1 to 10 (BOTO-SM CreateEndpoint).
MAX_ROLLBACK_ALARMS = 10
# The ModelLatency p99 alarm: the explainer latency estimate times 1.5, at least 1 s and at most 80 % of the
# 60 s limit (kit).
ALARM_LATENCY_FACTOR = 1.5
ALARM_LATENCY_FLOOR_MS = 1000.0
ALARM_LATENCY_CEILING_MS = INVOKE_TIMEOUT_S * 1000 * 0.8
# Probabilities are clipped this far from 0 and 1 before the logit (UseLogit), so that certain outputs stay
# finite (kit; the service's clip is not documented).
LOGIT_EPS = 1e-7
# VpcConfig: 1 to 16 subnets and 1 to 5 security groups (BOTO-SM VpcConfig member bounds).
VPC_MAX_SUBNETS = 16
VPC_MAX_SECURITY_GROUPS = 5
