"""The kit's error tree: every exception class the kit defines, in any module, is drawn in errors.py's docstring,
under its parent, and derives from KitError (the adaptor's AdaptorError excepted: it is copied into model images,
outside the kit, and said so in the docstring)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import clarify_kit
from clarify_kit.core import errors

_OUTSIDE = {"AdaptorError"}


def _defined_exceptions() -> dict[str, type]:
    """Every exception class defined in the package's modules (read with ast, so the CDK modules are not imported:
    they define none, which the scan checks)."""
    root = Path(clarify_kit.__file__).parent
    found: dict[str, type] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = [
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            and not node.name.startswith("_")  # private control flow, never raised to a caller
            and any(ast.unparse(base).endswith(("Error", "Exception", "Extra", "Interrupted")) for base in node.bases)
        ]
        if not names:
            continue
        module = ".".join(("clarify_kit", *path.relative_to(root).with_suffix("").parts))
        loaded = importlib.import_module(module)
        for name in names:
            cls = getattr(loaded, name)
            if isinstance(cls, type) and issubclass(cls, Exception):
                found[name] = cls
    return found


def test_every_error_class_is_drawn_under_its_parent() -> None:
    drawn: dict[str, int] = {}
    for line in (errors.__doc__ or "").splitlines():
        if not line.startswith("    "):  # the drawing is indented; the prose around it is not
            continue
        match = re.match(r"^([ │]*)(?:├── |└── )?([A-Z]\w+)\s", line)
        if match:
            drawn[match.group(2)] = len(match.group(1))
    classes = {name: cls for name, cls in _defined_exceptions().items() if name not in _OUTSIDE}
    assert {"ServiceError", "AnswerTooLarge", "BulkInterrupted"} <= set(classes)  # the scan reaches beyond errors.py
    assert set(classes) == set(drawn) | {"KitError"} or set(classes) == set(drawn), set(classes) ^ set(drawn)
    for name, cls in classes.items():
        assert issubclass(cls, errors.KitError), name
        parent = cls.__mro__[1].__name__
        if name != "KitError" and parent != "KitError":
            assert drawn[name] > drawn[parent], f"{name} is not drawn under {parent}"
