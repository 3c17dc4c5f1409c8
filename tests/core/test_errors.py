"""The kit's error tree: every exception the kit raises on purpose is drawn in errors.py's docstring, under its
parent, and derives from KitError."""

from __future__ import annotations

import inspect
import re

from clarify_kit.core import errors


def test_every_error_class_is_drawn_under_its_parent() -> None:
    drawn: dict[str, int] = {}
    for line in (errors.__doc__ or "").splitlines():
        if not line.startswith("    "):  # the drawing is indented; the prose around it is not
            continue
        match = re.match(r"^([ │]*)(?:├── |└── )?([A-Z]\w+)\s", line)
        if match and match.group(2).endswith(("Error", "Extra", "Interrupted")):
            drawn[match.group(2)] = len(match.group(1))
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == errors.__name__
    }
    assert set(classes) == set(drawn) | {"KitError"} or set(classes) == set(drawn), set(classes) ^ set(drawn)
    for name, cls in classes.items():
        assert issubclass(cls, errors.KitError), name
        parent = cls.__mro__[1].__name__
        if name != "KitError" and parent != "KitError":
            assert drawn[name] > drawn[parent], f"{name} is not drawn under {parent}"
