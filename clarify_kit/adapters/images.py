"""Framework images by name: ``Image: {Framework: xgboost, Version: 1.7-1}`` resolved to the region's ECR URI.

Resolution uses the SageMaker SDK's offline image-URI catalogue (v3's ``sagemaker.core.image_uris.retrieve`` from
the ``sagemaker-core`` distribution, else v2's ``sagemaker.image_uris.retrieve``), imported only when a config names
an image this way: configs that give a URI never pay its import (about 1.5 s).
"""

from __future__ import annotations

import os
from typing import Any

from clarify_kit.core.config import DeploymentConfig, FrameworkImage
from clarify_kit.core.errors import ConfigError, Issue, SetupError

__all__ = ["DEFAULT_REGION", "default_region", "resolve_images"]

DEFAULT_REGION = "us-east-1"
IMAGE_PATH = "Model.PrimaryContainer.Image"


def _environment_region() -> str | None:
    for name in ("CDK_DEFAULT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return os.environ[name]
    return None


def default_region() -> str:
    """The region a config is resolved for when none is given: the CDK/AWS environment, else us-east-1."""
    for name in ("CDK_DEFAULT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return os.environ[name]
    return DEFAULT_REGION


def _known_frameworks(image_uris: Any) -> list[str]:
    from pathlib import Path

    folder = Path(image_uris.__file__).parent / "image_uri_config"
    return sorted(p.stem for p in folder.glob("*.json"))


def _image_uris() -> Any:
    """The SDK's offline image catalogue: v3's ``sagemaker.core.image_uris``, else v2's ``sagemaker.image_uris``."""
    try:
        from sagemaker.core import image_uris

        return image_uris
    except ImportError:
        pass
    try:
        from sagemaker import image_uris as v2_image_uris

        return v2_image_uris
    except ImportError as err:
        raise ConfigError(
            Issue(
                IMAGE_PATH,
                "a framework image needs the SageMaker SDK's image catalogue: pip "
                "install 'clarify-kit[sdk]' (SDK v3) or 'clarify-kit[sdk-v2]' (SDK v2), or give "
                "the image URI",
            )
        ) from err


def retrieve(reference: FrameworkImage, region: str, instance_type: str | None) -> str:
    """The ECR image URI of ``reference`` in ``region``.

    Raises
    ------
    ConfigError: unknown framework, version, Python version or region; the message lists what the catalogue knows.
    """
    image_uris = _image_uris()
    try:
        return str(
            image_uris.retrieve(
                framework=reference.Framework,
                region=region,
                version=reference.Version,
                py_version=reference.PyVersion,
                image_scope=reference.ImageScope,
                instance_type=reference.InstanceType or instance_type,
            )
        )
    except FileNotFoundError as err:
        known = ", ".join(_known_frameworks(image_uris))
        raise ConfigError(
            Issue(
                f"{IMAGE_PATH}.Framework",
                f"{reference.Framework!r} is not a framework the SDK's "
                f"image catalogue knows; known frameworks: {known}",
            )
        ) from err
    except (ValueError, KeyError, TypeError) as err:
        message = (
            str(err)
            .replace(" You may need to upgrade your SDK version (pip install -U sagemaker) for newer", " Known")
            .strip()
        )
        field = (
            "Version"
            if "version" in message.lower() and "python" not in message.lower()
            else ("PyVersion" if "python" in message.lower() else "Framework")
        )
        raise ConfigError(
            Issue(f"{IMAGE_PATH}.{field}", f"{reference.Framework} {reference.Version} in {region}: {message}")
        ) from err


def resolve_images(
    config: DeploymentConfig, region: str | None = None, *, assume_default: bool = False
) -> tuple[DeploymentConfig, str | None]:
    """Replace a framework image reference by its URI for ``region``; returns the config and the URI (or None).

    Configs whose image is a URI come back unchanged and without importing the SDK. Without ``region``, the CDK/AWS
    environment's region is used; with none there either, ``assume_default`` takes us-east-1 (the caller says so),
    else a SetupError asks for the region: an image of another region cannot be pulled by the endpoint.
    """
    container = config.container
    if container is None or not isinstance(container.Image, FrameworkImage):
        return config, None
    if region is None and not assume_default and not _environment_region():
        raise SetupError(
            "Model.PrimaryContainer.Image names a framework image: give the region it is resolved for "
            "(resolve_images(config, region), --region, or AWS_REGION); an image of another region cannot be pulled"
        )
    variants = config.EndpointConfig.ProductionVariants
    instance_type = variants[0].InstanceType if variants else None
    uri = retrieve(container.Image, region or default_region(), instance_type)
    new_container = container.model_copy(update={"Image": uri})
    if config.Model.PrimaryContainer is None:  # the one entry of Containers
        new_model = config.Model.model_copy(update={"Containers": [new_container]})
    else:
        new_model = config.Model.model_copy(update={"PrimaryContainer": new_container})
    return config.model_copy(update={"Model": new_model}), uri
