"""The ``clarify-kit`` command line: parses arguments, calls the library, prints, maps errors to exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from clarify_kit.errors import ConfigFileError, KitError

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CONTENT_TYPES = ("text/csv", "application/jsonlines")


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


# --- commands ----------------------------------------------------------------------------------------------------


def _cmd_precheck(args: argparse.Namespace) -> int:
    from precheck import precheck_file

    try:
        report, _ = precheck_file(args.config, container_url=args.container_url)
    except ConfigFileError as err:
        if args.json:
            print(json.dumps({"ok": False, "errors": [{"path": "", "message": str(err)}], "warnings": [],
                              "synthetic_dataset": None}, indent=2))
        else:
            print(f"clarify-kit: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(report.to_json() if args.json else report.render(color=_color()))
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_expression(args: argparse.Namespace) -> int:
    from clarify_kit.codecs import deserialize_output_record
    from clarify_kit.expressions import evaluate, lint

    problems = lint(args.expression)
    record = deserialize_output_record(args.output, args.content_type)
    result = evaluate(args.expression, record)
    if args.json:
        print(json.dumps({"expression": args.expression, "record": record, "value": result.value,
                          "is_boolean": result.is_boolean, "problems": problems}))
    else:
        print(f"record as the explainer sees it: {json.dumps(record)}")
        print(f"{args.expression} -> {result.describe()}")
        for problem in problems:
            print(f"! {problem}")
    return EXIT_OK if result.is_boolean and not problems else EXIT_FAILED


def _cmd_serve_local(args: argparse.Namespace) -> int:
    from clarify_kit.config import load_config
    from precheck.local_endpoint import serve

    config = load_config(args.config)
    serve(config, args.model_url, host=args.host, port=args.port, endpoint_name=args.endpoint_name)
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from clarify_kit.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clarify-kit",
        description="Deploy, precheck, invoke and smoke-test SageMaker endpoints with Clarify online explainability.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("precheck", help="check a deployment config (and optionally its container) before release")
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--container-url", help="also probe the model container at this URL (e.g. http://127.0.0.1:8080)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_precheck)

    p = sub.add_parser("expression", help="evaluate an EnableExplanations expression on one container output record")
    p.add_argument("expression", help="JMESPath, e.g. '[0]>`0.5`'")
    p.add_argument("--output", required=True, help="one container output record, e.g. '1,0.6'")
    p.add_argument("--content-type", choices=CONTENT_TYPES, default="text/csv", help="format of --output")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_expression)

    p = sub.add_parser("schema", help="print the JSON Schema of the deployment config")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("serve-local", help="serve the config's endpoint locally: SageMaker Runtime API + explainer")
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--model-url", required=True, help="the model container, e.g. http://127.0.0.1:8080")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--endpoint-name", help="default: Endpoint.EndpointName of the config")
    p.set_defaults(func=_cmd_serve_local)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clarify-kit`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except KitError as err:
        print(f"clarify-kit: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
