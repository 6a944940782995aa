"""The monthly figures published on /transparencia/, in the CSV and in the JSON API.

Months are Ecuador calendar months (America/Guayaquil): a case decided on 31 May at
23:30 in Guayaquil counts in May, although it is already June in UTC."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ventanilla.cases.models import CaseTransition
from ventanilla.complaints.selectors import complaints_filed_in_month
from ventanilla.registry.selectors import fraud_reports_in_month
from ventanilla.workdays.selectors import ECUADOR

from .constants import ATTENTION_STATUSES, FigureSource
from .models import PublishedMonth

# The first month the Ventanilla counts itself, when no published history says otherwise
# (the published table ends in 2026-04).
FIRST_COMPUTED_MONTH = (2026, 5)

type Month = tuple[int, int]


@dataclass(frozen=True)
class Row:
    """One month of the public table."""

    year: int
    month: int
    complaints: int
    attentions: int
    source: str  # FigureSource
    partial: bool  # the month is still running: its figures will grow

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def as_open_data(self) -> dict[str, int]:
        """The row as the CSV and the JSON API publish it (a stable schema)."""
        return {
            "year": self.year,
            "month": self.month,
            "complaints": self.complaints,
            "attentions": self.attentions,
        }


def _ecuador_month(moment: dt.datetime | dt.date) -> Month:
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment, ECUADOR)
    return (moment.year, moment.month)


def _next_month(month: Month) -> Month:
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def _month_start(month: Month) -> dt.datetime:
    return dt.datetime(month[0], month[1], 1, tzinfo=ECUADOR)


def _months(first: Month, last: Month) -> list[Month]:
    months = []
    while first <= last:
        months.append(first)
        first = _next_month(first)
    return months


def attentions_by_month(first: Month, last: Month) -> dict[Month, int]:
    """Cases that received the institute's decision (ATTENTION_STATUSES) in each Ecuador
    month from `first` to `last`, by the time of the move to that status; one query."""
    per_month = (
        CaseTransition.objects.filter(
            to_status__in=ATTENTION_STATUSES,
            at__gte=_month_start(first),
            at__lt=_month_start(_next_month(last)),
        )
        .annotate(period=TruncMonth("at", tzinfo=ECUADOR))
        .values("period")
        .annotate(cases=Count("case", distinct=True))
        .order_by()
    )
    return {_ecuador_month(entry["period"]): entry["cases"] for entry in per_month}


def complaints_in_month(month: Month) -> int:
    """Complaints of the month: those filed through /quejas/ plus the "this was not me"
    reports, which are complaints about the service too."""
    return complaints_filed_in_month(*month) + fraud_reports_in_month(*month)


def monthly_figures(until: dt.datetime | dt.date | None = None) -> list[Row]:
    """Every month up to the Ecuador month of `until` (default: the current month),
    oldest first: the institute's published history exactly as published, then each later
    month computed from the Ventanilla's records. The current month is marked partial.

    Queries: one for the published history, one for the attentions of every computed
    month, two per computed month for the complaints (their per-month selectors)."""
    current = _ecuador_month(timezone.now())
    last = min(_ecuador_month(until), current) if until is not None else current
    rows = [
        Row(
            year=published.year,
            month=published.month,
            complaints=published.complaints,
            attentions=published.attentions,
            source=published.source,
            partial=False,
        )
        for published in PublishedMonth.objects.order_by("year", "month")
        if (published.year, published.month) <= last
    ]
    first_computed = _next_month((rows[-1].year, rows[-1].month)) if rows else FIRST_COMPUTED_MONTH
    computed = _months(max(first_computed, FIRST_COMPUTED_MONTH), last)
    if not computed:
        return rows
    attentions = attentions_by_month(computed[0], computed[-1])
    rows.extend(
        Row(
            year=month[0],
            month=month[1],
            complaints=complaints_in_month(month),
            attentions=attentions.get(month, 0),
            source=FigureSource.COMPUTED,
            partial=month == current,
        )
        for month in computed
    )
    return rows
