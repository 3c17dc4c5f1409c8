"""``clarify-kit batch-transform``: explain an S3 dataset with Batch Transform and the self-hosted image."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from clarify_kit.cli._common import deployed_names, url
from clarify_kit.cli.errors import EXIT_OK
from clarify_kit.core.errors import SetupError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "batch-transform",
        help="explain an S3 dataset with SageMaker Batch Transform and the "
        "self-hosted explainer's image (ClarifyKit.Explainer: SelfHosted)",
    )
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--input", required=True, metavar="S3_URI", help="s3://bucket/prefix of the records, one per line")
    p.add_argument("--output", required=True, metavar="S3_URI", help="s3://bucket/prefix for the responses")
    p.add_argument("--model-name", help="the deployed model (the stack's ModelName output)")
    p.add_argument("--cdk-outputs", metavar="FILE", help="take the model name from cdk deploy --outputs-file")
    p.add_argument("--instance-type", help="default: the config's first instance type")
    p.add_argument("--instance-count", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=4, help="requests at once per instance (default 4)")
    p.add_argument("--job-name", help="default: the endpoint name and the time")
    p.add_argument("--kms-key", help="encrypts the output and the volumes (default: the config's KmsKeyId)")
    p.add_argument("--wait", action="store_true", help="wait for the job to end")
    p.add_argument("--endpoint-url", type=url, help="SageMaker API endpoint (for tests)")
    p.add_argument("--region", help="AWS region")
    p.add_argument("--profile", help="AWS profile")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.aws import make_client
    from clarify_kit.adapters.files import load_config
    from clarify_kit.client.batch import output_overlap, start_batch_transform, transform_job_request

    config = load_config(args.config)
    overlap = output_overlap(args.input, args.output)
    if overlap:
        print(f"clarify-kit: warning: {overlap}", file=sys.stderr)
    model_name = args.model_name or deployed_names(config, args.cdk_outputs).get("model")
    if not model_name:
        raise SetupError(
            "give --model-name, or --cdk-outputs FILE from cdk deploy --outputs-file (CloudFormation names the model)"
        )
    request = transform_job_request(
        config,
        input_uri=args.input,
        output_uri=args.output,
        job_name=args.job_name,
        model_name=model_name,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        concurrency=args.concurrency,
        kms_key_id=args.kms_key,
    )
    sagemaker = make_client(
        "sagemaker", endpoint_url=args.endpoint_url, region_name=args.region, profile_name=args.profile
    )
    job = start_batch_transform(sagemaker, request, wait=args.wait)
    if args.json:
        print(json.dumps({"job": job.name, "arn": job.arn, "output": args.output, "request": request}, indent=2))
    else:
        done = "completed" if args.wait else "started"
        print(
            f"transform job {job.name} {done} -> {args.output} (one explainer response per line: "
            "clarify-kit parse FILE.out)"
        )
    return EXIT_OK
