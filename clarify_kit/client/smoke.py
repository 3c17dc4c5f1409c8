"""Smoke-test an explainable endpoint from a pipeline: checks with evidence, JSON and JUnit XML for CI systems."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clarify_kit.client.invoke import EndpointClient
from clarify_kit.client.result import InvokeResult
from clarify_kit.core.errors import CodecError, ExpressionError, KitError
from clarify_kit.core.expressions import evaluate
from clarify_kit.core.limits import EXPRESSION_MAX_CHARS, INVOKE_TIMEOUT_S
from clarify_kit.core.numbers import percentile

__all__ = ["Check", "SmokeReport", "run_smoke", "write_junit"]


@dataclass
class Check:
    """One smoke check: its outcome, a one-line summary and the evidence behind a failure."""

    name: str
    ok: bool
    summary: str
    evidence: str = ""
    seconds: float = 0.0
    skipped: bool = False


@dataclass
class SmokeReport:
    endpoint: str
    checks: list[Check] = field(default_factory=list)
    # For the HTML report: the explained call's result per target model, and every timed call's seconds.
    explained: list[InvokeResult] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "ok": self.ok, "checks": [asdict(c) for c in self.checks]}

    def render(self) -> str:
        lines = []
        for c in self.checks:
            mark = "-" if c.skipped else ("✓" if c.ok else "✗")
            lines.append(f"{mark} {c.name}: {c.summary}")
            if not c.ok and c.evidence:
                lines.extend(f"    {line}" for line in c.evidence.splitlines())
        passed = sum(1 for c in self.checks if c.ok and not c.skipped)
        failed = sum(1 for c in self.checks if not c.ok)
        skipped = sum(1 for c in self.checks if c.skipped)
        lines.append(f"smoke: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
        return "\n".join(lines)


def _timed(report: SmokeReport, name: str, fn: Callable[[], tuple[bool, str, str]]) -> Check:
    started = time.perf_counter()
    try:
        ok, summary, evidence = fn()
        check = Check(name, ok, summary, evidence)
    except KitError as err:
        first, _, rest = str(err).partition("\n")
        check = Check(name, False, f"{type(err).__name__}: {first}", rest.strip())  # evidence: what the line lacks
    check.seconds = time.perf_counter() - started
    report.checks.append(check)
    return check


def run_smoke(
    client: EndpointClient,
    records: list[str],
    *,
    target_models: list[str] | None = None,
    iterations: int = 5,
    latency_budget_s: float | None = None,
    tolerance: float = 1e-3,
) -> SmokeReport:
    """Run the smoke checks for every target model (or the endpoint itself when there is none).

    Checks: a prediction-only call, an explained call (schema and shape), a filtered call (the config's
    EnableExplanations, or a threshold expression, evaluated locally and compared), additivity against the
    expected value over the baseline, and latency percentiles of explained calls against the budget.
    """
    report = SmokeReport(client.endpoint_name)
    budget = latency_budget_s or _budget(client)
    ceiling = client.spec.max_record_count if client.spec is not None else None
    if ceiling is not None and len(records) > ceiling:  # the container takes no more in one request
        records = records[:ceiling]
    for model in list(target_models) if target_models else [None]:
        checks = _ModelChecks(client, records, model, iterations=iterations, budget=budget, tolerance=tolerance)
        suffix = f" [{model}]" if model else ""
        for name, fn in (
            ("prediction-only call", checks.prediction_only),
            ("explained call", checks.explained),
            ("filtered call", checks.filtered),
            ("additivity", checks.additivity),
            ("latency", checks.latency),
        ):
            try:
                _timed(report, name + suffix, fn)
            except _Skip as skip:
                report.checks.append(Check(name + suffix, True, f"skipped: {skip}", skipped=True))
        if checks.explained_result is not None:
            report.explained.append(checks.explained_result)
        report.latencies_s.extend(checks.times)
    return report


class _ModelChecks:
    """The smoke checks of one target model (or of the endpoint); each returns (ok, summary, evidence)."""

    def __init__(
        self,
        client: EndpointClient,
        records: list[str],
        model: str | None,
        *,
        iterations: int,
        budget: float,
        tolerance: float,
    ) -> None:
        self.client, self.records, self.model = client, records, model
        self.body = "\n".join(records)
        self.iterations, self.budget, self.tolerance = iterations, budget, tolerance
        self.explained_result: InvokeResult | None = None
        self.times: list[float] = []

    def _invoke(self, expression: str) -> InvokeResult:
        return self.client.invoke(self.body, enable_explanations=expression, target_model=self.model)

    def prediction_only(self) -> tuple[bool, str, str]:
        result = self._invoke("`false`")
        n = len(result.records)
        ok = n == len(self.records) and result.response.explanations == ()
        return ok, f"{n} predictions for {len(self.records)} records, explanations {{}}", _evidence(result)

    def explained(self) -> tuple[bool, str, str]:
        result = self._invoke("`true`")
        self.explained_result = result
        missing = [r.index for r in result.records if not r.explained]
        widths = {len(r.features or ()) for r in result.records if r.explained}
        spec = self.client.spec
        expected = spec.n_features() if spec is not None else None
        ok = (
            not missing
            and len(result.records) == len(self.records)
            and (expected is None or spec is None or spec.is_text or widths == {expected})
        )
        return (
            ok,
            (
                f"{len(result.records) - len(missing)}/{len(self.records)} records explained, "
                f"{sorted(widths)} features each"
            ),
            _evidence(result),
        )

    def filtered(self) -> tuple[bool, str, str]:
        expression = _filter_expression(self.client, self.explained_result)
        if expression is None:
            raise _Skip(self._why_no_filter())
        result = self._invoke(expression)
        spec = self.client.spec
        wanted = []
        for record in result.records:
            try:
                value = evaluate(expression, spec.output_record(record.output) if spec else json.loads(record.output))
            except (ExpressionError, CodecError, ValueError) as err:
                return False, f"cannot evaluate {expression!r} locally: {err}", ""
            wanted.append(bool(value.value))
        got = [r.explained for r in result.records]
        own = "" if spec is not None and expression == spec.enable_explanations else " (the smoke test's threshold)"
        return (
            got == wanted,
            f"{expression!r}{own}: explained {got.count(True)} of {len(got)}, null where it is false",
            f"expected explained={wanted}\ngot explained={got}",
        )

    def _why_no_filter(self) -> str:
        spec = self.client.spec
        if self.explained_result is None:
            return "the explained call failed, so there is no score to filter on"
        if spec is None:
            return "no deployment config (--config): no EnableExplanations and no score selector"
        return (
            "the config's EnableExplanations is a constant and the predictions give no single numeric score (CSV "
            "column, or ProbabilityAttribute) to threshold"
        )

    def additivity(self) -> tuple[bool, str, str]:
        result = self.explained_result
        if result is None:
            raise _Skip("the explained call failed")
        if self.client.spec is None:
            raise _Skip("needs the deployment config (the baseline)")
        expected = self.client.expected_value(target_model=self.model)
        checks = result.additivity(expected, use_logit=self.client.spec.use_logit, tolerance=self.tolerance)
        if not checks:
            raise _Skip("no score could be read from the predictions")
        worst = max(checks, key=lambda c: c["gap"])
        ok = all(c["ok"] for c in checks)
        return (
            ok,
            (
                f"prediction = expected value + sum(attributions) within {self.tolerance:g} for {len(checks)} "
                f"record/label pairs (worst gap {worst['gap']:.2e})"
            ),
            json.dumps(worst, default=str),
        )

    def latency(self) -> tuple[bool, str, str]:
        times = []
        for _ in range(max(1, self.iterations)):
            started = time.perf_counter()
            self._invoke("`true`")
            times.append(time.perf_counter() - started)
        self.times = times
        p50, p95, p99 = (percentile(times, q) for q in (50, 95, 99))
        config = self.client.config
        planned = config.ClarifyKit.Latency.P99Ms if config is not None else None
        plan = (
            f"; planned p99 {planned:.0f} ms (ClarifyKit.Latency.P99Ms, from clarify-kit capacity)" if planned else ""
        )
        return (
            p99 <= self.budget,
            (
                f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
                f"over {len(times)} explained calls; budget {self.budget:.1f} s{plan}"
            ),
            json.dumps({"seconds": [round(t, 4) for t in times]}),
        )


class _Skip(Exception):
    pass


def _budget(client: EndpointClient) -> float:
    share = client.config.ClarifyKit.Latency.WarnAtShare if client.config else 0.5
    return INVOKE_TIMEOUT_S * share


def _filter_expression(client: EndpointClient, explained: InvokeResult | None) -> str | None:
    if client.spec is not None and client.spec.enable_explanations not in (None, "`true`", "`false`"):
        return client.spec.enable_explanations
    if explained is None:
        return None
    scores = [r.scores[0] for r in explained.records if r.scores]
    spec = client.spec
    if not scores or spec is None:
        return None
    threshold = f"`{statistics.median(scores)!r}`"
    if spec.accept == "text/csv":
        return f"[{spec.probability_index or 0}]>{threshold}"
    single = all(r.scores is not None and len(r.scores) == 1 for r in explained.records)
    expression = f"({spec.probability_attribute})>{threshold}" if spec.probability_attribute and single else None
    return expression if expression is not None and len(expression) <= EXPRESSION_MAX_CHARS else None


def _evidence(result: InvokeResult) -> str:
    data = result.response.predictions.data
    return f"predictions ({result.response.predictions.content_type}): {data[:300]!r}"


def write_junit(report: SmokeReport, path: str | Path) -> Path:
    """JUnit XML: one test case per check; failures carry the summary and the evidence."""
    from clarify_kit.adapters.files import write_xml
    from clarify_kit.core.junit import Case, Suite, junit_tree

    cases = [
        Case(
            check.name,
            f"smoke.{report.endpoint}",
            ok=check.ok,
            message=check.summary,
            detail=check.evidence or check.summary,
            output=check.summary if check.ok and not check.skipped else "",
            skipped=check.skipped,
            seconds=check.seconds,
            failure_type="SmokeCheckFailed",
        )
        for check in report.checks
    ]
    return write_xml(junit_tree([Suite("clarify-kit smoke", cases)]), path)
