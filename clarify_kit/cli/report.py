"""``clarify-kit report``: a self-contained HTML report from an explain output file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from clarify_kit.cli.errors import EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="a self-contained HTML report from an explain output file")
    p.add_argument("explain_output", metavar="EXPLAIN_OUTPUT", help="what `clarify-kit explain` wrote (.csv, .jsonl)")
    p.add_argument("--output", required=True, metavar="HTML", help="the report to write")
    p.add_argument("--config", help="the deployment config (labels, UseLogit, explainer settings)")
    p.add_argument("--input", help="the records that were explained, for the feature values in the plots")
    p.add_argument("--header", action="store_true", help="the CSV input starts with a header line")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.core.extras import require_extra

    require_extra("plots", "the HTML report's plots")
    from clarify_kit.adapters.files import load_config
    from clarify_kit.client.bulk import BulkSummary, read_records
    from clarify_kit.client.report import from_bulk, read_explain_output, write_report
    from clarify_kit.core.spec import ExplainerSpec

    spec = ExplainerSpec.from_config(load_config(args.config)) if args.config else None
    outcomes = read_explain_output(args.explain_output)
    lines: list[str] = []
    kind = None
    if args.input:
        lines, kind = read_records(args.input, spec.content_type if spec else None, header=args.header)
    summary = BulkSummary(outcomes, requests=0, retries=0, seconds=0.0)
    run = from_bulk(
        summary, lines, spec, title=f"clarify-kit report: {Path(args.explain_output).name}", content_type=kind
    )
    run.seconds = None
    path = write_report(run, args.output)
    print(json.dumps({"report": str(path), "records": len(outcomes)}) if args.json else f"report -> {path}")
    return EXIT_OK
