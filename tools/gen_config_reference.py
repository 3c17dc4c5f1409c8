"""Render the config reference (README "Configure") from the JSON Schema, with every default.

python tools/gen_config_reference.py          # rewrite the README section
python tools/gen_config_reference.py --check  # exit 1 when the README is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme_section import update  # noqa: E402

from clarify_kit.core.config import json_schema  # noqa: E402

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "mapping"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop:
        return " or ".join(_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null")
    if prop.get("type") == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    return {"integer": "integer", "number": "number", "string": "string", "boolean": "boolean"}.get(
        prop.get("type", ""), prop.get("type", "any")
    )


def _rows(model: dict[str, Any], defs: dict[str, Any], prefix: str) -> list[str]:
    rows = []
    for name, prop in model.get("properties", {}).items():
        ref = prop.get("$ref") or next((p.get("$ref") for p in prop.get("anyOf", []) if "$ref" in p), None)
        path = f"{prefix}.{name}"
        if ref and ref.rsplit("/", 1)[-1] in defs and prefix.startswith("ClarifyKit"):
            rows.extend(_rows(defs[ref.rsplit("/", 1)[-1]], defs, path))
            continue
        default = prop.get("default", "")
        shown = json.dumps(default) if default not in ("", None) else ("—" if default == "" else "null")
        description = (prop.get("description") or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{path}` | {_type(prop, defs)} | {shown} | {description} |")
    return rows


def render() -> str:
    schema = json_schema()
    defs = schema["$defs"]
    lines = [
        START,
        "",
        "`Model`, `EndpointConfig` and `Endpoint` are the SageMaker requests `CreateModel`, "
        "`CreateEndpointConfig` and `CreateEndpoint`, PascalCase, with every member and limit of the API "
        "(generated from botocore's service model), minus the names the kit generates (`ModelName`, "
        "`EndpointConfigName`, a variant's `ModelName`). `ExplainerConfig` is exactly the dict boto3's "
        "`create_endpoint_config` takes. `clarify-kit schema` prints the full JSON Schema for editors.",
        "",
        "The kit's own settings, all optional:",
        "",
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    lines.extend(_rows(defs["KitSettings"], defs, "ClarifyKit"))
    lines += ["", END]
    return "\n".join(lines)


def main() -> int:
    return update(START, END, render())


if __name__ == "__main__":
    raise SystemExit(main())
