"""The kit's version, from the installed distribution's metadata (the one place it is written is pyproject.toml)."""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]


def _version() -> str:
    try:
        return metadata.version("clarify-kit")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


__version__ = _version()
