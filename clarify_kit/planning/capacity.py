"""``clarify-kit capacity``: what explanations cost on the real container, measured, and the plan that follows.

The kit's explainer (the local emulation of Clarify's) runs in this process in front of the container, sending the
batch sizes and request counts the explainer really sends. Measured:

- one explained record: rows and container requests (counted on the wire), latency p50 and p99 over repeated calls;
- the container's own figures: a single record and full synthetic batches, timed, give ms per request and per
  record;
- what one instance sustains: explained records per second with 1, 2, 4 and 8 callers (the best), and the
  concurrency that gives that rate (the container's parallel requests and the explainer's overlap together);
- accuracy: the explainer's attributions at several NumberOfSamples against exact Shapley values (the coalitions
  enumerated when there are few enough, else a much larger budget whose own error is estimated from two runs);
- beside Clarify's fixed budget, the self-hosted explainer with ``ClarifyKit.SelfHosted.TargetError``: for a few
  targets, the rows it sent to the container per record (counted on the wire) and the error it reached, on the
  same records and against the same reference.

Everything else (targets, instances, prices, the latency at other NumberOfSamples) is arithmetic on those figures
(clarify_kit.core.capacity).
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from clarify_kit.core.capacity import (
    ContainerFigures,
    Workload,
    cost_per_1000,
    instances_for,
    targets,
)
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import KitError
from clarify_kit.core.numbers import percentile
from clarify_kit.core.rules import assess
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.core.synthetic import default_samples, n_samples
from clarify_kit.explainer import ContainerReply, Explainer, HttpTransport, Transport, batches_of
from clarify_kit.planning.plan import DEFAULT_MAX_ERROR, CapacityPlan

__all__ = ["DEFAULT_MAX_ERROR", "RATE_SECONDS", "CapacityPlan", "measure_capacity"]

_CALLERS = (1, 2, 4, 8)
RATE_SECONDS = 0.5  # each number of callers is measured this long at least (kit)
_ENUMERATE_UP_TO = 12  # features: 4,094 coalitions per baseline record is cheap to score exactly


class _Counting:
    """A transport that counts the requests and rows it carries (what the explainer really sends)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.requests = 0
        self.rows = 0
        self._lock = threading.Lock()

    def post(self, body: bytes, **kwargs: Any) -> ContainerReply:
        with self._lock:
            self.requests += 1
            self.rows += body.count(b"\n") + 1
        return self.inner.post(body, **kwargs)


class _Measure:
    def __init__(
        self,
        config: DeploymentConfig,
        url: str,
        transport: Transport | None,
        target_model: str | None,
        records: list[str] | None = None,
    ):
        self.config = config
        self.spec = ExplainerSpec.from_config(config)
        self.transport = transport or HttpTransport(url, pool_size=32)
        models = config.ClarifyKit.TargetModels
        self.target_model = target_model or (models[0] if models else None)
        samples = config.ClarifyKit.Container.SampleRecords
        self.source = "--records" if records else ("SampleRecords" if samples else "the baseline")
        self.records = list(records or samples or [])
        if not self.records:  # the baseline's own records: every attribution of theirs is 0
            self.records = [self.spec.encode_records([r]) for r in self.spec.baseline_rows()]
        if not self.records:
            raise KitError("capacity needs a record to explain: give --records FILE or set SampleRecords")
        self.kind = self.spec.content_type
        self.baseline_text: str | None = None

    def real_records(self) -> list[str]:
        """The records that differ from every baseline record: explained against the baseline, only these have
        attributions to measure an error on."""
        base = [[str(v) for v in row] for row in self.spec.baseline_rows()]
        out = []
        for record in self.records:
            try:
                features = [str(v) for v in self.spec.parse_request(record, self.kind)[0]]
            except (KitError, IndexError):
                continue
            if features not in base:
                out.append(record)
        return out

    def explainer(self, spec: ExplainerSpec | None = None, transport: Transport | None = None) -> Explainer:
        return Explainer(spec or self.spec, transport or self.transport)

    def explain_once(self, explainer: Explainer, record: str) -> dict[str, Any]:
        envelope, _ = explainer.invoke(
            record.encode("utf-8"),
            content_type=self.kind,
            accept=self.spec.accept,
            enable_explanations="`true`",
            target_model=self.target_model,
        )
        out: dict[str, Any] = envelope
        return out

    def post(self, body: bytes) -> float:
        started = time.perf_counter()
        reply = self.transport.post(
            body, content_type=self.kind, accept=self.spec.accept, target_model=self.target_model, timeout=60
        )
        if reply.status != 200:
            raise KitError(f"the container answered HTTP {reply.status}: {reply.body[:200]!r}")
        return (time.perf_counter() - started) * 1000


def _attributions(envelope: dict[str, Any], member: str = "attribution") -> np.ndarray:
    """The first record's attributions of its first label, one per feature (``member="standard_error"``: their
    standard errors)."""
    features: list[dict[str, Any]] = envelope["explanations"]["kernel_shap"][0]
    return np.array([f["attributions"][0][member][0] for f in features], dtype=np.float64)


def measure_capacity(
    config: DeploymentConfig,
    url: str,
    *,
    transport: Transport | None = None,
    target_model: str | None = None,
    iterations: int = 20,
    utilisation: float | None = None,
    target_rps: float | None = None,
    explained_share: float | None = None,
    hourly_price: float | None = None,
    max_error: float = DEFAULT_MAX_ERROR,
    accuracy: bool = True,
    repeats: int = 3,
    baseline_text: str | None = None,
    rate_seconds: float = RATE_SECONDS,
    records: list[str] | None = None,
) -> CapacityPlan:
    """Measure the container at ``url`` behind the kit's explainer and plan from it (see the module's text).
    ``rate_seconds``: how long each number of concurrent callers is measured for the sustained rate."""
    assessment = assess(config, baseline_text=baseline_text)
    assessment.raise_for_errors()
    m = _Measure(config, url, transport, target_model, records)
    if baseline_text is not None:
        m.spec = m.spec.with_baseline(baseline_text)
        m.baseline_text = baseline_text
    width = len(m.spec.parse_request(m.records[0], m.kind)[0])
    counting = _Counting(m.transport)
    explainer = m.explainer(transport=counting)
    for record in m.records[:2]:  # warm-up: the expected value is scored once per endpoint, connections opened
        m.explain_once(explainer, record)
    counting.requests = counting.rows = 0
    m.explain_once(explainer, m.records[0])
    requests, rows = counting.requests, counting.rows - 1  # the prediction call carries the record itself
    latencies = _latencies(config, m, iterations)
    figures = _container_figures(m, explainer, rows, latencies)
    by_callers = _throughput(m, explainer, rate_seconds)
    plain = _plain_throughput(m)
    scaling = config.ClarifyKit.Autoscaling
    share = scaling.ExplainedShare if explained_share is None else explained_share
    batch = assessment.records_per_request or max(1, rows)
    workload = Workload(rows, batch)
    sustained = max(by_callers.values())
    # The concurrency that makes synth's arithmetic (its figures, the kit's explainer cost per row) give the rate
    # measured here: recorded in the config, it lets synth derive exactly this plan's targets.
    synth_figures = ContainerFigures(figures.ms_per_record, figures.ms_per_request)
    effective = max(1.0, round(sustained * workload.explained_ms(synth_figures) / 1000, 2))
    figures = replace(figures, concurrency=effective)
    derived = targets(
        replace(synth_figures, concurrency=effective),
        workload,
        utilisation=utilisation if utilisation is not None else scaling.TargetUtilisation,
        explained_share=share,
        records_per_invocation=config.ClarifyKit.Latency.RecordsPerInvocation,
    )
    plan = CapacityPlan(
        n_features=width,
        number_of_samples=n_samples(width, m.spec.number_of_samples),
        rows_per_explained_record=rows,
        container_requests_per_explained_record=requests,
        latency_ms={"p50": round(statistics.median(latencies), 3), "p99": round(percentile(latencies, 99), 3)},
        latencies_ms=latencies,
        figures=figures,
        explained_records_per_s_per_instance=derived.explained_per_s,
        plain_predictions_per_s_per_instance=derived.plain_per_s,
        measured_plain_per_s=plain,
        throughput_by_callers=by_callers,
        targets=derived,
        max_error=max_error,
    )
    if target_rps is not None:
        count, headroom = instances_for(
            target_rps, share, derived, records_per_invocation=config.ClarifyKit.Latency.RecordsPerInvocation
        )
        plan.instances = {
            "target_rps": target_rps,
            "explained_share": share,
            "count": count,
            "headroom": round(headroom, 4),
        }
    if hourly_price is not None:
        plan.cost = {
            "hourly_price": hourly_price,
            "cost_per_1000_explanations": round(
                cost_per_1000(hourly_price, derived.explained_per_s, derived.utilisation), 6
            ),
            "cost_per_1000_predictions": round(
                cost_per_1000(hourly_price, derived.plain_per_s, derived.utilisation), 6
            ),
        }
    plan.records_source = m.source
    if m.source == "the baseline":
        plan.notes.append(
            "latency and rate are measured on the baseline's own records (no --records or SampleRecords given): "
            "give records like the endpoint's traffic for figures on them"
        )
    if accuracy and width >= 2:
        real = m.real_records()
        if real:
            _accuracy(plan, m, figures, batch, repeats, real)
        else:
            plan.notes.append(
                "no accuracy table: every record given is a baseline record, whose attributions are all 0 (an error "
                "of 0 % at any NumberOfSamples says nothing); give --records FILE (or ClarifyKit.Container."
                "SampleRecords) with records like the endpoint's traffic"
            )
    return plan


def _latencies(config: DeploymentConfig, m: _Measure, iterations: int) -> list[float]:
    """ms of each of ``iterations`` InvokeEndpoint calls explaining one record, through the local endpoint (the
    Runtime API's HTTP exchange and the explainer) in front of the container."""
    from clarify_kit.explainer.endpoint import running_endpoint
    from clarify_kit.explainer.http1 import Client

    if not isinstance(m.transport, HttpTransport):  # an in-process transport: the explainer alone
        explainer = m.explainer()
        times = []
        for i in range(iterations):
            started = time.perf_counter()
            m.explain_once(explainer, m.records[i % len(m.records)])
            times.append((time.perf_counter() - started) * 1000)
        return times
    headers = {"Content-Type": m.kind, "Accept": m.spec.accept, "X-Amzn-SageMaker-Enable-Explanations": "`true`"}
    if m.target_model:
        headers["X-Amzn-SageMaker-Target-Model"] = m.target_model
    times = []
    with running_endpoint(config, m.transport.base_url, baseline_text=m.baseline_text) as (base, endpoint):
        client, address = Client(base), f"/endpoints/{endpoint.name}/invocations"
        for i in range(iterations + 2):  # two to warm up: the expected value, the connections
            body = m.records[i % len(m.records)].encode("utf-8")
            started = time.perf_counter()
            answer = client.request("POST", address, body=body, headers=headers, deadline=time.monotonic() + 70)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status != 200:
                raise KitError(f"the local endpoint answered HTTP {answer.status}: {answer.body[:300]!r}")
            if i >= 2:
                times.append(elapsed)
    return times


def _container_figures(m: _Measure, explainer: Explainer, rows: int, latencies: list[float]) -> ContainerFigures:
    """ms per request and per record from a single record and full batches, and the explainer's own ms per row
    from what the explained calls took beyond the container's share."""
    single = statistics.median(m.post(m.records[0].encode("utf-8")) for _ in range(7))
    synthetic = explainer.synthetic_rows(m.spec.parse_request(m.records[0], m.kind)[0])
    batches = batches_of(synthetic, m.spec.max_record_count, m.spec.max_payload_bytes)
    batch = "\n".join(batches[0]).encode("utf-8")
    full = statistics.median(m.post(batch) for _ in range(5))
    size = len(batches[0])
    per_record = (full - single) / max(1, size - 1)
    if per_record <= 0:  # a batch took no longer than one record: the per-record cost is below resolution
        per_record = full / size  # an upper bound, from the whole batch
    per_request = max(single - per_record, 0.0)
    requests = 1 + math.ceil(rows / size)
    container_ms = requests * per_request + (rows + 1) * per_record
    explainer_ms = max(statistics.median(latencies) - container_ms, 0.0)
    return ContainerFigures(per_record, per_request, 1.0, explainer_ms / max(1, rows))


def _throughput(m: _Measure, explainer: Explainer, seconds: float) -> dict[int, float]:
    """Explained records per second with 1, 2, 4 and 8 callers, each explaining records one after another for
    at least ``seconds`` and at least three records (a dozen calls of 20 ms measured little but noise)."""
    out: dict[int, float] = {}
    for callers in _CALLERS:
        counts = [0] * callers
        started = time.perf_counter()

        def caller(k: int, started: float = started, counts: list[int] = counts, callers: int = callers) -> None:
            while counts[k] < 3 or time.perf_counter() - started < seconds:
                m.explain_once(explainer, m.records[(counts[k] * callers + k) % len(m.records)])
                counts[k] += 1

        with ThreadPoolExecutor(max_workers=callers) as pool:
            list(pool.map(caller, range(callers)))
        out[callers] = sum(counts) / (time.perf_counter() - started)
        if callers > 1 and out[callers] < out[callers // 2] * 1.05:
            break  # saturated: more callers only queue
    return out


def _plain_throughput(m: _Measure) -> float:
    body = m.records[0].encode("utf-8")
    with ThreadPoolExecutor(max_workers=4) as pool:
        started = time.perf_counter()
        list(pool.map(lambda _: m.post(body), range(80)))
        return 80 / (time.perf_counter() - started)


def _candidates(m_features: int, configured: int) -> list[int]:
    default = default_samples(m_features)
    cap = n_samples(m_features, None) if m_features < 63 else default
    full = 2**m_features - 2 if m_features < 62 else None
    wanted = {configured, default, configured // 8, configured // 4, configured // 2, configured * 2}
    values = sorted(v for v in wanted if v >= max(8, m_features + 1))
    if full is not None:
        values = [v for v in values if v < full] + ([full] if configured >= full or cap >= full else [])
    return sorted(set(values))


def _accuracy(
    plan: CapacityPlan, m: _Measure, figures: ContainerFigures, batch: int, repeats: int, real: list[str]
) -> None:
    """The explainer's median normalised error and top-feature agreement per NumberOfSamples, for up to two
    records that differ from the baseline, against exact values (or a large budget with its own error estimate)."""
    width, configured = plan.n_features, plan.number_of_samples
    baseline = len(m.spec.baseline_rows())
    records = real[:2]
    exact = width <= _ENUMERATE_UP_TO
    reference_samples = 2**width - 2 if exact else max(16 * configured, 32768)
    references = []
    bound = 0.0
    for record in records:
        ref_spec = replace(m.spec, number_of_samples=reference_samples, seed=None if not exact else 0)
        first = _attributions(m.explain_once(m.explainer(ref_spec), record))
        if not exact:  # two large runs: their distance estimates the reference's own error
            second = _attributions(m.explain_once(m.explainer(ref_spec), record))
            scale = float(np.linalg.norm((first + second) / 2)) or 1.0
            bound = max(bound, float(np.linalg.norm(first - second)) / math.sqrt(2) / scale / 2)
            first = (first + second) / 2
        references.append(first)
    plan.reference = (
        "exact Shapley values (every coalition enumerated)"
        if exact
        else f"NumberOfSamples {reference_samples} (its own error about {bound:.2%})"
    )
    base = Workload(plan.rows_per_explained_record, batch).explained_ms(figures)
    cost_configured = base
    rows_out = []
    for samples in _candidates(width, configured):
        spec = replace(m.spec, number_of_samples=samples, seed=None)
        errors, kept = [], []
        for record, phi in zip(records, references, strict=True):
            norm = float(np.linalg.norm(phi)) or 1.0
            for _ in range(repeats):
                got = _attributions(m.explain_once(m.explainer(spec), record))
                errors.append(float(np.linalg.norm(got - phi)) / norm)
                kept.append(int(np.argmax(np.abs(got))) == int(np.argmax(np.abs(phi))))
        rows = n_samples(width, samples) * baseline
        cost = Workload(rows, batch).explained_ms(figures)
        rows_out.append(
            {
                "number_of_samples": samples,
                "rows": rows,
                "predicted_p50_ms": round(plan.latency_ms["p50"] * cost / cost_configured, 3),
                "explained_records_per_s_per_instance": round(
                    plan.explained_records_per_s_per_instance * cost_configured / cost, 3
                ),
                "median_error": round(statistics.median(errors), 6),
                "top_feature_kept": round(sum(kept) / len(kept), 4),
                "configured": samples == configured,
                "default": samples == default_samples(width),
            }
        )
    plan.accuracy = rows_out
    _target_errors(plan, m, figures, batch, repeats, list(zip(records, references, strict=True)), base)
    meeting = [r for r in rows_out if r["median_error"] <= plan.max_error]
    if meeting:
        best = min(meeting, key=lambda r: r["number_of_samples"])
        mine = next(r for r in rows_out if r["configured"]) if any(r["configured"] for r in rows_out) else None
        reference_ms = mine["predicted_p50_ms"] if mine else plan.latency_ms["p50"]
        reference_rate = (
            mine["explained_records_per_s_per_instance"] if mine else plan.explained_records_per_s_per_instance
        )
        plan.recommended = {
            "number_of_samples": best["number_of_samples"],
            "median_error": best["median_error"],
            "predicted_p50_ms": best["predicted_p50_ms"],
            "latency_saved_share": round(1 - best["predicted_p50_ms"] / reference_ms, 4),
            "cost_saved_share": round(1 - reference_rate / best["explained_records_per_s_per_instance"], 4),
        }


def _target_error_candidates(plan: CapacityPlan, configured: float | None) -> list[float]:
    """The targets to try: the median error of Clarify's default budget (what a target saves at equal accuracy),
    the plan's accuracy goal and a fifth of it, and the config's own TargetError; each in (0, 1)."""
    default = next((r["median_error"] for r in plan.accuracy if r["default"]), None)
    wanted = {plan.max_error, round(plan.max_error / 5, 6), configured, default}
    return sorted(t for t in wanted if t is not None and 0 < t < 1)


def _target_errors(
    plan: CapacityPlan,
    m: _Measure,
    figures: ContainerFigures,
    batch: int,
    repeats: int,
    references: list[tuple[str, np.ndarray]],
    cost_configured: float,
) -> None:
    """Per target error, the self-hosted explainer's container rows and requests per record (medians, counted on
    the wire), the median error it reached, and the latency that follows from them (as the accuracy table's)."""
    if m.spec.is_text:  # text records keep Clarify's plan with the self-hosted explainer: nothing to compare
        return
    budget = plan.rows_per_explained_record  # the configured budget's rows, counted on the wire
    for target in _target_error_candidates(plan, m.spec.target_error):
        spec = replace(m.spec, self_hosted=True, target_error=target, seed=None)
        counting = _Counting(m.transport)
        explainer = m.explainer(spec, counting)
        m.explain_once(explainer, references[0][0])  # the expected value is scored once per endpoint
        rows, requests, errors, covered, pairs = [], [], [], [], 0
        for record, phi in references:
            norm = float(np.linalg.norm(phi)) or 1.0
            for _ in range(repeats):
                counting.rows = counting.requests = 0
                envelope = m.explain_once(explainer, record)
                rows.append(counting.rows - 1)  # the prediction call carries the record itself
                requests.append(counting.requests)  # the prediction call and one or more per round
                got = _attributions(envelope)
                errors.append(float(np.linalg.norm(got - phi)) / norm)
                if "standard_error" in envelope["explanations"]["kernel_shap"][0][0]["attributions"][0]:
                    bars = _attributions(envelope, "standard_error")
                    covered.append(int(np.sum(np.abs(got - phi) <= 1.645 * bars + 1e-12)))
                    pairs += len(phi)
        median_rows, median_requests = int(statistics.median(rows)), int(statistics.median(requests))
        # as Workload.explained_ms, with the requests counted: a round is a container request of its own
        cost = (
            median_requests * figures.ms_per_request
            + (median_rows + 1) * figures.ms_per_record
            + median_rows * figures.explainer_ms_per_row
        )
        plan.target_errors.append(
            {
                "target_error": target,
                "rows": median_rows,
                "container_requests": median_requests,
                "rows_share_of_configured": round(median_rows / budget, 4) if budget else None,
                "predicted_p50_ms": round(plan.latency_ms["p50"] * cost / cost_configured, 3),
                "median_error": round(statistics.median(errors), 6),
                "coverage_90": round(sum(covered) / pairs, 4) if pairs else None,
                "configured": target == m.spec.target_error,
            }
        )
