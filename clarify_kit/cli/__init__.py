"""The ``clarify-kit`` command line, the composition root: parse arguments, call the library, render, map errors."""

from clarify_kit.cli.main import main

__all__ = ["main"]
