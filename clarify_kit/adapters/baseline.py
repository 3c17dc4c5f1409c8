"""SHAP baselines kept in S3 (``ShapBaselineUri``): read with boto3's default chain, or from a local copy offline.

Inline baselines are limited to 4 KB, so real ones live in S3. The local explainer and the container precheck need
the records themselves: ``read_baseline`` fetches the object (region and credentials as every other command:
see clarify_kit.adapters.aws) or reads ``--baseline-file``, and ``ExplainerSpec.with_baseline`` carries the text
from there on.
The static precheck then checks it as the service would: its format, its width and its record count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clarify_kit.adapters.aws import make_client, setup_problem
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import ConfigError, Issue
from clarify_kit.core.s3_uri import parse_s3_uri

__all__ = ["BASELINE_URI_PATH", "MAX_BASELINE_BYTES", "baseline_for", "read_baseline"]

BASELINE_URI_PATH = (
    "EndpointConfig.ExplainerConfig.ClarifyExplainerConfig.ShapConfig.ShapBaselineConfig.ShapBaselineUri"
)
# The service documents no size limit for an S3 baseline (UNVERIFIED); every baseline record multiplies the
# synthetic dataset, so anything this large could never be explained within 60 s anyway (kit).
MAX_BASELINE_BYTES = 10 * 1024 * 1024


def baseline_for(
    config: DeploymentConfig,
    *,
    baseline_file: str | Path | None = None,
    read_s3: bool = True,
    region_name: str | None = None,
    profile_name: str | None = None,
) -> str | None:
    """The S3 baseline's text for ``config`` (None for an inline baseline, or when neither ``baseline_file`` is
    given nor ``read_s3`` allows reading the object)."""
    clarify = config.clarify
    uri = clarify.ShapConfig.ShapBaselineConfig.ShapBaselineUri if clarify else None
    if uri is None or (baseline_file is None and not read_s3):
        return None
    return read_baseline(uri, baseline_file=baseline_file, region_name=region_name, profile_name=profile_name)


def read_baseline(
    uri: str | None,
    *,
    baseline_file: str | Path | None = None,
    s3_client: Any = None,
    region_name: str | None = None,
    profile_name: str | None = None,
) -> str:
    """The baseline's text: from ``baseline_file`` when given (offline), else from the S3 object ``uri``.

    Raises
    ------
    ConfigFileError: the local file cannot be read.
    ConfigError: at ShapBaselineUri: not an s3:// object URI, the object is missing, access is denied, it is empty,
        too large or not UTF-8.
    SetupError: no region or credentials to reach S3 (the CLI exits 2).
    """
    if baseline_file is not None:
        return _local(Path(baseline_file))
    if uri is None:
        raise ConfigError(Issue(BASELINE_URI_PATH, "not set: there is no S3 baseline to read"))
    parsed = parse_s3_uri(uri)
    if parsed is None or not parsed.key:
        raise ConfigError(
            Issue(
                BASELINE_URI_PATH,
                f"{uri!r} is not an s3://bucket/key object URI the kit can read; "
                "give a local copy with --baseline-file",
            )
        )
    s3 = make_client("s3", boto3_client=s3_client, region_name=region_name, profile_name=profile_name)
    return _decode(_get(s3, parsed.bucket, parsed.key, uri), uri)


def _get(s3: Any, bucket: str, key: str, uri: str) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_BASELINE_BYTES}")
        return bytes(response["Body"].read())
    except ClientError as err:
        problem = setup_problem(err)
        if problem is not None:
            raise problem from err
        code = err.response.get("Error", {}).get("Code", "")
        if code == "InvalidRange":  # a range on an empty object: it has no bytes
            return b""
        reason = {
            "NoSuchKey": "the object does not exist",
            "NoSuchBucket": "the bucket does not exist",
            "AccessDenied": "access is denied (the deploying role, and the model's execution role, need "
            "s3:GetObject on it)",
        }.get(code, f"{code}: {err.response.get('Error', {}).get('Message', err)}")
        raise ConfigError(Issue(BASELINE_URI_PATH, f"{uri}: {reason}")) from err
    except BotoCoreError as err:
        problem = setup_problem(err)
        if problem is not None:
            raise problem from err
        raise ConfigError(Issue(BASELINE_URI_PATH, f"{uri}: cannot be read: {err}")) from err


def _local(path: Path) -> str:
    """A local copy of the baseline: a regular file (a FIFO or /dev/zero is refused at once), within the cap."""
    from clarify_kit.adapters.files import read_text

    return read_text(path, what="baseline file", max_bytes=MAX_BASELINE_BYTES)


def _decode(raw: bytes, where: str) -> str:
    if len(raw) > MAX_BASELINE_BYTES:
        raise ConfigError(
            Issue(
                BASELINE_URI_PATH,
                f"{where}: larger than {MAX_BASELINE_BYTES // 2**20} MiB; every "
                "baseline record multiplies the synthetic dataset: a few records (cluster centres, "
                "means) are what the explainer can use within 60 s",
            )
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(
            Issue(BASELINE_URI_PATH, f"{where}: not UTF-8 text ({err.reason} at byte {err.start})")
        ) from err
    if not text.strip():
        raise ConfigError(Issue(BASELINE_URI_PATH, f"{where}: the baseline is empty; it needs at least one record"))
    return text
