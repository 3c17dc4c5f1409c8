"""``clarify-kit parse``: a saved explainer response as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from clarify_kit.cli.errors import EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("parse", help="parse a saved explainer response body")
    p.add_argument("response", help="the response JSON file, or - for standard input")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("--config", help="the deployment config (score selectors, label headers)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.client.result import parse_saved
    from clarify_kit.core.spec import ExplainerSpec

    spec = None
    if args.config:
        from clarify_kit.adapters.files import load_config

        spec = ExplainerSpec.from_config(load_config(args.config))
    data = sys.stdin.buffer.read() if args.response == "-" else Path(args.response).read_bytes()
    result = parse_saved(data, spec)
    for warning in result.warnings:
        print(f"clarify-kit: warning: {warning}", file=sys.stderr)
    if args.format == "json" or args.json:
        print(json.dumps(result.rows(), indent=2))
    elif args.format == "csv":
        result.write_csv(sys.stdout)
    else:
        print(result.render_table())
    return EXIT_OK
