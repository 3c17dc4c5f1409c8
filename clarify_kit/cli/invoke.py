"""``clarify-kit invoke``: one InvokeEndpoint call, its predictions and attributions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from clarify_kit.cli._common import CONTENT_TYPES, endpoint_args, endpoint_client, read_body
from clarify_kit.cli.errors import EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("invoke", help="invoke an endpoint and print predictions and attributions")
    endpoint_args(p)
    p.add_argument("--body", required=True, help="the records, or @FILE")
    p.add_argument("--content-type", choices=CONTENT_TYPES)
    p.add_argument("--accept", choices=CONTENT_TYPES)
    p.add_argument("--enable-explanations", metavar="EXPR", help="JMESPath override, e.g. '`true`'")
    p.add_argument(
        "--save-response",
        metavar="FILE",
        help="write the response body, exactly as received, to FILE (for clarify-kit parse)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    client = endpoint_client(args)
    body = read_body(args.body)
    result = client.invoke(
        body,
        enable_explanations=args.enable_explanations,
        target_model=args.target_model,
        content_type=args.content_type,
        accept=args.accept,
    )
    if args.save_response:
        Path(args.save_response).write_bytes(result.body or b"")
    if args.json:
        # The service's body verbatim under "response": `clarify-kit parse` reads this output as it reads the body.
        print(
            json.dumps(
                {
                    "invoked_variant": result.invoked_variant,
                    "latency_ms": round(result.latency_ms or 0, 2),
                    "response": json.loads(result.body or b"{}"),
                    "rows": result.rows(),
                },
                indent=2,
            )
        )
    else:
        print(result.render_table())
    return EXIT_OK
