"""Headerless CSV and JSON Lines, one record a line, in front of a server that speaks another protocol: one file of
standard-library Python that runs under the model image's own interpreter (3.8 or later) beside the server.

The Clarify explainer sends records without a header, one per line, and reads one output line per record.
- ``--protocol mlflow``: MLflow's scoring server reads the first CSV row as a header and answers one JSON object,
  ``{"predictions": [...]}``; requests become ``dataframe_split`` JSON (``--columns`` names the model's inputs).
- ``--protocol kserve-v2``: Triton and other KServe v2 servers take ``{"inputs": [{"name", "shape", "datatype",
  "data"}]}``, which no ContentTemplate (64 characters) can write; requests become one tensor [records, features]
  (``--input-name``, ``--datatype``), the answer's output (``--output-name``, default the first) one line per
  record. The path is ``/v2/models/<--model>/infer``, or ``--upstream-path /invocations`` (Triton's SageMaker mode).
Answers go back one line per record in the Accept asked for (text/csv or application/jsonlines); the server's
refusals pass on with their status and message. Copy it into an image with ``clarify-kit mlflow-adaptor --source >
adaptor.py`` and run ``python adaptor.py --protocol mlflow --upstream http://127.0.0.1:5000 --port 8080``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Sequence, Tuple

__all__ = [
    "AdaptorError",
    "from_predictions",
    "from_v2_response",
    "main",
    "serve",
    "to_dataframe_split",
    "to_v2_request",
]

MAX_BODY = 6 * 1024 * 1024  # SageMaker's, the default MaxPayloadInMB; --max-body-mb: the config's (at most 25)
BODY_SECONDS = 60.0  # one deadline for a whole request body, however it trickles (the invocation's own limit)
IDLE_SECONDS = 60.0  # a kept-alive connection that sends nothing is closed after this
MAX_CONNECTIONS = 64  # connections served at once; one more is answered 503 and closed
_MAX_DIGITS = 4300  # Python's own limit on int() of a decimal string
_READ = 64 * 1024
_INTEGER = re.compile(r"[+-]?\d+\Z")
_CSV = "text/csv"
_JSONLINES = ("application/jsonlines", "application/x-jsonlines", "application/json-lines")


class AdaptorError(ValueError):
    """A request or an answer the adaptor cannot translate; its message says what and where."""


def _cell(text: str) -> Any:
    """A CSV cell as JSON: an integer, a number, or the text itself (MLflow's schema enforcement converts)."""
    stripped = text.strip()
    if _INTEGER.match(stripped):
        if len(stripped) > _MAX_DIGITS:
            raise AdaptorError(f"a cell holds an integer of {len(stripped)} digits; at most {_MAX_DIGITS} are read")
        return int(stripped)
    try:
        number = float(stripped)
    except ValueError:
        return text
    return number if number == number and number not in (float("inf"), float("-inf")) else text


def _rows(text: str, content_type: str) -> List[List[Any]]:
    if _base(content_type) not in _JSONLINES:
        return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text)) if row]
    rows: List[List[Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except RecursionError:
            raise AdaptorError(f"line {number} of the request is JSON nested too deeply") from None
        except ValueError as exc:
            raise AdaptorError(f"line {number} of the request is not JSON: {exc}") from None
        if isinstance(value, dict) and "features" in value:
            value = value["features"]
        rows.append(value if isinstance(value, list) else [value])
    return rows


def _records(body: bytes, content_type: str) -> List[List[Any]]:
    """The request's records, at least one, all of one width."""
    rows = _rows(body.decode("utf-8"), content_type)
    if not rows:
        raise AdaptorError("the request holds no record")
    for number, row in enumerate(rows, 1):
        if len(row) != len(rows[0]):
            raise AdaptorError(f"record {number} has {len(row)} values, record 1 has {len(rows[0])}")
    return rows


def to_dataframe_split(body: bytes, content_type: str, columns: Optional[Sequence[str]]) -> Dict[str, Any]:
    """A request of the explainer (headerless CSV or JSON Lines, one record a line) as MLflow's JSON input."""
    rows = _records(body, content_type)
    width = len(rows[0])
    split: Dict[str, Any] = {"data": rows}
    if columns:
        if len(columns) != width:
            raise AdaptorError(f"the records have {width} values but --columns names {len(columns)}")
        split["columns"] = list(columns)
    return {"dataframe_split": split}


def from_predictions(answer: bytes, records: int, accept: str) -> Tuple[bytes, str]:
    """MLflow's ``{"predictions": [...]}`` as one line per record in ``accept``; returns body and content type."""
    value = _answer(answer)
    predictions = value.get("predictions") if isinstance(value, dict) else value
    if isinstance(predictions, dict):  # a column-oriented frame: {"col": [v0, v1, ...]}
        names = list(predictions)
        predictions = [dict(zip(names, row)) for row in zip(*(predictions[n] for n in names))]
    if not isinstance(predictions, list):
        raise AdaptorError('the model server\'s answer has no "predictions" list')
    if len(predictions) != records:
        raise AdaptorError(f"the model server answered {len(predictions)} predictions for {records} records")
    return _lines(predictions, accept)


_V2_INTEGERS = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
V2_DATATYPES = ("FP16", "FP32", "FP64", "BOOL", "BYTES", *_V2_INTEGERS)  # KServe v2's tensor data types


def to_v2_request(body: bytes, content_type: str, input_name: str, datatype: str) -> Dict[str, Any]:
    """A request of the explainer as KServe v2 JSON: one input tensor of shape [records, features]."""
    rows = _records(body, content_type)
    width = len(rows[0])
    data = [[_tensor_value(v, datatype, number) for v in row] for number, row in enumerate(rows, 1)]
    return {"inputs": [{"name": input_name, "shape": [len(rows), width], "datatype": datatype, "data": data}]}


def _tensor_value(value: Any, datatype: str, number: int) -> Any:
    if datatype == "BYTES":
        return value if isinstance(value, str) else json.dumps(value)
    if datatype == "BOOL":
        return bool(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdaptorError(f"record {number} holds {str(value)[:40]!r}, not a number for a {datatype} tensor")
    return int(value) if datatype in _V2_INTEGERS else float(value)


def from_v2_response(answer: bytes, records: int, accept: str, output_name: Optional[str]) -> Tuple[bytes, str]:
    """A KServe v2 answer's output tensor as one line per record in ``accept``."""
    value = _answer(answer)
    outputs = value.get("outputs") if isinstance(value, dict) else None
    if not isinstance(outputs, list) or not outputs:
        raise AdaptorError('the model server\'s answer has no "outputs" list (not a KServe v2 response)')
    chosen = next((o for o in outputs if isinstance(o, dict) and o.get("name") == output_name), None)
    if output_name and chosen is None:
        names = [o.get("name") for o in outputs if isinstance(o, dict)]
        raise AdaptorError(f"the answer has no output {output_name!r}; it has {names}")
    tensor = chosen or outputs[0]
    flat = _flatten(tensor.get("data") if isinstance(tensor, dict) else None)
    if not flat or len(flat) % records:
        raise AdaptorError(f"the output holds {len(flat)} values for {records} records")
    width = len(flat) // records
    lines = [flat[i * width : (i + 1) * width] for i in range(records)]
    return _lines([v[0] if width == 1 else v for v in lines], accept)


def _flatten(data: Any) -> List[Any]:
    if not isinstance(data, list):
        return []
    out: List[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _answer(answer: bytes) -> Any:
    try:
        return json.loads(answer.decode("utf-8"))
    except RecursionError:
        raise AdaptorError("the model server's answer is JSON nested too deeply") from None
    except ValueError as exc:
        raise AdaptorError(f"the model server's answer is not JSON: {exc}") from None


def _lines(values: List[Any], accept: str) -> Tuple[bytes, str]:
    """One record's value a line: JSON Lines, or CSV (a list or an object's values as cells)."""
    if _base(accept) in _JSONLINES:
        return (
            "\n".join(json.dumps(v, separators=(",", ":")) for v in values) + "\n"
        ).encode(), "application/jsonlines"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for v in values:
        v = list(v.values()) if isinstance(v, dict) else v
        writer.writerow([_csv_value(c) for c in (v if isinstance(v, list) else [v])])
    return out.getvalue().encode(), _CSV


def _csv_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _base(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


class _Handler(BaseHTTPRequestHandler):
    server_version = "clarify-kit-mlflow-adaptor"
    protocol_version = "HTTP/1.1"
    upstream = ""
    protocol = "mlflow"
    upstream_path = "/invocations"
    ping_path = "/ping"
    input_name = "INPUT__0"
    datatype = "FP32"
    output_name: Optional[str] = None
    columns: Optional[List[str]] = None
    timeout_s = 60.0
    max_body = MAX_BODY
    body_seconds = BODY_SECONDS
    timeout = IDLE_SECONDS  # socketserver: an idle or silent connection is closed, its thread freed

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the standard library's name)
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] != "/ping":
            self._reply(404, b'{"message":"not found"}', "application/json")
            return
        status, body, content_type = self._call(self.ping_path, None, {})
        self._reply(200 if status == 200 else 503, body or b"", content_type or "text/plain")

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] != "/invocations":
            self._reply(404, b'{"message":"not found"}', "application/json")
            return
        try:
            body = self._body()
            if body is None:
                return
            self._invoke(body)
        except Exception as exc:  # noqa: BLE001 - one JSON answer for anything unforeseen, never a traceback
            self._error(500, f"the adaptor failed: {type(exc).__name__}: {str(exc)[:300]}")

    def _body(self) -> Optional[bytes]:
        """The request body, read under one deadline and within MAX_BODY; None when an error was answered."""
        if self.headers.get("Transfer-Encoding"):
            self._refuse(411, "send the body with a Content-Length (chunked transfer is not read)")
            return None
        declared = self.headers.get("Content-Length")
        if declared is None:
            self._refuse(411, "the request has no Content-Length")
            return None
        declared = declared.strip()
        if not (declared.isascii() and declared.isdigit()) or len(declared) > 12:
            self._refuse(400, f"Content-Length {declared[:40]!r} is not a byte count")
            return None
        length = int(declared)
        if length > self.max_body:
            self._refuse(413, f"the request is {length} bytes; the adaptor takes at most {self.max_body}")
            return None
        deadline = time.monotonic() + self.body_seconds
        chunks = []
        left = length
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._refuse(408, f"the request body did not arrive within {self.body_seconds:g} s")
                return None
            self.connection.settimeout(remaining)
            try:
                chunk = self.rfile.read1(min(left, _READ)) if hasattr(self.rfile, "read1") else self.rfile.read(1)
            except OSError:
                self._refuse(408, f"the request body did not arrive within {self.body_seconds:g} s")
                return None
            if not chunk:
                self.close_connection = True
                return None
            chunks.append(chunk)
            left -= len(chunk)
        self.connection.settimeout(IDLE_SECONDS)
        return b"".join(chunks)

    def _invoke(self, body: bytes) -> None:
        content_type = self.headers.get("Content-Type") or _CSV
        accept = self.headers.get("Accept") or content_type
        try:
            if self.protocol == "kserve-v2":
                request = to_v2_request(body, content_type, self.input_name, self.datatype)
                records = request["inputs"][0]["shape"][0]
            else:
                request = to_dataframe_split(body, content_type, self.columns)
                records = len(request["dataframe_split"]["data"])
        except (AdaptorError, UnicodeDecodeError) as exc:
            self._error(400, str(exc))
            return
        payload = json.dumps(request, separators=(",", ":")).encode()
        status, answer, answer_type = self._call(self.upstream_path, payload, {"Content-Type": "application/json"})
        if status != 200:
            self._reply(status or 502, answer or b"", answer_type or "application/json")
            return
        try:
            if self.protocol == "kserve-v2":
                out, out_type = from_v2_response(answer, records, accept, self.output_name)
            else:
                out, out_type = from_predictions(answer, records, accept)
        except (AdaptorError, UnicodeDecodeError) as exc:
            self._error(502, str(exc))
            return
        self._reply(200, out, out_type)

    def _call(self, path: str, body: Optional[bytes], headers: Dict[str, str]) -> Tuple[int, bytes, str]:
        request = urllib.request.Request(self.upstream + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return answer.status, answer.read(), answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "")
        except OSError as exc:
            message = json.dumps({"message": f"the model server at {self.upstream} did not answer: {exc}"})
            return 502, message.encode(), "application/json"

    def _error(self, status: int, message: str) -> None:
        self._reply(status, json.dumps({"message": message}).encode(), "application/json")

    def _refuse(self, status: int, message: str) -> None:
        """An error about the body itself: the connection is closed after it (what is left of the body is unread)."""
        self.close_connection = True
        self._error(status, message)

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


_BUSY_BODY = b'{"message":"too many connections at once; retry"}'
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
_BUSY += b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)


class _Server(ThreadingHTTPServer):
    """At most MAX_CONNECTIONS connections at once (one more is answered 503 and closed); errors in one line."""

    daemon_threads = True

    def __init__(self, address: Tuple[str, int], handler: Any, connections: int = MAX_CONNECTIONS) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        kind, value = sys.exc_info()[:2]
        name = kind.__name__ if kind else "error"
        print(f"adaptor: connection from {client_address[0]}: {name}: {value}", file=sys.stderr)


def serve(
    upstream: str,
    host: str,
    port: int,
    columns: Optional[Sequence[str]] = None,
    timeout_s: float = 60.0,
    max_body: int = MAX_BODY,
    *,
    body_seconds: float = BODY_SECONDS,
    connections: int = MAX_CONNECTIONS,
    protocol: str = "mlflow",
    model: Optional[str] = None,
    upstream_path: Optional[str] = None,
    input_name: str = "INPUT__0",
    datatype: str = "FP32",
    output_name: Optional[str] = None,
) -> ThreadingHTTPServer:
    """A started adaptor server (call ``shutdown()`` to stop it); ``server_address`` says where it listens."""
    if protocol not in ("mlflow", "kserve-v2"):
        raise AdaptorError(f"protocol {protocol!r} is not one of mlflow, kserve-v2")
    if protocol == "kserve-v2" and upstream_path is None and not model:
        raise AdaptorError(
            "kserve-v2 needs --model (or --upstream-path, e.g. /invocations for Triton's SageMaker mode)"
        )
    if datatype not in V2_DATATYPES:
        raise AdaptorError(f"datatype {datatype!r} is not one of {', '.join(V2_DATATYPES)}")
    v2 = protocol == "kserve-v2"
    handler = type(
        "Handler",
        (_Handler,),
        {
            "upstream": upstream.rstrip("/"),
            "columns": list(columns) if columns else None,
            "timeout_s": timeout_s,
            "max_body": max_body,
            "body_seconds": body_seconds,
            "protocol": protocol,
            "upstream_path": upstream_path or (f"/v2/models/{model}/infer" if v2 else "/invocations"),
            "ping_path": (f"/v2/models/{model}/ready" if model else "/v2/health/ready") if v2 else "/ping",
            "input_name": input_name,
            "datatype": datatype,
            "output_name": output_name,
        },
    )
    server = _Server((host, port), handler, connections)
    threading.Thread(target=server.serve_forever, name="adaptor", daemon=True).start()
    return server


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="adaptor", description="Headerless CSV / JSON Lines in front of MLflow or Triton.")
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser, protocol: Optional[str] = None) -> None:
    """The adaptor's options; ``protocol`` presets --protocol (the kit's mlflow-adaptor and kserve-adaptor)."""
    if protocol is None:
        p.add_argument("--protocol", choices=("mlflow", "kserve-v2"), default="mlflow", help="the server's protocol")
    else:
        p.set_defaults(protocol=protocol)
    p.add_argument("--upstream", default="http://127.0.0.1:5000", help="the model server (default %(default)s)")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default %(default)s)")  # noqa: S104
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default %(default)s, SageMaker's)")
    p.add_argument("--columns", help="mlflow: the model's input names, comma-separated, in the records' order")
    p.add_argument("--model", help="kserve-v2: the model's name (its URL is /v2/models/MODEL/infer)")
    p.add_argument(
        "--upstream-path", help="kserve-v2: the inference path instead (/invocations: Triton's SageMaker mode)"
    )
    p.add_argument("--input-name", default="INPUT__0", help="kserve-v2: the input tensor's name (default %(default)s)")
    p.add_argument("--datatype", default="FP32", choices=V2_DATATYPES, help="kserve-v2: its datatype (default FP32)")
    p.add_argument("--output-name", help="kserve-v2: the output tensor to read (default: the first)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for MLflow (default %(default)s)")
    p.add_argument(
        "--max-body-mb",
        type=int,
        default=MAX_BODY >> 20,
        choices=range(1, 26),
        metavar="MB",
        help="the largest request read, in MiB: the config's MaxPayloadInMB (default %(default)s, at most 25)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT."""
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    try:
        server = serve(
            args.upstream, args.host, args.port, columns, args.timeout, args.max_body_mb << 20,
            protocol=args.protocol, model=args.model, upstream_path=args.upstream_path, input_name=args.input_name,
            datatype=args.datatype, output_name=args.output_name,
        )  # fmt: skip
    except AdaptorError as exc:
        print(f"adaptor: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    host, port = server.server_address[:2]
    print(f"adaptor ({args.protocol}): http://{host!s}:{port} -> {args.upstream}", file=sys.stderr, flush=True)
    stop.wait()
    server.shutdown()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
