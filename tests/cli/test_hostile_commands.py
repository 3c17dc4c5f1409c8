"""Hostile input through each command a user runs: one clear line or a bounded
resource, never a traceback, a crash or a silent wrong result. Keep them: a later feature that reads a file again
must trip them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from clarify_kit.client.bulk import BulkSummary, RecordOutcome, read_explain_output, write_outcomes
from clarify_kit.client.bulk.journal import Journal, run_identity
from clarify_kit.client.report import RunData, render_html
from clarify_kit.core.codecs import spreadsheet_safe
from clarify_kit.core.safe_text import terminal_safe, xml_safe
from tests.helpers import ROOT, example_dict, example_path, explain_argv, run_cli, serve_container

LOCAL_ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"


def one_line(text: str) -> bool:
    return text.count("\n") == 1 and "Traceback" not in text


# --- hostile config files through precheck: one line within 5 s ---------------------------------------------------


def _alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        pytest.param("bomb.yaml", _alias_bomb(), "sarif", id="alias-bomb-sarif"),
        pytest.param("bomb.yaml", _alias_bomb(), "text", id="alias-bomb"),
        pytest.param("deep.json", "[" * 100_000 + "]" * 100_000, "sarif", id="json-100000-deep"),
        pytest.param("digits.yaml", "Model: " + "9" * 5000 + "\n", "text", id="5000-digit-integer"),
        pytest.param("deep.yaml", "a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), "text", id="yaml-200"),
    ],
)
def test_a_hostile_config_file_gets_one_line_from_precheck_quickly(
    name: str, content: str, fmt: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(content)
    started = time.monotonic()
    out = run_cli("precheck", str(path), "--format", fmt)
    assert time.monotonic() - started < 5
    assert out.returncode in (1, 2)
    if fmt == "text":
        assert one_line(out.stderr) or ("precheck failed" in out.stdout and "Traceback" not in out.stderr)
    else:
        sarif = json.loads(out.stdout)  # a SARIF log even for a refused file
        assert sarif["runs"][0]["results"]


def test_yaml_nested_30000_deep_is_refused_not_a_segmentation_fault(tmp_path: Path) -> None:
    # In a process of its own: the C composer used to recurse into a segmentation fault, killing its process.
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 30_000 + "]" * 30_000)
    flow = run_cli("precheck", str(path), process=True, timeout=30)
    path.write_text("- " * 30_000 + "x\n")  # block sequences, compact form
    block = run_cli("precheck", str(path), process=True, timeout=30)
    for out in (flow, block):
        assert out.returncode in (1, 2), out.returncode  # -11 was the segmentation fault
        assert "nested more than 64 levels" in out.stdout + out.stderr
        assert "Traceback" not in out.stderr


def test_a_fifo_and_dev_zero_are_refused_as_configs_and_as_baseline_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    data = example_dict("binary")
    baseline = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]["ShapBaselineConfig"]
    baseline.pop("ShapBaseline")
    baseline["ShapBaselineUri"] = "s3://bucket/baseline.csv"
    s3 = tmp_path / "s3.yaml"
    s3.write_text(yaml.safe_dump(data))
    for argv in (
        ["precheck", str(fifo)],
        ["precheck", "/dev/zero"],
        ["precheck", str(s3), "--baseline-file", "/dev/zero"],
        ["precheck", str(s3), "--baseline-file", str(fifo)],
    ):
        started = time.monotonic()
        out = run_cli(*argv)
        assert time.monotonic() - started < 5
        assert out.returncode == 2 and one_line(out.stderr), (argv, out.stderr)
        assert "not a regular file" in out.stderr


def test_a_cdk_token_in_a_config_string_is_refused_by_precheck_with_its_path(tmp_path: Path) -> None:
    data = example_dict("binary")
    clarify = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    clarify["InferenceConfig"]["FeatureHeaders"][0] = "${Token[AWS.Region.1]}"
    path = tmp_path / "token.yaml"
    path.write_text(yaml.safe_dump(data))
    out = run_cli("precheck", str(path))
    assert out.returncode == 1
    assert "InferenceConfig.FeatureHeaders[0]" in out.stdout and "the form of a CDK token" in out.stdout


def test_unknown_keys_are_named_without_echoing_their_values_and_a_link_outside_is_told(tmp_path: Path) -> None:
    # GIVEN a config in the working tree that links to a shadow-format file outside it
    outside = tmp_path / "shadow"
    outside.write_text("root: $6$secrethash:19000\n")
    link = ROOT / "build" / f"linked-{os.getpid()}.yaml"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(outside)
    try:
        sarif, text = (run_cli("precheck", str(link.relative_to(ROOT)), *fmt) for fmt in (["--format", "sarif"], []))
    finally:
        link.unlink()
    for out in (sarif, text):
        assert "secrethash" not in out.stdout + out.stderr
        assert "outside the working directory" in out.stdout
    assert "root" in text.stdout and "unknown key" in text.stdout


# --- serve-container: bounded body ----------------------------------------------------------------------------------


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _send_chunked(url: str, total: int, chunk: int = 1024 * 1024) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        piece = (b"1," * (chunk // 2))[:chunk]
        sent = 0
        try:
            while sent < total:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-body, as it should be
        sock.settimeout(10)
        try:
            return sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return b""


def test_serve_container_refuses_a_1_gib_chunked_body_in_bounded_memory(
    container_url: Callable[[str], str], tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(example_dict("binary")))
    with serve_container(config, "--model-url", container_url("binary")) as (url, process):
        answer = _send_chunked(url, 1024**3)
        peak = _peak_rss_mib(process.pid)
        # WHEN a Content-Length over the limit is declared THEN it is refused before a byte is read
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 2000000000\r\n\r\n"
            )
            declared = sock.recv(65536)
    print(f"serve-container peak RSS under a 1 GiB chunked body: {peak:.0f} MiB")
    assert peak <= 200, f"peak RSS {peak:.0f} MiB under a 1 GiB body"
    assert b"400" in answer.split(b"\r\n")[0] and b"6291456-byte limit" in answer
    assert b"400" in declared.split(b"\r\n")[0]  # answered at once, before any body byte


def test_serve_container_refuses_a_bad_timeout_setting_in_one_line() -> None:
    for value in ("abc", "-5", "0", "nan", "inf"):
        out = run_cli(
            "serve-container",
            str(example_path("binary")),
            "--model-url",
            "http://127.0.0.1:9",
            env={**os.environ, "CLARIFY_KIT_TIMEOUT_S": value},
            process=True,
            timeout=30,
        )
        assert out.returncode == 2 and "CLARIFY_KIT_TIMEOUT_S" in out.stderr and one_line(out.stderr), value


# --- reports and explain outputs --------------------------------------------------------------------------------------


def _explain_csv(path: Path, status: str = "explained", feature: str = "f0", value: str = "0.5") -> Path:
    path.write_text(f'"record","status","reason","scores","{feature}"\n0,"{status}","","[0.9]",{value}\n')
    return path


def test_markup_in_a_status_is_refused_when_read_and_escaped_when_rendered(tmp_path: Path) -> None:
    bad = _explain_csv(tmp_path / "bad.csv", status="failed' onmouseover='alert(1)")
    out = run_cli("report", str(bad), "--output", str(tmp_path / "r.html"))
    assert (
        out.returncode == 1 and one_line(out.stderr) and "is not one of explained, not_explained, failed" in out.stderr
    )
    run = RunData(outcomes=[RecordOutcome(0, "failed' onmouseover='x", "<b>")], title="t")  # type: ignore[arg-type]
    page = render_html(run)
    assert "onmouseover='x" not in page and "&#x27; onmouseover=&#x27;x" in page
    assert "script-src 'sha256-" in page and "script-src 'unsafe-inline'" not in page


def test_a_dollar_in_a_feature_name_is_drawn_as_written(tmp_path: Path) -> None:
    source = _explain_csv(tmp_path / "dollars.csv", feature="cost_$_per_$")
    out = run_cli("report", str(source), "--output", str(tmp_path / "r.html"))
    assert out.returncode == 0, out.stderr
    assert "cost_$_per_$" in (tmp_path / "r.html").read_text()


def test_non_finite_attributions_are_refused_with_the_row_and_column(tmp_path: Path) -> None:
    source = _explain_csv(tmp_path / "nan.csv", value="nan")
    out = run_cli("report", str(source), "--output", str(tmp_path / "r.html"))
    assert out.returncode == 1 and one_line(out.stderr)
    assert "nan.csv:2" in out.stderr and "'f0'" in out.stderr and "finite" in out.stderr


def test_explain_outputs_read_back_exactly_whatever_the_names_and_cells_hold(tmp_path: Path) -> None:
    names = ["a|b", "c\\", "=SUM(A1)", "'quoted", "\ttab"]
    reason = "\rsplit\nrow=1+1"
    outcome = RecordOutcome(0, "explained", "", [0.25], {n: [float(i)] for i, n in enumerate(names)})
    failed = RecordOutcome(1, "failed", reason)
    path = write_outcomes(BulkSummary([outcome, failed], 1, 0, 0.0), tmp_path / "out.csv")
    assert b'"\'\rsplit\nrow=1+1"' in path.read_bytes()  # the CR stays inside its quoted, defused cell
    back = read_explain_output(path)
    assert back[0].attributions == outcome.attributions and back[1].reason == reason
    for cell in ("=SUM", "\ttab", "+1"):
        assert spreadsheet_safe(cell).startswith("'")


# --- explain --resume -------------------------------------------------------------------------------------------------


def _explain(url: str, name: str, source: Path, output: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*explain_argv(name, url, source, output, "--quiet", *extra), env=LOCAL_ENV)


def test_resuming_a_journal_of_another_run_is_refused_naming_the_difference(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    url, name = local_endpoint("binary")
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(GOOD + "\n" + GOOD + "\n")
    lines = source.read_text().splitlines()
    header = run_identity(
        lines,
        endpoint="another-endpoint",
        config_sha256=None,
        enable_explanations=None,
        target_model=None,
        content_type="text/csv",
        accept="text/csv",
    )
    journal = Journal(output, header)
    journal.open({})
    journal.close(remove=False)
    out = _explain(url, name, source, output, "--resume")
    assert out.returncode == 1 and one_line(out.stderr)
    assert "belongs to another run" in out.stderr and "the endpoint" in out.stderr and "another-endpoint" in out.stderr


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('{"index": 0, "status": "explained"}', id="explained-without-data"),
        pytest.param(
            '{"index": 1.5, "status": "failed", "reason": "", "scores": null, "attributions": {}, "units": []}',
            id="fractional-index",
        ),
        pytest.param(
            '{"index": true, "status": "failed", "reason": "", "scores": null, "attributions": {}, "units": []}',
            id="boolean-index",
        ),
        pytest.param('["not", "an", "object"]', id="not-an-object"),
    ],
)
def test_a_corrupt_journal_is_refused_not_trusted(
    line: str, local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    url, name = local_endpoint("binary")
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(GOOD + "\n")
    first = _explain(url, name, source, output)  # a real run: its journal header is what this run expects
    assert first.returncode == 0, first.stderr
    journal = tmp_path / ".out.csv.journal"
    # a header as the run writes it, then the corrupt line
    header = json.loads(Path(_journal_header(url, name, source, output, tmp_path)).read_text().splitlines()[0])
    journal.write_text(json.dumps(header) + "\n" + line + "\n")
    out = _explain(url, name, source, output, "--resume")
    assert out.returncode == 1 and one_line(out.stderr) and "corrupt journal" in out.stderr, out.stderr


def _journal_header(url: str, name: str, source: Path, output: Path, tmp_path: Path) -> Path:
    """The journal a run leaves when it is interrupted: here made by an endpoint that is gone after the first call."""
    from clarify_kit.client import EndpointClient
    from clarify_kit.client.bulk.run import _run_facts

    client = EndpointClient(name, config=str(example_path("binary")), endpoint_url=url, region_name="us-east-1")
    header = run_identity(source.read_text().splitlines(), **_run_facts(client, "text/csv", {}))
    path = tmp_path / "header.jsonl"
    path.write_text(json.dumps(header) + "\n")
    return path


def test_a_truncated_journal_header_is_refused_in_one_line(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    url, name = local_endpoint("binary")
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(GOOD + "\n")
    (tmp_path / ".out.csv.journal").write_text('{"clarify_kit_jour')
    out = _explain(url, name, source, output, "--resume")
    assert out.returncode == 1 and one_line(out.stderr) and "corrupt journal" in out.stderr


def test_a_second_run_on_the_same_output_is_refused_while_the_first_holds_it(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    first = Journal(output, {"clarify_kit_journal": 2})
    first.lock()
    try:
        second = Journal(output, {"clarify_kit_journal": 2})
        with pytest.raises(Exception, match="another clarify-kit explain is writing this output"):
            second.lock()
    finally:
        first.close(remove=True)


# --- what reaches JUnit XML and terminals --------------------------------------------------------------------------


def test_control_characters_never_make_junit_xml_ill_formed(tmp_path: Path) -> None:
    weird = tmp_path / "conf\x1b[31mig.yaml"
    weird.write_text((ROOT / "examples/binary/config.yaml").read_text().replace("clarify-kit-binary", "x\x00y", 1))
    junit = tmp_path / "precheck.xml"
    run_cli("precheck", str(weird), "--junit-xml", str(junit))
    ET.parse(junit)  # well-formed
    assert "\\x1b" in junit.read_text()


def test_smoke_junit_stays_well_formed_with_a_containers_ansi_and_nul_message(tmp_path: Path) -> None:
    from clarify_kit.client.smoke import Check, SmokeReport, write_junit

    report = SmokeReport("ep\x00")
    report.checks.append(Check("explained call", False, "model said \x1b[31mno\x00", evidence="\x07\x1b[0m"))
    path = write_junit(report, tmp_path / "smoke.xml")
    ET.parse(path)
    assert "\\x00" in path.read_text()


def test_control_characters_are_shown_escaped_on_terminals() -> None:
    assert terminal_safe("a\x1b[2Jb\x00\tc\n") == "a\\x1b[2Jb\\x00\tc\n"
    assert xml_safe("\x00\x1b ok \ufffe") == "\\x00\\x1b ok \\ufffe"


def test_sarif_uris_are_percent_encoded(tmp_path: Path) -> None:
    odd = tmp_path / "a b#c%zz?.json"
    odd.write_text(json.dumps({"Model": {}}))
    out = run_cli("precheck", str(odd), "--format", "sarif")
    uri = json.loads(out.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert " " not in uri and "#" not in uri and "?" not in uri and "%25zz" in uri


def _unused(*_: Any) -> None:  # keeps the imports the parametrized helpers above need
    _ = sys


def test_a_batch_transform_output_inside_its_input_is_warned_about() -> None:
    from clarify_kit.client.batch import output_overlap

    assert output_overlap("s3://b/in", "s3://b/in/out") and output_overlap("s3://b/in/", "s3://b/in")
    assert output_overlap("s3://b/in", "s3://b/input-out") is None and output_overlap("s3://b/in", "s3://b/out") is None


def test_the_example_multi_model_container_loads_nothing_outside_its_directory(models_dir: Path) -> None:
    from examples.container import ModelStore

    store = ModelStore(models_dir / "mme")
    for target in ("..", ".", "../binary", "/etc", "logistic.tar.gz/.."):
        with pytest.raises(LookupError, match="not found"):
            store.get(target)


def test_serve_container_forwards_the_callers_other_custom_attributes_to_the_model() -> None:
    from clarify_kit.core.config import config_from_dict
    from clarify_kit.explainer.container_server import ContainerServer
    from tests.helpers import scripted_container

    data = example_dict("binary")
    data["ClarifyKit"]["Explainer"] = "SelfHosted"
    seen: list[str | None] = []
    with scripted_container(lambda n, k: (200, ""), seen) as (url, _):
        server = ContainerServer(config_from_dict(data), url)
        status, _ = server.invoke(
            GOOD.encode(),
            {
                "content-type": "text/csv",
                "accept": "text/csv",
                "x-amzn-sagemaker-custom-attributes": "trace=1;EnableExplanations=`true`",
            },
        )
    assert status == 200 and seen and set(seen) == {"trace=1"}  # every container call, without the kit's switch


def test_a_report_of_thousands_of_features_caps_its_table_and_says_so(tmp_path: Path) -> None:
    names = [f"f{i}" for i in range(3000)]
    outcomes = [
        RecordOutcome(i, "explained", "", [0.5], {n: [float(j % 7) / 10] for j, n in enumerate(names)})
        for i in range(20)
    ]
    write_outcomes(BulkSummary(outcomes, 1, 0, 0.0), tmp_path / "wide.csv")
    started = time.monotonic()
    out = run_cli("report", str(tmp_path / "wide.csv"), "--output", str(tmp_path / "wide.html"))
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "wide.html").read_text()
    assert "largest mean |attribution| of 3000" in page and page.count("<th>f") <= 60
    assert (tmp_path / "wide.html").stat().st_size < 2_000_000 and time.monotonic() - started < 30


@pytest.mark.parametrize("command", ["serve-local", "serve-container"])
def test_sigterm_with_a_long_request_in_flight_stops_right_after_the_grace_period(
    command: str, models_dir: Path, tmp_path: Path
) -> None:
    import signal
    import threading
    import urllib.request

    from tests.helpers import container, free_port, wait_for_ping

    port = free_port()
    with container(models_dir / "binary", fault="slow", fault_arg=15) as model_url:  # longer than the 5 s grace
        args = [
            sys.executable,
            "-m",
            "clarify_kit",
            command,
            str(example_path("binary")),
            "--model-url",
            model_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        process = subprocess.Popen(
            args, cwd=ROOT, env=LOCAL_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_for_ping(f"http://127.0.0.1:{port}", timeout=60, process=process)  # type: ignore[arg-type]
            path = "/invocations" if command == "serve-container" else "/endpoints/clarify-kit-binary/invocations"
            answers: list[Any] = []

            def call() -> None:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}{path}", data=GOOD.encode(), headers={"Content-Type": "text/csv"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as reply:
                        answers.append((reply.status, reply.read()))
                except urllib.error.HTTPError as err:
                    answers.append((err.code, err.read()))
                except OSError as err:
                    answers.append((0, str(err).encode()))

            caller = threading.Thread(target=call)
            caller.start()
            time.sleep(1.0)  # the request is with the slow model now
            process.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            process.wait(timeout=30)
            stopped = time.monotonic() - stopping
            caller.join(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    print(f"{command} stopped {stopped:.1f} s after SIGTERM")
    assert stopped < 5 + 5, f"{command} stopped {stopped:.1f} s after SIGTERM (grace 5 s)"
    err = process.stderr.read()  # type: ignore[union-attr]
    process.stdout.close()  # type: ignore[union-attr]
    process.stderr.close()  # type: ignore[union-attr]
    assert "Traceback" not in err
    status, body = answers[0]
    assert status in (503, 0) and (status == 0 or json.loads(body))  # a JSON 503, or the connection closed


def test_a_failed_report_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clarify_kit.client import report

    def full_disk(*_: Any, **__: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        report.write_report(RunData(title="t", outcomes=[]), tmp_path / "r.html")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
