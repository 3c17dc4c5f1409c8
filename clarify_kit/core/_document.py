"""Parsing a config document safely: YAML or JSON text into plain data and the position of every field, refusing
whatever the user cannot have meant.

Refused, each with one line that names the file and the problem: duplicate keys at any depth in YAML and JSON (both
line numbers: the later key would silently win otherwise); YAML aliases that expand to more than MAX_NODES values
or refer to themselves; nesting deeper than MAX_DEPTH (YAML's from the parser's events, before anything is composed:
the C composer recurses, and 30,000 levels crash it); numbers that are not finite (.inf, .nan) and integers beyond
2^53, which JSON and CloudFormation cannot carry exactly. An empty document reads as None, in both formats. Field
positions are recorded from the one parse (never by parsing again), so whatever budget refused a file also bounds
the positions of one it accepted. Reading the file is the adapters' (clarify_kit.adapters.files).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from json import decoder as _json_decoder
from typing import Any

from clarify_kit.core.errors import ConfigError, ConfigFileError, Issue

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "Document", "Positions", "parse_document", "position_of"]

MAX_FILE_BYTES = 10 * 1024 * 1024  # a config is kilobytes; this cap keeps a mistaken path from eating memory
MAX_DEPTH = 64  # the deepest legitimate config path is about 10 levels
MAX_NODES = 100_000  # values after alias expansion; the largest legitimate configs hold a few thousand
MAX_SAFE_INTEGER = 2**53  # beyond it, JSON numbers (CloudFormation templates) lose precision

_SCANSTRING: Any = getattr(_json_decoder, "scanstring")  # noqa: B009 - json's own string reader (not in its stubs)
# Each field path of a document (``EndpointConfig.ProductionVariants[0].InitialInstanceCount``) -> the 1-based
# (line, column) where its key, or its list item, starts; ``""`` is the document itself.
Positions = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class Document:
    """A parsed config document: its data and the position of every field in the text."""

    data: Any
    positions: Positions = field(default_factory=dict)


def parse_document(text: str, name: str, *, json_format: bool) -> Document:
    """Parse ``text`` (the content of ``name``) as JSON or else YAML, with the positions of its fields.

    Raises
    ------
    ConfigFileError: the text is not YAML/JSON at all (the CLI exits 2).
    ConfigError: content the kit refuses (duplicate keys, runaway aliases, deep nesting, numbers it cannot carry),
        at the field path where there is one (the CLI exits 1); ``positions`` holds that field's place when known.
    """
    if not text.strip():
        return Document(None, {"": (1, 1)})
    document = _parse_json(text, name) if json_format else _parse_yaml(text, name)
    issues = _value_issues(document.data)
    if issues:
        raise ConfigError(issues, positions=document.positions)
    return document


# --- YAML ----------------------------------------------------------------------------------------------------------


def _parse_yaml(text: str, path: str) -> Document:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _check_events(text, path, loader_class)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(None, {"": (1, 1)})
        _check_nodes(node, path)
        positions: Positions = {}
        _walk_positions(node, "", (1, 1), positions)
        return Document(loader.construct_document(node), positions)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigFileError(f"{path}: not valid YAML{where}: {problem}") from err
    except (RecursionError, MemoryError) as err:
        raise _content(f"{path}: nested more than {MAX_DEPTH} levels deep; a config is about 10 levels deep") from err
    except ValueError as err:  # an integer of more than 4300 digits
        raise _content(f"{path}: {str(err).split(';')[0]}") from err
    finally:
        loader.dispose()


def _check_events(text: str, path: str, loader_class: Any) -> None:
    """Refuse a document of more than MAX_NODES values, or nested deeper than MAX_DEPTH, from the parser's events,
    before composing it (composing builds every node, and the C composer recurses once per level)."""
    import yaml

    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    depth = 0
    try:
        for count, event in enumerate(yaml.parse(text, Loader=loader_class)):
            if count > 2 * MAX_NODES:  # about two events per value (start and end of collections, scalars)
                raise _too_many(path)
            if isinstance(event, opening):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    raise _content(
                        f"{path}: line {line}: nested more than {MAX_DEPTH} levels deep; a config is "
                        "about 10 levels deep"
                    )
            elif isinstance(event, closing):
                depth -= 1
    except yaml.YAMLError:
        return  # composing reports the syntax error with its line


def _too_many(path: str) -> ConfigError:
    return _content(
        f"{path}: holds more than {MAX_NODES} values (or aliases that expand to more); a config holds "
        "a few hundred: keep data such as baselines in S3 or in files of their own"
    )


def _check_nodes(root: Any, path: str) -> None:
    """Duplicate keys, depth, cycles and the size after alias expansion, in one walk of the node graph."""
    import yaml

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, str, int, bool]] = [(root, "", 0, False)]
    active: set[int] = set()
    while stack:
        node, where, depth, done = stack.pop()
        if done:
            active.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[id(node)] > MAX_NODES:
                raise _too_many(path)
            continue
        if id(node) in sizes:
            continue
        if id(node) in active:
            raise _content(f"{path}: line {node.start_mark.line + 1}: an alias refers to itself", where)
        if depth > MAX_DEPTH:
            raise _content(
                f"{path}: line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep; "
                "a config is about 10 levels deep"
            )
        if isinstance(node, yaml.MappingNode):
            _duplicate_keys(node, where, path)
        active.add(id(node))
        stack.append((node, where, depth, True))
        for child, step in _labelled_children(node):
            stack.append((child, where + step, depth + 1, False))


def _children(node: Any) -> list[Any]:
    return [child for child, _ in _labelled_children(node)]


def _labelled_children(node: Any) -> list[tuple[Any, str]]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        out = []
        for key, value in node.value:
            label = key.value if isinstance(key, yaml.ScalarNode) else "?"
            out.extend([(key, ""), (value, f".{label}")])
        return out
    if isinstance(node, yaml.SequenceNode):
        return [(child, f"[{i}]") for i, child in enumerate(node.value)]
    return []


def _duplicate_keys(node: Any, where: str, path: str) -> None:
    import yaml

    seen: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if key.value in seen:
            at = f"{where}.{key.value}".lstrip(".")
            raise ConfigError(
                Issue(
                    at,
                    f"duplicate key at lines {seen[key.value]} and {line} of {path}; the later "
                    "one would silently replace the earlier: keep one",
                ),
                positions={at: (line, key.start_mark.column + 1)},
            )
        seen[key.value] = line


def _content(message: str, where: str = "") -> ConfigError:
    """A problem of the file's content (exit 1), at a field path when there is one."""
    return ConfigError(Issue(where.lstrip("."), message))


# --- JSON ----------------------------------------------------------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _parse_json(text: str, path: str) -> Document:
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except _DuplicateKey as dup:
        raise _json_duplicate(text, path, dup.key) from None
    except ConfigError:
        raise
    except json.JSONDecodeError as err:
        raise ConfigFileError(f"{path}: not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from err
    except (RecursionError, MemoryError) as err:
        raise _content(f"{path}: nested more than {MAX_DEPTH} levels deep; a config is about 10 levels deep") from err
    except ValueError as err:  # an integer of more than 4300 digits
        raise _content(f"{path}: {str(err).split(';')[0]}") from err
    _check_depth(data, path)
    return Document(data, _json_positions(text))


def _json_duplicate(text: str, path: str, key: str) -> ConfigError:
    """The duplicate-key error with its field path and both lines, from one scan of the text."""
    lines = _line_starts(text)
    seen: dict[tuple[str, str], int] = {}
    for where, parent, name, offset in _json_keys(text):
        line = bisect_right(lines, offset)
        if (parent, name) in seen:
            return ConfigError(
                Issue(
                    where,
                    f"duplicate key at lines {seen[parent, name]} and {line} of {path}; the "
                    "later one would silently replace the earlier: keep one",
                ),
                positions={where: (line, offset - lines[line - 1] + 1)},
            )
        seen[parent, name] = line
    return _content(f"duplicate key {key!r} in {path}; the later one would silently replace the earlier: keep one")


def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def _json_positions(text: str) -> Positions:
    """The positions of a JSON document that parsed and passed the depth and size checks (so the scan is bounded)."""
    lines = _line_starts(text)
    found: Positions = {"": (1, 1)}
    for where, _, _, offset in _json_keys(text, items=True):
        line = bisect_right(lines, offset)
        found[where] = (line, offset - lines[line - 1] + 1)
    return found


def _json_keys(text: str, *, items: bool = False) -> list[tuple[str, str, str, int]]:
    """(field path, parent path, key, offset) for every key of a JSON text (and every list item with ``items``),
    in order, from one linear scan; a later duplicate key is listed again, at its own offset."""
    out: list[tuple[str, str, str, int]] = []
    stack: list[list[Any]] = []  # per open container: [path, is_object, next list index, expecting a key, value path]
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        top = stack[-1] if stack else None
        if c == '"':
            i = _json_string(text, i, top, out, items)
            continue
        if c in "{[":
            stack.append([_value_path(top, i, out, items), c == "{", 0, c == "{"])
        elif c in "}]":
            stack.pop()
        elif c == "," and top is not None and top[1]:
            top[3] = True
            del top[4:]
        elif not c.isspace() and c not in ",:" and top is not None and not top[1]:
            _list_item(top, i, out, items)
            while i + 1 < n and text[i + 1] not in ",]} \t\r\n":
                i += 1
        i += 1
    return out


def _json_string(
    text: str, start: int, top: list[Any] | None, out: list[tuple[str, str, str, int]], items: bool
) -> int:
    """Read the string at ``start``: a key (recorded), a list item (recorded with ``items``) or a value; returns the
    offset after it."""
    value, end = _SCANSTRING(text, start + 1)
    if top is not None and top[1] and top[3]:
        where = f"{top[0]}.{value}" if top[0] else value
        out.append((where, top[0], value, start))
        top[3] = False
        top.append(where)  # the path of the value that follows
    elif top is not None and not top[1]:
        _list_item(top, start, out, items)
    return int(end)


def _value_path(top: list[Any] | None, offset: int, out: list[tuple[str, str, str, int]], items: bool) -> str:
    if top is None:
        return ""
    if top[1]:
        return str(top[4]) if len(top) > 4 else top[0]
    return _list_item(top, offset, out, items)


def _list_item(top: list[Any], offset: int, out: list[tuple[str, str, str, int]], items: bool) -> str:
    where = f"{top[0]}[{top[2]}]"
    top[2] += 1
    if items:
        out.append((where, top[0], "", offset))
    return str(where)


def _check_depth(data: Any, path: str) -> None:
    stack = [(data, 0)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += len(value) if isinstance(value, (dict, list)) else 0  # counted before they are pushed
        if count > MAX_NODES:
            raise _too_many(path)
        if depth > MAX_DEPTH:
            raise _content(f"{path}: nested more than {MAX_DEPTH} levels deep; a config is about 10 levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


# --- values --------------------------------------------------------------------------------------------------------


def _value_issues(data: Any) -> list[Issue]:
    """Numbers the kit cannot carry as written, by field path (the structure is a tree by now: checked above)."""
    issues: list[Issue] = []
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            issues.append(Issue(where, f"{value} is not a finite number; write a number"))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
            digits = len(str(abs(value)))
            issues.append(
                Issue(
                    where,
                    f"an integer of {digits} digits; JSON and CloudFormation carry integers up "
                    f"to 2^53 ({MAX_SAFE_INTEGER}) exactly",
                )
            )
    return sorted(issues, key=lambda i: i.path)


# --- positions ------------------------------------------------------------------------------------------------------


def _walk_positions(node: Any, where: str, at: tuple[int, int], found: Positions) -> None:
    """Record the position of every field of a node graph that passed _check_nodes (so it is bounded in size and
    depth: an alias is walked again where it is used, as its values are)."""
    import yaml

    found[where] = at
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = f"{where}.{key.value}" if where else str(key.value)
                _walk_positions(value, child, (key.start_mark.line + 1, key.start_mark.column + 1), found)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_positions(item, f"{where}[{i}]", (item.start_mark.line + 1, item.start_mark.column + 1), found)


def position_of(field_path: str, found: Positions) -> tuple[int, int]:
    """Where ``field_path`` is, else its nearest ancestor that is in the file (a missing field is reported where
    it would go), else line 1, column 1."""
    path = field_path
    while path:
        if path in found:
            return found[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return found.get("", (1, 1))
