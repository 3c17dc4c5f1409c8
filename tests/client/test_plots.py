"""The plots' content, not only their files: waterfall steps sum from E[f(x)] to f(x), folded features are
counted, beeswarm colours follow feature values, bars are mean |attribution|, one colour-blind-safe palette."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from clarify_kit.client.plots import (
    NEGATIVE,
    POSITIVE,
    beeswarm_figure,
    heat_color,
    importance_figure,
    waterfall_figure,
    waterfall_steps,
)

NAMES = [f"f{i}" for i in range(14)]
ATTRIBUTIONS = [0.30, -0.25, 0.12, -0.08, 0.05, 0.04, -0.03, 0.02, 0.015, -0.01, 0.005, 0.004, -0.003, 0.001]
PREDICTION = 0.83


def test_the_waterfall_steps_go_from_the_expected_value_to_the_prediction() -> None:
    expected, steps = waterfall_steps(NAMES, ATTRIBUTIONS, PREDICTION, values=list(range(14)), max_display=6)
    # E[f(x)] = f(x) - sum of attributions, the steps chain one after the other and end at f(x)
    assert expected == pytest.approx(PREDICTION - math.fsum(ATTRIBUTIONS))
    assert steps[0].start == pytest.approx(expected)
    for before, after in zip(steps, steps[1:], strict=False):
        assert after.start == pytest.approx(before.end)
    assert steps[-1].end == pytest.approx(PREDICTION)
    # the largest |attribution| first, the value beside the name, the other 9 folded into one counted step
    assert [s.label for s in steps[:5]] == ["f0 = 0", "f1 = 1", "f2 = 2", "f3 = 3", "f4 = 4"]
    assert steps[-1].label == "9 other features" and steps[-1].folded == 9
    assert steps[-1].value == pytest.approx(math.fsum(ATTRIBUTIONS[5:]))


def test_no_fold_when_every_feature_fits() -> None:
    _, steps = waterfall_steps(NAMES[:3], ATTRIBUTIONS[:3], 0.5, max_display=10)
    assert [s.folded for s in steps] == [1, 1, 1]


def _bars(ax: Any) -> list[tuple[float, float, str]]:
    """(left, width, colour) of each horizontal bar, top to bottom."""
    patches = sorted(ax.patches, key=lambda p: -p.get_y())
    return [(p.get_x(), p.get_width(), p.get_facecolor()) for p in patches]


def test_the_waterfall_figure_draws_each_step_in_its_colour_with_units_and_legend() -> None:
    fig = waterfall_figure(
        NAMES, ATTRIBUTIONS, PREDICTION, max_display=6, title="Record 3: yes = 0.83", unit="log-odds"
    )
    ax = fig.axes[0]
    bars = _bars(ax)
    _, steps = waterfall_steps(NAMES, ATTRIBUTIONS, PREDICTION, max_display=6)
    assert len(bars) == len(steps)
    for (left, width, colour), step in zip(bars, steps, strict=True):
        assert left == pytest.approx(step.start) and width == pytest.approx(step.value)
        assert to_rgb(colour) == pytest.approx(to_rgb(POSITIVE if step.value >= 0 else NEGATIVE))
    assert ax.get_title() == "Record 3: yes = 0.83" and ax.get_xlabel().startswith("log-odds")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["raises the output", "lowers the output"]
    low, high = ax.get_xlim()
    assert low < min(PREDICTION - math.fsum(ATTRIBUTIONS), PREDICTION) and high > PREDICTION


def test_the_beeswarm_colours_each_point_by_its_feature_value() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 10, size=(200, 2))
    values[:, 1] = rng.choice([1, 2, 3], size=200)
    # a high dose lowers the output: colouring by the attribution (the x-axis) would run the other way
    attributions = np.column_stack([0.5 - values[:, 0] / 10, rng.normal(0, 0.01, 200)])
    rows = [[float(v), "red" if c == 1 else "blue"] for v, c in values]  # the second feature is categorical
    fig = beeswarm_figure(["dose", "colour"], attributions.tolist(), rows)
    ax = fig.axes[0]
    # the most important feature is on top; its points run from blue (low value) to vermillion (high value)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["colour", "dose"]
    coloured = [c for c in ax.collections if len(c.get_offsets()) and c.get_array() is not None]
    (dose,) = [c for c in coloured if np.mean(np.abs(c.get_offsets()[:, 1] - 1)) < 0.5]
    x, shade = dose.get_offsets()[:, 0], np.asarray(dose.get_array())
    assert np.corrcoef(x, shade)[0, 1] < -0.95  # the colour follows the value, not the attribution
    assert len(shade) == 200 and np.corrcoef(values[:, 0], shade)[0, 1] > 0.95
    rgba = dose.to_rgba(shade)
    low, high = rgba[np.argmin(shade)][:3], rgba[np.argmax(shade)][:3]
    assert np.allclose(low, to_rgb(NEGATIVE), atol=0.05) and np.allclose(high, to_rgb(POSITIVE), atol=0.05)
    # the categorical feature is grey, and the figure says why; a colour bar explains the colours
    greys = [c for c in ax.collections if c.get_array() is None and len(c.get_offsets())]
    assert greys and np.allclose(greys[0].get_facecolor()[0][:3], to_rgb("#999999"))
    assert any("no order" in t.get_text() and "colour" in t.get_text() for t in fig.texts)
    assert fig.axes[1].get_ylabel() == "feature value"


def test_a_large_beeswarm_is_downsampled_for_the_picture_only() -> None:
    attributions = np.random.default_rng(2).normal(size=(5000, 3)).tolist()
    fig = beeswarm_figure(["a", "b", "c"], attributions)
    points = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    assert points == 600 * 3 and "600 of 5000 records" in fig.axes[0].get_title()


def test_the_importance_bars_are_the_mean_absolute_attributions() -> None:
    attributions = [[0.5, -0.1], [-0.3, 0.1], [0.1, 0.0]]
    fig = importance_figure(["a", "b"], attributions)
    bars = sorted(fig.axes[0].patches, key=lambda p: -p.get_y())
    assert [round(p.get_width(), 9) for p in bars] == [0.3, round(0.2 / 3, 9)]


def test_text_colours_are_the_same_palette_and_fade_to_nothing_at_zero() -> None:
    assert heat_color(1, 1).startswith("rgba(213, 94, 0,") and heat_color(-1, 1).startswith("rgba(0, 114, 178,")
    assert heat_color(0, 1).endswith(", 0.00)")
    assert POSITIVE.lower() == "#d55e00" and NEGATIVE.lower() == "#0072b2"  # Okabe-Ito, colour-blind safe
