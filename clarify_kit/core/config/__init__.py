"""The deployment config: SageMaker's own request shapes plus the kit's settings, loaded with field-path errors.

``settings`` holds the models, ``root`` the DeploymentConfig and its loaders, ``messages`` turns pydantic's errors into
the kit's one-line issues.
"""

from __future__ import annotations

from clarify_kit.core._document import position_of
from clarify_kit.core.config.messages import format_path
from clarify_kit.core.config.root import DeploymentConfig, config_from_dict, config_from_document, json_schema
from clarify_kit.core.config.settings import (
    OPT_OUT_RULES,
    AlarmSettings,
    AutoscalingSettings,
    BaselineSettings,
    ContainerDefinition,
    ContainerSettings,
    DataCaptureSettings,
    DriftSettings,
    FrameworkImage,
    KitSettings,
    LatencySettings,
    MediaType,
    ModelSpec,
    MonitoringSettings,
    OptOut,
    SelfHostedSettings,
    TextSettings,
)

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
    "MediaType",
    "ModelSpec",
    "OPT_OUT_RULES",
    "OptOut",
    "SelfHostedSettings",
    "TextSettings",
    "config_from_dict",
    "config_from_document",
    "format_path",
    "json_schema",
    "position_of",
]
