"""Reading a config file safely: YAML or JSON into plain data, refusing whatever the user cannot have meant.

Refused, each with one line that names the file and the problem: a path that is not a regular file (a FIFO, a
device), a file over MAX_FILE_BYTES, text that is not UTF-8; duplicate keys at any depth in YAML and JSON (both
line numbers: the later key would silently win otherwise); YAML aliases that expand to more than MAX_NODES values
or refer to themselves; nesting deeper than MAX_DEPTH; numbers that are not finite (.inf, .nan) and integers
beyond 2^53, which JSON and CloudFormation cannot carry exactly. A UTF-8 byte order mark is skipped, and an empty
file reads as None, in both formats.
"""

from __future__ import annotations

import json
import math
import stat
from pathlib import Path
from typing import Any

from clarify_kit.core.errors import ConfigError, ConfigFileError, Issue

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "read_document"]

MAX_FILE_BYTES = 10 * 1024 * 1024  # a config is kilobytes; this cap keeps a mistaken path from eating memory
MAX_DEPTH = 64  # the deepest legitimate config path is about 10 levels
MAX_NODES = 100_000  # values after alias expansion; the largest legitimate configs hold a few thousand
MAX_SAFE_INTEGER = 2**53  # beyond it, JSON numbers (CloudFormation templates) lose precision


def read_document(path: str | Path) -> Any:
    """The parsed content of a YAML or JSON config file (``.json`` is JSON, anything else YAML).

    Raises
    ------
    ConfigFileError: the file cannot be read, or is not YAML/JSON at all (the CLI exits 2).
    ConfigError: content the kit refuses (duplicate keys, runaway aliases, deep nesting, numbers it cannot carry),
        at the field path where there is one (the CLI exits 1).
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        return None
    data = _parse_json(text, path) if path.suffix.lower() == ".json" else _parse_yaml(text, path)
    issues = _value_issues(data)
    if issues:
        raise ConfigError(issues)
    return data


def _read_text(path: Path) -> str:
    try:
        info = path.stat()  # stat, not open: opening a FIFO would block
    except OSError as err:
        raise ConfigFileError(f"{path}: cannot read the config file: {err.strerror or err}") from err
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode) else \
            "a device or socket"
        raise ConfigFileError(f"{path}: is {kind}, not a regular file; give the path of a YAML or JSON config")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ConfigFileError(f"{path}: cannot read the config file: {err.strerror or err}") from err
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigFileError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a config file is a few "
                              "kilobytes (keep data such as baselines in S3 or in files of their own)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigFileError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err


# --- YAML ----------------------------------------------------------------------------------------------------------


def _parse_yaml(text: str, path: Path) -> Any:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _count_events(text, path, loader_class)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, path)
        return loader.construct_document(node)
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


def _count_events(text: str, path: Path, loader_class: Any) -> None:
    """Refuse a document of more than MAX_NODES values before composing it (composing builds every node)."""
    import yaml

    try:
        for count, _ in enumerate(yaml.parse(text, Loader=loader_class)):
            if count > 2 * MAX_NODES:  # about two events per value (start and end of collections, scalars)
                raise _too_many(path)
    except yaml.YAMLError:
        return  # composing reports the syntax error with its line


def _too_many(path: Path) -> ConfigError:
    return _content(f"{path}: holds more than {MAX_NODES} values (or aliases that expand to more); a config holds "
                    "a few hundred: keep data such as baselines in S3 or in files of their own")


def _check_nodes(root: Any, path: Path) -> None:
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
            raise _content(f"{path}: line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep; "
                           "a config is about 10 levels deep")
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


def _duplicate_keys(node: Any, where: str, path: Path) -> None:
    import yaml

    seen: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if key.value in seen:
            raise _content(f"duplicate key at lines {seen[key.value]} and {line} of {path}; the later one would "
                           "silently replace the earlier: keep one", f"{where}.{key.value}")
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


def _parse_json(text: str, path: Path) -> Any:
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
    return data


def _json_duplicate(text: str, path: Path, key: str) -> ConfigError:
    """The duplicate-key error with the path and both lines (JSON is YAML flow syntax: its nodes know them)."""
    try:
        _parse_yaml(text, path)
    except ConfigError as err:
        if "duplicate key" in str(err):
            return err
    except ConfigFileError:
        pass
    return _content(f"duplicate key {key!r} in {path}; the later one would silently replace the earlier: keep one")


def _check_depth(data: Any, path: Path) -> None:
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
            issues.append(Issue(where, f"an integer of {digits} digits; JSON and CloudFormation carry integers up "
                                f"to 2^53 ({MAX_SAFE_INTEGER}) exactly"))
    return sorted(issues, key=lambda i: i.path)


# --- positions ------------------------------------------------------------------------------------------------------


def locations(path: str | Path) -> dict[str, tuple[int, int]]:
    """Each field path of a config file (``EndpointConfig.ProductionVariants[0].InitialInstanceCount``) -> the
    1-based (line, column) where its key, or its list item, starts; ``""`` is the document. JSON is read as YAML
    flow syntax, whose nodes know their positions. Empty when the file cannot be read or parsed (the loader has
    said why already)."""
    import yaml

    path = Path(path)
    try:
        text = _read_text(path)
        loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        _count_events(text, path, loader_class)
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except (ConfigFileError, ConfigError, yaml.YAMLError, RecursionError, ValueError):
        return {}
    found: dict[str, tuple[int, int]] = {}
    if node is not None:
        _walk_positions(node, "", (1, 1), found, 0)
    return found


def _walk_positions(node: Any, where: str, at: tuple[int, int], found: dict[str, tuple[int, int]],
                    depth: int) -> None:
    import yaml

    found[where] = at  # a duplicate key is found at its later occurrence, the one the error is about
    if depth > MAX_DEPTH:
        return
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = f"{where}.{key.value}" if where else str(key.value)
                _walk_positions(value, child, (key.start_mark.line + 1, key.start_mark.column + 1), found, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_positions(item, f"{where}[{i}]", (item.start_mark.line + 1, item.start_mark.column + 1), found,
                            depth + 1)


def position_of(field_path: str, found: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """Where ``field_path`` is, else its nearest ancestor that is in the file (a missing field is reported where
    it would go), else line 1, column 1."""
    path = field_path
    while path:
        if path in found:
            return found[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return found.get("", (1, 1))
