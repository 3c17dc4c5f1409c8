"""The ``clarify-kit`` command line, the composition root: one module per command, each with its parser beside its
handler; this module assembles them and maps what they raise to exit codes (clarify_kit.cli.errors)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from clarify_kit.cli import (
    adaptor,
    batch_transform,
    capacity,
    drift,
    drift_job,
    explain,
    expression,
    image,
    invoke,
    names,
    parse,
    precheck,
    report,
    schema,
    serve_container,
    serve_local,
    smoke,
    verify,
)
from clarify_kit.cli._common import Parser
from clarify_kit.cli.errors import EXIT_INTERRUPTED, guarded
from clarify_kit.core.version import __version__

__all__ = ["COMMANDS", "entry", "main", "parser"]

# In the order `clarify-kit --help` lists them: the release flow first, then serving and images.
COMMANDS: tuple[ModuleType, ...] = (
    precheck,
    capacity,
    expression,
    schema,
    names,
    invoke,
    explain,
    report,
    parse,
    smoke,
    drift,
    drift_job,
    verify,
    serve_local,
    serve_container,
    adaptor,
    batch_transform,
    image,
)


def parser() -> argparse.ArgumentParser:
    """The whole command line: every command's own parser."""
    top = Parser(
        prog="clarify-kit",
        description="Deploy, precheck, invoke and smoke-test SageMaker endpoints with Clarify online explainability.",
        epilog="Exit codes: 0 done, 1 the check failed, 2 the command could not run as asked, 130 interrupted.",
    )
    top.add_argument("--version", action="version", version=f"clarify-kit {__version__}")
    top.add_argument("--debug", action="store_true", help="print tracebacks (also: CLARIFY_KIT_DEBUG=1)")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    top.set_defaults(commands=sub.choices)
    for command in COMMANDS:
        command.add_parser(sub)
    for each in sub.choices.values():  # --debug also after the command name
        each.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clarify-kit`` console script; returns the exit code."""
    try:
        args, unknown = parser().parse_known_args(argv)
        if unknown:  # a mistyped option after the command: that command's usage, not the top level's
            args.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help and --version
        return int(exc.code or 0)
    return guarded(lambda: int(args.func(args)), debug=args.debug)


def entry() -> None:
    """The console script (and ``python -m clarify_kit``): ``main``, then exit. Interrupted, the process ends at
    once: requests still in flight are abandoned (what finished is kept; ``--resume`` redoes the rest) rather than
    waited for while the interpreter shuts down."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
