"""``clarify-kit schema``: the JSON Schema of the deployment config, for editors."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clarify_kit.cli.errors import EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the deployment config")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.core.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK
