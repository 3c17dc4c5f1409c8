"""Generate clarify_kit/core/_api_models.py and _api_limits.py from botocore's SageMaker service models.

Every limit of the request shapes the kit writes (CreateModel, CreateEndpointConfig, CreateEndpoint) comes
from the service model, never typed by hand: lengths, ranges, list sizes, enums and patterns. So do the
InvokeEndpoint members' limits and header names (SageMaker Runtime) and the bounds of the Clarify shapes the kit's
own code needs as numbers (``_api_limits``, re-exported with their sources by ``clarify_kit.core.limits``). Run
``python tools/gen_api_models.py`` after bumping botocore; a test fails when a committed file is stale.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.session
from botocore.model import Shape, StructureShape

CORE = Path(__file__).resolve().parent.parent / "clarify_kit" / "core"
OUT = CORE / "_api_models.py"
LIMITS_OUT = CORE / "_api_limits.py"
# The SageMaker shapes whose bounds the kit's code uses as numbers (not only through the pydantic models).
LIMIT_SHAPES = (
    "ClarifyMaxPayloadInMB",
    "ClarifyEnableExplanations",
    "ClarifyHeader",
    "ClarifyLabelHeaders",
    "ClarifyFeatureHeaders",
    "ClarifyShapBaseline",
    "ClarifyContentTemplate",
    "EndpointName",
)
# Members that are required by the API but optional in the config file: the kit generates the names (a pasted
# boto3 request may still carry them; the precheck says they are ignored) and defaults the endpoint name.
MADE_OPTIONAL = {
    "CreateModelInput": {"ModelName"},
    "CreateEndpointConfigInput": {"EndpointConfigName"},
    "CreateEndpointInput": {"EndpointName", "EndpointConfigName"},
}
ROOTS = {
    "CreateModelInput": "ModelSpec",
    "CreateEndpointConfigInput": "EndpointConfigSpec",
    "CreateEndpointInput": "EndpointSpec",
}
ROOT_DOCS = {
    "ModelSpec": "The CreateModel request; ModelName is optional and ignored (the kit names the model).",
    "EndpointConfigSpec": "The CreateEndpointConfig request; EndpointConfigName is optional and ignored.",
    "EndpointSpec": "The CreateEndpoint request; EndpointName is optional, EndpointConfigName ignored.",
}
# The ranges of the service model's integer types (Java int and long).
INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
# Java character classes that Python's re lacks, rewritten to their nearest Python equivalent.
JAVA_CLASSES = {r"\p{L}\p{Z}\p{N}": r"\w\s", r"\p{ASCII}": r"\x00-\x7f", r"\p{Print}": r"\x20-\x7e"}


def _doc(shape_or_doc: Any) -> str:
    text = shape_or_doc if isinstance(shape_or_doc, str) else shape_or_doc.documentation
    text = html.unescape(re.sub(r"<[^>]+>", " ", text or ""))
    text = " ".join(text.split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return first[:300]


def _pattern(raw: str) -> str:
    for java, py in JAVA_CLASSES.items():
        raw = raw.replace(java, py)
    return raw


class Generator:
    def __init__(self) -> None:
        self.model = botocore.session.get_session().get_service_model("sagemaker")
        self.emitted: dict[str, str] = {}
        self.order: list[str] = []

    def class_name(self, shape: Shape) -> str:
        return ROOTS.get(shape.name, shape.name)

    def _string(self, shape: Shape) -> str:
        if shape.enum:  # type: ignore[attr-defined]
            return "Literal[" + ", ".join(repr(v) for v in shape.enum) + "]"  # type: ignore[attr-defined]
        meta = shape.metadata
        args = self._bounds(meta, "length")
        if "pattern" in meta:
            args += (", " if args else "") + f"pattern={_anchored(_pattern(meta['pattern']))!r}"
        return f"Annotated[StrictStr, Field({args})]" if args else "StrictStr"

    def annotation(self, shape: Shape) -> str:
        meta = shape.metadata
        kind = shape.type_name
        if kind == "structure":
            self.emit(shape)  # type: ignore[arg-type]
            # A private alias: a member named like its own class would shadow the class inside the body.
            return "_" + self.class_name(shape)
        if kind == "list":
            inner = self.annotation(shape.member)  # type: ignore[attr-defined]
            return f"Annotated[list[{inner}], Field({self._bounds(meta, 'length')})]"
        if kind == "map":
            key = self.annotation(shape.key)  # type: ignore[attr-defined]
            value = self.annotation(shape.value)  # type: ignore[attr-defined]
            return f"Annotated[dict[{key}, {value}], Field({self._bounds(meta, 'length')})]"
        if kind == "string":
            return self._string(shape)
        if kind in ("integer", "long"):
            # The service's integers are 32-bit (long: 64-bit); without a stated bound, the type's own applies,
            # so that a value the API would reject is an error at precheck, not at deploy.
            low, high = INT_RANGES[kind]
            bounds = {"min": low, "max": high, **{k: v for k, v in meta.items() if k in ("min", "max")}}
            return f"Annotated[StrictInt, Field({self._bounds(bounds, 'value')})]"
        if kind in ("float", "double"):
            args = self._bounds(meta, "value")
            return f"Annotated[StrictFloat, Field({args})]" if args else "StrictFloat"
        if kind == "boolean":
            return "StrictBool"
        if kind == "timestamp":
            return "StrictStr"
        raise SystemExit(f"unsupported shape type {kind} for {shape.name}")

    @staticmethod
    def _bounds(meta: dict[str, Any], what: str) -> str:
        names = ("min_length", "max_length") if what == "length" else ("ge", "le")
        parts = []
        if "min" in meta:
            parts.append(f"{names[0]}={meta['min']!r}")
        if "max" in meta:
            parts.append(f"{names[1]}={meta['max']!r}")
        return ", ".join(parts)

    def emit(self, shape: StructureShape) -> None:
        name = self.class_name(shape)
        if name in self.emitted:
            return
        self.emitted[name] = ""  # mark before recursing (recursive shapes)
        optional = MADE_OPTIONAL.get(shape.name, set())
        required = set(shape.required_members) - optional
        lines = [f"class {name}(_ApiModel):", f'    """{ROOT_DOCS.get(name) or _doc(shape) or name}"""', ""]
        for member, mshape in shape.members.items():
            ann = self.annotation(mshape)
            desc = _doc(shape.members[member]) or _doc(mshape)
            field_args = f"description={desc!r}" if desc else ""
            if member in required:
                lines.append(f"    {member}: {ann} = Field({field_args})")
            else:
                lines.append(f"    {member}: {ann} | None = Field(None{', ' if field_args else ''}{field_args})")
        lines.append(f"\n\n_{name} = {name}")
        self.emitted[name] = "\n".join(lines)
        self.order.append(name)

    def render(self) -> str:
        for op in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint"):
            self.emit(self.model.operation_model(op).input_shape)  # type: ignore[arg-type]
        head = f'''"""SageMaker request shapes as pydantic models, generated from botocore {botocore.__version__}.

Do not edit: run ``python tools/gen_api_models.py``. Limits are the service model's own (min/max, enums and
patterns, anchored to the whole value as the service applies them). This module imports no hand-written module;
clarify_kit.core.config extends these classes where the kit widens a member.
"""
# ruff: noqa: E501
# fmt: off

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re", defer_build=True)

'''
        body = "\n\n\n".join(self.emitted[n] for n in self.order)
        return head + "\n" + body + "\n"


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})\\Z"


def render_limits() -> str:
    """The InvokeEndpoint members (location name, min, max) and the bounds of LIMIT_SHAPES, as Python literals."""
    session = botocore.session.get_session()
    invoke = session.get_service_model("sagemaker-runtime").operation_model("InvokeEndpoint").input_shape
    members = {
        name: (
            m.serialization.get("name") if m.serialization.get("location") == "header" else None,
            m.metadata.get("min"),
            m.metadata.get("max"),
        )
        for name, m in invoke.members.items()
    }  # type: ignore[union-attr]
    sagemaker = session.get_service_model("sagemaker")
    bounds = {
        name: (sagemaker.shape_for(name).metadata.get("min"), sagemaker.shape_for(name).metadata.get("max"))
        for name in LIMIT_SHAPES
    }
    rows = "\n".join(f"    {k!r}: {v!r}," for k, v in members.items())
    shapes = "\n".join(f"    {k!r}: {v!r}," for k, v in bounds.items())
    cfn_version, cfn_properties = _cfn_endpoint_config()
    cfn = "\n".join(f"    {name!r}," for name in cfn_properties)
    return f'''"""Service limits the kit uses as numbers, generated from botocore {botocore.__version__}'s models.

Do not edit: run ``python tools/gen_api_models.py``. clarify_kit.core.limits re-exports them with their sources.
"""
# fmt: off

# InvokeEndpoint's members (SageMaker Runtime): name -> (HTTP header or None, min length, max length or bytes).
INVOKE_ENDPOINT: dict[str, tuple[str | None, int | None, int | None]] = {{
{rows}
}}

# SageMaker shapes: name -> (min, max) (a length, a count or a value, as the shape is a string, a list or a number).
SHAPES: dict[str, tuple[int | None, int | None]] = {{
{shapes}
}}

# The properties of CloudFormation's AWS::SageMaker::EndpointConfig (cfn-lint {cfn_version}'s schema, us-east-1): a
# CreateEndpointConfig member outside them cannot be rendered by the kit's stack.
CFN_SCHEMA = "cfn-lint {cfn_version}"
CFN_ENDPOINT_CONFIG_PROPERTIES: frozenset[str] = frozenset({{
{cfn}
}})
'''


def _cfn_endpoint_config() -> tuple[str, list[str]]:
    """cfn-lint's version and the properties of its AWS::SageMaker::EndpointConfig schema."""
    from importlib.metadata import version

    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::SageMaker::EndpointConfig")
    return version("cfn-lint"), sorted(schema.schema["properties"])


def main() -> int:
    outputs = {OUT: Generator().render(), LIMITS_OUT: render_limits()}
    if "--check" in sys.argv:
        return 0 if all(path.read_text() == text for path, text in outputs.items()) else 1
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
