"""JMESPath as the explainer evaluates it, with the documented examples of docs/explainer.md 3.8."""

from __future__ import annotations

from typing import Any

import pytest

from clarify_kit.core.codecs import deserialize_output_record
from clarify_kit.core.errors import ExpressionError
from clarify_kit.core.expressions import evaluate, lint


@pytest.mark.parametrize(
    ("expr", "output", "content_type", "expected"),
    [
        pytest.param("`true`", "0.6", "text/csv", True, id="always"),
        pytest.param("`false`", "0.6", "text/csv", False, id="never"),
        pytest.param("[1]>`0.5`", "1,0.6", "text/csv", True, id="csv-index"),
        pytest.param(
            "probability>`0.5`",
            '{"predicted_label":1,"probability":0.6}',
            "application/jsonlines",
            True,
            id="jsonlines-attribute",
        ),
        pytest.param(
            "!contains(probabilities[:-1], max(probabilities))",
            '{"probabilities": [0.4, 0.1, 0.4], "labels":["cat","dog","fish"]}',
            "application/jsonlines",
            False,
            id="argmax-is-last",
        ),
        pytest.param("[0]>`0.8`", "0.6380207487381995", "text/csv", False, id="threshold"),
        pytest.param(
            "max(probabilities)>`0.5`", '{"probabilities":[0.1,0.6,0.3]}', "application/jsonlines", True, id="max"
        ),
        pytest.param(
            "predicted_label==`1`",
            '{"predicted_label":1,"probability":0.6}',
            "application/jsonlines",
            True,
            id="equality",
        ),
    ],
)
def test_documented_expressions_evaluate_as_documented(
    expr: str, output: str, content_type: str, expected: Any
) -> None:
    result = evaluate(expr, deserialize_output_record(output, content_type))
    assert result.value is expected and result.is_boolean


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        pytest.param("true", None, id="bare-true"),
        pytest.param("[0]", 0.6, id="bare-index"),
        pytest.param("probability", None, id="missing-field"),
    ],
)
def test_non_boolean_results_are_flagged(expr: str, value: Any) -> None:
    result = evaluate(expr, [0.6])
    assert result.value == value and not result.is_boolean
    assert "not a boolean" in result.describe()


def test_syntax_error_shows_a_caret_under_the_column() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("[1]>0.5", [1, 0.6])
    lines = str(info.value).splitlines()
    assert "at column 5" in lines[0]
    assert lines[1].strip() == "[1]>0.5"
    assert lines[2].index("^") - lines[1].index("[") == 4
    assert "`0.5`" in lines[3]


def test_lint_flags_bare_and_legacy_literals() -> None:
    assert any("`true`" in p for p in lint("true"))
    assert any("read as the string 'True'" in p for p in lint("`True`"))
    assert lint("[0]>`0.5`") == []


def test_csv_cells_are_numbers_when_they_read_as_numbers() -> None:
    assert deserialize_output_record('1,0.6,"cat",1e-3', "text/csv") == [1, 0.6, "cat", 0.001]


def test_comparing_a_string_cell_with_a_number_is_the_kits_error() -> None:
    with pytest.raises(ExpressionError, match='orders values that are not both numbers on the record \\["cat"\\]'):
        evaluate("[0]>`0.5`", ["cat"])
