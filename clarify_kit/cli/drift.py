"""``clarify-kit drift BASELINE CURRENT``: explanation drift between two windows of served explanations."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clarify_kit.cli._common import finite_number as _number
from clarify_kit.cli._common import positive_number as _positive
from clarify_kit.cli.errors import EXIT_FAILED, EXIT_OK
from clarify_kit.core.drift_partial import AGGREGATIONS, DEFAULT_AGGREGATION
from clarify_kit.core.errors import KitError, SetupError
from clarify_kit.core.safe_text import terminal_safe


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time; use ISO 8601, e.g. 2026-12-01T10:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ndcg(text: str) -> float:
    """The NDCG threshold: above 0 and at most 1 (ClarifyKit.Monitoring.Drift.NdcgThreshold's range)."""
    value = _number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is outside (0, 1]: NDCG is at most 1")
    return value


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "drift",
        help="explanation drift between two windows of served explanations (NDCG, attribution mass, predictions)",
        description="Compare the global attributions (mean |attribution| per feature and label) of two windows: "
        "each a data capture directory, an S3 capture prefix (s3://bucket/prefix) or an explain output file. "
        "Exit 0 without a violation, 1 with one, 2 on unusable input.",
    )
    p.add_argument("baseline", help="the baseline window: capture directory, s3://bucket/prefix, or a file")
    p.add_argument("current", help="the window to check, in the same forms")
    p.add_argument("--baseline-since", type=_time, metavar="TIME", help="baseline window start (UTC hour)")
    p.add_argument("--baseline-until", type=_time, metavar="TIME", help="baseline window end (exclusive)")
    p.add_argument("--since", type=_time, metavar="TIME", help="current window start (UTC hour)")
    p.add_argument("--until", type=_time, metavar="TIME", help="current window end (exclusive)")
    p.add_argument(
        "--config",
        metavar="CONFIG",
        help="the endpoint's deployment config: predictions are read with its ProbabilityIndex or "
        "ProbabilityAttribute, the score the explainer explained (without it, the reading is assumed and said)",
    )
    p.add_argument(
        "--aggregation",
        choices=AGGREGATIONS,
        default=None,
        help="global attribution per feature, as Model Monitor's agg_method (default: the config's "
        f"ClarifyKit.Monitoring.Drift.Aggregation, else {DEFAULT_AGGREGATION})",
    )
    p.add_argument(
        "--ndcg-threshold", type=_ndcg, default=None, help="violation below this NDCG, in (0, 1] (default 0.90)"
    )
    p.add_argument(
        "--mass-threshold",
        type=_positive,
        default=None,
        help="violation when the total global attribution changes by more than this share (default 0.5)",
    )
    p.add_argument(
        "--prediction-threshold",
        type=_positive,
        default=None,
        help="violation when the mean explained score changes by more than this (default 0.1)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report (one test case per measure)")
    p.add_argument("--report", metavar="HTML", help="write an HTML report with baseline vs current bars")
    p.add_argument("--partial", metavar="PATH", help="write the current window's mergeable partial result (JSON)")
    p.add_argument("--region", help="AWS region for S3 windows")
    p.add_argument("--profile", help="AWS profile for S3 windows")
    p.set_defaults(func=run)


def _window(source: str, since: Any, until: Any, s3: Any, selector: Any, aggregation: str) -> Any:
    from clarify_kit.adapters.capture import is_capture_file, read_window

    path = Path(source)
    if path.is_file() and not source.endswith(".partial.json") and not is_capture_file(path):
        return _explain_output(path, aggregation)
    return read_window(source, since=since, until=until, s3_client=s3, selector=selector, aggregation=aggregation)


def _explain_output(path: Path, aggregation: str) -> Any:
    """A window from an ``explain`` output file (the kit's own reader checks every row)."""
    from clarify_kit.client.bulk import read_explain_output
    from clarify_kit.core.drift import Partial

    part = Partial(aggregation=aggregation)
    for outcome in read_explain_output(path):
        part.lines += 1
        if outcome.status != "explained" or not outcome.attributions:
            part.skip(f"not explained ({outcome.status})")
            continue
        names = list(outcome.attributions)
        width = len(next(iter(outcome.attributions.values())))
        values = [[outcome.attributions[n][k] for n in names] for k in range(width)]
        scores = list(outcome.scores)[:width] if outcome.scores else None
        part.add_record(names, [f"label{k}" for k in range(width)], values, scores)
    return part


def _settings(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The score selector and the measure's settings: the flags, else the config's drift settings, else the
    defaults."""
    from clarify_kit.core import drift
    from clarify_kit.core.scores import ScoreSelector

    given = {
        "aggregation": args.aggregation,
        "ndcg_threshold": args.ndcg_threshold,
        "mass_threshold": args.mass_threshold,
        "prediction_threshold": args.prediction_threshold,
    }
    defaults: dict[str, Any] = {
        "aggregation": drift.DEFAULT_AGGREGATION,
        "ndcg_threshold": drift.DEFAULT_NDCG_THRESHOLD,
        "mass_threshold": drift.DEFAULT_MASS_THRESHOLD,
        "prediction_threshold": drift.DEFAULT_PREDICTION_THRESHOLD,
    }
    selector = ScoreSelector(assumed=True)
    if args.config:
        from clarify_kit.adapters.files import load_config
        from clarify_kit.core.spec import ExplainerSpec

        config = load_config(args.config)
        selector = ExplainerSpec.from_config(config).selector
        settings = config.ClarifyKit.Monitoring.Drift
        defaults = {
            "aggregation": settings.Aggregation,
            "ndcg_threshold": settings.NdcgThreshold,
            "mass_threshold": settings.MassThreshold,
            "prediction_threshold": settings.PredictionThreshold,
        }
    return selector, {k: v if v is not None else defaults[k] for k, v in given.items()}


def run(args: argparse.Namespace) -> int:
    from clarify_kit.core.drift import DriftError, compare

    selector, measure = _settings(args)
    aggregation = measure.pop("aggregation")
    s3 = None
    if args.baseline.startswith("s3://") or args.current.startswith("s3://"):
        from clarify_kit.adapters.aws import make_client

        s3 = make_client("s3", region_name=args.region, profile_name=args.profile)
    try:  # unusable input exits 2 (1 is a violation): a missing window, an unreadable prefix, mixed features
        baseline = _window(args.baseline, args.baseline_since, args.baseline_until, s3, selector, aggregation)
        current = _window(args.current, args.since, args.until, s3, selector, aggregation)
        if args.partial:
            Path(args.partial).write_text(json.dumps(current.as_dict()), encoding="utf-8")
        result = compare(baseline, current, selector=selector, **measure)
    except (DriftError, KitError) as err:
        raise SetupError(str(err)) from None
    except Exception as err:
        if type(err).__module__.startswith("botocore"):
            raise SetupError(f"cannot read the window: {err}") from None
        raise
    if args.junit_xml:
        _write_junit(result, args.junit_xml)
    if args.report:
        from clarify_kit.client.drift_report import write_drift_report

        write_drift_report(result, args.report)
    print(json.dumps(result.as_dict(), indent=2) if args.json else terminal_safe(result.render()))
    sys.stdout.flush()
    return EXIT_FAILED if result.violation else EXIT_OK


def _write_junit(result: Any, path: str) -> None:
    from clarify_kit.adapters.files import write_xml
    from clarify_kit.core.junit import Case, Suite, junit_tree

    thresholds = result.thresholds
    cases = []
    for label in result.labels:
        measures = [
            (f"ndcg[{label}]", result.ndcg[label] >= thresholds["ndcg"],
             f"NDCG {result.ndcg[label]:.4f}, threshold {thresholds['ndcg']:.2f}"),
            (f"attribution mass[{label}]", abs(result.mass_change[label]) <= thresholds["mass"],
             f"total global attribution {result.mass_change[label]:+.2%}, threshold {thresholds['mass']:.0%}"),
        ]  # fmt: skip
        change = result.prediction_change[label]
        if change is not None:
            measures.append((f"mean prediction[{label}]", abs(change) <= thresholds["prediction"],
                             f"mean prediction {change:+.4g}, threshold {thresholds['prediction']:g}"))  # fmt: skip
        cases += [Case(n, "drift", ok=ok, message=s, output="" if not ok else s) for n, ok, s in measures]
    write_xml(junit_tree([Suite("clarify-kit drift", cases)]), path)
