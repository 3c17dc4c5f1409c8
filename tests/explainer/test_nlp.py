"""NLP explainability end to end: text units as features, exact Shapley values, mixed records, boto3, plots."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clarify_kit.client import EndpointClient
from clarify_kit.client.plots import text_html, text_png
from clarify_kit.core.codecs import format_csv_row
from clarify_kit.core.config import config_from_dict
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.core.text_units import compose, split_units
from clarify_kit.explainer import ContainerReply, Explainer
from clarify_kit.explainer.endpoint import running_endpoint
from tests.helpers import example_dict, runtime_client


def text_model(text: str, number: float = 0.0) -> float:
    """A model with interactions between words: 'not' flips 'good'."""
    words = text.lower().replace(",", " ").split()
    good = words.count("good") + words.count("great")
    flipped = -1 if "not" in words else 1
    return 0.2 * good * flipped + 0.05 * len(words) + 0.1 * number + (0.3 if "product" in words and good else 0)


class ModelTransport:
    """An in-process stand-in for the model container (the explainer is what is under test)."""

    def __init__(self, fn: Callable[[list[str]], float]) -> None:
        self.fn = fn
        self.requests = 0

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
        self.requests += 1
        rows = [r for r in csv.reader(io.StringIO(body.decode())) if r]
        out = "\n".join(repr(self.fn(r)) for r in rows) + "\n"
        return ContainerReply(200, "text/csv", out.encode())


def nlp_config(
    granularity: str = "token",
    feature_types: list[str] | None = None,
    baseline: str = '"<UNK>"',
    samples: int | None = None,
) -> Any:
    data = example_dict("nlp")
    clarify = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    clarify["ShapConfig"]["TextConfig"]["Granularity"] = granularity
    clarify["ShapConfig"]["ShapBaselineConfig"]["ShapBaseline"] = baseline
    if samples is None:
        clarify["ShapConfig"].pop("NumberOfSamples")
    else:
        clarify["ShapConfig"]["NumberOfSamples"] = samples
    if feature_types is not None:
        clarify["InferenceConfig"]["FeatureTypes"] = feature_types
    data["ClarifyKit"].pop("Text", None)
    return config_from_dict(data)


def explain_one(config: Any, body: str, fn: Callable[[list[str]], float]) -> dict[str, Any]:
    explainer = Explainer(ExplainerSpec.from_config(config), ModelTransport(fn))
    envelope, _ = explainer.invoke(body.encode(), content_type="text/csv", accept="text/csv")
    return envelope


def test_all_coalitions_of_a_short_text_give_exact_shapley_values() -> None:
    # GIVEN a five-token review and a model with interactions, baseline <UNK>
    text = "not a good product really"
    units = split_units(text, "en", "token")
    envelope = explain_one(nlp_config(), f'"{text}"', lambda row: text_model(row[0]))
    served = [a["attribution"][0] for a in envelope["explanations"]["kernel_shap"][0][0]["attributions"]]

    # THEN they equal the Shapley values of v(S) = f(text with the units outside S replaced by <UNK>)
    def value(subset: set[int]) -> float:
        return text_model(compose(units, [i in subset for i in range(len(units))], "<UNK>"))

    m = len(units)
    exact = []
    for j in range(m):
        total = 0.0
        for r in range(m):
            for subset in itertools.combinations([k for k in range(m) if k != j], r):
                weight = math.factorial(r) * math.factorial(m - r - 1) / math.factorial(m)
                total += weight * (value(set(subset) | {j}) - value(set(subset)))
        exact.append(total)
    np.testing.assert_allclose(served, exact, atol=1e-9)


@pytest.mark.parametrize("granularity", ["token", "sentence", "paragraph"])
def test_each_granularity_answers_with_units_and_offsets(granularity: str) -> None:
    text = "Great product. Not good at all, though!\n\nSecond paragraph here."
    envelope = explain_one(nlp_config(granularity), format_csv_row([text]), lambda row: text_model(row[0]))
    feature = envelope["explanations"]["kernel_shap"][0][0]
    assert feature["feature_type"] == "text"
    described = [a["description"] for a in feature["attributions"]]
    expected = split_units(text, "en", granularity)
    assert [(d["partial_text"], d["start_idx"]) for d in described] == [(u.text, u.start) for u in expected]
    assert len(described) == {"token": 14, "sentence": 3, "paragraph": 2}[granularity]
    total = sum(a["attribution"][0] for a in feature["attributions"])
    prediction = float(envelope["predictions"]["data"])
    every_unit_masked = compose(expected, [False] * len(expected), "<UNK>")
    assert prediction == pytest.approx(text_model(every_unit_masked) + total, abs=1e-9)


def test_mixed_text_and_numerical_records() -> None:
    config = nlp_config(feature_types=["text", "numerical"], baseline='"<UNK>",0', samples=None)
    envelope = explain_one(config, '"a good product",3\n"not great",1', lambda row: text_model(row[0], float(row[1])))
    for record in envelope["explanations"]["kernel_shap"]:
        text, number = record
        assert text["feature_type"] == "text" and number["feature_type"] == "numerical"
        assert "description" not in number["attributions"][0] and len(number["attributions"]) == 1
    number_attr = envelope["explanations"]["kernel_shap"][0][1]["attributions"][0]["attribution"][0]
    assert number_attr == pytest.approx(0.3, abs=1e-9)  # 0.1 * (3 - 0), no interaction with the text


def test_feature_types_are_inferred_from_the_baseline_without_feature_types() -> None:
    data = nlp_config(baseline='"<UNK>",0').model_dump(exclude_unset=True)
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["InferenceConfig"].pop("FeatureTypes")
    envelope = explain_one(config_from_dict(data), '"good product",2', lambda row: text_model(row[0], float(row[1])))
    assert [f["feature_type"] for f in envelope["explanations"]["kernel_shap"][0]] == ["text", "numerical"]


def test_boto3_nlp_request_through_the_local_endpoint_and_client_views(
    container_url: Callable[[str], str], tmp_path: Path
) -> None:
    config = nlp_config()
    with running_endpoint(config, container_url("nlp")) as (base, endpoint):
        client = EndpointClient(endpoint.name, config=config, boto3_client=runtime_client(base))
        result = client.invoke(
            '"This is a good product"\n"The kettle broke after a week. Terrible."', enable_explanations="`true`"
        )
    rows = result.rows()
    first = [(r["partial_text"], r["start_idx"]) for r in rows if r["record"] == 0]
    assert first == [("This", 0), ("is", 5), ("a", 8), ("good", 10), ("product", 15)]
    long = result.to_dataframe("long")
    assert set(long["feature_type"]) == {"text"} and long["partial_text"].notna().all()
    wide = result.to_dataframe("wide")
    assert list(wide.columns) == ["record", "label", "0"]
    page = text_html(result, tmp_path / "review.html", record=1).read_text()
    assert "kettle" in page and "rgba(" in page
    assert text_png(result, tmp_path / "review.png", record=1).stat().st_size > 1000


def test_the_documented_one_line_csv_answer_for_several_records_is_understood() -> None:
    # docs/explainer.md 3.7: a score-only container may answer '0.6,0.3' on one line for two records
    class OneLine(ModelTransport):
        def post(self, body: bytes, **kwargs: Any) -> ContainerReply:
            reply = super().post(body, **kwargs)
            return ContainerReply(200, "text/csv", reply.body.decode().strip().replace("\n", ",").encode())

    config = nlp_config(samples=20)
    explainer = Explainer(ExplainerSpec.from_config(config), OneLine(lambda row: text_model(row[0])))
    envelope, _ = explainer.invoke(b'"a good product"\n"not great"', content_type="text/csv", accept="text/csv")
    assert len(envelope["explanations"]["kernel_shap"]) == 2
    assert envelope["predictions"]["data"].count(",") == 1
