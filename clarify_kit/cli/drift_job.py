"""``clarify-kit drift-job`` and ``drift-partial``: drift over windows beyond one machine, as a Processing job."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path
from typing import Any

from clarify_kit.cli._common import url
from clarify_kit.cli.errors import EXIT_OK
from clarify_kit.core.drift_partial import AGGREGATIONS, DEFAULT_AGGREGATION
from clarify_kit.core.errors import KitError, SetupError
from clarify_kit.core.safe_text import terminal_safe


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "drift-job",
        help="read a large capture window with a SageMaker Processing job (one partial per instance, merged by drift)",
    )
    p.add_argument("--capture", required=True, metavar="S3_URI", help="the window: s3://bucket/prefix of capture")
    p.add_argument("--output", required=True, metavar="S3_URI", help="s3://bucket/prefix for the partial results")
    p.add_argument("--image", required=True, metavar="URI", help="the self-hosted explainer's image (its runtime)")
    p.add_argument("--role", required=True, metavar="ARN", help="the job's execution role")
    p.add_argument("--instance-type", default="ml.m5.xlarge")
    p.add_argument("--instance-count", type=int, default=1, help="instances; the capture files are sharded by key")
    p.add_argument("--kms-key", help="encrypts the volumes and the partials")
    p.add_argument("--job-name", help="default: clarify-kit-drift- and the time")
    p.add_argument("--dry-run", action="store_true", help="print the request (validated by botocore) and stop")
    p.add_argument("--endpoint-url", type=url, help="SageMaker API endpoint (for tests)")
    p.add_argument("--region", help="AWS region")
    p.add_argument("--profile", help="AWS profile")
    p.set_defaults(func=run)
    q = sub.add_parser(
        "drift-partial",
        help="the partial drift result of a capture window (what each drift-job instance runs)",
    )
    q.add_argument("source", help="capture directory, file or s3:// prefix")
    q.add_argument("output", help="a directory: writes partial-<host>.partial.json there")
    q.add_argument(
        "--config",
        metavar="CONFIG",
        help="the endpoint's deployment config: predictions are read with its score selector (as drift --config)",
    )
    q.add_argument(
        "--aggregation", choices=AGGREGATIONS, default=DEFAULT_AGGREGATION, help="global attribution per feature"
    )
    q.set_defaults(func=run_partial)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.aws import make_client
    from clarify_kit.client.drift_job import processing_job_request, start_processing_job

    try:
        request = processing_job_request(
            capture_uri=args.capture,
            output_uri=args.output,
            image_uri=args.image,
            role_arn=args.role,
            job_name=args.job_name,
            instance_type=args.instance_type,
            instance_count=args.instance_count,
            kms_key_id=args.kms_key,
        )
    except KitError as err:
        raise SetupError(str(err)) from None
    sagemaker = make_client(
        "sagemaker", region_name=args.region, profile_name=args.profile, endpoint_url=args.endpoint_url
    )
    if args.dry_run:
        from botocore.validate import validate_parameters

        model = sagemaker.meta.service_model.operation_model("CreateProcessingJob").input_shape
        validate_parameters(request, model)
        print(json.dumps(request, indent=2))
        return EXIT_OK
    job = start_processing_job(sagemaker, request)
    print(json.dumps({"ProcessingJobName": job.name, "ProcessingJobArn": job.arn}, indent=2))
    return EXIT_OK


def _host() -> str:
    """The instance's name in a Processing job (algo-1, algo-2...), else this machine's."""
    config = Path("/opt/ml/config/resourceconfig.json")
    try:
        return str(json.loads(config.read_text())["current_host"])
    except (OSError, ValueError, KeyError):
        return socket.gethostname()


def run_partial(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.capture import read_window

    selector = None
    if args.config:
        from clarify_kit.adapters.files import load_config
        from clarify_kit.core.spec import ExplainerSpec

        selector = ExplainerSpec.from_config(load_config(args.config)).selector
    try:
        part = read_window(args.source, selector=selector, aggregation=args.aggregation)
    except KitError as err:
        raise SetupError(str(err)) from None
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"partial-{_host()}.partial.json"
    target.write_text(json.dumps(part.as_dict()), encoding="utf-8")
    print(terminal_safe(f"{part.lines} lines, {part.explained} explained records -> {target}"))
    return EXIT_OK
