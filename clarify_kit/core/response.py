"""The explainer response schema (docs/explainer.md 4.2): built by the local endpoint, parsed by the client."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from clarify_kit.core.errors import ResponseParseError

__all__ = [
    "Attribution",
    "ExplainerResponse",
    "FeatureExplanation",
    "Predictions",
    "SCHEMA_VERSION",
    "build_response",
    "explained_records",
    "load_envelope",
    "load_json",
    "orjson_or_none",
    "parse_response",
]

SCHEMA_VERSION = "1.0"
# Refuse to parse a body larger than this (the service caps response bodies at 6 MiB; saved files may be merged).
_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Attribution:
    """One attribution object: a value per model output/class, and for text its unit and character offset."""

    values: tuple[float, ...]
    partial_text: str | None = None
    start_idx: int | None = None
    # The self-hosted explainer's standard error of each value (docs/explainer.md 3.10); None from Clarify.
    standard_errors: tuple[float, ...] | None = None

    def interval(self, k: int, z: float = 1.645) -> tuple[float, float] | None:
        """The value of output ``k`` +- ``z`` standard errors (90 % by default), when the response has them."""
        if self.standard_errors is None:
            return None
        half = z * self.standard_errors[k]
        return self.values[k] - half, self.values[k] + half

    def indistinguishable_from_zero(self, k: int, z: float = 1.645) -> bool:
        """Whether the interval of output ``k`` holds zero (False without standard errors)."""
        bounds = self.interval(k, z)
        return bounds is not None and bounds[0] <= 0 <= bounds[1]


@dataclass(frozen=True)
class FeatureExplanation:
    """Attributions of one feature of one record; ``header`` is None when FeatureHeaders was not configured."""

    index: int
    header: str | None
    feature_type: str | None
    attributions: tuple[Attribution, ...]

    @property
    def name(self) -> str | int:
        return self.header if self.header is not None else self.index


@dataclass(frozen=True)
class Predictions:
    """The container's answer, verbatim, with the container's content type."""

    content_type: str
    data: str


@dataclass(frozen=True)
class ExplainerResponse:
    """A parsed explainer response: one entry per request record, None where the record was not explained."""

    version: str
    predictions: Predictions
    label_headers: tuple[str, ...] | None
    explanations: tuple[tuple[FeatureExplanation, ...] | None, ...] | None

    @property
    def explained_indexes(self) -> list[int]:
        """The indexes of the explained records."""
        return [i for i, e in enumerate(self.explanations or ()) if e is not None]


def build_response(
    predictions_content_type: str,
    predictions_data: str,
    explanations: list[list[dict[str, Any]] | None],
    label_headers: list[str] | None = None,
) -> dict[str, Any]:
    """The response envelope: ``explanations`` is ``{}`` when no record is explained, else ``kernel_shap``."""
    body: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "predictions": {"content_type": predictions_content_type, "data": predictions_data},
    }
    if label_headers is not None:
        body["label_headers"] = list(label_headers)
    body["explanations"] = {"kernel_shap": explanations} if any(e is not None for e in explanations) else {}
    return body


def parse_response(body: bytes | str | dict[str, Any]) -> ExplainerResponse:
    """Parse an explainer response body into typed objects.

    Raises
    ------
    ResponseParseError: the body is not JSON or does not follow the schema; the message names the JSON path.
    """
    data = _load(body)
    if not isinstance(data, dict):
        raise ResponseParseError(f"$: expected a JSON object, got {_kind(data)}")
    version = data.get("version")
    if not isinstance(version, str):
        raise ResponseParseError(f"$.version: expected a string, got {_kind(version)}")
    predictions = _predictions(data.get("predictions"))
    labels = data.get("label_headers")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise ResponseParseError("$.label_headers: expected a list of strings")
    return ExplainerResponse(
        version, predictions, tuple(labels) if labels else None, _explanations(data.get("explanations"))
    )


def load_envelope(body: bytes | str) -> dict[str, Any]:
    """The response envelope as a JSON object, its members checked as ``parse_response`` checks them, for readers
    of many responses (the drift monitor) that go on with ``explained_records``.

    Raises
    ------
    ResponseParseError: not JSON, nested too deeply, or not the explainer's envelope.
    """
    data = load_json(body)
    if not isinstance(data, dict):
        raise ResponseParseError(f"$: expected a JSON object, got {_kind(data)}")
    if not isinstance(data.get("version"), str):
        raise ResponseParseError(f"$.version: expected a string, got {_kind(data.get('version'))}")
    _predictions(data.get("predictions"))
    labels = data.get("label_headers")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise ResponseParseError("$.label_headers: expected a list of strings")
    return data


_NUMBERS = {float, int}


@functools.cache
def orjson_or_none() -> Any:
    """orjson, where installed (the local extra), imported once; None on AWS Lambda's Python runtime."""
    try:
        import orjson
    except ModuleNotFoundError:
        return None
    return orjson


def load_json(body: bytes | str) -> Any:
    """JSON read as every bulk reader of envelopes and capture lines reads it: orjson where installed (several times
    faster), else the standard library; what orjson refuses (NaN, nesting past its limit) goes through the
    standard library, which names the problem.

    Raises
    ------
    ResponseParseError: not JSON, not UTF-8, nested too deeply or too large.
    """
    orjson = orjson_or_none()
    if orjson is None or len(body) > _MAX_RESPONSE_BYTES:
        return _load(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _load(body)


def explained_records(data: dict[str, Any]) -> list[tuple[int, tuple[str, ...], list[list[float]]] | None]:
    """Each request record's explanation from an envelope (``load_envelope``): None where it was not explained,
    else its feature names (header, or index), and ``values[k][j]``, the attribution of feature ``j`` to explained
    score ``k`` (for text features, the sum over the feature's units). Every value is checked to be a finite number
    (JSON ``true`` is not one); the common tabular shape takes a fast path through the same checks.

    Raises
    ------
    ResponseParseError: the explanations do not follow the schema; the message names the JSON path.
    """
    explanations = _explanations_member(data.get("explanations"))
    out: list[tuple[int, tuple[str, ...], list[list[float]]] | None] = []
    for i, record in enumerate(explanations):
        if record is None:
            out.append(None)
            continue
        fast = _fast_record(record)
        if fast is None:
            parsed = _record(record, f"$.explanations.kernel_shap[{i}]")
            assert parsed is not None
            fast = _sum_units(parsed, f"$.explanations.kernel_shap[{i}]")
        names, values = fast
        out.append((i, names, values))
    return out


def _explanations_member(explanations: Any) -> list[Any]:
    if explanations is None or explanations == {}:
        return []
    if not isinstance(explanations, dict):
        raise ResponseParseError(f"$.explanations: expected an object, got {_kind(explanations)}")
    shap = explanations.get("kernel_shap")
    if not isinstance(shap, list):
        raise ResponseParseError(f"$.explanations.kernel_shap: expected a list, got {_kind(shap)}")
    return shap


def _fast_record(record: Any) -> tuple[tuple[str, ...], list[list[float]]] | None:
    """A tabular record (one attribution entry per feature, no text units) read at C speed; None for any other
    shape or any doubtful value, which the strict path then reads or names."""
    try:
        columns = _fast_columns(record)
        names = _fast_names(record) if columns is not None else None
    except (TypeError, KeyError, IndexError, AttributeError, OverflowError):
        return None
    if columns is None or names is None:
        return None
    return names, [[float(column[k]) for column in columns] for k in range(len(columns[0]))]


def _fast_columns(record: Any) -> list[Any] | None:
    """Each feature's one attribution list, when all are finite numbers of one width; else None."""
    columns = [feature["attributions"][0]["attribution"] for feature in record]
    if not columns or not all(len(feature["attributions"]) == 1 for feature in record):
        return None
    if any("description" in feature["attributions"][0] for feature in record):
        return None
    width = len(columns[0])
    flat = [v for column in columns for v in column]
    if not width or len(flat) != width * len(columns) or not set(map(type, flat)) <= _NUMBERS:
        return None
    return columns if all(map(math.isfinite, flat)) else None


def _fast_names(record: Any) -> tuple[str, ...] | None:
    """The features' headers (their index where a header is absent); None when a header is not a string."""
    headers = [feature.get("feature_header") for feature in record]
    if any(h is not None and not isinstance(h, str) for h in headers):
        return None
    return tuple(h if h is not None else str(j) for j, h in enumerate(headers))


def _sum_units(features: tuple[FeatureExplanation, ...], path: str) -> tuple[tuple[str, ...], list[list[float]]]:
    widths = {len(a.values) for f in features for a in f.attributions}
    if len(widths) != 1 or any(not f.attributions for f in features):
        raise ResponseParseError(f"{path}: every attribution needs the same number of values (one per label)")
    (width,) = widths
    names = tuple(f.header if f.header is not None else str(f.index) for f in features)
    try:
        values = [[math.fsum(a.values[k] for a in f.attributions) for f in features] for k in range(width)]
    except OverflowError:
        values = [[math.inf]]
    if not all(math.isfinite(v) for row in values for v in row):
        raise ResponseParseError(f"{path}: a feature's attributions sum to a number that is not finite")
    return names, values


def _predictions(predictions: Any) -> Predictions:
    if not isinstance(predictions, dict):
        raise ResponseParseError(f"$.predictions: expected an object, got {_kind(predictions)}")
    content_type, payload = predictions.get("content_type"), predictions.get("data")
    if not isinstance(content_type, str):
        raise ResponseParseError(f"$.predictions.content_type: expected a string, got {_kind(content_type)}")
    if not isinstance(payload, str):
        raise ResponseParseError(f"$.predictions.data: expected a string, got {_kind(payload)}")
    return Predictions(content_type, payload)


def _explanations(explanations: Any) -> tuple[tuple[FeatureExplanation, ...] | None, ...] | None:
    """None when the key is absent, () for ``{}`` (nothing explained), else one entry per request record."""
    if explanations is None:
        return None
    if not isinstance(explanations, dict):
        raise ResponseParseError(f"$.explanations: expected an object, got {_kind(explanations)}")
    if explanations == {}:
        return ()
    shap = explanations.get("kernel_shap")
    if not isinstance(shap, list):
        raise ResponseParseError(f"$.explanations.kernel_shap: expected a list, got {_kind(shap)}")
    return tuple(_record(r, f"$.explanations.kernel_shap[{i}]") for i, r in enumerate(shap))


def _load(body: bytes | str | dict[str, Any]) -> Any:
    if isinstance(body, dict):
        return body
    if isinstance(body, (bytes, bytearray)):
        if len(body) > _MAX_RESPONSE_BYTES:
            raise ResponseParseError(f"$: the body is {len(body)} bytes; refusing to parse over {_MAX_RESPONSE_BYTES}")
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as err:
            raise ResponseParseError(f"$: the body is not UTF-8 ({err.reason} at byte {err.start})") from err
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as err:
        snippet = body[:80] + ("..." if len(body) > 80 else "")
        raise ResponseParseError(f"$: not JSON ({err}); body starts {snippet!r}") from err


def _record(value: Any, path: str) -> tuple[FeatureExplanation, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ResponseParseError(f"{path}: expected a list of features or null, got {_kind(value)}")
    return tuple(_feature(f, i, f"{path}[{i}]") for i, f in enumerate(value))


def _feature(value: Any, index: int, path: str) -> FeatureExplanation:
    if not isinstance(value, dict):
        raise ResponseParseError(f"{path}: expected a feature object, got {_kind(value)}")
    header, ftype = value.get("feature_header"), value.get("feature_type")
    if header is not None and not isinstance(header, str):
        raise ResponseParseError(f"{path}.feature_header: expected a string, got {_kind(header)}")
    if ftype is not None and not isinstance(ftype, str):
        raise ResponseParseError(f"{path}.feature_type: expected a string, got {_kind(ftype)}")
    attributions = value.get("attributions")
    if not isinstance(attributions, list):
        raise ResponseParseError(f"{path}.attributions: expected a list, got {_kind(attributions)}")
    return FeatureExplanation(
        index, header, ftype, tuple(_attribution(a, f"{path}.attributions[{j}]") for j, a in enumerate(attributions))
    )


def _attribution(value: Any, path: str) -> Attribution:
    if not isinstance(value, dict):
        raise ResponseParseError(f"{path}: expected an attribution object, got {_kind(value)}")
    numbers = value.get("attribution")
    if not isinstance(numbers, list) or not numbers:
        raise ResponseParseError(f"{path}.attribution: expected a non-empty list of numbers, got {_kind(numbers)}")
    for k, n in enumerate(numbers):
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n):
            raise ResponseParseError(f"{path}.attribution[{k}]: expected a finite number, got {_kind(n)} {n!r}")
    description = value.get("description")
    text = start = None
    if description is not None:
        if not isinstance(description, dict):
            raise ResponseParseError(f"{path}.description: expected an object, got {_kind(description)}")
        text, start = description.get("partial_text"), description.get("start_idx")
        if not isinstance(text, str):
            raise ResponseParseError(f"{path}.description.partial_text: expected a string, got {_kind(text)}")
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ResponseParseError(f"{path}.description.start_idx: expected an offset >= 0, got {start!r}")
    return Attribution(tuple(float(n) for n in numbers), text, start, _standard_errors(value, len(numbers), path))


def _standard_errors(value: dict[str, Any], count: int, path: str) -> tuple[float, ...] | None:
    """The self-hosted explainer's ``standard_error`` list: ``count`` finite numbers >= 0, or absent."""
    errors = value.get("standard_error")
    if errors is None:
        return None
    if not isinstance(errors, list) or len(errors) != count:
        raise ResponseParseError(
            f"{path}.standard_error: expected a list of {count} numbers (one per attribution), "
            f"got {_kind(errors)}" + (f" of {len(errors)}" if isinstance(errors, list) else "")
        )
    for k, n in enumerate(errors):
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n < 0:
            raise ResponseParseError(f"{path}.standard_error[{k}]: expected a finite number >= 0, got {_kind(n)} {n!r}")
    return tuple(float(n) for n in errors)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
