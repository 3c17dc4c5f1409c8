"""SageMaker request shapes as pydantic models, generated from botocore 1.44.18.

Do not edit: run ``python tools/gen_api_models.py``. Limits are the service model's own (min/max, enums and
patterns, anchored to the whole value as the service applies them). This module imports no hand-written module;
clarify_kit.core.config extends these classes where the kit widens a member.
"""
# ruff: noqa: E501
# fmt: off

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re", defer_build=True)


class RepositoryAuthConfig(_ApiModel):
    """(Optional) Specifies an authentication configuration for the private docker registry where your model image is hosted."""

    RepositoryCredentialsProviderArn: Annotated[StrictStr, Field(min_length=1, max_length=2048, pattern='^(?:.*)\\Z')] = Field(description='The Amazon Resource Name (ARN) of an Amazon Web Services Lambda function that provides credentials to authenticate to the private Docker registry where your model image is hosted.')


_RepositoryAuthConfig = RepositoryAuthConfig


class ImageConfig(_ApiModel):
    """Specifies whether the model container is in Amazon ECR or a private Docker registry accessible from your Amazon Virtual Private Cloud (VPC)."""

    RepositoryAccessMode: Literal['Platform', 'Vpc'] = Field(description='Set this to one of the following values: Platform - The model image is hosted in Amazon ECR.')
    RepositoryAuthConfig: _RepositoryAuthConfig | None = Field(None, description='(Optional) Specifies an authentication configuration for the private docker registry where your model image is hosted.')


_ImageConfig = ImageConfig


class ModelAccessConfig(_ApiModel):
    """Specifies the access configuration file for the ML model."""

    AcceptEula: StrictBool = Field(description='Specifies agreement to the model end-user license agreement (EULA).')


_ModelAccessConfig = ModelAccessConfig


class InferenceHubAccessConfig(_ApiModel):
    """Configuration information for hub access."""

    HubContentArn: Annotated[StrictStr, Field(min_length=0, max_length=255, pattern='^(?:.*)\\Z')] = Field(description='The ARN of the hub content for which deployment access is allowed.')


_InferenceHubAccessConfig = InferenceHubAccessConfig


class S3ModelDataSource(_ApiModel):
    """Specifies the S3 location of ML model data to deploy."""

    S3Uri: Annotated[StrictStr, Field(min_length=0, max_length=1024, pattern='^(?:(https|s3)://([^/]+)/?(.*))\\Z')] = Field(description='Specifies the S3 path of ML model data to deploy.')
    S3DataType: Literal['S3Prefix', 'S3Object'] = Field(description='Specifies the type of ML model data to deploy.')
    CompressionType: Literal['None', 'Gzip'] = Field(description='Specifies how the ML model data is prepared.')
    ModelAccessConfig: _ModelAccessConfig | None = Field(None, description='Specifies the access configuration file for the ML model.')
    HubAccessConfig: _InferenceHubAccessConfig | None = Field(None, description='Configuration information for hub access.')
    ManifestS3Uri: Annotated[StrictStr, Field(min_length=0, max_length=1024, pattern='^(?:(https|s3)://([^/]+)/?(.*))\\Z')] | None = Field(None, description='The Amazon S3 URI of the manifest file.')
    ETag: StrictStr | None = Field(None, description='The ETag associated with S3 URI.')
    ManifestEtag: StrictStr | None = Field(None, description='The ETag associated with Manifest S3 URI.')


_S3ModelDataSource = S3ModelDataSource


class ModelDataSource(_ApiModel):
    """Specifies the location of ML model data to deploy."""

    S3DataSource: _S3ModelDataSource | None = Field(None, description='Specifies the S3 location of ML model data to deploy.')


_ModelDataSource = ModelDataSource


class AdditionalModelDataSource(_ApiModel):
    """Data sources that are available to your model in addition to the one that you specify for ModelDataSource when you use the CreateModel action."""

    ChannelName: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:[A-Za-z0-9\\.\\-_]+)\\Z')] = Field(description='A custom name for this AdditionalModelDataSource object.')
    S3DataSource: _S3ModelDataSource = Field(description='Specifies the S3 location of ML model data to deploy.')


_AdditionalModelDataSource = AdditionalModelDataSource


class MultiModelConfig(_ApiModel):
    """Specifies additional configuration for multi-model endpoints."""

    ModelCacheSetting: Literal['Enabled', 'Disabled'] | None = Field(None, description='Whether to cache models for a multi-model endpoint.')


_MultiModelConfig = MultiModelConfig


class MetricsEndpoint(_ApiModel):
    """Specifies a metrics endpoint for a container, including the path where the container exposes Prometheus-formatted metrics and the frequency at which to publish them to Amazon CloudWatch."""

    MetricsEndpointPath: Annotated[StrictStr, Field(min_length=0, max_length=256, pattern='^(?:/(?!.*\\.\\.)[a-zA-Z0-9/_.\\-]+)\\Z')] = Field(description='The path to the metrics endpoint exposed by the container.')
    MetricPublishFrequencyInSeconds: Annotated[StrictInt, Field(ge=-2147483648, le=2147483647)] | None = Field(None, description='The interval, in seconds, at which container metrics scraped from the endpoint are published to Amazon CloudWatch.')


_MetricsEndpoint = MetricsEndpoint


class ContainerMetricsConfig(_ApiModel):
    """The configuration for container metrics scraping."""

    MetricsEndpoints: Annotated[list[_MetricsEndpoint], Field(min_length=0, max_length=1)] | None = Field(None, description='A list of metrics endpoints to scrape from the container.')


_ContainerMetricsConfig = ContainerMetricsConfig


class ContainerDefinition(_ApiModel):
    """The location of the primary docker image containing inference code, associated artifacts, and custom environment map that the inference code uses when the model is deployed for predictions."""

    ContainerHostname: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})\\Z')] | None = Field(None, description='This parameter is ignored for models that contain only a PrimaryContainer .')
    Image: Annotated[StrictStr, Field(min_length=0, max_length=255, pattern='^(?:[\\S]+)\\Z')] | None = Field(None, description='The path where inference code is stored.')
    ImageConfig: _ImageConfig | None = Field(None, description='Specifies whether the model container is in Amazon ECR or a private Docker registry accessible from your Amazon Virtual Private Cloud (VPC).')
    Mode: Literal['SingleModel', 'MultiModel'] | None = Field(None, description='Whether the container hosts a single model or multiple models.')
    ModelDataUrl: Annotated[StrictStr, Field(min_length=0, max_length=1024, pattern='^(?:(https|s3)://([^/]+)/?(.*))\\Z')] | None = Field(None, description='The S3 path where the model artifacts, which result from model training, are stored.')
    ModelDataSource: _ModelDataSource | None = Field(None, description='Specifies the location of ML model data to deploy.')
    AdditionalModelDataSources: Annotated[list[_AdditionalModelDataSource], Field(min_length=0, max_length=5)] | None = Field(None, description='Data sources that are available to your model in addition to the one that you specify for ModelDataSource when you use the CreateModel action.')
    Environment: Annotated[dict[Annotated[StrictStr, Field(min_length=0, max_length=1024, pattern='^(?:[a-zA-Z_][a-zA-Z0-9_]*)\\Z')], Annotated[StrictStr, Field(min_length=0, max_length=1024, pattern='^(?:[\\S\\s]*)\\Z')]], Field(min_length=0, max_length=100)] | None = Field(None, description='The environment variables to set in the Docker container.')
    ModelPackageName: Annotated[StrictStr, Field(min_length=1, max_length=176, pattern='^(?:(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)(\\/[0-9]{1,9})?)\\Z')] | None = Field(None, description='The name or Amazon Resource Name (ARN) of the model package to use to create the model.')
    InferenceSpecificationName: Annotated[StrictStr, Field(min_length=1, max_length=63, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})\\Z')] | None = Field(None, description='The inference specification name in the model package version.')
    MultiModelConfig: _MultiModelConfig | None = Field(None, description='Specifies additional configuration for multi-model endpoints.')
    ContainerMetricsConfig: _ContainerMetricsConfig | None = Field(None, description='The configuration for container metrics scraping.')


_ContainerDefinition = ContainerDefinition


class InferenceExecutionConfig(_ApiModel):
    """Specifies details of how containers in a multi-container endpoint are called."""

    Mode: Literal['Serial', 'Direct'] = Field(description='How containers in a multi-container are run.')


_InferenceExecutionConfig = InferenceExecutionConfig


class Tag(_ApiModel):
    """A tag object that consists of a key and an optional value, used to manage metadata for SageMaker Amazon Web Services resources."""

    Key: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern='^(?:([\\w\\s_.:/=+\\-@]*))\\Z')] = Field(description='The tag key.')
    Value: Annotated[StrictStr, Field(min_length=0, max_length=256, pattern='^(?:([\\w\\s_.:/=+\\-@]*))\\Z')] = Field(description='The tag value.')


_Tag = Tag


class VpcConfig(_ApiModel):
    """A VpcConfig object that specifies the VPC that you want your model to connect to."""

    SecurityGroupIds: Annotated[list[Annotated[StrictStr, Field(min_length=0, max_length=32, pattern='^(?:[-0-9a-zA-Z]+)\\Z')]], Field(min_length=1, max_length=5)] = Field(description='The VPC security group IDs, in the form sg-xxxxxxxx .')
    Subnets: Annotated[list[Annotated[StrictStr, Field(min_length=0, max_length=32, pattern='^(?:[-0-9a-zA-Z]+)\\Z')]], Field(min_length=1, max_length=16)] = Field(description='The ID of the subnets in the VPC to which you want to connect your training job or model.')


_VpcConfig = VpcConfig


class ModelSpec(_ApiModel):
    """The CreateModel request; ModelName is optional and ignored (the kit names the model)."""

    ModelName: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?)\\Z')] | None = Field(None, description='The name of the new model.')
    PrimaryContainer: _ContainerDefinition | None = Field(None, description='The location of the primary docker image containing inference code, associated artifacts, and custom environment map that the inference code uses when the model is deployed for predictions.')
    Containers: Annotated[list[_ContainerDefinition], Field(min_length=0, max_length=15)] | None = Field(None, description='Specifies the containers in the inference pipeline.')
    InferenceExecutionConfig: _InferenceExecutionConfig | None = Field(None, description='Specifies details of how containers in a multi-container endpoint are called.')
    ExecutionRoleArn: Annotated[StrictStr, Field(min_length=20, max_length=2048, pattern='^(?:arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+)\\Z')] | None = Field(None, description='The Amazon Resource Name (ARN) of the IAM role that SageMaker can assume to access model artifacts and docker image for deployment on ML compute instances or for batch transform jobs.')
    Tags: Annotated[list[_Tag], Field(min_length=0, max_length=50)] | None = Field(None, description='An array of key-value pairs.')
    VpcConfig: _VpcConfig | None = Field(None, description='A VpcConfig object that specifies the VPC that you want your model to connect to.')
    EnableNetworkIsolation: StrictBool | None = Field(None, description='Isolates the model container.')


_ModelSpec = ModelSpec


class InstancePool(_ApiModel):
    """Specifies an instance type and its priority for a heterogeneous endpoint."""

    InstanceType: Literal['ml.t2.medium', 'ml.t2.large', 'ml.t2.xlarge', 'ml.t2.2xlarge', 'ml.m4.xlarge', 'ml.m4.2xlarge', 'ml.m4.4xlarge', 'ml.m4.10xlarge', 'ml.m4.16xlarge', 'ml.m5.large', 'ml.m5.xlarge', 'ml.m5.2xlarge', 'ml.m5.4xlarge', 'ml.m5.12xlarge', 'ml.m5.24xlarge', 'ml.m5d.large', 'ml.m5d.xlarge', 'ml.m5d.2xlarge', 'ml.m5d.4xlarge', 'ml.m5d.12xlarge', 'ml.m5d.24xlarge', 'ml.c4.large', 'ml.c4.xlarge', 'ml.c4.2xlarge', 'ml.c4.4xlarge', 'ml.c4.8xlarge', 'ml.p2.xlarge', 'ml.p2.8xlarge', 'ml.p2.16xlarge', 'ml.p3.2xlarge', 'ml.p3.8xlarge', 'ml.p3.16xlarge', 'ml.c5.large', 'ml.c5.xlarge', 'ml.c5.2xlarge', 'ml.c5.4xlarge', 'ml.c5.9xlarge', 'ml.c5.18xlarge', 'ml.c5d.large', 'ml.c5d.xlarge', 'ml.c5d.2xlarge', 'ml.c5d.4xlarge', 'ml.c5d.9xlarge', 'ml.c5d.18xlarge', 'ml.g4dn.xlarge', 'ml.g4dn.2xlarge', 'ml.g4dn.4xlarge', 'ml.g4dn.8xlarge', 'ml.g4dn.12xlarge', 'ml.g4dn.16xlarge', 'ml.r5.large', 'ml.r5.xlarge', 'ml.r5.2xlarge', 'ml.r5.4xlarge', 'ml.r5.12xlarge', 'ml.r5.24xlarge', 'ml.r5d.large', 'ml.r5d.xlarge', 'ml.r5d.2xlarge', 'ml.r5d.4xlarge', 'ml.r5d.12xlarge', 'ml.r5d.24xlarge', 'ml.inf1.xlarge', 'ml.inf1.2xlarge', 'ml.inf1.6xlarge', 'ml.inf1.24xlarge', 'ml.dl1.24xlarge', 'ml.c6i.large', 'ml.c6i.xlarge', 'ml.c6i.2xlarge', 'ml.c6i.4xlarge', 'ml.c6i.8xlarge', 'ml.c6i.12xlarge', 'ml.c6i.16xlarge', 'ml.c6i.24xlarge', 'ml.c6i.32xlarge', 'ml.m6i.large', 'ml.m6i.xlarge', 'ml.m6i.2xlarge', 'ml.m6i.4xlarge', 'ml.m6i.8xlarge', 'ml.m6i.12xlarge', 'ml.m6i.16xlarge', 'ml.m6i.24xlarge', 'ml.m6i.32xlarge', 'ml.r6i.large', 'ml.r6i.xlarge', 'ml.r6i.2xlarge', 'ml.r6i.4xlarge', 'ml.r6i.8xlarge', 'ml.r6i.12xlarge', 'ml.r6i.16xlarge', 'ml.r6i.24xlarge', 'ml.r6i.32xlarge', 'ml.g5.xlarge', 'ml.g5.2xlarge', 'ml.g5.4xlarge', 'ml.g5.8xlarge', 'ml.g5.12xlarge', 'ml.g5.16xlarge', 'ml.g5.24xlarge', 'ml.g5.48xlarge', 'ml.g6.xlarge', 'ml.g6.2xlarge', 'ml.g6.4xlarge', 'ml.g6.8xlarge', 'ml.g6.12xlarge', 'ml.g6.16xlarge', 'ml.g6.24xlarge', 'ml.g6.48xlarge', 'ml.r8g.medium', 'ml.r8g.large', 'ml.r8g.xlarge', 'ml.r8g.2xlarge', 'ml.r8g.4xlarge', 'ml.r8g.8xlarge', 'ml.r8g.12xlarge', 'ml.r8g.16xlarge', 'ml.r8g.24xlarge', 'ml.r8g.48xlarge', 'ml.g6e.xlarge', 'ml.g6e.2xlarge', 'ml.g6e.4xlarge', 'ml.g6e.8xlarge', 'ml.g6e.12xlarge', 'ml.g6e.16xlarge', 'ml.g6e.24xlarge', 'ml.g6e.48xlarge', 'ml.g7e.2xlarge', 'ml.g7e.4xlarge', 'ml.g7e.8xlarge', 'ml.g7e.12xlarge', 'ml.g7e.24xlarge', 'ml.g7e.48xlarge', 'ml.g7.2xlarge', 'ml.g7.4xlarge', 'ml.g7.8xlarge', 'ml.g7.12xlarge', 'ml.g7.24xlarge', 'ml.g7.48xlarge', 'ml.p4d.24xlarge', 'ml.c7g.large', 'ml.c7g.xlarge', 'ml.c7g.2xlarge', 'ml.c7g.4xlarge', 'ml.c7g.8xlarge', 'ml.c7g.12xlarge', 'ml.c7g.16xlarge', 'ml.m6g.large', 'ml.m6g.xlarge', 'ml.m6g.2xlarge', 'ml.m6g.4xlarge', 'ml.m6g.8xlarge', 'ml.m6g.12xlarge', 'ml.m6g.16xlarge', 'ml.m6gd.large', 'ml.m6gd.xlarge', 'ml.m6gd.2xlarge', 'ml.m6gd.4xlarge', 'ml.m6gd.8xlarge', 'ml.m6gd.12xlarge', 'ml.m6gd.16xlarge', 'ml.c6g.large', 'ml.c6g.xlarge', 'ml.c6g.2xlarge', 'ml.c6g.4xlarge', 'ml.c6g.8xlarge', 'ml.c6g.12xlarge', 'ml.c6g.16xlarge', 'ml.c6gd.large', 'ml.c6gd.xlarge', 'ml.c6gd.2xlarge', 'ml.c6gd.4xlarge', 'ml.c6gd.8xlarge', 'ml.c6gd.12xlarge', 'ml.c6gd.16xlarge', 'ml.c6gn.large', 'ml.c6gn.xlarge', 'ml.c6gn.2xlarge', 'ml.c6gn.4xlarge', 'ml.c6gn.8xlarge', 'ml.c6gn.12xlarge', 'ml.c6gn.16xlarge', 'ml.r6g.large', 'ml.r6g.xlarge', 'ml.r6g.2xlarge', 'ml.r6g.4xlarge', 'ml.r6g.8xlarge', 'ml.r6g.12xlarge', 'ml.r6g.16xlarge', 'ml.r6gd.large', 'ml.r6gd.xlarge', 'ml.r6gd.2xlarge', 'ml.r6gd.4xlarge', 'ml.r6gd.8xlarge', 'ml.r6gd.12xlarge', 'ml.r6gd.16xlarge', 'ml.p4de.24xlarge', 'ml.trn1.2xlarge', 'ml.trn1.32xlarge', 'ml.trn1n.32xlarge', 'ml.trn2.48xlarge', 'ml.inf2.xlarge', 'ml.inf2.8xlarge', 'ml.inf2.24xlarge', 'ml.inf2.48xlarge', 'ml.p5.48xlarge', 'ml.p5e.48xlarge', 'ml.p5en.48xlarge', 'ml.m7i.large', 'ml.m7i.xlarge', 'ml.m7i.2xlarge', 'ml.m7i.4xlarge', 'ml.m7i.8xlarge', 'ml.m7i.12xlarge', 'ml.m7i.16xlarge', 'ml.m7i.24xlarge', 'ml.m7i.48xlarge', 'ml.c7i.large', 'ml.c7i.xlarge', 'ml.c7i.2xlarge', 'ml.c7i.4xlarge', 'ml.c7i.8xlarge', 'ml.c7i.12xlarge', 'ml.c7i.16xlarge', 'ml.c7i.24xlarge', 'ml.c7i.48xlarge', 'ml.r7i.large', 'ml.r7i.xlarge', 'ml.r7i.2xlarge', 'ml.r7i.4xlarge', 'ml.r7i.8xlarge', 'ml.r7i.12xlarge', 'ml.r7i.16xlarge', 'ml.r7i.24xlarge', 'ml.r7i.48xlarge', 'ml.c8g.medium', 'ml.c8g.large', 'ml.c8g.xlarge', 'ml.c8g.2xlarge', 'ml.c8g.4xlarge', 'ml.c8g.8xlarge', 'ml.c8g.12xlarge', 'ml.c8g.16xlarge', 'ml.c8g.24xlarge', 'ml.c8g.48xlarge', 'ml.r7gd.medium', 'ml.r7gd.large', 'ml.r7gd.xlarge', 'ml.r7gd.2xlarge', 'ml.r7gd.4xlarge', 'ml.r7gd.8xlarge', 'ml.r7gd.12xlarge', 'ml.r7gd.16xlarge', 'ml.m8g.medium', 'ml.m8g.large', 'ml.m8g.xlarge', 'ml.m8g.2xlarge', 'ml.m8g.4xlarge', 'ml.m8g.8xlarge', 'ml.m8g.12xlarge', 'ml.m8g.16xlarge', 'ml.m8g.24xlarge', 'ml.m8g.48xlarge', 'ml.c6in.large', 'ml.c6in.xlarge', 'ml.c6in.2xlarge', 'ml.c6in.4xlarge', 'ml.c6in.8xlarge', 'ml.c6in.12xlarge', 'ml.c6in.16xlarge', 'ml.c6in.24xlarge', 'ml.c6in.32xlarge', 'ml.p6-b200.48xlarge', 'ml.p6-b300.48xlarge', 'ml.p6e-gb200.36xlarge', 'ml.p5.4xlarge'] = Field(description='The ML compute instance type for the instance pool.')
    ModelNameOverride: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?)\\Z')] | None = Field(None, description='The name of a SageMaker model to use for this instance pool instead of the model specified for the production variant.')
    Priority: Annotated[StrictInt, Field(ge=1, le=5)] = Field(description='The priority for the instance pool.')


_InstancePool = InstancePool


class ProductionVariantCoreDumpConfig(_ApiModel):
    """Specifies configuration for a core dump from the model container when the process crashes."""

    DestinationS3Uri: Annotated[StrictStr, Field(min_length=0, max_length=512, pattern='^(?:(https|s3)://([^/])/?(.*))\\Z')] = Field(description='The Amazon S3 bucket to send the core dump to.')
    KmsKeyId: Annotated[StrictStr, Field(min_length=0, max_length=2048, pattern='^(?:[a-zA-Z0-9:/_-]*)\\Z')] | None = Field(None, description='The Amazon Web Services Key Management Service (Amazon Web Services KMS) key that SageMaker uses to encrypt the core dump data at rest using Amazon S3 server-side encryption.')


_ProductionVariantCoreDumpConfig = ProductionVariantCoreDumpConfig


class ProductionVariantServerlessConfig(_ApiModel):
    """The serverless configuration for an endpoint."""

    MemorySizeInMB: Annotated[StrictInt, Field(ge=1024, le=6144)] = Field(description='The memory size of your serverless endpoint.')
    MaxConcurrency: Annotated[StrictInt, Field(ge=1, le=200)] = Field(description='The maximum number of concurrent invocations your serverless endpoint can process.')
    ProvisionedConcurrency: Annotated[StrictInt, Field(ge=1, le=200)] | None = Field(None, description='The amount of provisioned concurrency to allocate for the serverless endpoint.')


_ProductionVariantServerlessConfig = ProductionVariantServerlessConfig


class ProductionVariantManagedInstanceScalingScaleInPolicy(_ApiModel):
    """Configures the scale-in behavior for managed instance scaling."""

    Strategy: Literal['IDLE_RELEASE', 'CONSOLIDATION'] = Field(description='The strategy for scaling in instances.')
    MaximumStepSize: Annotated[StrictInt, Field(ge=1, le=100)] | None = Field(None, description='The maximum number of instances that the endpoint can terminate at a time during a consolidation scale-in operation.')
    CooldownInMinutes: Annotated[StrictInt, Field(ge=5, le=1440)] | None = Field(None, description='The cooldown period, in minutes, after the last endpoint operation before the endpoint evaluates consolidation scale-in opportunities.')


_ProductionVariantManagedInstanceScalingScaleInPolicy = ProductionVariantManagedInstanceScalingScaleInPolicy


class ProductionVariantManagedInstanceScaling(_ApiModel):
    """Settings that control the range in the number of instances that the endpoint provisions as it scales up or down to accommodate traffic."""

    Status: Literal['ENABLED', 'DISABLED'] | None = Field(None, description='Indicates whether managed instance scaling is enabled.')
    MinInstanceCount: Annotated[StrictInt, Field(ge=0, le=2147483647)] | None = Field(None, description='The minimum number of instances that the endpoint must retain when it scales down to accommodate a decrease in traffic.')
    MaxInstanceCount: Annotated[StrictInt, Field(ge=1, le=2147483647)] | None = Field(None, description='The maximum number of instances that the endpoint can provision when it scales up to accommodate an increase in traffic.')
    ScaleInPolicy: _ProductionVariantManagedInstanceScalingScaleInPolicy | None = Field(None, description='Configures the scale-in behavior for managed instance scaling.')


_ProductionVariantManagedInstanceScaling = ProductionVariantManagedInstanceScaling


class PrefixAwareRoutingConfig(_ApiModel):
    """The configuration for prefix-aware routing."""

    PrefixLength: Annotated[StrictInt, Field(ge=1024, le=65536)] | None = Field(None, description='The maximum length of the prefix used for routing decisions.')
    ConcurrencyThreshold: Annotated[StrictInt, Field(ge=1, le=1024)] | None = Field(None, description='The number of in-flight requests on the selected instance or inference component copy at which the endpoint routes a request to another copy or instance.')


_PrefixAwareRoutingConfig = PrefixAwareRoutingConfig


class ProductionVariantRoutingConfig(_ApiModel):
    """Settings that control how the endpoint routes incoming traffic to the instances that the endpoint hosts."""

    RoutingStrategy: Literal['LEAST_OUTSTANDING_REQUESTS', 'RANDOM', 'PREFIX_AWARE', 'KV_AWARE'] = Field(description='Sets how the endpoint routes incoming traffic: LEAST_OUTSTANDING_REQUESTS : The endpoint routes requests to the specific instances that have more capacity to process them.')
    PrefixAwareRoutingConfig: _PrefixAwareRoutingConfig | None = Field(None, description='The configuration for prefix-aware routing.')


_ProductionVariantRoutingConfig = ProductionVariantRoutingConfig


class ProductionVariantCapacityReservationConfig(_ApiModel):
    """Settings for the capacity reservation for the compute instances that SageMaker AI reserves for an endpoint."""

    CapacityReservationPreference: Literal['capacity-reservations-only'] | None = Field(None, description='Options that you can choose for the capacity reservation.')
    MlReservationArn: Annotated[StrictStr, Field(min_length=20, max_length=258, pattern='^(?:arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z0-9\\-]{1,14}/.*)\\Z')] | None = Field(None, description='The Amazon Resource Name (ARN) that uniquely identifies the ML capacity reservation that SageMaker AI applies when it deploys the endpoint.')


_ProductionVariantCapacityReservationConfig = ProductionVariantCapacityReservationConfig


class AcceleratorPartitionLayout(_ApiModel):
    """A layout of accelerator partitions for a production variant."""

    AcceleratorPartitionTypes: Annotated[list[Annotated[StrictStr, Field(min_length=0, max_length=32, pattern='^(?:mig-[0-9]+g\\.[0-9]+gb([+-][a-z0-9.]+)*)\\Z')]], Field(min_length=0, max_length=32)] | None = Field(None, description='The list of partition profiles to carve on each accelerator that this layout applies to.')


_AcceleratorPartitionLayout = AcceleratorPartitionLayout


class ProductionVariant(_ApiModel):
    """Identifies a model that you want to host and the resources chosen to deploy for hosting it."""

    VariantName: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})\\Z')] = Field(description='The name of the production variant.')
    ModelName: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?)\\Z')] | None = Field(None, description='The name of the model that you want to host.')
    InitialInstanceCount: Annotated[StrictInt, Field(ge=1, le=2147483647)] | None = Field(None, description='Number of instances to launch initially.')
    InstanceType: Literal['ml.t2.medium', 'ml.t2.large', 'ml.t2.xlarge', 'ml.t2.2xlarge', 'ml.m4.xlarge', 'ml.m4.2xlarge', 'ml.m4.4xlarge', 'ml.m4.10xlarge', 'ml.m4.16xlarge', 'ml.m5.large', 'ml.m5.xlarge', 'ml.m5.2xlarge', 'ml.m5.4xlarge', 'ml.m5.12xlarge', 'ml.m5.24xlarge', 'ml.m5d.large', 'ml.m5d.xlarge', 'ml.m5d.2xlarge', 'ml.m5d.4xlarge', 'ml.m5d.12xlarge', 'ml.m5d.24xlarge', 'ml.c4.large', 'ml.c4.xlarge', 'ml.c4.2xlarge', 'ml.c4.4xlarge', 'ml.c4.8xlarge', 'ml.p2.xlarge', 'ml.p2.8xlarge', 'ml.p2.16xlarge', 'ml.p3.2xlarge', 'ml.p3.8xlarge', 'ml.p3.16xlarge', 'ml.c5.large', 'ml.c5.xlarge', 'ml.c5.2xlarge', 'ml.c5.4xlarge', 'ml.c5.9xlarge', 'ml.c5.18xlarge', 'ml.c5d.large', 'ml.c5d.xlarge', 'ml.c5d.2xlarge', 'ml.c5d.4xlarge', 'ml.c5d.9xlarge', 'ml.c5d.18xlarge', 'ml.g4dn.xlarge', 'ml.g4dn.2xlarge', 'ml.g4dn.4xlarge', 'ml.g4dn.8xlarge', 'ml.g4dn.12xlarge', 'ml.g4dn.16xlarge', 'ml.r5.large', 'ml.r5.xlarge', 'ml.r5.2xlarge', 'ml.r5.4xlarge', 'ml.r5.12xlarge', 'ml.r5.24xlarge', 'ml.r5d.large', 'ml.r5d.xlarge', 'ml.r5d.2xlarge', 'ml.r5d.4xlarge', 'ml.r5d.12xlarge', 'ml.r5d.24xlarge', 'ml.inf1.xlarge', 'ml.inf1.2xlarge', 'ml.inf1.6xlarge', 'ml.inf1.24xlarge', 'ml.dl1.24xlarge', 'ml.c6i.large', 'ml.c6i.xlarge', 'ml.c6i.2xlarge', 'ml.c6i.4xlarge', 'ml.c6i.8xlarge', 'ml.c6i.12xlarge', 'ml.c6i.16xlarge', 'ml.c6i.24xlarge', 'ml.c6i.32xlarge', 'ml.m6i.large', 'ml.m6i.xlarge', 'ml.m6i.2xlarge', 'ml.m6i.4xlarge', 'ml.m6i.8xlarge', 'ml.m6i.12xlarge', 'ml.m6i.16xlarge', 'ml.m6i.24xlarge', 'ml.m6i.32xlarge', 'ml.r6i.large', 'ml.r6i.xlarge', 'ml.r6i.2xlarge', 'ml.r6i.4xlarge', 'ml.r6i.8xlarge', 'ml.r6i.12xlarge', 'ml.r6i.16xlarge', 'ml.r6i.24xlarge', 'ml.r6i.32xlarge', 'ml.g5.xlarge', 'ml.g5.2xlarge', 'ml.g5.4xlarge', 'ml.g5.8xlarge', 'ml.g5.12xlarge', 'ml.g5.16xlarge', 'ml.g5.24xlarge', 'ml.g5.48xlarge', 'ml.g6.xlarge', 'ml.g6.2xlarge', 'ml.g6.4xlarge', 'ml.g6.8xlarge', 'ml.g6.12xlarge', 'ml.g6.16xlarge', 'ml.g6.24xlarge', 'ml.g6.48xlarge', 'ml.r8g.medium', 'ml.r8g.large', 'ml.r8g.xlarge', 'ml.r8g.2xlarge', 'ml.r8g.4xlarge', 'ml.r8g.8xlarge', 'ml.r8g.12xlarge', 'ml.r8g.16xlarge', 'ml.r8g.24xlarge', 'ml.r8g.48xlarge', 'ml.g6e.xlarge', 'ml.g6e.2xlarge', 'ml.g6e.4xlarge', 'ml.g6e.8xlarge', 'ml.g6e.12xlarge', 'ml.g6e.16xlarge', 'ml.g6e.24xlarge', 'ml.g6e.48xlarge', 'ml.g7e.2xlarge', 'ml.g7e.4xlarge', 'ml.g7e.8xlarge', 'ml.g7e.12xlarge', 'ml.g7e.24xlarge', 'ml.g7e.48xlarge', 'ml.g7.2xlarge', 'ml.g7.4xlarge', 'ml.g7.8xlarge', 'ml.g7.12xlarge', 'ml.g7.24xlarge', 'ml.g7.48xlarge', 'ml.p4d.24xlarge', 'ml.c7g.large', 'ml.c7g.xlarge', 'ml.c7g.2xlarge', 'ml.c7g.4xlarge', 'ml.c7g.8xlarge', 'ml.c7g.12xlarge', 'ml.c7g.16xlarge', 'ml.m6g.large', 'ml.m6g.xlarge', 'ml.m6g.2xlarge', 'ml.m6g.4xlarge', 'ml.m6g.8xlarge', 'ml.m6g.12xlarge', 'ml.m6g.16xlarge', 'ml.m6gd.large', 'ml.m6gd.xlarge', 'ml.m6gd.2xlarge', 'ml.m6gd.4xlarge', 'ml.m6gd.8xlarge', 'ml.m6gd.12xlarge', 'ml.m6gd.16xlarge', 'ml.c6g.large', 'ml.c6g.xlarge', 'ml.c6g.2xlarge', 'ml.c6g.4xlarge', 'ml.c6g.8xlarge', 'ml.c6g.12xlarge', 'ml.c6g.16xlarge', 'ml.c6gd.large', 'ml.c6gd.xlarge', 'ml.c6gd.2xlarge', 'ml.c6gd.4xlarge', 'ml.c6gd.8xlarge', 'ml.c6gd.12xlarge', 'ml.c6gd.16xlarge', 'ml.c6gn.large', 'ml.c6gn.xlarge', 'ml.c6gn.2xlarge', 'ml.c6gn.4xlarge', 'ml.c6gn.8xlarge', 'ml.c6gn.12xlarge', 'ml.c6gn.16xlarge', 'ml.r6g.large', 'ml.r6g.xlarge', 'ml.r6g.2xlarge', 'ml.r6g.4xlarge', 'ml.r6g.8xlarge', 'ml.r6g.12xlarge', 'ml.r6g.16xlarge', 'ml.r6gd.large', 'ml.r6gd.xlarge', 'ml.r6gd.2xlarge', 'ml.r6gd.4xlarge', 'ml.r6gd.8xlarge', 'ml.r6gd.12xlarge', 'ml.r6gd.16xlarge', 'ml.p4de.24xlarge', 'ml.trn1.2xlarge', 'ml.trn1.32xlarge', 'ml.trn1n.32xlarge', 'ml.trn2.48xlarge', 'ml.inf2.xlarge', 'ml.inf2.8xlarge', 'ml.inf2.24xlarge', 'ml.inf2.48xlarge', 'ml.p5.48xlarge', 'ml.p5e.48xlarge', 'ml.p5en.48xlarge', 'ml.m7i.large', 'ml.m7i.xlarge', 'ml.m7i.2xlarge', 'ml.m7i.4xlarge', 'ml.m7i.8xlarge', 'ml.m7i.12xlarge', 'ml.m7i.16xlarge', 'ml.m7i.24xlarge', 'ml.m7i.48xlarge', 'ml.c7i.large', 'ml.c7i.xlarge', 'ml.c7i.2xlarge', 'ml.c7i.4xlarge', 'ml.c7i.8xlarge', 'ml.c7i.12xlarge', 'ml.c7i.16xlarge', 'ml.c7i.24xlarge', 'ml.c7i.48xlarge', 'ml.r7i.large', 'ml.r7i.xlarge', 'ml.r7i.2xlarge', 'ml.r7i.4xlarge', 'ml.r7i.8xlarge', 'ml.r7i.12xlarge', 'ml.r7i.16xlarge', 'ml.r7i.24xlarge', 'ml.r7i.48xlarge', 'ml.c8g.medium', 'ml.c8g.large', 'ml.c8g.xlarge', 'ml.c8g.2xlarge', 'ml.c8g.4xlarge', 'ml.c8g.8xlarge', 'ml.c8g.12xlarge', 'ml.c8g.16xlarge', 'ml.c8g.24xlarge', 'ml.c8g.48xlarge', 'ml.r7gd.medium', 'ml.r7gd.large', 'ml.r7gd.xlarge', 'ml.r7gd.2xlarge', 'ml.r7gd.4xlarge', 'ml.r7gd.8xlarge', 'ml.r7gd.12xlarge', 'ml.r7gd.16xlarge', 'ml.m8g.medium', 'ml.m8g.large', 'ml.m8g.xlarge', 'ml.m8g.2xlarge', 'ml.m8g.4xlarge', 'ml.m8g.8xlarge', 'ml.m8g.12xlarge', 'ml.m8g.16xlarge', 'ml.m8g.24xlarge', 'ml.m8g.48xlarge', 'ml.c6in.large', 'ml.c6in.xlarge', 'ml.c6in.2xlarge', 'ml.c6in.4xlarge', 'ml.c6in.8xlarge', 'ml.c6in.12xlarge', 'ml.c6in.16xlarge', 'ml.c6in.24xlarge', 'ml.c6in.32xlarge', 'ml.p6-b200.48xlarge', 'ml.p6-b300.48xlarge', 'ml.p6e-gb200.36xlarge', 'ml.p5.4xlarge'] | None = Field(None, description='The ML compute instance type.')
    InstancePools: Annotated[list[_InstancePool], Field(min_length=1, max_length=5)] | None = Field(None, description='A list of instance pools for the production variant.')
    VariantInstanceProvisionTimeoutInSeconds: Annotated[StrictInt, Field(ge=300, le=3600)] | None = Field(None, description='The timeout value, in seconds, for provisioning instances for the production variant.')
    InitialVariantWeight: Annotated[StrictFloat, Field(ge=0)] | None = Field(None, description='Determines initial traffic distribution among all of the models that you specify in the endpoint configuration.')
    AcceleratorType: Literal['ml.eia1.medium', 'ml.eia1.large', 'ml.eia1.xlarge', 'ml.eia2.medium', 'ml.eia2.large', 'ml.eia2.xlarge'] | None = Field(None, description='This parameter is no longer supported.')
    CoreDumpConfig: _ProductionVariantCoreDumpConfig | None = Field(None, description='Specifies configuration for a core dump from the model container when the process crashes.')
    ServerlessConfig: _ProductionVariantServerlessConfig | None = Field(None, description='The serverless configuration for an endpoint.')
    VolumeSizeInGB: Annotated[StrictInt, Field(ge=1, le=512)] | None = Field(None, description='The size, in GB, of the ML storage volume attached to individual inference instance associated with the production variant.')
    ModelDataDownloadTimeoutInSeconds: Annotated[StrictInt, Field(ge=60, le=3600)] | None = Field(None, description='The timeout value, in seconds, to download and extract the model that you want to host from Amazon S3 to the individual inference instance associated with this production variant.')
    ContainerStartupHealthCheckTimeoutInSeconds: Annotated[StrictInt, Field(ge=60, le=3600)] | None = Field(None, description='The timeout value, in seconds, for your inference container to pass health check by SageMaker Hosting.')
    EnableSSMAccess: StrictBool | None = Field(None, description='You can use this parameter to turn on native Amazon Web Services Systems Manager (SSM) access for a production variant behind an endpoint.')
    ManagedInstanceScaling: _ProductionVariantManagedInstanceScaling | None = Field(None, description='Settings that control the range in the number of instances that the endpoint provisions as it scales up or down to accommodate traffic.')
    RoutingConfig: _ProductionVariantRoutingConfig | None = Field(None, description='Settings that control how the endpoint routes incoming traffic to the instances that the endpoint hosts.')
    InferenceAmiVersion: Literal['al2-ami-sagemaker-inference-gpu-2', 'al2-ami-sagemaker-inference-gpu-2-1', 'al2-ami-sagemaker-inference-gpu-3-1', 'al2-ami-sagemaker-inference-neuron-2', 'al2023-ami-sagemaker-inference-gpu-4-1'] | None = Field(None, description='Specifies an option from a collection of preconfigured Amazon Machine Image (AMI) images.')
    CapacityReservationConfig: _ProductionVariantCapacityReservationConfig | None = Field(None, description='Settings for the capacity reservation for the compute instances that SageMaker AI reserves for an endpoint.')
    AcceleratorPartitionLayouts: Annotated[list[_AcceleratorPartitionLayout], Field(min_length=1, max_length=32)] | None = Field(None, description='The accelerator partition layout for the accelerators backing this production variant.')


_ProductionVariant = ProductionVariant


class CaptureOption(_ApiModel):
    """Specifies data Model Monitor will capture."""

    CaptureMode: Literal['Input', 'Output', 'InputAndOutput'] = Field(description='Specify the boundary of data to capture.')


_CaptureOption = CaptureOption


class CaptureContentTypeHeader(_ApiModel):
    """Configuration specifying how to treat different headers."""

    CsvContentTypes: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=256, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9])*\\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*)\\Z')]], Field(min_length=1, max_length=10)] | None = Field(None, description='The list of all content type headers that Amazon SageMaker AI will treat as CSV and capture accordingly.')
    JsonContentTypes: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=256, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9])*\\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*)\\Z')]], Field(min_length=1, max_length=10)] | None = Field(None, description='The list of all content type headers that SageMaker AI will treat as JSON and capture accordingly.')


_CaptureContentTypeHeader = CaptureContentTypeHeader


class DataCaptureConfig(_ApiModel):
    """Configuration to control how SageMaker AI captures inference data."""

    EnableCapture: StrictBool | None = Field(None, description='Whether data capture should be enabled or disabled (defaults to enabled).')
    InitialSamplingPercentage: Annotated[StrictInt, Field(ge=0, le=100)] = Field(description='The percentage of requests SageMaker AI will capture.')
    DestinationS3Uri: Annotated[StrictStr, Field(min_length=0, max_length=512, pattern='^(?:(https|s3)://([^/])/?(.*))\\Z')] = Field(description='The Amazon S3 location used to capture the data.')
    KmsKeyId: Annotated[StrictStr, Field(min_length=0, max_length=2048, pattern='^(?:[a-zA-Z0-9:/_-]*)\\Z')] | None = Field(None, description='The Amazon Resource Name (ARN) of an Key Management Service key that SageMaker AI uses to encrypt the captured data at rest using Amazon S3 server-side encryption.')
    CaptureOptions: Annotated[list[_CaptureOption], Field(min_length=1, max_length=32)] = Field(description='Specifies data Model Monitor will capture.')
    CaptureContentTypeHeader: _CaptureContentTypeHeader | None = Field(None, description='Configuration specifying how to treat different headers.')


_DataCaptureConfig = DataCaptureConfig


class AsyncInferenceClientConfig(_ApiModel):
    """Configures the behavior of the client used by SageMaker to interact with the model container during asynchronous inference."""

    MaxConcurrentInvocationsPerInstance: Annotated[StrictInt, Field(ge=1, le=1000)] | None = Field(None, description='The maximum number of concurrent requests sent by the SageMaker client to the model container.')


_AsyncInferenceClientConfig = AsyncInferenceClientConfig


class AsyncInferenceNotificationConfig(_ApiModel):
    """Specifies the configuration for notifications of inference results for asynchronous inference."""

    SuccessTopic: Annotated[StrictStr, Field(min_length=0, max_length=2048, pattern='^(?:arn:aws[a-z\\-]*:sns:[a-z0-9\\-]*:[0-9]{12}:[a-zA-Z0-9_.-]+)\\Z')] | None = Field(None, description='Amazon SNS topic to post a notification to when inference completes successfully.')
    ErrorTopic: Annotated[StrictStr, Field(min_length=0, max_length=2048, pattern='^(?:arn:aws[a-z\\-]*:sns:[a-z0-9\\-]*:[0-9]{12}:[a-zA-Z0-9_.-]+)\\Z')] | None = Field(None, description='Amazon SNS topic to post a notification to when inference fails.')
    IncludeInferenceResponseIn: Annotated[list[Literal['SUCCESS_NOTIFICATION_TOPIC', 'ERROR_NOTIFICATION_TOPIC']], Field(min_length=0, max_length=2)] | None = Field(None, description='The Amazon SNS topics where you want the inference response to be included.')


_AsyncInferenceNotificationConfig = AsyncInferenceNotificationConfig


class AsyncInferenceOutputConfig(_ApiModel):
    """Specifies the configuration for asynchronous inference invocation outputs."""

    KmsKeyId: Annotated[StrictStr, Field(min_length=0, max_length=2048, pattern='^(?:[a-zA-Z0-9:/_-]*)\\Z')] | None = Field(None, description='The Amazon Web Services Key Management Service (Amazon Web Services KMS) key that SageMaker uses to encrypt the asynchronous inference output in Amazon S3.')
    S3OutputPath: Annotated[StrictStr, Field(min_length=0, max_length=512, pattern='^(?:(https|s3)://([^/])/?(.*))\\Z')] | None = Field(None, description='The Amazon S3 location to upload inference responses to.')
    NotificationConfig: _AsyncInferenceNotificationConfig | None = Field(None, description='Specifies the configuration for notifications of inference results for asynchronous inference.')
    S3FailurePath: Annotated[StrictStr, Field(min_length=0, max_length=512, pattern='^(?:(https|s3)://([^/])/?(.*))\\Z')] | None = Field(None, description='The Amazon S3 location to upload failure inference responses to.')


_AsyncInferenceOutputConfig = AsyncInferenceOutputConfig


class AsyncInferenceConfig(_ApiModel):
    """Specifies configuration for how an endpoint performs asynchronous inference."""

    ClientConfig: _AsyncInferenceClientConfig | None = Field(None, description='Configures the behavior of the client used by SageMaker to interact with the model container during asynchronous inference.')
    OutputConfig: _AsyncInferenceOutputConfig = Field(description='Specifies the configuration for asynchronous inference invocation outputs.')


_AsyncInferenceConfig = AsyncInferenceConfig


class ClarifyInferenceConfig(_ApiModel):
    """The inference configuration parameter for the model container."""

    FeaturesAttribute: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:.*)\\Z')] | None = Field(None, description='Provides the JMESPath expression to extract the features from a model container input in JSON Lines format.')
    ContentTemplate: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:.*)\\Z')] | None = Field(None, description='A template string used to format a JSON record into an acceptable model container input.')
    MaxRecordCount: Annotated[StrictInt, Field(ge=1, le=2147483647)] | None = Field(None, description='The maximum number of records in a request that the model container can process when querying the model container for the predictions of a synthetic dataset .')
    MaxPayloadInMB: Annotated[StrictInt, Field(ge=1, le=25)] | None = Field(None, description='The maximum payload size (MB) allowed of a request from the explainer to the model container.')
    ProbabilityIndex: Annotated[StrictInt, Field(ge=0, le=2147483647)] | None = Field(None, description='A zero-based index used to extract a probability value (score) or list from model container output in CSV format.')
    LabelIndex: Annotated[StrictInt, Field(ge=0, le=2147483647)] | None = Field(None, description='A zero-based index used to extract a label header or list of label headers from model container output in CSV format.')
    ProbabilityAttribute: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:.*)\\Z')] | None = Field(None, description='A JMESPath expression used to extract the probability (or score) from the model container output if the model container is in JSON Lines format.')
    LabelAttribute: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:.*)\\Z')] | None = Field(None, description='A JMESPath expression used to locate the list of label headers in the model container output.')
    LabelHeaders: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:.*)\\Z')]], Field(min_length=1, max_length=16)] | None = Field(None, description='For multiclass classification problems, the label headers are the names of the classes.')
    FeatureHeaders: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:.*)\\Z')]], Field(min_length=1, max_length=256)] | None = Field(None, description='The names of the features.')
    FeatureTypes: Annotated[list[Literal['numerical', 'categorical', 'text']], Field(min_length=1, max_length=256)] | None = Field(None, description='A list of data types of the features (optional).')


_ClarifyInferenceConfig = ClarifyInferenceConfig


class ClarifyShapBaselineConfig(_ApiModel):
    """The configuration for the SHAP baseline of the Kernal SHAP algorithm."""

    MimeType: Annotated[StrictStr, Field(min_length=0, max_length=255, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9])*\\/[a-zA-Z0-9](-*[a-zA-Z0-9+.])*)\\Z')] | None = Field(None, description='The MIME type of the baseline data.')
    ShapBaseline: Annotated[StrictStr, Field(min_length=1, max_length=4096, pattern='^(?:[\\s\\S]+)\\Z')] | None = Field(None, description='The inline SHAP baseline data in string format.')
    ShapBaselineUri: Annotated[StrictStr, Field(min_length=0, max_length=1024, pattern='^(?:(https|s3)://([^/]+)/?(.*))\\Z')] | None = Field(None, description='The uniform resource identifier (URI) of the S3 bucket where the SHAP baseline file is stored.')


_ClarifyShapBaselineConfig = ClarifyShapBaselineConfig


class ClarifyTextConfig(_ApiModel):
    """A parameter that indicates if text features are treated as text and explanations are provided for individual units of text."""

    Language: Literal['af', 'sq', 'ar', 'hy', 'eu', 'bn', 'bg', 'ca', 'zh', 'hr', 'cs', 'da', 'nl', 'en', 'et', 'fi', 'fr', 'de', 'el', 'gu', 'he', 'hi', 'hu', 'is', 'id', 'ga', 'it', 'kn', 'ky', 'lv', 'lt', 'lb', 'mk', 'ml', 'mr', 'ne', 'nb', 'fa', 'pl', 'pt', 'ro', 'ru', 'sa', 'sr', 'tn', 'si', 'sk', 'sl', 'es', 'sv', 'tl', 'ta', 'tt', 'te', 'tr', 'uk', 'ur', 'yo', 'lij', 'xx'] = Field(description='Specifies the language of the text features in ISO 639-1 or ISO 639-3 code of a supported language.')
    Granularity: Literal['token', 'sentence', 'paragraph'] = Field(description='The unit of granularity for the analysis of text features.')


_ClarifyTextConfig = ClarifyTextConfig


class ClarifyShapConfig(_ApiModel):
    """The configuration for SHAP analysis."""

    ShapBaselineConfig: _ClarifyShapBaselineConfig = Field(description='The configuration for the SHAP baseline of the Kernal SHAP algorithm.')
    NumberOfSamples: Annotated[StrictInt, Field(ge=1, le=2147483647)] | None = Field(None, description='The number of samples to be used for analysis by the Kernal SHAP algorithm.')
    UseLogit: StrictBool | None = Field(None, description='A Boolean toggle to indicate if you want to use the logit function (true) or log-odds units (false) for model predictions.')
    Seed: Annotated[StrictInt, Field(ge=-2147483648, le=2147483647)] | None = Field(None, description='The starting value used to initialize the random number generator in the explainer.')
    TextConfig: _ClarifyTextConfig | None = Field(None, description='A parameter that indicates if text features are treated as text and explanations are provided for individual units of text.')


_ClarifyShapConfig = ClarifyShapConfig


class ClarifyExplainerConfig(_ApiModel):
    """A member of ExplainerConfig that contains configuration parameters for the SageMaker Clarify explainer."""

    EnableExplanations: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern='^(?:.*)\\Z')] | None = Field(None, description='A JMESPath boolean expression used to filter which records to explain.')
    InferenceConfig: _ClarifyInferenceConfig | None = Field(None, description='The inference configuration parameter for the model container.')
    ShapConfig: _ClarifyShapConfig = Field(description='The configuration for SHAP analysis.')


_ClarifyExplainerConfig = ClarifyExplainerConfig


class ExplainerConfig(_ApiModel):
    """A member of CreateEndpointConfig that enables explainers."""

    ClarifyExplainerConfig: _ClarifyExplainerConfig | None = Field(None, description='A member of ExplainerConfig that contains configuration parameters for the SageMaker Clarify explainer.')


_ExplainerConfig = ExplainerConfig


class MetricsConfig(_ApiModel):
    """The configuration parameters for utilization metrics."""

    EnableEnhancedMetrics: StrictBool | None = Field(None, description='Specifies whether to enable enhanced metrics for the endpoint.')
    EnableDetailedObservability: StrictBool | None = Field(None, description='Indicates whether detailed observability is enabled for the endpoint.')
    MetricPublishFrequencyInSeconds: Annotated[StrictInt, Field(ge=-2147483648, le=2147483647)] | None = Field(None, description='The interval, in seconds, at which metrics are published to Amazon CloudWatch.')


_MetricsConfig = MetricsConfig


class TracingConfig(_ApiModel):
    """The configuration for tracing the inference requests that the endpoint receives."""

    EnableTracing: StrictBool = Field(description='Specifies whether tracing is enabled.')
    InitialSamplingPercentage: Annotated[StrictInt, Field(ge=0, le=100)] = Field(description='The percentage of inference requests to trace.')
    LargePayloadDeliveryS3Uri: Annotated[StrictStr, Field(min_length=0, max_length=512, pattern='^(?:(https|s3)://([^/])/?(.*))\\Z')] | None = Field(None, description='The Amazon S3 URI that SageMaker delivers large request and response payloads of traced requests to.')
    KmsKeyId: Annotated[StrictStr, Field(min_length=0, max_length=2048, pattern='^(?:[a-zA-Z0-9:/_-]*)\\Z')] | None = Field(None, description='The ID or ARN of the Key Management Service key that SageMaker uses to encrypt the payloads that it delivers to LargePayloadDeliveryS3Uri .')


_TracingConfig = TracingConfig


class CrossRegionTrafficConfig(_ApiModel):
    """The cross-Region traffic cap for the endpoint."""

    MaxInvocationsPerSecondPerInstance: Annotated[StrictInt, Field(ge=1, le=10000)] = Field(description='The number of invocations per second that you expect one InService instance to serve.')
    MaxCrossRegionPercentPerEndpoint: Annotated[StrictInt, Field(ge=1, le=100)] = Field(description="The percentage of the endpoint's capacity that requests from inference routers in other Amazon Web Services Regions can use.")


_CrossRegionTrafficConfig = CrossRegionTrafficConfig


class EndpointConfigSpec(_ApiModel):
    """The CreateEndpointConfig request; EndpointConfigName is optional and ignored."""

    EndpointConfigName: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})\\Z')] | None = Field(None, description='The name of the endpoint configuration.')
    ProductionVariants: Annotated[list[_ProductionVariant], Field(min_length=1, max_length=10)] = Field(description='An array of ProductionVariant objects, one for each model that you want to host at this endpoint.')
    DataCaptureConfig: _DataCaptureConfig | None = Field(None, description='Configuration to control how SageMaker AI captures inference data.')
    Tags: Annotated[list[_Tag], Field(min_length=0, max_length=50)] | None = Field(None, description='An array of key-value pairs.')
    KmsKeyId: Annotated[StrictStr, Field(min_length=0, max_length=2048, pattern='^(?:[a-zA-Z0-9:/_-]*)\\Z')] | None = Field(None, description='The Amazon Resource Name (ARN) of a Amazon Web Services Key Management Service key that SageMaker uses to encrypt data on the storage volume attached to the ML compute instance that hosts the endpoint.')
    AsyncInferenceConfig: _AsyncInferenceConfig | None = Field(None, description='Specifies configuration for how an endpoint performs asynchronous inference.')
    ExplainerConfig: _ExplainerConfig | None = Field(None, description='A member of CreateEndpointConfig that enables explainers.')
    ShadowProductionVariants: Annotated[list[_ProductionVariant], Field(min_length=1, max_length=10)] | None = Field(None, description='An array of ProductionVariant objects, one for each model that you want to host at this endpoint in shadow mode with production traffic replicated from the model specified on ProductionVariants .')
    ExecutionRoleArn: Annotated[StrictStr, Field(min_length=20, max_length=2048, pattern='^(?:arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+)\\Z')] | None = Field(None, description='The Amazon Resource Name (ARN) of an IAM role that Amazon SageMaker AI can assume to perform actions on your behalf.')
    VpcConfig: _VpcConfig | None = Field(None, description='Specifies an Amazon Virtual Private Cloud (VPC) that your SageMaker jobs, hosted models, and compute resources have access to.')
    EnableNetworkIsolation: StrictBool | None = Field(None, description='Sets whether all model containers deployed to the endpoint are isolated.')
    MetricsConfig: _MetricsConfig | None = Field(None, description='The configuration parameters for utilization metrics.')
    TracingConfig: _TracingConfig | None = Field(None, description='The configuration for tracing the inference requests that the endpoint receives.')
    CrossRegionTrafficConfig: _CrossRegionTrafficConfig | None = Field(None, description='The cross-Region traffic cap for the endpoint.')


_EndpointConfigSpec = EndpointConfigSpec


class CapacitySize(_ApiModel):
    """Batch size for the first step to turn on traffic on the new endpoint fleet."""

    Type: Literal['INSTANCE_COUNT', 'CAPACITY_PERCENT'] = Field(description='Specifies the endpoint capacity type.')
    Value: Annotated[StrictInt, Field(ge=1, le=2147483647)] = Field(description='Defines the capacity size, either as a number of instances or a capacity percentage.')


_CapacitySize = CapacitySize


class TrafficRoutingConfig(_ApiModel):
    """Defines the traffic routing strategy to shift traffic from the old fleet to the new fleet during an endpoint deployment."""

    Type: Literal['ALL_AT_ONCE', 'CANARY', 'LINEAR'] = Field(description='Traffic routing strategy type.')
    WaitIntervalInSeconds: Annotated[StrictInt, Field(ge=0, le=3600)] = Field(description='The waiting time (in seconds) between incremental steps to turn on traffic on the new endpoint fleet.')
    CanarySize: _CapacitySize | None = Field(None, description='Batch size for the first step to turn on traffic on the new endpoint fleet.')
    LinearStepSize: _CapacitySize | None = Field(None, description='Batch size for each step to turn on traffic on the new endpoint fleet.')


_TrafficRoutingConfig = TrafficRoutingConfig


class BlueGreenUpdatePolicy(_ApiModel):
    """Update policy for a blue/green deployment."""

    TrafficRoutingConfiguration: _TrafficRoutingConfig = Field(description='Defines the traffic routing strategy to shift traffic from the old fleet to the new fleet during an endpoint deployment.')
    TerminationWaitInSeconds: Annotated[StrictInt, Field(ge=0, le=3600)] | None = Field(None, description='Additional waiting time in seconds after the completion of an endpoint deployment before terminating the old endpoint fleet.')
    MaximumExecutionTimeoutInSeconds: Annotated[StrictInt, Field(ge=600, le=28800)] | None = Field(None, description='Maximum execution timeout for the deployment.')


_BlueGreenUpdatePolicy = BlueGreenUpdatePolicy


class RollingUpdatePolicy(_ApiModel):
    """Specifies a rolling deployment strategy for updating a SageMaker endpoint."""

    MaximumBatchSize: _CapacitySize = Field(description='Batch size for each rolling step to provision capacity and turn on traffic on the new endpoint fleet, and terminate capacity on the old endpoint fleet.')
    WaitIntervalInSeconds: Annotated[StrictInt, Field(ge=0, le=3600)] = Field(description='The length of the baking period, during which SageMaker monitors alarms for each batch on the new fleet.')
    MaximumExecutionTimeoutInSeconds: Annotated[StrictInt, Field(ge=600, le=28800)] | None = Field(None, description='The time limit for the total deployment.')
    RollbackMaximumBatchSize: _CapacitySize | None = Field(None, description='Batch size for rollback to the old endpoint fleet.')


_RollingUpdatePolicy = RollingUpdatePolicy


class Alarm(_ApiModel):
    """An Amazon CloudWatch alarm configured to monitor metrics on an endpoint."""

    AlarmName: Annotated[StrictStr, Field(min_length=1, max_length=255, pattern='^(?:(?!\\s*$).+)\\Z')] | None = Field(None, description='The name of a CloudWatch alarm in your account.')


_Alarm = Alarm


class AutoRollbackConfig(_ApiModel):
    """Automatic rollback configuration for handling endpoint deployment failures and recovery."""

    Alarms: Annotated[list[_Alarm], Field(min_length=1, max_length=10)] | None = Field(None, description='List of CloudWatch alarms in your account that are configured to monitor metrics on an endpoint.')


_AutoRollbackConfig = AutoRollbackConfig


class DeploymentConfig(_ApiModel):
    """The deployment configuration for an endpoint, which contains the desired deployment strategy and rollback configurations."""

    BlueGreenUpdatePolicy: _BlueGreenUpdatePolicy | None = Field(None, description='Update policy for a blue/green deployment.')
    RollingUpdatePolicy: _RollingUpdatePolicy | None = Field(None, description='Specifies a rolling deployment strategy for updating a SageMaker endpoint.')
    AutoRollbackConfiguration: _AutoRollbackConfig | None = Field(None, description='Automatic rollback configuration for handling endpoint deployment failures and recovery.')


_DeploymentConfig = DeploymentConfig


class EndpointSpec(_ApiModel):
    """The CreateEndpoint request; EndpointName is optional, EndpointConfigName ignored."""

    EndpointName: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})\\Z')] | None = Field(None, description='The name of the endpoint.The name must be unique within an Amazon Web Services Region in your Amazon Web Services account.')
    EndpointConfigName: Annotated[StrictStr, Field(min_length=0, max_length=63, pattern='^(?:[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})\\Z')] | None = Field(None, description='The name of an endpoint configuration.')
    DeploymentConfig: _DeploymentConfig | None = Field(None, description='The deployment configuration for an endpoint, which contains the desired deployment strategy and rollback configurations.')
    Tags: Annotated[list[_Tag], Field(min_length=0, max_length=50)] | None = Field(None, description='An array of key-value pairs.')


_EndpointSpec = EndpointSpec
