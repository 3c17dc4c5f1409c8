"""Typed results of an explainable InvokeEndpoint call: predictions, per-record explanations, tables."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, TextIO

from clarify_kit.core.codecs import CSV, base_content_type, split_output_records, split_single_line, spreadsheet_safe
from clarify_kit.core.errors import CodecError, ExpressionError, KitError
from clarify_kit.core.numbers import display_number, noise_scale
from clarify_kit.core.response import SCHEMA_VERSION, ExplainerResponse, FeatureExplanation, parse_response
from clarify_kit.core.spec import ExplainerSpec, logit

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LONG_COLUMNS",
    "InvokeResult",
    "RecordExplanation",
    "long_rows",
    "parse_result",
    "parse_results",
    "parse_saved",
]

# The columns of the long form (DataFrame, CSV): one row per record, feature, label and text unit.
LONG_COLUMNS = ("record", "feature", "label", "attribution", "feature_type", "partial_text", "start_idx")


@dataclass(frozen=True)
class RecordExplanation:
    """One request record: its scores and, when it was explained, its feature attributions."""

    index: int
    output: str
    scores: tuple[float, ...] | None
    features: tuple[FeatureExplanation, ...] | None

    @property
    def explained(self) -> bool:
        return self.features is not None

    def attribution_sum(self) -> list[float]:
        """Sum of attributions per label (all units of text features included)."""
        if not self.features:
            return []
        width = len(self.features[0].attributions[0].values) if self.features[0].attributions else 0
        totals = [0.0] * width
        for feature in self.features:
            for unit in feature.attributions:
                for k, value in enumerate(unit.values):
                    totals[k] += value
        return totals


@dataclass(frozen=True)
class InvokeResult:
    """A parsed explainer response plus what the client knows (label names, scores per record)."""

    response: ExplainerResponse
    records: tuple[RecordExplanation, ...]
    label_headers: tuple[str, ...] | None
    invoked_variant: str | None = None
    latency_ms: float | None = None
    warnings: tuple[str, ...] = ()
    body: bytes | None = None  # the response body exactly as the endpoint sent it, when it came over the wire
    spec: ExplainerSpec | None = None  # the config's settings the scores were read with, when known

    @property
    def explained_indexes(self) -> list[int]:
        """The indexes of the explained records."""
        return [r.index for r in self.records if r.explained]

    def label(self, k: int) -> str | int:
        """The ``label`` of data rows: the label header, else the 0-based index of the explained score."""
        return self.label_headers[k] if self.label_headers and k < len(self.label_headers) else k

    def label_name(self, k: int) -> str:
        """The ``k``-th explained score for people (tables, plots, reports): the label header, else where the score
        comes from in the container's output (``score[1]`` with ProbabilityIndex 1), never a bare "label 0"."""
        if self.label_headers and k < len(self.label_headers):
            return self.label_headers[k]
        counts = {len(r.scores) for r in self.records if r.scores}
        count = counts.pop() if len(counts) == 1 else None
        return (self.spec or ExplainerSpec(CSV, CSV)).score_name(k, count)

    def rows(self, *, feature_type: bool = False) -> list[dict[str, Any]]:
        """Long-form rows ``{record, feature, label, attribution}`` (+ ``partial_text``, ``start_idx`` for text
        units): one per record, feature, label and unit. ``feature`` is the header, else the 0-based index;
        ``label`` the label header, else the 0-based index."""
        return long_rows(self, feature_type=feature_type)

    def to_dataframe(self, form: str = "long") -> pd.DataFrame:
        """``long``: one row per record, feature, label (and text unit); ``wide``: one column per feature."""
        import pandas as pd

        columns = _long_columns(self)
        if form == "long":
            return pd.DataFrame(columns)
        if form == "wide":
            frame = pd.DataFrame({k: columns[k] for k in ("record", "feature", "label", "attribution")})
            if frame.empty:
                return pd.DataFrame()
            frame["feature"] = frame["feature"].astype(str)
            wide = frame.pivot_table(
                index=["record", "label"], columns="feature", values="attribution", aggfunc="sum", sort=False
            )
            wide.columns.name = None
            return wide.reset_index()
        raise KitError(f"form must be 'long' or 'wide', not {form!r}")

    @property
    def has_standard_errors(self) -> bool:
        """Whether the response carries standard errors (the self-hosted explainer's)."""
        return any(
            unit.standard_errors is not None
            for record in self.records
            for feature in record.features or ()
            for unit in feature.attributions
        )

    def render_table(self) -> str:
        """A terminal table: each record's prediction, then one line per feature (and text unit) and label."""
        lines = []
        for record in self.records:
            scores = ", ".join(f"{s:.6g}" for s in record.scores) if record.scores else record.output.strip()
            lines.append(
                f"record {record.index}: prediction {scores}" + ("" if record.explained else "  (not explained)")
            )
            width = max((len(u.values) for f in record.features or () for u in f.attributions), default=0)
            scales = [
                noise_scale(u.values[k] for f in record.features or () for u in f.attributions) for k in range(width)
            ]
            for feature in record.features or ():
                for unit in feature.attributions:
                    name = (
                        str(feature.name)
                        if unit.partial_text is None
                        else f"{feature.name}: {unit.partial_text!r}@{unit.start_idx}"
                    )
                    values = "  ".join(
                        f"{self.label_name(k)}={display_number(v, 6, scale=scales[k], sign=True)}"
                        + _error_note(unit, k, scales[k])
                        for k, v in enumerate(unit.values)
                    )
                    lines.append(f"    {name:32s} {values}")
        return "\n".join(lines)

    def write_csv(self, stream: TextIO) -> None:
        """The long form as CSV, with a header line (columns: record, feature, label, attribution, feature_type,
        partial_text, start_idx; and standard_error when the self-hosted explainer sent them)."""
        names = [*LONG_COLUMNS, "standard_error"] if self.has_standard_errors else list(LONG_COLUMNS)
        writer = csv.DictWriter(stream, fieldnames=names, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in self.rows(feature_type=True))

    def summary(self) -> dict[str, Any]:
        """The envelope's version, predictions and label headers, and the indexes of the explained records."""
        response = self.response
        return {
            "version": response.version,
            "predictions": asdict(response.predictions),
            "label_headers": response.label_headers,
            "explained": self.explained_indexes,
        }

    def additivity(
        self, expected_value: list[float], *, use_logit: bool = False, tolerance: float = 1e-3
    ) -> list[dict[str, Any]]:
        """Check ``prediction == expected value + sum(attributions)`` for every explained record and label.

        ``expected_value`` is the model output averaged over the baseline (``EndpointClient.expected_value``);
        with ``use_logit`` both sides are compared in log-odds.
        """
        checks = []
        for record in self.records:
            if not record.explained or record.scores is None:
                continue
            totals = record.attribution_sum()
            for k, total in enumerate(totals):
                if k >= len(record.scores) or k >= len(expected_value):
                    continue
                prediction = logit(record.scores[k]) if use_logit else record.scores[k]
                gap = abs(expected_value[k] + total - prediction)
                checks.append(
                    {
                        "record": record.index,
                        "label": self.label(k),
                        "prediction": prediction,
                        "expected_value": expected_value[k],
                        "attribution_sum": total,
                        "gap": gap,
                        "ok": gap <= tolerance,
                    }
                )
        return checks


def _long_columns(result: InvokeResult) -> dict[str, list[Any]]:
    """The long form as columns (much faster to turn into a DataFrame than a list of dicts)."""
    names = LONG_COLUMNS
    cols: dict[str, list[Any]] = {n: [] for n in names}
    record_col, feature_col, label_col, value_col = (cols[n] for n in names[:4])
    type_col, text_col, start_col = (cols[n] for n in names[4:])
    labels = [result.label(k) for k in range(max(16, len(result.label_headers or ())))]
    for record in result.records:
        for feature in record.features or ():
            name, ftype = feature.name, feature.feature_type
            for unit in feature.attributions:
                for k, value in enumerate(unit.values):
                    record_col.append(record.index)
                    feature_col.append(name)
                    label_col.append(labels[k] if k < len(labels) else result.label(k))
                    value_col.append(value)
                    type_col.append(ftype)
                    text_col.append(unit.partial_text)
                    start_col.append(unit.start_idx)
    if result.has_standard_errors:
        cols["standard_error"] = [
            None if unit.standard_errors is None else unit.standard_errors[k]
            for record in result.records
            for feature in record.features or ()
            for unit in feature.attributions
            for k in range(len(unit.values))
        ]
    return cols


def long_rows(result: InvokeResult, *, feature_type: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for record in result.records:
        for feature in record.features or ():
            for unit in feature.attributions:
                for k, value in enumerate(unit.values):
                    row: dict[str, Any] = {
                        "record": record.index,
                        "feature": feature.name,
                        "label": result.label(k),
                        "attribution": value,
                    }
                    if feature_type and feature.feature_type is not None:
                        row["feature_type"] = feature.feature_type
                    if unit.partial_text is not None:
                        row["partial_text"] = unit.partial_text
                        row["start_idx"] = unit.start_idx
                    if unit.standard_errors is not None:
                        row["standard_error"] = unit.standard_errors[k]
                    rows.append(row)
    return rows


def parse_results(data: bytes, spec: ExplainerSpec | None = None) -> InvokeResult:
    """One response body, or a Batch Transform output file (one response per line, AssembleWith Line): the
    responses' records in order, numbered across the file."""
    text = data.decode("utf-8-sig", "replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) <= 1 or not all(line.lstrip().startswith("{") for line in lines):
        return parse_result(data, spec)
    try:
        import json

        documents = [json.loads(line) for line in lines]
    except ValueError:
        return parse_result(data, spec)  # one document over several lines: parse_result reads it
    parts = [parse_result(document, spec) for document in documents]
    records: list[RecordExplanation] = []
    for part in parts:
        records += [replace(r, index=len(records) + i) for i, r in enumerate(part.records)]
    warnings = tuple(w for part in parts for w in part.warnings)
    return replace(parts[0], records=tuple(records), warnings=warnings, body=None)


def parse_result(
    body: bytes | str | dict[str, Any],
    spec: ExplainerSpec | None = None,
    *,
    invoked_variant: str | None = None,
    latency_ms: float | None = None,
    request_records: int | None = None,
) -> InvokeResult:
    """Parse a response body; scores come from the container's payload with the config's selectors if known.

    ``request_records`` is how many records the request held, where the caller knows it: with nothing explained
    (``explanations: {}``) the payload alone cannot tell one record of several scores from several records answered
    on one CSV line (``0.97,0.02``, as multi-model and XGBoost containers answer), so the request decides.

    Raises
    ------
    ResponseParseError: the body does not follow the explainer response schema.
    """
    response = parse_response(body)
    content_type = response.predictions.content_type
    warnings: list[str] = []
    if response.version != SCHEMA_VERSION:
        warnings.append(f"$.version is {response.version!r}; the kit knows schema {SCHEMA_VERSION!r}")
    try:
        outputs = split_output_records(response.predictions.data, content_type)
    except CodecError as err:
        outputs = []
        warnings.append(
            f"$.predictions.data cannot be split into records as {base_content_type(content_type)}: "
            f"{err}; scores are not read"
        )
    explanations = response.explanations
    count = len(explanations) if explanations else (request_records or len(outputs))
    reader = _score_reader(content_type, spec)
    if (explanations or request_records) and len(outputs) != count:
        outputs = _regroup(outputs, count, content_type, warnings)
    records = []
    for i in range(count):
        output = outputs[i] if i < len(outputs) else ""
        scores = _scores(output, reader) if output else None
        features = explanations[i] if explanations else None
        records.append(RecordExplanation(i, output, scores, features))
    labels = response.label_headers
    if labels is None and spec is not None and spec.label_headers:
        labels = spec.label_headers
    return InvokeResult(response, tuple(records), labels, invoked_variant, latency_ms, tuple(warnings), spec=spec)


def _regroup(outputs: list[str], count: int, content_type: str, warnings: list[str]) -> list[str]:
    """Match container output to the explainer's records when the line count differs.

    The documented CSV form ``0.6,0.3`` answers two single-score records on one line: split it into one value per
    record. Anything else keeps the explanations and drops the scores, with a warning.
    """
    split = split_single_line(outputs, count, content_type)
    if split is not None:
        return split
    warnings.append(f"{len(outputs)} prediction records for {count} explanation entries; scores are not read")
    return []


def _score_reader(content_type: str, spec: ExplainerSpec | None) -> ExplainerSpec:
    """The config's selectors (when known) applied to the container's actual response format."""
    from dataclasses import replace

    kind = base_content_type(content_type)
    if spec is None:
        return ExplainerSpec(content_type=kind, accept=kind)
    return replace(spec, accept=kind or spec.accept)


def _scores(output: str, reader: ExplainerSpec) -> tuple[float, ...] | None:
    """Scores of one output record; None when the payload gives no numbers the client can identify."""
    try:
        return tuple(reader.scores(output))
    except (CodecError, ExpressionError, ValueError, TypeError):
        return None


def parse_saved(data: bytes, spec: ExplainerSpec | None = None) -> InvokeResult:
    """A saved response: the body exactly as received, or the output of ``clarify-kit invoke --json``, which
    holds it under ``response``.

    Raises
    ------
    ResponseParseError: the data is neither.
    """
    return parse_results(_unwrap_invoke_output(data), spec)


def _unwrap_invoke_output(data: bytes) -> bytes:
    """The response body inside `clarify-kit invoke --json` output, so that parse takes either."""
    try:
        document = json.loads(data)
    except ValueError:
        return data  # not JSON: parse_result says so precisely
    inner = document.get("response") if isinstance(document, dict) else None
    if isinstance(inner, dict) and "predictions" in inner and "version" not in document:
        return json.dumps(inner).encode("utf-8")
    return data


def _error_note(unit: Any, k: int, scale: float) -> str:
    """`` ±1.2e-3`` (1.645 standard errors: a 90 % interval) and ``(~0)`` when the interval holds zero."""
    if unit.standard_errors is None:
        return ""
    half = 1.645 * unit.standard_errors[k]
    note = f" ±{display_number(half, 2, scale=scale)}"
    return note + (" (~0)" if unit.indistinguishable_from_zero(k) else "")
