"""What the commands share: the parser class, common options, the client and names they build."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from clarify_kit.core.codecs import SUPPORTED_CONTENT_TYPES
from clarify_kit.core.errors import KitError

__all__ = [
    "CONTENT_TYPES",
    "Parser",
    "color",
    "deployed_names",
    "endpoint_args",
    "endpoint_client",
    "image_region",
    "port",
    "read_body",
]

CONTENT_TYPES = SUPPORTED_CONTENT_TYPES


def color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def deployed_names(config: Any, outputs_path: str | None) -> dict[str, str]:
    from clarify_kit.adapters.files import read_cdk_outputs
    from clarify_kit.core.resources import deployed_names

    if outputs_path is None:
        return deployed_names(config)
    return deployed_names(config, read_cdk_outputs(outputs_path), source=outputs_path)


def image_region(args: argparse.Namespace) -> str | None:
    """--region, else the --profile's region (framework images only; no AWS call is made)."""
    if args.region or not args.profile:
        return str(args.region) if args.region else None
    from clarify_kit.adapters.aws import resolve_region

    try:
        return resolve_region(None, profile_session(args.profile))
    except KitError:
        return None


def profile_session(profile: str) -> Any:
    from clarify_kit.adapters.aws import make_session

    return make_session(profile)


def endpoint_client(args: argparse.Namespace) -> Any:
    from clarify_kit.client import EndpointClient

    return EndpointClient(
        args.endpoint_name,
        config=args.config,
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        profile_name=args.profile,
    )


def read_body(value: str) -> str:
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8")
    return value.replace("\\n", "\n")


def port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port; use 1 to 65535")
    return port


def url(text: str) -> str:
    """An http(s) URL with a host; anything else is refused in one line that shows the form to use (``host:port``
    without a scheme would otherwise reach the HTTP library as a path and fail far from the cause)."""
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        example = f"http://{text.strip()}" if "://" not in text else "http://127.0.0.1:8080"
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL; for example {example}")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} has no valid port; use 1 to 65535") from None
    return text.strip().rstrip("/")


class Parser(argparse.ArgumentParser):
    """No abbreviated options: ``explain --records F`` must not silently mean ``--records-per-request F``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})


def endpoint_args(p: argparse.ArgumentParser, *, many_targets: bool = False) -> None:
    """The options of every command that calls an endpoint."""
    p.add_argument("endpoint_name", metavar="ENDPOINT_NAME")
    p.add_argument("--config", help="the deployment config: formats, score selectors, baseline, label headers")
    p.add_argument("--endpoint-url", type=url, help="e.g. http://127.0.0.1:8081 for the local endpoint")
    p.add_argument(
        "--region",
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's; "
        "not needed with a loopback --endpoint-url)",
    )
    p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default credential chain)")
    p.add_argument(
        "--target-model",
        action="append" if many_targets else "store",
        help="multi-model endpoints: the model to call" + (" (repeat for several)" if many_targets else ""),
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def finite_number(text: str) -> float:
    """An argparse type: a finite number, the flag's text named when it is not one."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = finite_number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value
