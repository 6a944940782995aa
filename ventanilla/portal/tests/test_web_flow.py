"""One case through the real pages, as people would do it, in headless Chromium: the
citizen abroad fills the form (and first gets one file wrong), checks the status, answers
a correction; the analyst signs in, reviews, invites to the call and records the outcome.
Real database, real files, the real task worker, a real SMTP server."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from conftest import PASSWORD
from ventanilla.audit.models import AuditEvent
from ventanilla.cases.models import Case
from ventanilla.documents.models import Document
from ventanilla.notifications.models import OutboundEmail
from ventanilla.registry.models import InsuredPerson
from ventanilla.testing.factories import submission_fields

from . import journey

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NUMBER = re.compile(r"VV-\d{4}-\d{6}-[0-9A-Z]")
OLD_EMAIL = "maria.antigua@example.net"
ECUADOR = ZoneInfo("America/Guayaquil")
USWDS_CSS = "/static/vendor/uswds/css/uswds.min.css"

# The labels a citizen reads on the form, and what she types or picks.
TYPED = {
    "Número de identificación": "id_number",
    "Nombres": "first_names",
    "Apellidos": "last_names",
    "Fecha de nacimiento": "birth_date",
    "Código dactilar (solo con cédula)": "fingerprint_code",
    "Fecha de expedición de la cédula (solo con cédula)": "id_issue_date",
    "Estado o provincia de residencia": "residence_region",
    "Ciudad de residencia": "residence_city",
    "Código postal": "postal_code",
    "Teléfono de contacto en el exterior": "foreign_phone",
    "Correo electrónico": "email",
    "Teléfono celular (Ecuador)": "ecuador_mobile",
    "Sector": "sector",
    "Mensaje": "message",
}
UPLOADS = {
    "Documento de identidad: parte frontal": "id_front",
    "Documento de identidad: reverso": "id_back",
    "Fotografía de su rostro portando su documento": "selfie",
    "Solicitud de actualización firmada": "request_form",
    "Video de autorización": "video",
}


def _texts(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def _calendar_event(message):
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            calendar = Calendar.from_ical(part.get_payload(decode=True))
            return next(c for c in calendar.walk() if c.name == "VEVENT")
    raise AssertionError("the invitation has no calendar part")


def _field(page, label: str):
    """A form field by its exact visible label."""
    return page.get_by_label(label, exact=True)


def _assert_styled(page):
    """USWDS and the IESS sheet are loaded and applied (not a bare HTML page)."""
    loaded = page.evaluate(
        """() => [...document.styleSheets].filter(s => {
               try { return s.cssRules.length > 0 } catch (e) { return false } })
             .filter(s => s.href).map(s => new URL(s.href).pathname)"""
    )
    assert USWDS_CSS in loaded and "/static/css/iess.css" in loaded, loaded
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Source Sans Pro" in font or "Public Sans" in font, font


def _sign_in(page, base_url: str, username: str):
    import base64

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ventanilla.testing.staff import totp_code_unused

    page.goto(base_url + "/gestion/ingresar/")
    page.get_by_label("Nombre de usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    # Then the second factor, as a person with an authenticator app: the first time she
    # adds the key shown on the page to the app (computed here as the app does) and
    # confirms with its code; afterwards she types the code the app shows.
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("Active la verificación|Verificación en dos pasos"))
    if heading.inner_text().startswith("Active"):
        secret = "".join(page.locator("#totp-secret").inner_text().split())
        page.get_by_label("Código de verificación").fill(f"{totp(base64.b32decode(secret)):06d}")
        page.get_by_role("button", name="Activar").click()
        expect(page.locator("#backup-codes li")).to_have_count(10)
        page.get_by_role("link", name="Continuar").click()
    else:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_label("Código de verificación").fill(totp_code_unused(device))
        page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_role("heading", name="Cola de trámites")).to_be_visible()


def test_case_through_the_web_pages(
    live_server,
    settings,
    smtp_server,
    run_worker,
    analyst,
    new_context,
    browser_page,
    browser_problems,
    upload_paths,
    shots_dir,
):
    # Links in the emails point at this server, as SITE_URL does in production.
    settings.SITE_URL = live_server.url
    fields = submission_fields()
    InsuredPerson.objects.create(
        id_number=fields["id_number"],
        first_names=fields["first_names"],
        last_names=fields["last_names"],
        insured_type="afiliado",
        email=OLD_EMAIL,
    )
    citizen = browser_page

    # 1. The citizen starts the procedure and answers page by page, by the labels she reads.
    citizen.goto(live_server.url + "/")
    _assert_styled(citizen)
    citizen.get_by_role("link", name="Iniciar el trámite").click()
    expect(citizen).to_have_url(live_server.url + "/tramite/nuevo/identificacion/")
    _assert_styled(citizen)
    expect(citizen.get_by_text("Paso 1 de 8")).to_be_visible()
    citizen.get_by_label("Tipo de identificación").select_option("cedula")
    citizen.get_by_label("Provincia de nacimiento").select_option(label="Guayas")
    for label, name in TYPED.items():
        if name in journey.ANSWER_PAGES[0]:
            _field(citizen, label).fill(fields[name])
    citizen.get_by_role("button", name="Guardar y continuar", exact=True).click()
    citizen.get_by_label("País de residencia").select_option(label="España")
    for label, name in TYPED.items():
        if name in journey.ANSWER_PAGES[1]:
            _field(citizen, label).fill(fields[name].replace("ES-M", "Madrid"))
    citizen.get_by_role("button", name="Guardar y continuar", exact=True).click()
    for label, name in TYPED.items():
        if name in journey.ANSWER_PAGES[2]:
            _field(citizen, label).fill(fields[name])
    citizen.get_by_role("button", name="Guardar y continuar", exact=True).click()

    # ...but the photo of the front of her ID is a PNG screenshot saved as .jpg.
    _field(citizen, "Documento de identidad: parte frontal").set_input_files(
        upload_paths["png_named_jpg"]
    )
    _field(citizen, "Documento de identidad: reverso").set_input_files(upload_paths["id_back"])
    citizen.get_by_role("button", name="Guardar y continuar", exact=True).click()
    summary = citizen.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Revise los datos marcados")
    expect(summary.get_by_role("listitem")).to_have_count(1)
    front_group = citizen.locator(".usa-form-group--error")
    expect(front_group).to_have_count(1)
    expect(front_group.locator("label")).to_have_text("Documento de identidad: parte frontal")
    expect(front_group.locator(".usa-error-message")).to_contain_text(
        "es una imagen PNG, no JPG/JPEG ni PDF"
    )
    # The summary link takes her to the field; the field announces its error.
    summary.get_by_role("link").click()
    expect(_field(citizen, "Documento de identidad: parte frontal")).to_be_focused()
    described_by = _field(citizen, "Documento de identidad: parte frontal").get_attribute(
        "aria-describedby"
    )
    assert "id_id_front-error" in described_by.split()
    citizen.screenshot(path=str(shots_dir / "formulario-con-error.png"), full_page=True)
    # Nothing was created, no case file stored.
    assert Case.objects.count() == 0
    assert Document.objects.count() == 0
    assert OutboundEmail.objects.count() == 0

    _field(citizen, "Documento de identidad: parte frontal").set_input_files(
        upload_paths["id_front"]
    )
    citizen.get_by_role("button", name="Guardar y continuar", exact=True).click()
    for label, kind in list(UPLOADS.items())[2:]:
        _field(citizen, label).set_input_files(upload_paths[kind])
        citizen.get_by_role("button", name="Guardar y continuar", exact=True).click()
    expect(
        citizen.get_by_role("heading", name="Revise sus respuestas antes de enviar")
    ).to_be_visible()
    expect(citizen.get_by_text(fields["last_names"])).to_be_visible()
    # USWDS draws its own checkbox: the person clicks the label.
    citizen.locator("label[for=id_declaration]").click()
    citizen.get_by_role("button", name="Enviar solicitud").click()
    expect(citizen.get_by_role("heading", name="Recibimos su solicitud")).to_be_visible()
    number = citizen.locator("#case-number").inner_text().strip()
    assert NUMBER.fullmatch(number), number
    expect(citizen.get_by_text(fields["email"])).to_be_visible()
    case = Case.objects.get(number=number)
    assert case.documents.count() == 5
    assert case.residence_region == "ES-M"

    # 2. The worker checks the files and sends the confirmation over SMTP.
    run_worker()
    smtp_server.wait_for(1)
    (confirmation,) = smtp_server.to(fields["email"])
    assert number in confirmation["Subject"]
    assert "3 días laborables" in _texts(confirmation)

    # 3. She checks the status with her number and cédula.
    citizen.get_by_role("link", name="Consultar el estado").click()
    citizen.get_by_label("Número de trámite").fill(number)
    citizen.get_by_label("Número de identificación").fill(fields["id_number"])
    citizen.get_by_role("button", name="Consultar").click()
    expect(citizen.locator("#case-status")).to_have_text("En revisión de requisitos")

    # 4. The analyst signs in, finds the case in the queue and opens it.
    staff = new_context(locale="es-EC", timezone_id="America/Guayaquil")
    desk = staff.new_page()
    _sign_in(desk, live_server.url, analyst.username)
    desk.get_by_role("link", name=number).click()
    expect(desk.get_by_role("heading", name=f"Trámite {number}")).to_be_visible()
    expect(desk.locator("#case-status")).to_contain_text("En revisión de requisitos")
    _assert_styled(desk)
    desk.screenshot(path=str(shots_dir / "gestion-tramite.png"), full_page=True)

    # She opens the front of the ID (a new tab); the view is audited.
    with staff.expect_page() as opened:
        desk.get_by_role("link", name="Documento de identidad (anverso)").click()
    document_tab = opened.value
    document_tab.wait_for_load_state()
    assert document_tab.evaluate("document.contentType") == "image/jpeg"
    assert document_tab.evaluate("document.images[0].naturalWidth") > 0
    document_tab.close()
    viewed = AuditEvent.objects.filter(case=case, action="document.viewed")
    assert {event.actor_id for event in viewed} == {analyst.pk}
    # The case page shows the ID, the selfie and a video frame side by side: each image
    # shown is a recorded view, and so is the front opened in its own tab.
    kinds = [event.new_value.get("kind") for event in viewed]
    assert kinds.count("id_front") == 2, kinds
    assert "selfie" in kinds and "id_back" in kinds

    # The selfie is not good enough: she asks for a new one.
    correction_form = desk.locator("form").filter(
        has=desk.get_by_role("heading", name="Pedir corrección")
    )
    correction_form.get_by_label("Fotografía del rostro portando el documento").check()
    correction_form.get_by_label("El rostro no se ve completo").check()
    correction_form.get_by_label("Mensaje para el ciudadano").fill(
        "En la fotografía no se ve su rostro completo. Tómela de frente y sin gorra."
    )
    correction_form.get_by_role("button", name="Pedir corrección").click()
    expect(desk.locator("#case-status")).to_contain_text("Corrección solicitada")

    # 5. The email carries a personal link; she uploads only a new selfie.
    run_worker()
    smtp_server.wait_for(2)
    correction_mail = smtp_server.to(fields["email"])[-1]
    link = re.search(r"https?://\S+/tramite/correccion/\S+/", _texts(correction_mail))
    assert link, _texts(correction_mail)
    assert link.group(0).startswith(live_server.url)
    citizen.goto(link.group(0))
    expect(citizen.get_by_role("heading", name=re.compile("Corregir documentos"))).to_contain_text(
        number
    )
    expect(citizen.get_by_text("Fotografía del rostro portando el documento")).to_be_visible()
    _field(citizen, "Fotografía de su rostro portando su documento").set_input_files(
        upload_paths["new_selfie"]
    )
    expect(citizen.locator("input[type=file]")).to_have_count(1)
    citizen.get_by_role("button", name="Enviar corrección").click()
    expect(citizen.get_by_role("heading", name="Recibimos su corrección")).to_be_visible()
    case.refresh_from_db()
    assert case.status == "in_review"
    selfies = case.documents.filter(kind="selfie").order_by("version")
    assert [(d.version, d.is_current) for d in selfies] == [(1, False), (2, True)]
    # The personal link works once.
    assert citizen.goto(link.group(0)).status == 404
    run_worker()

    # 6. The analyst approves and invites to the video call (Ecuador time).
    desk.reload()
    expect(desk.locator("#case-status")).to_contain_text("En revisión de requisitos")
    call_day = (dt.datetime.now(ECUADOR) + dt.timedelta(days=3)).date()
    invite_form = desk.locator("form").filter(
        has=desk.get_by_role("heading", name="Aprobar y convocar a videollamada")
    )
    invite_form.get_by_label("Fecha (hora de Ecuador)").fill(call_day.isoformat())
    invite_form.get_by_label("Hora (Ecuador)").fill("10:30")
    invite_form.get_by_role("button", name="Enviar convocatoria").click()
    expect(desk.locator("#case-status")).to_contain_text("Videollamada agendada")
    run_worker()
    smtp_server.wait_for(4)
    invitation = smtp_server.to(fields["email"])[-1]
    assert "videollamada" in invitation["Subject"].lower(), invitation["Subject"]
    event = _calendar_event(invitation)
    assert event.decoded("dtstart") == dt.datetime.combine(call_day, dt.time(10, 30), ECUADOR)
    assert str(event.get("url")) in _texts(invitation)
    assert str(event.get("url")) in desk.locator("main").inner_text()

    # 7. The call, on its own screen: each identity question answered as expected, then
    # identity validated; the registry takes the new email.
    desk.get_by_role("link", name=re.compile("pantalla de la videollamada")).click()
    questions = desk.locator("#preguntas tbody fieldset")
    expect(questions.first).to_be_visible()
    for index in range(questions.count()):
        # USWDS draws its own radio button: the person clicks the label.
        questions.nth(index).locator("label").get_by_text("Coincide", exact=True).click()
        expect(questions.nth(index).get_by_label("Coincide", exact=True)).to_be_checked()
    desk.locator("label").get_by_text("Identidad validada", exact=True).click()
    desk.get_by_label(re.compile("Notas")).fill(
        "Mostró la cédula original; respondió correctamente las preguntas."
    )
    desk.get_by_role("button", name="Registrar resultado").click()
    expect(desk.locator("#case-status")).to_contain_text("Datos actualizados")
    desk.get_by_role("link", name="ver registro").click()
    expect(desk).to_have_url(live_server.url + f"/gestion/asegurados/{fields['id_number']}/")
    expect(desk.locator("#insured-email")).to_have_text(fields["email"])
    email_row = desk.get_by_role("row").filter(has_text=OLD_EMAIL)
    expect(email_row).to_have_count(1)
    expect(email_row).to_contain_text(fields["email"])
    expect(email_row).to_contain_text(number)
    expect(email_row).to_contain_text(analyst.username)

    run_worker()
    smtp_server.wait_for(6)
    assert "actualiz" in smtp_server.to(fields["email"])[-1]["Subject"].lower()
    assert len(smtp_server.to(OLD_EMAIL)) == 1

    # Nothing broke on the way: no server error, no missing asset, no script error.
    assert browser_problems.failed_responses == []
    assert browser_problems.page_errors == []
