"""The kit's error tree: every exception class the kit defines, in any module, is drawn in errors.py's docstring,
under its parent, and derives from KitError (excepted, and said so in the docstring: the adaptor's AdaptorError,
copied into model images outside the kit, and the HTTP client's own errors, which only the transport sees)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import clarify_kit
from clarify_kit.core import errors

_OUTSIDE = {"AdaptorError", "ProtocolError", "Timeout", "TooLarge"}


def _defined_exceptions() -> dict[str, str]:
    """Every exception class defined in the package's modules and the name of its base, read with ast (importing
    every module would load pandas, matplotlib and CDK for a test of names)."""
    root = Path(clarify_kit.__file__).parent
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):  # private: never raised to callers
                continue
            bases = [ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases]
            if any(base.endswith(("Error", "Exception", "Extra", "Interrupted")) for base in bases):
                assert len(bases) == 1, f"{node.name}: one base, so that the tree can draw it"
                found[node.name] = bases[0]
    return found


def test_every_error_class_is_drawn_under_its_parent() -> None:
    drawn: dict[str, int] = {}
    for line in (errors.__doc__ or "").splitlines():
        if not line.startswith("    "):  # the drawing is indented; the prose around it is not
            continue
        match = re.match(r"^([ │]*)(?:├── |└── )?([A-Z]\w+)(?:\s|$)", line)
        if match:
            drawn[match.group(2)] = len(match.group(1))
    classes = {name: base for name, base in _defined_exceptions().items() if name not in _OUTSIDE}
    assert {"ServiceError", "AnswerTooLarge", "BulkInterrupted"} <= set(classes)  # the scan reaches beyond errors.py
    assert set(classes) == set(drawn), set(classes) ^ set(drawn)
    for name, parent in classes.items():
        if name == "KitError":
            assert parent == "Exception"
            continue
        chain = [parent]  # every class leads up to KitError
        while chain[-1] != "KitError":
            assert chain[-1] in classes, f"{name} derives from {chain[-1]}, which is not the kit's"
            chain.append(classes[chain[-1]])
        if parent != "KitError":
            assert drawn[name] > drawn[parent], f"{name} is not drawn under {parent}"
