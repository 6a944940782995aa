"""Issue 6's "Done when", tried as new users would, in headless Chromium: an analyst signs
in (password, then her authenticator app's code), publishes call slots and approves a
request; the citizen, who lives in Madrid, gets the booking link by email, books a slot
shown in Madrid time (and Ecuador's), receives a calendar invitation at that instant,
moves it and receives the update with the same UID; the analyst records a validated call
and the registry takes the new email; the previous address gets the notice, and the real
holder's "No fui yo" restores the old data and puts the case under a supervisor's fraud
review. Real database, real files, the real task worker, a real SMTP server, the SMS
file backend."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from icalendar import Calendar
from playwright.sync_api import expect

from conftest import PASSWORD
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case

# Debian's Chromium, driven by Playwright, as in the citizen's browser tests.
from ventanilla.portal.tests.conftest import (  # noqa: F401 (fixtures)
    browser_problems,
    chromium,
    new_context,
)
from ventanilla.registry.models import FraudReview, InsuredPerson
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.testing.staff import totp_code_unused, totp_device_for

from .conftest import next_working_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ECUADOR = ZoneInfo("America/Guayaquil")
MADRID = ZoneInfo("Europe/Madrid")
OLD_EMAIL = "maria.antigua@example.net"
OLD_MOBILE = "+593991112233"
OLD_FOREIGN = "+34699887766"
BOOKING_LINK = re.compile(r"https?://\S+/tramite/videollamada/[\w-]+/")
NOT_ME_LINK = re.compile(r"https?://\S+/tramite/no-fui-yo/[\w-]+/")


def _texts(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def _calendar(message) -> tuple[Calendar, object]:
    """The email's text/calendar part, parsed by icalendar: the calendar and its event."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    calendar = Calendar.from_ical(parts[0].get_payload(decode=True))
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def _mail_to(smtp_server, address: str, subject_contains: str, count: int = 1):
    """The messages for `address` whose subject contains the words, once `count` arrived."""
    found = []
    for _ in range(100):
        found = [m for m in smtp_server.to(address) if subject_contains in m["Subject"]]
        if len(found) >= count:
            return found
        smtp_server.wait_for(len(smtp_server.messages) + 1, timeout=0.3)
    raise AssertionError(
        f"no email to {address} about «{subject_contains}»: "
        f"{[m['Subject'] for m in smtp_server.to(address)]}"
    )


def _sign_in(page, url: str, username: str, device):
    """Open a staff page: the sign-in asks for the password, then the app's code, and
    lands on the page asked for."""
    page.goto(url)
    page.get_by_label("Nombre de usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Verificación en dos pasos")
    )
    page.get_by_label("Código de verificación").fill(totp_code_unused(device))
    page.get_by_role("button", name="Verificar").click()
    expect(page).to_have_url(url)


def test_book_in_madrid_time_validate_and_the_holder_stops_the_change(
    live_server,
    settings,
    tmp_path,
    smtp_server,
    run_worker,
    analyst,
    supervisor,
    new_context,  # noqa: F811
    browser_problems,  # noqa: F811
):
    # The database this test sees is the one serialized_rollback restored.
    assert hasattr(connections[DEFAULT_DB_ALIAS], "_test_serialized_contents")
    # Links in the emails point at this server; text messages are written to files.
    settings.SITE_URL = live_server.url
    settings.SMS_FILE_DIR = tmp_path / "sms"

    # 1. María, who lives in Madrid, is in the registry with her OLD email and phones.
    fields = submission_fields(0)
    assert (fields["residence_country"], fields["residence_city"]) == ("ES", "Madrid")
    person = InsuredPerson.objects.create(
        id_number=fields["id_number"],
        first_names=fields["first_names"],
        last_names=fields["last_names"],
        birth_date=dt.date.fromisoformat(fields["birth_date"]),
        insured_type="afiliado",
        email=OLD_EMAIL,
        ecuador_mobile=OLD_MOBILE,
        foreign_phone=OLD_FOREIGN,
        residence_country="ES",
        residence_city="Madrid",
    )
    # She submits; the real worker checks her files and confirms by email.
    submit_request(fields, submission_files(fields))
    run_worker()
    case = Case.objects.get()
    assert case.status == CaseStatus.IN_REVIEW
    _mail_to(smtp_server, fields["email"], case.number)

    # The analyst signs in and publishes two half-hour slots for a coming working day.
    day = next_working_day()
    first_start = dt.datetime.combine(day, dt.time(10, 0), ECUADOR)
    second_start = dt.datetime.combine(day, dt.time(10, 30), ECUADOR)
    desk = new_context(locale="es-EC", timezone_id="America/Guayaquil").new_page()
    slots_url = live_server.url + "/gestion/videollamadas/horarios/"
    _sign_in(desk, slots_url, analyst.username, totp_device_for(analyst))
    expect(desk.get_by_role("heading", level=1)).to_have_text("Horarios para videollamadas")
    publish = desk.locator("#slots-publish")
    publish.get_by_label("Desde el día").fill(day.isoformat())
    publish.get_by_label("Hasta el día").fill(day.isoformat())
    publish.get_by_label("Desde las (hora de Ecuador)").fill("10:00")
    publish.get_by_label("Hasta las (hora de Ecuador)").fill("11:00")
    publish.get_by_label("Duración de cada videollamada (minutos)").fill("30")
    publish.get_by_role("button", name="Publicar").click()
    expect(desk.get_by_text("Se publicaron 2 horarios.")).to_be_visible()
    rows = desk.locator("#slots tbody tr[data-slot]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("10:00–10:30")
    expect(rows.first).to_contain_text("Libre")
    expect(rows.nth(1)).to_contain_text("10:30–11:00")

    # She takes the case from the queue and approves the requirements.
    desk.goto(live_server.url + "/gestion/")
    desk.get_by_role("button", name="Tomar el siguiente").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(f"Trámite {case.number}")
    expect(desk.locator("#case-status")).to_have_text("En revisión de requisitos")
    desk.get_by_role("button", name="Aprobar requisitos y enviar enlace para agendar").click()
    expect(desk.locator("#case-status")).to_have_text(
        "Requisitos aprobados: videollamada por agendar"
    )
    expect(desk.get_by_role("heading", name="Videollamada por agendar")).to_be_visible()

    # 2. The booking email, over SMTP, with her personal link.
    run_worker()
    (booking_mail,) = _mail_to(smtp_server, fields["email"], "elija la fecha y hora")
    link = BOOKING_LINK.search(_texts(booking_mail)).group(0)
    assert link.startswith(live_server.url), link
    citizen = new_context(locale="es-ES", timezone_id="Europe/Madrid").new_page()
    citizen.goto(link)
    expect(citizen.get_by_role("heading", level=1)).to_have_text("Agende su videollamada")
    expect(citizen.locator(".usa-intro")).to_contain_text(case.number)
    expect(citizen.locator("#zone-line")).to_contain_text("Madrid")
    slot_labels = citizen.locator("#slot-form label.usa-radio__label")
    madrid = [first_start.astimezone(MADRID), second_start.astimezone(MADRID)]
    # Madrid is 6 or 7 hours ahead of Ecuador, depending on the season.
    assert madrid[0].hour in (16, 17) and madrid[0].date() == day
    expect(slot_labels).to_have_text(
        [
            f"{madrid[0]:%H:%M} en Madrid (10:00 en Ecuador)",
            f"{madrid[1]:%H:%M} en Madrid (10:30 en Ecuador)",
        ]
    )
    slot_labels.first.click()
    citizen.get_by_role("button", name="Agendar videollamada").click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text(
        f"Videollamada del trámite {case.number}"
    )
    expect(citizen.locator("#call-local")).to_contain_text(
        f"de {madrid[0]:%H:%M} a {madrid[0] + dt.timedelta(minutes=30):%H:%M} en Madrid"
    )
    expect(citizen.locator("#call-ecuador")).to_contain_text("de 10:00 a 10:30 en Ecuador")
    meeting_url = citizen.locator("#meeting-url").inner_text()
    assert meeting_url.startswith("https://")

    # The invitation: a calendar part at exactly the slot's instant, METHOD:REQUEST.
    run_worker()
    (invitation,) = _mail_to(smtp_server, fields["email"], "convocatoria a videollamada")
    calendar, event = _calendar(invitation)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event.decoded("DTSTART") == first_start
    assert event.decoded("DTEND") == first_start + dt.timedelta(minutes=30)
    assert int(event.get("SEQUENCE", 0)) == 0
    uid = str(event["UID"])
    text = _texts(invitation)
    assert meeting_url in text
    assert f"{madrid[0]:%H:%M}" in text and "10:00" in text

    # 3. She moves the call to the other slot: the update keeps the UID, SEQUENCE 1.
    citizen.get_by_role("link", name="Cambiar fecha y hora").click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text(
        "Cambiar la fecha de su videollamada"
    )
    expect(slot_labels).to_have_text([f"{madrid[1]:%H:%M} en Madrid (10:30 en Ecuador)"])
    slot_labels.first.click()
    citizen.get_by_role("button", name="Cambiar a este horario").click()
    expect(citizen.locator("#call-local")).to_contain_text(f"de {madrid[1]:%H:%M} a ")
    expect(citizen.locator("#call-ecuador")).to_contain_text("de 10:30 a 11:00 en Ecuador")

    run_worker()
    (update,) = _mail_to(smtp_server, fields["email"], "nueva fecha de su videollamada")
    calendar, event = _calendar(update)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == uid
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == second_start

    # 4. The call: the analyst opens the call screen from the case page.
    desk.reload()
    expect(desk.locator("#case-status")).to_have_text("Videollamada agendada")
    desk.get_by_role("link", name=re.compile("pantalla de la videollamada")).click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(
        f"Videollamada del trámite {case.number}"
    )
    expect(desk.locator("#call-time-ecuador")).to_contain_text("10:30–11:00")
    expect(desk.locator("#call-time-citizen")).to_contain_text(f"{madrid[1]:%H:%M}")
    questions = desk.locator("#preguntas tbody fieldset")
    expect(questions).to_have_count(3)
    for index in range(3):
        # USWDS draws its own radio button: the person clicks the label.
        questions.nth(index).locator("label").get_by_text("Coincide", exact=True).click()
        expect(questions.nth(index).get_by_label("Coincide", exact=True)).to_be_checked()
    desk.locator("label").get_by_text("Identidad validada", exact=True).click()
    desk.get_by_label(re.compile("Notas")).fill("Mostró la cédula original; respondió bien.")
    desk.get_by_role("button", name="Registrar resultado").click()
    expect(desk.locator("#case-status")).to_have_text("Datos actualizados")

    # The registry shows the new email, with the change in its history.
    desk.get_by_role("link", name="ver registro").click()
    expect(desk).to_have_url(f"{live_server.url}/gestion/asegurados/{fields['id_number']}/")
    expect(desk.locator("#insured-email")).to_have_text(fields["email"])
    email_rows = desk.get_by_role("row").filter(has_text=OLD_EMAIL)
    expect(email_rows).to_have_count(1)
    expect(email_rows).to_contain_text(fields["email"])
    expect(email_rows).to_contain_text(case.number)

    # 5. The OLD address gets the notice with the "No fui yo" link; the old phone an SMS.
    run_worker()
    (notice,) = _mail_to(smtp_server, OLD_EMAIL, "se cambiaron sus datos de contacto")
    not_me = NOT_ME_LINK.search(_texts(notice)).group(0)
    assert not_me.startswith(live_server.url), not_me
    sms_files = [p.read_text(encoding="utf-8") for p in settings.SMS_FILE_DIR.glob("*.txt")]
    to_old_mobile = [t for t in sms_files if f"To: {OLD_MOBILE}" in t]
    assert len(to_old_mobile) == 1, sms_files
    assert NOT_ME_LINK.search(to_old_mobile[0])
    # The citizen is told at her new address.
    _mail_to(smtp_server, fields["email"], "fueron actualizados")

    # The real holder opens the link and presses «No fui yo».
    holder = new_context(locale="es-EC", timezone_id="America/Guayaquil").new_page()
    holder.goto(not_me)
    expect(holder.get_by_role("heading", level=1)).to_have_text(
        "¿Usted cambió sus datos de contacto?"
    )
    expect(holder.locator("#not-me-changes")).to_contain_text("Correo")
    holder.get_by_role("button", name="No fui yo").click()
    expect(holder.get_by_role("heading", level=1)).to_have_text("Recibimos su aviso")
    expect(holder.locator("#not-me-done")).to_contain_text(
        "Sus datos de contacto anteriores fueron restituidos."
    )

    # The registry has the OLD email back (the restoration in the history), frozen.
    desk.reload()
    expect(desk.locator("#insured-email")).to_have_text(OLD_EMAIL)
    expect(desk.get_by_role("row").filter(has_text=OLD_EMAIL)).to_have_count(2)
    person.refresh_from_db()
    assert (person.email, person.ecuador_mobile, person.foreign_phone) == (
        OLD_EMAIL,
        OLD_MOBILE,
        OLD_FOREIGN,
    )
    assert person.is_frozen

    # A supervisor signs in and finds the case under review on the fraud list.
    review = FraudReview.objects.get()
    boss = new_context(locale="es-EC", timezone_id="America/Guayaquil").new_page()
    fraud_url = live_server.url + "/gestion/fraude/"
    _sign_in(boss, fraud_url, supervisor.username, totp_device_for(supervisor))
    expect(boss.get_by_role("heading", level=1)).to_have_text(
        "Revisiones por suplantación («no fui yo»)"
    )
    expect(boss.locator("#fraud-open-count")).to_have_text("1")
    row = boss.locator(f'#fraud-reviews tr[data-review="{review.pk}"]')
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text(case.number)
    expect(row).to_contain_text(fields["id_number"])
    expect(row).to_contain_text("congelado")

    # No server error, no missing asset, no script error on the way.
    assert browser_problems.failed_responses == []
    assert browser_problems.page_errors == []
