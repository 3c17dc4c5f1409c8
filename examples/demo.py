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

from clarify_kit.config import load_config  # noqa: E402

BIN = Path(sys.executable).parent


class Demo:
    def __init__(self, example: str, out: Path) -> None:
        self.example = example
        self.config_path = ROOT / "examples" / example / "config.yaml"
        self.out = out
        self.results: list[tuple[str, bool, str]] = []

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


def run(example: str, out: Path) -> int:
    from client import EndpointClient
    from client.plots import bar_chart, summary_plot
    from client.smoke import run_smoke, write_junit
    from examples.models import train
    from examples.runner import container
    from precheck import precheck_file
    from precheck.local_endpoint import running_endpoint

    out.mkdir(parents=True, exist_ok=True)
    demo = Demo(example, out)
    config = load_config(demo.config_path)
    state: dict[str, Any] = {}

    def static() -> str:
        report, _ = precheck_file(demo.config_path)
        print(report.render())
        path = out / "precheck.json"
        path.write_text(report.to_json())
        if not report.ok:
            raise RuntimeError("the static precheck found errors")
        return str(path)

    def model() -> str:
        path = train(example, ROOT / "build" / "models" / example)
        return str(path)

    with ExitStack() as stack:
        ok = demo.step("static precheck", static) and demo.step("train the example model", model)

        def start_container() -> str:
            state["container"] = stack.enter_context(container(ROOT / "build" / "models" / example))
            return f"model container serving on {state['container']} (GET /ping, POST /invocations)"

        def container_check() -> str:
            report, _ = precheck_file(demo.config_path, container_url=state["container"])
            print(report.render())
            path = out / "container-precheck.json"
            path.write_text(report.to_json())
            if not report.ok:
                raise RuntimeError("the container precheck found errors")
            return str(path)

        def synth() -> str:
            cdk_out = out / "cdk.out"
            env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
            done = subprocess.run(["npx", "cdk", "synth", "-q", "-o", str(cdk_out), "-c",
                                   f"config={demo.config_path.relative_to(ROOT)}"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"cdk synth failed:\n{done.stderr[-3000:]}")
            template = cdk_out / f"{config.ClarifyKit.StackName}.template.json"
            lint = subprocess.run([str(BIN / "cfn-lint"), str(template)], capture_output=True, text=True, check=False)
            if lint.returncode != 0:
                raise RuntimeError(f"cfn-lint:\n{lint.stdout}")
            report = json.loads((cdk_out / "validation-report.json").read_text())
            open_findings = sum(len(p["violations"]) for p in report["pluginReports"])
            acknowledged = sum(len(p.get("suppressedViolations", [])) for p in report["pluginReports"])
            resources = json.loads(template.read_text())["Resources"]
            kinds: dict[str, int] = {}
            for resource in resources.values():
                kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
            for kind, count in sorted(kinds.items()):
                print(f"   {count} x {kind}")
            print(f"   cfn-lint: clean; cdk-nag (AwsSolutions, HIPAA.Security, NIST.800.53.R5): {open_findings} open, "
                  f"{acknowledged} acknowledged with reasons")
            return str(template)

        def endpoint() -> str:
            base, ep = stack.enter_context(running_endpoint(config, state["container"]))
            state["endpoint"] = (base, ep.name)
            return f"local endpoint {ep.name!r} on {base} (SageMaker Runtime API)"

        def invoke() -> str:
            base, name = state["endpoint"]
            client = EndpointClient(name, config=config, endpoint_url=base, region_name="us-east-1")
            state["client"] = client
            records = [line for line in config.ClarifyKit.Container.SampleRecords]
            plain = client.invoke("\n".join(records), enable_explanations="`false`")
            print(f"   without explanations: {[r.scores for r in plain.records]}, explanations {{}}")
            result = client.invoke("\n".join(records), enable_explanations="`true`")
            frame = result.to_dataframe("long")
            table = out / "attributions.csv"
            frame.to_csv(table, index=False)
            expected = client.expected_value()
            print(f"   expected value over the baseline: {expected[0]:.4f}")
            for record in result.records:
                top = sorted(record.features or (), key=lambda f: -abs(f.attributions[0].values[0]))[:5]
                print(f"   record {record.index}: prediction {record.scores[0] if record.scores else '?':.4f}; top "
                      "features: " + ", ".join(f"{f.name} {f.attributions[0].values[0]:+.4f}" for f in top))
            checks = result.additivity(expected, use_logit=client.spec.use_logit if client.spec else False)
            print(f"   additivity: {sum(c['ok'] for c in checks)}/{len(checks)} records add up "
                  f"(worst gap {max(c['gap'] for c in checks):.1e})")
            state["result"] = result
            return str(table)

        def plots() -> str:
            bar = bar_chart(state["result"], out / "record-0.png", record=0)
            records = ROOT / "examples" / example / "records.csv"
            many = state["client"].invoke(records.read_text(), enable_explanations="`true`")
            summary = summary_plot(many, out / "summary.png")
            return f"{bar}, {summary} ({len(many.explained)} records)"

        def bulk() -> str:
            from client.bulk import explain_file

            summary = explain_file(state["client"], ROOT / "examples" / example / "records.csv",
                                   out / "explained.csv", progress=False, records_per_request=8)
            counts = summary.as_dict()
            print(f"   {counts['records']} records: {counts['explained']} explained, {counts['not_explained']} not "
                  f"explained, {counts['failed']} failed, in {counts['requests']} requests")
            if counts["failed"]:
                raise RuntimeError(f"{counts['failed']} records failed")
            return str(out / "explained.csv")

        def smoke() -> str:
            client = state["client"]
            records = list(config.ClarifyKit.Container.SampleRecords)
            report = run_smoke(client, records, iterations=5)
            print(report.render())
            junit = write_junit(report, out / "smoke-junit.xml")
            if not report.ok:
                raise RuntimeError("the smoke test failed")
            return str(junit)

        for name, fn in (("start the model container", start_container), ("container precheck", container_check),
                         ("cdk synth + cdk-nag + cfn-lint", synth), ("start the local endpoint", endpoint),
                         ("invoke with and without explanations", invoke), ("plots", plots),
                         ("bulk explanation of a file", bulk),
                         ("smoke test", smoke)):
            if not ok:
                break
            ok = demo.step(name, fn)
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
    sys.exit(run(args.example, Path(args.out)))


if __name__ == "__main__":
    main()
