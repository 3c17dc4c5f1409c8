"""``clarify-kit precheck``: judge configs (and their container) before release; text, JSON, SARIF, JUnit."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from clarify_kit.cli._common import color, image_region, url
from clarify_kit.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from clarify_kit.core.errors import ConfigFileError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("precheck", help="check a deployment config (and optionally its container) before release")
    p.add_argument(
        "config",
        nargs="+",
        help="deployment config(s), YAML or JSON; with several, also checks that "
        "they would not collide when deployed together",
    )
    p.add_argument(
        "--container-url", type=url, help="also probe the model container at this URL (e.g. http://127.0.0.1:8080)"
    )
    p.add_argument("--region", help="region for framework image references (default: the AWS environment's)")
    p.add_argument(
        "--profile",
        help="AWS profile whose region resolves framework images, and which reads an S3 "
        "baseline for the container precheck",
    )
    p.add_argument(
        "--baseline-file",
        metavar="PATH",
        help="a local copy of the S3 baseline (ShapBaselineUri), "
        "checked like an inline one; without it, the container precheck reads the object from S3",
    )
    p.add_argument(
        "--format",
        choices=["text", "json", "sarif"],
        default="text",
        help="text for people, json "
        "(one object), or sarif: SARIF 2.1.0 for GitHub code scanning and other viewers, each finding at "
        "its file:line:column",
    )
    p.add_argument("--json", dest="format", action="store_const", const="json", help="the same as --format json")
    p.add_argument("--junit-xml", metavar="FILE", help="also write JUnit XML: a suite per config, a case per rule")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.precheck import collisions, precheck_file

    reports, configs, failed, code = {}, {}, {}, EXIT_OK
    for path in args.config:
        try:
            report, config = precheck_file(
                path,
                container_url=args.container_url,
                region=image_region(args),
                baseline_file=args.baseline_file,
                profile=args.profile,
            )
        except ConfigFileError as err:
            failed[path] = str(err)
            if args.format == "text":
                print(f"clarify-kit: {err}", file=sys.stderr)
            code = EXIT_USAGE
            continue
        reports[path] = report
        if config is not None:
            configs[path] = config
        code = max(code, EXIT_OK if report.ok else EXIT_FAILED)
    crossed = collisions(configs) if len(configs) > 1 else []
    _print_precheck(args, reports, crossed, failed)
    if args.junit_xml:
        from clarify_kit.precheck.export import write_junit

        write_junit(reports, args.junit_xml, crossed, failed)
    return code


def _print_precheck(
    args: argparse.Namespace, reports: dict[str, Any], crossed: list[Any], failed: dict[str, str]
) -> None:
    from clarify_kit.precheck.report import unreadable_report

    if args.format == "sarif":
        from clarify_kit.precheck.export import sarif_log

        print(json.dumps(sarif_log(reports, crossed, failed), indent=2))
        return
    if args.format == "json":
        unreadable = {p: unreadable_report(m) for p, m in failed.items()}
        if len(args.config) == 1:
            print(
                json.dumps(next(iter(unreadable.values())), indent=2)
                if unreadable
                else next(iter(reports.values())).to_json()
            )
        else:
            print(
                json.dumps(
                    {
                        "configs": {**{p: r.as_dict() for p, r in reports.items()}, **unreadable},
                        "collisions": [f.as_dict() for f in crossed],
                    },
                    indent=2,
                )
            )
        return
    if len(args.config) == 1:
        for report in reports.values():
            print(report.render(color=color()))
        return
    for path, report in reports.items():
        print(f"== {path}\n{report.render(color=color())}")
    for finding in crossed:
        print(f"! warning {finding.path} ({finding.location}): {finding.message}")
