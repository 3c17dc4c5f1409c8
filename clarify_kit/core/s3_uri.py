"""S3 URIs (``s3://bucket/key``): one reader, one idea of a valid bucket name, for every part of the kit."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BUCKET_PATTERN", "S3Uri", "parse_s3_uri"]

# S3's rules for general purpose bucket names: 3 to 63 characters, lower-case letters, digits, dots and hyphens,
# beginning and ending with a letter or a digit.
BUCKET_PATTERN = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_URI = re.compile(rf"^s3://(?P<bucket>{BUCKET_PATTERN})(?:/(?P<key>.*))?$")


@dataclass(frozen=True)
class S3Uri:
    """A parsed S3 URI: the bucket and the key or prefix ('' for the whole bucket)."""

    bucket: str
    key: str = ""

    @property
    def prefix(self) -> str:
        """The key without trailing slashes (a prefix as a folder)."""
        return self.key.rstrip("/")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(text: str) -> S3Uri | None:
    """``text`` as an S3 URI, or None when it is not one (no ``s3://``, or a bucket S3 would refuse)."""
    match = _URI.match(text)
    if match is None:
        return None
    return S3Uri(match["bucket"], match["key"] or "")
