"""Every expected failure of every command is one line on stderr and an exit code; --debug shows the traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT, ctrl_c_reaches_children, example_path, free_port, run_cli

GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A CI runner's environment: no AWS region, credentials, profile or config files."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **extra}


def one_line(out: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_the_local_endpoint_needs_no_region_or_credentials(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    url, name = local_endpoint("binary")
    out = run_cli(
        "invoke",
        name,
        "--endpoint-url",
        url,
        "--config",
        str(example_path("binary")),
        "--body",
        GOOD,
        "--json",
        env=bare_env(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["response"]["explanations"]["kernel_shap"][0] is not None


@pytest.mark.parametrize(
    "command",
    [
        ["invoke", "ep", "--body", "1,2"],
        ["smoke", "ep", "--records", str(ROOT / "examples/binary/records.csv")],
        ["verify-deployment", "ep", "--expected-config", "x"],
    ],
)
def test_no_region_anywhere_is_one_line_naming_region_and_aws_region(command: list[str], tmp_path: Path) -> None:
    out = run_cli(*command, env=bare_env(tmp_path))
    assert out.returncode == 2
    line = one_line(out)
    assert "no AWS region is configured" in line and "--region" in line and "AWS_REGION" in line


def test_aws_region_is_honoured_as_the_aws_cli_does(tmp_path: Path) -> None:
    # GIVEN only AWS_REGION (as CodeBuild and GitHub Actions set it) and no credentials
    out = run_cli("invoke", "ep", "--body", "1,2", env=bare_env(tmp_path, AWS_REGION="eu-west-1"))
    # THEN the region is found, and the missing credentials are the one problem reported
    assert out.returncode == 2
    assert one_line(out).startswith("clarify-kit: no AWS credentials found")


def test_an_unknown_profile_is_one_line_that_says_how_to_list_them(tmp_path: Path) -> None:
    out = run_cli(
        "invoke", "ep", "--body", "1,2", "--profile", "nosuch", "--region", "us-east-1", env=bare_env(tmp_path)
    )
    assert out.returncode == 2
    assert "'nosuch' is not in your AWS config" in one_line(out)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    out = run_cli("invoke", "ep", "--body", "1,2", "--debug", env=bare_env(tmp_path))
    assert out.returncode == 2
    assert "Traceback" in out.stderr and "SetupError" in out.stderr
    env_out = run_cli("invoke", "ep", "--body", "1,2", env=bare_env(tmp_path, CLARIFY_KIT_DEBUG="1"))
    assert "Traceback" in env_out.stderr


@pytest.mark.parametrize(
    ("port", "message"), [("99999", "99999 is not a TCP port; use 1 to 65535"), ("http", "'http' is not a port number")]
)
def test_a_bad_port_is_a_usage_error(port: str, message: str) -> None:
    out = run_cli("serve-local", str(example_path("binary")), "--model-url", "http://127.0.0.1:9", "--port", port)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run_cli(
            "serve-local",
            str(example_path("binary")),
            "--model-url",
            "http://127.0.0.1:9",
            "--port",
            str(port),
            timeout=30,
        )
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in one_line(out)


def test_a_closed_pipe_ends_quietly() -> None:
    # `clarify-kit schema | head -1`: the reader goes away early
    command = f'{sys.executable} -m clarify_kit schema | head -1; echo "status ${{PIPESTATUS[0]}}"'
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT, check=False, timeout=60)
    assert out.stdout.splitlines() == ["{", "status 0"]
    assert out.stderr == ""


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("clarify-kit 0.")


def test_ctrl_c_on_serve_local_stops_it_with_one_line_and_no_process_left() -> None:
    port = free_port()
    with ctrl_c_reaches_children():
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clarify_kit",
                "serve-local",
                str(example_path("binary")),
                "--model-url",
                "http://127.0.0.1:9",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        assert process.stdout is not None
        assert "local endpoint" in process.stdout.readline()  # serving
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.stderr is not None and process.stdout is not None
    err = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert code == 130 and "Traceback" not in err and "stopped" in err
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more


def test_an_unexpected_error_says_it_is_a_bug_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from clarify_kit.cli.errors import guarded

    def broken() -> int:
        raise ZeroDivisionError("boom")

    monkeypatch.delenv("CLARIFY_KIT_DEBUG", raising=False)
    assert guarded(broken) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected ZeroDivisionError: boom (this is a bug in clarify-kit" in err


def test_interrupt_inside_a_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from clarify_kit.cli.errors import guarded

    def interrupted() -> int:
        raise KeyboardInterrupt

    started = time.monotonic()
    assert guarded(interrupted) == 130
    assert capsys.readouterr().err.strip() == "clarify-kit: interrupted"
    assert time.monotonic() - started < 5
    assert os.getpid()  # the test process itself survives


@pytest.mark.parametrize(
    "argv",
    [
        ["precheck", str(example_path("binary")), "--container-url", "127.0.0.1:8080"],
        ["serve-local", str(example_path("binary")), "--model-url", "localhost:8080"],
        ["invoke", "ep", "--body", GOOD, "--endpoint-url", "ftp://127.0.0.1:1"],
        ["precheck", str(example_path("binary")), "--container-url", "http://127.0.0.1:99999"],
    ],
    ids=["no-scheme-ip", "no-scheme-name", "other-scheme", "bad-port"],
)
def test_a_url_without_an_http_scheme_is_refused_in_one_line(argv: list[str]) -> None:
    out = run_cli(*argv)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "Warning" not in out.stderr
    (error,) = [line for line in out.stderr.splitlines() if "error:" in line]
    assert "URL" in error or "port" in error, error


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--rate-seconds", "abc", "argument --rate-seconds: 'abc' is not a number"),
        ("--target-rps", "inf", "argument --target-rps: 'inf' is not a finite number"),
        ("--hourly-price", "0", "argument --hourly-price: 0 must be above 0"),
        ("--explained-share", "1.5", "argument --explained-share: 1.5 is not a share; use 0 to 1"),
        ("--utilisation", "nan", "argument --utilisation: 'nan' is not a finite number"),
    ],
)
def test_a_bad_capacity_figure_names_its_flag_and_what_it_takes(flag: str, value: str, message: str) -> None:
    out = run_cli("capacity", str(example_path("binary")), "--container-url", "http://127.0.0.1:9", flag, value)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
