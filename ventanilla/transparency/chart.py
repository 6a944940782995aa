"""The geometry of the public chart: two panels (attentions, complaints) over the same
months, drawn as inline SVG by the page's template, without scripts.

The two series differ by two orders of magnitude (hundreds of attentions, a handful of
complaints), so each has its own panel and scale: on one axis the complaints would be a
flat line at zero. They also differ by more than colour: a solid line with round markers
for attentions, a dashed line with square markers for complaints, and each panel is
titled."""

import math
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .constants import FigureSource
from .selectors import Row

WIDTH = 720
LEFT = 64  # room for the y-axis title and the tick values
RIGHT = 16
PLOT_WIDTH = WIDTH - LEFT - RIGHT
HEIGHT = 412
# (top of the plot area, its height) of each panel.
ATTENTIONS_AREA = (30, 150)
COMPLAINTS_AREA = (244, 120)
YEAR_LABEL_GAP = 18


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    label: str  # "marzo de 2026: 512 atenciones", the marker's tooltip
    partial: bool


@dataclass(frozen=True)
class Panel:
    title: str
    axis_title: str
    top: float
    bottom: float
    ticks: list[Tick]
    points: list[Point]
    path: str  # the SVG path of the line
    year_labels_y: float


@dataclass(frozen=True)
class YearMark:
    x: float
    year: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    panels: list[Panel]
    years: list[YearMark]
    computed_from_x: float | None  # where the months computed by the Ventanilla begin
    description: str


def nice_scale(peak: int, max_ticks: int = 5) -> tuple[int, int]:
    """(top, step) of an integer axis from 0 that holds `peak` in at most `max_ticks`
    steps of 1, 2, 2.5 or 5 times a power of ten."""
    if peak <= 0:
        return 1, 1
    raw = peak / max_ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(
        int(m * magnitude)
        for m in (1, 2, 2.5, 5, 10)
        if m * magnitude >= raw and float(m * magnitude).is_integer()
    )
    return math.ceil(peak / step) * step, step


def _month_name(row: Row) -> str:
    return date_format(row.first_day, "YEAR_MONTH_FORMAT")


def _panel(
    rows: list[Row], values: list[int], *, title: str, axis_title: str, area, label
) -> Panel:
    top, height = area
    bottom = top + height
    scale_top, step = nice_scale(max(values, default=0))
    slot = PLOT_WIDTH / max(len(rows), 1)

    def y_of(value: int) -> float:
        return round(bottom - value / scale_top * height, 1)

    points = [
        Point(
            x=round(LEFT + slot * (index + 0.5), 1),
            y=y_of(value),
            value=value,
            label=label(row, value),
            partial=row.partial,
        )
        for index, (row, value) in enumerate(zip(rows, values, strict=True))
    ]
    path = " ".join(
        f"{'M' if index == 0 else 'L'}{point.x} {point.y}" for index, point in enumerate(points)
    )
    return Panel(
        title=title,
        axis_title=axis_title,
        top=top,
        bottom=bottom,
        ticks=[Tick(value=v, y=y_of(v)) for v in range(0, scale_top + 1, step)],
        points=points,
        path=path,
        year_labels_y=bottom + YEAR_LABEL_GAP,
    )


def _extremes(rows: list[Row], values: list[int]) -> str:
    """ "entre 38 (noviembre de 2025) y 895 (septiembre de 2025)", the latest month of each."""
    low = min(range(len(values)), key=lambda i: (values[i], -i))
    high = max(range(len(values)), key=lambda i: (values[i], i))
    return _("entre %(low)s (%(low_month)s) y %(high)s (%(high_month)s)") % {
        "low": values[low],
        "low_month": _month_name(rows[low]),
        "high": values[high],
        "high_month": _month_name(rows[high]),
    }


def _description(rows: list[Row]) -> str:
    if not rows:
        return _("No hay cifras que mostrar.")
    complete = [row for row in rows if not row.partial] or rows
    text = _(
        "Dos gráficos de líneas, uno sobre otro, de %(first)s a %(last)s. Atenciones por "
        "mes: %(attentions)s. Quejas por mes: %(complaints)s."
    ) % {
        "first": _month_name(rows[0]),
        "last": _month_name(rows[-1]),
        "attentions": _extremes(complete, [row.attentions for row in complete]),
        "complaints": _extremes(complete, [row.complaints for row in complete]),
    }
    if rows[-1].partial:
        text += " " + _(
            "%(month)s está en curso; cifras hasta hoy: atenciones, %(attentions)s; quejas, %(complaints)s."
        ) % {
            "month": _month_name(rows[-1]).capitalize(),
            "attentions": rows[-1].attentions,
            "complaints": rows[-1].complaints,
        }
    return text + " " + _("Todas las cifras están en la tabla «Cifras por mes».")


def figures_chart(rows: list[Row]) -> Chart:
    """The chart of `rows` (oldest first)."""
    slot = PLOT_WIDTH / max(len(rows), 1)
    attentions = _panel(
        rows,
        [row.attentions for row in rows],
        title=_("Atenciones por mes (trámites con decisión del IESS)"),
        axis_title=_("Atenciones"),
        area=ATTENTIONS_AREA,
        label=lambda row, value: (
            ngettext("%(month)s: %(count)s atención", "%(month)s: %(count)s atenciones", value)
            % {"month": _month_name(row), "count": value}
        ),
    )
    complaints = _panel(
        rows,
        [row.complaints for row in rows],
        title=_("Quejas por mes"),
        axis_title=_("Quejas"),
        area=COMPLAINTS_AREA,
        label=lambda row, value: (
            ngettext("%(month)s: %(count)s queja", "%(month)s: %(count)s quejas", value)
            % {"month": _month_name(row), "count": value}
        ),
    )
    years = [
        YearMark(x=round(LEFT + slot * index, 1), year=row.year)
        for index, row in enumerate(rows)
        if index == 0 or row.month == 1
    ]
    first_computed = next(
        (index for index, row in enumerate(rows) if row.source == FigureSource.COMPUTED), None
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        panels=[attentions, complaints],
        years=years,
        computed_from_x=(
            round(LEFT + slot * first_computed, 1) if first_computed not in (None, 0) else None
        ),
        description=_description(rows),
    )
