"""``clarify-kit capacity``: latency, throughput, scaling targets, cost and accuracy of explanations, measured."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clarify_kit.cli._common import finite_number as _number
from clarify_kit.cli._common import positive_number as _positive
from clarify_kit.cli._common import url
from clarify_kit.cli.errors import EXIT_OK


def _share(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share; use 0 to 1 (0.2 = a fifth of the records)")
    return value


def _utilisation(text: str) -> float:
    value = _number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a utilisation; use above 0 and at most 1 (0.5 = half)")
    return value


_MAX_RPS = 1e6  # invocations per second: far beyond any one endpoint's quota, so a typo is not planned for


def _rps(text: str) -> float:
    value = _positive(text)
    if value > _MAX_RPS:
        raise argparse.ArgumentTypeError(f"{text} invocations/s is over {_MAX_RPS:,.0f}; give the endpoint's real load")
    return value


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "capacity",
        help="measure what explanations cost on the real container: latency, instances, scaling targets, cost, "
        "accuracy per NumberOfSamples",
        description="Run the kit's explainer in front of the model container and measure one explained record "
        "(rows, requests, latency p50/p99), what one instance sustains, the scaling targets that follow, and the "
        "attribution error at several NumberOfSamples.",
    )
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--container-url", type=url, required=True, help="the model container, e.g. http://127.0.0.1:8080")
    p.add_argument("--target-model", help="for multi-model containers (default: the first ClarifyKit.TargetModels)")
    p.add_argument("--target-rps", type=_rps, help="invocations per second to plan instances for")
    p.add_argument("--explained-share", type=_share, help="share of records explained (default: the config's, 1)")
    p.add_argument("--hourly-price", type=_positive, metavar="USD", help="instance price per hour, for costs")
    p.add_argument("--utilisation", type=_utilisation, help="target utilisation, (0, 1] (default: the config's, 0.5)")
    p.add_argument(
        "--records",
        metavar="FILE",
        help="records to explain, one per line in the request format (default: ClarifyKit.Container.SampleRecords): "
        "latency and accuracy are measured on them; without any, no accuracy table is made",
    )
    p.add_argument(
        "--max-error", type=_share, default=0.05, help="median normalised attribution error to meet (default 0.05)"
    )
    p.add_argument("--iterations", type=int, default=20, help="explained calls timed for p50/p99 (default 20)")
    p.add_argument(
        "--rate-seconds",
        type=_positive,
        default=0.5,
        help="how long each number of concurrent callers is measured for the sustained rate (default 0.5)",
    )
    p.add_argument("--no-accuracy", action="store_true", help="skip the accuracy runs")
    p.add_argument("--baseline-file", metavar="PATH", help="a local copy of the S3 baseline (ShapBaselineUri)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.core.extras import require_extra

    require_extra("local", "clarify-kit capacity (the explainer runs in front of the container)")
    from clarify_kit.adapters.files import load_config, read_text
    from clarify_kit.planning import measure_capacity

    config = load_config(args.config)
    baseline_text = read_text(args.baseline_file) if args.baseline_file else None
    records = [line for line in read_text(args.records).splitlines() if line.strip()] if args.records else None
    plan = measure_capacity(
        config,
        args.container_url,
        target_model=args.target_model,
        iterations=max(5, args.iterations),
        utilisation=args.utilisation,
        target_rps=args.target_rps,
        explained_share=args.explained_share,
        hourly_price=args.hourly_price,
        max_error=args.max_error,
        accuracy=not args.no_accuracy,
        baseline_text=baseline_text,
        rate_seconds=args.rate_seconds,
        records=records,
    )
    print(json.dumps(plan.as_dict(), indent=2) if args.json else plan.render())
    return EXIT_OK
