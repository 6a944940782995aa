"""The citizen's status page and withdrawal, through Django's test client: María, who
lives in Madrid, looks up her case with its number and her cédula, reads in plain words
what is happening and what she must do, and may close (desistir) an open case from the
same browser. Someone who only knows a number learns nothing and can close nothing."""

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.cases.numbers import case_number_format
from ventanilla.notifications.models import OutboundEmail
from ventanilla.testing.factories import (
    CORRECTION_MESSAGE,
    NOT_VALIDATED_NOTES,
    REJECTION_MESSAGE,
    case_in_status,
)

pytestmark = pytest.mark.django_db

S = CaseStatus
ECUADOR = ZoneInfo("America/Guayaquil")
MADRID = ZoneInfo("Europe/Madrid")
MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
WITHDRAW_URL = "/consulta/{number}/desistir/"
OPEN = [S.SUBMITTED, S.IN_REVIEW, S.CORRECTION_REQUESTED, S.CALL_PENDING, S.CALL_SCHEDULED]
FINAL = [S.REQUIREMENTS_REJECTED, S.COMPLETED, S.IDENTITY_REJECTED, S.WITHDRAWN, S.EXPIRED]


WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]


def _spanish_date(value: dt.datetime, zone=ECUADOR) -> str:
    local = value.astimezone(zone)
    return f"{local.day} de {MONTHS[local.month - 1]} de {local.year}"


def _spanish_day(value: dt.datetime, zone=ECUADOR) -> str:
    """With the weekday, as the page's sentences say it: "lunes 30 de noviembre de 2026"."""
    return f"{WEEKDAYS[value.astimezone(zone).weekday()]} {_spanish_date(value, zone)}"


def _lookup(client, number: str, id_number: str = "0923456784"):
    return client.post("/consulta/", {"number": number, "id_number": id_number})


def _text(response) -> str:
    """The page as a person reads it: no tags, entities resolved, spaces collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# --- the status page ---------------------------------------------------------------


def test_in_review_explains_the_wait_and_shows_the_deadline(client, analyst):
    case = case_in_status(S.IN_REVIEW, analyst)

    response = _lookup(client, case.number)

    assert response.status_code == 200
    text = _text(response)
    assert f"Estado del trámite {case.number}" in text
    assert "Estado actual: En revisión de requisitos" in text
    assert "Un analista revisa sus documentos." in text
    due = _spanish_day(case.review_due_at)
    assert f"Recibirá un correo en m***@example.org a más tardar el {due} (hora de Ecuador)" in text
    # Submitted today, due at the end of the 3rd working day after today.
    assert f"Plazo de revisión: hasta el {due} (hora de Ecuador); quedan 3 días laborables." in text
    assert "maria.quispe@example.org" not in text


def test_a_late_review_says_so(client, analyst):
    case = case_in_status(S.IN_REVIEW, analyst)
    Case.objects.filter(pk=case.pk).update(review_due_at=timezone.now() - dt.timedelta(hours=2))
    case.refresh_from_db()

    text = _text(_lookup(client, case.number))

    assert (
        f"El plazo de revisión venció el {_spanish_day(case.review_due_at)} (hora de Ecuador). "
        "Disculpe la demora"
    ) in text
    assert "días laborables" not in text


def test_submitted_also_runs_the_review_clock(client, analyst):
    case = case_in_status(S.SUBMITTED, analyst)

    text = _text(_lookup(client, case.number))

    assert "Estado actual: Recibido" in text
    assert "Recibimos su solicitud." in text
    assert _spanish_date(case.review_due_at) in text
    assert "quedan 3 días laborables" in text


def test_correction_requested_lists_the_items_and_message_but_not_the_link(client, analyst):
    case = case_in_status(S.CORRECTION_REQUESTED, analyst)
    correction = case.corrections.get()

    response = _lookup(client, case.number)

    text = _text(response)
    assert "Estado actual: Corrección solicitada" in text
    assert "La revisión está en pausa" in text
    assert "Documentos que debe cargar de nuevo Fotografía del rostro portando el documento" in text
    assert "El rostro no se ve completo" in text
    assert f"Mensaje del analista {CORRECTION_MESSAGE}" in text
    assert "con el enlace personal que le enviamos por correo a m***@example.org" in text
    expires = correction.expires_at.astimezone(ECUADOR)
    assert (
        f"Hágalo hasta el {_spanish_day(expires)} a las {expires:%H:%M} (hora de Ecuador)."
    ) in text
    assert "Su número de trámite no cambia." in text
    # The clock is paused: no review deadline.
    assert "Plazo de revisión" not in text
    # The lookup is weaker than the mailbox: the personal link is never on this page.
    assert "/tramite/correccion/" not in response.content.decode()


def test_call_scheduled_shows_ecuador_and_local_time_and_points_to_the_email(client, analyst):
    case = case_in_status(S.CALL_SCHEDULED, analyst)
    appointment = case.appointments.get()
    local = appointment.starts_at.astimezone(MADRID)

    response = _lookup(client, case.number)

    text = _text(response)
    assert "Estado actual: Videollamada agendada" in text
    assert (
        f"está agendada para el {_spanish_day(appointment.starts_at)} a las 10:30 (hora de Ecuador)"
    ) in text
    assert f"{_spanish_day(local, MADRID)} a las {local:%H:%M} (hora de Madrid)" in text
    assert "Revise su correo (m***@example.org)" in text
    assert appointment.meeting_url not in response.content.decode()


@pytest.mark.parametrize(
    ("status", "label", "phrases"),
    [
        (
            S.CALL_PENDING,
            "Requisitos aprobados: videollamada por agendar",
            ["está agendando su videollamada", "Recibirá en m***@example.org la convocatoria"],
        ),
        (
            S.COMPLETED,
            "Datos actualizados",
            ["Trámite terminado: su identidad fue validada", "No tiene que hacer nada más."],
        ),
        (
            S.REQUIREMENTS_REJECTED,
            "Rechazado por requisitos",
            [
                "Su solicitud fue rechazada el",
                "no cumple los requisitos",
                "Motivos Formulario con enmendaduras La solicitud no está firmada",
                f"Mensaje del analista {REJECTION_MESSAGE}",
                "presente una solicitud nueva",
            ],
        ),
        (
            S.IDENTITY_REJECTED,
            "Identidad no validada",
            [
                "No fue posible validar su identidad en la videollamada",
                f"Mensaje del analista {NOT_VALIDATED_NOTES}",
                "Sus datos de contacto no fueron modificados.",
            ],
        ),
        (
            S.WITHDRAWN,
            "Desistido",
            ["El trámite fue cerrado a su pedido (desistimiento) el", "atencionalusuario@"],
        ),
        (
            S.EXPIRED,
            "Caducado",
            ["El trámite se cerró el", "porque no recibimos la corrección dentro del plazo"],
        ),
    ],
)
def test_each_status_in_plain_words(client, analyst, status, label, phrases):
    case = case_in_status(status, analyst)

    response = _lookup(client, case.number)

    assert response.status_code == 200
    text = _text(response)
    assert f"Estado actual: {label}" in text
    for phrase in phrases:
        assert phrase in text
    if case.is_final:
        assert _spanish_date(case.status_changed_at) in text
    assert "Plazo de revisión" not in text


def test_the_timeline_is_an_ordered_list_in_ecuador_time(client, analyst):
    case = case_in_status(S.CORRECTION_REQUESTED, analyst)

    response = _lookup(client, case.number)

    body = response.content.decode()
    timeline = re.search(r'<ol class="usa-list" id="timeline"[^>]*>(.*?)</ol>', body, re.S)
    assert timeline, body
    assert 'aria-describedby="timeline-hint"' in body
    assert "Fechas y horas de Ecuador" in _text(response)
    items = re.findall(r"<li>(.*?)</li>", timeline.group(1), re.S)
    labels = [re.sub(r"<[^>]+>", "", item).split(": ", 1)[1] for item in items]
    assert labels == ["Recibido", "En revisión de requisitos", "Corrección solicitada"]
    for item, step in zip(items, case.transitions.all(), strict=True):
        moment = step.at.astimezone(ECUADOR)
        assert f'datetime="{moment.isoformat()}"' in item
        assert f"{_spanish_date(step.at)} a las {moment:%H:%M}" in item


@pytest.mark.parametrize("status", OPEN)
def test_an_open_case_offers_withdrawal(client, analyst, status):
    case = case_in_status(status, analyst)

    body = _lookup(client, case.number).content.decode()

    assert f'href="{WITHDRAW_URL.format(number=case.number)}"' in body
    assert "Desistir del trámite" in body


@pytest.mark.parametrize("status", FINAL)
def test_a_final_case_offers_no_withdrawal(client, analyst, status):
    case = case_in_status(status, analyst)

    body = _lookup(client, case.number).content.decode()

    assert "/desistir/" not in body
    assert "Desistir del trámite" not in body


def test_a_wrong_pair_and_an_unknown_number_answer_alike(client, analyst):
    case = case_in_status(S.IN_REVIEW, analyst)
    # A well-formed number (right check character) that no case has.
    unknown = case_number_format(int(case.number.split("-")[1]), 999)

    wrong_id = _lookup(client, case.number, "1761234564")
    no_such_case = _lookup(client, unknown)

    assert wrong_id.status_code == no_such_case.status_code == 404
    assert _text(wrong_id) == _text(no_such_case)
    assert "No encontramos un trámite con ese número e identificación." in _text(wrong_id)
    assert "En revisión" not in _text(wrong_id)
    # A failed lookup gives this browser nothing to withdraw.
    refused = client.post(WITHDRAW_URL.format(number=case.number), {"confirm": "on"})
    assert refused.status_code == 302
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW


def test_a_wrong_check_character_is_explained(client, analyst):
    case = case_in_status(S.IN_REVIEW, analyst)
    last = case.number[-1]
    mistyped = case.number[:-1] + ("A" if last != "A" else "B")

    response = _lookup(client, mistyped)

    assert response.status_code == 200
    assert "El número de trámite no es válido: revise cada carácter" in _text(response)
    assert 'role="alert"' in response.content.decode()


# --- withdrawal --------------------------------------------------------------------


def test_withdraw_after_looking_up(client, analyst):
    case = case_in_status(S.IN_REVIEW, analyst)
    url = WITHDRAW_URL.format(number=case.number)
    assert _lookup(client, case.number).status_code == 200

    confirm = client.get(url)

    assert confirm.status_code == 200
    text = _text(confirm)
    assert f"Desistir del trámite {case.number}" in text
    assert "se cierra y el IESS deja de revisarlo" in text
    assert "No se modifica ningún dato" in text
    assert "puede iniciar un trámite nuevo" in text
    assert 'type="checkbox"' in confirm.content.decode()

    # The box must be ticked: nothing happens without it.
    unticked = client.post(url, {"reason": ""})
    assert unticked.status_code == 422
    assert "Marque la casilla para confirmar que desea desistir del trámite." in _text(unticked)
    assert 'role="alert"' in unticked.content.decode()
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW
    assert not OutboundEmail.objects.filter(case=case, template="case_withdrawn").exists()

    done = client.post(url, {"confirm": "on", "reason": "Ya lo hice en una agencia."})

    assert done.status_code == 302
    assert done["Location"] == f"/consulta/{case.number}/desistido/"
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN
    event = AuditEvent.objects.get(case=case, action="case.withdrawn")
    assert event.actor_label == "citizen"
    assert event.old_value == {"status": S.IN_REVIEW}
    assert event.reason == "Ya lo hice en una agencia."
    email = OutboundEmail.objects.get(case=case, template="case_withdrawn")
    assert email.to == "maria.quispe@example.org"
    assert case.number in email.subject and case.number in email.body_text
    page = client.get(done["Location"])
    assert page.status_code == 200
    text = _text(page)
    assert f"El trámite {case.number} fue cerrado a su pedido el" in text
    assert _spanish_date(case.status_changed_at) in text
    assert "Sus datos de contacto no fueron modificados." in text

    # Sending the form again changes nothing and says why.
    again = client.post(url, {"confirm": "on"})
    assert again.status_code == 409
    assert "ya está cerrado" in _text(again)
    assert OutboundEmail.objects.filter(case=case, template="case_withdrawn").count() == 1


def test_a_case_decided_after_the_lookup_is_refused_with_a_message(client, analyst):
    case = case_in_status(S.IN_REVIEW, analyst)
    url = WITHDRAW_URL.format(number=case.number)
    assert _lookup(client, case.number).status_code == 200
    # Meanwhile the analyst rejects the requirements.
    services.case_reject(
        case=case, actor=analyst, reasons=["amended_form"], message=REJECTION_MESSAGE
    )
    emails = OutboundEmail.objects.filter(case=case).count()

    page = client.get(url)
    posted = client.post(url, {"confirm": "on"})

    for response in (page, posted):
        assert response.status_code == 409
        text = _text(response)
        assert "No se puede desistir de este trámite" in text
        assert (
            f"El trámite {case.number} ya está cerrado («Rechazado por requisitos»), por eso no "
            "se puede desistir de él."
        ) in text
        assert 'role="alert"' in response.content.decode()
        assert 'name="confirm"' not in response.content.decode()
    case.refresh_from_db()
    assert case.status == S.REQUIREMENTS_REJECTED
    assert OutboundEmail.objects.filter(case=case).count() == emails
    assert not AuditEvent.objects.filter(case=case, action="case.withdrawn").exists()


def test_withdrawal_needs_a_lookup_from_this_browser(client, analyst):
    case = case_in_status(S.IN_REVIEW, analyst)
    other = case_in_status(S.SUBMITTED, analyst)
    url = WITHDRAW_URL.format(number=case.number)

    # Someone who only knows the number.
    for response in (client.get(url), client.post(url, {"confirm": "on"})):
        assert response.status_code == 302
        assert response["Location"] == "/consulta/"
    follow = client.get("/consulta/")
    assert "primero consúltelo aquí con su número de trámite" in _text(follow)

    # Looking up one case does not open another one.
    assert _lookup(client, other.number).status_code == 200
    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert client.get(f"/consulta/{case.number}/desistido/").status_code == 302
    # ...nor does another browser's lookup.
    assert (
        Client().post(WITHDRAW_URL.format(number=other.number), {"confirm": "on"}).status_code
        == 302
    )

    for c in (case, other):
        c.refresh_from_db()
        assert c.status in (S.IN_REVIEW, S.SUBMITTED)
    assert not AuditEvent.objects.filter(action="case.withdrawn").exists()
    assert not OutboundEmail.objects.filter(template="case_withdrawn").exists()


def test_the_withdrawal_post_is_csrf_protected(analyst):
    case = case_in_status(S.CALL_PENDING, analyst)
    browser = Client(enforce_csrf_checks=True)
    browser.get("/consulta/")
    token = browser.cookies["csrftoken"].value
    looked_up = browser.post(
        "/consulta/",
        {"number": case.number, "id_number": "0923456784", "csrfmiddlewaretoken": token},
    )
    assert looked_up.status_code == 200
    url = WITHDRAW_URL.format(number=case.number)
    assert 'name="csrfmiddlewaretoken"' in browser.get(url).content.decode()

    forged = browser.post(url, {"confirm": "on"})

    assert forged.status_code == 403
    case.refresh_from_db()
    assert case.status == S.CALL_PENDING

    token = browser.cookies["csrftoken"].value
    accepted = browser.post(url, {"confirm": "on", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN


# --- the correction page -------------------------------------------------------------


def test_the_correction_page_says_what_to_upload_and_until_when(client, analyst):
    case = case_in_status(S.CORRECTION_REQUESTED, analyst)
    correction = case.corrections.get()
    mail = OutboundEmail.objects.get(case=case, template="correction_requested")
    link = re.search(r"/tramite/correccion/[^/\s]+/", mail.body_text).group(0)

    response = client.get(link)

    assert response.status_code == 200
    text = _text(response)
    assert f"el número {case.number} no cambia" in text
    assert "Qué debe cargar de nuevo Fotografía del rostro portando el documento" in text
    assert "El rostro no se ve completo" in text
    assert f"Mensaje del analista: {CORRECTION_MESSAGE}" in text
    expires = correction.expires_at.astimezone(ECUADOR)
    assert (
        f"Plazo para enviar la corrección: hasta el {_spanish_day(expires)} "
        f"a las {expires:%H:%M} (hora de Ecuador)."
    ) in text
