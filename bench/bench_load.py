"""Load and soak of the local endpoint (loopback only, bounded in time and count).

Starts the example container and `clarify-kit serve-local` as processes, then drives explained InvokeEndpoint calls
from 1, 4 and 16 concurrent boto3 clients for a bounded time each. Prints throughput, p50/p95/p99 latency, errors,
and the endpoint process's peak memory. `--soak SECONDS` then runs 4 callers for that long, sampling memory.

    python bench/bench_load.py [--seconds 10] [--soak 120]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import exit_status, goal  # noqa: E402
from reference import serve_local  # noqa: E402

from examples.models import train  # noqa: E402
from examples.runner import container  # noqa: E402

RECORD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"
MAX_CALLS_PER_WORKER = 100_000  # a bound on the request loop, whatever the time budget


def memory_kb(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, in kB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def drive(url: str, name: str, workers: int, seconds: float) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        client = boto3.client(
            "sagemaker-runtime",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}, max_pool_connections=2),
        )
        for _ in range(MAX_CALLS_PER_WORKER):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                client.invoke_endpoint(EndpointName=name, Body=RECORD, ContentType="text/csv")["Body"].read()
                with lock:
                    latencies.append(time.perf_counter() - started)
            except Exception as err:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(type(err).__name__)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies) or [0.0]

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000

    return {
        "calls": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / elapsed,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
    }


def large_request(url: str, name: str, pid: int, records: int) -> tuple[float, float, float, float]:
    """RSS before, peak during and after one explained request of ``records`` records, in MB, and its seconds."""
    import boto3

    client = boto3.client(
        "sagemaker-runtime", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current RSS
    before = memory_kb(pid)[0]
    started = time.monotonic()
    client.invoke_endpoint(EndpointName=name, Body="\n".join([RECORD] * records), ContentType="text/csv")
    seconds = time.monotonic() - started
    after, peak = memory_kb(pid)
    return before / 1024, peak / 1024, after / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--soak", type=float, default=0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        container(train("binary", Path(tmp) / "binary")) as model_url,
        serve_local("examples/binary/config.yaml", model_url) as (url, endpoint),
    ):
        drive(url, "clarify-kit-binary", 2, 2)  # warm-up
        print(f"load: explained calls (1 record, 10 features, 1022 synthetic records), {args.seconds:.0f} s each")
        print(
            f"  {'callers':>7s} {'calls':>6s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} "
            f"{'errors':>6s} {'endpoint RSS MB':>15s} {'peak MB':>8s}"
        )
        for workers in (1, 4, 16):
            figures = drive(url, "clarify-kit-binary", workers, args.seconds)
            rss, peak = memory_kb(endpoint.pid)
            print(
                f"  {workers:7d} {figures['calls']:6d} {figures['rps']:7.1f} {figures['p50']:7.1f} "
                f"{figures['p95']:7.1f} {figures['p99']:7.1f} {figures['errors']:6d} {rss / 1024:15.1f} "
                f"{peak / 1024:8.1f}"
            )
        records = 600
        before, peak, after, seconds = large_request(url, "clarify-kit-binary", endpoint.pid, records)
        print(
            f"large request: {records} records explained in one call ({records * len(RECORD) / 1024:.0f} KB, "
            f"{records * 1022} synthetic records) in {seconds:.1f} s; endpoint RSS MB before {before:.1f}, "
            f"peak {peak:.1f}, after {after:.1f}"
        )
        goal(
            f"a large request grows the endpoint by at most 100 MB (peak +{peak - before:.1f} MB) and gives "
            f"it back (after +{after - before:.1f} MB)",
            peak - before <= 100 and after - before <= 30,
        )
        if args.soak:
            samples = []
            window = 10.0
            rounds = max(1, int(args.soak / window))
            total_calls = total_errors = 0
            for _ in range(rounds):
                figures = drive(url, "clarify-kit-binary", 4, window)
                total_calls += figures["calls"]
                total_errors += figures["errors"]
                samples.append(memory_kb(endpoint.pid)[0] / 1024)
            half = len(samples) // 2
            print(
                f"soak: {rounds * window:.0f} s, 4 callers, {total_calls} calls, {total_errors} errors; endpoint "
                f"RSS MB first {samples[0]:.1f}, last {samples[-1]:.1f}, max {max(samples):.1f}; mean of first "
                f"half {statistics.mean(samples[:half] or samples):.1f} vs second half "
                f"{statistics.mean(samples[half:]):.1f}"
            )


if __name__ == "__main__":
    main()
    sys.exit(exit_status())
