"""Plots of explanations as readers of shap plots expect them: a waterfall per record (from E[f(x)] to f(x)), a
beeswarm summary coloured by feature value, the mean |attribution| bars, and text heat maps (HTML and PNG).

One colour-blind-safe palette throughout (Okabe-Ito): vermillion raises the output, blue lowers it; feature values
run from blue (low) to vermillion (high). The figures are built by functions that return matplotlib figures, so
that their content can be checked; the ``*_plot`` functions save them as PNG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clarify_kit.client.result import InvokeResult
from clarify_kit.core.codecs import is_numeric
from clarify_kit.core.errors import KitError
from clarify_kit.core.numbers import display_number, noise_scale
from clarify_kit.core.safe_text import html_safe, terminal_safe, xml_safe
from clarify_kit.core.spec import logit

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "Step",
    "bar_chart",
    "beeswarm_figure",
    "heat_color",
    "importance_figure",
    "png_bytes",
    "summary_plot",
    "text_html",
    "text_png",
    "waterfall_figure",
    "waterfall_plot",
    "waterfall_steps",
]

POSITIVE = "#D55E00"  # Okabe-Ito vermillion: raises the model output
NEGATIVE = "#0072B2"  # Okabe-Ito blue: lowers it
NEUTRAL = "#999999"  # values that have no order (categorical, text)
MAX_BEESWARM_POINTS = 600  # per feature; beyond, an even sample keeps the picture and the file small


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _literal(text: Any) -> str:
    """Text drawn exactly as given: matplotlib reads ``$...$`` as math (``cost_$_per_$`` would fail to parse), and
    control characters (a NUL, an escape), which no font draws, are written as escapes."""
    return xml_safe(terminal_safe(str(text))).replace("$", r"\$")


def _value_colormap() -> Any:
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("clarify_kit_values", [NEGATIVE, "#E0E0E0", POSITIVE])


def _format(value: Any) -> str:
    if isinstance(value, float):
        return display_number(value)
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


# --- waterfall -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: from ``start`` to ``start + value``; ``folded`` counts the features it stands for."""

    label: str
    start: float
    value: float
    folded: int = 1
    standard_error: float | None = None  # the self-hosted explainer's (folded steps: independent, combined)

    @property
    def end(self) -> float:
        return self.start + self.value


def waterfall_steps(
    names: list[str],
    attributions: list[float],
    prediction: float,
    *,
    values: list[Any] | None = None,
    max_display: int = 10,
    standard_errors: list[float] | None = None,
) -> tuple[float, list[Step]]:
    """E[f(x)] and the steps from it to ``prediction``: the largest |attribution| first, the features beyond
    ``max_display - 1`` folded into one "N other features" step. E[f(x)] = prediction - sum(attributions) (the
    Shapley values' additivity), so the last step ends exactly at the prediction."""
    if len(names) != len(attributions):
        raise KitError(f"{len(names)} feature names for {len(attributions)} attributions")
    expected = prediction - math.fsum(attributions)
    order = sorted(range(len(names)), key=lambda i: abs(attributions[i]), reverse=True)
    shown = order if len(order) <= max_display else order[: max_display - 1]
    rest = order[len(shown) :]
    steps: list[Step] = []
    position = expected
    for i in shown:
        known = values is not None and i < len(values) and values[i] is not None and values[i] != ""
        label = f"{names[i]} = {_format(values[i])}" if known and values is not None else names[i]
        error = standard_errors[i] if standard_errors is not None else None
        steps.append(Step(label, position, attributions[i], standard_error=error))
        position += attributions[i]
    if rest:
        folded = math.fsum(attributions[i] for i in rest)
        error = math.sqrt(math.fsum(standard_errors[i] ** 2 for i in rest)) if standard_errors is not None else None
        steps.append(Step(f"{len(rest)} other features", position, folded, folded=len(rest), standard_error=error))
    return expected, steps


def waterfall_figure(
    names: list[str],
    attributions: list[float],
    prediction: float,
    *,
    values: list[Any] | None = None,
    title: str = "",
    unit: str = "model output",
    max_display: int = 10,
    standard_errors: list[float] | None = None,
) -> Any:
    """The waterfall as a matplotlib figure: one horizontal bar per step, the largest at the top. With standard
    errors (the self-hosted explainer's), each bar's end carries its 90 % interval and a bar whose interval holds
    zero is drawn pale and marked "~0"."""
    expected, steps = waterfall_steps(
        names, attributions, prediction, values=values, max_display=max_display, standard_errors=standard_errors
    )
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(steps) + 1.6))
    rows = list(range(len(steps)))[::-1]
    scale = noise_scale(attributions)
    for row, step in zip(rows, steps, strict=True):
        color = POSITIVE if step.value >= 0 else NEGATIVE
        half = None if step.standard_error is None else 1.645 * step.standard_error
        zero = half is not None and abs(step.value) <= half
        ax.barh(row, step.value, left=step.start, color=color, height=0.7, alpha=0.35 if zero else 1.0)
        shown = display_number(step.value, 3, scale=scale, sign=True)
        if half is not None:
            ax.errorbar(step.end, row, xerr=half, fmt="none", ecolor="#222222", elinewidth=1, capsize=3)
            shown += f" ±{display_number(half, 2)}" + (" ~0" if zero else "")
        ax.text(step.end, row, f" {shown} ", va="center", fontsize=8, ha="left" if step.value >= 0 else "right")
    ax.set_yticks(rows, [_literal(s.label) for s in steps])
    edges = [expected, prediction, *(s.end for s in steps)]
    low, high = min(edges), max(edges)
    pad = 0.15 * (high - low or abs(high) or 1.0)
    ax.set_xlim(low - pad, high + pad)
    ax.axvline(expected, color="#555555", linestyle=":", linewidth=1)
    ax.axvline(prediction, color="#000000", linestyle="--", linewidth=1)
    ax.set_xlabel(
        f"{unit}: E[f(x)] = {display_number(expected)} (dotted) to f(x) = {display_number(prediction)} (dashed)"
    )
    ax.set_title(_literal(title) if title else "Contributions from E[f(x)] to f(x)")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[Patch(color=POSITIVE, label="raises the output"), Patch(color=NEGATIVE, label="lowers the output")],
        loc="best",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def _record(result: InvokeResult, record: int) -> Any:
    matches = [r for r in result.records if r.index == record]
    if not matches or not matches[0].explained:
        raise KitError(f"record {record} was not explained; explained records: {result.explained_indexes}")
    return matches[0]


def _unit(use_logit: bool) -> str:
    return "log-odds" if use_logit else "model output"


def waterfall_plot(
    result: InvokeResult,
    path: str | Path,
    *,
    record: int = 0,
    label: int = 0,
    values: list[Any] | None = None,
    use_logit: bool = False,
    max_display: int = 10,
) -> Path:
    """One record's waterfall for one label (``values``: the record's feature values, shown beside the names)."""
    chosen = _record(result, record)
    if not chosen.scores or label >= len(chosen.scores):
        raise KitError(f"record {record} has no score for label {label}")
    names = [str(f.name) for f in chosen.features]
    attributions = [math.fsum(u.values[label] for u in f.attributions) for f in chosen.features]
    score = chosen.scores[label]
    prediction = logit(score) if use_logit else score
    title = f"Record {record}: {result.label_name(label)} = {score:.4g}" + (" (log-odds)" if use_logit else "")
    fig = waterfall_figure(
        names, attributions, prediction, values=values, title=title, unit=_unit(use_logit), max_display=max_display
    )
    return _save(fig, path)


def bar_chart(
    result: InvokeResult,
    path: str | Path,
    *,
    record: int = 0,
    label: int = 0,
    top: int = 10,
    values: list[Any] | None = None,
    use_logit: bool = False,
) -> Path:
    """The record plot: a waterfall (kept under its former name)."""
    return waterfall_plot(result, path, record=record, label=label, values=values, use_logit=use_logit, max_display=top)


# --- summary ---------------------------------------------------------------------------------------------------


def _numeric(column: list[Any]) -> list[float] | None:
    """The column as floats when every known value is a number, else None (categorical or text)."""
    known = [v for v in column if v is not None and v != ""]
    if not known or not all(is_numeric(v) for v in known):
        return None
    return [float(v) if v is not None and v != "" else math.nan for v in column]


def beeswarm_figure(
    names: list[str],
    attributions: list[list[float]],
    values: list[list[Any]] | None = None,
    *,
    title: str = "",
    unit: str = "attribution",
    top: int = 20,
    seed: int = 0,
) -> Any:
    """One row per feature (largest mean |attribution| at the top), one point per record at its attribution,
    coloured by the feature's value in that record (blue low, vermillion high, grey when the feature has no
    order or no value is known). ``attributions`` and ``values`` are [record][feature]."""
    import numpy as np

    matrix = np.asarray(attributions, dtype=float).reshape(len(attributions), len(names))
    if matrix.size == 0:
        raise KitError("no record was explained: nothing to summarize")
    importance = np.abs(matrix).mean(axis=0)
    order = list(np.argsort(-importance, kind="stable")[:top])
    rng = np.random.default_rng(seed)
    keep = np.arange(matrix.shape[0])
    if keep.size > MAX_BEESWARM_POINTS:
        keep = np.sort(rng.choice(keep, MAX_BEESWARM_POINTS, replace=False))
    plt = _pyplot()
    cmap = _value_colormap()
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(order) + 1.8))
    unordered = []
    for row, j in enumerate(order[::-1]):
        x = matrix[keep, j]
        column = _numeric([values[i][j] if j < len(values[i]) else None for i in keep]) if values else None
        jitter = _swarm_offsets(x, rng)
        if column is None:
            ax.scatter(x, row + jitter, s=10, color=NEUTRAL, linewidths=0)
            unordered.append(names[j])
            continue
        v = np.asarray(column)
        finite = np.isfinite(v)
        low, high = (np.nanpercentile(v, 5), np.nanpercentile(v, 95)) if finite.any() else (0.0, 1.0)
        scaled = np.clip((v - low) / (high - low), 0, 1) if high > low else np.full_like(v, 0.5)
        ax.scatter(x[~finite], row + jitter[~finite], s=10, color=NEUTRAL, linewidths=0)
        ax.scatter(x[finite], row + jitter[finite], s=10, c=scaled[finite], cmap=cmap, vmin=0, vmax=1, linewidths=0)
    ax.set_yticks(range(len(order)), [_literal(names[j]) for j in order[::-1]])
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_xlabel(unit)
    shown = f"{keep.size} of {matrix.shape[0]} records" if keep.size < matrix.shape[0] else f"{matrix.shape[0]} records"
    ax.set_title(_literal(title) if title else f"Attributions of {shown}")
    from matplotlib.cm import ScalarMappable

    bar = fig.colorbar(ScalarMappable(cmap=cmap), ax=ax, ticks=[0, 1], aspect=40, pad=0.02)
    bar.ax.set_yticklabels(["low", "high"])
    bar.set_label("feature value")
    if unordered:
        fig.text(
            0.01,
            0.005,
            _literal(f"grey: no order among the values of {', '.join(unordered[:4])}")
            + (" ..." if len(unordered) > 4 else ""),
            fontsize=7,
            color="#555555",
        )
    fig.tight_layout()
    return fig


def _swarm_offsets(x: Any, rng: Any) -> Any:
    """Vertical offsets that spread points where they are dense (a cheap beeswarm: density-scaled jitter)."""
    import numpy as np

    if x.size < 2:
        return np.zeros_like(x)
    span = float(np.ptp(x)) or 1.0
    bins = np.clip(((x - x.min()) / span * 50).astype(int), 0, 50)
    counts = np.bincount(bins, minlength=51)[bins]
    width = 0.4 * np.sqrt(counts / counts.max())
    return rng.uniform(-1, 1, size=x.size) * width


def importance_figure(
    names: list[str], attributions: list[list[float]], *, title: str = "", unit: str = "attribution", top: int = 20
) -> Any:
    """Mean |attribution| per feature, largest at the top: the compact alternative to the beeswarm."""
    import numpy as np

    matrix = np.asarray(attributions, dtype=float).reshape(len(attributions), len(names))
    if matrix.size == 0:
        raise KitError("no record was explained: nothing to summarize")
    importance = np.abs(matrix).mean(axis=0)
    order = list(np.argsort(-importance, kind="stable")[:top])[::-1]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(order) + 1.4))
    ax.barh(range(len(order)), importance[order], color=NEGATIVE)
    ax.set_yticks(range(len(order)), [_literal(names[j]) for j in order])
    ax.set_xlabel(f"mean |{unit}|")
    ax.set_title(_literal(title) if title else f"Mean |attribution| over {matrix.shape[0]} records")
    fig.tight_layout()
    return fig


def summary_plot(
    result: InvokeResult,
    path: str | Path,
    *,
    label: int = 0,
    top: int = 20,
    values: list[list[Any]] | None = None,
    use_logit: bool = False,
) -> Path:
    """The beeswarm of every explained record of ``result`` for one label; ``values`` are the requests' records
    ([record][feature], in request order), which colour the points."""
    explained = [r for r in result.records if r.explained and r.features]
    if not explained:
        raise KitError("no record was explained: nothing to summarize")
    names = [str(f.name) for f in explained[0].features or ()]
    matrix = [[math.fsum(u.values[label] for u in f.attributions) for f in r.features or ()] for r in explained]
    chosen = [values[r.index] for r in explained] if values is not None else None
    unit = f"attribution to {result.label_name(label)}" + (" (log-odds)" if use_logit else "")
    return _save(beeswarm_figure(names, matrix, chosen, unit=unit, top=top), path)


# --- text ------------------------------------------------------------------------------------------------------


def heat_color(value: float, scale: float) -> str:
    """The CSS colour of an attribution: vermillion raises, blue lowers, transparent near zero."""
    strength = min(1.0, abs(value) / scale) if scale else 0.0
    rgb = (213, 94, 0) if value >= 0 else (0, 114, 178)
    return f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {0.85 * strength:.2f})"


def _text_units(result: InvokeResult, record: int, label: int) -> list[tuple[str, int, float]]:
    chosen = _record(result, record)
    units = [
        (u.partial_text, u.start_idx, u.values[label])
        for f in chosen.features
        for u in f.attributions
        if u.partial_text is not None and u.start_idx is not None
    ]
    if not units:
        raise KitError(f"record {record} has no text units (is it an NLP endpoint with TextConfig?)")
    return units


def heat_spans(units: list[tuple[str, float]]) -> str:
    """HTML spans of text units coloured by attribution, each with its value as a tooltip."""
    scale = max((abs(v) for _, v in units), default=0.0) or 1.0
    mass = noise_scale(v for _, v in units)
    spans = []
    for text, v in units:
        title = display_number(v, scale=mass, sign=True)
        spans.append(
            f'<span class="unit" title="{title}" style="background:{heat_color(v, scale)}">{html_safe(text)}</span>'
        )
    return " ".join(spans)


LEGEND_HTML = (
    f'<span class="legend"><span style="background:{heat_color(-1, 1)}">lowers</span> '
    f'<span style="background:{heat_color(1, 1)}">raises</span> the output (hover a unit for its '
    "attribution)</span>"
)


def text_html(result: InvokeResult, path: str | Path, *, record: int = 0, label: int = 0) -> Path:
    """An HTML page with the record's text units coloured by attribution, and a legend."""
    units = _text_units(result, record, label)
    page = (
        f"<!doctype html><meta charset='utf-8'><title>record {record}</title>"
        "<style>body{font-family:sans-serif;line-height:2}.unit{padding:2px;border-radius:3px}"
        ".legend span{padding:2px 6px;border-radius:3px}</style>"
        f"<body><h3>Record {record}, {html_safe(result.label_name(label))}</h3>"
        f"<p>{heat_spans([(t, v) for t, _, v in units])}</p><p>{LEGEND_HTML}</p></body>"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def text_png(result: InvokeResult, path: str | Path, *, record: int = 0, label: int = 0, width: int = 80) -> Path:
    """The same text heat map as a PNG, wrapped at about ``width`` characters, with a legend."""
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
    fig = plt.figure(figsize=(0.11 * width, 0.45 * len(lines) + 1.2))
    fig.suptitle(_literal(f"Record {record}, {result.label_name(label)}"), fontsize=11)
    for row, line in enumerate(lines):
        x = 0.01
        for text, value in line:
            r, g, b, a = (float(v) for v in heat_color(value, scale)[5:-1].split(","))
            fig.text(
                x,
                1 - (row + 1.5) / (len(lines) + 2),
                _literal(text),
                fontsize=11,
                family="monospace",
                bbox={"facecolor": to_rgba((r / 255, g / 255, b / 255), a), "edgecolor": "none", "pad": 1.5},
            )
            x += (len(text) + 1) / width
    for offset, (name, value) in enumerate((("lowers the output", -1.0), ("raises the output", 1.0))):
        r, g, b, a = (float(v) for v in heat_color(value, 1.0)[5:-1].split(","))
        fig.text(
            0.01 + 0.3 * offset,
            0.02,
            name,
            fontsize=9,
            bbox={"facecolor": to_rgba((r / 255, g / 255, b / 255), a), "edgecolor": "none", "pad": 1.5},
        )
    return _save(fig, path)


def png_bytes(fig: Any, *, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (the figure is closed); a drawing problem is a KitError of one line."""
    import io

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    except (ValueError, RuntimeError, OverflowError) as err:
        raise KitError(f"a plot could not be drawn: {str(err).splitlines()[0] if str(err) else err}") from err
    finally:
        _pyplot().close(fig)
    return buffer.getvalue()


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=110)
    except (ValueError, RuntimeError, OverflowError) as err:  # a drawing problem is the input's, told in one line
        path.unlink(missing_ok=True)
        raise KitError(f"{path}: the plot could not be drawn: {str(err).splitlines()[0] if str(err) else err}") from err
    finally:
        _pyplot().close(fig)
    return path
