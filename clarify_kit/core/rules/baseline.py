"""Rules on the SHAP baseline and the features: one baseline, its size and format, counts that agree."""

from __future__ import annotations

from clarify_kit.core.codecs import SUPPORTED_CONTENT_TYPES, base_content_type
from clarify_kit.core.errors import CodecError, ExpressionError
from clarify_kit.core.limits import SHAP_BASELINE_MAX_BYTES
from clarify_kit.core.rules._registry import Findings, rule
from clarify_kit.core.rules.context import BASELINE, INFERENCE, KIT, SHAP, Context


@rule(
    "R2",
    title="Exactly one of ShapBaseline and ShapBaselineUri",
    source="BOTO-SM ClarifyShapBaselineConfig: 'ShapBaseline and ShapBaselineUri are mutually exclusive "
    "parameters. One or the either is required'",
    fix="keep one: ShapBaseline inline (up to 4 KB) or ShapBaselineUri (s3://...)",
)
def one_baseline(ctx: Context, out: Findings) -> None:
    clarify = ctx.config.clarify
    if clarify is None:
        return
    base = clarify.ShapConfig.ShapBaselineConfig
    if base.ShapBaseline is None and base.ShapBaselineUri is None:
        out.error(
            BASELINE,
            "set exactly one of ShapBaseline (inline, up to 4 KB) or ShapBaselineUri (s3://...): "
            "the online explainer has no default baseline",
        )
    elif base.ShapBaseline is not None and base.ShapBaselineUri is not None:
        out.error(BASELINE, "ShapBaseline and ShapBaselineUri are mutually exclusive; keep one")


@rule(
    "R3",
    title="The inline baseline fits 4 KB",
    source="BOTO-SM ShapBaseline: 'The size limit for ShapBaseline is 4 KB'",
    fix="move the baseline to S3 and set ShapBaselineUri",
)
def inline_baseline_size(ctx: Context, out: Findings) -> None:
    clarify = ctx.config.clarify
    inline = clarify.ShapConfig.ShapBaselineConfig.ShapBaseline if clarify else None
    if inline is None:
        return
    size = len(inline.encode("utf-8"))
    if size > SHAP_BASELINE_MAX_BYTES:
        out.error(
            f"{BASELINE}.ShapBaseline",
            f"{size} bytes in UTF-8; the inline limit is "
            f"{SHAP_BASELINE_MAX_BYTES}: move the baseline to S3 and set ShapBaselineUri",
        )


@rule(
    "R4",
    title="The baseline is text/csv or application/jsonlines",
    source="BOTO-SM ClarifyShapBaselineConfig.MimeType: 'Choose from text/csv or application/jsonlines'",
    fix="set MimeType to text/csv or application/jsonlines",
)
def baseline_mime_type(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is not None and not spec.baseline_type_supported:
        out.error(
            f"{BASELINE}.MimeType",
            f"{spec.baseline_mime_type!r} is not supported; allowed values: {', '.join(SUPPORTED_CONTENT_TYPES)}",
        )


@rule(
    "R5",
    title="The baseline holds the features, in the request format",
    source="BOTO-SM ShapBaselineUri: 'same format as the training dataset ... only the features'; NB-TAB",
    fix="write the baseline in the container's request format, features only, one count everywhere",
)
def baseline_records(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None or not spec.baseline_type_supported:
        return
    if base_content_type(spec.baseline_mime_type) != base_content_type(spec.content_type):
        out.error(
            f"{BASELINE}.MimeType",
            f"{spec.baseline_mime_type!r} differs from the container input format "
            f"{spec.content_type!r}; the baseline must be in the same format as the requests",
        )
    if spec.baseline is not None:
        _readable(ctx, out)
    _counts_agree(ctx, out)
    stated = ctx.kit.Baseline.Records
    if spec.baseline_uri is not None and ctx.baseline_rows and stated is not None and stated != len(ctx.baseline_rows):
        out.error(
            f"{KIT}.Baseline.Records",
            f"{stated}, but the S3 baseline holds {len(ctx.baseline_rows)} records: "
            "the synthetic dataset (and the latency estimate) grow with every one of them; correct the count",
        )


def _readable(ctx: Context, out: Findings) -> None:
    assert ctx.spec is not None
    try:
        rows = ctx.spec.baseline_rows()
    except (CodecError, ExpressionError) as err:
        out.error(ctx.baseline_path, f"cannot be read as {ctx.spec.baseline_mime_type}: {err}")
        return
    if not rows:
        out.error(ctx.baseline_path, "holds no record")
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            out.error(
                ctx.baseline_path,
                f"record {i + 1} has {len(row)} fields but record 1 has "
                f"{len(rows[0])}; every baseline record needs the same features",
            )
            break


def _counts_agree(ctx: Context, out: Findings) -> None:
    sources = ctx.feature_counts
    if not sources:
        return
    name, count = sources[0]
    for other, other_count in sources[1:]:
        if other_count == count:
            continue
        is_baseline = other.endswith(("ShapBaseline", "ShapBaselineUri"))
        hint = (
            "; remove the label/target column: baseline records hold only the features"
            if is_baseline and other_count == count + 1
            else ""
        )
        out.error(
            other,
            f"{other_count} {'fields' if is_baseline else 'items'} but {name.rsplit('.', 1)[-1]} has "
            f"{count}: the feature counts must agree{hint}",
        )


@rule(
    "R7",
    title="Headers and feature types fit the model",
    source="BOTO-SM ClarifyInferenceConfig: FeatureHeaders, LabelHeaders, FeatureTypes ('must have at least one text')",
    fix="one unique header per feature, one label header per score, FeatureTypes only for text models",
)
def headers_and_types(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None:
        return
    headers = spec.feature_headers or ()
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    if duplicates:
        out.warn(f"{INFERENCE}.FeatureHeaders", f"duplicate headers {duplicates} make attributions ambiguous")
    if spec.feature_types is not None and "text" not in spec.feature_types:
        out.error(
            f"{INFERENCE}.FeatureTypes",
            "FeatureTypes applies to NLP explainability only and must hold at "
            "least one 'text'; remove it for tabular models",
        )
    classes = ctx.n_classes
    if spec.label_headers is not None and classes is not None and len(spec.label_headers) != classes:
        out.error(
            f"{INFERENCE}.LabelHeaders",
            f"{len(spec.label_headers)} headers but the container outputs {classes} scores per record",
        )


@rule(
    "R12",
    title="TextConfig if and only if there are text features",
    source="BOTO-SM ClarifyShapConfig.TextConfig: 'Required for natural language processing (NLP) explainability only'",
    fix="add TextConfig {Language, Granularity} for text features; remove it otherwise",
)
def text_config(ctx: Context, out: Findings) -> None:
    spec = ctx.spec
    if spec is None:
        return
    if spec.feature_types is not None and "text" in spec.feature_types and not spec.is_text:
        out.error(
            f"{SHAP}.TextConfig",
            "required because FeatureTypes has a 'text' feature: add TextConfig with Language and Granularity",
        )
    if spec.is_text and spec.feature_types is None and ctx.baseline_rows and not ctx.baseline_has_text:
        out.error(
            f"{SHAP}.TextConfig",
            "TextConfig is set but no feature is text: FeatureTypes is absent and "
            "the baseline has no text value to infer one from",
        )
