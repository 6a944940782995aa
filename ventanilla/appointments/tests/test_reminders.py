"""Reminders of the identity video call, 24 h and 1 h before it: each once per version
of the call, none for a call that will not happen, and delivered by the real worker to
a real SMTP server even when the scheduler runs many times, twice at once. Time moves
through explicit `now=` values."""

import datetime as dt
import itertools
import time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from ventanilla.appointments.models import Appointment
from ventanilla.appointments.reminders import appointments_send_reminders
from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.cases.numbers import case_number_format
from ventanilla.notifications.models import OutboundEmail
from ventanilla.testing.concurrency import run_at_once
from ventanilla.testing.factories import PEOPLE

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
MADRID = ZoneInfo("Europe/Madrid")
ECUADOR = ZoneInfo("America/Guayaquil")

_numbers = itertools.count(900_001)


def scheduled_call(analyst, *, ahead: dt.timedelta, person: int = 0) -> Appointment:
    """A case whose requirements were accepted, with its call `ahead` of now (booked now).
    PEOPLE[0] lives in Madrid."""
    now = timezone.now()
    case = Case.objects.create(
        **PEOPLE[person],
        id_type="cedula",
        sector="Centro",
        message="Solicito la actualización de mis datos de contacto.",
        number=case_number_format(2026, next(_numbers)),
        status=CaseStatus.SUBMITTED,
        submitted_at=now,
        status_changed_at=now,
        checks_enqueued_at=now,
    )
    CaseTransition.objects.create(
        case=case, to_status=CaseStatus.SUBMITTED, at=now, actor_label="citizen"
    )
    case = services.case_mark_checked(case_id=case.pk)
    return services.case_invite(case=case, actor=analyst, starts_at=now + ahead)


def reminders(appointment: Appointment | None = None):
    emails = OutboundEmail.objects.filter(template="call_reminder").order_by("pk")
    return emails.filter(case=appointment.case) if appointment else emails


def keys(appointment: Appointment) -> list[str]:
    return list(reminders(appointment).values_list("dedupe_key", flat=True))


def reschedule(appointment: Appointment, starts_at: dt.datetime) -> Appointment:
    """What rescheduling does to the row: same UID, next SEQUENCE, new time, saved now."""
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + dt.timedelta(minutes=30)
    appointment.ical_sequence += 1
    appointment.save()
    return appointment


@pytest.mark.django_db
def test_a_call_days_ahead_gets_the_24h_and_the_1h_reminder_once_each(analyst):
    call = scheduled_call(analyst, ahead=dt.timedelta(days=3))
    starts = call.starts_at
    uid = call.ical_uid

    assert appointments_send_reminders(now=starts - 25 * HOUR) == 0
    assert appointments_send_reminders(now=starts - 24 * HOUR) == 1
    assert keys(call) == [f"call_reminder:24h:{uid}:0"]
    # The scheduler ticks on: nothing more until the last hour.
    for now in (starts - 24 * HOUR, starts - 20 * HOUR, starts - 61 * MINUTE):
        assert appointments_send_reminders(now=now) == 0
    assert appointments_send_reminders(now=starts - HOUR) == 1
    for now in (starts - 59 * MINUTE, starts - MINUTE, starts, starts + 10 * MINUTE):
        assert appointments_send_reminders(now=now) == 0
    assert keys(call) == [f"call_reminder:24h:{uid}:0", f"call_reminder:1h:{uid}:0"]

    day_before, hour_before = reminders(call)
    assert day_before.to == hour_before.to == "maria.quispe@example.org"
    madrid = starts.astimezone(MADRID).strftime("%H:%M")
    quito = starts.astimezone(ECUADOR).strftime("%H:%M")
    assert madrid != quito
    assert day_before.subject.startswith(f"Trámite {call.case.number}: recordatorio de su")
    assert f", {madrid} (hora de su país de residencia)" in day_before.subject
    assert hour_before.subject == (
        f"Trámite {call.case.number}: su videollamada empieza pronto, a las {madrid} "
        "(hora de su país de residencia)"
    )
    for email in (day_before, hour_before):
        # The link and both times: the citizen's zone and Ecuador's.
        assert email.body_text.count(call.meeting_url) == 1
        assert "Hora de su país de residencia (Europe/Madrid):" in email.body_text
        assert f", {madrid} a " in email.body_text
        assert "Hora de Ecuador: " in email.body_text and f", {quito} a " in email.body_text
        assert f'href="{call.meeting_url}"' in email.body_html
        assert madrid in email.body_html and quito in email.body_html
        assert email.attachments == []
    assert "empieza pronto" in hour_before.body_text
    assert "Le recordamos su videollamada" in day_before.body_text


@pytest.mark.django_db
def test_a_late_scheduler_sends_only_the_reminder_still_due(analyst):
    call = scheduled_call(analyst, ahead=dt.timedelta(days=2))
    # The scheduler was down the whole day before: only the 1 h reminder goes out.
    assert appointments_send_reminders(now=call.starts_at - 30 * MINUTE) == 1
    assert keys(call) == [f"call_reminder:1h:{call.ical_uid}:0"]
    assert appointments_send_reminders(now=call.starts_at - 20 * MINUTE) == 0


@pytest.mark.django_db
def test_a_call_booked_less_than_24h_ahead_gets_only_the_1h_reminder(analyst):
    call = scheduled_call(analyst, ahead=10 * HOUR)
    for now in (timezone.now(), call.starts_at - 5 * HOUR, call.starts_at - 61 * MINUTE):
        assert appointments_send_reminders(now=now) == 0
    assert appointments_send_reminders(now=call.starts_at - HOUR) == 1
    assert keys(call) == [f"call_reminder:1h:{call.ical_uid}:0"]


@pytest.mark.django_db
def test_a_call_booked_less_than_1h_ahead_gets_no_reminder(analyst):
    call = scheduled_call(analyst, ahead=40 * MINUTE)
    for now in (timezone.now(), call.starts_at - 10 * MINUTE, call.starts_at - MINUTE):
        assert appointments_send_reminders(now=now) == 0
    assert keys(call) == []


@pytest.mark.django_db
def test_a_rescheduled_call_gets_its_own_reminders(analyst):
    call = scheduled_call(analyst, ahead=dt.timedelta(days=3))
    first_start = call.starts_at
    assert appointments_send_reminders(now=first_start - 24 * HOUR) == 1

    # Moved two days later: a new version of the call (SEQUENCE 1), reminded again.
    moved = reschedule(call, first_start + dt.timedelta(days=2))
    assert appointments_send_reminders(now=first_start - HOUR) == 0  # the old time: nothing
    assert appointments_send_reminders(now=moved.starts_at - 24 * HOUR) == 1
    assert appointments_send_reminders(now=moved.starts_at - HOUR) == 1
    assert appointments_send_reminders(now=moved.starts_at - HOUR) == 0
    uid = call.ical_uid
    assert keys(call) == [
        f"call_reminder:24h:{uid}:0",
        f"call_reminder:24h:{uid}:1",
        f"call_reminder:1h:{uid}:1",
    ]

    # Moved again, to a few hours from now: that version gets the 1 h reminder only.
    soon = reschedule(call, timezone.now() + 5 * HOUR)
    assert appointments_send_reminders(now=timezone.now()) == 0
    assert appointments_send_reminders(now=soon.starts_at - HOUR) == 1
    assert keys(call)[-1] == f"call_reminder:1h:{uid}:2"
    local = soon.starts_at.astimezone(MADRID).strftime("%H:%M")
    assert reminders(call).last().subject.endswith(f"a las {local} (hora de su país de residencia)")


@pytest.mark.django_db
def test_cancelled_held_and_missed_calls_get_no_reminder(analyst):
    withdrawn = scheduled_call(analyst, ahead=dt.timedelta(days=3), person=0)
    services.case_withdraw(case=withdrawn.case, reason="Ya no necesito el trámite.")
    withdrawn.refresh_from_db()
    assert withdrawn.status == Appointment.Status.CANCELLED

    held = scheduled_call(analyst, ahead=dt.timedelta(days=3), person=1)
    Appointment.objects.filter(pk=held.pk).update(status=Appointment.Status.HELD)
    missed = scheduled_call(analyst, ahead=dt.timedelta(days=3), person=2)
    Appointment.objects.filter(pk=missed.pk).update(status=Appointment.Status.NO_SHOW)
    live = scheduled_call(analyst, ahead=dt.timedelta(days=3), person=3)

    for now in (live.starts_at - 24 * HOUR, live.starts_at - 30 * MINUTE):
        assert appointments_send_reminders(now=now) == 1  # the live call's only
    assert [e.case_id for e in reminders()] == [live.case_id, live.case_id]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduler_command_sends_the_reminders(analyst):
    call = scheduled_call(analyst, ahead=50 * MINUTE)
    # Booked days ago, as if the scheduler had been waiting for this moment.
    Appointment.objects.filter(pk=call.pk).update(updated_at=timezone.now() - 3 * 24 * HOUR)
    call_command("run_scheduler", "--once")
    assert keys(call) == [f"call_reminder:1h:{call.ical_uid}:0"]


def _run_concurrently(now: dt.datetime, schedulers: int = 2, rounds: int = 3) -> list[int]:
    """`schedulers` threads, each with its own database connection, running the job
    `rounds` times from the same instant."""
    queued: list[int] = []

    def scheduler():
        for _ in range(rounds):
            queued.append(appointments_send_reminders(now=now))

    run_at_once(*[scheduler] * schedulers)
    return queued


def _wait_until_sent(smtp_server, worker_process, timeout: float = 60) -> list[OutboundEmail]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        emails = list(OutboundEmail.objects.order_by("pk"))
        sent = [e for e in emails if e.status == OutboundEmail.Status.SENT]
        if len(sent) == len(emails) and len(smtp_server.messages) >= len(emails):
            return emails
        assert worker_process.poll() is None, "the worker process died"
        time.sleep(0.2)
    raise AssertionError("the worker did not send every queued message in time")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_delivers_each_reminder_once_by_smtp(analyst, worker_process, smtp_server):
    call = scheduled_call(analyst, ahead=dt.timedelta(days=3))
    address = call.case.email
    starts = call.starts_at

    # The day before: the scheduler runs again and again, two of them at once.
    for _ in range(3):
        appointments_send_reminders(now=starts - 23 * HOUR)
    assert sum(_run_concurrently(starts - 23 * HOUR + MINUTE)) == 0
    emails = _wait_until_sent(smtp_server, worker_process)
    assert [e.template for e in emails].count("call_reminder") == 1

    # The last hour: two schedulers race for the same reminder; one queues it.
    assert sorted(_run_concurrently(starts - 50 * MINUTE)) == [0, 0, 0, 0, 0, 1]
    for _ in range(3):
        assert appointments_send_reminders(now=starts - 40 * MINUTE) == 0
    emails = _wait_until_sent(smtp_server, worker_process)
    time.sleep(1)  # a duplicate would be on its way by now

    received = smtp_server.to(address)
    subjects = [m["Subject"] for m in received]
    day_before = [s for s in subjects if "recordatorio de su videollamada" in s]
    hour_before = [s for s in subjects if "empieza pronto" in s]
    assert len(day_before) == 1 and len(hour_before) == 1
    assert len(received) == len([e for e in emails if e.to == address])
    [message] = [m for m in received if "empieza pronto" in m["Subject"]]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert call.meeting_url in text
    assert starts.astimezone(MADRID).strftime("%H:%M") in text
    assert starts.astimezone(ECUADOR).strftime("%H:%M") in text
