"""The explained score of a container answer, read as the explainer reads it: one reader for every user.

The explainer reads each output record with the config's selector (``ProbabilityIndex`` for CSV answers,
``ProbabilityAttribute`` for JSON Lines answers; neither: the whole record) and explains those numbers. The client's
tables, smoke checks and the drift monitor read the same numbers through this module, so that a mean prediction is
the mean of what was explained and never the first number that happens to stand on a line.

Standard library and jmespath only (jmespath ships with boto3 on AWS Lambda's Python runtime): the scheduled drift
function reads scores through this module too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from clarify_kit.core.codecs import (
    CSV,
    base_content_type,
    cell_value,
    deserialize_output_record,
    output_records,
    parse_list_cell,
    read_csv_rows,
    split_output_records,
)
from clarify_kit.core.errors import CodecError, ExpressionError
from clarify_kit.core.expressions import compile_expression, type_name

__all__ = ["ScoreSelector", "record_scores", "select"]


@dataclass(frozen=True)
class ScoreSelector:
    """Where the explained score stands in an output record (the config's ProbabilityIndex/ProbabilityAttribute).

    ``assumed`` marks a selector made without a config: its ``describe()`` says what was assumed.
    """

    probability_index: int | None = None
    probability_attribute: str | None = None
    assumed: bool = False
    _compiled: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> str:
        """What this selector reads, for people (and, without a config, that it is an assumption)."""
        if self.probability_attribute:
            what = f"ProbabilityAttribute {self.probability_attribute!r} of each JSON Lines answer"
        elif self.probability_index is not None:
            what = f"column {self.probability_index} (ProbabilityIndex) of each CSV answer"
        else:
            what = "every number of each CSV answer, or each JSON answer when it is a number or a list of numbers"
        if self.assumed:
            return f"predictions read as {what}: assumed without a config (give --config to read the configured score)"
        return f"predictions read as {what}"

    def scores(self, record: str, content_type: str) -> list[float]:
        """The explained score(s) of one output record.

        Raises
        ------
        CodecError: the record has no number where the selector points.
        """
        value = select(record, content_type, self.probability_index, self.probability_attribute, "probability",
                       self._compiled)  # fmt: skip
        numbers = value if isinstance(value, list) else [value]
        out = []
        for number in numbers:
            if isinstance(number, str):
                number = cell_value(number)
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise CodecError(f"the score is {type_name(number)} {_short(number)}, not a number")
            out.append(float(number))
        if not out:
            raise CodecError("the score list is empty")
        return out


def select(
    record: str, content_type: str, index: int | None, attribute: str | None, what: str, compiled: dict[str, Any]
) -> Any:
    """The value a LabelIndex/ProbabilityIndex (CSV) or LabelAttribute/ProbabilityAttribute (JSON) points at."""
    if base_content_type(content_type) == CSV:
        rows = read_csv_rows(record)
        if len(rows) != 1:
            raise CodecError(f"expected one CSV output record, found {len(rows)} in {_short(record)}")
        raw = rows[0]
        if index is None:
            return _cell(raw[0]) if len(raw) == 1 else [cell_value(c) for c in raw]
        if index >= len(raw):
            raise CodecError(f"{what.capitalize()}Index {index} is outside the {len(raw)} columns of {_short(record)}")
        return _cell(raw[index])
    data = deserialize_output_record(record, content_type)
    if attribute is None:
        return data
    if attribute not in compiled:
        compiled[attribute] = compile_expression(attribute)
    try:
        return compiled[attribute].search(data)
    except (ExpressionError, TypeError, ValueError) as err:
        raise CodecError(f"{what.capitalize()}Attribute {attribute!r} failed on {_short(data)}: {err}") from err


def record_scores(
    data: str, content_type: str, count: int | None, selector: ScoreSelector
) -> tuple[list[tuple[float, ...] | None], str | None]:
    """Each record's explained scores from a container answer (``predictions.data`` of an explainer response).

    ``count`` is the number of request records when known: the documented one-line CSV answer (``0.6,0.3`` for two
    records) is split into one score per record, as the explainer splits it. Returns one entry per record (None where
    the selector finds no number) and a problem that left every score unread, or None.
    """
    try:
        if count is None:
            outputs = split_output_records(data, content_type)
        else:
            outputs, _ = output_records(data, content_type, count)
    except CodecError as err:
        return [None] * (count or 0), f"the answer cannot be split into records ({err})"
    if count is not None and len(outputs) != count:
        return [None] * count, f"{len(outputs)} answer records for {count} request records"
    out: list[tuple[float, ...] | None] = []
    for output in outputs:
        try:
            out.append(tuple(selector.scores(output, content_type)))
        except (CodecError, ExpressionError, ValueError, TypeError, RecursionError):
            out.append(None)
    return out, None


def _cell(cell: str) -> Any:
    listed = parse_list_cell(cell)
    return listed if listed is not None else cell_value(cell)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
