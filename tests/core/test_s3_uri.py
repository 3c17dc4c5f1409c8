"""One reader of S3 URIs, with S3's own bucket-name rules."""

from __future__ import annotations

import pytest

from clarify_kit.core.s3_uri import S3Uri, parse_s3_uri


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://bucket/key/file.csv", S3Uri("bucket", "key/file.csv")),
        ("s3://my.bucket-1/prefix/", S3Uri("my.bucket-1", "prefix/")),
        ("s3://bucket", S3Uri("bucket", "")),
        ("s3://Bucket/key", None),  # upper case: not an S3 bucket name
        ("s3://ab/key", None),  # too short
        ("s3://-bucket/key", None),
        ("https://bucket/key", None),
        ("s3:///key", None),
    ],
)
def test_s3_uris_are_read_with_s3s_bucket_rules(text: str, expected: S3Uri | None) -> None:
    assert parse_s3_uri(text) == expected


def test_a_prefix_drops_its_trailing_slashes() -> None:
    uri = parse_s3_uri("s3://bucket/capture/ep/")
    assert uri is not None and uri.prefix == "capture/ep" and str(uri) == "s3://bucket/capture/ep/"
