"""Reading the user's files: only regular files, within a size cap, as UTF-8; config files parsed once.

Refused, each with one line that names the file: a path that is not a regular file (a FIFO would block, /dev/zero
would never end), a file over its cap, text that is not UTF-8. A UTF-8 byte order mark is skipped.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from clarify_kit.core._document import MAX_FILE_BYTES, Document, parse_document
from clarify_kit.core.config import DeploymentConfig, config_from_document
from clarify_kit.core.errors import ConfigFileError, KitError

__all__ = ["load_config", "read_cdk_outputs", "read_document", "read_text"]

MIB = 1024 * 1024


def read_text(
    path: str | Path,
    *,
    what: str = "config file",
    max_bytes: int = MAX_FILE_BYTES,
    error: type[KitError] = ConfigFileError,
) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``, else ``error`` naming the file and ``what`` it is."""
    path = Path(path)
    try:
        info = path.stat()  # stat, not open: opening a FIFO would block
    except OSError as err:
        raise error(f"{path}: cannot read the {what}: {err.strerror or err}") from err
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(info.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a device or socket"
        )
        raise error(f"{path}: is {kind}, not a regular file; give the path of the {what}")
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as err:
        raise error(f"{path}: cannot read the {what}: {err.strerror or err}") from err
    if len(raw) > max_bytes:
        limit = f"{max_bytes // MIB} MiB" if max_bytes >= MIB else f"{max_bytes} bytes"
        raise error(
            f"{path}: larger than {limit}, too large for a {what} (keep data such as baselines in S3 or in "
            "files of their own)"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err


def read_document(path: str | Path) -> Document:
    """The parsed content of a YAML or JSON config file (``.json`` is JSON, anything else YAML), with the position
    of every field.

    Raises
    ------
    ConfigFileError: the file cannot be read, or is not YAML/JSON at all (the CLI exits 2).
    ConfigError: content the kit refuses (duplicate keys, runaway aliases, deep nesting, numbers it cannot carry),
        at the field path where there is one (the CLI exits 1).
    """
    path = Path(path)
    return parse_document(read_text(path), str(path), json_format=path.suffix.lower() == ".json")


def load_config(path: str | Path) -> DeploymentConfig:
    """Read a YAML or JSON config file once and validate it; the config knows where each field stands in the file.

    Raises
    ------
    ConfigFileError: the file cannot be read or parsed, or holds duplicate keys, runaway aliases or nesting.
    ConfigError: the content does not match the schema; ``issues`` lists every problem.
    """
    return config_from_document(read_document(path), source=str(path))


def read_cdk_outputs(path: str | Path) -> Any:
    """The JSON of ``cdk deploy --outputs-file``."""
    text = read_text(path, what="CDK outputs file", error=KitError)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise KitError(
            f"{path}: not the JSON that `cdk deploy --outputs-file` writes: {err.msg} at line {err.lineno}"
        ) from err


def write_xml(tree: Any, path: str | Path) -> Path:
    """An XML document (an ElementTree) written to ``path`` (folders made), UTF-8 with its declaration."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tree.write(out, encoding="utf-8", xml_declaration=True)
    return out
