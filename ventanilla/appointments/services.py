"""Booking the identity video call and the calendar invitation that goes with it."""

import datetime as dt
import uuid

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Appointment
from .providers import meeting_provider
from .timezones import residence_timezone


def appointment_create(
    *, case, actor, starts_at: dt.datetime, meeting_url: str = ""
) -> Appointment:
    """Create the call for `case` at `starts_at` (aware); a meeting room is made unless given."""
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must carry a time-zone offset")
    starts_at = starts_at.astimezone(dt.UTC)
    provider = meeting_provider()
    url = meeting_url or provider.create_meeting(case_number=case.number, starts_at=starts_at)
    return Appointment.objects.create(
        case=case,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=settings.CALL_DURATION_MINUTES),
        citizen_timezone=residence_timezone(case.residence_country, case.residence_region),
        meeting_provider=provider.name if not meeting_url else "manual",
        meeting_url=url,
        ical_uid=f"{uuid.uuid4()}@ventanilla.iess.gob.ec",
        created_by=actor,
    )


def appointment_ics(appointment: Appointment, *, method: str = "REQUEST") -> str:
    """An iCalendar (RFC 5545) invitation that calendar programs accept."""
    cal = Calendar()
    cal.add("prodid", "-//IESS//Ventanilla//ES")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", appointment.ical_uid)
    event.add("sequence", appointment.ical_sequence)
    event.add("dtstamp", appointment.created_at or dt.datetime.now(dt.UTC))
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add(
        "summary",
        f"IESS: videollamada de validación de identidad (trámite {appointment.case.number})",
    )
    event.add(
        "description",
        "Videollamada de validación de identidad para la actualización de datos de contacto. "
        f"Enlace: {appointment.meeting_url}\n"
        "Tenga a mano su documento de identidad.",
    )
    event.add("location", vText(appointment.meeting_url))
    event.add("url", appointment.meeting_url)
    organizer = vCalAddress(f"mailto:{_address(settings.DEFAULT_FROM_EMAIL)}")
    organizer.params["cn"] = vText("IESS Ventanilla Virtual")
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{appointment.case.email}")
    attendee.params["cn"] = vText(appointment.case.full_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical().decode()


def _address(from_email: str) -> str:
    return from_email.rsplit("<", 1)[-1].rstrip(">").strip()
