"""The scheduled drift monitor (ClarifyKit.Monitoring.Drift): a function on a schedule that reads the last window of
the endpoint's data capture, compares its served explanations with a baseline, publishes the drift measures as
metrics in the kit's namespace, and alarms into the endpoint's alarm topic.

Least privilege: the function may list only the endpoint's capture prefix, read only that prefix and the baseline,
decrypt with the endpoint key only through S3, write metrics only in its own namespace and logs only to its own log
group (KMS-encrypted). Its code is two standard-library files of the kit (the handler and the drift measure), so the
function needs no layer and no bundling.
"""

from __future__ import annotations

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

import clarify_kit
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.s3_uri import parse_s3_uri
from clarify_kit.runtime import DRIFT_FUNCTION_FILES, DRIFT_FUNCTION_HANDLER, MODEL_MONITOR_NAMESPACE

__all__ = ["DriftMonitor"]


def _code() -> lambda_.Code:
    """The function's code: the kit's own files that it imports (DRIFT_FUNCTION_FILES), from the folder that holds
    the installed ``clarify_kit`` package, everything else excluded: the files the CLI runs, as they are."""
    root = Path(clarify_kit.__file__).resolve().parent.parent
    folders = sorted({str(Path(name).parent) for name in DRIFT_FUNCTION_FILES})
    # gitignore order: exclude everything, re-include the package's folders, exclude their contents, re-include files
    patterns = ["/*", *[f"!/{d}/" for d in folders], *[f"/{d}/*" for d in folders]]
    patterns += [f"!/{d}/" for d in folders if "/" in d] + [f"!/{name}" for name in DRIFT_FUNCTION_FILES]
    return lambda_.Code.from_asset(str(root), exclude=patterns, ignore_mode=cdk.IgnoreMode.GIT)


def _selector(config: DeploymentConfig) -> dict[str, str]:
    """The explained score's selector (ProbabilityIndex / ProbabilityAttribute), as the explainer reads it."""
    explainer = config.EndpointConfig.ExplainerConfig
    clarify = explainer.ClarifyExplainerConfig if explainer else None
    inference = clarify.InferenceConfig if clarify else None
    index = inference.ProbabilityIndex if inference else None
    attribute = inference.ProbabilityAttribute if inference else None
    return {
        "SELECTOR_CONFIGURED": "1",
        "PROBABILITY_INDEX": "" if index is None else str(index),
        "PROBABILITY_ATTRIBUTE": attribute or "",
    }


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
        self._namespace, self._endpoint, self._labels = settings.Namespace, endpoint_name, _labels(config)
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
        self.function = self._function(role, key, config, variants, capture_bucket, capture, endpoint_name)
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
        key: kms.IKey | None,
        config: DeploymentConfig,
        variants: list[str],
        capture_bucket: s3.IBucket,
        capture: str,
        endpoint_name: str,
    ) -> lambda_.Function:
        settings = config.ClarifyKit.Monitoring.Drift
        return lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler=DRIFT_FUNCTION_HANDLER,
            code=_code(),
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
                "MONITORING_SCHEDULE": f"clarify-kit-drift-{endpoint_name}",
                "AGGREGATION": settings.Aggregation,
                "NDCG_THRESHOLD": repr(settings.NdcgThreshold),
                "MASS_THRESHOLD": repr(settings.MassThreshold),
                "PREDICTION_THRESHOLD": repr(settings.PredictionThreshold),
                **_selector(config),
            },
            environment_encryption=key,
            description=f"clarify-kit: explanation drift of {endpoint_name} from its data capture",
        )

    def _grant(
        self, role: iam.Role, config: DeploymentConfig, bucket: s3.IBucket, capture: str, key: kms.IKey | None
    ) -> None:
        settings = config.ClarifyKit.Monitoring.Drift
        assert settings.BaselineUri is not None
        parsed = parse_s3_uri(settings.BaselineUri)
        assert parsed is not None  # the config's pattern and the rules refuse anything else
        base_bucket, base_key = parsed.bucket, parsed.key
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
                conditions={"StringEquals": {"cloudwatch:namespace": [settings.Namespace, MODEL_MONITOR_NAMESPACE]}},
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
        hour = cdk.Duration.hours(1)
        alarms = []
        for label in _labels(config):
            dims = {"EndpointName": endpoint_name, "Label": label}

            def metric(name: str, statistic: str = "Minimum", dims: dict[str, str] = dims) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace=settings.Namespace, metric_name=name, dimensions_map=dims, statistic=statistic,
                    period=hour,
                )  # fmt: skip

            safe = "".join(c for c in label if c.isalnum())[:40] or "Label"
            alarms.append(
                metric("NDCG").create_alarm(
                    self,
                    f"Ndcg{safe}",
                    threshold=settings.NdcgThreshold,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    # a run that measured nothing (no explained record, a failed run) publishes no NDCG: loud
                    treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                    alarm_description=f"{endpoint_name} {label}: explanation drift, NDCG below "
                    f"{settings.NdcgThreshold}, or no NDCG measured in the hour (the monitor saw no explained "
                    "record, or failed)",
                )
            )
            for name, threshold in (
                ("AttributionMassChange", settings.MassThreshold),
                ("MeanPredictionChange", settings.PredictionThreshold),
            ):
                magnitude = cloudwatch.MathExpression(
                    expression="ABS(m)", using_metrics={"m": metric(name, "Average")}, period=hour
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
        alarms += self._health_alarms(settings.Namespace, endpoint_name)
        if topic is not None:
            for alarm in alarms:
                alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
                alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
        return alarms

    def label_metrics(self, names: tuple[str, ...]) -> list[cloudwatch.Metric]:
        """The per-label drift measures ``names`` (hourly), for the endpoint's dashboard."""
        return [
            cloudwatch.Metric(
                namespace=self._namespace, metric_name=name, dimensions_map={"EndpointName": self._endpoint,
                "Label": label}, statistic="Average", period=cdk.Duration.hours(1), label=f"{name} {label}",
            )
            for name in names
            for label in self._labels
        ]  # fmt: skip

    def health_metrics(self) -> list[cloudwatch.Metric]:
        """The function's errors and the runs that failed or were cut short (hourly), for the dashboard."""
        hour = cdk.Duration.hours(1)
        return [
            self.function.metric_errors(period=hour, statistic="Sum"),
            *[
                cloudwatch.Metric(namespace=self._namespace, metric_name=name, statistic="Maximum", period=hour,
                                  dimensions_map={"EndpointName": self._endpoint})
                for name in ("MonitorFailed", "WindowTruncated", "ExplainedRecords")
            ],
        ]  # fmt: skip

    def _health_alarms(self, namespace: str, endpoint_name: str) -> list[cloudwatch.Alarm]:
        """The monitor's own health: the function's errors, throttles and duration near its timeout, runs that
        could not measure (MonitorFailed) and windows cut short by the time budget (WindowTruncated)."""
        hour = cdk.Duration.hours(1)
        at_least_one = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        checks = [
            ("FunctionErrors", self.function.metric_errors(period=hour, statistic="Sum"), 1,
             "the drift function failed (its log says why)"),
            ("FunctionThrottles", self.function.metric_throttles(period=hour, statistic="Sum"), 1,
             "the drift function was throttled: a run did not happen"),
            ("FunctionDuration", self.function.metric_duration(period=hour, statistic="Maximum"), 12 * 60 * 1000,
             "a drift run took over 12 of its 15 minutes (milliseconds): the window is near what one run reads"),
        ]  # fmt: skip
        for name, why in (
            ("MonitorFailed", "a drift run could not measure (a bad baseline, an unreadable prefix)"),
            ("WindowTruncated", "a drift run stopped reading before the window's end (its time budget)"),
        ):
            metric = cloudwatch.Metric(
                namespace=namespace, metric_name=name, dimensions_map={"EndpointName": endpoint_name},
                statistic="Maximum", period=hour,
            )  # fmt: skip
            checks.append((name, metric, 1, why))
        return [
            metric.create_alarm(
                self,
                f"Health{name}",
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=at_least_one,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{endpoint_name}: {why}",
            )
            for name, metric, threshold, why in checks
        ]
