"""The privacy notice (LOPDP art. 12): a person abroad reads, before sending anything, who
processes their data, why, on what basis, for how long (the periods the purge applies,
read from the settings), who receives it and how to exercise their rights."""

import re
from html import unescape

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _period(page: str, key: str) -> str:
    cell = re.search(rf'<td data-retention="{key}">(.*?)</td>', page, re.S)
    assert cell, f"no retention row {key}"
    return _text(cell.group(1))


def test_the_notice_says_who_why_on_what_basis_and_the_rights(client):
    response = client.get("/privacidad/")
    assert response.status_code == 200
    assert reverse("portal:privacy") == "/privacidad/"
    page = response.content.decode()
    text = _text(page)
    assert '<html lang="es">' in page
    for expected in (
        "Aviso de privacidad",
        "Instituto Ecuatoriano de Seguridad Social (IESS) es el responsable",
        "art. 26 de la LOPDP",
        "datos biométricos",
        "su rostro y su voz",
        "Acceso",
        "Rectificación",
        "Eliminación",
        "Oposición",
        "Portabilidad",
        "plazo máximo de 15 días",
        "atencionalusuario@iess.gob.ec",
        "Superintendencia de Protección de Datos Personales",
        "toda decisión sobre su trámite la toma una persona",
    ):
        assert expected in text, expected


def test_the_notice_shows_the_default_periods(client):
    page = client.get("/privacidad/").content.decode()
    assert _period(page, "selfie") == "90 días después de la decisión"
    assert _period(page, "video") == "90 días después de la decisión"
    assert _period(page, "check_evidence") == "90 días después de la decisión"
    assert _period(page, "id_document") == "180 días después de la decisión"
    assert _period(page, "request_form") == "365 días después de la decisión"
    assert _period(page, "draft") == "72 horas después de su último cambio"


def test_the_notice_follows_the_configured_periods(client, settings):
    settings.RETENTION_ID_DOCUMENT_DAYS = 120
    settings.RETENTION_SELFIE_DAYS = 45
    settings.RETENTION_VIDEO_DAYS = 60
    settings.RETENTION_REQUEST_FORM_DAYS = 730
    settings.DRAFT_RETENTION_HOURS = 24

    page = client.get("/privacidad/").content.decode()

    assert _period(page, "selfie") == "45 días después de la decisión"
    assert _period(page, "video") == "60 días después de la decisión"
    # The crops and face encodings never outlive any file they come from.
    assert _period(page, "check_evidence") == "45 días después de la decisión"
    assert _period(page, "id_document") == "120 días después de la decisión"
    assert _period(page, "request_form") == "730 días después de la decisión"
    assert _period(page, "draft") == "24 horas después de su último cambio"


def test_the_notice_names_the_configured_call_service(client, settings):
    settings.MEETING_PROVIDER = "google_meet"
    assert "El servicio de videollamada (Google Meet)" in _text(
        client.get("/privacidad/").content.decode()
    )


def test_the_start_page_and_every_page_footer_link_to_it(client):
    start = client.get("/").content.decode()
    assert start.count('href="/privacidad/"') == 2  # "Sus datos personales" and the footer
    for url in ("/consulta/", "/tramite/nuevo/identificacion/"):
        assert 'href="/privacidad/"' in client.get(url).content.decode(), url
