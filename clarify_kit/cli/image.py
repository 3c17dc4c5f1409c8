"""``clarify-kit image``: the self-hosted explainer image's build context."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clarify_kit.cli.errors import EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "image",
        help="write the self-hosted explainer image's build context (Dockerfile FROM the "
        "model's image, pinned runtime, config, entrypoint)",
    )
    p.add_argument("config", help="deployment config, YAML or JSON")
    p.add_argument("--output", required=True, metavar="DIR", help="the build context directory (replaced)")
    p.add_argument("--region", help="region for a framework image reference (default: the AWS environment's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.explainer.image import build_context, runtime_requirements
    from clarify_kit.precheck import load_checked

    config = load_checked(args.config, region=args.region).config  # framework images resolved for the region
    context = build_context(config, args.output)
    requirements = runtime_requirements(config)
    if args.json:
        print(json.dumps({"context": str(context), "requirements": requirements}, indent=2))
    else:
        print(
            f"build context -> {context} ({len(requirements)} pinned packages); build and push it with:\n"
            f"  docker build --platform linux/amd64 -t IMAGE {context} && docker push IMAGE"
        )
    return EXIT_OK
