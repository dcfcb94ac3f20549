"""Chart geometry for server-rendered SVG: bars and lines as plain numbers that a template draws.

No style attributes (the Content-Security-Policy forbids them): the template uses presentation attributes and
classes from app.css. Every chart is drawn beside the table holding its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_WIDTH = 640
LABEL_WIDTH = 260
ROW_HEIGHT = 34
LINE_WIDTH = 640
LINE_HEIGHT = 260
MARGIN = 40


@dataclass(frozen=True)
class Bar:
    """One horizontal bar with its label and value text positions."""

    label: str
    value_text: str
    y: float
    width: float
    text_y: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one per row."""

    title: str
    description: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Series:
    """One line: its name, its points as an SVG `points` list, and its colour class."""

    name: str
    points: str
    css_class: str
    dots: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class LineChart:
    """Lines over months, with labelled axes."""

    title: str
    description: str
    width: int
    height: int
    series: tuple[Series, ...]
    x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    baseline: float


def bar_chart(title: str, description: str, items: Sequence[tuple[str, float | str | None]], maximum: float = 100, unit: str = "%") -> BarChart:
    """Bars for `items` (label, value), scaled to `maximum`; a missing value draws no bar, and text is written instead of one."""
    room = BAR_WIDTH - LABEL_WIDTH - 70
    bars = tuple(
        Bar(
            label=label,
            value_text=value if isinstance(value, str) else "no data" if value is None else f"{value:g}{unit}",
            y=index * ROW_HEIGHT + 6,
            width=0 if isinstance(value, str) or not value or not maximum else round(room * min(value, maximum) / maximum, 1),
            text_y=index * ROW_HEIGHT + 22,
        )
        for index, (label, value) in enumerate(items)
    )
    return BarChart(title, description, BAR_WIDTH, max(len(bars), 1) * ROW_HEIGHT + 6, LABEL_WIDTH, ROW_HEIGHT - 12, bars)


def _scale(value: float, top: float) -> float:
    return round(LINE_HEIGHT - MARGIN - (LINE_HEIGHT - 2 * MARGIN) * (value / top if top else 0), 1)


def line_chart(title: str, description: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> LineChart:
    """Lines for each named series of counts over `months`."""
    top = max([1, *(v for _name, values in series for v in values)])
    step = (LINE_WIDTH - 2 * MARGIN) / max(len(months) - 1, 1)
    xs = [round(MARGIN + i * step, 1) for i in range(len(months))]
    every = max(1, len(months) // 6)
    lines = tuple(
        Series(name, " ".join(f"{x},{_scale(v, top)}" for x, v in zip(xs, values, strict=True)), f"chart__line--{i + 1}",
               tuple((x, _scale(v, top)) for x, v in zip(xs, values, strict=True)))
        for i, (name, values) in enumerate(series)
    )  # fmt: skip
    labels = tuple((x, month) for i, (x, month) in enumerate(zip(xs, months, strict=True)) if i % every == 0)
    ticks = tuple((_scale(top * f, top), f"{round(top * f):g}") for f in (0, 0.5, 1))
    return LineChart(title, description, LINE_WIDTH, LINE_HEIGHT, lines, labels, ticks, _scale(0, top))
