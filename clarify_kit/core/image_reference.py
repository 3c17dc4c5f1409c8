"""Docker image references: what a Dockerfile's FROM takes, checked before a build context is written."""

from __future__ import annotations

import re

__all__ = ["IMAGE_REFERENCE", "image_reference_problem"]

# Docker's image reference grammar (distribution/reference): [host[:port]/]path[:tag][@digest], lower-case path.
IMAGE_REFERENCE = re.compile(
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?\Z"
)


def image_reference_problem(image: str) -> str | None:
    """Why ``image`` is not an image reference Docker's FROM takes (None when it is one)."""
    if not IMAGE_REFERENCE.match(image):
        return (
            f"{image[:80]!r} is not an image reference (host/repository:tag or @sha256:digest, as Docker's FROM "
            "takes it; no spaces, options, variables or line breaks)"
        )
    return None
