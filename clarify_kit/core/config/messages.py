"""pydantic's validation errors as the kit's one-line issues: ``path: message`` with the value, the allowed set or
the limit, and a "did you mean" for a misspelt key."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from clarify_kit.core.errors import Issue

__all__ = ["format_path", "issues"]


def issues(errors: list[Any], data: Any, root: type[BaseModel]) -> list[Issue]:
    """One Issue per error of ``root``'s validation of ``data`` (of a union, only the branch the file used)."""
    return [_issue(e, data, root) for e in _one_union_branch(errors, data)]


_UNION_MODELS = ("FrameworkImage",)


def _one_union_branch(errors: list[Any], data: Any) -> list[Any]:
    """Keep, for a field that is a string or a mapping (Image), only the errors of the branch the file used."""
    kept = []
    for err in errors:
        loc = tuple(err["loc"])
        branch = next((i for i, part in enumerate(loc) if part in _UNION_MODELS), None)
        if branch is not None:
            if not isinstance(_value_at(data, loc[:branch]), dict):
                continue
            err = {**err, "loc": loc[:branch] + loc[branch + 1 :]}
        elif (
            err["type"] == "string_type"
            and isinstance(err.get("input"), dict)
            and any(e is not err and any(p in _UNION_MODELS for p in e["loc"]) for e in errors)
        ):
            continue
        kept.append(err)
    return kept


def format_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("EndpointConfig", "ProductionVariants", 0, "X")`` -> ``EndpointConfig.ProductionVariants[0].X``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _shown(value: Any, limit: int = 60) -> str:
    """A short rendering of a value for a message; large lists and mappings are never serialized whole."""
    if isinstance(value, list):
        inner = ", ".join(_shown(v, 20) for v in value[:4])
        text = f"[{inner}{', ...' if len(value) > 4 else ''}]" + (f" ({len(value)} items)" if len(value) > 4 else "")
    elif isinstance(value, dict):
        keys = ", ".join(str(k)[:20] for k in list(value)[:4])
        text = f"{{{keys}{', ...' if len(value) > 4 else ''}}}"
    elif isinstance(value, str):
        text = repr(value[: limit + 1])
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _model_at(loc: tuple[Any, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model class that owns the last key of ``loc``."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    return _inner_model(meta) if meta is not None and meta is not annotation else None


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


# pydantic's own steps in an error location: "[key]" for mapping keys, "function-after[...]" and the like (always
# with brackets: a user's key such as "x-variant" is never one).
_INTERNAL_STEP = re.compile(r"^(\[key\]|[a-z]+(-[a-z]+)+\[.*\])$")


def _issue(err: Any, data: Any, root: type[BaseModel]) -> Issue:
    # pydantic adds internal steps to some locations ("[key]" for mapping keys, "function-after[...]"); drop them.
    loc: tuple[Any, ...] = tuple(p for p in err["loc"] if not (isinstance(p, str) and _INTERNAL_STEP.match(p)))
    kind = err["type"]
    ctx, value = {**(err.get("ctx", {}) or {}), "root model": root}, err.get("input")
    describe = _DESCRIBE.get(kind)
    message = describe(loc, ctx, value) if describe else None
    text = str(err["msg"]).removeprefix("Value error, ")  # a validator of the kit's own says what to do
    return Issue(format_path(loc), message or f"{text} (got {_shown(value)})")


def _unknown_key(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    owner = _model_at(loc, ctx["root model"])
    known = sorted(owner.model_fields) if owner else []
    name = str(loc[-1]) if loc else ""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == name.lower()]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    allowed = f"; allowed keys here: {', '.join(known)}" if known and not close else ""
    return f"unknown key{hint}{allowed}"


def _not_allowed(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    choices = re.findall(r"'((?:[^'\\]|\\.)*)'", str(ctx.get("expected", "")))
    if len(", ".join(choices)) <= 500:
        return f"{_shown(value)} is not allowed; allowed values: {', '.join(map(repr, choices))}"
    close = difflib.get_close_matches(str(value), choices, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    return (
        f"{_shown(value)} is not allowed; {hint}({len(choices)} allowed values: {', '.join(choices[:8])}, ...; "
        "`clarify-kit schema` lists them all)"
    )


def _pattern_mismatch(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    pattern = str(ctx.get("pattern", ""))
    if pattern.startswith("^(?:") and pattern.endswith(")\\Z"):
        pattern = pattern[4:-3]
    return f"{_shown(value)} does not match the API pattern {pattern}"


_WANTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "float_type": "a number",
    "dict_type": "a mapping",
    "list_type": "a list",
    "model_type": "a mapping",
}


def _wrong_type(kind: str) -> Callable[[tuple[Any, ...], dict[str, Any], Any], str]:
    def describe(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
        if kind == "string_type" and isinstance(value, bool) and loc and str(loc[-1]) == "EnableExplanations":
            literal = "`true`" if value else "`false`"
            return (
                f"YAML read {str(value).lower()} as a boolean, but EnableExplanations is a JMESPath expression "
                f"string; write the literal with backticks and quotes: '{literal}'"
            )
        return f"{_shown(value)} ({_type_name(value)}) must be {_WANTED[kind]}"

    return describe


def _length(unit: str) -> Callable[[tuple[Any, ...], dict[str, Any], Any], str]:
    def describe(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
        n = len(value) if hasattr(value, "__len__") else "?"
        return f"{n} {unit}; the API allows {_bound(ctx)} {unit}"

    return describe


def _out_of_range(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    return f"{_shown(value)} is out of range; allowed: {_bound(ctx)}"


def _not_whole(loc: tuple[Any, ...], ctx: dict[str, Any], value: Any) -> str:
    return f"{_shown(value)} must be a whole number"


# pydantic error type -> the message for it ("path: message"); other types keep pydantic's own message.
_DESCRIBE: dict[str, Callable[[tuple[Any, ...], dict[str, Any], Any], str]] = {
    "extra_forbidden": _unknown_key,
    "missing": lambda loc, ctx, value: "required field is missing",
    "literal_error": _not_allowed,
    "string_too_long": _length("characters"),
    "string_too_short": _length("characters"),
    "too_long": _length("items"),
    "too_short": _length("items"),
    **dict.fromkeys(("greater_than_equal", "less_than_equal", "greater_than", "less_than"), _out_of_range),
    "string_pattern_mismatch": _pattern_mismatch,
    **{kind: _wrong_type(kind) for kind in _WANTED},
    "int_from_float": _not_whole,
    "int_parsing": _not_whole,
}


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _bound(ctx: dict[str, Any]) -> str:
    words = {
        "min_length": "at least",
        "ge": "at least",
        "gt": "more than",
        "max_length": "at most",
        "le": "at most",
        "lt": "less than",
    }
    return " and ".join(f"{words[k]} {v}" for k, v in ctx.items() if k in words) or "a different value"
