"""``clarify-kit mlflow-adaptor``: headerless CSV and JSON Lines in front of MLflow's scoring server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    from clarify_kit.explainer import mlflow_adaptor

    p = sub.add_parser(
        "mlflow-adaptor",
        help="headerless CSV / JSON Lines in front of MLflow's scoring server, one output line per record",
        description="Put MLflow's scoring server (`mlflow models serve`) behind the container contract the Clarify "
        "explainer expects. --source prints the adaptor as one file of standard-library Python to copy into the "
        "model image.",
    )
    mlflow_adaptor.add_arguments(p)
    p.add_argument("--source", action="store_true", help="print the adaptor's source (one file) and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clarify_kit.explainer import mlflow_adaptor

    if args.source:
        sys.stdout.write(Path(mlflow_adaptor.__file__).read_text(encoding="utf-8"))
        return 0
    return mlflow_adaptor.run(args)
