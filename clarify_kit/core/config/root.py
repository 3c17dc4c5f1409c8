"""The root of the config (``DeploymentConfig``) and how a document becomes one: validated, with every problem
reported at once by its field path, and the positions of the file it was read from."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError

from clarify_kit.core._api_models import ClarifyExplainerConfig, EndpointConfigSpec, EndpointSpec, ProductionVariant
from clarify_kit.core._document import Document, Positions
from clarify_kit.core.config.messages import issues
from clarify_kit.core.config.settings import ContainerDefinition, KitSettings, ModelSpec, _KitModel
from clarify_kit.core.errors import ConfigError

__all__ = ["DeploymentConfig", "config_from_dict", "config_from_document", "json_schema"]


class DeploymentConfig(_KitModel):
    """One SageMaker real-time endpoint with Clarify online explainability."""

    Model: ModelSpec
    EndpointConfig: EndpointConfigSpec
    Endpoint: EndpointSpec = Field(default_factory=lambda: EndpointSpec())
    ClarifyKit: KitSettings = Field(default_factory=KitSettings)
    # Where each field stands in the file it was read from (empty for a config built in code).
    _positions: Positions = PrivateAttr(default_factory=dict)

    @property
    def positions(self) -> Positions:
        """Field path -> (line, column) in the file the config was read from, recorded while it was parsed."""
        return self._positions

    def __eq__(self, other: object) -> bool:
        """Two configs are equal when their fields are, wherever in which file they were written."""
        if not isinstance(other, DeploymentConfig):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True))

    @property
    def clarify(self) -> ClarifyExplainerConfig | None:
        """The ClarifyExplainerConfig, or None when the endpoint config has no explainer."""
        explainer = self.EndpointConfig.ExplainerConfig
        return explainer.ClarifyExplainerConfig if explainer else None

    @property
    def container(self) -> ContainerDefinition | None:
        """The model container: PrimaryContainer, or the one entry of Containers (AWS's multi-model notebook writes
        ``Containers: [{Mode: MultiModel, ...}]``, which the service takes as the primary container)."""
        model = self.Model
        if model.PrimaryContainer is not None:
            return model.PrimaryContainer
        if model.Containers and len(model.Containers) == 1 and model.InferenceExecutionConfig is None:
            return model.Containers[0]
        return None

    @property
    def container_path(self) -> str:
        """Where the model container stands in the file: ``Model.PrimaryContainer`` or ``Model.Containers[0]``."""
        single = self.Model.PrimaryContainer is None and self.Model.Containers and len(self.Model.Containers) == 1
        return "Model.Containers[0]" if single else "Model.PrimaryContainer"

    @property
    def variants(self) -> list[ProductionVariant]:
        return list(self.EndpointConfig.ProductionVariants)

    def explainer_config_dict(self) -> dict[str, Any] | None:
        """The ExplainerConfig exactly as written in the file (no defaults injected)."""
        explainer = self.EndpointConfig.ExplainerConfig
        return explainer.model_dump(exclude_unset=True) if explainer else None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, for editors (``clarify-kit schema``)."""
    schema = DeploymentConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "clarify-kit deployment config"
    return schema


def config_from_document(document: Document, *, source: str = "config") -> DeploymentConfig:
    """Validate a parsed config document; the config keeps the document's field positions.

    Raises
    ------
    ConfigError: with one Issue per problem, each naming the dotted field path, and the document's positions.
    """
    try:
        config = config_from_dict(document.data, source=source)
    except ConfigError as err:
        err.positions = document.positions
        raise
    config._positions = document.positions
    return config


def config_from_dict(data: Any, *, source: str = "config") -> DeploymentConfig:
    """Validate an already-parsed config document.

    Raises
    ------
    ConfigError: with one Issue per problem, each naming the dotted field path.
    """
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{source}: the config must be a mapping with Model and EndpointConfig; it is {kind}")
    try:
        return DeploymentConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(issues(err.errors(include_url=False), data, DeploymentConfig)) from None
    except RecursionError as err:
        raise ConfigError(f"{source}: the config is nested too deeply") from err
