"""The ``clarify-kit`` command line, the composition root: parse arguments, call the library, render, map errors."""

from clarify_kit.cli.commands import main

__all__ = ["main"]
