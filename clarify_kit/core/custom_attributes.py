"""The per-request explanation switch of the self-hosted explainer, carried in CustomAttributes.

InvokeEndpoint's ``EnableExplanations`` reaches only the Clarify explainer; a container receives
``CustomAttributes`` (header ``X-Amzn-SageMaker-Custom-Attributes``, at most 1024 visible ASCII characters). The
kit's syntax: attributes separated by ``;``, the kit's own written ``EnableExplanations=<JMESPath>`` (JMESPath has
no ``;``), any others left as they are for the model, e.g. ``trace=on;EnableExplanations=[0]>`0.5```.
"""

from __future__ import annotations

from clarify_kit.core.errors import KitError
from clarify_kit.core.limits import CUSTOM_ATTRIBUTES_MAX_CHARS, EXPRESSION_MAX_CHARS

__all__ = [
    "CUSTOM_ATTRIBUTES_HEADER",
    "CUSTOM_ATTRIBUTES_MAX_CHARS",
    "ENABLE_EXPLANATIONS_KEY",
    "split_enable_explanations",
    "with_enable_explanations",
]

CUSTOM_ATTRIBUTES_HEADER = "x-amzn-sagemaker-custom-attributes"
ENABLE_EXPLANATIONS_KEY = "EnableExplanations"


def _items(value: str) -> list[str]:
    return [item for item in value.split(";") if item.strip()]


def split_enable_explanations(value: str | None) -> tuple[str | None, str | None]:
    """(the EnableExplanations expression, the other attributes joined again, for the model) of a header value.

    Raises
    ------
    KitError: the kit's attribute is given twice, or its expression is empty or longer than the API allows.
    """
    if not value:
        return None, None
    ours = [i for i in _items(value) if i.strip().startswith(f"{ENABLE_EXPLANATIONS_KEY}=")]
    rest = ";".join(i for i in _items(value) if i not in ours) or None
    if not ours:
        return None, rest
    if len(ours) > 1:
        raise KitError(f"CustomAttributes holds {ENABLE_EXPLANATIONS_KEY} {len(ours)} times; give it once")
    expression = ours[0].strip()[len(ENABLE_EXPLANATIONS_KEY) + 1 :].strip()
    if not 1 <= len(expression) <= EXPRESSION_MAX_CHARS:
        raise KitError(
            f"CustomAttributes {ENABLE_EXPLANATIONS_KEY} is {len(expression)} characters; it must be 1 "
            f"to {EXPRESSION_MAX_CHARS}"
        )
    return expression, rest


def with_enable_explanations(expression: str, existing: str | None = None) -> str:
    """``existing`` attributes with the kit's ``EnableExplanations=expression`` (replacing one already there).

    Raises
    ------
    KitError: the expression holds a ``;``, or the whole value is longer than 1024 characters or not ASCII.
    """
    if ";" in expression:
        raise KitError(f"an EnableExplanations expression sent in CustomAttributes cannot hold ';': {expression!r}")
    _, rest = split_enable_explanations(existing)
    value = ";".join(part for part in (rest, f"{ENABLE_EXPLANATIONS_KEY}={expression}") if part)
    if len(value) > CUSTOM_ATTRIBUTES_MAX_CHARS or not value.isascii():
        raise KitError(
            f"CustomAttributes would be {len(value)} characters{'' if value.isascii() else ', not ASCII'}"
            f"; InvokeEndpoint takes at most {CUSTOM_ATTRIBUTES_MAX_CHARS} ASCII characters"
        )
    return value
