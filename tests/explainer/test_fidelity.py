"""The emulator calls the container as the service does: exactly baseline x n_samples synthetic records, fresh
draws without a Seed, and single records when a container refuses batches."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from clarify_kit.core.config import config_from_dict
from clarify_kit.core.kernel_shap import explain
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer import ContainerReply, Explainer
from tests.helpers import example_dict

C = ("EndpointConfig", "ExplainerConfig", "ClarifyExplainerConfig")


def spec_for(
    n_features: int,
    *,
    seed: int | None = None,
    samples: int | None = None,
    max_records: int | None = 1000,
    baseline_records: int = 1,
) -> ExplainerSpec:
    data = example_dict("binary")
    clarify = data[C[0]][C[1]][C[2]]
    clarify.pop("EnableExplanations", None)
    clarify["InferenceConfig"] = {} if max_records is None else {"MaxRecordCount": max_records}
    shap = clarify["ShapConfig"]
    shap["ShapBaselineConfig"] = {
        "ShapBaseline": "\n".join(
            ",".join(str(0.1 * (r + 1)) for _ in range(n_features)) for r in range(baseline_records)
        )
    }
    for key, value in (("Seed", seed), ("NumberOfSamples", samples)):
        shap.pop(key, None)
        if value is not None:
            shap[key] = value
    data["ClarifyKit"]["Container"] = {}
    return ExplainerSpec.from_config(config_from_dict(data))


class Model:
    """An in-process container: a logistic model of the features; records what it is sent."""

    def __init__(self, n_features: int, *, max_batch: int | None = None) -> None:
        self.weights = np.linspace(-1, 1, n_features)
        self.max_batch = max_batch
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-(rows @ self.weights))))

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
        rows = np.array([[float(c) for c in line.split(",")] for line in body.decode().splitlines()])
        with self.lock:
            self.batches.append(len(rows))
        if self.max_batch is not None and len(rows) > self.max_batch:
            return ContainerReply(400, "text/plain", b"this container takes one record per request")
        return ContainerReply(200, "text/csv", "\n".join(repr(float(v)) for v in self.predict(rows)).encode())


def record(n: int) -> str:
    return ",".join(str(round(0.5 + 0.1 * i, 2)) for i in range(n))


def explained(explainer: Explainer, n: int, body: str | None = None) -> np.ndarray:
    envelope, _ = explainer.invoke((body or record(n)).encode(), content_type="text/csv", accept="text/csv")
    [features] = envelope["explanations"]["kernel_shap"]
    return np.array([f["attributions"][0]["attribution"][0] for f in features])


@pytest.mark.parametrize(
    ("n_features", "baseline_records", "rows"),
    [
        pytest.param(20, 1, 2088, id="20-features-documented-2088"),
        pytest.param(10, 1, 1022, id="10-features-documented-1022"),
        pytest.param(4, 1, 14, id="4-features-14"),
        pytest.param(20, 3, 3 * 2088, id="3-baseline-records"),
    ],
)
def test_the_container_receives_exactly_baseline_times_n_samples_rows(
    n_features: int, baseline_records: int, rows: int
) -> None:
    # GIVEN an explainer whose expected value is already known (scored once per endpoint, see below)
    model = Model(n_features)
    explainer = Explainer(spec_for(n_features, seed=1, baseline_records=baseline_records, max_records=10**6), model)
    explained(explainer, n_features)
    model.batches.clear()
    # WHEN one record is explained
    explained(explainer, n_features)
    # THEN the container gets the prediction call and the documented synthetic dataset, nothing more
    assert model.batches[0] == 1
    assert sum(model.batches[1:]) == rows


def test_the_expected_value_is_scored_once_per_endpoint() -> None:
    model = Model(6)
    explainer = Explainer(spec_for(6, seed=1, baseline_records=2), model)
    explained(explainer, 6)
    first = list(model.batches)
    model.batches.clear()
    explained(explainer, 6)
    assert 2 in first  # the two baseline records, scored with the first request
    assert sum(model.batches) == 1 + 2 * 62  # prediction + synthetic rows only, from then on


def test_exhaustive_attributions_still_equal_exact_shapley_values() -> None:
    n = 8
    model = Model(n)
    explainer = Explainer(spec_for(n), model)
    x = np.array([float(c) for c in record(n).split(",")])
    base = np.full(n, 0.1)
    exact = explain(n, lambda masks: model.predict(np.where(masks, x, base))[:, None], number_of_samples=2**n).phi[:, 0]
    assert np.allclose(explained(explainer, n), exact, atol=1e-9)


def test_without_a_seed_attributions_vary_between_calls_and_with_one_they_repeat() -> None:
    unseeded = Explainer(spec_for(20), Model(20))
    seeded = Explainer(spec_for(20, seed=7), Model(20))
    a, b = explained(unseeded, 20), explained(unseeded, 20)
    c, d = explained(seeded, 20), explained(seeded, 20)
    assert not np.array_equal(a, b)
    assert np.allclose(a, b, atol=0.05)  # a fresh draw, not a different answer
    assert np.array_equal(c, d)


@pytest.mark.parametrize("seed", [-5, 0, 2**31 - 1, -(2**31)])
def test_any_seed_the_api_accepts_works(seed: int) -> None:
    assert np.isfinite(explained(Explainer(spec_for(20, seed=seed), Model(20)), 20)).all()


def test_a_container_that_refuses_batches_gets_single_records_when_max_record_count_is_unset() -> None:
    # GIVEN a container that answers 400 to more than one record, and no MaxRecordCount
    model = Model(4, max_batch=1)
    explainer = Explainer(spec_for(4, seed=1, max_records=None), model)
    # WHEN a record is explained THEN it is, through single-record requests after one refused batch
    values = explained(explainer, 4)
    assert np.isfinite(values).all() and explainer.single_records
    model.batches.clear()
    explained(explainer, 4)
    assert set(model.batches) == {1} and len(model.batches) == 1 + 14  # remembered: no batch tried again


def test_a_configured_max_record_count_is_not_second_guessed() -> None:
    from clarify_kit.explainer.runtime_errors import ServiceError

    explainer = Explainer(spec_for(4, seed=1, max_records=50), Model(4, max_batch=1))
    with pytest.raises(ServiceError) as info:
        explained(explainer, 4)
    assert info.value.name == "ModelError" and not explainer.single_records


class Recorder(Model):
    """The same model, keeping every row it is sent (in order, as text)."""

    def __init__(self, n_features: int, *, max_batch: int | None = None) -> None:
        super().__init__(n_features, max_batch=max_batch)
        self.rows: list[str] = []

    def post(self, body: bytes, **kwargs: object) -> ContainerReply:  # type: ignore[override]
        reply = super().post(body, **kwargs)  # type: ignore[arg-type]
        if reply.status == 200:
            with self.lock:
                self.rows.extend(body.decode().split("\n"))
        return reply


@pytest.mark.parametrize(
    ("n_features", "max_records", "max_batch"),
    [
        pytest.param(20, 700, None, id="grouped-batches-across-baselines-and-records"),
        pytest.param(10, 300, None, id="grouped-last-group-of-two"),
        pytest.param(23, 1000, None, id="grouped-last-group-of-three"),
        pytest.param(6, 50, None, id="cell-by-cell-small-model"),
        pytest.param(12, None, 1, id="grouped-then-single-records"),
    ],
)
def test_the_synthetic_rows_are_the_plans_coalitions_cell_by_cell(
    n_features: int, max_records: int | None, max_batch: int | None
) -> None:
    """Whatever the composition's shortcuts (feature groups joined once, a batch composed straight into its
    text, batches spanning baseline records and request records, the fallback that recomposes single rows), the
    container gets, in order, for each record, mask and baseline record, the record's cell where the mask is
    true and the baseline's elsewhere."""
    from clarify_kit.core.kernel_shap import plan

    spec = spec_for(n_features, seed=4, max_records=max_records, baseline_records=3)
    model = Recorder(n_features)
    explainer = Explainer(spec, model, concurrency=1)  # one request at a time: the rows arrive in order
    records = [record(n_features), ",".join(str(-i) for i in range(n_features))]
    if max_batch is not None:  # a container that takes one record per request takes one in the prediction call
        records = records[1:]
    explainer.invoke(records[0].encode(), content_type="text/csv", accept="text/csv")  # the expected value, once
    model.rows.clear()
    model.max_batch = max_batch  # from now on: the synthetic batches are refused, and then sent row by row
    envelope, _ = explainer.invoke("\n".join(records).encode(), content_type="text/csv", accept="text/csv")
    assert len(envelope["explanations"]["kernel_shap"]) == len(records)
    baseline = [",".join(str(0.1 * (r + 1)) for _ in range(n_features)).split(",") for r in range(3)]
    masks = plan(n_features, None, 4).masks
    expected = [
        ",".join(x[j] if mask[j] else base[j] for j in range(n_features))
        for x in (r.split(",") for r in records)
        for mask in masks.tolist()
        for base in baseline
    ]
    sent = [row for row in model.rows if row not in records]  # the prediction call's records aside
    assert sent == expected
    assert explainer.single_records == (max_batch is not None)
