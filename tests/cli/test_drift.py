"""Explanation drift from data capture (issue 26): the local endpoint writes capture files as SageMaker does, and
`clarify-kit drift` compares two windows of them, exactly, streamed, with every unusable line counted."""

from __future__ import annotations

import json
import math
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clarify_kit.adapters.capture import read_window
from clarify_kit.core.config import config_from_dict
from clarify_kit.core.drift import Partial, compare, read_capture_line
from clarify_kit.explainer.endpoint import running_endpoint
from tests.helpers import EXAMPLES, example_dict, run_cli, runtime_client

RECORDS = (EXAMPLES / "binary" / "records.csv").read_text().split()


def _shifted(line: str) -> str:
    values = [float(v) for v in line.split(",")]
    values[3] *= 0.3  # mean area
    values[7] *= 0.2  # mean concave points
    values[1] *= 1.8  # mean texture
    return ",".join(f"{v:.6g}" for v in values)


def _capture(
    url: str, root: Path, records: list[str], *, per_call: int = 5, data: dict[str, Any] | None = None, **extra: Any
) -> None:
    """Invoke the binary example's local endpoint with ``records``, ``per_call`` at a time, capturing into ``root``."""
    config = config_from_dict(data or example_dict("binary"))
    with running_endpoint(config, url) as (base, endpoint):
        endpoint.capture_into(root)
        client = runtime_client(base)
        for start in range(0, len(records), per_call):
            body = "\n".join(records[start : start + per_call])
            client.invoke_endpoint(EndpointName=endpoint.name, Body=body, ContentType="text/csv", **extra)[
                "Body"
            ].read()


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory, container_url: Callable[[str], str]) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("capture")
    url = container_url("binary")
    rng = random.Random(3)  # two windows drawn from one distribution (the example records, with replacement)
    _capture(url, root / "first", RECORDS[:25])
    _capture(url, root / "same", rng.choices(RECORDS, k=200), per_call=10)
    _capture(url, root / "other", rng.choices(RECORDS, k=200), per_call=10)
    _capture(url, root / "shifted", [_shifted(r) for r in RECORDS])
    return {name: root / name for name in ("first", "same", "other", "shifted")}


def _lines(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(root.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def test_capture_files_follow_sagemakers_layout_and_format(windows: dict[str, Path]) -> None:
    files = sorted(windows["first"].rglob("*.jsonl"))
    assert files
    for path in files:
        relative = path.relative_to(windows["first"]).as_posix()
        assert re.fullmatch(
            r"clarify-kit-binary/AllTraffic/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl", relative
        )
    lines = _lines(windows["first"])
    assert len(lines) == 5  # 25 records, 5 per invocation: one line per invocation
    for event in lines:
        assert set(event) == {"captureData", "eventMetadata", "eventVersion"} and event["eventVersion"] == "0"
        given, answer = event["captureData"]["endpointInput"], event["captureData"]["endpointOutput"]
        assert (given["mode"], given["encoding"], given["observedContentType"]) == ("INPUT", "CSV", "text/csv")
        assert (answer["mode"], answer["encoding"], answer["observedContentType"]) == (
            "OUTPUT",
            "JSON",
            "application/json",
        )
        assert len(given["data"].splitlines()) == 5
        assert "kernel_shap" in json.loads(answer["data"])["explanations"]  # the explainer's own envelope
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", event["eventMetadata"]["inferenceTime"])


def test_sampling_modes_inference_id_and_base64_are_honoured(
    tmp_path: Path, container_url: Callable[[str], str]
) -> None:
    url = container_url("binary")
    data = example_dict("binary")
    data["ClarifyKit"]["DataCapture"] = {"InitialSamplingPercentage": 0}
    _capture(url, tmp_path / "none", RECORDS[:5], data=data)
    assert not list((tmp_path / "none").rglob("*.jsonl"))
    data["ClarifyKit"]["DataCapture"] = {"InitialSamplingPercentage": 100, "CaptureModes": ["Input"]}
    _capture(url, tmp_path / "input", RECORDS[:5], data=data, InferenceId="order-42")
    (event,) = _lines(tmp_path / "input")
    assert set(event["captureData"]) == {"endpointInput"} and event["eventMetadata"]["inferenceId"] == "order-42"
    data = example_dict("binary")
    data["EndpointConfig"]["DataCaptureConfig"] = {
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://bucket/capture",
        "CaptureOptions": [{"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},  # no JSON type: the output is BASE64
    }
    _capture(url, tmp_path / "b64", RECORDS[:5], data=data)
    (event,) = _lines(tmp_path / "b64")
    assert event["captureData"]["endpointOutput"]["encoding"] == "BASE64"
    part = read_window(str(tmp_path / "b64"))
    assert part.explained == 5  # read back through the base64


def test_two_windows_of_one_distribution_pass_and_a_shifted_one_fails(windows: dict[str, Path], tmp_path: Path) -> None:
    same = run_cli("drift", str(windows["same"]), str(windows["other"]), "--json")
    assert same.returncode == 0, same.stdout + same.stderr
    shifted = run_cli(
        "drift", str(windows["first"]), str(windows["shifted"]), "--json", "--junit-xml", str(tmp_path / "d.xml")
    )
    assert shifted.returncode == 1, shifted.stdout + shifted.stderr
    result = json.loads(shifted.stdout)
    assert result["violation"] is True and result["current"]["explained"] == 50
    # THEN its NDCG equals one recomputed here, independently, from the capture files themselves
    assert abs(result["ndcg"] - _independent_ndcg(windows["first"], windows["shifted"])) < 1e-9
    suite = ET.parse(tmp_path / "d.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures") or 0) >= 1


def _independent_ndcg(baseline: Path, current: Path) -> float:
    def global_attributions(root: Path) -> np.ndarray:
        rows = []
        for event in _lines(root):
            envelope = json.loads(event["captureData"]["endpointOutput"]["data"])
            for record in envelope["explanations"]["kernel_shap"]:
                rows.append([feature["attributions"][0]["attribution"][0] for feature in record])
        return np.abs(np.array(rows)).mean(axis=0)

    gains, live = global_attributions(baseline), global_attributions(current)
    discounts = 1 / np.log2(np.arange(2, len(gains) + 2))
    return float((gains[np.argsort(-live, kind="stable")] * discounts).sum() / (np.sort(gains)[::-1] * discounts).sum())


def test_every_attribution_times_a_tenth_keeps_ndcg_but_fails_on_mass(windows: dict[str, Path]) -> None:
    baseline = read_window(str(windows["first"]))
    tenth = Partial()
    for event in _lines(windows["first"]):
        envelope = json.loads(event["captureData"]["endpointOutput"]["data"])
        for record in envelope["explanations"]["kernel_shap"]:
            for feature in record:
                feature["attributions"][0]["attribution"] = [v / 10 for v in feature["attributions"][0]["attribution"]]
        event["captureData"]["endpointOutput"]["data"] = json.dumps(envelope)
        read_capture_line(json.dumps(event), tenth)
    result = compare(baseline, tenth)
    (label,) = result.labels
    assert result.ndcg[label] == pytest.approx(1.0) and result.mass_change[label] == pytest.approx(-0.9)
    assert result.violation


def test_partials_merge_exactly_however_the_window_is_split() -> None:
    rng = random.Random(7)
    records = [[[rng.gauss(0, 1) * 10 ** rng.randint(-8, 3) for _ in range(6)]] for _ in range(3000)]
    names, labels = [f"f{j}" for j in range(6)], ["label0"]

    def part(chunk: list[Any]) -> Partial:
        p = Partial()
        for values in chunk:
            p.add_record(names, labels, values)
        return p

    whole = part(records).global_attributions()
    for _ in range(5):
        cuts = sorted(rng.sample(range(1, len(records)), 4))
        pieces = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)], strict=True)]
        rng.shuffle(pieces)
        merged = Partial()
        for piece in pieces:
            merged = merged.merge(Partial.from_dict(json.loads(json.dumps(part(piece).as_dict()))))
        assert merged.global_attributions() == whole  # bit for bit
    exact = [math.fsum(abs(r[0][j]) for r in records) / len(records) for j in range(6)]
    assert whole["label0"] == exact


def test_unusable_lines_are_counted_by_reason_and_mixed_feature_sets_are_refused(
    windows: dict[str, Path], tmp_path: Path
) -> None:
    good = (next(windows["first"].rglob("*.jsonl"))).read_text().splitlines()[0]
    event = json.loads(good)
    envelope = json.loads(event["captureData"]["endpointOutput"]["data"])
    for record in envelope["explanations"]["kernel_shap"]:
        record[0]["feature_header"] = "renamed"
    event["captureData"]["endpointOutput"]["data"] = json.dumps(envelope)
    other = json.loads(good)
    other["captureData"]["endpointOutput"]["data"] = '{"predictions": []}'
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join([good, "not json", '{"foo": 1}', json.dumps(other), json.dumps(event)]) + "\n")
    part = read_window(str(mixed))
    assert part.lines == 5 and part.explained == 5
    assert part.skipped == {
        "not JSON": 1,
        "not a data capture line (no captureData)": 1,
        "not the explainer's response: $.version: expected a string": 1,
        "feature headers differ from the window's first explained record": 5,
    }
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text(json.dumps(event) + "\n")
    out = run_cli("drift", str(windows["first"]), str(renamed))
    assert out.returncode == 2 and "different features" in out.stderr and "Traceback" not in out.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("not json\n")
    out = run_cli("drift", str(windows["first"]), str(empty))
    assert out.returncode == 2 and "no explained record" in out.stderr


def test_an_s3_capture_prefix_is_a_window(windows: dict[str, Path], moto_url: str, tmp_path: Path) -> None:
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    s3.create_bucket(Bucket="drift-capture")
    for path in windows["shifted"].rglob("*.jsonl"):
        s3.upload_file(str(path), "drift-capture", "capture/" + path.relative_to(windows["shifted"]).as_posix())
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_S3": moto_url, "PATH": "/usr/bin:/bin"}  # fmt: skip
    out = run_cli("drift", str(windows["first"]), "s3://drift-capture/capture/clarify-kit-binary", "--json", env=env)
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout)["current"]["explained"] == 50


def test_the_scheduled_functions_handler_reads_the_last_window_and_publishes_its_metrics(
    windows: dict[str, Path], moto_url: str
) -> None:
    import boto3

    from clarify_kit.runtime import drift_function

    clients = {
        name: boto3.client(
            name, endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        for name in ("s3", "cloudwatch")
    }
    s3 = clients["s3"]
    s3.create_bucket(Bucket="endpoint-capture")
    hours = set()
    for path in windows["shifted"].rglob("*.jsonl"):  # the capture files serve-local wrote, where SageMaker puts them
        key = "capture/" + path.relative_to(windows["shifted"]).as_posix()
        s3.upload_file(str(path), "endpoint-capture", key)
        hours.add(tuple(key.split("/")[3:7]))  # yyyy mm dd hh
    baseline = read_window(str(windows["first"]))
    s3.put_object(Bucket="endpoint-capture", Key="baselines/binary.partial.json", Body=json.dumps(baseline.as_dict()))
    from datetime import UTC, datetime, timedelta

    # the hour after the files' last hour folder (two, should writing them have crossed an hour boundary)
    now = datetime(*map(int, max(hours)), tzinfo=UTC) + timedelta(hours=1, minutes=5)
    environ = {
        "CAPTURE_URI": "s3://endpoint-capture/capture/clarify-kit-binary",
        "VARIANTS": "AllTraffic",
        "BASELINE_URI": "s3://endpoint-capture/baselines/binary.partial.json",
        "WINDOW_HOURS": "2",
        "NAMESPACE": "ClarifyKit/Drift",
        "ENDPOINT_NAME": "clarify-kit-binary",
    }
    summary = drift_function.run(s3, clients["cloudwatch"], environ, now=now)
    assert summary["explained"] == 50 and summary["violations"], summary
    metrics = clients["cloudwatch"].list_metrics(Namespace="ClarifyKit/Drift")["Metrics"]
    names = {m["MetricName"] for m in metrics}
    assert {"NDCG", "AttributionMassChange", "MeanPredictionChange", "ExplainedRecords"} <= names
    # Model Monitor's names, namespace and dimensions, so that its users' alarms and dashboards carry over
    monitor = clients["cloudwatch"].list_metrics(Namespace="aws/sagemaker/Endpoints/explainability-metrics")["Metrics"]
    shap = next(m for m in monitor if m["MetricName"] == "feature_mean area")
    assert {d["Name"]: d["Value"] for d in shap["Dimensions"]} == {
        "Endpoint": "clarify-kit-binary",
        "MonitoringSchedule": "clarify-kit-drift-clarify-kit-binary",
        "ExplainabilityMethod": "KernelShap",
        "Label": "label0",
        "ValueType": "GlobalShapValues",
    }
    assert any(m["MetricName"] == "ExpectedValue" for m in monitor)
    # the same NDCG as the command line computes from the same files
    cli = json.loads(run_cli("drift", str(windows["first"]), str(windows["shifted"]), "--json").stdout)
    data = clients["cloudwatch"].get_metric_statistics(
        Namespace="ClarifyKit/Drift",
        MetricName="NDCG",
        Dimensions=[{"Name": "EndpointName", "Value": "clarify-kit-binary"}, {"Name": "Label", "Value": "label0"}],
        StartTime=datetime.now(UTC) - timedelta(days=1),
        EndTime=datetime.now(UTC) + timedelta(days=1),
        Period=86400,
        Statistics=["Minimum"],
    )["Datapoints"]
    assert data and abs(data[0]["Minimum"] - cli["ndcg"]) < 1e-9
    # an hour later, the window holds nothing: one ExplainedRecords 0, no drift measure
    later = drift_function.run(s3, clients["cloudwatch"], environ, now=now + timedelta(hours=3))
    # ExplainedRecords 0, SkippedLines, WindowTruncated and MonitorFailed; no NDCG, so the NDCG alarm sounds
    assert later["explained"] == 0 and later["metrics"] == 4 and "no explained record" in later["note"]


def test_the_packaged_function_runs_on_the_standard_library_alone_with_the_same_exact_result(
    windows: dict[str, Path], tmp_path: Path
) -> None:
    import shutil
    import subprocess
    import sys

    import jmespath

    import clarify_kit
    from clarify_kit.runtime import DRIFT_FUNCTION_FILES

    # GIVEN the function's files as the stack packages them, and jmespath (Lambda's runtime ships it with boto3)
    package = tmp_path / "function"
    root = Path(clarify_kit.__file__).resolve().parent.parent
    for name in DRIFT_FUNCTION_FILES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / name, package / name)
    shutil.copytree(Path(jmespath.__file__).parent, package / "jmespath")
    files = sorted(str(p) for p in windows["shifted"].rglob("*.jsonl"))
    code = (
        "import json, sys\n"
        "sys.path.insert(0, '.')\n"  # Lambda's task root
        "from clarify_kit.runtime import drift_function\n"
        "assert 'numpy' not in sys.modules and 'orjson' not in sys.modules and 'pydantic' not in sys.modules\n"
        "from clarify_kit.adapters.capture import read_window\n"
        f"parts = [read_window(name) for name in {files!r}]\n"
        "total = parts[0]\n"
        "for part in parts[1:]:\n"
        "    total = total.merge(part)\n"
        "print(json.dumps(total.as_dict()))\n"
    )
    # -I -S: no site-packages (no numpy, no orjson, no pydantic), as on Lambda's Python runtime
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], cwd=package, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == read_window(str(windows["shifted"])).as_dict()  # exact sums, bit for bit


def test_a_processing_job_shards_the_window_and_its_partials_merge_to_the_same_answer(
    windows: dict[str, Path], moto_url: str, tmp_path: Path
) -> None:
    import boto3

    # GIVEN the job request, validated by botocore and created in moto
    common = [
        "--capture",
        "s3://capture-bucket/capture/clarify-kit-binary",
        "--output",
        "s3://capture-bucket/partials/",
    ]
    common += ["--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/explainer:1", "--instance-count", "3"]
    common += ["--role", "arn:aws:iam::123456789012:role/drift", "--kms-key", "arn:aws:kms:us-east-1:1:key/k"]
    env = {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin",
    }
    dry = run_cli("drift-job", *common, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    request = json.loads(dry.stdout)
    shard = request["ProcessingInputs"][0]["S3Input"]
    assert shard["S3DataDistributionType"] == "ShardedByS3Key" and request["NetworkConfig"]["EnableNetworkIsolation"]
    assert request["AppSpecification"]["ContainerEntrypoint"][:3] == ["/opt/clarify-kit/venv/bin/python", "-I", "-m"]
    created = run_cli("drift-job", *common, "--endpoint-url", moto_url, "--job-name", "drift-test", env=env)
    assert created.returncode == 0, created.stderr
    sagemaker = boto3.client(
        "sagemaker", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    described = sagemaker.describe_processing_job(ProcessingJobName="drift-test")  # moto keeps no resources
    assert described["ProcessingInputs"][0]["S3Input"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert described["AppSpecification"]["ContainerEntrypoint"][-3:] == ["drift-partial", *_job_paths()]
    assert request["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3
    # WHEN three instances each read a shard of the capture (drift-partial, the job's entry point)
    lines = [line for p in sorted(windows["other"].rglob("*.jsonl")) for line in p.read_text().splitlines()]
    outputs = tmp_path / "partials"
    outputs.mkdir()
    for host in (1, 2, 3):
        shard = tmp_path / f"shard-{host}" / "2026" / "12" / "01" / "10"
        shard.mkdir(parents=True)
        (shard / "part.jsonl").write_text("\n".join(lines[host - 1 :: 3]) + "\n")
        out = run_cli("drift-partial", str(tmp_path / f"shard-{host}"), str(tmp_path / f"out-{host}"))
        assert out.returncode == 0, out.stderr
        (written,) = (tmp_path / f"out-{host}").glob("partial-*.partial.json")
        written.rename(outputs / f"partial-algo-{host}.partial.json")
    # THEN drift over the merged partials answers exactly what it answers over the files themselves
    merged = json.loads(run_cli("drift", str(windows["same"]), str(outputs), "--json").stdout)
    direct = json.loads(run_cli("drift", str(windows["same"]), str(windows["other"]), "--json").stdout)
    assert merged["labels"] == direct["labels"] and merged["current"]["explained"] == 200


def _job_paths() -> list[str]:
    from clarify_kit.client.drift_job import INPUT, OUTPUT

    return [INPUT, OUTPUT]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "not JSON"),
        ("binary.jsonl", b"\xff\xfe\x00garbage\n" * 3, "not JSON"),
        ("wrong.partial.json", b'{"features": 5, "lines": "x"}', "not a partial result"),
        ("deep.partial.json", b"[" * 100_000 + b"]" * 100_000, "recursion"),
        (
            "nan.jsonl",
            json.dumps(
                {
                    "captureData": {
                        "endpointOutput": {
                            "encoding": "JSON",
                            "data": '{"version": "1.0", "predictions": {"content_type": "text/csv", "data": "1"}, '
                            '"explanations": '
                            '{"kernel_shap": [[{"feature_header": "a", "attributions": [{"attribution": [NaN]}]}]]}}',
                        }
                    }
                }
            ).encode(),
            "expected a finite number",
        ),
        ("bad64.jsonl", json.dumps({"captureData": {"endpointOutput": {"data": "!!", "encoding": "BASE64"}}}).encode(),
         "not JSON"),
    ],
)  # fmt: skip
def test_hostile_windows_exit_2_with_one_line(
    windows: dict[str, Path], tmp_path: Path, name: str, content: bytes, fragment: str
) -> None:
    hostile = tmp_path / name
    hostile.write_bytes(content)
    for argv in (["drift", str(windows["first"]), str(hostile)], ["drift-partial", str(hostile), str(tmp_path / "o")]):
        out = run_cli(*argv)
        assert "Traceback" not in out.stderr and "bug in clarify-kit" not in out.stderr, out.stderr
        if argv[0] == "drift":
            assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
            assert fragment in out.stderr, out.stderr
