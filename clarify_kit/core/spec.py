"""The explainer's view of a config: formats, selectors, headers and baseline, resolved once and shared."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from clarify_kit.core.codecs import (
    CSV,
    JSONLINES,
    SUPPORTED_CONTENT_TYPES,
    base_content_type,
    deserialize_output_record,
    encode_record,
    is_numeric,
    read_csv_rows,
    read_jsonlines,
)
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import CodecError, ConfigError, ExpressionError, Issue
from clarify_kit.core.expressions import compile_expression, type_name
from clarify_kit.core.limits import BYTES_PER_MB, DEFAULT_MAX_PAYLOAD_MB, LOGIT_EPS
from clarify_kit.core.response import orjson_or_none
from clarify_kit.core.scores import ScoreSelector, select

__all__ = ["ExplainerSpec", "logit"]


@dataclass(frozen=True)
class ExplainerSpec:
    """Everything the explainer needs from ``ClarifyExplainerConfig`` and the container settings."""

    content_type: str
    accept: str
    enable_explanations: str | None = None
    feature_headers: tuple[str, ...] | None = None
    feature_types: tuple[str, ...] | None = None
    label_headers: tuple[str, ...] | None = None
    features_attribute: str | None = None
    content_template: str | None = None
    probability_index: int | None = None
    label_index: int | None = None
    probability_attribute: str | None = None
    label_attribute: str | None = None
    max_record_count: int | None = None
    max_payload_mb: int = DEFAULT_MAX_PAYLOAD_MB
    number_of_samples: int | None = None
    seed: int | None = None
    use_logit: bool = False
    baseline_mime_type: str = CSV
    baseline: str | None = None
    baseline_uri: str | None = None
    language: str | None = None
    granularity: str | None = None
    # The self-hosted explainer (ClarifyKit.Explainer: SelfHosted) adds standard errors, and samples to a target
    # error when ClarifyKit.SelfHosted.TargetError is set (docs/explainer.md 3.10).
    self_hosted: bool = False
    target_error: float | None = None
    _compiled: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_config(cls, config: DeploymentConfig) -> ExplainerSpec:
        """Resolve the explainer settings of ``config`` (which must carry a ClarifyExplainerConfig)."""
        clarify = config.clarify
        if clarify is None:
            raise ConfigError(
                Issue(
                    "EndpointConfig.ExplainerConfig.ClarifyExplainerConfig",
                    "required: the config has no Clarify explainer to emulate or read responses with",
                )
            )
        inference = clarify.InferenceConfig
        shap = clarify.ShapConfig
        baseline = shap.ShapBaselineConfig
        container = config.ClarifyKit.Container
        get = (lambda name: getattr(inference, name)) if inference else (lambda name: None)
        jsonlines_in = get("ContentTemplate") or base_content_type(baseline.MimeType) == JSONLINES
        content_type = container.ContentType or (JSONLINES if jsonlines_in else CSV)
        json_out = get("ProbabilityAttribute") or get("LabelAttribute")
        accept = container.Accept or (JSONLINES if json_out else CSV)
        text = shap.TextConfig
        return cls(
            content_type=content_type,
            accept=accept,
            enable_explanations=clarify.EnableExplanations,
            feature_headers=_tuple(get("FeatureHeaders")),
            feature_types=_tuple(get("FeatureTypes")),
            label_headers=_tuple(get("LabelHeaders")),
            features_attribute=get("FeaturesAttribute"),
            content_template=get("ContentTemplate"),
            probability_index=get("ProbabilityIndex"),
            label_index=get("LabelIndex"),
            probability_attribute=get("ProbabilityAttribute"),
            label_attribute=get("LabelAttribute"),
            max_record_count=get("MaxRecordCount"),
            max_payload_mb=get("MaxPayloadInMB") or DEFAULT_MAX_PAYLOAD_MB,
            number_of_samples=shap.NumberOfSamples,
            seed=shap.Seed,
            use_logit=bool(shap.UseLogit),
            baseline_mime_type=baseline.MimeType or CSV,
            baseline=baseline.ShapBaseline,
            baseline_uri=baseline.ShapBaselineUri,
            language=text.Language if text else None,
            granularity=text.Granularity if text else None,
            self_hosted=config.ClarifyKit.Explainer == "SelfHosted",
            target_error=config.ClarifyKit.SelfHosted.TargetError,
        )

    # --- features -----------------------------------------------------------------------------------------

    @property
    def max_payload_bytes(self) -> int:
        return self.max_payload_mb * BYTES_PER_MB

    def with_baseline(self, text: str) -> ExplainerSpec:
        """This spec with the baseline's records read from elsewhere (an S3 object, a local copy of it)."""
        return replace(self, baseline=text, _compiled={})

    @property
    def baseline_type_supported(self) -> bool:
        """Whether the baseline's MimeType is one the explainer reads (text/csv or application/jsonlines)."""
        return base_content_type(self.baseline_mime_type) in SUPPORTED_CONTENT_TYPES

    @property
    def is_text(self) -> bool:
        return self.granularity is not None

    def _expr(self, expr: str) -> Any:
        if expr not in self._compiled:
            self._compiled[expr] = compile_expression(expr)
        return self._compiled[expr]

    def n_features(self) -> int | None:
        """The feature count (before text units): FeatureHeaders, else FeatureTypes, else the inline baseline's
        width; None when none of them tells it (an S3 baseline without headers, or an unreadable one)."""
        if self.feature_headers is not None:
            return len(self.feature_headers)
        if self.feature_types is not None:
            return len(self.feature_types)
        try:
            rows = self.baseline_rows() if self.baseline_type_supported else []
        except (CodecError, ExpressionError):
            return None
        return len(rows[0]) if rows else None

    def feature_kinds(self, baseline_row: list[Any] | None = None) -> list[str]:
        """Each feature's type: FeatureTypes when given, else inferred from the baseline as the API describes
        (with TextConfig, a baseline value that is not a number marks a text feature)."""
        if self.feature_types is not None:
            return list(self.feature_types)
        row = baseline_row if baseline_row is not None else (self.baseline_rows() or [[]])[0]
        if not self.is_text:
            return ["numerical"] * len(row)
        return ["numerical" if is_numeric(v) else "text" for v in row]

    def parse_request(self, payload: str, content_type: str | None = None) -> list[list[Any]]:
        """Split a request body into records and return each record's feature list."""
        kind = base_content_type(content_type or self.content_type)
        if kind == CSV:
            return [list(row) for row in read_csv_rows(payload)]
        if kind == JSONLINES:
            return [self.record_features(value) for value in read_jsonlines(payload)]
        raise CodecError(f"unsupported content type {content_type!r}; use text/csv or application/jsonlines")

    def record_features(self, record: Any) -> list[Any]:
        """The feature list of one JSON Lines record (read with FeaturesAttribute when set)."""
        value = record
        if self.features_attribute:
            value = self._expr(self.features_attribute).search(record)
        if not isinstance(value, list):
            where = f"FeaturesAttribute {self.features_attribute!r}" if self.features_attribute else "the record"
            raise CodecError(f"{where} gives {type_name(value)}, not a list of features: {_short(record)}")
        return value

    def baseline_rows(self) -> list[list[Any]]:
        """The inline baseline as feature lists (empty when the baseline is in S3)."""
        if self.baseline is None:
            return []
        kind = base_content_type(self.baseline_mime_type)
        if kind == CSV:
            return [list(row) for row in read_csv_rows(self.baseline)]
        if kind == JSONLINES:
            return [self.record_features(v) for v in read_jsonlines(self.baseline)]
        raise CodecError(f"unsupported baseline MimeType {self.baseline_mime_type!r}")

    def encode_records(self, rows: list[list[Any]]) -> str:
        """Serialize feature lists into a container request body in ``content_type``."""
        return "\n".join(encode_record(row, self.content_type, self.content_template) for row in rows)

    # --- predictions --------------------------------------------------------------------------------------

    def output_record(self, record: str) -> Any:
        """A container output record deserialized as the explainer does before evaluating EnableExplanations."""
        return deserialize_output_record(record, self.accept)

    def score_name(self, k: int, count: int | None = None) -> str:
        """What the ``k``-th explained score is, for people: its LabelHeaders entry, else where it comes from in the
        container's output (``score[1]`` with ProbabilityIndex 1; with ProbabilityAttribute the expression itself when
        it selects one score, ``count`` 1, else ``probability[0]``), so that nobody reads an explained probability of
        class 1 as "label 0"."""
        if self.label_headers and k < len(self.label_headers):
            return self.label_headers[k]
        if self.probability_attribute:
            return self.probability_attribute if count == 1 else f"{self.probability_attribute}[{k}]"
        return f"score[{(self.probability_index or 0) + k}]"

    @property
    def selector(self) -> ScoreSelector:
        """The configured score selector (clarify_kit.core.scores: the one reader of explained scores)."""
        if "selector" not in self._compiled:
            self._compiled["selector"] = ScoreSelector(self.probability_index, self.probability_attribute)
        selector: ScoreSelector = self._compiled["selector"]
        return selector

    def scores(self, record: str) -> list[float]:
        """The probability/score values of one container output record, per the configured selector."""
        return self.selector.scores(record, self.accept)

    def scores_batch(self, payload: str, content_type: str | None = None) -> np.ndarray:
        """Scores of every record of a container response as an (n, K) array.

        Plain numeric CSV and simple JSON keys take a vectorized path; anything else goes record by record,
        whose errors name the offending record.
        """
        import numpy as np  # imported here: the static precheck never needs numpy

        kind = base_content_type(content_type or self.accept)
        fast = _fast_scores(payload, kind, self.probability_index, self.probability_attribute)
        if fast is not None:
            return fast
        from clarify_kit.core.codecs import split_output_records

        return np.array([self.scores(r) for r in split_output_records(payload, kind)], dtype=np.float64)

    def labels(self, record: str) -> list[str] | None:
        """Label headers found in a container output record (LabelIndex/LabelAttribute), or None."""
        if self.label_index is None and self.label_attribute is None:
            return None
        value = self._select(record, self.label_index, self.label_attribute, "label")
        values = value if isinstance(value, list) else [value]
        return [str(v) for v in values]

    def _select(self, record: str, index: int | None, attribute: str | None, what: str) -> Any:
        return select(record, self.accept, index, attribute, what, self._compiled)


def logit(p: float) -> float:
    """log(p / (1 - p)) with p clipped to [LOGIT_EPS, 1 - LOGIT_EPS]: a probability in log-odds (UseLogit)."""
    q = min(max(p, LOGIT_EPS), 1 - LOGIT_EPS)
    return math.log(q / (1 - q))


def _tuple(value: list[str] | None) -> tuple[str, ...] | None:
    return tuple(value) if value is not None else None


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fast_scores(payload: str, kind: str, index: int | None, attribute: str | None) -> np.ndarray | None:
    """The scores of a plain answer in one pass: numeric CSV (every line the same number of numbers) or JSON Lines
    with a simple key; None for anything else (the record-by-record path then names what is wrong).

    Numbers go through orjson where installed (the local extra): it reads a decimal into the same correctly
    rounded double as ``float()`` in a fifth of the time, and refuses what is not a JSON number (``.5``, ``NaN``,
    ``1_0``), which then takes numpy's reading. ``true``, ``false`` and ``null`` are JSON but not scores: an answer
    holding the letters ``u`` or ``a`` never takes the orjson path.
    """
    import numpy as np

    orjson = orjson_or_none()
    loads = None if orjson is None else orjson.loads
    if kind == CSV and '"' not in payload and "[" not in payload and "{" not in payload:
        one = "," not in payload and index in (None, 0)
        if loads is not None and "u" not in payload and "a" not in payload:
            # the lines as one JSON array: each line break a comma (a blank line or a stray space inside a line
            # makes it invalid JSON, and the answer then takes the split reading below)
            body = payload.strip()
            if "\r" in body:
                body = "\n".join(body.splitlines())
            table = _json_table(body, one, loads)
            if table is not None:
                return _column(table, one, index)
        lines = payload.split()
        try:
            table = np.array(lines if one else [line.split(",") for line in lines], dtype=np.float64)
        except (ValueError, IndexError):
            return None  # ragged or non-numeric: the general path names the problem
        return _column(table, one, index)
    if kind == JSONLINES and attribute and attribute.isidentifier():
        read = loads or json.loads
        try:
            values = [read(line)[attribute] for line in payload.splitlines() if line.strip()]
            rows = [v if isinstance(v, list) else [v] for v in values]
        except (ValueError, KeyError, TypeError):
            return None
        if any(type(x) not in _NUMBERS for row in rows for x in row):  # JSON true is no score (numpy would take 1)
            return None
        try:
            return np.array(rows, dtype=np.float64)
        except ValueError:  # ragged
            return None
    return None


_NUMBERS = (float, int)


def _json_table(body: str, one: bool, loads: Any) -> np.ndarray | None:
    """CSV lines of numbers read as one flat JSON array (every comma and line break a separator), shaped by the
    line breaks; None when that is not JSON or the lines do not all hold as many numbers."""
    import numpy as np

    columns = 1
    if not one:
        raw = np.frombuffer(body.encode("ascii", "replace"), dtype=np.uint8)
        commas = np.flatnonzero(raw == 44)  # ","
        breaks = np.flatnonzero(raw == 10)  # "\n"
        per_line = np.diff(np.searchsorted(commas, breaks), prepend=0, append=len(commas))
        if not (per_line == per_line[0]).all():
            return None
        columns = int(per_line[0]) + 1
    try:
        flat = np.array(loads("[" + body.replace("\n", ",") + "]"), dtype=np.float64)
    except (ValueError, TypeError):
        return None
    if flat.ndim != 1 or len(flat) % columns:
        return None
    return flat if one else flat.reshape(-1, columns)


def _column(table: np.ndarray, one: bool, index: int | None) -> np.ndarray | None:
    if one:
        return table.reshape(-1, 1)
    if index is None:
        return table
    if not 0 <= index < table.shape[1]:
        return None
    return table[:, index : index + 1]
