"""Reminders of the identity video call, 24 hours and 1 hour before it.

Run by the scheduler every few seconds; each reminder is sent once because the
outbox refuses a second message with the same dedupe key, which names the call
(ical_uid), its version (ical_sequence: a rescheduled call is a new version and
gets its own reminders) and the kind of reminder. Two schedulers at once are safe:
the first locks the call's row, the other then finds the reminder queued (and the
key is unique in the database besides).
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from ventanilla.cases.constants import CaseStatus
from ventanilla.notifications.models import OutboundEmail
from ventanilla.notifications.services import email_queue

from .models import Appointment
from .timezones import ECUADOR_TZ

REMINDERS = {"24h": dt.timedelta(hours=24), "1h": dt.timedelta(hours=1)}


def reminder_dedupe_key(appointment: Appointment, kind: str) -> str:
    return f"call_reminder:{kind}:{appointment.ical_uid}:{appointment.ical_sequence}"


def _reminder_due(appointment: Appointment, now: dt.datetime) -> str | None:
    """The reminder this call should have by `now`: "1h" within its last hour, "24h"
    within the day before; none for a call booked (or moved) later than that point,
    since its invitation has just told the citizen."""
    until = appointment.starts_at - now
    if until <= dt.timedelta(0):
        return None
    kind = "1h" if until <= REMINDERS["1h"] else "24h" if until <= REMINDERS["24h"] else None
    # Rescheduling saves the row: updated_at is when this version of the call was booked.
    if kind is None or appointment.updated_at > appointment.starts_at - REMINDERS[kind]:
        return None
    return kind


def appointments_send_reminders(*, now: dt.datetime | None = None) -> int:
    """Queue the 24 h and 1 h reminders due at `now` (by default, the present) for every
    scheduled call, each once per version of the call. Returns how many were queued."""
    now = now or timezone.now()
    candidates = (
        Appointment.objects.filter(
            status=Appointment.Status.SCHEDULED,
            case__status=CaseStatus.CALL_SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + REMINDERS["24h"],
        )
        .select_related("case")
        .order_by("starts_at", "pk")
    )
    due = []
    for appointment in candidates:
        kind = _reminder_due(appointment, now)
        if kind is not None:
            due.append((reminder_dedupe_key(appointment, kind), kind, appointment))
    if not due:
        return 0
    # Most ticks find every reminder already queued: skip rendering those.
    queued_before = set(
        OutboundEmail.objects.filter(dedupe_key__in=[key for key, _, _ in due]).values_list(
            "dedupe_key", flat=True
        )
    )
    return sum(
        _queue_once(appointment.pk, now) for key, _, appointment in due if key not in queued_before
    )


def _queue_once(appointment_id: int, now: dt.datetime) -> bool:
    """Queue the reminder due for this call unless it exists; True when this call queued it.

    The call's row is locked and read again: another scheduler waits here and then finds
    the reminder queued, and a call moved or cancelled a moment ago is seen as it is now."""
    try:
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update(of=("self",))
                .select_related("case")
                .filter(pk=appointment_id, status=Appointment.Status.SCHEDULED)
                .first()
            )
            if appointment is None or appointment.case.status != CaseStatus.CALL_SCHEDULED:
                return False
            kind = _reminder_due(appointment, now)
            if kind is None:
                return False
            key = reminder_dedupe_key(appointment, kind)
            if OutboundEmail.objects.filter(dedupe_key=key).exists():
                return False
            email_queue(
                template="call_reminder",
                to=appointment.case.email,
                case=appointment.case,
                context={
                    "appointment": appointment,
                    "kind": kind,
                    "citizen_tz": appointment.citizen_timezone,
                    "ecuador_tz": ECUADOR_TZ,
                },
                dedupe_key=key,
            )
    except IntegrityError:
        # The unique key, should a writer not lock the row first.
        return False
    return True
