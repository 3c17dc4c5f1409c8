"""``clarify-kit mlflow-adaptor`` and ``kserve-adaptor``: headerless CSV and JSON Lines in front of MLflow's scoring
server or a KServe v2 server (NVIDIA Triton), from one standard-library file (clarify_kit.explainer.adaptor)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

_COMMANDS = {
    "mlflow-adaptor": (
        "mlflow",
        "headerless CSV / JSON Lines in front of MLflow's scoring server, one output line per record",
        "Put MLflow's scoring server (`mlflow models serve`) behind the container contract the Clarify explainer "
        "expects.",
    ),
    "kserve-adaptor": (
        "kserve-v2",
        "headerless CSV / JSON Lines in front of a KServe v2 server (NVIDIA Triton), one output line per record",
        "Put a KServe v2 server (NVIDIA Triton, in SageMaker mode or not) behind the container contract the Clarify "
        "explainer expects: no ContentTemplate (64 characters at most) can write a v2 request.",
    ),
}


def add_parser(sub: Any) -> None:
    from clarify_kit.explainer import adaptor

    for command, (protocol, help_text, description) in _COMMANDS.items():
        p = sub.add_parser(
            command,
            help=help_text,
            description=description + " --source prints the adaptor as one file of standard-library Python to copy "
            "into the model image (run it there with --protocol " + protocol + ").",
        )
        adaptor.add_arguments(p, protocol)
        p.add_argument("--source", action="store_true", help="print the adaptor's source (one file) and exit")
        p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.explainer import adaptor

    if args.source:
        sys.stdout.write(Path(adaptor.__file__).read_text(encoding="utf-8"))
        return 0
    return adaptor.run(args)
