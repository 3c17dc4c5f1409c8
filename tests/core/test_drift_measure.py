"""The drift measure as AWS defines it (scikit-learn's NDCG, Model Monitor's aggregations), the explained score read
with the config's selector, and partial results that refuse forgeries."""

from __future__ import annotations

import json
import math
import random
import statistics
from typing import Any

import pytest

from clarify_kit.core.drift import Partial, compare, ndcg, read_capture_line
from clarify_kit.core.errors import DriftError
from clarify_kit.core.scores import ScoreSelector


@pytest.mark.parametrize(
    ("baseline", "current"),
    [
        pytest.param([0.5, 0.3, 0.2], [0.0, 0.0, 0.0], id="all-zero-window"),
        pytest.param([3.0, 2.0, 1.0], [1.0, 1.0, 0.0], id="a-tie-at-the-top"),
        pytest.param([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], id="a-baseline-without-mass"),
        pytest.param([0.1, 0.0, 0.0, 0.4], [0.0, 0.0, 0.0, 0.2], id="ties-of-exact-zeros"),
        pytest.param([1.0, 2.0], [2.0, 1.0], id="reversed"),
    ],
)
def test_ndcg_equals_scikit_learns_on_ties(baseline: list[float], current: list[float]) -> None:
    from sklearn.metrics import ndcg_score

    assert abs(ndcg(baseline, current) - ndcg_score([baseline], [current])) < 1e-12


def test_ndcg_equals_scikit_learns_on_random_windows_with_ties() -> None:
    from sklearn.metrics import ndcg_score

    rng = random.Random(5)
    for _ in range(200):
        width = rng.randint(2, 12)
        baseline = [rng.choice([0.0, 0.1, 0.2, rng.random()]) for _ in range(width)]
        current = [rng.choice([0.0, 0.5, rng.random()]) for _ in range(width)]
        expected = ndcg_score([baseline], [current]) if any(baseline) else 0.0
        assert abs(ndcg(baseline, current) - expected) < 1e-12


def _line(records: list[list[float]], data: str, content_type: str = "text/csv", **extra: Any) -> str:
    envelope = {
        "version": "1.0",
        "predictions": {"content_type": content_type, "data": data},
        "explanations": {
            "kernel_shap": [
                [{"feature_header": f"f{j}", "attributions": [{"attribution": [v]}]} for j, v in enumerate(r)]
                for r in records
            ]
        },
        **extra,
    }
    output = {"observedContentType": "application/json", "mode": "OUTPUT", "data": json.dumps(envelope),
              "encoding": "JSON"}  # fmt: skip
    return json.dumps({"captureData": {"endpointOutput": output}, "eventVersion": "0"})


def test_an_all_zero_window_is_a_violation_against_a_ranked_baseline() -> None:
    base, cur = Partial(), Partial()
    read_capture_line(_line([[0.5, 0.3, 0.2]], "0.9"), base)
    read_capture_line(_line([[0.0, 0.0, 0.0]], "0.9"), cur)
    result = compare(base, cur)
    assert abs(result.ndcg["label0"] - 0.899948) < 1e-6 and result.violation


def test_the_mean_prediction_is_the_configured_score_not_the_first_number() -> None:
    # GIVEN JSON answers {"predicted_label", "score"} and the config's ProbabilityAttribute: score
    selector = ScoreSelector(probability_attribute="score")
    base, cur = Partial(), Partial()
    answer = "\n".join(json.dumps({"predicted_label": 1, "score": s}) for s in (0.8, 0.6))
    read_capture_line(_line([[0.1, 0.2], [0.2, 0.1]], answer, "application/jsonlines"), base, selector)
    answer = "\n".join(json.dumps({"predicted_label": 1, "score": s}) for s in (0.3, 0.1))
    read_capture_line(_line([[0.1, 0.2], [0.2, 0.1]], answer, "application/jsonlines"), cur, selector)
    result = compare(base, cur, selector=selector)
    # THEN the change is of the score (0.7 -> 0.2), not of the label (1 -> 1)
    assert result.prediction_change["label0"] == pytest.approx(-0.5)
    assert "ProbabilityAttribute 'score'" in result.render()
    # and without a config the reading is said to be an assumption, and no label is read as a score
    assumed = Partial()
    read_capture_line(_line([[0.1, 0.2]], json.dumps({"predicted_label": 1, "score": 0.8}), "application/jsonlines"),
                      assumed)  # fmt: skip
    assert assumed.predicted == 0 and "prediction not read: the selector finds no number" in assumed.skipped
    assert "assumed without a config" in compare(base, assumed).render()


def test_the_multiclass_answer_reads_its_probabilities() -> None:
    selector = ScoreSelector(probability_attribute="probabilities")
    part = Partial()
    answer = json.dumps({"predicted_labels": ["a", "b"], "probabilities": [0.25, 0.75]})
    envelope_records = [[[0.1, -0.1], [0.2, -0.2]]]
    line = _line([[0.0, 0.0]], answer, "application/jsonlines", label_headers=["a", "b"])
    event = json.loads(line)
    envelope = json.loads(event["captureData"]["endpointOutput"]["data"])
    envelope["explanations"]["kernel_shap"] = [
        [{"feature_header": f"f{j}", "attributions": [{"attribution": v}]} for j, v in enumerate(r)]
        for r in envelope_records
    ]
    event["captureData"]["endpointOutput"]["data"] = json.dumps(envelope)
    read_capture_line(json.dumps(event), part, selector)
    assert part.labels == ("a", "b") and part.predicted == 1
    assert part.mean_predictions() == {"a": 0.25, "b": 0.75}
    # the expected value follows from additivity: score - sum of attributions
    assert part.expected_values() == pytest.approx({"a": 0.25 - 0.3, "b": 0.75 + 0.3})


def test_non_finite_predictions_are_left_out_of_the_mean_and_counted() -> None:
    part = Partial()
    read_capture_line(_line([[0.1], [0.2]], "0.5\nNaN", "application/jsonlines"), part)
    assert part.explained == 2 and part.predicted == 1 and part.mean_predictions() == {"label0": 0.5}
    assert part.skipped["prediction left out of the mean: not a finite number"] == 1


@pytest.mark.parametrize("aggregation", ["mean_abs", "median", "mean_sq"])
def test_model_monitors_aggregations_merge_exactly(aggregation: str) -> None:
    rng = random.Random(11)
    records = [[rng.gauss(0, 1) for _ in range(4)] for _ in range(301)]
    whole = Partial(aggregation=aggregation)
    halves = [Partial(aggregation=aggregation), Partial(aggregation=aggregation)]
    for i, values in enumerate(records):
        whole.add_record(["a", "b", "c", "d"], ["label0"], [values])
        halves[i % 2].add_record(["a", "b", "c", "d"], ["label0"], [values])
    merged = Partial.from_dict(json.loads(json.dumps(halves[0].as_dict()))).merge(
        Partial.from_dict(json.loads(json.dumps(halves[1].as_dict())))
    )
    reference = {
        "mean_abs": lambda c: math.fsum(abs(v) for v in c) / len(c),
        "median": statistics.median,
        "mean_sq": lambda c: math.fsum(v * v for v in c) / len(c),
    }[aggregation]
    expected = [reference([r[j] for r in records]) for j in range(4)]
    assert merged.global_attributions()["label0"] == whole.global_attributions()["label0"]
    assert whole.global_attributions()["label0"] == pytest.approx(expected, rel=1e-15)
    with pytest.raises(DriftError, match="different aggregations"):
        whole.merge(Partial(aggregation="mean_abs" if aggregation != "mean_abs" else "median"))


def _partial() -> dict[str, Any]:
    part = Partial()
    part.add_record(["a", "b"], ["label0"], [[0.1, 0.2]], [0.5])
    return part.as_dict()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"sums": [["1" * 4000, "1"]]}, "sums", id="a-4000-digit-sum"),
        pytest.param({"lines": math.inf}, "lines", id="infinite-lines"),
        pytest.param({"features": [1, 2]}, "features", id="numeric-features"),
        pytest.param({"explained": -3}, "explained", id="a-negative-count"),
        pytest.param({"labels": "abc"}, "labels", id="labels-as-text"),
        pytest.param({"sums": [["-5", "1"]]}, "sums", id="a-negative-magnitude"),
        pytest.param({"skipped": {"x": True}}, "skipped", id="a-boolean-count"),
        pytest.param({"predicted": 9}, "predicted", id="more-predictions-than-records"),
        pytest.param({"aggregation": "max"}, "aggregation", id="an-unknown-aggregation"),
        pytest.param({"predictions": ["1.5"]}, "predictions", id="a-fractional-sum"),
    ],
)
def test_a_forged_partial_is_refused_naming_its_field(change: dict[str, Any], field: str) -> None:
    data = {**_partial(), **change}
    with pytest.raises(DriftError, match=rf"not a partial result of clarify-kit drift: {field}:"):
        Partial.from_dict(json.loads(json.dumps(data)))
