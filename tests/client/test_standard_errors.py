"""The self-hosted explainer's standard errors as the kit reads and shows them: parsed and checked, folded in the
waterfall, and named in the report when an attribution is indistinguishable from zero."""

from __future__ import annotations

import json
import math

import pytest

from clarify_kit.client.bulk import record_outcome
from clarify_kit.client.plots import waterfall_steps
from clarify_kit.client.report import RunData, render_html
from clarify_kit.client.result import parse_result
from clarify_kit.core.errors import ResponseParseError


def _envelope(errors: list[object]) -> bytes:
    features = [
        {"feature_header": name, "attributions": [{"attribution": [value], "standard_error": [error]}]}
        for name, value, error in zip(("a", "b"), (0.3, 0.001), errors, strict=True)
    ]
    return json.dumps(
        {
            "version": "1.0",
            "predictions": {"content_type": "text/csv", "data": "0.8"},
            "explanations": {"kernel_shap": [features]},
        }
    ).encode()


def test_the_parser_reads_intervals_and_which_hold_zero() -> None:
    result = parse_result(_envelope([0.01, 0.002]))
    a, b = (f.attributions[0] for f in result.records[0].features or ())
    assert a.interval(0) == pytest.approx((0.3 - 1.645 * 0.01, 0.3 + 1.645 * 0.01))
    assert not a.indistinguishable_from_zero(0) and b.indistinguishable_from_zero(0)
    assert "(~0)" in result.render_table() and "standard_error" in result.to_dataframe().columns


def test_a_bad_standard_error_is_refused_with_its_path() -> None:
    with pytest.raises(ResponseParseError, match=r"\[1\]\.attributions\[0\]\.standard_error\[0\]: expected a finite"):
        parse_result(_envelope([0.01, -1]))
    body = json.loads(_envelope([0.1, 0.1]))
    body["explanations"]["kernel_shap"][0][0]["attributions"][0]["standard_error"] = [0.1, 0.2]
    with pytest.raises(ResponseParseError, match="expected a list of 1 numbers"):
        parse_result(json.dumps(body).encode())


def test_the_waterfall_folds_standard_errors_as_independent() -> None:
    _, steps = waterfall_steps(["a", "b", "c"], [0.5, 0.2, 0.1], 1.0, max_display=2, standard_errors=[0.1, 0.3, 0.4])
    assert steps[0].standard_error == 0.1 and steps[1].standard_error == pytest.approx(math.hypot(0.3, 0.4))


def test_the_report_says_which_attributions_are_indistinguishable_from_zero() -> None:
    result = parse_result(_envelope([0.01, 0.002]))
    outcome = record_outcome(0, result.records[0], result)
    html = render_html(RunData(title="t", outcomes=[outcome]))
    assert "1 of 2 attributions are indistinguishable from zero" in html and "b (1 of 1)" in html
