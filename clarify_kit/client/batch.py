"""Explain a whole S3 dataset with SageMaker Batch Transform and the self-hosted explainer's image.

The Clarify explainer serves real-time endpoints only; the self-hosted explainer is in the model's own image, so
the same image explains a dataset with Batch Transform: records split by line, one record per request
(SingleRecord: each request's explanation has the whole timeout to itself), MaxConcurrentTransforms requests at once
per instance, over InstanceCount instances. Each output line is one explainer response (AssembleWith Line), which
``clarify-kit parse`` reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import KitError
from clarify_kit.core.resources import resource_names
from clarify_kit.core.s3_uri import parse_s3_uri
from clarify_kit.core.spec import ExplainerSpec

__all__ = ["BATCH_TIMEOUT_S", "BatchJob", "output_overlap", "start_batch_transform", "transform_job_request"]

# Batch Transform lets a request take up to an hour (ModelClientConfig.InvocationsTimeoutInSeconds, 1-3600).
BATCH_TIMEOUT_S = 3600


@dataclass(frozen=True)
class BatchJob:
    name: str
    arn: str
    request: dict[str, Any]


def transform_job_request(
    config: DeploymentConfig,
    *,
    input_uri: str,
    output_uri: str,
    model_name: str,
    job_name: str | None = None,
    instance_type: str | None = None,
    instance_count: int = 1,
    concurrency: int = 4,
    kms_key_id: str | None = None,
) -> dict[str, Any]:
    """The CreateTransformJob request for the deployed model ``model_name`` of ``config``.

    Raises
    ------
    KitError: the config's explainer is not self-hosted, or a URI or count is not what the API takes.
    """
    if config.ClarifyKit.Explainer != "SelfHosted":
        raise KitError(
            "Batch Transform runs the model's image, so it explains only with the self-hosted explainer: "
            "set ClarifyKit.Explainer: SelfHosted (and deploy, so that the model has its image)"
        )
    for what, uri in (("--input", input_uri), ("--output", output_uri)):
        parsed = parse_s3_uri(uri)
        if parsed is None or not uri.startswith(f"s3://{parsed.bucket}/"):
            raise KitError(f"{what} must be an s3://bucket/prefix URI, not {uri!r}")
    if not 1 <= instance_count <= 100 or not 1 <= concurrency <= 100:
        raise KitError("instance count and concurrency are 1 to 100")
    variants = [v for v in config.EndpointConfig.ProductionVariants if v.InstanceType]
    chosen_type = instance_type or (variants[0].InstanceType if variants else None)
    if not chosen_type:
        raise KitError("give --instance-type: the config has no instance-based variant to take it from")
    spec = ExplainerSpec.from_config(config)
    name = job_name or f"{resource_names(config).endpoint[:40]}-{time.strftime('%Y%m%d-%H%M%S')}"
    key = kms_key_id or config.EndpointConfig.KmsKeyId
    output: dict[str, Any] = {"S3OutputPath": output_uri, "Accept": "application/json", "AssembleWith": "Line"}
    resources: dict[str, Any] = {"InstanceType": chosen_type, "InstanceCount": instance_count}
    if key:
        output["KmsKeyId"] = key
        resources["VolumeKmsKeyId"] = key
    return {
        "TransformJobName": name,
        "ModelName": model_name,
        "MaxConcurrentTransforms": concurrency,
        "MaxPayloadInMB": spec.max_payload_mb,
        "BatchStrategy": "SingleRecord",
        "ModelClientConfig": {"InvocationsTimeoutInSeconds": BATCH_TIMEOUT_S, "InvocationsMaxRetries": 1},
        "Environment": {"CLARIFY_KIT_TIMEOUT_S": str(BATCH_TIMEOUT_S)},
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": spec.content_type,
            "SplitType": "Line",
            "CompressionType": "None",
        },
        "TransformOutput": output,
        "TransformResources": resources,
    }


def output_overlap(input_uri: str, output_uri: str) -> str | None:
    """A warning when the output prefix lies inside the input prefix (or is it): a rerun would read the job's own
    output as records. None otherwise."""
    source, target = input_uri.rstrip("/") + "/", output_uri.rstrip("/") + "/"
    if target.startswith(source):
        return (
            f"the output {output_uri} is inside the input {input_uri}: a rerun of the job would read its own "
            "output as records; write the output under another prefix"
        )
    return None


def start_batch_transform(
    sagemaker: Any, request: dict[str, Any], *, wait: bool = False, poll_s: float = 30.0
) -> BatchJob:
    """Create the job (botocore validates the request), and wait for it to end when ``wait``.

    Raises
    ------
    KitError: the job failed or stopped (its FailureReason).
    """
    arn = sagemaker.create_transform_job(**request)["TransformJobArn"]
    job = BatchJob(request["TransformJobName"], arn, request)
    while wait:
        described = sagemaker.describe_transform_job(TransformJobName=job.name)
        status = described["TransformJobStatus"]
        if status == "Completed":
            break
        if status in ("Failed", "Stopped"):
            raise KitError(f"transform job {job.name} {status.lower()}: {described.get('FailureReason', '')}")
        time.sleep(poll_s)
    return job
