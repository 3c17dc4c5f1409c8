"""Service limits the kit uses as numbers, generated from botocore 1.44.18's models.

Do not edit: run ``python tools/gen_api_models.py``. clarify_kit.core.limits re-exports them with their sources.
"""
# fmt: off

# InvokeEndpoint's members (SageMaker Runtime): name -> (HTTP header or None, min length, max length or bytes).
INVOKE_ENDPOINT: dict[str, tuple[str | None, int | None, int | None]] = {
    'EndpointName': (None, None, 63),
    'Body': (None, None, 6291456),
    'ContentType': ('Content-Type', None, 1024),
    'Accept': ('Accept', None, 1024),
    'CustomAttributes': ('X-Amzn-SageMaker-Custom-Attributes', None, 1024),
    'TargetModel': ('X-Amzn-SageMaker-Target-Model', 1, 1024),
    'TargetVariant': ('X-Amzn-SageMaker-Target-Variant', None, 63),
    'TargetContainerHostname': ('X-Amzn-SageMaker-Target-Container-Hostname', None, 63),
    'InferenceId': ('X-Amzn-SageMaker-Inference-Id', 1, 64),
    'EnableExplanations': ('X-Amzn-SageMaker-Enable-Explanations', 1, 64),
    'InferenceComponentName': ('X-Amzn-SageMaker-Inference-Component', None, 63),
    'SessionId': ('X-Amzn-SageMaker-Session-Id', None, 256),
    'PrefixAwareId': ('X-Amzn-SageMaker-Prefix-Aware-Id', 1, 64),
}

# SageMaker shapes: name -> (min, max) (a length, a count or a value, as the shape is a string, a list or a number).
SHAPES: dict[str, tuple[int | None, int | None]] = {
    'ClarifyMaxPayloadInMB': (1, 25),
    'ClarifyEnableExplanations': (1, 64),
    'ClarifyHeader': (1, 64),
    'ClarifyLabelHeaders': (1, 16),
    'ClarifyFeatureHeaders': (1, 256),
    'ClarifyShapBaseline': (1, 4096),
    'ClarifyContentTemplate': (1, 64),
    'EndpointName': (0, 63),
}

# The properties of CloudFormation's AWS::SageMaker::EndpointConfig (cfn-lint 1.58.0's schema, us-east-1): a
# CreateEndpointConfig member outside them cannot be rendered by the kit's stack.
CFN_SCHEMA = "cfn-lint 1.58.0"
CFN_ENDPOINT_CONFIG_PROPERTIES: frozenset[str] = frozenset({
    'AsyncInferenceConfig',
    'DataCaptureConfig',
    'EnableNetworkIsolation',
    'EndpointConfigArn',
    'EndpointConfigName',
    'ExecutionRoleArn',
    'ExplainerConfig',
    'KmsKeyId',
    'MetricsConfig',
    'ProductionVariants',
    'ShadowProductionVariants',
    'Tags',
    'VpcConfig',
})
