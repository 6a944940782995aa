"""The 3-working-day review deadline on Ecuador's calendar: weekends, holidays seeded
by the migration (Carnival, the 2 January 2026 decree day), and days an
administrator marks as worked."""

import datetime as dt

import pytest

from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR, working_day_deadline, working_days_left

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _at(day: str, time: str = "10:00") -> dt.datetime:
    """A moment in Ecuador time."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ECUADOR)


def _end_of(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.max, tzinfo=ECUADOR)


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (_at("2026-03-02"), "2026-03-05"),  # Monday -> Thursday
        (_at("2026-03-06"), "2026-03-11"),  # Friday -> Wednesday
        (_at("2026-03-07"), "2026-03-11"),  # Saturday counts from Monday
        (_at("2026-03-02", "00:00"), "2026-03-05"),  # first minute of Monday
        (_at("2026-03-06", "23:59"), "2026-03-11"),  # last minute of Friday
        # Friday 23:30 in Quito is already Saturday in UTC: Ecuador's day counts.
        (dt.datetime(2026, 3, 7, 4, 30, tzinfo=UTC), "2026-03-11"),
        # Friday before Carnival (Mon 16 and Tue 17 February 2026) -> Friday after.
        (_at("2026-02-13"), "2026-02-20"),
        # New Year's Eve: 1 January and the 2 January decree day, then the weekend.
        (_at("2025-12-31"), "2026-01-07"),
        # Thursday before Good Friday (3 April 2026).
        (_at("2026-04-02"), "2026-04-08"),
    ],
    ids=[
        "monday", "friday", "saturday", "monday 00:00", "friday 23:59", "friday night in UTC",
        "carnival 2026", "new year 2026 with decree day", "good friday 2026",
    ],
)  # fmt: skip
def test_the_deadline_is_the_end_of_the_third_working_day(submitted, due):
    deadline = working_day_deadline(submitted, 3)
    assert deadline == _end_of(due)
    assert deadline.astimezone(ECUADOR).time() == dt.time.max


def test_the_migration_seeds_the_2026_non_working_weekdays():
    """DOMAIN.md: Jan 1-2, Feb 16-17, Apr 3, May 1, May 25, Aug 10, Oct 9, Nov 2-3, Dec 25."""
    closed = Holiday.objects.filter(date__year=2026, is_working_day=False)
    assert sorted(d.isoformat() for d in closed.values_list("date", flat=True)) == [
        "2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-04-03", "2026-05-01",
        "2026-05-25", "2026-08-10", "2026-10-09", "2026-11-02", "2026-11-03", "2026-12-25",
    ]  # fmt: skip


def test_a_holiday_marked_as_worked_counts_again():
    carnival_monday = Holiday.objects.get(date=dt.date(2026, 2, 16))
    carnival_monday.is_working_day = True
    carnival_monday.save()

    assert working_day_deadline(_at("2026-02-13"), 3) == _end_of("2026-02-19")


def test_a_holiday_added_by_an_administrator_is_skipped():
    Holiday.objects.create(date=dt.date(2026, 3, 4), name="Feriado local de prueba")
    assert working_day_deadline(_at("2026-03-02"), 3) == _end_of("2026-03-06")


def test_removing_the_decree_day_moves_the_deadline_back():
    Holiday.objects.filter(date=dt.date(2026, 1, 2)).delete()
    assert working_day_deadline(_at("2025-12-31"), 3) == _end_of("2026-01-06")


@pytest.mark.parametrize(
    ("now", "due", "left"),
    [
        (_at("2026-03-02"), "2026-03-05", 3),  # submitted Monday, due Thursday
        (_at("2026-03-03", "23:00"), "2026-03-05", 2),
        (_at("2026-03-05", "08:00"), "2026-03-05", 0),  # due today
        (_at("2026-03-06"), "2026-03-05", 0),  # late
        (_at("2026-02-13"), "2026-02-20", 3),  # Carnival is not counted
        (_at("2026-02-16"), "2026-02-20", 3),  # on Carnival Monday itself
        (_at("2026-03-06"), "2026-03-11", 3),  # the weekend is not counted
        (dt.datetime(2026, 3, 3, 3, 0, tzinfo=UTC), "2026-03-05", 3),  # Monday night in Quito
    ],
    ids=[
        "monday", "tuesday night", "due today", "late", "carnival", "carnival monday", "weekend",
        "monday night in UTC",
    ],
)  # fmt: skip
def test_working_days_left(now, due, left):
    assert working_days_left(now, _end_of(due)) == left


def test_a_deadline_leaves_exactly_the_days_it_was_given():
    start = _at("2026-02-12")
    for days in range(1, 8):
        assert working_days_left(start, working_day_deadline(start, days)) == days
