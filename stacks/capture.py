"""Data capture into a bucket the stack creates (ClarifyKit.DataCapture): KMS, no public access, TLS only, logged."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig

__all__ = ["capture_bucket", "capture_config"]

CAPTURE_PREFIX = "capture"


def capture_bucket(scope: Construct, config: DeploymentConfig, key: kms.IKey | None) -> s3.Bucket | None:
    """The data-capture bucket, when ClarifyKit.DataCapture asks for one and the config names no destination."""
    settings = config.ClarifyKit.DataCapture
    if not settings.Enabled or config.EndpointConfig.DataCaptureConfig is not None:
        return None
    logs = s3.Bucket(
        scope,
        "CaptureAccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    )
    return s3.Bucket(
        scope,
        "CaptureBucket",
        encryption_key=key,
        encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        server_access_logs_bucket=logs,
        server_access_logs_prefix="capture-bucket/",
    )


def capture_config(config: DeploymentConfig, bucket: s3.IBucket | None, key: kms.IKey | None) -> dict[str, Any] | None:
    """The EndpointConfig's DataCaptureConfig for the kit's bucket (None without one)."""
    if bucket is None:
        return None
    settings = config.ClarifyKit.DataCapture
    capture: dict[str, Any] = {
        "EnableCapture": True,
        "InitialSamplingPercentage": settings.InitialSamplingPercentage,
        "DestinationS3Uri": f"s3://{bucket.bucket_name}/{CAPTURE_PREFIX}",
        "CaptureOptions": [{"CaptureMode": mode} for mode in settings.CaptureModes],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/jsonlines", "application/json"],
        },
    }
    if key is not None:
        capture["KmsKeyId"] = key.key_arn
    return capture
