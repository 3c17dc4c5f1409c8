"""``python -m clarify_kit``: the same as the ``clarify-kit`` console script."""

from clarify_kit.cli.main import entry

entry()
