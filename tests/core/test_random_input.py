"""Hostile input: random and adversarial data into every entry point; only correct results or the kit's errors."""

from __future__ import annotations

import json
import math
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clarify_kit.adapters.files import load_config
from clarify_kit.core.codecs import deserialize_output_record, format_csv_row, read_csv_rows, read_jsonlines
from clarify_kit.core.config import config_from_dict
from clarify_kit.core.errors import CodecError, ConfigError, ConfigFileError, ExpressionError, KitError
from clarify_kit.core.expressions import evaluate, lint
from clarify_kit.explainer import ContainerReply
from clarify_kit.explainer.endpoint import LocalEndpoint
from clarify_kit.precheck import static_precheck
from tests.helpers import example_dict, example_path

KEYS = [
    "Model",
    "EndpointConfig",
    "Endpoint",
    "ClarifyKit",
    "PrimaryContainer",
    "Image",
    "ProductionVariants",
    "VariantName",
    "InitialInstanceCount",
    "InstanceType",
    "ExplainerConfig",
    "ClarifyExplainerConfig",
    "ShapConfig",
    "ShapBaselineConfig",
    "ShapBaseline",
    "EnableExplanations",
    "InferenceConfig",
    "FeatureHeaders",
    "ContentTemplate",
    "TextConfig",
    "Language",
    "x",
]
leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True)
    | st.text(string.printable + "é€\x00\u202e", max_size=20)
)
documents = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_config_documents_give_a_config_or_a_config_error(document: Any) -> None:
    try:
        config = config_from_dict(document)
    except ConfigError as err:
        assert all(issue.message for issue in err.issues)
        return
    static_precheck(config)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [
            "C.EnableExplanations",
            "C.InferenceConfig.ContentTemplate",
            "C.ShapConfig.ShapBaselineConfig.ShapBaseline",
            "C.InferenceConfig.FeatureHeaders",
            "C.InferenceConfig.ProbabilityIndex",
            "EndpointConfig.ProductionVariants",
            "ClarifyKit.Container.SampleOutputs",
        ]
    ),
    documents,
)
def test_random_values_at_real_fields_never_crash_the_precheck(path: str, value: Any) -> None:
    from tests.helpers import set_path

    data = example_dict("binary")
    set_path(data, path, value)
    try:
        report = static_precheck(config_from_dict(data))
    except ConfigError as err:
        assert err.issues and all(i.message for i in err.issues)
        return
    assert all(f.message and f.rule for f in report.findings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "Model: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep", id="deep-yaml-nesting"
        ),
        pytest.param(
            "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6)),
            "aliases that expand to more",
            id="alias-bomb",
        ),
        pytest.param("a: &a [*a, *a]\n", "an alias refers to itself", id="recursive-alias"),
        pytest.param("Model: " + "x" * 2_000_000, "Model: 'xxxxx", id="huge-scalar"),
        pytest.param("\x00\x01\x02", "not valid YAML", id="control-characters"),
    ],
)
def test_adversarial_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    # not YAML at all is a ConfigFileError (exit code 2); YAML the kit refuses is a ConfigError (exit code 1)
    with pytest.raises(ConfigFileError if message == "not valid YAML" else ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert len(str(info.value)) < 2000  # the message shows a bounded excerpt, never the value


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=string.printable + "`'\"[]{}|&!<>=@*.()", max_size=70),
    st.sampled_from([[1, 0.6], {"probability": 0.6, "labels": ["a"]}, [], {}, ["x", None, True]]),
)
def test_random_expressions_evaluate_or_raise_the_kits_error(expression: str, record: Any) -> None:
    try:
        lint(expression)
        result = evaluate(expression, record)
    except ExpressionError:
        return
    json.dumps(result.value)


def test_expressions_that_explode_are_bounded() -> None:
    deep = "[" * 600 + "]" * 600
    with pytest.raises(ExpressionError):
        evaluate(deep, [])
    with pytest.raises(ExpressionError, match="at most 1024"):
        evaluate("a." * 600 + "b", {})


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_codecs_read_any_text_or_raise_the_kits_error(text: str) -> None:
    try:
        rows = read_csv_rows(text)
        assert all(isinstance(row, list) and row and all(isinstance(c, str) for c in row) for row in rows)
    except CodecError:
        pass
    try:
        assert len(read_jsonlines(text)) <= len(text.splitlines())
    except CodecError:
        pass
    for kind in ("text/csv", "application/jsonlines", "image/png"):
        try:
            deserialize_output_record(text, kind)
        except CodecError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=string.printable + "é\u2028", max_size=20), min_size=1, max_size=6))
def test_csv_rows_round_trip_whatever_the_cells_hold(cells: list[str]) -> None:
    rows = read_csv_rows(format_csv_row(cells))
    if any(c for c in cells) and not (len(cells) == 1 and cells[0] == ""):
        assert rows == [cells]


class ScriptedContainer:
    """An in-process model that answers every record with a score (the endpoint's HTTP handling is under test)."""

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        accept: str,
        target_model: str | None,
        timeout: float,
        custom_attributes: str | None = None,
        max_answer_bytes: int | None = None,
    ) -> ContainerReply:
        lines = [line for line in body.decode("utf-8", "replace").splitlines() if line.strip()]
        return ContainerReply(200, "text/csv", ("\n".join("0.5" for _ in lines) + "\n").encode())


@pytest.fixture(scope="module")
def endpoint() -> LocalEndpoint:
    return LocalEndpoint(load_config(example_path("binary")), ScriptedContainer())


header_names = st.sampled_from(
    [
        "content-type",
        "accept",
        "x-amzn-sagemaker-enable-explanations",
        "x-amzn-sagemaker-target-model",
        "x-amzn-sagemaker-target-variant",
        "x-amzn-sagemaker-custom-attributes",
        "x-amzn-sagemaker-inference-id",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(max_size=400) | st.text(max_size=400).map(str.encode),
    st.dictionaries(header_names, st.text(alphabet=string.printable, max_size=80), max_size=4),
)
@example(body=b"\n", headers={})  # found by this test in CI: blank lines only were a 500
def test_the_http_handler_answers_every_request_with_a_service_shape(
    endpoint: LocalEndpoint, body: bytes, headers: dict[str, str]
) -> None:
    status, out_headers, payload = endpoint.handle(endpoint.name, headers, body)
    data = json.loads(payload)
    if status == 200:
        assert data["version"] == "1.0"
    else:
        assert status in (400, 424), data
        assert out_headers["x-amzn-ErrorType"] in ("ValidationError", "ModelError")
        assert data["message"]


def test_csv_injection_is_defused_in_bulk_output(tmp_path: Path) -> None:
    from clarify_kit.client.bulk import BulkSummary, RecordOutcome, write_outcomes

    summary = BulkSummary(
        [
            RecordOutcome(0, "failed", '=HYPERLINK("http://evil")'),
            RecordOutcome(1, "explained", "", [0.5], {"=cmd": [0.1]}),
        ],
        1,
        0,
        0.1,
    )
    text = write_outcomes(summary, tmp_path / "out.csv").read_text()
    assert "'=HYPERLINK" in text
    assert "\n=" not in text and ",=" not in text


def test_kit_errors_share_one_base() -> None:
    for error in (ConfigError("x"), ExpressionError("x"), CodecError("x")):
        assert isinstance(error, KitError)


error_lists = st.one_of(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=3) | st.none(), max_size=3
    ),
    st.text(max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.integers(),
)


@settings(max_examples=60, deadline=None)
@given(error_lists)
@example([math.nan])
@example([-1.0])
@example([1e308, 1e308])
def test_parse_reads_any_standard_error_or_names_its_path(
    tmp_path_factory: pytest.TempPathFactory, errors: Any
) -> None:
    # GIVEN a self-hosted response whose one attribution carries a hostile standard_error
    from tests.helpers import run_cli

    envelope = {
        "version": "1.0",
        "predictions": {"content_type": "text/csv", "data": "0.5"},
        "explanations": {"kernel_shap": [[{"attributions": [{"attribution": [0.1], "standard_error": errors}]}]]},
    }
    path = tmp_path_factory.mktemp("hostile") / "response.json"
    path.write_text(json.dumps(envelope))
    # WHEN the parse command reads it
    out = run_cli("parse", str(path))
    # THEN it is read (one finite number >= 0) or refused in one line that names the member, never a traceback
    valid = (
        isinstance(errors, list)
        and len(errors) == 1
        and type(errors[0]) in (int, float)
        and math.isfinite(errors[0])
        and errors[0] >= 0
    )
    assert "Traceback" not in out.stderr
    if valid:
        assert out.returncode == 0 and "±" in out.stdout, out.stderr
    else:
        assert out.returncode != 0 and "standard_error" in out.stderr and len(out.stderr.strip().splitlines()) == 1
