"""Drift over windows beyond one machine: a SageMaker Processing job whose instances each read a shard of the
capture prefix (ShardedByS3Key) with the self-hosted explainer image's runtime and write a partial result; the
partials merge exactly (``clarify-kit drift BASELINE s3://.../partials/``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from clarify_kit.core.errors import KitError
from clarify_kit.core.s3_uri import parse_s3_uri

__all__ = ["ProcessingJob", "processing_job_request", "start_processing_job"]

INPUT = "/opt/ml/processing/input/capture"
OUTPUT = "/opt/ml/processing/output"
# The self-hosted image's own interpreter, isolated from the base image's (clarify_kit.explainer.image).
ENTRYPOINT = ["/opt/clarify-kit/venv/bin/python", "-I", "-m", "clarify_kit", "drift-partial", INPUT, OUTPUT]


@dataclass(frozen=True)
class ProcessingJob:
    name: str
    arn: str
    request: dict[str, Any]


def processing_job_request(
    *,
    capture_uri: str,
    output_uri: str,
    image_uri: str,
    role_arn: str,
    job_name: str | None = None,
    instance_type: str = "ml.m5.xlarge",
    instance_count: int = 1,
    kms_key_id: str | None = None,
    max_runtime_s: int = 3600,
) -> dict[str, Any]:
    """The CreateProcessingJob request: the capture prefix sharded over ``instance_count`` instances, each writing
    ``partial-<host>.partial.json`` under ``output_uri``; no network access, volumes and output encrypted.

    Raises
    ------
    KitError: a location is not an s3:// URI, or the output lies inside the capture prefix.
    """
    for name, uri in (("--capture", capture_uri), ("--output", output_uri)):
        if parse_s3_uri(uri) is None:
            raise KitError(f"{name} must be an s3://bucket/prefix URI, not {uri!r}")
    if (output_uri.rstrip("/") + "/").startswith(capture_uri.rstrip("/") + "/"):
        raise KitError(
            f"--output {output_uri} is inside --capture {capture_uri}: the partials would be read as capture"
        )
    if instance_count < 1:
        raise KitError(f"--instance-count must be 1 or more, not {instance_count}")
    name = job_name or f"clarify-kit-drift-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    cluster: dict[str, Any] = {"InstanceCount": instance_count, "InstanceType": instance_type, "VolumeSizeInGB": 30}
    outputs: dict[str, Any] = {
        "Outputs": [
            {
                "OutputName": "partials",
                "S3Output": {"S3Uri": output_uri, "LocalPath": OUTPUT, "S3UploadMode": "EndOfJob"},
            }
        ]
    }
    if kms_key_id:
        cluster["VolumeKmsKeyId"] = kms_key_id
        outputs["KmsKeyId"] = kms_key_id
    return {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            {
                "InputName": "capture",
                "S3Input": {
                    "S3Uri": capture_uri,
                    "LocalPath": INPUT,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "ShardedByS3Key",
                },
            }
        ],
        "ProcessingOutputConfig": outputs,
        "ProcessingResources": {"ClusterConfig": cluster},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_s},
        "AppSpecification": {"ImageUri": image_uri, "ContainerEntrypoint": list(ENTRYPOINT)},
        "NetworkConfig": {"EnableNetworkIsolation": True},
        "RoleArn": role_arn,
    }


def start_processing_job(sagemaker: Any, request: dict[str, Any]) -> ProcessingJob:
    """Create the job (botocore validates the request first)."""
    arn = sagemaker.create_processing_job(**request)["ProcessingJobArn"]
    return ProcessingJob(request["ProcessingJobName"], arn, request)
