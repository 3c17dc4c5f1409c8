"""The CLI's one error boundary: every expected failure becomes one line on stderr and an exit code.

Exit codes: 0 done, 1 the check failed (precheck errors, a failed smoke check, an endpoint error, access denied),
2 the command could not run as asked (bad usage, an unreadable file, no region, an unknown profile, no or expired
credentials, a port that cannot be bound), 130 interrupted. ``--debug`` or ``CLARIFY_KIT_DEBUG=1`` also prints
the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from clarify_kit.adapters.aws import setup_problem
from clarify_kit.core.errors import ConfigFileError, Interrupted, KitError, SetupError
from clarify_kit.core.extras import missing_extra
from clarify_kit.core.safe_text import terminal_safe

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "debug_enabled", "guarded"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
}


def debug_enabled(flag: bool = False) -> bool:
    return flag or os.environ.get("CLARIFY_KIT_DEBUG", "") not in ("", "0")


def _botocore(err: Exception) -> tuple[int, str] | None:
    """Exit code and message for botocore's own errors (looked at only when botocore is loaded)."""
    problem = setup_problem(err)
    if problem is not None:
        return EXIT_USAGE, str(problem)
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return None
    if isinstance(err, exceptions.ClientError):
        error = err.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", err))
        if code in _DENIED:
            return EXIT_FAILED, f"access denied to {err.operation_name} ({code}): {message}"
        return EXIT_FAILED, f"{err.operation_name} failed: {code}: {message}"
    if isinstance(err, exceptions.BotoCoreError):
        return EXIT_FAILED, str(err)
    return None


def describe(err: BaseException) -> tuple[int, str]:
    """The exit code and the one line for ``err``."""
    extra = missing_extra(err)
    if extra is not None:  # an optional dependency that is not installed: which extra brings it
        return EXIT_USAGE, str(extra)
    if isinstance(err, (ConfigFileError, SetupError)):
        return EXIT_USAGE, str(err)
    if isinstance(err, Interrupted):
        return EXIT_INTERRUPTED, str(err)
    if isinstance(err, KitError):
        return EXIT_FAILED, str(err)
    if isinstance(err, Exception):
        known = _botocore(err)
        if known is not None:
            return known
    if isinstance(err, OSError):  # an unreadable input file, a port already taken...
        where = f": {err.filename}" if err.filename else ""
        return EXIT_USAGE, f"{err.strerror or err}{where}"
    return EXIT_FAILED, (
        f"unexpected {type(err).__name__}: {err} (this is a bug in clarify-kit; run with --debug "
        "for the traceback and report it)"
    )


def _silence_stdout() -> None:
    """After a closed pipe (``| head``), send what is left to /dev/null so that exiting does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def guarded(run: Callable[[], int], *, debug: bool = False) -> int:
    """Run a command; map what it raises to one line on stderr and an exit code."""
    try:
        code = run()
        sys.stdout.flush()  # a closed pipe shows here, inside the boundary, not at interpreter exit
        return code
    except KeyboardInterrupt:
        print("\nclarify-kit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - the boundary: every failure becomes one line
        if debug_enabled(debug):
            traceback.print_exc()
        code, message = describe(err)
        print(f"clarify-kit: {terminal_safe(message)}", file=sys.stderr)
        return code
