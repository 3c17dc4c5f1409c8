"""The self-hosted explainer (clarify-kit serve-container): the container contract with the same explainer, the
same envelope as the local emulator, the CustomAttributes switch, and /ping that follows the model's health."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from clarify_kit.core.config import config_from_dict
from clarify_kit.core.custom_attributes import split_enable_explanations, with_enable_explanations
from clarify_kit.core.errors import KitError
from tests.helpers import GOOD, OTHER, example_dict, example_path, free_port, post, runtime_client, serve_container

WINE = (
    '{"features": [14.23, 1.71, 2.43, 15.6, 127.0, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065.0]}\n'
    '{"features": [13.05, 3.86, 2.32, 22.5, 85, 1.65, 1.59, 0.61, 1.62, 4.8, 0.84, 2.01, 515]}\n'
)


def test_custom_attributes_carry_the_switch_beside_the_users_own() -> None:
    assert split_enable_explanations("trace=on;EnableExplanations=[0]>`0.5`") == ("[0]>`0.5`", "trace=on")
    assert split_enable_explanations("trace=on") == (None, "trace=on") and split_enable_explanations(None) == (
        None,
        None,
    )
    assert with_enable_explanations("`true`", "a=1;EnableExplanations=`false`") == "a=1;EnableExplanations=`true`"
    for bad in (
        "EnableExplanations=`true`;EnableExplanations=`false`",
        "EnableExplanations=",
        "EnableExplanations=" + "x" * 65,
    ):
        with pytest.raises(KitError):
            split_enable_explanations(bad)
    with pytest.raises(KitError, match="cannot hold ';'"):
        with_enable_explanations("a;b")
    with pytest.raises(KitError, match="at most 1024"):
        with_enable_explanations("`true`", "x=" + "y" * 1100)


@pytest.mark.parametrize(
    ("kind", "body", "content_type"),
    [("binary", f"{GOOD}\n{OTHER}\n", "text/csv"), ("multiclass", WINE, "application/jsonlines")],
)
def test_the_envelope_is_the_local_emulators_for_the_same_request(
    kind: str,
    body: str,
    content_type: str,
    container_url: Callable[[str], str],
    local_endpoint: Callable[[str], tuple[str, str]],
) -> None:
    # GIVEN the same config (with a Seed) served by serve-container and by the local emulator, one model behind both
    model = container_url(kind)
    endpoint_url, name = local_endpoint(kind)
    emulated = json.loads(
        runtime_client(endpoint_url)
        .invoke_endpoint(
            EndpointName=name,
            Body=body.encode(),
            ContentType=content_type,
            Accept=content_type,
            EnableExplanations="`true`",
        )["Body"]
        .read()
    )
    with serve_container(example_path(kind), "--model-url", model) as (url, _):
        status, hosted = post(url, body, content_type, "EnableExplanations=`true`")
    # THEN the response is the same envelope, attribution for attribution
    assert status == 200, hosted
    assert hosted == emulated
    assert all(record is not None for record in hosted["explanations"]["kernel_shap"])


def test_custom_attributes_override_the_configs_expression(container_url: Callable[[str], str]) -> None:
    with serve_container(example_path("binary"), "--model-url", container_url("binary")) as (url, _):
        _, off = post(url, f"{GOOD}\n", "text/csv", "trace=1;EnableExplanations=`false`")
        _, on = post(url, f"{GOOD}\n", "text/csv", "EnableExplanations=`true`;trace=1")
        _, default = post(url, f"{GOOD}\n{OTHER}\n", "text/csv")  # the config's own [0]>`0.5`
        status, bad = post(url, f"{GOOD}\n", "text/csv", "EnableExplanations=[0]>")
    assert off["explanations"] == {} and len(on["explanations"]["kernel_shap"]) == 1
    assert len(default["explanations"]["kernel_shap"]) == 2
    assert status == 400 and bad["error"] == "ValidationError"


def test_ping_fails_within_seconds_when_the_model_process_dies(models_dir: Path) -> None:
    # GIVEN serve-container that started the model server itself
    model_port = free_port()
    command = [
        sys.executable,
        "-m",
        "examples.container",
        "--model-dir",
        str(models_dir / "binary"),
        "--port",
        str(model_port),
    ]
    with serve_container(
        example_path("binary"), "--model-port", str(model_port), "--model-command", " ".join(command)
    ) as (url, _):
        status, answer = post(url, f"{GOOD}\n", "text/csv", "EnableExplanations=`true`")
        assert status == 200 and answer["explanations"]
        # WHEN the model process dies
        out = subprocess.run(["pkill", "-f", f"^[^ ]+ -m examples.container .*--port {model_port}$"], check=False)
        assert out.returncode == 0
        # THEN /ping turns to failure within a few seconds, with the reason
        deadline, code, reason = time.monotonic() + 5, 200, ""
        while time.monotonic() < deadline and code == 200:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
                    code = response.status
            except urllib.error.HTTPError as err:
                code, reason = err.code, json.loads(err.read())["message"]
            time.sleep(0.2)
        # (the exit itself, or the silence that precedes the process being reaped)
        assert code == 503 and ("the model server exited" in reason or "does not answer GET /ping" in reason)


def test_client_smoke_and_parse_work_unchanged_through_a_self_hosted_endpoint(
    container_url: Callable[[str], str], tmp_path: Path
) -> None:
    # GIVEN the self-hosted config, serve-container in front of the model, and the local endpoint in front of it
    # passing requests through as SageMaker does for an endpoint config without ExplainerConfig
    import yaml

    from clarify_kit.client import EndpointClient
    from clarify_kit.client.result import parse_result
    from clarify_kit.explainer.endpoint import running_endpoint
    from tests.helpers import run_cli

    data = example_dict("binary")
    data["ClarifyKit"]["Explainer"] = "SelfHosted"
    config = tmp_path / "self-hosted.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    records = tmp_path / "records.csv"
    records.write_text(f"{GOOD}\n{OTHER}\n")
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"}
    with (
        serve_container(config, "--model-url", container_url("binary")) as (hosted, _),
        running_endpoint(config_from_dict(data), hosted) as (base, endpoint),
    ):
        endpoint.capture_into(tmp_path / "capture")  # data capture works in the self-hosted mode too
        # WHEN the kit's client invokes it (it sends CustomAttributes by itself), and smoke runs with JUnit
        client = EndpointClient(endpoint.name, config=config, endpoint_url=base, region_name="us-east-1")
        result = client.invoke(
            [[float(v) for v in GOOD.split(",")], [float(v) for v in OTHER.split(",")]],
            enable_explanations="`true`",
            custom_attributes="trace=1",
        )
        smoke = run_cli(
            "smoke",
            endpoint.name,
            "--config",
            str(config),
            "--endpoint-url",
            base,
            "--records",
            str(records),
            "--iterations",
            "2",
            "--junit-xml",
            str(tmp_path / "smoke.xml"),
            env=env,
        )
        plain = runtime_client(base)
        try:
            plain.invoke_endpoint(
                EndpointName=endpoint.name, Body=GOOD.encode(), ContentType="text/csv", EnableExplanations="`true`"
            )
            refused = ""
        except Exception as err:  # noqa: BLE001 - the service's error is under test
            refused = str(err)
    # THEN everything works as against the Clarify explainer
    assert result.explained_indexes == [0, 1] and len(result.records[0].features or ()) == 10
    assert smoke.returncode == 0 and "0 failed" in smoke.stdout, smoke.stdout + smoke.stderr
    assert "<failure" not in (tmp_path / "smoke.xml").read_text()
    assert parse_result(result.body or b"").explained_indexes == [0, 1]
    # AND the Clarify-only parameter is refused with the way to send it instead
    assert "ValidationError" in refused and "CustomAttributes" in refused
    # AND the self-hosted explainer's envelopes were captured, and the drift reader reads them
    from clarify_kit.adapters.capture import read_window

    assert read_window(str(tmp_path / "capture")).explained >= 2


def _exact_shapley(model_url: str, record: list[float], baseline: list[float]) -> list[float]:
    """Exact Shapley values of the real model's score: every coalition scored in one request to the container."""
    import itertools
    import math

    m = len(record)
    masks = list(itertools.product([False, True], repeat=m))
    rows = [
        ",".join(repr(x if keep else b) for keep, x, b in zip(mask, record, baseline, strict=True)) for mask in masks
    ]
    request = urllib.request.Request(
        f"{model_url}/invocations",
        data="\n".join(rows).encode(),
        method="POST",
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        scores = [float(line.split(",")[0]) for line in response.read().decode().splitlines() if line.strip()]
    value = dict(zip(masks, scores, strict=True))
    phi = []
    for j in range(m):
        total = 0.0
        for mask in masks:
            if mask[j]:
                continue
            size = sum(mask)
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            total += weight * (value[mask[:j] + (True,) + mask[j + 1 :]] - value[mask])
        phi.append(total)
    return phi


def test_attributions_through_the_container_are_the_exact_shapley_values(container_url: Callable[[str], str]) -> None:
    # GIVEN the binary example: 10 features, whose default sample count covers all 1,022 coalitions
    model = container_url("binary")
    baseline = [
        float(v)
        for v in example_dict("binary")["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"][
            "ShapBaselineConfig"
        ]["ShapBaseline"]
        .strip()
        .split(",")
    ]
    record = [float(v) for v in GOOD.split(",")]
    with serve_container(example_path("binary"), "--model-url", model) as (url, _):
        status, answer = post(url, f"{GOOD}\n", "text/csv", "EnableExplanations=`true`")
    assert status == 200
    got = [f["attributions"][0]["attribution"][0] for f in answer["explanations"]["kernel_shap"][0]]
    # THEN they equal the Shapley values computed from the model's own scores of every coalition
    assert got == pytest.approx(_exact_shapley(model, record, baseline), abs=1e-6)
