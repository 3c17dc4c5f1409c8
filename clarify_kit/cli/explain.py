"""``clarify-kit explain``: every record of a file explained into an output file (and a report)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from clarify_kit.cli._common import CONTENT_TYPES, endpoint_args, endpoint_client
from clarify_kit.cli.errors import EXIT_FAILED, EXIT_OK
from clarify_kit.core.safe_text import terminal_safe


def add_parser(sub: Any) -> None:
    p = sub.add_parser("explain", help="explain every record of a CSV/JSON Lines file into an output file")
    endpoint_args(p)
    p.add_argument("--input", required=True, help="records, one per line (.csv or .jsonl)")
    p.add_argument("--output", required=True, help="one row per record: .csv, or .jsonl")
    p.add_argument("--content-type", choices=CONTENT_TYPES)
    p.add_argument("--header", action="store_true", help="the CSV input starts with a header line")
    p.add_argument("--records-per-request", type=int, help="default: what fits half the 60 s limit")
    p.add_argument("--workers", type=int, default=4, help="concurrent requests (default 4)")
    p.add_argument("--enable-explanations", metavar="EXPR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted run: send only the records its journal (beside the output) does not hold",
    )
    p.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report of the run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.client.bulk import explain_file
    from clarify_kit.core.extras import require_extra

    if args.report:  # before any record is sent: the report's extra, named once
        require_extra("plots", "the HTML report's plots")
    client = endpoint_client(args)
    summary = explain_file(
        client,
        args.input,
        args.output,
        content_type=args.content_type,
        header=args.header,
        progress=not args.quiet,
        records_per_request=args.records_per_request,
        max_workers=args.workers,
        enable_explanations=args.enable_explanations,
        target_model=args.target_model,
        resume=args.resume,
    )
    counts = summary.as_dict()
    if args.report:
        from clarify_kit.client.bulk import read_records
        from clarify_kit.client.report import from_bulk, write_report

        lines, kind = read_records(args.input, args.content_type, header=args.header)
        run = from_bulk(
            summary,
            lines,
            client.spec,
            title=f"clarify-kit explain: {args.endpoint_name} ({Path(args.input).name})",
            content_type=kind,
        )
        counts["report"] = str(write_report(run, args.report))
    print(
        json.dumps(counts)
        if args.json
        else f"{counts['records']} records: {counts['explained']} explained, {counts['not_explained']} not explained, "
        f"{counts['failed']} failed ({counts['requests']} requests: {counts['failed_calls']} failed, "
        f"{counts['splits']} split, {counts['retries']} retries; {counts['seconds']} s) -> {args.output}"
        + (f", report {args.report}" if args.report else "")
    )
    if not args.json:  # why records failed, commonest first, so that a CI log says it without opening the output
        for reason in counts["failure_reasons"]:
            print(f"  {reason['records']} failed: {terminal_safe(reason['reason'])[:300]}")
    return EXIT_OK if counts["failed"] == 0 else EXIT_FAILED
