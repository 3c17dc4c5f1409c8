"""The ``clarify-kit`` commands and their parser: each command calls the library and renders its result."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clarify_kit.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, guarded
from clarify_kit.core.errors import ConfigFileError, KitError, SetupError
from clarify_kit.core.version import __version__

__all__ = ["main"]

CONTENT_TYPES = ("text/csv", "application/jsonlines")


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


# --- commands ----------------------------------------------------------------------------------------------------


def _cmd_precheck(args: argparse.Namespace) -> int:
    from clarify_kit.precheck import collisions, precheck_file

    reports, configs, failed, code = {}, {}, {}, EXIT_OK
    for path in args.config:
        try:
            report, config = precheck_file(path, container_url=args.container_url, region=_image_region(args),
                                           baseline_file=args.baseline_file, profile=args.profile)
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


def _print_precheck(args: argparse.Namespace, reports: dict[str, Any], crossed: list[Any],
                    failed: dict[str, str]) -> None:
    if args.format == "sarif":
        from clarify_kit.precheck.export import sarif_log

        print(json.dumps(sarif_log(reports, crossed, failed), indent=2))
        return
    if args.format == "json":
        unreadable = {p: {"ok": False, "errors": [{"path": "", "message": m}], "warnings": [], "notes": [],
                          "synthetic_dataset": None, "latency": None} for p, m in failed.items()}
        if len(args.config) == 1:
            print(json.dumps(next(iter(unreadable.values())), indent=2) if unreadable else
                  next(iter(reports.values())).to_json())
        else:
            print(json.dumps({"configs": {**{p: r.as_dict() for p, r in reports.items()}, **unreadable},
                              "collisions": [f.as_dict() for f in crossed]}, indent=2))
        return
    if len(args.config) == 1:
        for report in reports.values():
            print(report.render(color=_color()))
        return
    for path, report in reports.items():
        print(f"== {path}\n{report.render(color=_color())}")
    for finding in crossed:
        print(f"! warning {finding.path} ({finding.location}): {finding.message}")


def _deployed_names(config: Any, outputs_path: str | None) -> dict[str, str]:
    from clarify_kit.adapters.files import read_cdk_outputs
    from clarify_kit.core.resources import deployed_names

    if outputs_path is None:
        return deployed_names(config)
    return deployed_names(config, read_cdk_outputs(outputs_path), source=outputs_path)


def _image_region(args: argparse.Namespace) -> str | None:
    """--region, else the --profile's region (framework images only; no AWS call is made)."""
    if args.region or not args.profile:
        return str(args.region) if args.region else None
    from clarify_kit.adapters.aws import resolve_region

    try:
        return resolve_region(None, _profile_session(args.profile))
    except KitError:
        return None


def _profile_session(profile: str) -> Any:
    from clarify_kit.adapters.aws import make_session

    return make_session(profile)


def _cmd_expression(args: argparse.Namespace) -> int:
    from clarify_kit.core.codecs import deserialize_output_record
    from clarify_kit.core.errors import ExpressionError
    from clarify_kit.core.expressions import evaluate, lint
    from clarify_kit.core.limits import EXPRESSION_MAX_CHARS

    if not 1 <= len(args.expression) <= EXPRESSION_MAX_CHARS:
        raise ExpressionError(f"the expression is {len(args.expression)} characters; EnableExplanations (in the "
                              f"config and per call) allows 1 to {EXPRESSION_MAX_CHARS}")
    problems = lint(args.expression)
    record = deserialize_output_record(args.output, args.content_type)
    result = evaluate(args.expression, record)
    if args.json:
        print(json.dumps({"expression": args.expression, "record": record, "value": result.value,
                          "is_boolean": result.is_boolean, "problems": problems}))
    else:
        print(f"record as the explainer sees it: {json.dumps(record)}")
        print(f"{args.expression} -> {result.describe()}")
        for problem in problems:
            print(f"! {problem}")
    return EXIT_OK if result.is_boolean and not problems else EXIT_FAILED


def _cmd_serve_local(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.baseline import baseline_for
    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.endpoint import serve

    config = load_config(args.config)
    baseline_text = baseline_for(config, baseline_file=args.baseline_file, region_name=args.region,
                                 profile_name=args.profile)
    serve(config, args.model_url, host=args.host, port=args.port, endpoint_name=args.endpoint_name,
          baseline_text=baseline_text)
    return EXIT_INTERRUPTED  # it serves until a signal stops it


def _cmd_serve_container(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.baseline import baseline_for
    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.container_server import serve_container

    config = load_config(args.config)
    baseline_text = baseline_for(config, baseline_file=args.baseline_file, region_name=args.region,
                                 profile_name=args.profile)
    import shlex

    if args.model_url and args.model_command:
        raise SetupError("give --model-url (a model server already running) or --model-command (one to start), "
                         "not both")
    command = shlex.split(args.model_command) if args.model_command else None
    model_url = args.model_url or f"http://127.0.0.1:{args.model_port}"
    serve_container(config, model_url, model_command=command, host=args.host, port=args.port,
                    baseline_text=baseline_text, ready_timeout=args.ready_timeout)
    return EXIT_INTERRUPTED  # it serves until a signal stops it


def _cmd_batch_transform(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.aws import make_client
    from clarify_kit.adapters.files import load_config
    from clarify_kit.client.batch import start_batch_transform, transform_job_request

    config = load_config(args.config)
    model_name = args.model_name or _deployed_names(config, args.cdk_outputs).get("model")
    if not model_name:
        raise SetupError("give --model-name, or --cdk-outputs FILE from cdk deploy --outputs-file (CloudFormation "
                         "names the model)")
    request = transform_job_request(config, input_uri=args.input, output_uri=args.output,
                                    job_name=args.job_name, model_name=model_name,
                                    instance_type=args.instance_type, instance_count=args.instance_count,
                                    concurrency=args.concurrency, kms_key_id=args.kms_key)
    sagemaker = make_client("sagemaker", endpoint_url=args.endpoint_url, region_name=args.region,
                            profile_name=args.profile)
    job = start_batch_transform(sagemaker, request, wait=args.wait)
    if args.json:
        print(json.dumps({"job": job.name, "arn": job.arn, "output": args.output, "request": request}, indent=2))
    else:
        done = "completed" if args.wait else "started"
        print(f"transform job {job.name} {done} -> {args.output} (one explainer response per line: "
              "clarify-kit parse FILE.out)")
    return EXIT_OK


def _cmd_image(args: argparse.Namespace) -> int:
    from clarify_kit.explainer.image import build_context, runtime_requirements
    from clarify_kit.precheck import load_checked

    config = load_checked(args.config, region=args.region).config  # framework images resolved for the region
    context = build_context(config, args.output)
    requirements = runtime_requirements(config)
    if args.json:
        print(json.dumps({"context": str(context), "requirements": requirements}, indent=2))
    else:
        print(f"build context -> {context} ({len(requirements)} pinned packages); build and push it with:\n"
              f"  docker build --platform linux/amd64 -t IMAGE {context} && docker push IMAGE")
    return EXIT_OK


def _client(args: argparse.Namespace) -> Any:
    from clarify_kit.client import EndpointClient

    return EndpointClient(args.endpoint_name, config=args.config, endpoint_url=args.endpoint_url,
                          region_name=args.region, profile_name=args.profile)


def _read_body(value: str) -> str:
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8")
    return value.replace("\\n", "\n")


def _cmd_invoke(args: argparse.Namespace) -> int:
    client = _client(args)
    body = _read_body(args.body)
    result = client.invoke(body, enable_explanations=args.enable_explanations, target_model=args.target_model,
                           content_type=args.content_type, accept=args.accept)
    if args.save_response:
        Path(args.save_response).write_bytes(result.body or b"")
    if args.json:
        # The service's body verbatim under "response": `clarify-kit parse` reads this output as it reads the body.
        print(json.dumps({"invoked_variant": result.invoked_variant, "latency_ms": round(result.latency_ms or 0, 2),
                          "response": json.loads(result.body or b"{}"), "rows": result.rows()}, indent=2))
    else:
        print(result.render_table())
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from clarify_kit.client.bulk import explain_file

    client = _client(args)
    summary = explain_file(client, args.input, args.output, content_type=args.content_type, header=args.header,
                           progress=not args.quiet, records_per_request=args.records_per_request,
                           max_workers=args.workers, enable_explanations=args.enable_explanations,
                           target_model=args.target_model, resume=args.resume)
    counts = summary.as_dict()
    if args.report:
        from clarify_kit.client.bulk import read_records
        from clarify_kit.client.report import from_bulk, write_report

        lines, kind = read_records(args.input, args.content_type, header=args.header)
        run = from_bulk(summary, lines, client.spec, title=f"clarify-kit explain: {args.endpoint_name} "
                        f"({Path(args.input).name})", content_type=kind)
        counts["report"] = str(write_report(run, args.report))
    print(json.dumps(counts) if args.json else
          f"{counts['records']} records: {counts['explained']} explained, {counts['not_explained']} not explained, "
          f"{counts['failed']} failed ({counts['requests']} requests, {counts['retries']} retries, "
          f"{counts['seconds']} s) -> {args.output}" + (f", report {args.report}" if args.report else ""))
    return EXIT_OK if counts["failed"] == 0 else EXIT_FAILED


def _cmd_report(args: argparse.Namespace) -> int:
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
    run = from_bulk(summary, lines, spec, title=f"clarify-kit report: {Path(args.explain_output).name}",
                    content_type=kind)
    run.seconds = None
    path = write_report(run, args.output)
    print(json.dumps({"report": str(path), "records": len(outcomes)}) if args.json else f"report -> {path}")
    return EXIT_OK


def _cmd_parse(args: argparse.Namespace) -> int:
    from clarify_kit.client.result import parse_results
    from clarify_kit.core.spec import ExplainerSpec

    spec = None
    if args.config:
        from clarify_kit.adapters.files import load_config

        spec = ExplainerSpec.from_config(load_config(args.config))
    data = sys.stdin.buffer.read() if args.response == "-" else Path(args.response).read_bytes()
    result = parse_results(_unwrap_invoke_output(data), spec)
    for warning in result.warnings:
        print(f"clarify-kit: warning: {warning}", file=sys.stderr)
    if args.format == "json" or args.json:
        print(json.dumps(result.rows(), indent=2))
    elif args.format == "csv":
        result.write_csv(sys.stdout)
    else:
        print(result.render_table())
    return EXIT_OK


def _unwrap_invoke_output(data: bytes) -> bytes:
    """The response body inside `clarify-kit invoke --json` output, so that parse takes either."""
    try:
        document = json.loads(data)
    except ValueError:
        return data  # not JSON: parse_result says so precisely
    inner = document.get("response") if isinstance(document, dict) else None
    if isinstance(inner, dict) and "predictions" in inner and "version" not in document:
        return json.dumps(inner).encode("utf-8")
    return data


def _cmd_smoke(args: argparse.Namespace) -> int:
    from clarify_kit.client.bulk import read_records
    from clarify_kit.client.smoke import run_smoke, write_junit

    client = _client(args)
    records, _ = read_records(args.records, client.spec.content_type if client.spec else None)
    targets = args.target_model or (client.config.ClarifyKit.TargetModels if client.config else None) or None
    report = run_smoke(client, records[: args.max_records], target_models=targets, iterations=args.iterations,
                       latency_budget_s=args.latency_budget)
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    if args.report:
        from clarify_kit.client.report import from_smoke, write_report

        write_report(from_smoke(report, records[: args.max_records], client.spec), args.report)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.render())
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_verify(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.files import load_config
    from clarify_kit.client.verify import verify_deployment

    config = load_config(args.config) if args.config else None
    report = verify_deployment(args.endpoint_name, args.expected_config, config=config,
                               endpoint_url=args.endpoint_url, region_name=args.region,
                               profile_name=args.profile)
    print(json.dumps({"ok": report.ok, "checks": report.checks}, indent=2) if args.json else report.render())
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_schema(args: argparse.Namespace) -> int:
    from clarify_kit.core.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def _cmd_names(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.files import load_config

    names = _deployed_names(load_config(args.config), args.cdk_outputs)
    if args.field:
        key = args.field.replace("-", "_")
        if key not in names:
            raise SetupError(f"the {args.field} name is generated by CloudFormation at deploy: pass --cdk-outputs "
                             "FILE (written by cdk deploy --outputs-file FILE)")
        print(names[key])
    elif args.json:
        print(json.dumps(names, indent=2))
    else:
        print("\n".join(f"{key.replace('_', '-')}: {value}" for key, value in names.items()))
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------------------------


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port; use 1 to 65535")
    return port


class _Parser(argparse.ArgumentParser):
    """No abbreviated options: ``explain --records F`` must not silently mean ``--records-per-request F``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="clarify-kit",
        description="Deploy, precheck, invoke and smoke-test SageMaker endpoints with Clarify online explainability.",
        epilog="Exit codes: 0 done, 1 the check failed, 2 the command could not run as asked, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"clarify-kit {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks (also: CLARIFY_KIT_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("precheck", help="check a deployment config (and optionally its container) before release")
    p.add_argument("config", nargs="+", help="deployment config(s), YAML or JSON; with several, also checks that "
                   "they would not collide when deployed together")
    p.add_argument("--container-url", help="also probe the model container at this URL (e.g. http://127.0.0.1:8080)")
    p.add_argument("--region", help="region for framework image references (default: the AWS environment's)")
    p.add_argument("--profile", help="AWS profile whose region resolves framework images, and which reads an S3 "
                   "baseline for the container precheck")
    p.add_argument("--baseline-file", metavar="PATH", help="a local copy of the S3 baseline (ShapBaselineUri), "
                   "checked like an inline one; without it, the container precheck reads the object from S3")
    p.add_argument("--format", choices=["text", "json", "sarif"], default="text", help="text for people, json "
                   "(one object), or sarif: SARIF 2.1.0 for GitHub code scanning and other viewers, each finding at "
                   "its file:line:column")
    p.add_argument("--json", dest="format", action="store_const", const="json", help="the same as --format json")
    p.add_argument("--junit-xml", metavar="FILE", help="also write JUnit XML: a suite per config, a case per rule")
    p.set_defaults(func=_cmd_precheck)

    p = sub.add_parser("expression", help="evaluate an EnableExplanations expression on one container output record")
    p.add_argument("expression", help="JMESPath, e.g. '[0]>`0.5`'")
    p.add_argument("--output", required=True, help="one container output record, e.g. '1,0.6'")
    p.add_argument("--content-type", choices=CONTENT_TYPES, default="text/csv", help="format of --output")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_expression)

    p = sub.add_parser("schema", help="print the JSON Schema of the deployment config")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("names", help="the names of a config's stack and endpoint, and after a deploy its endpoint "
                       "config and model (for smoke, verify-deployment and batch-transform in pipelines)")
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--cdk-outputs", metavar="FILE", help="what cdk deploy --outputs-file wrote: adds the endpoint "
                   "config and model names CloudFormation generated")
    p.add_argument("--field", choices=["stack", "endpoint", "endpoint-config", "model"], help="print this name alone")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_names)

    def endpoint_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("endpoint_name", metavar="ENDPOINT_NAME")
        p.add_argument("--config", help="the deployment config: formats, score selectors, baseline, label headers")
        p.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:8081 for the local endpoint")
        p.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's; "
                       "not needed with a loopback --endpoint-url)")
        p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default credential chain)")
        p.add_argument("--target-model", action="append" if p.prog.endswith("smoke") else "store",
                       help="multi-model endpoints: the model to call")
        p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("invoke", help="invoke an endpoint and print predictions and attributions")
    endpoint_args(p)
    p.add_argument("--body", required=True, help="the records, or @FILE")
    p.add_argument("--content-type", choices=CONTENT_TYPES)
    p.add_argument("--accept", choices=CONTENT_TYPES)
    p.add_argument("--enable-explanations", metavar="EXPR", help="JMESPath override, e.g. '`true`'")
    p.add_argument("--save-response", metavar="FILE", help="write the response body, exactly as received, to FILE "
                   "(for clarify-kit parse)")
    p.set_defaults(func=_cmd_invoke)

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
    p.add_argument("--resume", action="store_true", help="finish an interrupted run: send only the records its "
                   "journal (beside the output) does not hold")
    p.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report of the run")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("report", help="a self-contained HTML report from an explain output file")
    p.add_argument("explain_output", metavar="EXPLAIN_OUTPUT", help="what `clarify-kit explain` wrote (.csv, .jsonl)")
    p.add_argument("--output", required=True, metavar="HTML", help="the report to write")
    p.add_argument("--config", help="the deployment config (labels, UseLogit, explainer settings)")
    p.add_argument("--input", help="the records that were explained, for the feature values in the plots")
    p.add_argument("--header", action="store_true", help="the CSV input starts with a header line")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("parse", help="parse a saved explainer response body")
    p.add_argument("response", help="the response JSON file, or - for standard input")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("--config", help="the deployment config (score selectors, label headers)")
    p.set_defaults(func=_cmd_parse)

    p = sub.add_parser("smoke", help="smoke-test an endpoint: checks, JSON and JUnit XML for CI")
    endpoint_args(p)
    p.add_argument("--records", required=True, help="records to send, one per line")
    p.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    p.add_argument("--iterations", type=int, default=5, help="explained calls timed for latency percentiles")
    p.add_argument("--latency-budget", type=float, help="seconds for p99 (default: WarnAtShare of 60 s)")
    p.add_argument("--max-records", type=int, default=10, help="records per call (default 10)")
    p.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report of the smoke test")
    p.set_defaults(func=_cmd_smoke)

    p = sub.add_parser("verify-deployment", help="after a deploy: InService on the expected config, multi-AZ, "
                       "explainer in force")
    p.add_argument("endpoint_name", metavar="ENDPOINT_NAME")
    p.add_argument("--expected-config", required=True, metavar="NAME", help="the EndpointConfigName just deployed "
                   "(stack output EndpointConfigName)")
    p.add_argument("--config", help="the deployment config whose ExplainerConfig must be in force")
    p.add_argument("--endpoint-url", help="SageMaker API endpoint (e.g. a moto server)")
    p.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)")
    p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default credential chain)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("serve-local", help="serve the config's endpoint locally: SageMaker Runtime API + explainer")
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--model-url", required=True, help="the model container, e.g. http://127.0.0.1:8080")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8081, help="TCP port, 1 to 65535 (default 8081)")
    p.add_argument("--endpoint-name", help="default: Endpoint.EndpointName of the config")
    p.add_argument("--baseline-file", metavar="PATH", help="a local copy of the S3 baseline (ShapBaselineUri); "
                   "without it the object is read from S3")
    p.add_argument("--region", help="AWS region to read an S3 baseline in (default: the AWS environment's)")
    p.add_argument("--profile", help="AWS profile to read an S3 baseline with")
    p.set_defaults(func=_cmd_serve_local)

    p = sub.add_parser("serve-container", help="the self-hosted explainer: SageMaker's container contract (GET "
                       "/ping, POST /invocations) with the explainer in front of the model server")
    p.add_argument("config", help="deployment config, YAML or JSON (its ExplainerConfig holds the settings)")
    p.add_argument("--model-url", help="a model server already running, e.g. http://127.0.0.1:8081")
    p.add_argument("--model-port", type=_port, default=8081, help="the port of the model server started with "
                   "a command (default 8081)")
    p.add_argument("--host", default="0.0.0.0", help="bind address (default 0.0.0.0, as SageMaker expects)")  # noqa: S104
    p.add_argument("--port", type=_port, default=8080, help="TCP port (default 8080, SageMaker's)")
    p.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for the model's /ping")
    p.add_argument("--baseline-file", metavar="PATH", help="a local copy of the S3 baseline (ShapBaselineUri)")
    p.add_argument("--region", help="AWS region to read an S3 baseline in")
    p.add_argument("--profile", help="AWS profile to read an S3 baseline with")
    p.add_argument("--model-command", metavar="COMMAND", help="start and supervise the model server with this "
                   "command line (it must listen on --model-port), e.g. the image's own serve command")
    p.set_defaults(func=_cmd_serve_container)

    p = sub.add_parser("batch-transform", help="explain an S3 dataset with SageMaker Batch Transform and the "
                       "self-hosted explainer's image (ClarifyKit.Explainer: SelfHosted)")
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--input", required=True, metavar="S3_URI", help="s3://bucket/prefix of the records, one per line")
    p.add_argument("--output", required=True, metavar="S3_URI", help="s3://bucket/prefix for the responses")
    p.add_argument("--model-name", help="the deployed model (the stack's ModelName output)")
    p.add_argument("--cdk-outputs", metavar="FILE", help="take the model name from cdk deploy --outputs-file")
    p.add_argument("--instance-type", help="default: the config's first instance type")
    p.add_argument("--instance-count", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=4, help="requests at once per instance (default 4)")
    p.add_argument("--job-name", help="default: the endpoint name and the time")
    p.add_argument("--kms-key", help="encrypts the output and the volumes (default: the config's KmsKeyId)")
    p.add_argument("--wait", action="store_true", help="wait for the job to end")
    p.add_argument("--endpoint-url", help="SageMaker API endpoint (for tests)")
    p.add_argument("--region", help="AWS region")
    p.add_argument("--profile", help="AWS profile")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_batch_transform)

    p = sub.add_parser("image", help="write the self-hosted explainer image's build context (Dockerfile FROM the "
                       "model's image, pinned runtime, config, entrypoint)")
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--output", required=True, metavar="DIR", help="the build context directory (replaced)")
    p.add_argument("--region", help="region for a framework image reference (default: the AWS environment's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_image)
    for command in sub.choices.values():  # --debug also after the command name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clarify-kit`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help and --version
        return int(exc.code or 0)
    return guarded(lambda: int(args.func(args)), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
