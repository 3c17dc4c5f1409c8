"""How the endpoint is updated: blue/green, rolled back automatically when its alarms fire."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.limits import MAX_ROLLBACK_ALARMS

__all__ = ["deployment_config"]

# The kit's default blue/green policy, when Endpoint.DeploymentConfig gives none (SageMaker's own default is
# all-at-once with no bake time and no rollback alarms: CreateEndpoint, DeploymentConfig).
# Traffic runs on the new fleet this long before the update completes: five of the alarms' 1-minute periods.
BAKE_S = 300
# The old fleet is kept this long after the shift, so that a rollback needs no new instances.
TERMINATION_WAIT_S = 300
# The whole update may take this long (the API allows 600 to 28,800 s): provisioning, the bake and a rollback.
MAX_EXECUTION_S = 3600


def deployment_config(config: DeploymentConfig, alarms: list[cloudwatch.Alarm]) -> dict[str, Any]:
    """Endpoint.DeploymentConfig as written, else the kit's blue/green policy; either way rolled back on the
    config's named alarms plus the kit's (at most MAX_ROLLBACK_ALARMS)."""
    given = config.Endpoint.DeploymentConfig
    deployment: dict[str, Any] = (
        given.model_dump(exclude_unset=True)
        if given
        else {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": BAKE_S},
                "TerminationWaitInSeconds": TERMINATION_WAIT_S,
                "MaximumExecutionTimeoutInSeconds": MAX_EXECUTION_S,
            }
        }
    )
    rollback = deployment.setdefault("AutoRollbackConfiguration", {})
    named = list(rollback.get("Alarms", []))
    ours = [{"AlarmName": alarm.alarm_name} for alarm in alarms]
    rollback["Alarms"] = (named + ours)[:MAX_ROLLBACK_ALARMS]
    if not rollback["Alarms"]:
        deployment.pop("AutoRollbackConfiguration")
    return deployment
