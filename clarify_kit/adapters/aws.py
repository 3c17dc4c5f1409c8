"""The one place boto3 clients are made: region, profile, credentials, retries and endpoint URL, resolved once.

Region, in the AWS CLI v2's order: the explicit ``region_name`` (``--region``), ``AWS_REGION`` (set by CodeBuild,
GitHub Actions and Lambda), ``AWS_DEFAULT_REGION``, then the profile's ``region``. Against a loopback endpoint URL
(the kit's local endpoint, a moto server) no region or credentials are needed: any region and dummy credentials
are used when none are configured. Nothing here runs at import; boto3 is imported on first use.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Any
from urllib.parse import urlparse

from clarify_kit.core.errors import SetupError
from clarify_kit.core.limits import CLIENT_READ_TIMEOUT_S

__all__ = ["default_config", "is_loopback", "make_client", "make_session", "resolve_region", "setup_problem"]

# Any region will do for a loopback endpoint; this one is named in messages and requests only.
_LOCAL_REGION = "us-east-1"
_LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
# Service error codes that mean the caller's credentials are stale, not that the call was wrong.
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}


def is_loopback(endpoint_url: str | None) -> bool:
    """Whether ``endpoint_url`` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    if not endpoint_url:
        return False
    host = urlparse(endpoint_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_config(*, read_timeout: float = CLIENT_READ_TIMEOUT_S, max_attempts: int = 4) -> Any:
    """The kit's botocore config: adaptive retries, a read timeout above the 60 s invoke limit, TCP keep-alive."""
    from botocore.config import Config

    return Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        read_timeout=read_timeout,
        connect_timeout=10,
        tcp_keepalive=True,
    )


def make_session(profile_name: str | None = None) -> Any:
    """A boto3 session for ``profile_name``; an unknown profile is a SetupError that says how to list them."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile_name)
    except ProfileNotFound as err:
        raise SetupError(
            f"the AWS profile {profile_name!r} is not in your AWS config or credentials files "
            "(~/.aws/config, ~/.aws/credentials); `aws configure list-profiles` lists them"
        ) from err


def resolve_region(region_name: str | None, session: Any = None, *, endpoint_url: str | None = None) -> str:
    """The region a client uses; raises SetupError naming --region and AWS_REGION when nothing gives one."""
    region = (
        region_name
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or (session.region_name if session is not None else None)
    )
    if region:
        return str(region)
    if is_loopback(endpoint_url):
        return _LOCAL_REGION
    raise SetupError(
        "no AWS region is configured: pass --region (or region_name=), or set AWS_REGION or "
        "AWS_DEFAULT_REGION, or give your profile a region"
    )


def make_client(
    service: str,
    *,
    boto3_client: Any = None,
    boto3_session: Any = None,
    boto_config: Any = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    profile_name: str | None = None,
    read_timeout: float = CLIENT_READ_TIMEOUT_S,
) -> Any:
    """A boto3 client for ``service`` (returned as is when ``boto3_client`` is given).

    Parameters
    ----------
    boto3_session: the session to use; default: a new one for ``profile_name``.
    boto_config: merged over the kit's default config (adaptive retries, ``read_timeout``).
    endpoint_url: e.g. the local endpoint; on loopback no region or credentials are needed.

    Raises
    ------
    SetupError: unknown profile, or no region and no loopback endpoint.
    """
    if boto3_client is not None:
        return boto3_client
    session = boto3_session or make_session(profile_name)
    config = default_config(read_timeout=read_timeout)
    kwargs: dict[str, Any] = {
        "config": config.merge(boto_config) if boto_config is not None else config,
        "region_name": resolve_region(region_name, session, endpoint_url=endpoint_url),
    }
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
        if is_loopback(endpoint_url) and session.get_credentials() is None:
            kwargs.update(_LOCAL_CREDENTIALS)
    return session.client(service, **kwargs)


def setup_problem(err: BaseException) -> SetupError | None:
    """The SetupError for a botocore failure that is about the caller's setup (region, profile, credentials, an
    expired token), with the fix; None for any other error."""
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return None
    if isinstance(err, exceptions.NoRegionError):
        return SetupError("no AWS region is configured: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
    if isinstance(err, (exceptions.NoCredentialsError, exceptions.PartialCredentialsError)):
        return SetupError(
            "no AWS credentials found: set a profile (--profile, AWS_PROFILE) or AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY; against a local endpoint, pass --endpoint-url"
        )
    if isinstance(err, exceptions.ProfileNotFound):
        return SetupError(f"{err}; `aws configure list-profiles` lists the profiles")
    if isinstance(err, (exceptions.TokenRetrievalError, exceptions.SSOTokenLoadError)):
        return SetupError(f"the AWS credentials have expired or cannot be loaded ({err}); log in again")
    if isinstance(err, exceptions.ClientError):
        error = err.response.get("Error", {})
        if error.get("Code") in _EXPIRED_CODES:
            return SetupError(
                f"the AWS credentials have expired ({err.operation_name}: {error.get('Message')}); "
                "refresh them and retry"
            )
    return None
