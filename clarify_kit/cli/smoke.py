"""``clarify-kit smoke``: smoke-test an endpoint; checks, JSON and JUnit XML for CI."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clarify_kit.cli._common import endpoint_args, endpoint_client
from clarify_kit.cli.errors import EXIT_FAILED, EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("smoke", help="smoke-test an endpoint: checks, JSON and JUnit XML for CI")
    endpoint_args(p, many_targets=True)
    p.add_argument("--records", required=True, help="records to send, one per line")
    p.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    p.add_argument("--iterations", type=int, default=5, help="explained calls timed for latency percentiles")
    p.add_argument("--latency-budget", type=float, help="seconds for p99 (default: WarnAtShare of 60 s)")
    p.add_argument("--max-records", type=int, default=10, help="records per call (default 10)")
    p.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report of the smoke test")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.client.bulk import read_records
    from clarify_kit.client.smoke import run_smoke, write_junit
    from clarify_kit.core.extras import require_extra

    if args.report:  # before any record is sent: the report's extra, named once
        require_extra("plots", "the HTML report's plots")
    client = endpoint_client(args)
    records, _ = read_records(args.records, client.spec.content_type if client.spec else None)
    targets = args.target_model or (client.config.ClarifyKit.TargetModels if client.config else None) or None
    report = run_smoke(
        client,
        records[: args.max_records],
        target_models=targets,
        iterations=args.iterations,
        latency_budget_s=args.latency_budget,
    )
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    if args.report:
        from clarify_kit.client.report import from_smoke, write_report

        write_report(from_smoke(report, records[: args.max_records], client.spec), args.report)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.render())
    return EXIT_OK if report.ok else EXIT_FAILED
