"""Reading data capture for explanation drift: MB of capture per second on one core, and peak memory.

A capture file of explainer responses (20-feature records, ten per invocation, as serve-local writes them) is
generated here, about 100 MB; `clarify-kit drift`'s reader streams it into a partial result. The reference is
json.loads of every line, the least any reader of the format does, measured in the same run.

    python bench/bench_drift.py [--megabytes 100]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import exit_status, goal  # noqa: E402

from clarify_kit.adapters.capture import read_window  # noqa: E402

WIDTH = 20


def capture_line(rng: random.Random, records: int = 10) -> str:
    explained = [
        [
            {"feature_header": f"f{j}", "attributions": [{"attribution": [rng.gauss(0, 0.1 / (j + 1))]}]}
            for j in range(WIDTH)
        ]
        for _ in range(records)
    ]
    envelope = {
        "version": "1.0",
        "predictions": {"content_type": "text/csv", "data": "\n".join(repr(rng.random()) for _ in range(records))},
        "explanations": {"kernel_shap": explained},
    }
    rows = "\n".join(",".join(f"{rng.gauss(0, 1):.5f}" for _ in range(WIDTH)) for _ in range(records))
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": rows, "encoding": "CSV"},
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": json.dumps(envelope, separators=(",", ":")),
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {
                "eventId": "00000000-0000-0000-0000-000000000000",
                "inferenceTime": "2026-12-01T10:00:00Z",
            },
            "eventVersion": "0",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=100)
    args = parser.parse_args()
    rng = random.Random(1)
    lines = [capture_line(rng) for _ in range(200)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "capture.jsonl"
        size = 0
        with path.open("w") as out:
            while size < args.megabytes * 1e6:
                for line in lines:
                    out.write(line + "\n")
                    size += len(line) + 1
        started = time.perf_counter()
        with path.open("rb") as stream:
            for line in stream:
                json.loads(line)
        reference = time.perf_counter() - started
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.process_time()
        part = read_window(str(path))
        part.global_attributions()
        cpu = time.process_time() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rate = size / 1e6 / cpu
    print(
        f"  {size / 1e6:.0f} MB of capture, {part.explained} explained records: {rate:.1f} MB/s per core "
        f"(json.loads of each line alone: {size / 1e6 / reference:.1f} MB/s); peak RSS {peak / 1024:.0f} MB "
        f"(+{max(0, peak - before) / 1024:.0f} MB while reading)"
    )
    goal(f"drift reads >= 50 MB of capture per second per core (measured {rate:.1f})", rate >= 50)
    goal(
        f"memory stays bounded: < 300 MB peak RSS for {size / 1e6:.0f} MB (measured {peak / 1024:.0f})",
        peak / 1024 < 300,
    )


def long_line(megabytes: int = 16) -> None:
    """One capture line of ``megabytes`` (a 6 MB request and its base64 answer are of this size) read from a file and
    from S3 (moto's server on loopback, a real HTTP body): S3 within 2x of disk, linear in the bytes."""
    import boto3
    from moto.server import ThreadedMotoServer

    from clarify_kit.adapters.capture import read_s3_window

    rng = random.Random(2)
    line = json.loads(capture_line(rng))
    line["captureData"]["endpointInput"]["data"] = "1," * (megabytes * 500_000)
    data = (json.dumps(line) + "\n").encode()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="capture/ep/AllTraffic/2026/12/01/10/long.jsonl", Body=data)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.jsonl"
            path.write_bytes(data)
            started = time.perf_counter()
            on_disk = read_window(str(path))
            disk = time.perf_counter() - started
        started = time.perf_counter()
        s3.get_object(Bucket="bench", Key="capture/ep/AllTraffic/2026/12/01/10/long.jsonl")["Body"].read()
        transfer = time.perf_counter() - started  # the bytes alone, over the same HTTP
        started = time.perf_counter()
        from_s3 = read_s3_window("s3://bench/capture/ep", s3_client=s3)
        remote = time.perf_counter() - started
    finally:
        server.stop()
    assert on_disk.explained == from_s3.explained == 10
    print(
        f"  one {len(data) / 1e6:.0f} MB capture line: {disk:.2f} s from disk, {remote:.2f} s from S3 (moto on "
        f"loopback; its transfer of the bytes alone: {transfer:.2f} s)"
    )
    ratio = remote / (disk + transfer)
    goal(f"a long line from S3 within 2x of disk plus the transfer (measured {ratio:.2f}x)", ratio <= 2)


if __name__ == "__main__":
    main()
    long_line()
    sys.exit(exit_status())
