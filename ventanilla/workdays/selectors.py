"""Working days in Ecuador (COA arts. 158-159): terms count whole working days,
starting the working day after the event, skipping weekends and holidays."""

import datetime as dt
from zoneinfo import ZoneInfo

from .models import Holiday

ECUADOR = ZoneInfo("America/Guayaquil")


def non_working_dates(start: dt.date, end: dt.date) -> set[dt.date]:
    """Holidays (not worked) between two dates, inclusive."""
    return set(
        Holiday.objects.filter(date__range=(start, end), is_working_day=False).values_list(
            "date", flat=True
        )
    )


def is_working_day(day: dt.date, closed: set[dt.date]) -> bool:
    return day.weekday() < 5 and day not in closed


def working_day_deadline(start: dt.datetime, working_days: int) -> dt.datetime:
    """The end (23:59:59.999999 Ecuador time) of the Nth working day after `start`'s day."""
    day = start.astimezone(ECUADOR).date()
    # Two weeks per working day is far more than any run of holidays needs.
    closed = non_working_dates(day, day + dt.timedelta(days=14 * max(working_days, 1) + 14))
    counted = 0
    while counted < working_days:
        day += dt.timedelta(days=1)
        if is_working_day(day, closed):
            counted += 1
    return dt.datetime.combine(day, dt.time.max, tzinfo=ECUADOR)


def working_days_left(
    now: dt.datetime, deadline: dt.datetime, closed: set[dt.date] | None = None
) -> int:
    """Whole working days after `now`'s day up to the deadline's day (0 when due today or late).

    Pass `closed` (from non_working_dates) when computing many, to read the calendar once.
    """
    today = now.astimezone(ECUADOR).date()
    last = deadline.astimezone(ECUADOR).date()
    if last <= today:
        return 0
    if closed is None:
        closed = non_working_dates(today, last)
    return sum(
        1
        for offset in range(1, (last - today).days + 1)
        if is_working_day(today + dt.timedelta(days=offset), closed)
    )


def deadline_standing(items: list, now: dt.datetime) -> list[tuple]:
    """(item, overdue, working days left) for items with ``due_at`` and ``is_open`` (complaints,
    data-subject requests), reading the holiday calendar once; days left is None once closed."""
    open_dues = [item.due_at for item in items if item.is_open]
    closed: set[dt.date] = set()
    if open_dues:
        today = now.astimezone(ECUADOR).date()
        closed = non_working_dates(today, max(open_dues).astimezone(ECUADOR).date())
    return [
        (
            item,
            item.is_open and item.due_at < now,
            working_days_left(now, item.due_at, closed) if item.is_open else None,
        )
        for item in items
    ]


def month_range(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar month in Ecuador time: what the monthly figures count."""
    start = dt.datetime(year, month, 1, tzinfo=ECUADOR)
    return start, dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=ECUADOR)
