"""The citizen books, reschedules and cancels through her personal link (Django's test
client), and every email carries a calendar part that icalendar reads back."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from ventanilla.appointments.models import Appointment, BookingLink, CallSlot
from ventanilla.appointments.services import booking_invitation_send
from ventanilla.audit.models import AuditEvent
from ventanilla.cases.constants import CaseStatus
from ventanilla.notifications.models import OutboundEmail

from .conftest import booking_token, next_working_day, publish

MADRID = ZoneInfo("Europe/Madrid")
ECUADOR = ZoneInfo("America/Guayaquil")


def _event(email: OutboundEmail):
    (attachment,) = email.attachments
    calendar = Calendar.from_ical(attachment["content"])
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _email(case, template) -> OutboundEmail:
    return OutboundEmail.objects.filter(case=case, template=template).latest("pk")


def _page(client, url, **kwargs):
    response = client.get(url, **kwargs)
    return response, response.content.decode()


@pytest.mark.django_db
def test_acceptance_emails_a_personal_link_and_keeps_only_its_hash(madrid_case):
    assert madrid_case.status == CaseStatus.CALL_PENDING
    assert madrid_case.reviewed_at is not None
    email = _email(madrid_case, "call_booking")
    token = booking_token(madrid_case)
    assert f"/tramite/videollamada/{token}/" in email.body_text
    assert "Elegir fecha y hora" in email.body_html
    link = BookingLink.objects.get(case=madrid_case)
    assert token not in link.token_hash and len(link.token_hash) == 64
    assert AuditEvent.objects.filter(
        action="appointment.booking_link_sent", case=madrid_case
    ).exists()


@pytest.mark.django_db
def test_madrid_resident_books_reschedules_and_cancels(client, analyst, madrid_case):
    day = next_working_day()
    first, second, *_ = publish(analyst, day)
    token = booking_token(madrid_case)
    url = f"/tramite/videollamada/{token}/"

    # The free times, in Madrid and in Ecuador.
    response, page = _page(client, url)
    assert response.status_code == 200
    assert madrid_case.number in page
    local = first.starts_at.astimezone(MADRID)
    assert f"{local:%H:%M} en Madrid (10:00 en Ecuador)" in page
    assert "Cambiar zona horaria" in page

    # She books the first one.
    response = client.post(url, {"slot": first.pk})
    assert response.status_code == 302
    madrid_case.refresh_from_db()
    assert madrid_case.status == CaseStatus.CALL_SCHEDULED
    appointment = Appointment.objects.get(case=madrid_case)
    assert appointment.slot == first and appointment.analyst == analyst
    assert appointment.citizen_timezone == "Europe/Madrid"
    assert appointment.meeting_url.startswith("https://")
    assert appointment.created_by is None
    invitation = _email(madrid_case, "call_invitation")
    calendar, event = _event(invitation)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event["SEQUENCE"] == 0 and str(event["UID"]) == appointment.ical_uid
    assert event.decoded("DTSTART") == first.starts_at
    local_line = "Hora de su país de residencia (Madrid): "
    assert local_line in invitation.body_text
    assert f"{local:%H:%M} a " in invitation.body_text.split(local_line)[1].splitlines()[0]
    assert "cambie o cancele la videollamada con el enlace personal" in invitation.body_text

    # The page now shows the call, the link and the calendar file.
    response, page = _page(client, url)
    assert appointment.meeting_url in page and "Añadir a mi calendario" in page
    assert f"de {local:%H:%M}" in page and "de 10:00" in page
    ics = client.get(f"{url}videollamada.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    assert str(Calendar.from_ical(ics.content).walk("VEVENT")[0]["UID"]) == appointment.ical_uid

    # She moves it to the next slot: same row, same UID, SEQUENCE 1, the old slot free.
    response = client.post(f"{url}cambiar/", {"slot": second.pk})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.slot == second and appointment.ical_sequence == 1
    assert not Appointment.objects.filter(slot=first).exists()
    calendar, event = _event(_email(madrid_case, "call_updated"))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == appointment.ical_uid and event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == second.starts_at != first.starts_at
    _, page = _page(client, url)
    assert f"{first.starts_at.astimezone(MADRID):%H:%M} en Madrid" not in page

    # She cancels: the slot is free, the case waits for a new booking, METHOD:CANCEL.
    response = client.post(f"{url}cancelar/")
    assert response.status_code == 302
    appointment.refresh_from_db()
    madrid_case.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED and appointment.slot is None
    assert madrid_case.status == CaseStatus.CALL_PENDING
    calendar, event = _event(_email(madrid_case, "call_cancelled"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == appointment.ical_uid and event["SEQUENCE"] == 2
    assert str(event["STATUS"]) == "CANCELLED"

    # Both slots are offered again, and the same link books anew.
    _, page = _page(client, url)
    assert f'value="{first.pk}"' in page and f'value="{second.pk}"' in page
    assert client.post(url, {"slot": second.pk}).status_code == 302
    assert madrid_case.appointments.filter(status="scheduled").get().slot == second
    actions = set(AuditEvent.objects.filter(case=madrid_case).values_list("action", flat=True))
    assert {"appointment.created", "appointment.rescheduled", "appointment.cancelled"} <= actions


@pytest.mark.django_db
def test_a_held_slot_is_never_offered_nor_booked_twice(client, analyst, madrid_case):
    from .conftest import accepted_case

    (slot,) = publish(analyst, next_working_day(), "10:00", "10:30")
    other = accepted_case(analyst, person=2)
    assert client.post(f"/tramite/videollamada/{booking_token(other)}/", {"slot": slot.pk})
    url = f"/tramite/videollamada/{booking_token(madrid_case)}/"
    _, page = _page(client, url)
    assert f'value="{slot.pk}"' not in page and "No hay horarios libres" in page
    response = client.post(url, {"slot": slot.pk})
    assert response.status_code == 409
    assert "Ese horario acaba de ser tomado; elija otro." in response.content.decode()
    madrid_case.refresh_from_db()
    assert madrid_case.status == CaseStatus.CALL_PENDING


@pytest.mark.django_db
def test_cut_off(client, analyst, madrid_case, settings):
    day = next_working_day()
    first, second, *_ = publish(analyst, day)
    url = f"/tramite/videollamada/{booking_token(madrid_case)}/"
    client.post(url, {"slot": first.pk})
    appointment = madrid_case.appointments.get()
    hours_left = (first.starts_at - appointment.created_at).total_seconds() / 3600
    _, page = _page(client, url)
    deadline = first.starts_at - dt.timedelta(hours=12)
    assert f"{deadline.astimezone(MADRID):%H:%M} en Madrid (" in page
    assert f"{deadline.astimezone(ECUADOR):%H:%M} en Ecuador)" in page

    # Closer to the call than the cut-off: no change, no cancellation, nothing offered.
    settings.CALL_CHANGE_CUTOFF_HOURS = int(hours_left) + 1
    _, page = _page(client, url)
    assert "ya no se puede cambiar ni cancelar" in page and "Cancelar videollamada" not in page
    response = client.post(f"{url}cambiar/", {"slot": second.pk})
    assert response.status_code == 409
    assert "ya no se puede cambiar" in response.content.decode()
    response = client.post(f"{url}cancelar/")
    assert response.status_code == 409
    appointment.refresh_from_db()
    assert appointment.slot == first and appointment.status == "scheduled"
    assert appointment.ical_sequence == 0

    # A slot within the cut-off is not offered to someone booking either.
    client.post(f"{url}cancelar/")  # still refused
    settings.CALL_CHANGE_CUTOFF_HOURS = 12
    client.post(f"{url}cancelar/")
    settings.CALL_CHANGE_CUTOFF_HOURS = int(hours_left) + 1
    _, page = _page(client, url)
    assert f'value="{first.pk}"' not in page
    assert client.post(url, {"slot": first.pk}).status_code == 409


@pytest.mark.django_db
def test_us_resident_whose_state_has_two_clocks_is_asked_first(client, analyst):
    from .conftest import accepted_case

    case = accepted_case(analyst, person=1, residence_region="US-KY")
    (slot,) = publish(analyst, next_working_day(), "10:00", "10:30")
    url = f"/tramite/videollamada/{booking_token(case)}/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].endswith("zona/")
    response, page = _page(client, f"{url}zona/")
    assert "Hora del Este (Nueva York)" in page and "Hora del Centro (Chicago)" in page
    assert "varias zonas horarias" in page
    response = client.post(f"{url}zona/", {"zone": "Europe/Madrid"})
    assert response.status_code == 422  # not one of the country's clocks
    client.post(f"{url}zona/", {"zone": "America/Chicago"})
    assert BookingLink.objects.get(case=case).citizen_timezone == "America/Chicago"
    _, page = _page(client, url)
    chicago = slot.starts_at.astimezone(ZoneInfo("America/Chicago"))
    assert f"{chicago:%H:%M} en Chicago (10:00 en Ecuador)" in page
    client.post(url, {"slot": slot.pk})
    assert case.appointments.get().citizen_timezone == "America/Chicago"


@pytest.mark.django_db
def test_new_jersey_needs_no_question(client, analyst):
    from .conftest import accepted_case

    case = accepted_case(analyst, person=1)  # US-NJ: Eastern time only
    publish(analyst, next_working_day(), "10:00", "10:30")
    response, page = _page(client, f"/tramite/videollamada/{booking_token(case)}/")
    assert response.status_code == 200 and "en Nueva York (10:00 en Ecuador)" in page


@pytest.mark.django_db
def test_a_new_link_replaces_the_old_one_and_links_die_with_the_case(client, analyst, madrid_case):
    old = booking_token(madrid_case)
    booking_invitation_send(case=madrid_case, reason="No se presentó a la videollamada")
    new = booking_token(madrid_case)
    assert new != old
    assert client.get(f"/tramite/videollamada/{old}/").status_code == 404
    assert client.get(f"/tramite/videollamada/{new}/").status_code == 200
    assert "enlace nuevo" in _email(madrid_case, "call_booking").body_text
    from ventanilla.cases.services import case_withdraw

    case_withdraw(case=madrid_case)
    assert client.get(f"/tramite/videollamada/{new}/").status_code == 404
    assert client.get("/tramite/videollamada/no-existe/").status_code == 404


@pytest.mark.django_db
def test_analyst_proposed_time_is_refused_when_it_overlaps_their_call(client, analyst):
    from django.core.exceptions import ValidationError

    from ventanilla.cases.services import case_invite
    from ventanilla.testing.factories import case_in_status

    from .conftest import accepted_case

    booked = accepted_case(analyst, person=2)
    (slot,) = publish(analyst, next_working_day(), "10:00", "10:30")
    client.post(f"/tramite/videollamada/{booking_token(booked)}/", {"slot": slot.pk})
    reviewing = case_in_status(CaseStatus.IN_REVIEW, analyst)
    with pytest.raises(ValidationError, match="se cruza"):
        case_invite(
            case=reviewing, actor=analyst, starts_at=slot.starts_at + dt.timedelta(minutes=15)
        )
    reviewing.refresh_from_db()
    assert reviewing.status == CaseStatus.IN_REVIEW
    appointment = case_invite(
        case=reviewing, actor=analyst, starts_at=slot.ends_at
    )  # right after: fine
    assert appointment.analyst == analyst and appointment.slot is None
    assert not CallSlot.objects.exclude(pk=slot.pk).exists()


@pytest.mark.django_db
def test_a_withdrawn_case_gives_its_slot_back(client, analyst, madrid_case):
    from ventanilla.cases.services import case_withdraw

    from .conftest import accepted_case

    (slot,) = publish(analyst, next_working_day(), "10:00", "10:30")
    client.post(f"/tramite/videollamada/{booking_token(madrid_case)}/", {"slot": slot.pk})
    case_withdraw(case=madrid_case)
    other = accepted_case(analyst, person=2)
    url = f"/tramite/videollamada/{booking_token(other)}/"
    _, page = _page(client, url)
    assert f'value="{slot.pk}"' in page
    assert client.post(url, {"slot": slot.pk}).status_code == 302
    assert Appointment.objects.get(slot=slot).case == other


@pytest.mark.django_db
def test_the_booking_page_in_english_writes_dates_the_english_way(client, analyst, madrid_case):
    day = next_working_day()
    first, *_ = publish(analyst, day)
    url = f"/tramite/videollamada/{booking_token(madrid_case)}/"
    client.cookies["django_language"] = "en"

    _, page = _page(client, url)
    assert f"{day:%A} {day.day} {day:%B}" in page  # "Monday 30 November"
    assert " de " + f"{day:%B}" not in page

    client.post(url, {"slot": first.pk})
    _, page = _page(client, url)
    assert f"{day:%A} {day.day} {day:%B} {day.year}" in page
    assert "Madrid" in page
