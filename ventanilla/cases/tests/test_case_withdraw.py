"""The citizen withdraws (desiste) a case: from every open status it closes, leaves a
timeline step and audit events by the citizen, stops the review clock, cancels a
scheduled call and queues a confirmation; a case that is already decided is refused
and nothing changes."""

import re

import pytest
from icalendar import Calendar

from ventanilla.appointments.models import Appointment
from ventanilla.audit.models import AuditEvent
from ventanilla.cases import services
from ventanilla.cases.constants import FINAL_STATUSES, CaseStatus
from ventanilla.cases.statemachine import IllegalTransition
from ventanilla.notifications.models import OutboundEmail
from ventanilla.testing.factories import case_in_status

pytestmark = pytest.mark.django_db

S = CaseStatus
OPEN = [S.SUBMITTED, S.IN_REVIEW, S.CORRECTION_REQUESTED, S.CALL_PENDING, S.CALL_SCHEDULED]
# Decided cases, and the instant between a validated identity and the applied data.
NOT_WITHDRAWABLE = [*sorted(FINAL_STATUSES), S.IDENTITY_VALIDATED]


@pytest.mark.parametrize("status", OPEN)
def test_an_open_case_is_closed_at_the_citizens_request(analyst, status):
    case = case_in_status(status, analyst)

    withdrawn = services.case_withdraw(case=case, reason="Ya actualicé mis datos en una agencia.")

    case.refresh_from_db()
    assert withdrawn.status == case.status == S.WITHDRAWN
    assert case.review_due_at is None and case.review_working_days_left is None
    step = case.transitions.last()
    assert (step.from_status, step.to_status, step.actor_label, step.actor_id) == (
        status,
        S.WITHDRAWN,
        "citizen",
        None,
    )
    assert step.reason == "Ya actualicé mis datos en una agencia."
    event = AuditEvent.objects.get(case=case, action="case.withdrawn")
    assert (event.actor_label, event.actor_id) == ("citizen", None)
    assert event.old_value == {"status": status}
    assert event.new_value == {"status": S.WITHDRAWN}
    assert event.reason == "Ya actualicé mis datos en una agencia."
    assert AuditEvent.objects.filter(
        case=case, action="case.transition", new_value={"status": S.WITHDRAWN}
    ).exists()

    email = OutboundEmail.objects.get(case=case, template="case_withdrawn")
    assert email.to == case.email
    assert email.dedupe_key == f"case_withdrawn:{case.number}"
    assert case.number in email.subject
    assert case.number in email.body_text and case.number in email.body_html
    assert "fue cerrado a su pedido el" in email.body_text
    assert "Si usted no pidió cerrar este trámite" in email.body_text
    assert "atencionalusuario@iess.gob.ec" in email.body_text
    assert "Sus datos de contacto no fueron modificados" in email.body_text


def test_without_a_reason_the_timeline_says_who_asked(analyst):
    case = case_in_status(S.IN_REVIEW, analyst)

    services.case_withdraw(case=case, reason="   ")

    assert case.transitions.last().reason == "Desistimiento a pedido del ciudadano"
    assert AuditEvent.objects.get(case=case, action="case.withdrawn").reason == ""


def test_a_scheduled_call_is_cancelled_with_a_calendar_cancellation(analyst):
    case = case_in_status(S.CALL_SCHEDULED, analyst)
    appointment = case.appointments.get()
    sequence = appointment.ical_sequence

    services.case_withdraw(case=case)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.ical_sequence == sequence + 1
    assert AuditEvent.objects.filter(
        case=case, action="appointment.cancelled", actor_label="citizen"
    ).exists()
    email = OutboundEmail.objects.get(case=case, template="case_withdrawn")
    assert "quedó cancelada" in email.body_text
    assert "10:30" in email.body_text
    (attachment,) = email.attachments
    assert "method=CANCEL" in attachment["content_type"]
    calendar = Calendar.from_ical(attachment["content"])
    assert str(calendar["method"]) == "CANCEL"
    event = next(c for c in calendar.walk() if c.name == "VEVENT")
    assert str(event["uid"]) == appointment.ical_uid
    assert int(event["sequence"]) == sequence + 1
    assert str(event["status"]) == "CANCELLED"


def test_the_correction_link_stops_working(analyst):
    case = case_in_status(S.CORRECTION_REQUESTED, analyst)
    mail = OutboundEmail.objects.get(case=case, template="correction_requested")
    token = re.search(r"/tramite/correccion/([^/\s]+)/", mail.body_text).group(1)
    assert services.correction_for_token(token) is not None

    services.case_withdraw(case=case)

    assert services.correction_for_token(token) is None


@pytest.mark.parametrize("status", NOT_WITHDRAWABLE)
def test_a_decided_case_is_refused_and_nothing_changes(analyst, status):
    case = case_in_status(status, analyst)
    steps = case.transitions.count()
    events = AuditEvent.objects.filter(case=case).count()
    emails = OutboundEmail.objects.filter(case=case).count()
    changed_at = case.status_changed_at

    with pytest.raises(IllegalTransition) as refused:
        services.case_withdraw(case=case, reason="otra vez")

    assert refused.value.to_status == S.WITHDRAWN
    assert case.number in str(refused.value)
    case.refresh_from_db()
    assert (case.status, case.status_changed_at) == (status, changed_at)
    assert case.transitions.count() == steps
    assert AuditEvent.objects.filter(case=case).count() == events
    assert OutboundEmail.objects.filter(case=case).count() == emails
