"""``clarify-kit verify-deployment``: after a deploy, the endpoint runs what was deployed."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clarify_kit.cli._common import url
from clarify_kit.cli.errors import EXIT_FAILED, EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "verify-deployment", help="after a deploy: InService on the expected config, multi-AZ, explainer in force"
    )
    p.add_argument("endpoint_name", metavar="ENDPOINT_NAME")
    p.add_argument(
        "--expected-config",
        required=True,
        metavar="NAME",
        help="the EndpointConfigName just deployed (stack output EndpointConfigName)",
    )
    p.add_argument("--config", help="the deployment config whose ExplainerConfig must be in force")
    p.add_argument("--endpoint-url", type=url, help="SageMaker API endpoint (e.g. a moto server)")
    p.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)")
    p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default credential chain)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.files import load_config
    from clarify_kit.client.verify import verify_deployment

    config = load_config(args.config) if args.config else None
    report = verify_deployment(
        args.endpoint_name,
        args.expected_config,
        config=config,
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        profile_name=args.profile,
    )
    print(json.dumps({"ok": report.ok, "checks": report.checks}, indent=2) if args.json else report.render())
    return EXIT_OK if report.ok else EXIT_FAILED
