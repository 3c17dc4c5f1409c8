"""Verify a deployment: the endpoint is InService on the expected config, multi-AZ, with the explainer in force."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clarify_kit.adapters.aws import make_client, setup_problem
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import InvocationError
from clarify_kit.core.limits import MIN_MULTI_AZ_INSTANCES

__all__ = ["VerifyReport", "verify_deployment"]


@dataclass
class VerifyReport:
    endpoint: str
    checks: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"name": name, "ok": ok, "detail": detail})

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks)

    def render(self) -> str:
        lines = [f"{'✓' if c['ok'] else '✗'} {c['name']}: {c['detail']}" for c in self.checks]
        lines.append(f"deployment of {self.endpoint}: {'verified' if self.ok else 'NOT verified'}")
        return "\n".join(lines)


def verify_deployment(
    endpoint_name: str,
    expected_config: str,
    *,
    config: DeploymentConfig | None = None,
    boto3_client: Any = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    profile_name: str | None = None,
) -> VerifyReport:
    """Describe the endpoint and its config and compare them with what was deployed.

    SageMaker rolls a failed update back to the previous endpoint config silently; comparing the config name in
    force with the one just deployed catches that. The explainer check compares DescribeEndpointConfig's
    ExplainerConfig with the config file's (when ``config`` is given).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    sm = make_client(
        "sagemaker",
        boto3_client=boto3_client,
        endpoint_url=endpoint_url,
        region_name=region_name,
        profile_name=profile_name,
    )
    report = VerifyReport(endpoint_name)
    try:
        endpoint = sm.describe_endpoint(EndpointName=endpoint_name)
    except (ClientError, BotoCoreError) as err:
        raise (
            setup_problem(err) or InvocationError(f"DescribeEndpoint {endpoint_name}: {err}", code=type(err).__name__)
        ) from err
    status = endpoint.get("EndpointStatus")
    report.add(
        "status",
        status == "InService",
        f"EndpointStatus is {status}"
        + (f" ({endpoint.get('FailureReason')})" if endpoint.get("FailureReason") else ""),
    )
    in_force = endpoint.get("EndpointConfigName")
    report.add(
        "endpoint config",
        in_force == expected_config,
        f"in force: {in_force}; expected: {expected_config}"
        + ("" if in_force == expected_config else " (a failed update was rolled back, or not deployed yet)"),
    )
    variants = endpoint.get("ProductionVariants") or []
    for variant in variants:
        count = variant.get("CurrentInstanceCount", variant.get("DesiredInstanceCount"))
        name = variant.get("VariantName")
        report.add(
            f"variant {name}",
            (count or 0) >= MIN_MULTI_AZ_INSTANCES,
            f"{count} instance(s) running; at least {MIN_MULTI_AZ_INSTANCES} spread over Availability Zones",
        )
    if not variants:
        report.add("variants", False, "DescribeEndpoint lists no production variant")
    if config is not None:
        try:
            described = sm.describe_endpoint_config(EndpointConfigName=expected_config)
        except (ClientError, BotoCoreError) as err:
            report.add("explainer config", False, f"DescribeEndpointConfig {expected_config}: {err}")
            return report
        live = described.get("ExplainerConfig")
        wanted = config.explainer_config_dict()
        if live is None:
            report.add(
                "explainer config",
                False,
                "DescribeEndpointConfig returns no ExplainerConfig: the endpoint answers without explanations",
            )
        else:
            report.add(
                "explainer config",
                live == wanted,
                "equals the config file"
                if live == wanted
                else f"differs from the config file: live {live} vs file {wanted}",
            )
    return report
