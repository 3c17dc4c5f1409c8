"""`make demo`: the whole clarify-kit flow on the bundled binary example, offline, saying where every output is.

static precheck -> model container -> container precheck -> cdk synth (cdk-nag, cfn-lint) -> local endpoint ->
invocations with and without explanations -> parsed table, plots -> smoke test with JUnit XML.
Every process it starts is stopped, also when a step fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from clarify_kit.adapters.files import load_config  # noqa: E402

BIN = Path(sys.executable).parent


class Demo:
    """The demo's steps as methods; ``run`` stops at the first failure and always cleans up."""

    def __init__(self, example: str, out: Path, stack: ExitStack) -> None:
        self.example = example
        self.config_path = ROOT / "examples" / example / "config.yaml"
        self.config = load_config(self.config_path)
        self.records = next((ROOT / "examples" / example).glob("records.*"))
        self.out = out
        self.stack = stack
        self.results: list[tuple[str, bool, str]] = []
        self.state: dict[str, Any] = {}

    def step(self, name: str, fn: Callable[[], str]) -> bool:
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        try:
            where = fn()
            ok = True
        except Exception as err:  # noqa: BLE001 - the demo reports any failure and goes on to clean up
            where, ok = f"{type(err).__name__}: {err}", False
        seconds = time.perf_counter() - started
        print(f"-> {'passed' if ok else 'FAILED'} in {seconds:.1f} s: {where}", flush=True)
        self.results.append((name, ok, where))
        return ok

    def _precheck(self, name: str, container_url: str | None = None) -> str:
        from clarify_kit.precheck import precheck_file

        report, _ = precheck_file(self.config_path, container_url=container_url)
        print(report.render())
        path = self.out / f"{name}.json"
        path.write_text(report.to_json())
        if not report.ok:
            raise RuntimeError(f"the {name} found errors")
        return str(path)

    def static(self) -> str:
        return self._precheck("precheck")

    def model(self) -> str:
        from examples.models import train

        return str(train(self.example, ROOT / "build" / "models" / self.example))

    def start_container(self) -> str:
        from examples.runner import container

        self.state["container"] = self.stack.enter_context(container(ROOT / "build" / "models" / self.example))
        return f"model container serving on {self.state['container']} (GET /ping, POST /invocations)"

    def container_check(self) -> str:
        return self._precheck("container-precheck", self.state["container"])

    def synth(self) -> str:
        cdk_out = self.out / "cdk.out"
        env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
        done = subprocess.run(
            ["npx", "cdk", "synth", "-q", "-o", str(cdk_out), "-c", f"config={self.config_path.relative_to(ROOT)}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cdk synth failed:\n{done.stderr[-3000:]}")
        template = cdk_out / f"{self.config.ClarifyKit.StackName}.template.json"
        lint = subprocess.run([str(BIN / "cfn-lint"), str(template)], capture_output=True, text=True, check=False)
        if lint.returncode != 0:
            raise RuntimeError(f"cfn-lint:\n{lint.stdout}")
        report = json.loads((cdk_out / "validation-report.json").read_text())
        open_findings = sum(len(p["violations"]) for p in report["pluginReports"])
        acknowledged = sum(len(p.get("suppressedViolations", [])) for p in report["pluginReports"])
        kinds: dict[str, int] = {}
        for resource in json.loads(template.read_text())["Resources"].values():
            kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
        for kind, count in sorted(kinds.items()):
            print(f"   {count} x {kind}")
        print(
            f"   cfn-lint: clean; cdk-nag (AwsSolutions, HIPAA.Security, NIST.800.53.R5): {open_findings} open, "
            f"{acknowledged} acknowledged with reasons"
        )
        return str(template)

    def endpoint(self) -> str:
        from clarify_kit.client import EndpointClient
        from clarify_kit.explainer.endpoint import running_endpoint

        base, ep = self.stack.enter_context(running_endpoint(self.config, self.state["container"]))
        self.state["client"] = EndpointClient(ep.name, config=self.config, endpoint_url=base, region_name="us-east-1")
        return f"local endpoint {ep.name!r} on {base} (SageMaker Runtime API)"

    def invoke(self) -> str:
        client = self.state["client"]
        body = "\n".join(self.config.ClarifyKit.Container.SampleRecords)
        plain = client.invoke(body, enable_explanations="`false`")
        print(f"   without explanations: {[r.scores for r in plain.records]}, explanations {{}}")
        result = client.invoke(body, enable_explanations="`true`")
        table = self.out / "attributions.csv"
        result.to_dataframe("long").to_csv(table, index=False)
        expected = client.expected_value()
        print(f"   expected value over the baseline: {expected[0]:.4f}")
        for record in result.records:
            top = sorted(record.features or (), key=lambda f: -abs(f.attributions[0].values[0]))[:5]
            score = f"{record.scores[0]:.4f}" if record.scores else "?"
            print(
                f"   record {record.index}: prediction {score}; top features: "
                + ", ".join(f"{f.name} {f.attributions[0].values[0]:+.4f}" for f in top)
            )
        checks = result.additivity(expected, use_logit=client.spec.use_logit if client.spec else False)
        print(
            f"   additivity: {sum(c['ok'] for c in checks)}/{len(checks)} records add up "
            f"(worst gap {max(c['gap'] for c in checks):.1e})"
        )
        self.state["result"] = result
        return str(table)

    def plots(self) -> str:
        from clarify_kit.client.bulk import read_records
        from clarify_kit.client.plots import summary_plot, waterfall_plot

        client = self.state["client"]
        lines, kind = read_records(self.records)
        values = [client.spec.parse_request(line, kind)[0] for line in lines]
        waterfall = waterfall_plot(self.state["result"], self.out / "record-0.png", record=0, values=values[0])
        many = client.invoke("\n".join(lines), enable_explanations="`true`")
        summary = summary_plot(many, self.out / "summary.png", values=values)
        return f"{waterfall}, {summary} ({len(many.explained_indexes)} records)"

    def bulk(self) -> str:
        from clarify_kit.client.bulk import explain_file, read_records
        from clarify_kit.client.report import from_bulk, write_report

        client = self.state["client"]
        summary = explain_file(client, self.records, self.out / "explained.csv", progress=False, records_per_request=8)
        counts = summary.as_dict()
        print(
            f"   {counts['records']} records: {counts['explained']} explained, {counts['not_explained']} not "
            f"explained, {counts['failed']} failed, in {counts['requests']} requests"
        )
        if counts["failed"]:
            raise RuntimeError(f"{counts['failed']} records failed")
        lines, kind = read_records(self.records)
        report = write_report(
            from_bulk(
                summary, lines, client.spec, title=f"clarify-kit demo: explain {self.records.name}", content_type=kind
            ),
            self.out / "report.html",
        )
        return f"{self.out / 'explained.csv'}, {report} (open it in a browser)"

    def smoke(self) -> str:
        from clarify_kit.client.smoke import run_smoke, write_junit

        report = run_smoke(self.state["client"], list(self.config.ClarifyKit.Container.SampleRecords), iterations=5)
        print(report.render())
        junit = write_junit(report, self.out / "smoke-junit.xml")
        if not report.ok:
            raise RuntimeError("the smoke test failed")
        return str(junit)

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("static precheck", self.static),
            ("train the example model", self.model),
            ("start the model container", self.start_container),
            ("container precheck", self.container_check),
            ("cdk synth + cdk-nag + cfn-lint", self.synth),
            ("start the local endpoint", self.endpoint),
            ("invoke with and without explanations", self.invoke),
            ("plots", self.plots),
            ("bulk explanation of a file", self.bulk),
            ("smoke test", self.smoke),
        ]


def run(example: str, out: Path) -> int:
    """Run every step until one fails; print where the outputs are; return the exit code."""
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        demo = Demo(example, out, stack)
        for name, fn in demo.steps():
            if not demo.step(name, fn):
                break
    print("\n== summary (every process the demo started is stopped)")
    for name, passed, where in demo.results:
        print(f"{'✓' if passed else '✗'} {name}: {where}")
    failed = [name for name, passed, _ in demo.results if not passed]
    print(f"demo {'passed' if not failed else 'FAILED at ' + failed[0]}: outputs in {out}")
    return 0 if not failed else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="binary", choices=["binary", "multiclass", "regression", "mme"])
    parser.add_argument("--out", default=str(ROOT / "demo-output"))
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        code = run(args.example, Path(args.out))
    except KeyboardInterrupt:  # the ExitStack has stopped every process the demo started
        print("\ndemo interrupted: every process it started is stopped", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
