"""The example model container: the SageMaker inference contract (GET /ping, POST /invocations) over uvicorn.

    python -m examples.container --model-dir build/models/binary --port 8080      # locally, on 127.0.0.1
    docker run IMAGE serve                                                          # on SageMaker (0.0.0.0:8080)

It reads ``text/csv`` or ``application/jsonlines`` batches, answers one output line per input record in the
formats of docs/explainer.md 3.7, and routes on ``X-Amzn-SageMaker-Target-Model`` when the model directory holds
several models (multi-model endpoint). ``--fault`` makes it misbehave on purpose, for the reliability tests.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import math
import os
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

FAULTS = (
    "none",
    "one-line",
    "shift",
    "predictions-object",
    "slow",
    "die",
    "short",
    "extra",
    "nan",
    "inf",
    "non-utf8",
    "html",
    "reset",
    "error-after",
    "trickle",
    "single",
)
_MAX_BODY = 25 * 1024 * 1024  # the explainer sends at most MaxPayloadInMB (<= 25 MB)


class ModelStore:
    """Loads ``model.pkl`` + ``meta.json`` from the model directory, or from ``<dir>/<target>/`` per target model."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.multi = not (root / "model.pkl").exists()
        self._cache: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, target: str | None) -> tuple[Any, dict[str, Any]]:
        key = target if self.multi else ""
        if self.multi and not target:
            raise LookupError("this is a multi-model container: set the X-Amzn-SageMaker-Target-Model header")
        with self._lock:
            if key not in self._cache:
                folder = (self.root / key) if key else self.root
                inside = folder.resolve().is_relative_to(self.root.resolve()) and folder.resolve() != (
                    self.root.resolve() if key else None
                )
                if key and (
                    key in (".", "..") or Path(key).name != key or not inside or not (folder / "model.pkl").exists()
                ):
                    raise LookupError(f"model {target!r} not found in {self.root}")
                with (folder / "model.pkl").open("rb") as fh:
                    model = pickle.load(fh)  # noqa: S301 - the container's own artifact
                self._cache[key] = (model, json.loads((folder / "meta.json").read_text()))
            return self._cache[key]


def _error(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status_code=status, media_type="application/json")


def _parse(body: str, content_type: str, meta: dict[str, Any]) -> list[Any]:
    if content_type == "text/csv":
        if meta["task"] == "text":
            rows = [r for r in csv.reader(io.StringIO(body)) if r]
            return [r[0] if len(r) == 1 else " ".join(r) for r in rows]
        lines = [line for line in body.splitlines() if line.strip()]
        if '"' in body:
            return [[float(c) for c in r] for r in csv.reader(lines)]
        return [[float(c) for c in line.split(",")] for line in lines]
    records = [json.loads(line) for line in body.splitlines() if line.strip()]
    key = meta.get("features_key")
    return [r[key] if key and isinstance(r, dict) else r for r in records]


def _predict(model: Any, meta: dict[str, Any], rows: list[Any]) -> np.ndarray:
    if meta["task"] == "text":
        return np.asarray(model.predict_proba(rows)[:, 1])
    x = np.asarray(rows, dtype=float)
    if x.ndim != 2 or x.shape[1] != meta["n_features"]:
        width = x.shape[1] if x.ndim == 2 else "a ragged number of"
        raise ValueError(f"expected {meta['n_features']} features per record, got {width}")
    if meta["task"] == "regression":
        return np.asarray(model.predict(x))
    if meta["task"] == "multiclass":
        return np.asarray(model.predict_proba(x))
    return np.asarray(model.predict_proba(x)[:, 1])


def _format(scores: np.ndarray, accept: str, meta: dict[str, Any]) -> str:
    if accept == "application/jsonlines":
        if scores.ndim == 2:
            labels = meta.get("labels") or [str(i) for i in range(scores.shape[1])]
            return (
                "\n".join(
                    json.dumps(
                        {"predicted_labels": labels, "probabilities": [round(float(p), 6) for p in r]},
                        separators=(",", ":"),
                    )
                    for r in scores
                )
                + "\n"
            )
        return "\n".join(json.dumps({"score": float(s)}) for s in scores) + "\n"
    if scores.ndim == 2:
        return "\n".join(",".join(repr(float(p)) for p in r) for r in scores) + "\n"
    return "\n".join(repr(float(s)) for s in scores) + "\n"


def build_app(model_dir: str | Path, *, fault: str = "none", fault_arg: float = 0.0) -> Starlette:
    """The container as an ASGI app (``fault`` selects a deliberate misbehaviour, see FAULTS)."""
    store = ModelStore(Path(model_dir))
    if not store.multi:
        store.get(None)  # load before the first /ping answers, as SageMaker expects
    state = {"requests": 0}

    async def ping(request: Request) -> Response:
        return Response("", status_code=200)

    async def invocations(request: Request) -> Response:
        state["requests"] += 1
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            return _error(413, f"payload of {len(raw)} bytes is over {_MAX_BODY}")
        content_type = (request.headers.get("content-type") or "text/csv").split(";")[0].strip().lower()
        accept = (request.headers.get("accept") or "").split(";")[0].strip().lower()
        if content_type not in ("text/csv", "application/jsonlines"):
            return _error(415, f"unsupported Content-Type {content_type!r}; use text/csv or application/jsonlines")
        try:
            model, meta = store.get(request.headers.get("x-amzn-sagemaker-target-model"))
        except LookupError as err:
            return _error(404, str(err))
        if accept in ("", "*/*"):
            accept = meta["output"]
        if accept not in ("text/csv", "application/jsonlines"):
            return _error(406, f"unsupported Accept {accept!r}; use text/csv or application/jsonlines")
        try:
            rows = _parse(raw.decode("utf-8"), content_type, meta)
            scores = _predict(model, meta, rows) + (fault_arg if fault == "shift" else 0.0)  # shift: a retrained model
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as err:
            return _error(400, f"cannot score the request: {err}")
        await _delay(fault, fault_arg)
        return _faulty(fault, fault_arg, state, scores, accept, meta) or Response(
            _format(scores, accept, meta), media_type=f"{accept}; charset=utf-8"
        )

    return Starlette(
        routes=[Route("/ping", ping, methods=["GET"]), Route("/invocations", invocations, methods=["POST"])]
    )


async def _delay(fault: str, arg: float) -> None:
    if fault == "slow":  # asleep without blocking the loop, so that the process still stops at once
        await asyncio.sleep(arg or 2.0)


def _faulty(
    fault: str, arg: float, state: dict[str, int], scores: np.ndarray, accept: str, meta: dict[str, Any]
) -> Response | None:
    """The response of a deliberate misbehaviour, or None to answer normally."""
    if fault in ("die", "error-after", "reset", "trickle"):
        return _misbehave(fault, arg, state, _format(scores, accept, meta), f"{accept}; charset=utf-8")
    return _wrong_content(fault, scores, accept, meta)


def _misbehave(fault: str, arg: float, state: dict[str, int], text: str, media: str) -> Response | None:
    if fault == "die" and state["requests"] > (arg or 1):
        os._exit(3)  # the process dies in the middle of the batch, as an OOM-killed container does
    elif fault == "error-after" and state["requests"] > (arg or 1):
        return _error(500, "internal error after warm-up")
    elif fault == "reset":
        raise ConnectionResetError("fault injection: reset")
    elif fault == "trickle":  # the right answer, one byte every `arg` seconds
        return StreamingResponse(_trickle(text, arg or 1.0), media_type=media)
    return None


def _wrong_content(fault: str, scores: np.ndarray, accept: str, meta: dict[str, Any]) -> Response | None:
    media = f"{accept}; charset=utf-8"
    if fault == "short" and len(scores) > 1:
        return Response(_format(scores[:-1], accept, meta), media_type=media)
    if fault == "extra":
        return Response(_format(np.concatenate([scores, scores[:1]]), accept, meta), media_type=media)
    if fault in ("nan", "inf"):
        bad = scores.astype(float)
        bad.flat[0] = math.nan if fault == "nan" else math.inf
        return Response(_format(bad, accept, meta), media_type=media)
    if fault == "non-utf8":
        return Response(b"\xff\xfe\xfa" * max(1, len(scores)), media_type=media)
    if fault == "single" and len(scores) > 1:
        return _error(400, "this container takes one record per request")
    if fault == "predictions-object":  # one JSON object per request, as a FastAPI app or TF Serving answers
        values = [float(v) for v in np.ravel(scores)]
        return Response(json.dumps({"predictions": values}), media_type="application/json")
    if fault == "one-line" and accept.startswith("text/csv"):  # SageMaker's XGBoost container without SAGEMAKER_BATCH
        return Response(",".join(repr(float(v)) for v in np.ravel(scores)) + "\n", media_type=media)
    if fault == "html":
        return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", status_code=502, media_type="text/html")
    return None


async def _trickle(text: str, every: float) -> Any:
    import asyncio

    for char in text:
        yield char.encode()
        await asyncio.sleep(every)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mode",
        nargs="?",
        default="local",
        choices=["local", "serve"],
        help="'serve' is how SageMaker starts a container: 0.0.0.0:8080, /opt/ml/model",
    )
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--fault", choices=FAULTS, default=os.environ.get("CLARIFY_KIT_FAULT", "none"))
    parser.add_argument("--fault-arg", type=float, default=0.0)
    args = parser.parse_args(argv)
    serving = args.mode == "serve"
    model_dir = args.model_dir or ("/opt/ml/model" if serving else "build/models/binary")
    host = args.host or ("0.0.0.0" if serving else "127.0.0.1")  # noqa: S104 - inside the container only

    import uvicorn

    app = build_app(model_dir, fault=args.fault, fault_arg=args.fault_arg)
    uvicorn.run(app, host=host, port=args.port, log_level="warning", access_log=False, timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
