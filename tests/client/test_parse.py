"""The response parser: documented examples, service quirks, and hypothesis-generated valid and corrupted bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarify_kit.client.result import parse_result
from clarify_kit.core.errors import ResponseParseError
from clarify_kit.core.response import build_response, parse_response
from tests.helpers import run_cli

DOC_MINIMAL = {  # docs/explainer.md 4.3
    "version": "1.0",
    "predictions": {"content_type": "text/csv; charset=utf-8", "data": "0.0006380207487381"},
    "explanations": {
        "kernel_shap": [
            [
                {"attributions": [{"attribution": [-0.00433456]}]},
                {"attributions": [{"attribution": [-0.005369821]}]},
                {"attributions": [{"attribution": [0.007917749]}]},
                {"attributions": [{"attribution": [-0.00261214]}]},
            ]
        ]
    },
}
DOC_FILTERED = {
    "version": "1.0",
    "predictions": {"content_type": "text/csv; charset=utf-8", "data": "0.6380207487381995"},
    "explanations": {},
}
DOC_NLP = {  # docs/explainer.md 4.5
    "version": "1.0",
    "predictions": {"content_type": "text/csv", "data": "0.9766594\n"},
    "explanations": {
        "kernel_shap": [
            [
                {
                    "attributions": [
                        {
                            "attribution": [-0.007270948666666712],
                            "description": {"partial_text": "This", "start_idx": 0},
                        },
                        {"attribution": [-0.018199033666666628], "description": {"partial_text": "is", "start_idx": 5}},
                        {"attribution": [0.01970993241666666], "description": {"partial_text": "a", "start_idx": 8}},
                        {"attribution": [0.1253469515833334], "description": {"partial_text": "good", "start_idx": 10}},
                        {
                            "attribution": [0.03291143366666657],
                            "description": {"partial_text": "product", "start_idx": 15},
                        },
                    ],
                    "feature_type": "text",
                }
            ]
        ]
    },
}
DOC_MULTICLASS = {  # docs/explainer.md 4.6
    "version": "1.0",
    "predictions": {
        "content_type": "application/jsonlines",
        "data": '{"predicted_labels":["cat","dog","fish"],"probabilities":[0.1,0.6,0.3]}',
    },
    "label_headers": ["cat", "dog", "fish"],
    "explanations": {
        "kernel_shap": [
            [
                {"feature_header": "f1", "attributions": [{"attribution": [0.01, -0.03, 0.02]}]},
                {"feature_header": "f2", "attributions": [{"attribution": [-0.02, 0.05, -0.03]}]},
                {"feature_header": "f3", "attributions": [{"attribution": [0.00, 0.01, -0.01]}]},
                {"feature_header": "f4", "attributions": [{"attribution": [0.03, -0.02, -0.01]}]},
            ]
        ]
    },
}


def test_minimal_documented_response_without_feature_headers() -> None:
    result = parse_result(json.dumps(DOC_MINIMAL))
    assert result.records[0].scores == (0.0006380207487381,)
    rows = result.rows()
    assert [r["feature"] for r in rows] == [0, 1, 2, 3]
    assert [r["label"] for r in rows] == [0, 0, 0, 0]
    assert rows[2]["attribution"] == 0.007917749


def test_nothing_explained_is_an_empty_object_not_an_empty_list() -> None:
    result = parse_result(json.dumps(DOC_FILTERED))
    assert result.explained_indexes == [] and result.rows() == []
    assert result.records[0].scores == (0.6380207487381995,)


def test_nlp_units_keep_their_text_and_offsets_and_trailing_newline_is_harmless() -> None:
    result = parse_result(json.dumps(DOC_NLP))
    assert len(result.records) == 1
    rows = result.rows()
    assert [(r["partial_text"], r["start_idx"]) for r in rows] == [
        ("This", 0),
        ("is", 5),
        ("a", 8),
        ("good", 10),
        ("product", 15),
    ]
    assert all(r["feature_type"] == "text" for r in result.rows(feature_type=True))


def test_multiclass_labels_come_from_the_label_headers() -> None:
    result = parse_result(json.dumps(DOC_MULTICLASS))
    rows = result.rows()
    assert {r["label"] for r in rows} == {"cat", "dog", "fish"}
    assert result.records[0].scores is None  # no selector known without the config
    wide = result.to_dataframe("wide")
    assert list(wide.columns) == ["record", "label", "f1", "f2", "f3", "f4"]
    assert len(result.to_dataframe("long")) == 12


def test_null_entries_mark_records_that_were_not_explained() -> None:
    body = build_response("text/csv", "0.2\n0.9\n", [None, [{"attributions": [{"attribution": [0.5]}]}]])
    result = parse_result(body)
    assert result.explained_indexes == [1]
    assert result.records[0].features is None


def test_one_csv_line_for_two_single_score_records_is_split_per_record() -> None:
    # docs/explainer.md 3.7: '0.6,0.3' is a documented answer for two records
    body = build_response("text/csv", "0.6,0.3", [None, [{"attributions": [{"attribution": [0.5]}]}]])
    result = parse_result(body)
    assert [r.scores for r in result.records] == [(0.6,), (0.3,)]
    assert result.explained_indexes == [1] and result.warnings == ()


def test_an_unmatched_prediction_count_keeps_the_explanations_and_warns() -> None:
    body = build_response("text/csv", "0.2,0.1,0.7", [None, [{"attributions": [{"attribution": [0.5]}]}]])
    result = parse_result(body)
    assert result.explained_indexes == [1] and all(r.scores is None for r in result.records)
    assert "scores are not read" in result.warnings[0]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        pytest.param(b"<html>502</html>", "$: not JSON", id="html"),
        pytest.param(b"\xff\xfe", "not UTF-8", id="binary"),
        pytest.param(b"[]", "expected a JSON object", id="list"),
        pytest.param(b'{"version": 1}', "$.version", id="version-number"),
        pytest.param(
            b'{"version": "1.0", "predictions": {"content_type": "text/csv"}}', "$.predictions.data", id="no-data"
        ),
        pytest.param(
            json.dumps(
                {**DOC_FILTERED, "explanations": {"kernel_shap": [[{"attributions": [{"attribution": ["x"]}]}]]}}
            ).encode(),
            "$.explanations.kernel_shap[0][0].attributions[0].attribution[0]",
            id="string-attribution",
        ),
    ],
)
def test_corrupted_bodies_raise_the_kits_parse_error_with_a_json_path(body: bytes, fragment: str) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse_response(body)
    assert fragment in str(info.value)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def responses(draw: Any) -> tuple[dict[str, Any], list[list[list[float]] | None]]:
    n_records = draw(st.integers(1, 5))
    n_features = draw(st.integers(1, 6))
    n_labels = draw(st.integers(1, 3))
    headers = draw(st.booleans())
    values = [
        draw(
            st.none()
            | st.lists(st.lists(finite, min_size=n_labels, max_size=n_labels), min_size=n_features, max_size=n_features)
        )
        for _ in range(n_records)
    ]
    explanations = [
        None
        if v is None
        else [
            {**({"feature_header": f"f{j}"} if headers else {}), "attributions": [{"attribution": a}]}
            for j, a in enumerate(v)
        ]
        for v in values
    ]
    data = "\n".join(",".join(["0.5"] * n_labels) for _ in range(n_records)) + draw(st.sampled_from(["", "\n"]))
    return build_response("text/csv", data, explanations), values


@settings(max_examples=150, deadline=None)
@given(responses())
def test_valid_responses_round_trip(case: tuple[dict[str, Any], list[list[list[float]] | None]]) -> None:
    body, values = case
    result = parse_result(json.dumps(body).encode())
    assert len(result.records) == len(values)
    for record, expected in zip(result.records, values, strict=True):
        if expected is None:
            assert not record.explained
        else:
            assert [list(f.attributions[0].values) for f in record.features or ()] == expected


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | finite | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "version",
                        "predictions",
                        "explanations",
                        "kernel_shap",
                        "attributions",
                        "attribution",
                        "data",
                        "content_type",
                        "description",
                        "label_headers",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=30,
    )
)
def test_any_json_document_parses_or_raises_only_the_kits_error(document: Any) -> None:
    try:
        parse_result(json.dumps(document))
    except ResponseParseError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_the_kits_error(data: bytes) -> None:
    try:
        parse_result(data)
    except ResponseParseError:
        pass


def test_parse_cli_prints_long_form_json_rows(tmp_path: Any) -> None:
    path = tmp_path / "nlp.json"
    path.write_text(json.dumps(DOC_NLP))
    out = run_cli("parse", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows[3] == {
        "record": 0,
        "feature": 0,
        "label": 0,
        "attribution": 0.1253469515833334,
        "partial_text": "good",
        "start_idx": 10,
    }


def test_an_unknown_schema_version_parses_with_a_warning() -> None:
    result = parse_result(json.dumps({**DOC_FILTERED, "version": "2.0"}))
    assert result.records[0].scores == (0.6380207487381995,)
    assert "'2.0'" in result.warnings[0]


def test_the_table_names_the_explained_score_and_shows_no_noise() -> None:
    from clarify_kit.client.result import parse_result
    from clarify_kit.core.spec import ExplainerSpec

    body = {
        "version": "1.0",
        "predictions": {"content_type": "text/csv", "data": "0.1,0.9\n"},
        "explanations": {
            "kernel_shap": [
                [
                    {"feature_header": "a", "attributions": [{"attribution": [0.41]}]},
                    {"feature_header": "b", "attributions": [{"attribution": [-5.551115123125783e-17]}]},
                    {"feature_header": "c", "attributions": [{"attribution": [-0.0]}]},
                ]
            ]
        },
    }
    table = parse_result(body, ExplainerSpec("text/csv", "text/csv", probability_index=1)).render_table()
    assert "score[1]=+0.41" in table and "score[1]=0" in table, table
    assert "label 0" not in table and "e-17" not in table and "-0.0" not in table
