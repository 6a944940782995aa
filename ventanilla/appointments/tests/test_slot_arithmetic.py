"""A slot published at 10:00 Ecuador time (UTC-5 all year) is shown at the right local
time on both sides of the summer-time changes of Spain, Italy and the United States."""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ventanilla.appointments.selectors import free_slot_days
from ventanilla.appointments.services import slots_publish

NEXT_YEAR = timezone.now().year + 1


def _sunday(month: int, nth: int) -> dt.date:
    """The nth Sunday of `month` next year (nth=-1: the last one)."""
    sundays = [
        week[calendar.SUNDAY]
        for week in calendar.monthcalendar(NEXT_YEAR, month)
        if week[calendar.SUNDAY]
    ]
    return dt.date(NEXT_YEAR, month, sundays[nth])


EU_SPRING, EU_AUTUMN = _sunday(3, -1), _sunday(10, -1)
US_SPRING, US_AUTUMN = _sunday(3, 1), _sunday(11, 0)


def _shown(analyst, sunday: dt.date, zone: str) -> tuple[str, str]:
    """The local time of the first 10:00 slot of the week before and of the week after."""
    shown = []
    for first, last in (
        (sunday - dt.timedelta(days=6), sunday - dt.timedelta(days=1)),
        (sunday + dt.timedelta(days=1), sunday + dt.timedelta(days=6)),
    ):
        slots = slots_publish(
            actor=analyst,
            analyst=analyst,
            first_day=first,
            last_day=last,
            start_time=dt.time(10, 0),
            end_time=dt.time(10, 30),
            minutes=30,
        )
        days = free_slot_days(zone)
        entry = next(s for day in days for s in day["slots"] if s["id"] == slots[0].pk)
        assert entry["ecuador"].strftime("%H:%M") == "10:00"
        assert entry["local"].tzinfo == ZoneInfo(zone)
        shown.append(entry["local"].strftime("%H:%M"))
    return tuple(shown)


@pytest.fixture(autouse=True)
def _all_of_next_year(settings):
    settings.CALL_BOOKING_DAYS = 800


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Europe/Madrid", "Europe/Rome"])
def test_spain_and_italy_last_sundays_of_march_and_october(analyst, zone):
    assert _shown(analyst, EU_SPRING, zone) == ("16:00", "17:00")
    assert _shown(analyst, EU_AUTUMN, zone) == ("17:00", "16:00")


@pytest.mark.django_db
def test_new_york_second_sunday_of_march_first_of_november(analyst):
    assert _shown(analyst, US_SPRING, "America/New_York") == ("10:00", "11:00")
    assert _shown(analyst, US_AUTUMN, "America/New_York") == ("11:00", "10:00")


@pytest.mark.django_db
def test_between_the_american_and_the_european_change_madrid_is_five_hours_ahead(analyst):
    # The weeks after the US change and before the EU one: New York 11:00, Madrid 16:00.
    (slot,) = slots_publish(
        actor=analyst,
        analyst=analyst,
        first_day=US_SPRING + dt.timedelta(days=3),
        last_day=US_SPRING + dt.timedelta(days=3),
        start_time=dt.time(10, 0),
        end_time=dt.time(10, 30),
        minutes=30,
    )
    ny = slot.starts_at.astimezone(ZoneInfo("America/New_York"))
    madrid = slot.starts_at.astimezone(ZoneInfo("Europe/Madrid"))
    assert (ny.hour, madrid.hour) == (11, 16)
