"""Plots of explanations (matplotlib, Agg): a bar chart for one record, a beeswarm-like summary, text heat maps."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from clarify_kit.errors import KitError
from client.result import InvokeResult

__all__ = ["bar_chart", "summary_plot", "text_html", "text_png"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _record(result: InvokeResult, record: int) -> Any:
    matches = [r for r in result.records if r.index == record]
    if not matches or not matches[0].explained:
        raise KitError(f"record {record} was not explained; explained records: {result.explained_indexes}")
    return matches[0]


def bar_chart(result: InvokeResult, path: str | Path, *, record: int = 0, label: int = 0, top: int = 20) -> Path:
    """Horizontal bars of one record's attributions for one label, largest magnitude first."""
    chosen = _record(result, record)
    pairs = [(str(f.name), sum(u.values[label] for u in f.attributions)) for f in chosen.features]
    pairs.sort(key=lambda p: abs(p[1]), reverse=True)
    pairs = pairs[:top][::-1]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(pairs) + 1.2))
    colors = ["#d62728" if v > 0 else "#1f77b4" for _, v in pairs]
    ax.barh([n for n, _ in pairs], [v for _, v in pairs], color=colors)
    ax.axvline(0, color="black", linewidth=0.8)
    score = f" (score {chosen.scores[label]:.4g})" if chosen.scores and label < len(chosen.scores) else ""
    ax.set_title(f"Record {record}, label {result.label(label)}{score}")
    ax.set_xlabel("Kernel SHAP attribution")
    fig.tight_layout()
    return _save(fig, plt, path)


def summary_plot(result: InvokeResult, path: str | Path, *, label: int = 0, top: int = 20) -> Path:
    """Every explained record as a dot per feature (x: attribution), features ordered by mean |attribution|."""
    import numpy as np

    by_feature: dict[str, list[float]] = {}
    for record in result.records:
        for f in record.features or ():
            by_feature.setdefault(str(f.name), []).append(sum(u.values[label] for u in f.attributions))
    if not by_feature:
        raise KitError("no record was explained: nothing to summarize")
    order = sorted(by_feature, key=lambda n: np.mean(np.abs(by_feature[n])), reverse=True)[:top][::-1]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(order) + 1.2))
    rng = np.random.default_rng(0)
    for row, name in enumerate(order):
        values = np.asarray(by_feature[name])
        jitter = rng.uniform(-0.25, 0.25, size=values.size)
        ax.scatter(values, row + jitter, s=12, c=values, cmap="coolwarm", vmin=-np.abs(values).max() or -1,
                   vmax=np.abs(values).max() or 1)
    ax.set_yticks(range(len(order)), order)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"attribution to {result.label(label)}")
    ax.set_title(f"{len(result.explained_indexes)} explained records")
    fig.tight_layout()
    return _save(fig, plt, path)


def _text_units(result: InvokeResult, record: int, label: int) -> list[tuple[str, int, float]]:
    chosen = _record(result, record)
    units = [(u.partial_text, u.start_idx, u.values[label]) for f in chosen.features for u in f.attributions
             if u.partial_text is not None and u.start_idx is not None]
    if not units:
        raise KitError(f"record {record} has no text units (is it an NLP endpoint with TextConfig?)")
    return units


def _color(value: float, scale: float) -> str:
    strength = min(1.0, abs(value) / scale) if scale else 0.0
    if value >= 0:
        return f"rgba(214, 39, 40, {strength:.2f})"
    return f"rgba(31, 119, 180, {strength:.2f})"


def text_html(result: InvokeResult, path: str | Path, *, record: int = 0, label: int = 0) -> Path:
    """An HTML page with the record's text units coloured by attribution (red raises the score, blue lowers it)."""
    units = _text_units(result, record, label)
    scale = max(abs(v) for _, _, v in units) or 1.0
    spans = " ".join(f'<span title="{v:+.4g}" style="background:{_color(v, scale)};padding:2px;border-radius:3px">'
                     f"{html.escape(text)}</span>" for text, _, v in units)
    page = (f"<!doctype html><meta charset='utf-8'><title>record {record}</title>"
            f"<body style='font-family:sans-serif;line-height:2'><h3>Record {record}, label "
            f"{html.escape(str(result.label(label)))}</h3><p>{spans}</p></body>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def text_png(result: InvokeResult, path: str | Path, *, record: int = 0, label: int = 0, width: int = 80) -> Path:
    """The same text heat map as a PNG (matplotlib), wrapped at about ``width`` characters."""
    from matplotlib.colors import to_rgba

    units = _text_units(result, record, label)
    scale = max(abs(v) for _, _, v in units) or 1.0
    plt = _pyplot()
    lines: list[list[tuple[str, float]]] = [[]]
    length = 0
    for text, _, value in units:
        if length + len(text) > width and lines[-1]:
            lines.append([])
            length = 0
        lines[-1].append((text, value))
        length += len(text) + 1
    fig = plt.figure(figsize=(0.11 * width, 0.45 * len(lines) + 0.8))
    for row, line in enumerate(lines):
        x = 0.01
        for text, value in line:
            rgba = _color(value, scale)
            r, g, b, a = (float(v) for v in rgba[5:-1].split(","))
            fig.text(x, 1 - (row + 1) / (len(lines) + 1), text, fontsize=11, family="monospace",
                     bbox={"facecolor": to_rgba((r / 255, g / 255, b / 255), a), "edgecolor": "none", "pad": 1.5})
            x += (len(text) + 1) / width
    return _save(fig, plt, path)


def _save(fig: Any, plt: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
