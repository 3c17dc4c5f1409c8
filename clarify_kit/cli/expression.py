"""``clarify-kit expression``: evaluate an EnableExplanations expression on one container output record."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clarify_kit.cli._common import CONTENT_TYPES
from clarify_kit.cli.errors import EXIT_FAILED, EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("expression", help="evaluate an EnableExplanations expression on one container output record")
    p.add_argument("expression", help="JMESPath, e.g. '[0]>`0.5`'")
    p.add_argument("--output", required=True, help="one container output record, e.g. '1,0.6'")
    p.add_argument("--content-type", choices=CONTENT_TYPES, default="text/csv", help="format of --output")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.core.codecs import deserialize_output_record
    from clarify_kit.core.expressions import check_length, evaluate, lint

    check_length(args.expression)
    problems = lint(args.expression)
    record = deserialize_output_record(args.output, args.content_type)
    result = evaluate(args.expression, record)
    if args.json:
        print(
            json.dumps(
                {
                    "expression": args.expression,
                    "record": record,
                    "value": result.value,
                    "is_boolean": result.is_boolean,
                    "problems": problems,
                }
            )
        )
    else:
        print(f"record as the explainer sees it: {json.dumps(record)}")
        print(f"{args.expression} -> {result.describe()}")
        for problem in problems:
            print(f"! {problem}")
    return EXIT_OK if result.is_boolean and not problems else EXIT_FAILED
