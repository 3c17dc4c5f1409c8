"""Framework images are resolved for a region someone named, never silently for us-east-1."""

from __future__ import annotations

import pytest

from clarify_kit.adapters.images import resolve_images
from clarify_kit.core.config import config_from_dict
from clarify_kit.core.errors import SetupError
from tests.helpers import example_dict


def test_a_framework_image_without_any_region_asks_for_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CDK_DEFAULT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    data = example_dict("binary")
    data["Model"]["PrimaryContainer"]["Image"] = {"Framework": "xgboost", "Version": "1.7-1"}
    with pytest.raises(SetupError, match="give the region it is resolved for"):
        resolve_images(config_from_dict(data))
    # a URI needs no region, and the precheck's own call says which default it assumed
    assert resolve_images(config_from_dict(example_dict("binary"))) == (config_from_dict(example_dict("binary")), None)
