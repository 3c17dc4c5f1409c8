"""Optional dependencies by job: which extra of ``clarify-kit`` installs a module, and the one line that says so.

The core install (``pip install clarify-kit``) runs the commands a pipeline needs: the static ``precheck``,
``expression``, ``schema``, ``invoke``, ``explain``, ``parse``, ``smoke`` and ``verify-deployment``. Everything
else is an extra, named for its job; a command that needs a missing one fails with :class:`MissingExtra` (a
SetupError: exit 2, one line) instead of ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
from typing import Any

from clarify_kit.core.errors import MissingExtra

__all__ = ["EXTRAS", "MissingExtra", "extra_for", "missing_extra", "require", "require_extra"]

# Top-level module -> (extra, what it is needed for). Kept in step with [project.optional-dependencies].
EXTRAS: dict[str, tuple[str, str]] = {
    "numpy": ("local", "the local endpoint, the container precheck and the Kernel SHAP engine"),
    "starlette": ("local", "the self-hosted explainer's server (serve-container) and the container precheck"),
    "uvicorn": ("local", "the self-hosted explainer's server (serve-container) and the container precheck"),
    "h11": ("local", "the self-hosted explainer's server (serve-container)"),
    "httptools": ("local", "the local endpoint (serve-local)"),
    "threadpoolctl": ("local", "the explainer's one BLAS thread beside the model"),
    "spacy": ("nlp", "text features (tokens, sentences, paragraphs)"),
    "pandas": ("plots", "tables as DataFrames"),
    "matplotlib": ("plots", "plots"),
    "sklearn": ("examples", "the bundled example models"),
    "aws_cdk": ("cdk", "the CDK stacks (cdk synth, cdk deploy)"),
    "constructs": ("cdk", "the CDK stacks (cdk synth, cdk deploy)"),
    "cdk_nag": ("cdk", "the CDK stacks (cdk synth, cdk deploy)"),
    "jsii": ("cdk", "the CDK stacks (cdk synth, cdk deploy)"),
    "sagemaker": ("sdk", "framework images by name and the SageMaker SDK's explainer objects"),
}


def extra_for(module: str) -> tuple[str, str] | None:
    """The (extra, purpose) that installs ``module`` (a dotted name), None for a module no extra provides."""
    return EXTRAS.get(module.split(".")[0])


def missing_extra(err: BaseException) -> MissingExtra | None:
    """The MissingExtra that ``err`` means, when it is a ModuleNotFoundError for a module of an extra."""
    if not isinstance(err, ModuleNotFoundError) or not err.name:
        return None
    found = extra_for(err.name)
    if found is None:
        return None
    return MissingExtra(err.name.split(".")[0], *found)


def require(module: str) -> Any:
    """Import ``module`` now, before any work starts, or raise the MissingExtra that names its extra."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = missing_extra(err)
        if missing is None:
            raise
        raise missing from None


def require_extra(extra: str, purpose: str) -> None:
    """Check every module of ``extra`` before any work starts, so that a command names the one extra it needs once
    (``report`` on the core install asks for ``plots``, not for ``local`` first because numpy is missing, then for
    ``plots``); raises the MissingExtra of the first missing module."""
    import importlib.util

    for module, (owner, _) in EXTRAS.items():
        if owner != extra and not (extra == "plots" and module == "numpy"):
            continue
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingExtra(module, extra, purpose)
