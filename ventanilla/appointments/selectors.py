"""Reads for booking the call: the free slots, an analyst's slots, the citizen's link."""

import datetime as dt
from itertools import groupby
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from ventanilla.cases.constants import CaseStatus

from .models import Appointment, BookingLink, CallSlot
from .services import BOOKING_STATUSES, booking_token_hash, change_cutoff
from .timezones import ECUADOR_TZ, residence_timezone_decided, zone_place

ANALYST_SLOT_DAYS = 28


def booking_link_for_token(token: str) -> BookingLink | None:
    """The link behind a citizen's booking address while the case waits for its call;
    None when unknown, replaced, or the case moved on."""
    return (
        BookingLink.objects.select_related("case")
        .filter(token_hash=booking_token_hash(token), case__status__in=BOOKING_STATUSES)
        .first()
    )


def booking_timezone(link: BookingLink) -> str | None:
    """The zone the page shows: chosen by the citizen, or settled by the residence;
    None when the citizen must be asked."""
    case = link.case
    return link.citizen_timezone or residence_timezone_decided(
        case.residence_country, case.residence_region
    )


def live_appointment(case) -> Appointment | None:
    if case.status != CaseStatus.CALL_SCHEDULED:
        return None
    return case.appointments.filter(status=Appointment.Status.SCHEDULED).first()


def free_slots(now: dt.datetime | None = None) -> QuerySet[CallSlot]:
    """Published slots nobody holds, of active analysts with no other call at that time,
    from the cut-off to CALL_BOOKING_DAYS ahead."""
    now = now or timezone.now()
    held = Appointment.objects.filter(slot=OuterRef("pk")).exclude(
        status=Appointment.Status.CANCELLED
    )
    analyst_busy = Appointment.objects.filter(
        analyst=OuterRef("analyst"),
        status=Appointment.Status.SCHEDULED,
        starts_at__lt=OuterRef("ends_at"),
        ends_at__gt=OuterRef("starts_at"),
    )
    return (
        CallSlot.objects.filter(
            withdrawn_at__isnull=True,
            analyst__is_active=True,
            starts_at__gt=change_cutoff(now),
            starts_at__lt=now + dt.timedelta(days=settings.CALL_BOOKING_DAYS),
        )
        .filter(~Exists(held), ~Exists(analyst_busy))
        .order_by("starts_at", "pk")
    )


def _times(instant: dt.datetime, zone: str) -> dict:
    return {
        "local": instant.astimezone(ZoneInfo(zone)),
        "ecuador": instant.astimezone(ZoneInfo(ECUADOR_TZ)),
    }


def free_slot_days(zone: str, now: dt.datetime | None = None) -> list[dict]:
    """The free times grouped by the citizen's day, each shown in their zone and in
    Ecuador's; one entry per start time whoever the analyst (the first slot's id)."""
    seen = set()
    times = []
    for slot in free_slots(now):
        if slot.starts_at in seen:
            continue
        seen.add(slot.starts_at)
        times.append({"id": slot.pk, **_times(slot.starts_at, zone)})
    return [
        {"date": day, "slots": list(entries)}
        for day, entries in groupby(times, key=lambda t: t["local"].date())
    ]


def call_times(appointment: Appointment, zone: str) -> dict:
    """A booked call and its change deadline in the citizen's zone and in Ecuador's."""
    deadline = appointment.starts_at - dt.timedelta(hours=settings.CALL_CHANGE_CUTOFF_HOURS)
    return {
        "starts": _times(appointment.starts_at, zone),
        "ends": _times(appointment.ends_at, zone),
        "deadline": _times(deadline, zone),
        "may_change": appointment.starts_at > change_cutoff(),
        "place": zone_place(zone),
    }


def analyst_slots(analyst, now: dt.datetime | None = None) -> list[CallSlot]:
    """An analyst's live slots of the next four weeks, each with its booked call (and
    case number) when one holds it."""
    now = now or timezone.now()
    return list(
        CallSlot.objects.filter(
            analyst=analyst,
            withdrawn_at__isnull=True,
            ends_at__gt=now,
            starts_at__lt=now + dt.timedelta(days=ANALYST_SLOT_DAYS),
        )
        .select_related("appointment__case")
        .order_by("starts_at")
    )
