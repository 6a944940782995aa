"""Booking the identity video call: the analysts' slots, the citizen's personal booking
link, the booking itself (book, reschedule, cancel) and the calendar invitation that goes
with each email (the same UID throughout, SEQUENCE + 1 on every change).

Double booking is stopped twice: the slot row is locked (select_for_update) while it is
taken, and Appointment.slot is unique in the database, the last guard."""

import datetime as dt
import hashlib
import logging
import secrets
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit.services import CITIZEN, audit_log
from ventanilla.cases import statemachine
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.notifications.services import email_queue
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import ECUADOR, is_working_day, non_working_dates

from .models import Appointment, BookingLink, CallSlot
from .providers import JitsiProvider, MeetingProviderError, meeting_provider
from .timezones import ECUADOR_TZ, residence_timezone, zone_choices, zone_place

logger = logging.getLogger(__name__)

# The statuses in which the citizen's booking link works.
BOOKING_STATUSES = (CaseStatus.CALL_PENDING, CaseStatus.CALL_SCHEDULED)
SLOT_MINUTES_MIN = 10
SLOT_MINUTES_MAX = 240
PUBLISH_DAYS_MAX = 62


def booking_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def booking_url(token: str) -> str:
    return f"{settings.SITE_URL}/tramite/videollamada/{token}/"


def change_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Calls that start before this instant can no longer be booked, changed or cancelled."""
    return (now or timezone.now()) + dt.timedelta(hours=settings.CALL_CHANGE_CUTOFF_HOURS)


def _user(actor):
    return actor if actor is not None and not isinstance(actor, str) else None


def _ecuador(instant: dt.datetime) -> str:
    return f"{instant.astimezone(ECUADOR):%Y-%m-%d %H:%M}"


@transaction.atomic
def booking_invitation_send(*, case, reason: str, actor=None) -> BookingLink:
    """Email the citizen their personal link to book the call (after the requirements are
    accepted, or again after a missed call). A new link replaces the previous one; the
    time zone the citizen chose is kept. The case must be call_pending or call_scheduled."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in BOOKING_STATUSES:
        raise ValidationError(
            f"El trámite {case.number} está «{CaseStatus(case.status).label}»: no espera que "
            "el ciudadano agende la videollamada."
        )
    token = secrets.token_urlsafe(32)
    link, created = BookingLink.objects.update_or_create(
        case=case, defaults={"token_hash": booking_token_hash(token), "created_at": timezone.now()}
    )
    audit_log(
        action="appointment.booking_link_sent",
        actor=actor,
        case=case,
        obj=link,
        new={"renewed": not created},
        reason=reason,
    )
    email_queue(
        template="call_booking",
        to=case.email,
        case=case,
        context={
            "link": booking_url(token),
            "reason": reason,
            "renewed": not created,
            "cutoff_hours": settings.CALL_CHANGE_CUTOFF_HOURS,
        },
        dedupe_key=f"call_booking:{case.number}:{link.token_hash[:24]}",
    )
    return link


def booking_link_timezone_set(*, link: BookingLink, zone: str) -> BookingLink:
    """Keep the zone the citizen chose among their country's (or Ecuador's)."""
    if zone not in dict(zone_choices(link.case.residence_country)):
        raise ValidationError({"zone": _("Elija una de las zonas horarias de la lista.")})
    link.citizen_timezone = zone
    link.save(update_fields=["citizen_timezone"])
    return link


def _case_timezone(case) -> str:
    link = BookingLink.objects.filter(case=case).exclude(citizen_timezone="").first()
    if link is not None:
        return link.citizen_timezone
    return residence_timezone(case.residence_country, case.residence_region)


def _lock_user(user):
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def _refuse_analyst_busy(analyst, starts_at, ends_at, *, other_than=None) -> None:
    """An analyst holds one call at a time (the row lock serialises two bookings)."""
    _lock_user(analyst)
    busy = Appointment.objects.filter(
        analyst=analyst,
        status=Appointment.Status.SCHEDULED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if other_than is not None:
        busy = busy.exclude(pk=other_than.pk)
    clash = busy.order_by("starts_at").first()
    if clash is not None:
        raise ValidationError(
            {
                "starts_at": f"{analyst.get_username()} ya tiene una videollamada de "
                f"{_ecuador(clash.starts_at)} a {clash.ends_at.astimezone(ECUADOR):%H:%M} "
                "(hora de Ecuador) que se cruza con esa hora; elija otra."
            }
        )


def _meeting(case, starts_at: dt.datetime, *, citizen: bool) -> tuple[str, str]:
    """(provider name, link) of a new meeting room. When the configured provider fails
    (Google Meet unreachable or refusing), an analyst sees its Spanish message and may
    retry or paste a link; a citizen's booking is never lost for it: the room is made on
    Jitsi Meet instead, which needs no API call."""
    provider = meeting_provider()
    try:
        return provider.name, provider.create_meeting(case_number=case.number, starts_at=starts_at)
    except MeetingProviderError as exc:
        if not citizen:
            raise ValidationError({"meeting_url": str(exc)}) from exc
        logger.warning(
            "meeting provider %s failed for case %s (%s); Jitsi room used instead",
            provider.name,
            case.number,
            exc.detail or exc,
        )
        fallback = JitsiProvider()
        return fallback.name, fallback.create_meeting(case_number=case.number, starts_at=starts_at)


def appointment_create(
    *,
    case,
    actor,
    starts_at: dt.datetime,
    meeting_url: str = "",
    slot: CallSlot | None = None,
    citizen_timezone: str = "",
) -> Appointment:
    """Create the call for `case` at `starts_at` (aware); a meeting room is made unless given.

    Held by the slot's analyst when the citizen booked a slot, else by the staff member who
    proposed the time; refused (ValidationError) when it overlaps another call of theirs."""
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must carry a time-zone offset")
    starts_at = starts_at.astimezone(dt.UTC)
    ends_at = (
        slot.ends_at if slot else starts_at + dt.timedelta(minutes=settings.CALL_DURATION_MINUTES)
    )
    analyst = slot.analyst if slot else _user(actor)
    if analyst is not None:
        _refuse_analyst_busy(analyst, starts_at, ends_at)
    if meeting_url:
        provider_name, url = "manual", meeting_url
    else:
        provider_name, url = _meeting(case, starts_at, citizen=actor == CITIZEN)
    return Appointment.objects.create(
        case=case,
        slot=slot,
        analyst=analyst,
        starts_at=starts_at,
        ends_at=ends_at,
        citizen_timezone=citizen_timezone or _case_timezone(case),
        meeting_provider=provider_name,
        meeting_url=url,
        ical_uid=f"{uuid.uuid4()}@ventanilla.iess.gob.ec",
        created_by=_user(actor),
    )


def appointment_ics(appointment: Appointment, *, method: str = "REQUEST") -> str:
    """An iCalendar (RFC 5545) invitation that calendar programs accept."""
    # Imported here, by the workers that send invitations: the web processes never need it.
    from icalendar import Calendar, Event, vCalAddress, vText

    cal = Calendar()
    cal.add("prodid", "-//IESS//Ventanilla//ES")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", appointment.ical_uid)
    event.add("sequence", appointment.ical_sequence)
    event.add("dtstamp", dt.datetime.now(dt.UTC))
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


def appointment_calendar_part(appointment: Appointment, *, method: str = "REQUEST") -> dict:
    """The call as an email attachment calendar programs accept (REQUEST or CANCEL)."""
    return {
        "filename": "videollamada-iess-cancelada.ics"
        if method == "CANCEL"
        else "videollamada-iess.ics",
        "content_type": f"text/calendar; method={method}; charset=utf-8",
        "content": appointment_ics(appointment, method=method),
    }


def appointment_mark_cancelled(appointment: Appointment) -> int | None:
    """Cancel the call: its slot is free again, and SEQUENCE + 1, since calendar programs
    drop the event when the same UID comes with a higher SEQUENCE. Returns the freed slot."""
    freed = appointment.slot_id
    appointment.status = Appointment.Status.CANCELLED
    appointment.slot = None
    appointment.ical_sequence += 1
    appointment.save(update_fields=["status", "slot", "ical_sequence", "updated_at"])
    return freed


def appointment_email_queue(*, appointment: Appointment, template: str, method: str = "REQUEST"):
    """Queue one of the call's emails (call_invitation, call_updated, call_cancelled) with
    its calendar part; one message per UID and SEQUENCE."""
    case = appointment.case
    return email_queue(
        template=template,
        to=case.email,
        case=case,
        context={
            "appointment": appointment,
            "ecuador_tz": ECUADOR_TZ,
            "citizen_tz": appointment.citizen_timezone,
            "citizen_place": zone_place(appointment.citizen_timezone),
            "booked_by_citizen": BookingLink.objects.filter(case=case).exists(),
            "cutoff_hours": settings.CALL_CHANGE_CUTOFF_HOURS,
        },
        attachments=[appointment_calendar_part(appointment, method=method)],
        dedupe_key=f"{template}:{appointment.ical_uid}:{appointment.ical_sequence}",
    )


# The citizen's booking.


def _slot_taken() -> ValidationError:
    return ValidationError({"slot": _("Ese horario acaba de ser tomado; elija otro.")})


def _take_slot(slot_id, *, cutoff: dt.datetime) -> CallSlot:
    """Lock a free slot for this transaction, or refuse. A second booking of the same slot
    waits here for the first to finish, then finds it taken."""
    slot = (
        CallSlot.objects.select_for_update()
        .select_related("analyst")
        .filter(pk=slot_id, withdrawn_at__isnull=True, analyst__is_active=True)
        .first()
    )
    if slot is None or slot.starts_at <= cutoff:
        raise ValidationError({"slot": _("Ese horario ya no está disponible; elija otro.")})
    # A call cancelled elsewhere (a withdrawn case) may still point at the slot: free it.
    Appointment.objects.filter(slot=slot, status=Appointment.Status.CANCELLED).update(slot=None)
    if Appointment.objects.filter(slot=slot).exists():
        raise _slot_taken()
    return slot


def _refuse_after_cutoff(appointment: Appointment) -> None:
    if appointment.starts_at <= change_cutoff():
        raise ValidationError(
            _(
                "Faltan menos de %(hours)d horas para su videollamada: ya no se puede cambiar "
                "ni cancelar. Si no puede asistir, comuníquese con Atención al Ciudadano e "
                "indique su número de trámite."
            )
            % {"hours": settings.CALL_CHANGE_CUTOFF_HOURS}
        )


def _lock_case(case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


@transaction.atomic
def appointment_book(*, case, slot_id: int, citizen_timezone: str = "") -> Appointment:
    """The citizen books a published slot through their link: the call is created with
    the slot's analyst and a meeting room, the case becomes call_scheduled, and the
    invitation goes out with its calendar part (METHOD:REQUEST, SEQUENCE 0)."""
    case = _lock_case(case)
    if case.status != CaseStatus.CALL_PENDING:
        raise statemachine.IllegalTransition(case, CaseStatus.CALL_SCHEDULED)
    slot = _take_slot(slot_id, cutoff=change_cutoff())
    try:
        with transaction.atomic():
            appointment = appointment_create(
                case=case,
                actor=CITIZEN,
                starts_at=slot.starts_at,
                slot=slot,
                citizen_timezone=citizen_timezone,
            )
    except (IntegrityError, ValidationError) as exc:
        # Appointment.slot is unique: the database refuses what the lock did not stop.
        raise _slot_taken() from exc
    statemachine.transition(
        case, CaseStatus.CALL_SCHEDULED, actor=CITIZEN, reason="Videollamada agendada"
    )
    audit_log(
        action="appointment.created",
        actor=CITIZEN,
        case=case,
        obj=appointment,
        new={
            "starts_at": appointment.starts_at.isoformat(),
            "slot": slot.pk,
            "analyst": appointment.analyst.get_username(),
            "citizen_timezone": appointment.citizen_timezone,
        },
    )
    appointment_email_queue(appointment=appointment, template="call_invitation")
    return appointment


def _lock_live(appointment: Appointment) -> tuple[Appointment, Case]:
    case = _lock_case(appointment.case)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    appointment.case = case
    if (
        appointment.status != Appointment.Status.SCHEDULED
        or case.status != CaseStatus.CALL_SCHEDULED
    ):
        raise ValidationError(_("Esta videollamada ya no está agendada."))
    return appointment, case


@transaction.atomic
def appointment_reschedule(*, appointment: Appointment, slot_id: int) -> Appointment:
    """The citizen moves the call to another free slot, before the cut-off: the same
    appointment (same calendar UID, SEQUENCE + 1), the old slot freed, an update email."""
    appointment, case = _lock_live(appointment)
    _refuse_after_cutoff(appointment)
    if slot_id == appointment.slot_id:
        raise ValidationError({"slot": _("Su videollamada ya está en ese horario.")})
    slot = _take_slot(slot_id, cutoff=change_cutoff())
    old = {
        "starts_at": appointment.starts_at.isoformat(),
        "slot": appointment.slot_id,
        "analyst": appointment.analyst.get_username() if appointment.analyst else None,
    }
    try:
        with transaction.atomic():
            _refuse_analyst_busy(slot.analyst, slot.starts_at, slot.ends_at, other_than=appointment)
            appointment.slot = slot
            appointment.analyst = slot.analyst
            appointment.starts_at = slot.starts_at
            appointment.ends_at = slot.ends_at
            appointment.ical_sequence += 1
            if appointment.meeting_provider != "manual":
                # A new room for the new time: a Jitsi token is only valid around its call.
                appointment.meeting_provider, appointment.meeting_url = _meeting(
                    case, slot.starts_at, citizen=True
                )
            appointment.save(
                update_fields=[
                    "slot",
                    "analyst",
                    "starts_at",
                    "ends_at",
                    "ical_sequence",
                    "meeting_provider",
                    "meeting_url",
                    "updated_at",
                ]
            )
    except (IntegrityError, ValidationError) as exc:
        raise _slot_taken() from exc
    audit_log(
        action="appointment.rescheduled",
        actor=CITIZEN,
        case=case,
        obj=appointment,
        old=old,
        new={
            "starts_at": appointment.starts_at.isoformat(),
            "slot": slot.pk,
            "analyst": slot.analyst.get_username(),
            "ical_sequence": appointment.ical_sequence,
        },
    )
    appointment_email_queue(appointment=appointment, template="call_updated")
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, reason: str = "") -> Appointment:
    """The citizen cancels the call, before the cut-off: the slot is free again, the case
    goes back to call_pending (the same link books a new time), and the email carries
    the calendar cancellation (METHOD:CANCEL, same UID, SEQUENCE + 1)."""
    appointment, case = _lock_live(appointment)
    _refuse_after_cutoff(appointment)
    freed = appointment_mark_cancelled(appointment)
    statemachine.transition(
        case,
        CaseStatus.CALL_PENDING,
        actor=CITIZEN,
        reason=reason or "El ciudadano canceló la videollamada",
    )
    audit_log(
        action="appointment.cancelled",
        actor=CITIZEN,
        case=case,
        obj=appointment,
        old={"status": Appointment.Status.SCHEDULED, "slot": freed},
        new={"status": Appointment.Status.CANCELLED, "ical_sequence": appointment.ical_sequence},
        reason=reason or "Cancelada por el ciudadano",
    )
    appointment_email_queue(appointment=appointment, template="call_cancelled", method="CANCEL")
    return appointment


# The analysts' availability.


def _may_manage_slots(actor, analyst) -> bool:
    if can(actor, Permission.ASSIGN):
        return True
    return actor.pk == analyst.pk and can(actor, Permission.TAKE_CASES)


@transaction.atomic
def slots_publish(
    *,
    actor,
    analyst,
    first_day: dt.date,
    last_day: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    minutes: int,
) -> list[CallSlot]:
    """Publish an analyst's call slots: every working day (Monday to Friday, not a
    holiday of the calendar) from `first_day` to `last_day`, from `start_time` to
    `end_time` Ecuador time, one slot every `minutes`. Slots already past are left out.
    Refused as a whole when any slot overlaps a live slot or call of the analyst."""
    if not _may_manage_slots(actor, analyst):
        raise ValidationError(_("Solo puede publicar sus propios horarios."))
    if not can(analyst, Permission.TAKE_CASES):
        raise ValidationError(
            {"analyst": _("%(name)s no atiende trámites.") % {"name": analyst.get_username()}}
        )
    errors = {}
    if not SLOT_MINUTES_MIN <= minutes <= SLOT_MINUTES_MAX:
        errors["minutes"] = _("La duración debe estar entre %(low)d y %(high)d minutos.") % {
            "low": SLOT_MINUTES_MIN,
            "high": SLOT_MINUTES_MAX,
        }
    if last_day < first_day:
        errors["last_day"] = _("El último día no puede ser anterior al primero.")
    elif (last_day - first_day).days >= PUBLISH_DAYS_MAX:
        errors["last_day"] = _("Publique como máximo %(days)d días de una vez.") % {
            "days": PUBLISH_DAYS_MAX
        }
    if end_time <= start_time:
        errors["end_time"] = _("La hora de fin debe ser posterior a la de inicio.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    closed = non_working_dates(first_day, last_day)
    wanted = []
    day = first_day
    while day <= last_day:
        if is_working_day(day, closed):
            start = dt.datetime.combine(day, start_time, tzinfo=ECUADOR)
            end_of_day = dt.datetime.combine(day, end_time, tzinfo=ECUADOR)
            while start + dt.timedelta(minutes=minutes) <= end_of_day:
                if start > now:
                    wanted.append((start.astimezone(dt.UTC), start + dt.timedelta(minutes=minutes)))
                start += dt.timedelta(minutes=minutes)
        day += dt.timedelta(days=1)
    if not wanted:
        raise ValidationError(
            _(
                "No queda ningún horario por publicar: los días elegidos son fines de semana, "
                "feriados o ya pasaron, o el intervalo es más corto que la duración."
            )
        )
    _lock_user(analyst)
    first, last = wanted[0][0], wanted[-1][1]
    live_slots = list(
        CallSlot.objects.filter(
            analyst=analyst, withdrawn_at__isnull=True, starts_at__lt=last, ends_at__gt=first
        )
    )
    calls = list(
        Appointment.objects.filter(
            analyst=analyst,
            status=Appointment.Status.SCHEDULED,
            starts_at__lt=last,
            ends_at__gt=first,
        )
    )
    clashes = [
        starts
        for starts, ends in wanted
        if any(o.starts_at < ends and o.ends_at > starts for o in [*live_slots, *calls])
    ]
    if clashes:
        shown = ", ".join(_ecuador(c) for c in clashes[:5])
        raise ValidationError(
            _(
                "%(count)d horarios se cruzan con otros ya publicados o con videollamadas de "
                "%(name)s (hora de Ecuador: %(times)s). Retire esos horarios o elija otro "
                "intervalo."
            )
            % {"count": len(clashes), "name": analyst.get_username(), "times": shown}
        )
    slots = CallSlot.objects.bulk_create(
        [
            CallSlot(analyst=analyst, starts_at=starts, ends_at=ends, created_by=actor)
            for starts, ends in wanted
        ]
    )
    audit_log(
        action="appointment.slots_published",
        actor=actor,
        obj=analyst,
        new={
            "analyst": analyst.get_username(),
            "count": len(slots),
            "first": wanted[0][0].isoformat(),
            "last": wanted[-1][0].isoformat(),
            "minutes": minutes,
        },
    )
    return slots


@transaction.atomic
def slot_withdraw(*, actor, slot: CallSlot) -> CallSlot:
    """Stop offering a slot. Refused while a live (scheduled) call holds it."""
    slot = CallSlot.objects.select_for_update().select_related("analyst").get(pk=slot.pk)
    if not _may_manage_slots(actor, slot.analyst):
        raise ValidationError(_("Solo puede retirar sus propios horarios."))
    if slot.withdrawn_at is not None:
        return slot
    held = Appointment.objects.filter(slot=slot, status=Appointment.Status.SCHEDULED).first()
    if held is not None:
        raise ValidationError(
            _(
                "Ese horario tiene una videollamada agendada (trámite %(number)s): no se puede "
                "retirar. El ciudadano puede cambiarla con su enlace."
            )
            % {"number": held.case.number}
        )
    slot.withdrawn_at = timezone.now()
    slot.save(update_fields=["withdrawn_at"])
    audit_log(
        action="appointment.slot_withdrawn",
        actor=actor,
        obj=slot,
        old={"starts_at": slot.starts_at.isoformat(), "analyst": slot.analyst.get_username()},
    )
    return slot
