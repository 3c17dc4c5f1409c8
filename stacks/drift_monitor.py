"""The scheduled drift monitor (ClarifyKit.Monitoring.Drift): a function on a schedule that reads the last window of
the endpoint's data capture, compares its served explanations with a baseline, publishes the drift measures as
metrics in the kit's namespace, and alarms into the endpoint's alarm topic.

Least privilege: the function may list only the endpoint's capture prefix, read only that prefix and the baseline,
decrypt with the endpoint key only through S3, write metrics only in its own namespace and logs only to its own log
group (KMS-encrypted). Its code is two standard-library files of the kit (the handler and the drift measure), so the
function needs no layer and no bundling.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from clarify_kit.adapters import drift_function
from clarify_kit.core import drift
from clarify_kit.core.config import DeploymentConfig, DriftSettings

__all__ = ["DriftMonitor"]


def _labels(config: DeploymentConfig) -> list[str]:
    """The labels the drift measure names (the explainer's label headers, else label0: one explained score)."""
    explainer = config.EndpointConfig.ExplainerConfig
    clarify = explainer.ClarifyExplainerConfig if explainer else None
    inference = clarify.InferenceConfig if clarify else None
    headers = inference.LabelHeaders if inference else None
    return list(headers) if headers else ["label0"]


class DriftMonitor(Construct):
    """The function, its schedule, its log group and its alarms (``alarms``), for one endpoint."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        endpoint_name: str,
        capture_bucket: s3.IBucket,
        capture_prefix: str,
        key: kms.IKey | None,
        topic: sns.ITopic | None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.ClarifyKit.Monitoring.Drift
        assert settings.BaselineUri is not None  # the rules refuse Enabled without it
        variants = [v.VariantName for v in config.EndpointConfig.ProductionVariants]
        capture = f"{capture_prefix}/{endpoint_name}"
        stack = cdk.Stack.of(self)
        log_name = f"/clarify-kit/drift/{endpoint_name}"
        if isinstance(key, kms.Key):  # CloudWatch Logs may use the endpoint key for this one log group only
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="DriftLogsEncryption",
                    principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                    actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    resources=["*"],
                    conditions={
                        "ArnEquals": {
                            "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                                service="logs",
                                resource="log-group",
                                resource_name=log_name,
                                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                            )
                        }
                    },
                )
            )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_name,
            retention=logs.RetentionDays.ONE_YEAR,
            encryption_key=key if isinstance(key, kms.Key) else None,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"clarify-kit drift monitor of {endpoint_name}: read its capture, publish drift metrics",
        )
        directory = self._code()
        try:
            self.function = self._function(role, directory, key, settings, variants, capture_bucket, capture,
                                           endpoint_name)  # fmt: skip
        finally:
            shutil.rmtree(directory, ignore_errors=True)  # staged by the asset: no build folder is left behind
        self._grant(role, config, capture_bucket, capture, key)
        events.Rule(
            self,
            "Schedule",
            schedule=events.Schedule.expression(settings.Schedule),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )
        self.alarms = self._alarms(config, endpoint_name, topic)
        reasons = {
            "LambdaDLQ": "A failed scheduled run is retried twice by EventBridge and counted in the function's "
            "Errors metric; the next run reads its window again, so no event is lost in a queue.",
            "LambdaInsideVPC": "The function reads S3 and writes CloudWatch metrics only; it reaches no resource "
            "inside a VPC.",
        }
        for pack in ("HIPAA.Security", "NIST.800.53.R5"):
            for rule, reason in reasons.items():
                cdk.Validations.of(self.function).acknowledge(
                    cdk.Acknowledgment(id=f"{pack}::{pack}-{rule}", reason=reason)
                )

    def _function(
        self,
        role: iam.Role,
        directory: Path,
        key: kms.IKey | None,
        settings: DriftSettings,
        variants: list[str],
        capture_bucket: s3.IBucket,
        capture: str,
        endpoint_name: str,
    ) -> lambda_.Function:
        return lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="drift_function.handler",
            code=lambda_.Code.from_asset(str(directory)),
            timeout=cdk.Duration.minutes(15),
            memory_size=1024,
            role=role,
            log_group=self.log_group,
            reserved_concurrent_executions=1,  # one run at a time: each reads the whole window
            environment={
                "CAPTURE_URI": f"s3://{capture_bucket.bucket_name}/{capture}",
                "VARIANTS": ",".join(variants),
                "BASELINE_URI": settings.BaselineUri or "",
                "WINDOW_HOURS": str(settings.WindowHours),
                "NAMESPACE": settings.Namespace,
                "ENDPOINT_NAME": endpoint_name,
                "NDCG_THRESHOLD": repr(settings.NdcgThreshold),
                "MASS_THRESHOLD": repr(settings.MassThreshold),
                "PREDICTION_THRESHOLD": repr(settings.PredictionThreshold),
            },
            environment_encryption=key,
            description=f"clarify-kit: explanation drift of {endpoint_name} from its data capture",
        )

    @staticmethod
    def _code() -> Path:
        """A folder with the handler and the drift measure, two files of the kit: the function's code."""
        directory = Path(tempfile.mkdtemp(prefix="clarify-kit-drift-"))
        shutil.copy(Path(drift_function.__file__), directory / "drift_function.py")
        shutil.copy(Path(drift.__file__), directory / "drift.py")
        return directory

    def _grant(
        self, role: iam.Role, config: DeploymentConfig, bucket: s3.IBucket, capture: str, key: kms.IKey | None
    ) -> None:
        settings = config.ClarifyKit.Monitoring.Drift
        assert settings.BaselineUri is not None
        base_bucket, _, base_key = settings.BaselineUri[len("s3://") :].partition("/")
        stack = cdk.Stack.of(self)
        baseline_bucket = stack.format_arn(service="s3", region="", account="", resource=base_bucket)
        statements = [
            iam.PolicyStatement(
                sid="ListTheCapturePrefix",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{capture}/*"]}},
            ),
            iam.PolicyStatement(
                sid="ReadTheCapture", actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{capture}/*")]
            ),
            iam.PolicyStatement(
                sid="ReadTheBaseline",
                actions=["s3:GetObject"],
                resources=[f"{baseline_bucket}/{base_key}" + ("" if base_key.endswith(".json") else "/*")],
            ),
            iam.PolicyStatement(
                sid="PublishDriftMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource; the namespace condition limits it
                conditions={"StringEquals": {"cloudwatch:namespace": settings.Namespace}},
            ),
            iam.PolicyStatement(
                sid="WriteItsLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}"],
            ),
        ]
        if not base_key.endswith(".json"):
            statements.append(
                iam.PolicyStatement(
                    sid="ListTheBaselinePrefix",
                    actions=["s3:ListBucket"],
                    resources=[baseline_bucket],
                    conditions={"StringLike": {"s3:prefix": [f"{base_key}/*"]}},
                )
            )
        if key is not None:  # the capture objects (through S3) and the function's own environment (through Lambda)
            services = [f"s3.{stack.region}.amazonaws.com", f"lambda.{stack.region}.amazonaws.com"]
            statements.append(
                iam.PolicyStatement(
                    sid="DecryptThroughS3AndLambda",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": services}},
                )
            )
        policy = iam.ManagedPolicy(self, "Policy", statements=statements, roles=[role])
        # The function waits for its grants (not for its role, which its Role attribute already waits for).
        function = self.function.node.default_child
        assert isinstance(function, cdk.CfnResource) and isinstance(policy.node.default_child, cdk.CfnResource)
        function.add_override("DependsOn", [stack.get_logical_id(policy.node.default_child)])
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="cloudwatch:PutMetricData takes no resource; the grant is limited to the drift namespace by "
                "its cloudwatch:namespace condition.",
            )
        )
        for resource in self._object_grants(stack, bucket, capture, baseline_bucket, base_key):
            cdk.Validations.of(policy).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                    reason="The drift function reads every capture object of its endpoint's prefix (and the "
                    "baseline's); the grant is limited to those prefixes.",
                )
            )

    @staticmethod
    def _object_grants(
        stack: cdk.Stack, bucket: s3.IBucket, capture: str, baseline_bucket: str, base_key: str
    ) -> list[str]:
        from clarify_kit.stacks.nag import nag_text  # noqa: PLC0415

        grants = [nag_text(stack, bucket.arn_for_objects(f"{capture}/*"))]
        if not base_key.endswith(".json"):
            grants.append(nag_text(stack, f"{baseline_bucket}/{base_key}/*"))
        return grants

    def _alarms(self, config: DeploymentConfig, endpoint_name: str, topic: sns.ITopic | None) -> list[cloudwatch.Alarm]:
        settings = config.ClarifyKit.Monitoring.Drift
        alarms = []
        for label in _labels(config):
            dims = {"EndpointName": endpoint_name, "Label": label}

            def metric(name: str, statistic: str = "Minimum", dims: dict[str, str] = dims) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace=settings.Namespace,
                    metric_name=name,
                    dimensions_map=dims,
                    statistic=statistic,
                    period=cdk.Duration.hours(1),
                )

            safe = "".join(c for c in label if c.isalnum())[:40] or "Label"
            alarms.append(
                metric("NDCG").create_alarm(
                    self,
                    f"Ndcg{safe}",
                    threshold=settings.NdcgThreshold,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{endpoint_name} {label}: explanation drift, NDCG below "
                    f"{settings.NdcgThreshold}",
                )
            )
            for name, threshold in (
                ("AttributionMassChange", settings.MassThreshold),
                ("MeanPredictionChange", settings.PredictionThreshold),
            ):
                magnitude = cloudwatch.MathExpression(
                    expression="ABS(m)", using_metrics={"m": metric(name, "Average")}, period=cdk.Duration.hours(1)
                )
                alarms.append(
                    magnitude.create_alarm(
                        self,
                        f"{name}{safe}",
                        threshold=threshold,
                        evaluation_periods=1,
                        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                        alarm_description=f"{endpoint_name} {label}: {name} beyond {threshold}",
                    )
                )
        if topic is not None:
            for alarm in alarms:
                alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
                alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
        return alarms
