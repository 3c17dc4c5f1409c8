"""Rules on the container's formats and the JMESPath expressions evaluated on its records."""

from __future__ import annotations

import json

from clarify_kit.core.codecs import CSV, JSONLINES
from clarify_kit.core.errors import CodecError, ExpressionError
from clarify_kit.core.expressions import evaluate, lint
from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES
from clarify_kit.core.rules._registry import Findings, rule
from clarify_kit.core.rules.context import CLARIFY, INFERENCE, KIT, Context

SAMPLES = f"{KIT}.Container.SampleOutputs"


def _compiles(out: Findings, path: str, expr: str) -> bool:
    """Report a JMESPath expression that does not compile, or that the explainer would silently misread."""
    try:
        problems = lint(expr)
    except ExpressionError as err:
        out.error(path, str(err))
        return False
    for problem in problems:
        out.error(path, problem)
    return not problems


@rule(
    "R8",
    title="JSON Lines requests have a ContentTemplate with one $features",
    source="BOTO-SM ContentTemplate ('Required only when the model container input is in JSON Lines format'), "
    "FeaturesAttribute",
    fix="set ContentTemplate, e.g. '{\"features\":$features}', and FeaturesAttribute, e.g. features",
)
def jsonlines_requests(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None:
        return
    if ctx.content_type_is(JSONLINES):
        if not spec.content_template:
            out.error(
                f"{INFERENCE}.ContentTemplate",
                "required when the container reads JSON Lines: the explainer "
                "writes each synthetic record with it, e.g. '{\"features\":$features}'",
            )
        if not spec.features_attribute:
            out.warn(
                f"{INFERENCE}.FeaturesAttribute",
                "not set: JSON Lines requests must then be bare JSON lists "
                "of features; set it (e.g. 'features') when records are objects",
            )
    else:
        for name, value in (("ContentTemplate", spec.content_template), ("FeaturesAttribute", spec.features_attribute)):
            if value:
                out.warn(f"{INFERENCE}.{name}", "ignored: the container reads text/csv")
    if spec.content_template is not None:
        _template(spec.content_template, out)
    if spec.features_attribute is not None:
        _compiles(out, f"{INFERENCE}.FeaturesAttribute", spec.features_attribute)


def _template(template: str, out: Findings) -> None:
    count = template.count("$features")
    if count != 1:
        out.error(
            f"{INFERENCE}.ContentTemplate",
            f"{template!r} holds $features {count} times; it must hold it "
            "exactly once ($record is not documented for online explainability)",
        )
        return
    try:
        json.loads(template.replace("$features", "[1,2]"))
    except ValueError:
        out.error(
            f"{INFERENCE}.ContentTemplate",
            f"{template!r} does not give valid JSON once $features is replaced by a list",
        )


@rule(
    "R9",
    title="Scores and labels are read with the selector of the output format",
    source="BOTO-SM ProbabilityIndex/LabelIndex (CSV), ProbabilityAttribute/LabelAttribute (JSON Lines); "
    "DG-PRECHECK output table",
    fix="CSV output: ProbabilityIndex/LabelIndex; JSON Lines output: ProbabilityAttribute/LabelAttribute",
)
def output_selectors(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None:
        return
    csv_out = ctx.content_type_is(CSV, output=True)
    for name, attr, index_name, index in (
        ("ProbabilityAttribute", spec.probability_attribute, "ProbabilityIndex", spec.probability_index),
        ("LabelAttribute", spec.label_attribute, "LabelIndex", spec.label_index),
    ):
        if csv_out and attr is not None:
            out.warn(f"{INFERENCE}.{name}", f"ignored: the container answers text/csv; use {index_name}")
        if not csv_out and index is not None:
            out.warn(f"{INFERENCE}.{index_name}", f"ignored: the container answers JSON Lines; use {name}")
        if attr is not None:
            _compiles(out, f"{INFERENCE}.{name}", attr)
    if not csv_out and spec.probability_attribute is None:
        out.warn(
            f"{INFERENCE}.ProbabilityAttribute",
            "not set: each JSON Lines output record must then be a bare number or list of numbers",
        )
    _sample_scores(ctx, out)


def _sample_scores(ctx: Context, out: Findings) -> None:
    counts = set()
    for i, scores, labels, error in ctx.sample_scores:
        if error:
            out.error(f"{SAMPLES}[{i}]", error)
        elif scores is not None:
            counts.add(len(scores))
            if labels is not None and len(labels) != len(scores):
                out.error(f"{SAMPLES}[{i}]", f"{len(labels)} label headers but {len(scores)} scores")
    if len(counts) > 1:
        out.error(SAMPLES, f"records give different score counts {sorted(counts)}")


@rule(
    "R6",
    title="EnableExplanations is a JMESPath expression that gives a boolean",
    source="DG-CREATE EnableExplanations ('evaluated for each record'; literals need backticks); BOTO-SM 1-64 "
    "characters",
    fix="compare with a backticked literal, e.g. [0]>`0.5`, and quote the whole expression in YAML",
)
def enable_explanations(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None:
        return
    enable = spec.enable_explanations
    path = f"{CLARIFY}.EnableExplanations"
    if enable is None:
        out.note(path, "not set: every record is explained")
        return
    if not _compiles(out, path, enable):
        return
    samples = ctx.kit.Container.SampleOutputs
    if not samples:
        out.note(
            path,
            "only the syntax was checked: add ClarifyKit.Container.SampleOutputs (container output "
            "records) to evaluate it",
        )
    for i, sample in enumerate(samples):
        where = f"{SAMPLES}[{i}] {sample!r}"
        try:
            result = evaluate(enable, spec.output_record(sample))
        except (ExpressionError, CodecError) as err:
            out.error(path, f"on {where}: {err}")
            continue
        if not result.is_boolean:
            fix = " Compare with a backticked literal, e.g. [0]>`0.5`." if result.value is not None else ""
            out.error(path, f"{enable!r} evaluates to {result.describe()} on {where}.{fix}")


@rule(
    "R15",
    title="Sample records fit one InvokeEndpoint call and the feature count",
    source=f"BOTO-RT InvokeEndpoint Body: at most {INVOKE_BODY_MAX_BYTES} bytes",
    fix="send fewer or shorter records; one field per feature",
)
def sample_records(ctx: Context, out: Findings) -> None:
    records = ctx.kit.Container.SampleRecords
    spec = ctx.spec
    if not records or spec is None:
        return
    path = f"{KIT}.Container.SampleRecords"
    size = len("\n".join(records).encode("utf-8"))
    if size > INVOKE_BODY_MAX_BYTES:
        out.error(path, f"{size} bytes in one request; InvokeEndpoint accepts at most {INVOKE_BODY_MAX_BYTES}")
    try:
        rows = spec.parse_request("\n".join(records))
    except (CodecError, ExpressionError) as err:
        out.error(path, f"cannot be read as {spec.content_type}: {err}")
        return
    width = ctx.n_features
    if width is None or spec.is_text:
        return
    for i, row in enumerate(rows):
        if len(row) != width:
            out.error(f"{path}[{i}]", f"{len(row)} features; the config has {width}")
