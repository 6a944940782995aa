"""The analyst's three decisions through the real pages, in headless Chromium: she signs in
with her password and the code of her authenticator app, takes the next case from the
queue, sees the ID, the selfie and a frame of the video side by side with the checks'
results, and decides with a coded reason: a correction, a rejection, an invitation. Each
citizen gets the matching email from the real worker over a real SMTP server, with the
reason's label, the text that explains it and the analyst's message.
Real database, real files, the real task worker, a real SMTP server."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import expect

from conftest import PASSWORD
from ventanilla.cases.constants import CaseStatus, ReviewReason, reason_guidance
from ventanilla.cases.models import Case
from ventanilla.notifications.models import OutboundEmail

# Debian's Chromium, driven by Playwright, as in the citizen's browser tests.
from ventanilla.portal.tests.conftest import (  # noqa: F401 (fixtures)
    browser_problems,
    chromium,
    new_context,
    shots_dir,
)
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.testing.staff import totp_code_unused, totp_device_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ECUADOR = ZoneInfo("America/Guayaquil")
CORRECTION_MESSAGE = "En su fotografía la gorra le cubre la frente y no se ven sus ojos."
REJECTION_MESSAGE = "La firma de la solicitud es una imagen recortada y pegada sobre el documento."


def _texts(message) -> str:
    """The plain-text part of a received email, with its lines joined."""
    text = "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )
    return " ".join(text.split())


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _sign_in(page, base_url: str, username: str, device):
    """Password, then the code her authenticator app shows."""
    page.goto(base_url + "/gestion/ingresar/")
    page.get_by_label("Nombre de usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Verificación en dos pasos")
    )
    page.get_by_label("Código de verificación").fill(totp_code_unused(device))
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_role("heading", name="Cola de trámites")).to_be_visible()


def _take_next(page, base_url: str) -> Case:
    """From the queue, «Tomar el siguiente»: the case page of the case now hers."""
    page.goto(base_url + "/gestion/")
    page.get_by_role("button", name="Tomar el siguiente").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Trámite VV-"))).to_be_visible()
    number = page.get_by_role("heading", level=1).inner_text().split()[-1]
    expect(page.locator("#case-status")).to_have_text("En revisión de requisitos")
    return Case.objects.get(number=number)


def _assert_evidence_side_by_side(page):
    """The ID's two sides, the selfie and a still of the video, shown (decoded) in one row,
    and the checks' results with their recommendation."""
    panels = page.locator("#imagenes figure")
    expect(panels).to_have_count(4)
    tops = []
    for kind in ("id_front", "id_back", "selfie", "video_still"):
        image = page.locator(f'#imagenes figure[data-panel="{kind}"] img')
        expect(image).to_be_visible()
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        tops.append(round(image.bounding_box()["y"]))
    assert len(set(tops)) == 1, f"the four images are not in one row: {tops}"
    expect(page.locator("#recommendation")).to_be_visible()
    checks = page.locator("#verificaciones details[data-check]")
    assert checks.count() >= 5
    expect(page.locator('#verificaciones details[data-check="face_match"]')).to_be_visible()


def _decision_form(page, heading: str):
    return page.locator("#decision form").filter(has=page.get_by_role("heading", name=heading))


def _tick_reason(form, code: str):
    """Tick a reason by its label; the text the citizen will read is right under it."""
    row = form.locator(f'[data-reason="{code}"]')
    expect(row.locator(".reason-guidance")).to_have_text(_one_line(reason_guidance(code)))
    row.get_by_label(str(ReviewReason(code).label), exact=True).check()


def _mail_to(smtp_server, address: str, subject_contains: str):
    """The message for `address` whose subject contains the words, once the worker sent it."""
    for _ in range(100):
        found = [m for m in smtp_server.to(address) if subject_contains in m["Subject"]]
        if found:
            return found[-1]
        smtp_server.wait_for(len(smtp_server.messages) + 1, timeout=0.3)
    raise AssertionError(
        f"no email to {address} about «{subject_contains}»: "
        f"{[m['Subject'] for m in smtp_server.to(address)]}"
    )


def _assert_reason_in_mail(text: str, code: str, message: str):
    label, guidance = _one_line(ReviewReason(code).label), _one_line(reason_guidance(code))
    assert label in text, text
    assert guidance in text, text
    assert message in text, text
    assert text.index(guidance) < text.index(message)


def test_analyst_decides_three_cases_and_each_citizen_gets_the_matching_email(
    live_server,
    settings,
    smtp_server,
    run_worker,
    analyst,
    new_context,  # noqa: F811
    browser_problems,  # noqa: F811
    shots_dir,  # noqa: F811
):
    # The database this test sees is the one serialized_rollback restored (the chromium
    # fixture in portal/tests/conftest.py keeps one connection while the browser runs).
    assert hasattr(connections[DEFAULT_DB_ALIAS], "_test_serialized_contents")
    # Links in the emails point at this server, as SITE_URL does in production.
    settings.SITE_URL = live_server.url
    # Three citizens abroad submit; the real worker checks their files and confirms.
    for person in range(3):
        fields = submission_fields(person)
        submit_request(fields, submission_files(fields))
    run_worker()
    assert set(Case.objects.values_list("status", flat=True)) == {CaseStatus.IN_REVIEW}
    smtp_server.wait_for(3)
    assert len(smtp_server.messages) == 3

    # The analyst signs in with her password and her authenticator app's code.
    device = totp_device_for(analyst)
    staff = new_context(locale="es-EC", timezone_id="America/Guayaquil")
    desk = staff.new_page()
    _sign_in(desk, live_server.url, analyst.username, device)

    # (a) The first case: the selfie does not show the face; she asks for a new one.
    first = _take_next(desk, live_server.url)
    _assert_evidence_side_by_side(desk)
    correction = _decision_form(desk, "Pedir corrección")
    expect(correction.get_by_text(re.compile("se añade, en el correo", re.I))).to_be_visible()
    correction.get_by_label("Fotografía del rostro portando el documento", exact=True).check()
    _tick_reason(correction, "face_not_visible")
    correction.get_by_label("Mensaje para el ciudadano").fill(CORRECTION_MESSAGE)
    desk.locator("#decision").screenshot(path=str(shots_dir / "gestion-decision-motivos.png"))
    correction.get_by_role("button", name="Pedir corrección").click()
    expect(desk.locator("#case-status")).to_have_text("Corrección solicitada")
    first.refresh_from_db()
    assert first.status == CaseStatus.CORRECTION_REQUESTED
    assert first.assigned_to == analyst

    run_worker()
    mail = _mail_to(smtp_server, first.email, "corrija")
    text = _texts(mail)
    _assert_reason_in_mail(text, "face_not_visible", CORRECTION_MESSAGE)
    link = re.search(r"https?://\S+/tramite/correccion/\S+/", text)
    assert link and link.group(0).startswith(live_server.url), text
    # The link works: the citizen lands on the page to upload only the new selfie.
    citizen = new_context(locale="es-ES", timezone_id="Europe/Madrid").new_page()
    citizen.goto(link.group(0))
    expect(citizen.get_by_role("heading", name=re.compile("Corregir documentos"))).to_contain_text(
        first.number
    )
    expect(citizen.locator("input[type=file]")).to_have_count(1)

    # (b) The next case: a pasted signature. First she presses «Rechazar» with no reason
    # ticked: the page says what is missing, in Spanish, and nothing changes.
    second = _take_next(desk, live_server.url)
    _assert_evidence_side_by_side(desk)
    sent_before = OutboundEmail.objects.count()
    transitions_before = second.transitions.count()
    reject = _decision_form(desk, "Rechazar")
    reject.get_by_label("Mensaje para el ciudadano").fill(REJECTION_MESSAGE)
    reject.get_by_role("button", name="Rechazar").click()
    expect(
        desk.get_by_role("alert").filter(has_text="Marque al menos un motivo del rechazo.")
    ).to_be_visible()
    expect(desk.locator("#case-status")).to_have_text("En revisión de requisitos")
    second.refresh_from_db()
    assert second.status == CaseStatus.IN_REVIEW
    assert second.decision_reasons == [] and second.decision_message == ""
    assert second.transitions.count() == transitions_before
    assert OutboundEmail.objects.count() == sent_before

    reject = _decision_form(desk, "Rechazar")
    _tick_reason(reject, "pasted_signature")
    reject.get_by_label("Mensaje para el ciudadano").fill(REJECTION_MESSAGE)
    reject.get_by_role("button", name="Rechazar").click()
    expect(desk.locator("#case-status")).to_have_text("Rechazado por requisitos")
    second.refresh_from_db()
    assert second.status == CaseStatus.REQUIREMENTS_REJECTED
    assert second.decision_reasons == ["pasted_signature"]

    run_worker()
    mail = _mail_to(smtp_server, second.email, "no cumple los requisitos")
    text = _texts(mail)
    _assert_reason_in_mail(text, "pasted_signature", REJECTION_MESSAGE)
    assert "fírmela a mano con la misma firma de su cédula" in text

    # (c) The third case is in order: she invites the citizen to the video call.
    third = _take_next(desk, live_server.url)
    _assert_evidence_side_by_side(desk)
    call_day = (dt.datetime.now(ECUADOR) + dt.timedelta(days=3)).date()
    invite = _decision_form(desk, "Aprobar y convocar a videollamada")
    invite.get_by_label("Fecha (hora de Ecuador)").fill(call_day.isoformat())
    invite.get_by_label("Hora (Ecuador)").fill("10:30")
    invite.get_by_role("button", name="Enviar convocatoria").click()
    expect(desk.locator("#case-status")).to_have_text("Videollamada agendada")
    third.refresh_from_db()
    appointment = third.appointments.get()
    assert appointment.starts_at == dt.datetime.combine(call_day, dt.time(10, 30), ECUADOR)

    run_worker()
    mail = _mail_to(smtp_server, third.email, "videollamada")
    assert appointment.meeting_url in _texts(mail)

    # One email per decision, each to its own citizen, after the confirmation.
    for case in (first, second, third):
        assert len(smtp_server.to(case.email)) == 2, case.email
    # No server error, no missing asset, no script error on the way.
    assert browser_problems.failed_responses == []
    assert browser_problems.page_errors == []
