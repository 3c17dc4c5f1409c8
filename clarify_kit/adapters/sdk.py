"""Conversion between the kit's ExplainerConfig (the API's PascalCase dict) and the SageMaker SDK's objects.

Either SDK generation works, whichever is installed (imported lazily, only here): v3 (``pip install sagemaker``,
or the kit's ``sdk`` extra: ``sagemaker-core``) or v2 (``sagemaker<3``, the ``sdk-v2`` extra), which many users and
AWS's notebooks still run. Two SDK forms exist:

- the legacy-style classes, ``sagemaker.core.explainer`` in v3 and ``sagemaker.explainer`` in v2
  (``ExplainerConfig(ClarifyExplainerConfig(...))``), the same classes with the same defaults,
  whose ``_to_request_dict()`` injects defaults: ``MimeType: text/csv``, ``UseLogit: false`` and, whenever an
  inference config exists, ``MaxPayloadInMB: 6``;
- the generated pydantic shapes of ``sagemaker.core.shapes`` (v3 only; snake_case fields, no defaults injected).

Every conversion says which values came from the user and which are the SDK's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from clarify_kit.core.errors import KitError

__all__ = ["Conversion", "explainer_module", "from_sdk", "from_sdk_shape", "to_sdk", "to_sdk_shape"]

# Values the legacy SDK classes set when the user does not (their constructor defaults).
SDK_DEFAULTS = {
    "ClarifyExplainerConfig.ShapConfig.ShapBaselineConfig.MimeType": "text/csv",
    "ClarifyExplainerConfig.ShapConfig.UseLogit": False,
    "ClarifyExplainerConfig.InferenceConfig.MaxPayloadInMB": 6,
}


@dataclass(frozen=True)
class Conversion:
    """An ExplainerConfig dict and the paths in it whose values are the SDK's defaults, not the user's."""

    explainer_config: dict[str, Any]
    sdk_defaults: list[str] = field(default_factory=list)

    def without_sdk_defaults(self) -> dict[str, Any]:
        """The dict with the SDK-default values removed (what the user wrote)."""
        out: dict[str, Any] = _copy(self.explainer_config)
        for path in self.sdk_defaults:
            _delete(out, path.split("."))
        return out


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _snake_dict(value: Any) -> Any:
    if isinstance(value, dict):
        return {_snake(k): _snake_dict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_dict(v) for v in value]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _delete(tree: dict[str, Any], path: list[str]) -> None:
    node: Any = tree
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _paths(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(_paths(value, f"{prefix}.{key}" if prefix else key))
    return out


def explainer_module() -> Any:
    """The SDK's explainer classes: ``sagemaker.core.explainer`` (v3), else ``sagemaker.explainer`` (v2).

    Raises
    ------
    KitError: neither SDK generation is installed; the message names both extras.
    """
    try:
        from sagemaker.core import explainer

        return explainer
    except ImportError:
        pass
    try:
        from sagemaker import explainer as v2_explainer

        return v2_explainer
    except ImportError as err:
        raise KitError(
            "the SageMaker SDK is not installed: pip install 'clarify-kit[sdk]' (SDK v3) or "
            "'clarify-kit[sdk-v2]' (SDK v2, sagemaker<3)"
        ) from err


def to_sdk(explainer_config: dict[str, Any]) -> tuple[Any, list[str]]:
    """Build the SDK's ``ExplainerConfig`` (v3's ``sagemaker.core.explainer``, else v2's ``sagemaker.explainer``)
    from the kit's dict.

    Returns the object and the paths the SDK will add on its own when it writes the request (its defaults).
    """
    sdk = explainer_module()

    clarify = explainer_config["ClarifyExplainerConfig"]
    shap = clarify["ShapConfig"]
    text = shap.get("TextConfig")
    shap_args = {_snake(k): v for k, v in shap.items() if k not in ("ShapBaselineConfig", "TextConfig")}
    shap_config = sdk.ClarifyShapConfig(
        shap_baseline_config=sdk.ClarifyShapBaselineConfig(**_snake_dict(shap["ShapBaselineConfig"])),
        text_config=sdk.ClarifyTextConfig(**_snake_dict(text)) if text else None,
        **shap_args,
    )
    inference = clarify.get("InferenceConfig")
    obj = sdk.ExplainerConfig(
        clarify_explainer_config=sdk.ClarifyExplainerConfig(
            shap_config=shap_config,
            enable_explanations=clarify.get("EnableExplanations"),
            inference_config=sdk.ClarifyInferenceConfig(**_snake_dict(inference)) if inference is not None else None,
        )
    )
    written = _paths(explainer_config)
    injected = [p for p in _paths(obj._to_request_dict()) if p not in written]
    return obj, injected


def from_sdk(obj: Any) -> Conversion:
    """The kit's dict from ``sagemaker.core.explainer.ExplainerConfig``, marking values equal to SDK defaults.

    The legacy classes do not remember whether a value was passed or defaulted: a value equal to the SDK's default
    is reported in ``sdk_defaults`` (it may also have been set explicitly to that value).
    """
    request = obj._to_request_dict()
    paths = _paths(request)
    defaults = [p for p, v in SDK_DEFAULTS.items() if p in paths and paths[p] == v]
    return Conversion(request, defaults)


def to_sdk_shape(explainer_config: dict[str, Any]) -> Any:
    """Build ``sagemaker.core.shapes.ExplainerConfig`` (pydantic, no defaults injected; SDK v3 only)."""
    try:
        from sagemaker.core import shapes
    except ImportError as err:
        raise KitError(
            "sagemaker.core.shapes is SDK v3's: pip install 'clarify-kit[sdk]'; with SDK v2 use to_sdk"
        ) from err

    return shapes.ExplainerConfig(**_snake_dict(explainer_config))


def from_sdk_shape(shape: Any) -> Conversion:
    """The kit's dict from ``sagemaker.core.shapes.ExplainerConfig``; nothing there is an SDK default.

    Not through the SDK's ``serialize``: it drops falsy values, so ``UseLogit: false`` and ``ProbabilityIndex: 0``
    would be lost. The fields the user set are read from the pydantic model and named as the API names them.
    """
    return Conversion(_pascal_dict(shape.model_dump(exclude_unset=True)), [])


def _api_names() -> dict[str, str]:
    from pydantic import BaseModel

    from clarify_kit.core import _api_models

    names: dict[str, str] = {}
    for value in vars(_api_models).values():
        if isinstance(value, type) and issubclass(value, BaseModel):
            names.update({_snake(n): n for n in value.model_fields})
    return names


def _pascal_dict(value: Any, names: dict[str, str] | None = None) -> Any:
    names = names if names is not None else _api_names()
    if isinstance(value, dict):
        return {names.get(k, k): _pascal_dict(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal_dict(v, names) for v in value]
    return value
