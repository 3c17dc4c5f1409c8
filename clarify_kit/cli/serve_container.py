"""``clarify-kit serve-container``: the self-hosted explainer in front of the model server."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from clarify_kit.cli._common import port, url
from clarify_kit.cli.errors import EXIT_INTERRUPTED


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve-container",
        help="the self-hosted explainer: SageMaker's container contract (GET "
        "/ping, POST /invocations) with the explainer in front of the model server",
    )
    p.add_argument("config", help="deployment config, YAML or JSON (its ExplainerConfig holds the settings)")
    model = p.add_mutually_exclusive_group()
    model.add_argument("--model-url", type=url, help="a model server already running, e.g. http://127.0.0.1:8081")
    p.add_argument(
        "--model-port",
        type=port,
        default=8081,
        help="the port of the model server started with a command (default 8081)",
    )
    p.add_argument("--host", default="0.0.0.0", help="bind address (default 0.0.0.0, as SageMaker expects)")  # noqa: S104
    p.add_argument("--port", type=port, default=8080, help="TCP port (default 8080, SageMaker's)")
    p.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for the model's /ping")
    p.add_argument("--baseline-file", metavar="PATH", help="a local copy of the S3 baseline (ShapBaselineUri)")
    p.add_argument("--region", help="AWS region to read an S3 baseline in")
    p.add_argument("--profile", help="AWS profile to read an S3 baseline with")
    model.add_argument(
        "--start-model",
        action="store_true",
        help="start the config's ClarifyKit.SelfHosted.ModelCommand on its ModelPort (what the image's entrypoint "
        "does)",
    )
    model.add_argument(
        "--model-command",
        metavar="COMMAND",
        help="start and supervise the model server with this "
        "command line (it must listen on --model-port), e.g. the image's own serve command",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.adapters.baseline import baseline_for
    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.container_server import serve_container

    config = load_config(args.config)
    baseline_text = baseline_for(
        config, baseline_file=args.baseline_file, region_name=args.region, profile_name=args.profile
    )
    settings = config.ClarifyKit.SelfHosted
    model_port = settings.ModelPort if args.start_model else args.model_port
    command_line = settings.ModelCommand if args.start_model else args.model_command
    command = shlex.split(command_line) if command_line else None  # verbatim: no variable is expanded
    model_url = args.model_url or f"http://127.0.0.1:{model_port}"
    serve_container(
        config,
        model_url,
        model_command=command,
        host=args.host,
        port=args.port,
        baseline_text=baseline_text,
        ready_timeout=args.ready_timeout,
    )
    return EXIT_INTERRUPTED  # it serves until a signal stops it
