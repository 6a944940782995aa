"""Public pages of the institute's figures and of citizen attention: /transparencia/
(table, chart, downloads) and /atencion/ (contact and channels). Nothing personal is
shown: only monthly totals."""

import csv

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from ventanilla.transparency.chart import figures_chart
from ventanilla.transparency.constants import OPEN_DATA_MAX_AGE, FigureSource
from ventanilla.transparency.selectors import monthly_figures

OPEN_DATA_FIELDS = ("year", "month", "complaints", "attentions")


@require_safe
def transparency(request):
    """The monthly table (most recent first), the definitions, the chart and the downloads."""
    rows = monthly_figures()
    first_computed = next((row for row in rows if row.source == FigureSource.COMPUTED), None)
    return render(
        request,
        "portal/transparency/figures.html",
        {
            "rows": rows[::-1],
            "chart": figures_chart(rows),
            "first_computed": first_computed,
            "last_published": next(
                (row for row in reversed(rows) if row.source == FigureSource.SEED), None
            ),
            "open_data_fields": OPEN_DATA_FIELDS,
        },
    )


@require_safe
@cache_control(public=True, max_age=OPEN_DATA_MAX_AGE)
def transparency_csv(request):
    """The same rows as the table and the JSON API, oldest first, as UTF-8 CSV."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="transparencia-ventanilla.csv"'
    writer = csv.DictWriter(response, fieldnames=OPEN_DATA_FIELDS)
    writer.writeheader()
    for row in monthly_figures():
        writer.writerow(row.as_open_data())
    return response


@require_safe
def attention(request):
    """Citizen attention: who to contact, the channels, hours and cost."""
    return render(
        request,
        "portal/transparency/attention.html",
        {"change_report_days": settings.CONTACT_CHANGE_REPORT_DAYS},
    )
