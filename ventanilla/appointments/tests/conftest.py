"""Personas and helpers for booking the call: a citizen in Madrid whose requirements were
accepted, the booking link from her email, and an analyst's published slots."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from ventanilla.appointments.services import slots_publish
from ventanilla.cases import services as case_services
from ventanilla.notifications.models import OutboundEmail
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.workdays.selectors import ECUADOR, is_working_day, non_working_dates

LINK = re.compile(r"/tramite/videollamada/([A-Za-z0-9_-]+)/")


def accepted_case(analyst, person: int = 0, **overrides):
    """A request through intake, checks and the analyst's acceptance (call_pending)."""
    fields = submission_fields(person, **overrides)
    case = submit_request(fields, submission_files(fields))
    case_services.case_mark_checked(case_id=case.pk)
    case.refresh_from_db()
    return case_services.case_accept_requirements(case=case, actor=analyst)


def booking_token(case) -> str:
    """The token of the newest booking link emailed for `case`."""
    email = OutboundEmail.objects.filter(case=case, template="call_booking").latest("pk")
    return LINK.search(email.body_text).group(1)


def next_working_day(after_days: int = 2) -> dt.date:
    day = timezone.now().astimezone(ECUADOR).date() + dt.timedelta(days=after_days)
    closed = non_working_dates(day, day + dt.timedelta(days=30))
    while not is_working_day(day, closed):
        day += dt.timedelta(days=1)
    return day


def publish(analyst, day: dt.date, start: str = "10:00", end: str = "12:00", minutes: int = 30):
    return slots_publish(
        actor=analyst,
        analyst=analyst,
        first_day=day,
        last_day=day,
        start_time=dt.time.fromisoformat(start),
        end_time=dt.time.fromisoformat(end),
        minutes=minutes,
    )


@pytest.fixture
def madrid_case(analyst):
    """María, who lives in Madrid, after the analyst accepted her requirements."""
    return accepted_case(analyst)
