"""The SageMaker Runtime errors the explainer answers with, in the service's shape and words (docs/explainer.md 6).

ServiceError is the wire shape (an error name, its HTTP status and members) that serve-local and serve-container
answer with; the kit's callers never see it, so it lives here and not in the core."""

from __future__ import annotations

from typing import Any

from clarify_kit.core.errors import KitError

__all__ = ["ServiceError", "model_error", "timeout_error"]


class ServiceError(KitError):
    """A SageMaker Runtime error: ``name`` is the error shape (ModelError, ValidationError...) and its HTTP status."""

    STATUS = {
        "ValidationError": 400,
        "ModelError": 424,
        "ModelNotReadyException": 429,
        "InternalFailure": 500,
        "ServiceUnavailable": 503,
    }

    def __init__(self, name: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.name = name
        self.status = self.STATUS.get(name, 500)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"message": str(self), **self.extra}


def model_error(status: int, message: str, detail: str) -> ServiceError:
    """A ModelError as SageMaker reports a failing container: its message in the service's words (``Received server
    error (500) from primary with message "..."``), the container's status and message as members, and the kit's
    own explanation (``message``) apart, in ``ExplainerMessage``, so that clients matching the service's text
    behave the same. The local endpoint adds the service's closing sentence and the log stream (see
    clarify_kit.explainer.endpoint); the self-hosted container, which has no log stream of its own, adds neither.

    ``status`` 200 means the container answered but broke the contract (the explainer could not use it): what the
    service says then is not recorded publicly, so the text is the kit's own.
    """
    if status == 200:
        text = f"{message} The container answered 200, but: {detail}"
    else:
        kind = "server" if status >= 500 or status == 0 else "client"
        text = f'Received {kind} error ({status}) from primary with message "{detail}".'
    return ServiceError("ModelError", text, OriginalStatusCode=status, OriginalMessage=detail, ExplainerMessage=message)


def timeout_error(limit: float) -> ServiceError:
    """The service's answer when an invocation exceeds the limit: a ModelError naming the container."""
    return model_error(
        0,
        f"The invocation exceeded the {limit:.0f} s limit.",
        "Your invocation timed out while waiting for a response from container primary. Review the latency "
        "metrics for each container in Amazon CloudWatch, resolve the issue, and try again.",
    )
