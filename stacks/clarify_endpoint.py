"""ClarifyEndpoint: Model + EndpointConfig (with the Clarify explainer) + Endpoint, production-ready.

Multi-AZ (two or more instances per variant, autoscaling never below two), a customer managed KMS key with
rotation, a least-privilege execution role, alarms on 5XX errors and ModelLatency p99, blue/green deployment that
rolls back on those alarms, and target-tracking autoscaling through the SageMaker service-linked role.
The ExplainerConfig and the production variants are rendered exactly as written in the config.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:  # imported where used: aws_ec2 alone takes half a second to import
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_ecr_assets as ecr_assets

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import ConfigError, Issue
from clarify_kit.core.limits import (
    ALARM_LATENCY_CEILING_MS,
    ALARM_LATENCY_FACTOR,
    ALARM_LATENCY_FLOOR_MS,
    MAX_ROLLBACK_ALARMS,
    MIN_MULTI_AZ_INSTANCES,
    VPC_MAX_SECURITY_GROUPS,
    VPC_MAX_SUBNETS,
)
from clarify_kit.core.resources import default_endpoint_name
from clarify_kit.explainer.image import build_context

__all__ = ["ClarifyEndpoint", "ImportedEndpoint", "alarm_latency_ms"]

_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
                        r"(?P<repo>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[a-f0-9]+)?$")
_SAGEMAKER = "sagemaker.amazonaws.com"


def _is_set(config: DeploymentConfig, field: str) -> bool:
    section, name = field.split(".")
    return getattr(getattr(config, section), name, None) not in (None, "")


def _role_issues(role: iam.IRole | None) -> list[Issue]:
    """A role defined in this app must trust SageMaker (an imported one cannot be inspected: its owner's part)."""
    if not isinstance(role, iam.Role):
        return []
    document = role.assume_role_policy
    trusted = cdk.Stack.of(role).resolve(document.to_json()) if document is not None else {}
    principals = [s.get("Principal", {}).get("Service") for s in trusted.get("Statement", [])
                  if s.get("Effect") == "Allow" and "sts:AssumeRole" in str(s.get("Action"))]
    services = {p for entry in principals for p in (entry if isinstance(entry, list) else [entry]) if p}
    if _SAGEMAKER not in services:
        return [Issue("Model.ExecutionRoleArn", f"the given role does not trust {_SAGEMAKER} (it trusts "
                      f"{', '.join(sorted(services)) or 'no service'}); SageMaker could not assume it")]
    return []


def _key_issues(key: kms.IKey | None) -> list[Issue]:
    """A key defined in this app must be a symmetric encryption key (EBS volumes and S3 take no other)."""
    if not isinstance(key, kms.Key):
        return []
    cfn = key.node.default_child
    spec = getattr(cfn, "key_spec", None) or "SYMMETRIC_DEFAULT"
    usage = getattr(cfn, "key_usage", None) or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return [Issue("EndpointConfig.KmsKeyId", f"the given key is {spec} for {usage}; SageMaker's volumes and "
                      "data capture need a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)")]
    return []


_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<key>.*)$")
# Log group of a SageMaker endpoint (CloudWatch Logs for Amazon SageMaker AI docs).
_ENDPOINT_LOGS = "/aws/sagemaker/Endpoints"
_AUTOSCALING_ROLE = ("aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
                     "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")


def alarm_latency_ms(latency_estimate_s: float | None) -> float:
    """The ModelLatency p99 alarm threshold: 1.5 times the explainer latency estimate, within 1 s and 48 s."""
    if latency_estimate_s is None:
        return ALARM_LATENCY_CEILING_MS
    return min(ALARM_LATENCY_CEILING_MS, max(ALARM_LATENCY_FLOOR_MS, latency_estimate_s * 1000 * ALARM_LATENCY_FACTOR))


def _s3_object_arns(uri: str) -> list[str]:
    match = _S3_URI.match(uri)
    if not match:
        return []
    bucket, key = match["bucket"], match["key"]
    if not key or key.endswith("/"):
        return [f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}/{key}*"]
    return [f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}/{key}"]


class _EndpointSurface:
    """What CDK users expect of an endpoint, for a new one (ClarifyEndpoint) or an existing one (imported)."""

    endpoint_name: str
    _variant_names: list[str] | None  # None: not known (an imported endpoint)

    def _scope(self) -> Construct:
        assert isinstance(self, Construct)
        return self

    @property
    def endpoint_arn(self) -> str:
        # SageMaker lower-cases endpoint names in ARNs.
        return cdk.Stack.of(self._scope()).format_arn(service="sagemaker", resource="endpoint",
                                                      resource_name=self.endpoint_name.lower())

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to call InvokeEndpoint (with or without explanations) on this endpoint only."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=["sagemaker:InvokeEndpoint"],
                                          resource_arns=[self.endpoint_arn])

    def metric(self, name: str, *, variant: str | None = None, statistic: str = "Sum",
               period: cdk.Duration | None = None, namespace: str = "AWS/SageMaker") -> cloudwatch.Metric:
        """A metric of one variant of this endpoint (dimensions EndpointName and VariantName).

        ``variant`` may be omitted only when the endpoint is known to have a single variant.
        """
        names = self._variant_names
        if variant is None and (names is None or len(names) > 1):
            which = f"one of {', '.join(names)}" if names else "the endpoint's variants are not known here"
            raise ConfigError(Issue("EndpointConfig.ProductionVariants", f"name the variant whose {name} you "
                                    f"want (variant=...; {which})"))
        variant = variant or (names or [""])[0]
        if names is not None and variant not in names:
            raise ConfigError(Issue("EndpointConfig.ProductionVariants", f"no variant {variant!r}; variants: "
                                    f"{', '.join(names)}"))
        return cloudwatch.Metric(namespace=namespace, metric_name=name, statistic=statistic,
                                 period=period or cdk.Duration.minutes(1),
                                 dimensions_map={"EndpointName": self.endpoint_name, "VariantName": variant})

    def metric_invocations(self, **kwargs: Any) -> cloudwatch.Metric:
        """Invocations per minute (default statistic: Sum)."""
        return self.metric("Invocations", **kwargs)

    def metric_invocation_5xx_errors(self, **kwargs: Any) -> cloudwatch.Metric:
        """Invocation5XXErrors (default statistic: Sum)."""
        return self.metric("Invocation5XXErrors", **kwargs)

    def metric_model_latency(self, **kwargs: Any) -> cloudwatch.Metric:
        """ModelLatency in microseconds (default statistic: p99)."""
        kwargs.setdefault("statistic", "p99")
        return self.metric("ModelLatency", **kwargs)


class ImportedEndpoint(_EndpointSurface, Construct):
    """An endpoint deployed elsewhere, by name: grants and metrics, no resources (ClarifyEndpoint.from_endpoint_name).
    """

    def __init__(self, scope: Construct, construct_id: str, *, endpoint_name: str,
                 variant_names: list[str] | None = None) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name
        self._variant_names = variant_names


class ClarifyEndpoint(_EndpointSurface, Construct):
    """A SageMaker real-time endpoint with Clarify online explainability, built from a validated config.

    Parameters
    ----------
    scope, construct_id: as for any construct.
    config: the deployment config (validated by the static precheck before it gets here).
    latency_estimate_s: the explainer latency estimate per call (the precheck's); the ModelLatency p99 alarm sits
        1.5 times above it, within 1 s and 48 s, unless ``ClarifyKit.Alarms.ModelLatencyP99Ms`` sets it.
    role: an existing execution role instead of the kit's. It must trust sagemaker.amazonaws.com (checked when
        the role is defined in the app); the kit adds its least-privilege statements to it, or, for an immutable
        role (``Role.from_role_arn(..., mutable=False)``), names them in a warning for its owner to grant.
    key: an existing KMS key (symmetric, for encryption) for the storage volumes, data capture and the alarm
        topic, instead of the kit's.
    vpc: an existing VPC for the model; ``vpc_subnets`` selects its subnets (default: private with egress; at
        least two Availability Zones for the instances to spread over) and ``security_groups`` (at most 5) guard
        the network interfaces (default: one new group, outbound only).
    Each of these replaces the config's own field (ExecutionRoleArn, KmsKeyId, VpcConfig): giving both is an
    error. Every problem is reported at once, as a ConfigError.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig,
                 latency_estimate_s: float | None = None, role: iam.IRole | None = None,
                 key: kms.IKey | None = None, vpc: ec2.IVpc | None = None,
                 vpc_subnets: ec2.SubnetSelection | None = None,
                 security_groups: list[ec2.ISecurityGroup] | None = None) -> None:
        super().__init__(scope, construct_id)
        # Log delivery by bucket policy rather than the legacy AccessControl ACL (cfn-lint W3045), whatever the
        # enclosing app's flags: the construct works in any stack.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self._given_role, self._given_key, self._given_vpc = role, key, vpc
        self._check_given(config, vpc_subnets, security_groups)
        self.config = config
        # A fixed endpoint name (the config's, or one derived from the stack name): the alarms need it in their
        # dimensions, and the endpoint needs the alarms for its auto-rollback, so neither may be a token.
        stack = cdk.Stack.of(self)
        below_stack = self.node.path[len(stack.node.path) + 1:]
        self.name = config.Endpoint.EndpointName or default_endpoint_name(stack.stack_name, below_stack)
        self.endpoint_name = self.name
        self._variant_names = [v.VariantName for v in config.EndpointConfig.ProductionVariants]
        self._check_multi_az()
        self.key = self._key()
        self.capture_bucket = self._capture_bucket()
        self.explainer_image = self._explainer_image()
        self.role = self._role()
        self.model = self._model()
        self.endpoint_config = self._endpoint_config()
        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            endpoint_name=self.name)
        self.alarm_topic = self._topic()
        self.alarms = self._alarms(latency_estimate_s)
        self.endpoint.add_property_override("DeploymentConfig", self._deployment_config())
        self.scaling_targets = self._autoscaling()

    # --- public surface ---------------------------------------------------------------------------------------

    @staticmethod
    def from_endpoint_name(scope: Construct, construct_id: str, endpoint_name: str, *,
                           variant_names: list[str] | None = None) -> ImportedEndpoint:
        """An existing endpoint by name, for ``grant_invoke`` and ``metric_*`` (with ``variant=`` unless
        ``variant_names`` holds just one)."""
        return ImportedEndpoint(scope, construct_id, endpoint_name=endpoint_name, variant_names=variant_names)

    @property
    def endpoint_config_name(self) -> str:
        return self.endpoint_config.attr_endpoint_config_name

    # --- parts ------------------------------------------------------------------------------------------------

    def _check_multi_az(self) -> None:
        """Every problem at once, each with its config path (the precheck has said the same before synthesis)."""
        if self.config.ClarifyKit.opt_out("multi-az"):
            return
        issues = [Issue(f"EndpointConfig.ProductionVariants[{i}].InitialInstanceCount",
                        f"{variant.InitialInstanceCount} is below {MIN_MULTI_AZ_INSTANCES} (multi-AZ)")
                  for i, variant in enumerate(self.config.EndpointConfig.ProductionVariants)
                  if variant.ServerlessConfig is None and (variant.InitialInstanceCount or 0) < MIN_MULTI_AZ_INSTANCES]
        if issues:
            raise ConfigError(issues)

    def _check_given(self, config: DeploymentConfig, vpc_subnets: ec2.SubnetSelection | None,
                     security_groups: list[ec2.ISecurityGroup] | None) -> None:
        """What SageMaker needs of an existing role, key and VPC; every problem at once."""
        issues: list[Issue] = []
        for given, field, name in ((self._given_role, "Model.ExecutionRoleArn", "role"),
                                   (self._given_key, "EndpointConfig.KmsKeyId", "key"),
                                   (self._given_vpc, "Model.VpcConfig", "vpc")):
            if given is not None and _is_set(config, field):
                issues.append(Issue(field, f"set in the config and given as {name}=: keep one"))
        issues += _role_issues(self._given_role) + _key_issues(self._given_key)
        self._vpc_config: dict[str, Any] | None = None
        if self._given_vpc is not None:
            issues += self._vpc(self._given_vpc, vpc_subnets, security_groups)
        elif vpc_subnets is not None or security_groups is not None:
            issues.append(Issue("Model.VpcConfig", "vpc_subnets= and security_groups= need vpc="))
        if issues:
            raise ConfigError(issues)

    def _vpc(self, vpc: ec2.IVpc, selection: ec2.SubnetSelection | None,
             groups: list[ec2.ISecurityGroup] | None) -> list[Issue]:
        from aws_cdk import aws_ec2 as ec2

        selection = selection or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        chosen = vpc.select_subnets(availability_zones=selection.availability_zones,
                                    one_per_az=selection.one_per_az, subnet_filters=selection.subnet_filters,
                                    subnet_group_name=selection.subnet_group_name, subnets=selection.subnets,
                                    subnet_type=selection.subnet_type)
        issues = []
        zones = {z for z in chosen.availability_zones if not cdk.Token.is_unresolved(z)}
        resolved = all(not cdk.Token.is_unresolved(z) for z in chosen.availability_zones)
        if not chosen.subnet_ids:
            issues.append(Issue("Model.VpcConfig.Subnets", "the subnet selection picks no subnet of the VPC"))
        elif resolved and len(zones) < MIN_MULTI_AZ_INSTANCES:
            issues.append(Issue("Model.VpcConfig.Subnets", f"the subnets are in {len(zones)} Availability Zone "
                                f"({', '.join(sorted(zones))}); SageMaker spreads instances over the subnets' zones: "
                                "select subnets in at least 2"))
        if len(chosen.subnet_ids) > VPC_MAX_SUBNETS:
            issues.append(Issue("Model.VpcConfig.Subnets", f"{len(chosen.subnet_ids)} subnets; SageMaker takes at "
                                f"most {VPC_MAX_SUBNETS}"))
        if groups is not None and not 1 <= len(groups) <= VPC_MAX_SECURITY_GROUPS:
            issues.append(Issue("Model.VpcConfig.SecurityGroupIds", f"{len(groups)} security groups; SageMaker "
                                f"takes 1 to {VPC_MAX_SECURITY_GROUPS}"))
        if issues:
            return issues
        if groups is None:
            groups = [ec2.SecurityGroup(self, "ModelSecurityGroup", vpc=vpc, allow_all_outbound=True,
                                        description="clarify-kit: network interfaces of the model container "
                                        "(outbound only: S3, ECR and CloudWatch through the VPC)")]
        self._vpc_config = {"SecurityGroupIds": [g.security_group_id for g in groups],
                            "Subnets": chosen.subnet_ids}
        return []

    def _key(self) -> kms.IKey | None:
        """The given key; else the kit's customer managed key (rotation on), or the config's key when it names one
        by ARN or id."""
        if self._given_key is not None:
            return self._given_key
        given = self.config.EndpointConfig.KmsKeyId
        if not given:
            return kms.Key(self, "Key", enable_key_rotation=True,
                           description="clarify-kit: endpoint storage volumes, data capture and model artifacts")
        if given.startswith("arn:") and ":key/" in given:
            return kms.Key.from_key_arn(self, "Key", given)
        if re.fullmatch(r"[0-9a-f-]{36}|mrk-[0-9a-f]{32}", given):
            return kms.Key.from_key_arn(self, "Key", cdk.Stack.of(self).format_arn(
                service="kms", resource="key", resource_name=given))
        cdk.Annotations.of(self).add_warning_v2(
            "clarify-kit:kms-alias", f"KmsKeyId {given!r} is an alias: grant the execution role kms:Decrypt on "
            "the key it names yourself (IAM cannot scope a grant to an alias)")
        return None

    def _capture_bucket(self) -> s3.Bucket | None:
        """The data-capture bucket, when ClarifyKit.DataCapture asks for one: KMS, no public access, TLS only."""
        settings = self.config.ClarifyKit.DataCapture
        if not settings.Enabled or self.config.EndpointConfig.DataCaptureConfig is not None:
            return None
        logs = s3.Bucket(self, "CaptureAccessLogs", encryption=s3.BucketEncryption.S3_MANAGED,
                         block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True, versioned=True,
                         object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED)
        return s3.Bucket(self, "CaptureBucket", encryption_key=self.key,
                         encryption=s3.BucketEncryption.KMS if self.key else s3.BucketEncryption.S3_MANAGED,
                         bucket_key_enabled=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                         enforce_ssl=True, versioned=True, server_access_logs_bucket=logs,
                         server_access_logs_prefix="capture-bucket/")

    def _capture_config(self) -> dict[str, Any] | None:
        if self.capture_bucket is None:
            return None
        settings = self.config.ClarifyKit.DataCapture
        capture: dict[str, Any] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": settings.InitialSamplingPercentage,
            "DestinationS3Uri": f"s3://{self.capture_bucket.bucket_name}/capture",
            "CaptureOptions": [{"CaptureMode": mode} for mode in settings.CaptureModes],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"],
                                         "JsonContentTypes": ["application/jsonlines", "application/json"]},
        }
        if self.key is not None:
            capture["KmsKeyId"] = self.key.key_arn
        return capture

    def _role(self) -> iam.IRole:
        if self._given_role is not None:
            return self._grant_to_given_role(self._given_role)
        given = self.config.Model.ExecutionRoleArn
        if given:
            return iam.Role.from_role_arn(self, "ExecutionRole", given, mutable=False)
        stack = cdk.Stack.of(self)
        # Confused-deputy protection: SageMaker may assume the role only for this account's resources in this
        # region (SageMaker developer guide, cross-service confused deputy prevention).
        principal = iam.ServicePrincipal("sagemaker.amazonaws.com", conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": stack.format_arn(service="sagemaker", resource="*")}})
        role = iam.Role(self, "ExecutionRole", assumed_by=principal,
                        description="clarify-kit: the model container's execution role (least privilege)")
        statements = self._role_statements()
        policy = iam.ManagedPolicy(self, "ExecutionPolicy", statements=statements,
                                   description="clarify-kit: pull the image, read the model, write its logs")
        role.add_managed_policy(policy)
        self.execution_policy = policy
        return role

    def _explainer_image(self) -> ecr_assets.DockerImageAsset | None:
        """ClarifyKit.Explainer: SelfHosted: the image built FROM the model's image with the explainer added, as
        a CDK asset (synth needs no Docker; deploy builds and pushes it)."""
        if self.config.ClarifyKit.Explainer != "SelfHosted":
            return None
        from aws_cdk import aws_ecr_assets as ecr_assets

        context = build_context(self.config, Path(tempfile.mkdtemp(prefix="clarify-kit-image-")))
        return ecr_assets.DockerImageAsset(self, "ExplainerImage", directory=str(context),
                                           platform=ecr_assets.Platform.LINUX_AMD64)

    def _grant_to_given_role(self, role: iam.IRole) -> iam.IRole:
        """Add the kit's least-privilege statements to a given role; name them when the role cannot take them."""
        statements = self._role_statements()
        refused = [s.sid for s in statements if not role.add_to_principal_policy(s).statement_added]
        if refused:
            cdk.Annotations.of(self).add_warning_v2(
                "clarify-kit:immutable-role", f"the execution role is immutable: make sure it grants what the "
                f"model needs ({', '.join(str(sid) for sid in refused)}; see the statements the kit gives its "
                "own role)")
        return role

    def _image_statements(self) -> list[iam.PolicyStatement]:
        """Pull the model's image: from the self-hosted explainer's asset repository, else from the config's ECR
        repository (nothing for a public registry)."""
        container = self.config.Model.PrimaryContainer
        image = container.Image if container else None
        if image is not None and not isinstance(image, str):
            raise ConfigError(Issue("Model.PrimaryContainer.Image", "a framework reference: resolve it first "
                                    "(precheck.load_checked does, for the stack's region)"))
        if self.explainer_image is not None:  # the asset's repository only: the base image is inside it
            repository = self.explainer_image.repository.repository_arn
        else:
            match = _ECR_IMAGE.match(image or "")
            if not match:
                return []
            repository = f"arn:{cdk.Aws.PARTITION}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"
        return [iam.PolicyStatement(sid="PullModelImage", actions=["ecr:BatchCheckLayerAvailability",
                                                                   "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                                    resources=[repository]),
                iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"])]

    def _role_statements(self) -> list[iam.PolicyStatement]:
        stack = cdk.Stack.of(self)
        container = self.config.Model.PrimaryContainer
        statements: list[iam.PolicyStatement] = self._image_statements()
        objects: list[str] = []
        if container and container.ModelDataUrl:
            objects += _s3_object_arns(container.ModelDataUrl)
        clarify = self.config.clarify
        if clarify and clarify.ShapConfig.ShapBaselineConfig.ShapBaselineUri:
            objects += _s3_object_arns(clarify.ShapConfig.ShapBaselineConfig.ShapBaselineUri)
        if objects:
            statements.append(iam.PolicyStatement(sid="ReadModelAndBaseline", actions=["s3:GetObject"],
                                                  resources=objects))
        capture = self.config.EndpointConfig.DataCaptureConfig
        if capture:
            statements.append(iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"],
                                                  resources=_s3_object_arns(capture.DestinationS3Uri.rstrip("/")
                                                                            + "/")))
        elif self.capture_bucket is not None:
            statements.append(iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"],
                                                  resources=[self.capture_bucket.arn_for_objects("capture/*")]))
        log_group = stack.format_arn(service="logs", resource="log-group",
                                     resource_name=f"{_ENDPOINT_LOGS}/{self.name}:*",
                                     arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        statements.append(iam.PolicyStatement(
            sid="WriteEndpointLogs", actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                              "logs:DescribeLogStreams"], resources=[log_group]))
        statements.append(iam.PolicyStatement(
            sid="PublishEndpointMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}}))
        if self.key is not None:
            statements.append(iam.PolicyStatement(sid="UseEndpointKey", resources=[self.key.key_arn],
                                                  actions=["kms:Decrypt", "kms:GenerateDataKey"]))
        vpc = self.config.Model.VpcConfig or self._given_vpc
        if vpc:
            statements.append(iam.PolicyStatement(
                sid="EndpointNetworkInterfaces",
                actions=["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                         "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                         "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                         "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], resources=["*"]))
        return statements

    def _model(self) -> sagemaker.CfnModel:
        spec = self.config.Model.model_dump(exclude_unset=True)
        spec.pop("ExecutionRoleArn", None)
        spec.pop("ModelName", None)  # generated: a fixed name would block replacement
        model = sagemaker.CfnModel(self, "Model", execution_role_arn=self.role.role_arn)
        for key, value in spec.items():
            model.add_property_override(key, value)
        if self.explainer_image is not None:  # the model's image with the explainer in front (self-hosted)
            model.add_property_override("PrimaryContainer.Image", self.explainer_image.image_uri)
        if self._vpc_config is not None:
            model.add_property_override("VpcConfig", self._vpc_config)
        if not self.config.Model.EnableNetworkIsolation:
            # checkov CKV_AWS_370 asks for network isolation; it is the config's choice (Model.EnableNetworkIsolation).
            model.add_metadata("checkov", {"skip": [{"id": "CKV_AWS_370", "comment": (
                "Model.EnableNetworkIsolation is not set in the config: the container may need the network (for "
                "example to reach S3 through the VPC); set it to true when the model needs no network at all")}]})
        if isinstance(self.role, iam.Role) and hasattr(self, "execution_policy"):
            model.node.add_dependency(self.execution_policy)
        return model

    def _endpoint_config(self) -> sagemaker.CfnEndpointConfig:
        spec = self.config.EndpointConfig.model_dump(exclude_unset=True)
        spec.pop("EndpointConfigName", None)  # generated: a fixed name would block replacement
        variants = [{**v, "ModelName": self.model.attr_model_name} for v in spec.pop("ProductionVariants")]
        shadows = spec.pop("ShadowProductionVariants", None)
        key_id = self.key.key_arn if self.key is not None else self.config.EndpointConfig.KmsKeyId
        # The typed variant only satisfies the constructor; the override below renders the config's variants
        # verbatim (PascalCase, every member the API knows, none injected).
        placeholder = sagemaker.CfnEndpointConfig.ProductionVariantProperty(variant_name="placeholder")
        config = sagemaker.CfnEndpointConfig(self, "EndpointConfig", production_variants=[placeholder],
                                             kms_key_id=key_id)
        config.add_property_override("ProductionVariants", variants)
        if shadows:
            config.add_property_override("ShadowProductionVariants",
                                         [{**v, "ModelName": self.model.attr_model_name} for v in shadows])
        spec.pop("KmsKeyId", None)
        if self.explainer_image is not None:  # the explainer is in the container; its settings are in the image
            spec.pop("ExplainerConfig", None)
        for key, value in spec.items():  # ExplainerConfig, DataCaptureConfig, Tags...: exactly as written
            config.add_property_override(key, value)
        capture = self._capture_config()
        if capture is not None:
            config.add_property_override("DataCaptureConfig", capture)
        return config

    def _topic(self) -> sns.Topic | None:
        """The topic every alarm notifies (encrypted with the endpoint key, TLS only)."""
        if not self.config.ClarifyKit.Alarms.Enabled:
            return None
        topic = sns.Topic(self, "AlarmTopic", master_key=self.key, enforce_ssl=True,
                          display_name=f"clarify-kit alarms for {self.name}")
        if isinstance(self.key, kms.Key):
            stack = cdk.Stack.of(self)
            # CloudWatch publishes to the encrypted topic; only for this account's alarms (confused deputy).
            self.key.add_to_resource_policy(iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToTheTopic", actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")], resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                            "ArnLike": {"aws:SourceArn": stack.format_arn(
                                service="cloudwatch", resource="alarm", resource_name="*",
                                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)}}))
        for i, address in enumerate(self.config.ClarifyKit.Alarms.NotifyEmails):
            sns.Subscription(self, f"AlarmEmail{i}", topic=topic, protocol=sns.SubscriptionProtocol.EMAIL,
                             endpoint=address)
        return topic

    def _alarms(self, latency_estimate_s: float | None) -> list[cloudwatch.Alarm]:
        settings = self.config.ClarifyKit.Alarms
        if not settings.Enabled:
            return []
        budget_ms = settings.ModelLatencyP99Ms or alarm_latency_ms(latency_estimate_s)
        alarms = []
        for variant in self.config.EndpointConfig.ProductionVariants:
            name = variant.VariantName
            alarms.append(self.metric_invocation_5xx_errors(variant=name).create_alarm(
                self, f"Errors5xx{name}",
                threshold=settings.Invocation5XXErrorsThreshold, evaluation_periods=settings.EvaluationPeriods,
                datapoints_to_alarm=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{name}: the container or the explainer answers 5XX errors"))
            alarms.append(self.metric_model_latency(variant=name).create_alarm(
                self, f"LatencyP99{name}",
                threshold=budget_ms * 1000,  # ModelLatency is reported in microseconds
                evaluation_periods=settings.EvaluationPeriods,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{name}: ModelLatency p99 above {budget_ms:.0f} ms, the explainer's budget"))
        if self.alarm_topic is not None:
            action = cloudwatch_actions.SnsAction(self.alarm_topic)
            for alarm in alarms:
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
        return alarms

    def _deployment_config(self) -> dict[str, Any]:
        given = self.config.Endpoint.DeploymentConfig
        deployment = given.model_dump(exclude_unset=True) if given else {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300},
                "TerminationWaitInSeconds": 300,
                "MaximumExecutionTimeoutInSeconds": 3600,
            }
        }
        rollback = deployment.setdefault("AutoRollbackConfiguration", {})
        named = list(rollback.get("Alarms", []))
        ours = [{"AlarmName": alarm.alarm_name} for alarm in self.alarms]
        rollback["Alarms"] = (named + ours)[:MAX_ROLLBACK_ALARMS]
        if not rollback["Alarms"]:
            deployment.pop("AutoRollbackConfiguration")
        return deployment

    def _autoscaling(self) -> list[appscaling.ScalableTarget]:
        settings = self.config.ClarifyKit.Autoscaling
        if not settings.Enabled:
            return []
        stack = cdk.Stack.of(self)
        role = iam.Role.from_role_arn(self, "AutoscalingRole", stack.format_arn(
            service="iam", region="", resource="role", resource_name=_AUTOSCALING_ROLE), mutable=False)
        targets = []
        for variant in self.config.EndpointConfig.ProductionVariants:
            if variant.ServerlessConfig is not None:
                continue
            initial = variant.InitialInstanceCount or MIN_MULTI_AZ_INSTANCES
            target = appscaling.ScalableTarget(
                self, f"Scaling{variant.VariantName}", service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
                scalable_dimension="sagemaker:variant:DesiredInstanceCount",
                # a GetAtt on the endpoint: the target waits for the endpoint without an explicit dependency
            resource_id=f"endpoint/{self.endpoint.attr_endpoint_name}/variant/{variant.VariantName}",
                min_capacity=max(settings.MinCapacity, MIN_MULTI_AZ_INSTANCES if not self.config.ClarifyKit.opt_out(
                    "multi-az") else 1),
                max_capacity=max(settings.MaxCapacity, initial), role=role)
            target.scale_to_track_metric(
                "InvocationsPerInstance",
                target_value=settings.TargetInvocationsPerInstance,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                scale_in_cooldown=cdk.Duration.seconds(settings.ScaleInCooldownSeconds),
                scale_out_cooldown=cdk.Duration.seconds(settings.ScaleOutCooldownSeconds))
            targets.append(target)
        return targets

