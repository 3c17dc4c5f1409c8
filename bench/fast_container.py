"""A fast model container for the benchmarks: the SageMaker contract (GET /ping, POST /invocations) on the standard
library, scoring a CSV row as a logistic function of a weighted sum of its features, about 0.01 ms per row, so
that what the explainer itself costs shows. Each reply is one write with Nagle's algorithm
off: no delayed-ACK stalls between the headers and the body.

    python bench/fast_container.py PORT N_FEATURES
"""

from __future__ import annotations

import math
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    port, width = int(sys.argv[1]), int(sys.argv[2])
    weights = [((i * 37) % 11 - 5) / 5 for i in range(width)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # headers and body leave in one write

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self._send(b"")

        def do_POST(self) -> None:  # noqa: N802
            text = self.rfile.read(int(self.headers["Content-Length"])).decode()
            out = []
            for line in text.split("\n"):
                if line:
                    z = sum(w * v for w, v in zip(weights, map(float, line.split(",")), strict=False))
                    out.append(repr(1 / (1 + math.exp(-max(-50.0, min(50.0, z))))))
            self._send("\n".join(out).encode())

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        # The listen backlog of a real model server (uvicorn and gunicorn: 2048), not the standard library's 5: a
        # burst of new connections (four callers, three container calls each) overflowed 5, and a dropped SYN
        # came back after TCP's one-second retransmission timeout, halving a benchmark's rate at random.
        request_queue_size = 2048

    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
