"""Reading and writing data capture as the drift monitor needs it: every line counted, bounded memory, files that
are not files left unread, and capture that never fails an invocation."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from clarify_kit.adapters.capture import LINE_CAP_BYTES, iter_lines, read_window
from tests.helpers import run_cli

_ENVELOPE = {
    "version": "1.0",
    "predictions": {"content_type": "text/csv", "data": "0.7"},
    "explanations": {"kernel_shap": [[{"feature_header": "a", "attributions": [{"attribution": [0.2]}]},
                                      {"feature_header": "b", "attributions": [{"attribution": [0.1]}]}]]},
}  # fmt: skip


def _capture_line(envelope: object = _ENVELOPE) -> str:
    output = {"observedContentType": "application/json", "mode": "OUTPUT", "encoding": "JSON",
              "data": envelope if isinstance(envelope, str) else json.dumps(envelope)}  # fmt: skip
    return json.dumps({"captureData": {"endpointOutput": output}, "eventVersion": "0"})


def test_lines_are_split_across_chunks_and_an_overlong_line_is_passed_over() -> None:
    stream = io.BytesIO(b"a\n" + b"x" * 3000 + b"\nbb\n\nlast")
    assert list(iter_lines(stream, cap=1000)) == [b"a", None, b"bb", b"", b"last"]
    long_chunks = io.BytesIO(b"y" * (3 * 1024 * 1024) + b"\nz\n")
    assert list(iter_lines(long_chunks, cap=4 * 1024 * 1024)) == [b"y" * (3 * 1024 * 1024), b"z"]


def test_a_line_nested_100000_deep_is_skipped_with_its_reason(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    envelope = dict(_ENVELOPE, predictions={"content_type": "application/jsonlines", "data": deep})
    window = tmp_path / "w.jsonl"
    window.write_text("\n".join([_capture_line(), _capture_line(deep), _capture_line(envelope)]) + "\n")
    part = read_window(str(window))
    assert part.lines == 3 and part.explained == 2, part.skipped  # a deep answer only loses its prediction
    assert sum(part.skipped.values()) >= 1 and part.predicted == 1
    out = run_cli("drift", str(window), str(window))
    assert out.returncode == 0 and "Traceback" not in out.stderr and "bug" not in out.stderr, out.stderr


def test_a_300_mb_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    window = tmp_path / "huge.jsonl"
    with window.open("wb") as out:
        out.write(_capture_line().encode() + b"\n")
        out.write(b'{"captureData": "' + b"x" * (300 * 1024 * 1024) + b'"}\n')
        out.write(_capture_line().encode() + b"\n")
    code = textwrap.dedent(f"""
        import resource, json
        from clarify_kit.adapters.capture import read_window
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        part = read_window({str(window)!r})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"explained": part.explained, "skipped": dict(part.skipped), "grew_kib": peak - before}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["explained"] == 2 and result["skipped"] == {"a line over 32 MiB (not one invocation's capture)": 1}
    assert result["grew_kib"] * 1024 < 2 * LINE_CAP_BYTES + 16 * 1024 * 1024, result  # about twice the cap


def test_a_fifo_and_a_device_named_as_partials_are_left_unread(tmp_path: Path) -> None:
    folder = tmp_path / "capture" / "ep" / "AllTraffic" / "2026" / "12" / "01" / "10"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text(_capture_line() + "\n")
    os.mkfifo(tmp_path / "capture" / "x.partial.json")
    (tmp_path / "capture" / "z.partial.json").symlink_to("/dev/zero")
    part = read_window(str(tmp_path / "capture"))  # returns: nothing blocks or reads for ever
    assert part.explained == 1 and part.skipped["a *.partial.json that is not a regular file (left unread)"] == 2
    out = run_cli("drift", str(tmp_path / "capture"), str(tmp_path / "capture" / "z.partial.json"), timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "regular file" in out.stderr, out.stderr


def test_terminal_escapes_from_capture_never_reach_the_terminal(tmp_path: Path) -> None:
    envelope = json.loads(json.dumps(_ENVELOPE))
    envelope["explanations"]["kernel_shap"][0][0]["feature_header"] = "a\x1b[2J\x1b]0;owned\x07"
    window = tmp_path / "w.jsonl"
    window.write_text(_capture_line(envelope) + "\n")
    out = run_cli("drift", str(window), str(window))
    assert out.returncode == 0 and "\x1b" not in out.stdout and "\\x1b[2J" in out.stdout


def test_a_failed_capture_write_leaves_no_truncated_line_and_the_count_says_so(tmp_path: Path) -> None:
    # GIVEN a file-size limit that the second capture line crosses (the kernel refuses the write: EFBIG)
    code = textwrap.dedent(f"""
        import resource, signal, json, pathlib
        from clarify_kit.adapters.capture import CaptureWriter
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        writer = CaptureWriter(pathlib.Path({str(tmp_path)!r}), "ep")
        first = writer.write(b"1,2", "text/csv", b"{{}}", "application/json")
        resource.setrlimit(resource.RLIMIT_FSIZE, (first.stat().st_size + 100, resource.RLIM_INFINITY))
        second = writer.write(b"3" * 1000, "text/csv", b"{{}}", "application/json")
        print(json.dumps({{"second": str(second), "dropped": writer.dropped, "file": str(first)}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    # THEN the second capture is dropped (counted and logged), the file holds whole lines only
    assert result["second"] == "None" and result["dropped"] == 1 and "data capture dropped" in out.stderr
    lines = Path(result["file"]).read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["captureData"]["endpointInput"]["data"] == "1,2"
