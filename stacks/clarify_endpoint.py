"""ClarifyEndpoint: Model + EndpointConfig (with the Clarify explainer) + Endpoint, production-ready.

Multi-AZ (two or more instances per variant, autoscaling never below two), a customer managed KMS key with
rotation, a least-privilege execution role, alarms on 5XX errors and ModelLatency p99, blue/green deployment that
rolls back on those alarms, and target-tracking autoscaling through the SageMaker service-linked role. The
ExplainerConfig and the production variants are rendered exactly as written in the config. The construct judges its
config with the core's rules (the same rules and messages as ``clarify-kit precheck``) and acknowledges its own
cdk-nag findings, so it is complete in any app. Its parts live beside it, one concern a module, as in the L2
construct library: surface (name, grants, metrics), security (IAM, KMS), network, capture, monitoring, deployment,
scaling and nag.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import ConfigError, Issue
from clarify_kit.core.findings import Assessment
from clarify_kit.core.resources import default_endpoint_name
from clarify_kit.core.rules import assess
from clarify_kit.core.s3_uri import parse_s3_uri
from clarify_kit.explainer.image import build_context
from clarify_kit.stacks.capture import CAPTURE_PREFIX, capture_bucket, capture_config
from clarify_kit.stacks.deployment import deployment_config
from clarify_kit.stacks.monitoring import alarm_latency_ms, alarm_topic, endpoint_alarms
from clarify_kit.stacks.nag import acknowledge_findings
from clarify_kit.stacks.network import vpc_config
from clarify_kit.stacks.scaling import autoscaling
from clarify_kit.stacks.security import endpoint_key, execution_role, key_issues, role_issues, role_statements
from clarify_kit.stacks.surface import EndpointSurface, ImportedEndpoint

if TYPE_CHECKING:  # imported where used: aws_ec2 alone takes half a second to import, the drift monitor's
    # Lambda, EventBridge and SNS modules together about three
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_ecr_assets as ecr_assets

    from clarify_kit.stacks.drift_monitor import DriftMonitor

__all__ = ["ClarifyEndpoint", "ImportedEndpoint", "alarm_latency_ms"]


class ClarifyEndpoint(EndpointSurface, Construct):
    """A SageMaker real-time endpoint with Clarify online explainability, built from a deployment config.

    Parameters
    ----------
    scope, construct_id: as for any construct.
    config: the deployment config (``clarify_kit.load_config``). It is judged by the core's rules: an error stops
        synthesis with a ConfigError whose lines are precheck's ``path: message`` lines; warnings become CDK
        annotations; the ModelLatency p99 alarm sits 1.5 times above the rules' latency estimate, within 1 s and
        48 s, unless ``ClarifyKit.Alarms.ModelLatencyP99Ms`` sets it.
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

    Attributes
    ----------
    assessment: what the rules found, with the synthetic-dataset size and the latency estimate.
    endpoint_name, endpoint_arn, endpoint_config_name; model, endpoint_config, endpoint (the L1 resources); role,
    key, alarm_topic, alarms, capture_bucket, scaling_targets.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        role: iam.IRole | None = None,
        key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: list[ec2.ISecurityGroup] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.assessment: Assessment = assess(config)
        self.assessment.raise_for_errors()
        for warning in self.assessment.warnings:  # keyed by rule and field, so that one can be acknowledged
            warning_id = f"clarify-kit:{warning.rule}" + (f":{warning.path}" if warning.path else "")
            cdk.Annotations.of(self).add_warning_v2(warning_id, str(warning))
        for opt_out in config.ClarifyKit.OptOuts:
            cdk.Annotations.of(self).add_info(f"opt-out {opt_out.Rule}: {opt_out.Reason}")
        # Log delivery by bucket policy rather than the legacy AccessControl ACL (cfn-lint W3045), whatever the
        # enclosing app's flags: the construct works in any stack.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self._vpc_config = self._check_given(role, key, vpc, vpc_subnets, security_groups)
        # A fixed endpoint name (the config's, or one derived from the stack name): the alarms need it in their
        # dimensions, and the endpoint needs the alarms for its auto-rollback, so neither may be a token.
        stack = cdk.Stack.of(self)
        below_stack = self.node.path[len(stack.node.path) + 1 :]
        self.name = config.Endpoint.EndpointName or default_endpoint_name(stack.stack_name, below_stack)
        self.endpoint_name = self.name
        self._variant_names = [v.VariantName for v in config.EndpointConfig.ProductionVariants]
        self.key = endpoint_key(self, config, key)
        self.capture_bucket = capture_bucket(self, config, self.key)
        self.explainer_image = self._explainer_image()
        statements = role_statements(
            self,
            config,
            endpoint_name=self.name,
            key=self.key,
            capture_bucket=self.capture_bucket,
            explainer_image=self.explainer_image,
            in_vpc=bool(config.Model.VpcConfig or vpc),
        )
        self.role, self.execution_policy = execution_role(self, config, role, statements)
        self.model = self._model()
        self.endpoint_config = self._endpoint_config()
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            endpoint_name=self.name,
        )
        self.alarm_topic = alarm_topic(self, config, self.key, self.name)
        latency = self.assessment.latency
        self.alarms = endpoint_alarms(self, self, config, latency.seconds if latency else None, self.alarm_topic)
        self.endpoint.add_property_override("DeploymentConfig", deployment_config(config, self.alarms))
        self.scaling_targets = autoscaling(self, config, self.endpoint.attr_endpoint_name, self.assessment)
        self.drift_monitor = self._drift_monitor()
        self.dashboard = self._dashboard(latency.seconds if latency else None)
        acknowledge_findings(self)

    # --- public surface ---------------------------------------------------------------------------------------

    @staticmethod
    def from_endpoint_name(
        scope: Construct, construct_id: str, endpoint_name: str, *, variant_names: list[str] | None = None
    ) -> ImportedEndpoint:
        """An existing endpoint by name, for ``grant_invoke`` and ``metric_*`` (with ``variant=`` unless
        ``variant_names`` holds just one)."""
        return ImportedEndpoint(scope, construct_id, endpoint_name=endpoint_name, variant_names=variant_names)

    @property
    def endpoint_config_name(self) -> str:
        return self.endpoint_config.attr_endpoint_config_name

    # --- parts ------------------------------------------------------------------------------------------------

    def _dashboard(self, latency_estimate_s: float | None) -> cloudwatch.Dashboard:
        """The endpoint's CloudWatch dashboard, with the alarm threshold and scaling target it acts on."""
        from clarify_kit.stacks.dashboard import endpoint_dashboard
        from clarify_kit.stacks.scaling import scaling_targets

        alarms = self.config.ClarifyKit.Alarms
        measured = self.config.ClarifyKit.Latency.P99Ms
        budget_ms = alarms.ModelLatencyP99Ms or alarm_latency_ms(measured / 1000 if measured else latency_estimate_s)
        explanations = None
        if self.config.ClarifyKit.Autoscaling.Enabled:
            _, explanations, _ = scaling_targets(self.config, self.assessment)
        return endpoint_dashboard(
            self,
            self,
            self.config,
            latency_alarm_us=budget_ms * 1000 if alarms.Enabled else None,
            explanations_target=explanations,
            drift=self.drift_monitor,
        )

    def _drift_monitor(self) -> DriftMonitor | None:
        """The scheduled drift function over the endpoint's capture (its bucket, or the config's destination)."""
        if not self.config.ClarifyKit.Monitoring.Drift.Enabled:
            return None
        from clarify_kit.stacks.drift_monitor import DriftMonitor

        bucket: s3.IBucket | None = self.capture_bucket
        prefix = CAPTURE_PREFIX
        given = self.config.EndpointConfig.DataCaptureConfig
        if bucket is None and given is not None:
            destination = parse_s3_uri(given.DestinationS3Uri)
            assert destination is not None  # the rules refuse a drift monitor on another kind of destination
            bucket = s3.Bucket.from_bucket_name(self, "CaptureDestination", destination.bucket)
            prefix = destination.prefix
        assert bucket is not None  # the rules refuse a drift monitor without data capture
        return DriftMonitor(
            self,
            "DriftMonitor",
            config=self.config,
            endpoint_name=self.name,
            capture_bucket=bucket,
            capture_prefix=prefix,
            key=self.key,
            topic=self.alarm_topic,
        )

    def _check_given(
        self,
        role: iam.IRole | None,
        key: kms.IKey | None,
        vpc: ec2.IVpc | None,
        vpc_subnets: ec2.SubnetSelection | None,
        security_groups: list[ec2.ISecurityGroup] | None,
    ) -> dict[str, Any] | None:
        """What SageMaker needs of an existing role, key and VPC, every problem at once; the VPC config."""
        issues: list[Issue] = []
        for given, field, name in (
            (role, "Model.ExecutionRoleArn", "role"),
            (key, "EndpointConfig.KmsKeyId", "key"),
            (vpc, "Model.VpcConfig", "vpc"),
        ):
            section, member = field.split(".")
            if given is not None and getattr(getattr(self.config, section), member, None) not in (None, ""):
                issues.append(Issue(field, f"set in the config and given as {name}=: keep one"))
        issues += role_issues(role) + key_issues(key)
        found = None
        if vpc is not None:
            found, problems = vpc_config(self, vpc, vpc_subnets, security_groups)
            issues += problems
        elif vpc_subnets is not None or security_groups is not None:
            issues.append(Issue("Model.VpcConfig", "vpc_subnets= and security_groups= need vpc="))
        if issues:
            raise ConfigError(issues)
        return found

    def _explainer_image(self) -> ecr_assets.DockerImageAsset | None:
        """ClarifyKit.Explainer: SelfHosted: the image built FROM the model's image with the explainer added, as
        a CDK asset (synth needs no Docker; deploy builds and pushes it). The build context is written to a
        temporary directory that is removed once the asset has staged a copy into the cloud assembly."""
        if self.config.ClarifyKit.Explainer != "SelfHosted":
            return None
        from aws_cdk import aws_ecr_assets as ecr_assets

        staging_disabled = bool(self.node.try_get_context("aws:cdk:disable-asset-staging"))
        directory = Path(tempfile.mkdtemp(prefix="clarify-kit-image-"))
        try:
            context = build_context(self.config, directory / "context")
            return ecr_assets.DockerImageAsset(
                self, "ExplainerImage", directory=str(context), platform=ecr_assets.Platform.LINUX_AMD64
            )
        finally:
            if not staging_disabled:  # with staging disabled (SAM), the asset points at the directory itself
                shutil.rmtree(directory, ignore_errors=True)

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
            model.add_metadata(
                "checkov",
                {
                    "skip": [
                        {
                            "id": "CKV_AWS_370",
                            "comment": (
                                "Model.EnableNetworkIsolation is not set in the config: the container may need "
                                "the network (for example to reach S3 through the VPC); set it to true when the "
                                "model needs no network at all"
                            ),
                        }
                    ]
                },
            )
        if self.execution_policy is not None:
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
        config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig", production_variants=[placeholder], kms_key_id=key_id
        )
        config.add_property_override("ProductionVariants", variants)
        if shadows:
            config.add_property_override(
                "ShadowProductionVariants", [{**v, "ModelName": self.model.attr_model_name} for v in shadows]
            )
        spec.pop("KmsKeyId", None)
        if self.explainer_image is not None:  # the explainer is in the container; its settings are in the image
            spec.pop("ExplainerConfig", None)
        for key, value in spec.items():  # ExplainerConfig, DataCaptureConfig, Tags...: exactly as written
            config.add_property_override(key, value)
        capture = capture_config(self.config, self.capture_bucket, self.key)
        if capture is not None:
            config.add_property_override("DataCaptureConfig", capture)
        return config
