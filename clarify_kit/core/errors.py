"""The kit's exception tree; every error a user can cause is one of these. Most are defined here; the few that
belong to one room are defined there, named in brackets.

    KitError
    ├── ConfigError               the deployment config is invalid (issues: one per field; exit code 1)
    ├── ConfigFileError           the file cannot be read or is not YAML/JSON at all (exit code 2)
    ├── ExpressionError           a JMESPath expression does not compile or evaluate as required
    ├── CodecError                a record cannot be encoded or decoded in its content type
    ├── ContainerError            the model container cannot be reached or answered wrongly
    │   └── AnswerTooLarge        an answer over what the explainer reads for its records (explainer.transport)
    ├── InvocationError           an endpoint call failed (carries the service error name)
    ├── ResponseParseError        an explainer response does not follow the documented schema
    ├── DriftError                a drift window or partial result cannot be measured (mixed features,
    │                             nothing explained, a forged partial); the message names the field
    ├── Interrupted               Ctrl-C during long work; what finished is kept (exit code 130)
    │   └── BulkInterrupted       Ctrl-C during a bulk run, with the finished records' summary (client.bulk)
    ├── SetupError                the command cannot run here: no AWS region, an unknown profile, no or
    │   │                         expired credentials, a port that cannot be bound (exit code 2)
    │   └── MissingExtra          a command needs a module of an extra that is not installed
    └── ServiceError              the explainer's answer in the SageMaker Runtime error shape
                                  (ValidationError 400, ModelError 424, InternalFailure 500, ...);
                                  a wire shape the kit's callers never see (explainer.runtime_errors)

Third-party errors are wrapped at the boundary with ``raise KitError(...) from err``. The adaptor
(clarify_kit.explainer.adaptor) is one standard-library file copied into model images, outside the kit: its
AdaptorError is a ValueError of its own, answered as an HTTP error and never seen by the kit's callers. The
explainer's HTTP client (clarify_kit.explainer.http1) raises ProtocolError (an OSError), Timeout (a TimeoutError)
and TooLarge, which its one caller, the transport, turns into ContainerError, AnswerTooLarge or a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CodecError",
    "ConfigError",
    "ConfigFileError",
    "ContainerError",
    "DriftError",
    "ExpressionError",
    "Interrupted",
    "Issue",
    "InvocationError",
    "KitError",
    "MissingExtra",
    "ResponseParseError",
    "SetupError",
]


class KitError(Exception):
    """Base of every error clarify-kit raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a config: the dotted field path and a message that says how to fix it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(KitError):
    """The config file cannot be read, parsed or validated; ``issues`` lists every problem found, ``positions``
    the (line, column) of the fields they name, where the file was parsed far enough to know them."""

    def __init__(
        self, issues: list[Issue] | Issue | str, *, positions: dict[str, tuple[int, int]] | None = None
    ) -> None:
        self.positions: dict[str, tuple[int, int]] = dict(positions or {})
        if isinstance(issues, str):
            issues = [Issue("", issues)]
        elif isinstance(issues, Issue):
            issues = [issues]
        self.issues: list[Issue] = issues
        super().__init__("\n".join(str(i) for i in issues))


class ConfigFileError(KitError):
    """The config file cannot be read, or is not valid YAML or JSON: nothing in it could be judged, so, unlike
    ConfigError, it has no per-field issues and the CLI exits 2 (a usage error) instead of 1."""


class ExpressionError(KitError):
    """A JMESPath expression is invalid or evaluates to something the explainer cannot use."""


class CodecError(KitError):
    """A record cannot be serialized or deserialized in the declared content type."""


class ContainerError(KitError):
    """The model container is unreachable or broke the SageMaker inference contract."""


class InvocationError(KitError):
    """An InvokeEndpoint call failed; ``code`` is the service error name (ModelError, ValidationError, ...)."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retryable = retryable


class ResponseParseError(KitError):
    """An endpoint response body does not match the explainer response schema."""


class DriftError(KitError):
    """Input the drift measure cannot use (mixed feature sets, nothing explained, a partial result that is not
    one); the message says what, and which field."""


class Interrupted(KitError):
    """Ctrl-C stopped long work; the message says what was kept and how to continue."""


class SetupError(KitError):
    """The environment does not let the command run: region, profile, credentials, a port; the message says which
    and how to set it."""


class MissingExtra(SetupError):
    """A command needs a module of an extra that is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{module} is not installed; {purpose} need the '{extra}' extra: pip install 'clarify-kit[{extra}]'"
        )
        self.module, self.extra = module, extra
