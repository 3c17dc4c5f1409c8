"""`clarify-kit capacity` against the real example container (issue 25): the plan's figures, and an attribution
error prediction that holds against repeated unseeded explanations."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from clarify_kit.core.config import config_from_dict
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer import Explainer, HttpTransport
from clarify_kit.planning import measure_capacity
from tests.helpers import EXAMPLES, example_dict, example_path, run_cli

GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"


def test_the_plan_as_json_holds_every_figure(container_url: Callable[[str], str]) -> None:
    out = run_cli(
        "capacity", str(example_path("binary")), "--container-url", container_url("binary"), "--json",
        "--target-rps", "40", "--explained-share", "0.25", "--hourly-price", "0.23", "--iterations", "8",
        "--rate-seconds", "0.1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    # 10 features: every coalition (2^10 - 2) once against the one baseline record, in one batch of up to 2000
    assert plan["rows_per_explained_record"] == 1022
    assert plan["container_requests_per_explained_record"] == 2
    assert 0 < plan["latency_ms"]["p50"] <= plan["latency_ms"]["p99"] < 60_000
    assert plan["explained_records_per_s_per_instance"] > 0
    targets = plan["targets"]
    assert targets["ExplanationsPerInstance"] == pytest.approx(plan["explained_records_per_s_per_instance"] * 30, 1e-2)
    assert targets["InvocationsPerInstance"] > targets["ExplanationsPerInstance"]  # a quarter explained: cheaper
    assert plan["instances"]["count"] >= 2 and 0 <= plan["instances"]["headroom"] < 1
    assert plan["cost_per_1000_explanations"] > plan["cost_per_1000_predictions"] > 0
    configured = [row for row in plan["accuracy"] if row["configured"]]
    assert configured and configured[0]["median_error"] < 1e-9  # exhaustive: exact
    assert plan["recommended"]["number_of_samples"] < 1022 and plan["recommended"]["median_error"] <= 0.05
    # beside Clarify's budget, the self-hosted explainer per target error: rows counted on the wire, errors measured
    by_target = {row["target_error"]: row for row in plan["self_hosted_target_errors"]}
    assert set(by_target) == {0.01, 0.05}
    loose, tight = by_target[0.05], by_target[0.01]
    assert 0 < loose["rows"] < tight["rows"] <= 1022 and loose["rows_share_of_configured"] == pytest.approx(
        loose["rows"] / 1022, abs=1e-4
    )
    assert loose["median_error"] < 0.1 and tight["median_error"] < loose["median_error"]
    assert 2 <= loose["container_requests"] <= tight["container_requests"]  # the prediction call and the rounds
    assert loose["predicted_p50_ms"] > 0 and 0 <= loose["coverage_90"] <= 1
    assert set(plan["config"]["ClarifyKit"]["Latency"]) == {
        "ContainerMsPerRecord", "ContainerMsPerRequest", "ContainerConcurrency", "P99Ms",
    }  # fmt: skip


def test_the_text_plan_is_a_short_table(container_url: Callable[[str], str]) -> None:
    out = run_cli(
        "capacity", str(example_path("binary")), "--container-url", container_url("binary"), "--no-accuracy",
        "--rate-seconds", "0.1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "ExplanationsPerInstance" in out.stdout and "p50" in out.stdout and len(out.stdout.splitlines()) < 15


def test_the_predicted_attribution_error_is_within_2x_of_what_unseeded_calls_show(
    container_url: Callable[[str], str],
) -> None:
    # GIVEN the binary example explained with 120 samples (the exhaustive plan has 1022) and no seed
    data = example_dict("binary")
    shap = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]
    shap.pop("Seed")
    shap["NumberOfSamples"] = 120
    config = config_from_dict(data)
    url = container_url("binary")
    plan = measure_capacity(config, url, iterations=5, repeats=6, rate_seconds=0.05)
    predicted = next(r["median_error"] for r in plan.accuracy if r["configured"])
    # WHEN the explainer explains the same sample records again and again, and exact values are enumerated
    spec = ExplainerSpec.from_config(config)
    errors = []
    for record in config.ClarifyKit.Container.SampleRecords:
        exact = _phi(Explainer(_replace(spec, number_of_samples=1022), HttpTransport(url)), record)
        explainer = Explainer(spec, HttpTransport(url))
        errors += [float(np.linalg.norm(_phi(explainer, record) - exact) / np.linalg.norm(exact)) for _ in range(12)]
    observed = statistics.median(errors)
    # THEN the plan's error is within a factor of 2 of the observed one
    assert 0.5 <= predicted / observed <= 2, (predicted, observed)


def _replace(spec: ExplainerSpec, **changes: object) -> ExplainerSpec:
    from dataclasses import replace

    return replace(spec, **changes)  # type: ignore[arg-type]


def _phi(explainer: Explainer, record: str = GOOD) -> np.ndarray:
    envelope, _ = explainer.invoke(record.encode(), content_type="text/csv", accept="text/csv")
    return np.array([f["attributions"][0]["attribution"][0] for f in envelope["explanations"]["kernel_shap"][0]])


def test_the_plans_figures_recorded_in_the_config_give_synth_the_plans_targets(
    container_url: Callable[[str], str],
) -> None:
    from clarify_kit.core.capacity import targets_for_config, workload_of
    from clarify_kit.core.rules import assess

    data = example_dict("binary")
    plan = measure_capacity(
        config_from_dict(data), container_url("binary"), iterations=5, accuracy=False, rate_seconds=0.1
    )
    data["ClarifyKit"]["Latency"] = plan.config_snippet()["ClarifyKit"]["Latency"]
    measured = config_from_dict(data)
    assessment = assess(measured)
    derived, note = targets_for_config(measured, workload_of(assessment.synthetic, assessment.records_per_request))
    assert note is None and derived is not None
    assert derived.explanations_per_instance == pytest.approx(plan.targets.explanations_per_instance, rel=0.02)
    assert derived.invocations_per_instance == pytest.approx(plan.targets.invocations_per_instance, rel=0.02)


def test_without_records_no_accuracy_table_and_with_records_real_errors(
    container_url: Callable[[str], str], tmp_path: Path
) -> None:
    import yaml

    # GIVEN the binary example without SampleRecords: the only records are the baseline's
    data = example_dict("binary")
    data["ClarifyKit"]["Container"].pop("SampleRecords", None)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    argv = ["capacity", str(config), "--container-url", container_url("binary"), "--json", "--iterations", "5",
            "--rate-seconds", "0.05"]  # fmt: skip
    bare = run_cli(*argv)
    assert bare.returncode == 0, bare.stderr
    plan = json.loads(bare.stdout)
    # THEN no table of all-zero errors, and a line that says which records to give
    assert plan["accuracy"] == [] and plan["recommended"] is None and plan["records"] == "the baseline"
    assert any("no accuracy table" in n and "--records" in n for n in plan["notes"])
    # WHEN real records are given THEN the errors are measured on them: a small budget errs, the exact one does not
    records = tmp_path / "records.csv"
    records.write_text("\n".join((EXAMPLES / "binary" / "records.csv").read_text().split()[:3]) + "\n")
    real = json.loads(run_cli(*argv, "--records", str(records)).stdout)
    errors = {row["number_of_samples"]: row["median_error"] for row in real["accuracy"]}
    assert real["records"] == "--records" and min(errors) < 1022 and errors[min(errors)] > 0.001
    assert errors[max(errors)] < 1e-9


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--utilisation", "0", "not a utilisation"),
        ("--target-rps", "1e308", "is over 1,000,000"),
        ("--target-rps", "nan", "not a finite number"),
    ],
)
def test_flags_outside_their_range_are_refused_in_one_line(flag: str, value: str, message: str) -> None:
    out = run_cli("capacity", str(example_path("binary")), "--container-url", "http://127.0.0.1:9", flag, value)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
