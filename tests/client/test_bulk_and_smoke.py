"""Bulk explanation (nothing lost, even when the container dies) and the pipeline smoke test with JUnit XML."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from clarify_kit.client import EndpointClient
from clarify_kit.client.bulk import explain_file, explain_records
from clarify_kit.client.smoke import run_smoke, write_junit
from clarify_kit.core.errors import InvocationError
from clarify_kit.explainer.endpoint import running_endpoint
from tests.helpers import (
    ROOT,
    container,
    ctrl_c_reaches_children,
    example_path,
    explain_argv,
    free_port,
    run_cli,
    runtime_client,
)

GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"
OTHER = "13.54,14.36,87.46,566.3,0.09779,0.08129,0.06664,0.04781,0.1885,0.05766"

# Dummy credentials and nothing else from the environment: the local endpoint needs no real ones.
LOCAL_ENV = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"}


def make_client(url: str, name: str, kind: str = "binary") -> EndpointClient:
    return EndpointClient(name, config=example_path(kind), boto3_client=runtime_client(url))


def test_every_record_of_a_file_gets_a_row(local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path) -> None:
    # GIVEN 30 records, one of them malformed (3 features)
    lines = [GOOD if i % 2 else OTHER for i in range(30)]
    lines[17] = "1,2,3"
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n")
    # WHEN the file is explained with a filter, 4 records per request, 3 workers
    summary = explain_file(
        make_client(*local_endpoint("binary")),
        source,
        tmp_path / "out.csv",
        progress=False,
        records_per_request=4,
        max_workers=3,
        enable_explanations="[0]>`0.5`",
        backoff=0.01,
    )
    # THEN every record has exactly one outcome, in order: the malformed one failed alone, the rest survived
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [int(r["record"]) for r in rows] == list(range(30))
    statuses = [r["status"] for r in rows]
    assert statuses[17] == "failed" and "ModelError" in rows[17]["reason"]
    assert statuses.count("failed") == 1
    assert {statuses[i] for i in range(30) if i != 17 and i % 2} == {"explained"}
    assert {statuses[i] for i in range(30) if i != 17 and not i % 2} == {"not_explained"}
    assert "mean radius" in rows[1] and float(rows[1]["mean area"]) != 0
    assert summary.as_dict()["explained"] == 14


def test_killing_the_container_halfway_fails_only_the_affected_records(models_dir: Path) -> None:
    # GIVEN a container that dies after serving 6 requests
    lines = [GOOD, OTHER] * 10
    config_path = example_path("binary")
    from clarify_kit.adapters.files import load_config

    with (
        container(models_dir / "binary", fault="die", fault_arg=6) as url,
        running_endpoint(load_config(config_path), url) as (base, endpoint),
    ):
        client = EndpointClient(endpoint.name, config=config_path, boto3_client=runtime_client(base))
        # WHEN 20 records go out one per request, sequentially
        summary = explain_records(
            client, lines, content_type="text/csv", records_per_request=1, max_workers=1, retries=1, backoff=0.01
        )
    # THEN the records served before the crash are explained, the others failed with the reason, none lost,
    outcomes = summary.outcomes
    assert len(outcomes) == 20
    explained = [o.index for o in outcomes if o.status == "explained"]
    failed = [o for o in outcomes if o.status == "failed"]
    assert explained and failed and len(explained) + len(failed) == 20
    assert max(explained) < min(o.index for o in failed)
    assert all("cannot reach the model container" in o.reason for o in failed)
    # and once the endpoint failed 5 requests in a row, the rest were not sent (the circuit breaker)
    assert any(o.reason.startswith("not sent: the endpoint failed 5 requests in a row") for o in failed)
    assert summary.requests < 20


def test_smoke_passes_on_a_healthy_endpoint_and_writes_junit(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    report = run_smoke(make_client(*local_endpoint("binary")), [GOOD, OTHER], iterations=3)
    assert report.ok, report.render()
    names = [c.name for c in report.checks]
    assert names == ["prediction-only call", "explained call", "filtered call", "additivity", "latency"]
    xml = ET.parse(write_junit(report, tmp_path / "smoke.xml")).getroot()
    suite = xml.find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "0"


def test_smoke_checks_each_target_model(local_endpoint: Callable[[str], tuple[str, str]]) -> None:
    client = make_client(*local_endpoint("mme"), kind="mme")
    report = run_smoke(client, [GOOD, OTHER], target_models=["logistic.tar.gz", "forest.tar.gz"], iterations=2)
    assert report.ok, report.render()
    assert len(report.checks) == 10 and report.checks[5].name == "prediction-only call [forest.tar.gz]"


def test_smoke_cli_fails_with_evidence_when_the_budget_is_missed(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    url, name = local_endpoint("multiclass")
    records = tmp_path / "records.jsonl"
    records.write_text('{"features":[13.05,3.86,2.32,22.5,85,1.65,1.59,0.61,1.62,4.8,0.84,2.01,515]}\n')
    junit = tmp_path / "smoke.xml"
    out = run_cli(
        "smoke",
        name,
        "--records",
        str(records),
        "--config",
        str(example_path("multiclass")),
        "--endpoint-url",
        url,
        "--region",
        "us-east-1",
        "--junit-xml",
        str(junit),
        "--latency-budget",
        "0.000001",
        "--iterations",
        "2",
        "--json",
        env=LOCAL_ENV,
    )
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    failed = [c for c in report["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["latency"]
    failure = ET.parse(junit).getroot().find("testsuite/testcase[@name='latency']/failure")
    assert failure is not None and "seconds" in (failure.text or "")


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_smoke_cli_passes(kind: str, local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path) -> None:
    url, name = local_endpoint(kind)
    records = tmp_path / "records.csv"
    lines = (
        [GOOD, OTHER]
        if kind == "binary"
        else ["0.0381,0.0507,0.0617,0.0219,-0.0442,-0.0348,-0.0434,-0.0026,0.0199,-0.0176"]
    )
    records.write_text("\n".join(lines) + "\n")
    out = run_cli(
        "smoke",
        name,
        "--records",
        str(records),
        "--config",
        str(example_path(kind)),
        "--endpoint-url",
        url,
        "--region",
        "us-east-1",
        "--iterations",
        "2",
        env=LOCAL_ENV,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 failed" in out.stdout


def test_ctrl_c_keeps_every_finished_record_and_resume_completes_the_file(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    # GIVEN 600 records explained one per request by one worker (several seconds of work, so that Ctrl-C
    # arrives halfway however fast the machine is)
    url, name = local_endpoint("binary")
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("\n".join([GOOD, OTHER] * 300) + "\n")
    journal = tmp_path / ".out.csv.journal"
    command = [
        sys.executable,
        "-m",
        "clarify_kit",
        *explain_argv(name, url, source, output),
        "--records-per-request",
        "1",
        "--workers",
        "1",
        "--quiet",
    ]
    started = time.monotonic()
    with ctrl_c_reaches_children():
        process = subprocess.Popen(
            command, cwd=ROOT, env=LOCAL_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not journal.exists():
        time.sleep(0.01)
    # the reference, measured in this run under this machine's load: starting the command and its first request
    reference = time.monotonic() - started
    while time.monotonic() < deadline and journal.read_text().count("\n") < 21:
        time.sleep(0.01)
    # WHEN Ctrl-C arrives halfway
    process.send_signal(signal.SIGINT)
    interrupted_at = time.monotonic()
    _, err = process.communicate(timeout=30)
    # THEN it stops at once, says what it kept, and no half-written output exists under the final name
    stopped = time.monotonic() - interrupted_at
    assert stopped < max(2.0, reference), f"stopped {stopped:.1f} s after Ctrl-C; starting took {reference:.1f} s"
    assert process.returncode == 130 and "Traceback" not in err
    assert "records finished, kept in" in err and "--resume" in err
    assert not output.exists()
    kept = journal.read_text().count("\n") - 1
    assert 20 <= kept < 600
    # WHEN the same command runs again with --resume (in larger requests: only what is sent is counted)
    cut = command.index("--records-per-request")
    again = command[3:cut] + command[cut + 2 :]
    out = run_cli(*again, "--resume", "--json", env=LOCAL_ENV)
    # THEN the output holds every record exactly once, in input order, and only the rest was sent
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert counts["records"] == 600 and counts["failed"] == 0
    assert counts["requests"] <= 600 - kept + 1
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert [int(r["record"]) for r in rows] == list(range(600))
    assert not journal.exists()


def test_a_leftover_journal_is_never_silently_discarded(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    url, name = local_endpoint("binary")
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(GOOD + "\n")
    (tmp_path / ".out.csv.journal").write_text('{"clarify_kit_journal": 1}\n')
    out = run_cli(*explain_argv(name, url, source, output), env=LOCAL_ENV)
    assert out.returncode == 1 and "pass --resume to finish it, or delete the journal" in out.stderr
    resumed = run_cli(*explain_argv(name, url, source, output, "--resume"), env=LOCAL_ENV)
    assert resumed.returncode == 1 and "belongs to another version of clarify-kit" in resumed.stderr


def test_a_dead_endpoint_fails_every_record_fast_with_the_reason(tmp_path: Path) -> None:
    # GIVEN 100 records and an endpoint URL where nothing listens
    port = free_port()
    client = EndpointClient(
        "gone",
        config=example_path("binary"),
        boto3_client=runtime_client(f"http://127.0.0.1:{port}", max_pool_connections=4),
    )
    started = time.monotonic()
    # WHEN they are explained 10 per request by 4 workers
    summary = explain_records(
        client, [GOOD] * 100, content_type="text/csv", records_per_request=10, max_workers=4, backoff=0.01
    )
    # THEN every record failed with the reason, quickly, and the breaker stopped the requests
    assert time.monotonic() - started < 60
    assert [o.status for o in summary.outcomes] == ["failed"] * 100
    assert all("Could not connect" in o.reason or "not sent: the endpoint failed" in o.reason for o in summary.outcomes)
    assert any("not sent: the endpoint failed 5 requests in a row" in o.reason for o in summary.outcomes)
    assert summary.requests < 20


def test_an_invoke_deadline_includes_botocores_retries(models_dir: Path) -> None:
    # GIVEN a container that never answers in time and a client whose deadline is 2 s, with 4 botocore attempts
    from botocore.config import Config

    from clarify_kit.adapters.files import load_config

    with (
        container(models_dir / "binary", fault="slow", fault_arg=3) as url,
        running_endpoint(load_config(example_path("binary")), url, timeout=30) as (base, endpoint),
    ):
        boto = boto3.client(
            "sagemaker-runtime",
            endpoint_url=base,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(read_timeout=1, retries={"max_attempts": 4, "mode": "standard"}),
        )
        client = EndpointClient(endpoint.name, config=example_path("binary"), boto3_client=boto, deadline_s=2)
        started = time.monotonic()
        # WHEN one call is made
        with pytest.raises(InvocationError) as info:
            client.invoke(GOOD)
        elapsed = time.monotonic() - started
    # THEN it gives up after the deadline, not after four read timeouts and their backoff, and says so
    assert elapsed < 4
    assert info.value.code == "Timeout" and "no answer within 2 s" in str(info.value)


def test_invoke_keeps_the_body_verbatim_and_parse_reads_what_invoke_saved(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    url, name = local_endpoint("binary")
    saved = tmp_path / "response.json"
    out = run_cli(
        "invoke",
        name,
        "--endpoint-url",
        url,
        "--config",
        str(example_path("binary")),
        "--body",
        f"{GOOD}\n{OTHER}",
        "--json",
        "--save-response",
        str(saved),
        env=LOCAL_ENV,
    )
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert printed["response"] == json.loads(saved.read_bytes())  # the service's envelope, not a reshaped one
    assert set(printed["response"]) >= {"version", "predictions", "explanations"}
    rows_from_body = json.loads(run_cli("parse", str(saved), "--json").stdout)
    (tmp_path / "invoke.json").write_text(out.stdout)
    rows_from_output = json.loads(run_cli("parse", str(tmp_path / "invoke.json"), "--json").stdout)
    assert rows_from_body == rows_from_output == printed["rows"]


def test_smoke_names_the_real_reason_for_a_skip_and_prints_a_failure_once(tmp_path: Path) -> None:
    # GIVEN an endpoint where nothing listens
    records = tmp_path / "records.csv"
    records.write_text(GOOD + "\n")
    out = run_cli(
        "smoke",
        "gone",
        "--records",
        str(records),
        "--config",
        str(example_path("binary")),
        "--endpoint-url",
        f"http://127.0.0.1:{free_port()}",
        "--iterations",
        "1",
        env=LOCAL_ENV,
    )
    assert out.returncode == 1
    assert "skipped: the explained call failed, so there is no score to filter on" in out.stdout
    assert "no EnableExplanations in the config" not in out.stdout
    failure_lines = [line for line in out.stdout.splitlines() if "Could not connect" in line]
    assert len(failure_lines) == 3  # prediction-only, explained and latency: each once


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_ci_log(
    local_endpoint: Callable[[str], tuple[str, str]],
) -> None:
    # GIVEN 40 records, one unscoreable, explained once with stderr a terminal and once with stderr a log file
    client = make_client(*local_endpoint("binary"))
    lines = [GOOD] * 39 + ["not,a,number"]
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        summary = explain_records(
            client, lines, content_type="text/csv", records_per_request=1, max_workers=2, progress=stream
        )
        assert summary.count_finished() == 40
    # THEN the terminal gets a tqdm bar that redraws in place, with percentage, rate, ETA and the failures
    bar = terminal.getvalue()
    assert "\r" in bar and "100%" in bar and "rec/s" in bar and "failed=1" in bar and "40/40" in bar
    assert re.search(r"<\d\d:\d\d", bar)  # tqdm's ETA
    # AND the log gets whole lines only, the last one the total
    plain = log.getvalue()
    assert "\r" not in plain and plain.endswith("\n")
    assert plain.splitlines()[-1].startswith("explain: 40/40 records (100%), 1 failed")


def test_the_console_summary_names_the_commonest_failure_reasons(tmp_path: Path) -> None:
    # GIVEN records sent to an endpoint URL where nothing listens
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text((GOOD + "\n") * 30)
    out = run_cli(
        *explain_argv(
            "gone", f"http://127.0.0.1:{free_port()}", source, output, "--quiet", "--records-per-request", "5"
        ),
        env=LOCAL_ENV,
    )
    # THEN the console says why, with the counts, not only "30 failed"
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("30 records: 0 explained, 0 not explained, 30 failed")
    reasons = [line for line in lines[1:] if line.startswith("  ") and " failed: " in line]
    assert reasons and sum(int(line.split()[0]) for line in reasons) <= 30
    assert any("Could not connect" in line or "not sent" in line for line in reasons)


def test_explain_and_smoke_honour_max_record_count_one(models_dir: Path, tmp_path: Path) -> None:
    import yaml

    from clarify_kit.core.config import config_from_dict
    from tests.helpers import example_dict

    # GIVEN a container that takes one record per request, and a config that says so (MaxRecordCount: 1)
    data = example_dict("binary")
    clarify = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    clarify["InferenceConfig"]["MaxRecordCount"] = 1
    clarify["ShapConfig"]["NumberOfSamples"] = 40  # 40 one-row requests a record instead of 1,022
    config = tmp_path / "single.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    records = tmp_path / "records.csv"
    records.write_text("\n".join((ROOT / "examples" / "binary" / "records.csv").read_text().split()[:6]) + "\n")
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"}
    with (
        container(models_dir / "binary", fault="single") as url,
        running_endpoint(config_from_dict(data), url) as (base, ep),
    ):
        # WHEN explain runs on six records THEN six one-record calls, none failed, none split
        out = run_cli("explain", ep.name, "--endpoint-url", base, "--config", str(config), "--input", str(records),
                      "--output", str(tmp_path / "out.csv"), "--json", "--quiet", env=env)  # fmt: skip
        counts = json.loads(out.stdout)
        # AND smoke passes, its filtered call included (one record per call, thresholded on the score)
        smoke = run_cli("smoke", ep.name, "--endpoint-url", base, "--config", str(config), "--records", str(records),
                        "--iterations", "1", env=env)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert counts["explained"] == 6 and counts["requests"] == 6 and counts["failed_calls"] == counts["splits"] == 0
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "✓ filtered call" in smoke.stdout, smoke.stdout
