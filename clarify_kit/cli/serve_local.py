"""``clarify-kit serve-local``: the config's endpoint served locally, SageMaker Runtime API and explainer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from clarify_kit.cli._common import port, url
from clarify_kit.cli.errors import EXIT_INTERRUPTED


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve-local", help="serve the config's endpoint locally: SageMaker Runtime API + explainer")
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--model-url", type=url, required=True, help="the model container, e.g. http://127.0.0.1:8080")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port, default=8081, help="TCP port, 1 to 65535 (default 8081)")
    p.add_argument("--endpoint-name", help="default: Endpoint.EndpointName of the config")
    p.add_argument(
        "--baseline-file",
        metavar="PATH",
        help="a local copy of the S3 baseline (ShapBaselineUri); without it the object is read from S3",
    )
    p.add_argument(
        "--capture-dir",
        metavar="DIR",
        help="write data capture files here as SageMaker writes them to S3 (ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl; "
        "sampling and modes from ClarifyKit.DataCapture or EndpointConfig.DataCaptureConfig)",
    )
    p.add_argument("--region", help="AWS region to read an S3 baseline in (default: the AWS environment's)")
    p.add_argument("--profile", help="AWS profile to read an S3 baseline with")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.baseline import baseline_for
    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.endpoint import serve

    config = load_config(args.config)
    baseline_text = baseline_for(
        config, baseline_file=args.baseline_file, region_name=args.region, profile_name=args.profile
    )
    serve(
        config,
        args.model_url,
        host=args.host,
        port=args.port,
        endpoint_name=args.endpoint_name,
        baseline_text=baseline_text,
        capture_dir=Path(args.capture_dir) if args.capture_dir else None,
    )
    return EXIT_INTERRUPTED  # it serves until a signal stops it
