"""JMESPath as the Clarify explainer uses it: compile with caret errors, lint literals, evaluate on records."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

import jmespath
import jmespath.exceptions

from clarify_kit.core.errors import ExpressionError
from clarify_kit.core.limits import EXPRESSION_MAX_CHARS

__all__ = ["Evaluation", "check_length", "compile_expression", "evaluate", "lint", "type_name"]

_COMPARATOR_NUMBER = re.compile(r"(<=|>=|==|!=|<|>)\s*(-?\d+(\.\d+)?)(?![\w`])")
_BACKTICK_LITERAL = re.compile(r"`((?:\\`|[^`])*)`")
_BARE_LITERALS = {"true": "`true`", "false": "`false`", "null": "`null`"}
# Deep expressions can make the parser recurse; the API caps expressions at 64 characters anyway.
_MAX_LENGTH = 1024


def check_length(expression: str, *, what: str = "EnableExplanations (in the config and per call)") -> None:
    """Refuse an expression outside the API's 1 to 64 characters, naming the count and the limit.

    Raises
    ------
    ExpressionError: too short or too long.
    """
    if not 1 <= len(expression) <= EXPRESSION_MAX_CHARS:
        raise ExpressionError(
            f"the expression is {len(expression)} characters; {what} allows 1 to {EXPRESSION_MAX_CHARS}"
        )


def compile_expression(expr: str) -> Any:
    """Compile ``expr`` or raise ExpressionError whose message points a caret at the offending column."""
    if len(expr) > _MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(expr)} characters long; at most {_MAX_LENGTH} are parsed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as err:
        position = getattr(err, "lex_position", None)
        reason = _reason(err)
        message = _with_caret(expr, position, f"invalid JMESPath: {reason}")
        number = _COMPARATOR_NUMBER.search(expr)
        if number:
            message += f"\n    write number literals with backticks: `{number.group(2)}`"
        raise ExpressionError(message) from err
    except (RecursionError, ValueError, TypeError) as err:
        raise ExpressionError(f"invalid JMESPath: {err}") from err


def _reason(err: Exception) -> str:
    msg = getattr(err, "msg", None) or str(err).splitlines()[0]
    token = getattr(err, "token_value", None)
    if token not in (None, "") and str(token) not in msg:
        return f"{msg} (at {str(token)!r})"
    return str(msg)


def _with_caret(expr: str, position: int | None, message: str) -> str:
    if position is None or position < 0:
        return f"{message}\n    {expr}"
    position = min(position, len(expr))
    return f"{message} at column {position + 1}\n    {expr}\n    {' ' * position}^"


def lint(expr: str) -> list[str]:
    """Problems in a compilable expression that the explainer would silently get wrong.

    - ``true``/``false``/``null`` without backticks are field lookups that evaluate to null;
    - a backtick literal that is not JSON (`` `True` ``) is read by python-jmespath as a *string* (legacy form).
    """
    problems: list[str] = []
    tree = compile_expression(expr).parsed
    for name in sorted(_field_names(tree)):
        if name in _BARE_LITERALS:
            problems.append(
                f"{name!r} is a field lookup that evaluates to null; write the literal with backticks: "
                f"{_BARE_LITERALS[name]}"
            )
    for match in _BACKTICK_LITERAL.finditer(expr):
        raw = match.group(1).replace("\\`", "`")
        try:
            json.loads(raw)
        except ValueError:
            better = raw.lower() if raw.lower() in ("true", "false", "null") else json.dumps(raw)
            problems.append(
                _with_caret(expr, match.start(), f"`{raw}` is not a JSON literal and is read as the string {raw!r}")
                + f"\n    write `{better}`"
            )
    return problems


def _field_names(node: Any) -> set[str]:
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        if current.get("type") == "field":
            names.add(str(current.get("value")))
        stack.extend(current.get("children", []))
    return names


@dataclass(frozen=True)
class Evaluation:
    """The value an expression gives on one record, and whether the explainer could use it as a switch."""

    value: Any
    is_boolean: bool

    def describe(self) -> str:
        shown = json.dumps(self.value)
        if self.is_boolean:
            return f"{shown} (a boolean: the record is {'explained' if self.value else 'not explained'})"
        return f"{shown} ({type_name(self.value)}, not a boolean: the explainer fails the invocation)"


def evaluate(expr: str, record: Any) -> Evaluation:
    """Evaluate ``expr`` on a deserialized record (JSON array for CSV output, object for JSON Lines)."""
    compiled = compile_expression(expr)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = compiled.search(record)
    except TypeError as err:  # python-jmespath raises where the JMESPath spec gives null: ordering non-numbers
        shown = json.dumps(record, default=str)
        raise ExpressionError(
            f"{expr!r} orders values that are not both numbers on the record {shown[:80]} (a "
            "string or null selected where a score was expected?); JMESPath gives null there, "
            "not a boolean, and the explainer fails the invocation"
        ) from err
    except (jmespath.exceptions.JMESPathError, ValueError, RecursionError) as err:
        raise ExpressionError(f"evaluating {expr!r} failed: {_reason(err)}") from err
    if not _is_json(value):
        raise ExpressionError(
            f"{expr!r} evaluates to {type(value).__name__} (an expression reference '&' is not a "
            "value); the explainer needs JSON"
        )
    return Evaluation(value, isinstance(value, bool))


def _is_json(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if depth > 100:
        return False
    if isinstance(value, list):
        return all(_is_json(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v, depth + 1) for k, v in value.items())
    return False


def type_name(value: Any) -> str:
    """The JSON type name of a value (boolean, number, string, array, object, null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
