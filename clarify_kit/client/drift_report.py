"""The drift report: one self-contained HTML file, per label the NDCG and the baseline vs current global
attribution of every feature as bars, the other measures and what each window read and skipped."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from clarify_kit.core.drift import DriftResult
from clarify_kit.core.safe_text import html_safe, xml_safe

__all__ = ["drift_figure", "write_drift_report"]

# Labels drawn in the report (each a figure); the others are listed in one table, and the report says so.
MAX_LABELS_DRAWN = 12
_BASELINE = "#999999"
_CURRENT = "#D55E00"


def drift_figure(result: DriftResult, label: str, *, max_features: int = 20) -> Any:
    """Horizontal bars: each feature's global attribution in the baseline (grey) and the current window, the
    baseline's most important feature at the top."""
    from clarify_kit.client.plots import _literal, _pyplot

    base, cur = result.baseline_global[label], result.current_global[label]
    order = sorted(range(len(base)), key=lambda j: (-base[j], j))[:max_features]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(order) + 1.4))
    rows = list(range(len(order)))[::-1]
    ax.barh([r + 0.2 for r in rows], [base[j] for j in order], height=0.4, color=_BASELINE, label="baseline")
    ax.barh([r - 0.2 for r in rows], [cur[j] for j in order], height=0.4, color=_CURRENT, label="current")
    ax.set_yticks(rows, [_literal(xml_safe(result.features[j])) for j in order])
    ax.set_xlabel(f"global attribution ({result.current.aggregation})")
    ax.set_title(_literal(xml_safe(f"{label}: NDCG {result.ndcg[label]:.4f}")))
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def write_drift_report(result: DriftResult, path: str | Path) -> Path:
    from clarify_kit.client.plots import png_bytes

    sections = []
    for label in result.labels[:MAX_LABELS_DRAWN]:
        picture = base64.b64encode(png_bytes(drift_figure(result, label))).decode()
        change = result.prediction_change[label]
        sections.append(
            f"<section><h2>{html_safe(label)}</h2><p>NDCG <b>{result.ndcg[label]:.4f}</b> (violation below "
            f"{result.thresholds['ndcg']:.2f}); total global attribution {result.mass_change[label]:+.1%}"
            + (f"; mean prediction {change:+.4g}" if change is not None else "")
            + f"</p><img alt='baseline vs current global attribution, {html_safe(label)}' "
            f"src='data:image/png;base64,{picture}'></section>"
        )
    rest = result.labels[MAX_LABELS_DRAWN:]
    if rest:
        rows = "".join(
            f"<tr><td>{html_safe(label)}</td><td>{result.ndcg[label]:.4f}</td><td>{result.mass_change[label]:+.1%}</td></tr>"
            for label in rest
        )
        sections.append(
            f"<section><h2>{len(rest)} more labels</h2><p>The report draws the first {MAX_LABELS_DRAWN} labels; "
            "the others are listed here.</p><table><tr><th>label</th><th>NDCG</th><th>total attribution</th></tr>"
            + rows
            + "</table></section>"
        )
    windows = "".join(
        f"<tr><td>{name}</td><td>{part.lines}</td><td>{part.explained}</td><td>"
        + html_safe("; ".join(f"{n} {reason}" for reason, n in part.skipped.most_common()) or "none")
        + "</td></tr>"
        for name, part in (("baseline", result.baseline), ("current", result.current))
    )
    verdict = (
        "<p class='bad'>violation: " + html_safe("; ".join(result.violations)) + "</p>"
        if result.violation
        else "<p class='good'>no violation</p>"
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\"><title>clarify-kit drift</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
        ".bad{color:#b00020;font-weight:bold}.good{color:#1b5e20;font-weight:bold}img{max-width:100%}"
        "</style></head><body><h1>Explanation drift</h1>"
        + verdict
        + "".join(sections)
        + "<h2>Windows</h2><table><tr><th>window</th><th>lines</th><th>explained</th><th>skipped</th></tr>"
        + windows
        + "</table></body></html>"
    )
    out = Path(path)
    out.write_text(page, encoding="utf-8")
    return out
