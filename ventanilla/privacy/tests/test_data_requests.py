"""Registering a data-subject request sets its deadline: 15 working days (COA arts.
158-159) from the working day after it arrived, on the holiday table. Answering and
refusing close it once; the audit trail records each step without personal data."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.privacy.constants import RequestStatus
from ventanilla.privacy.selectors import data_request_rows
from ventanilla.privacy.services import (
    data_request_answer,
    data_request_refuse,
    data_request_register,
)
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_user_ensure
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor():
    return staff_user_ensure(username="sofia.supervisora", password="x" * 20, role=Role.SUPERVISOR)


@pytest.fixture
def calendar():
    """January to March 2026 with only the holidays each test adds."""
    Holiday.objects.filter(date__range=("2026-01-01", "2026-03-31")).delete()


def _register(supervisor, received_at, **overrides):
    fields = {
        "actor": supervisor,
        "id_type": "cedula",
        "id_number": "092345678-4",
        "full_name": "  María Fernanda   Quispe Andrade ",
        "contact_email": "Maria.Quispe@Example.org",
        "kind": "access",
        "channel": "email",
        "received_at": received_at,
    }
    return data_request_register(**{**fields, **overrides})


def _ecuador(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ECUADOR)


def _end_of(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.max, tzinfo=ECUADOR)


def test_the_deadline_is_the_15th_working_day_across_a_month_end(supervisor, calendar):
    # Friday 23 January: counting starts Monday 26; 5 + 5 + 5 working days.
    request = _register(supervisor, _ecuador(2026, 1, 23, 10, 0))

    assert request.due_at == _end_of("2026-02-13")
    assert request.id_number == "0923456784"
    assert request.full_name == "María Fernanda Quispe Andrade"
    assert request.contact_email == "maria.quispe@example.org"
    assert request.status == RequestStatus.OPEN


def test_holidays_and_a_weekend_arrival_push_the_deadline(supervisor, calendar):
    Holiday.objects.create(date="2026-02-16", name="Carnaval")
    Holiday.objects.create(date="2026-02-17", name="Carnaval")
    Holiday.objects.create(date="2026-02-20", name="Trabajado", is_working_day=True)

    # Saturday 31 January: counting starts Monday 2 February; Carnival does not count.
    request = _register(supervisor, _ecuador(2026, 1, 31, 9, 0))

    assert request.due_at == _end_of("2026-02-24")


def test_registration_refuses_a_future_date_and_a_wrong_id_number(supervisor):
    with pytest.raises(ValidationError, match="posterior a hoy"):
        _register(supervisor, timezone.now() + dt.timedelta(days=2))
    with pytest.raises(ValidationError, match="último dígito"):
        _register(supervisor, timezone.now(), id_number="1714307104")
    assert not AuditEvent.objects.filter(action="privacy.request_registered").exists()


def test_answer_closes_once_and_the_audit_keeps_no_personal_data(supervisor):
    request = _register(supervisor, timezone.now())

    data_request_answer(request=request, actor=supervisor, resolution="ZIP entregado.")
    request.refresh_from_db()
    with pytest.raises(ValidationError, match="ya está cerrada"):
        data_request_refuse(request=request, actor=supervisor, reason="Tarde.")

    assert (request.status, request.resolution, request.answered_by) == (
        RequestStatus.ANSWERED,
        "ZIP entregado.",
        supervisor,
    )
    events = AuditEvent.objects.filter(object_id=str(request.pk)).order_by("pk")
    assert [e.action for e in events] == ["privacy.request_registered", "privacy.request_answered"]
    assert events[1].new_value == {"status": "answered", "late": False}
    for event in events:
        trail = f"{event.old_value} {event.new_value} {event.reason}"
        assert "0923456784" not in trail and "Quispe" not in trail


def test_a_refusal_needs_its_reason(supervisor):
    request = _register(supervisor, timezone.now(), kind="deletion")

    with pytest.raises(ValidationError, match="motivo del rechazo"):
        data_request_refuse(request=request, actor=supervisor, reason="  ")
    data_request_refuse(
        request=request, actor=supervisor, reason="Datos necesarios por obligación legal."
    )

    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED
    assert request.answered_at is not None


def test_the_list_puts_overdue_requests_first(supervisor):
    now = timezone.now()
    fresh = _register(supervisor, now, full_name="Reciente")
    older_overdue = _register(supervisor, now - dt.timedelta(days=60), full_name="Muy vencida")
    overdue = _register(supervisor, now - dt.timedelta(days=40), full_name="Vencida")
    closed = _register(supervisor, now - dt.timedelta(days=90), full_name="Atendida")
    data_request_answer(request=closed, actor=supervisor, resolution="Hecho.")

    rows = data_request_rows(now)

    assert [row.request.pk for row in rows] == [older_overdue.pk, overdue.pk, fresh.pk, closed.pk]
    assert [row.overdue for row in rows] == [True, True, False, False]
    assert rows[0].working_days_left == 0
    assert rows[2].working_days_left == 15
    assert rows[3].working_days_left is None
