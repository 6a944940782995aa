"""POST /api/v1/cases with one thing wrong at a time, as citizens really get it wrong.

Every refusal answers 422 with a Spanish message on the field the citizen must fix,
and leaves nothing behind: no case, no document row, no file in private storage.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from ventanilla.cases.models import Case
from ventanilla.documents.models import Document
from ventanilla.testing import media
from ventanilla.testing.factories import submission_fields, submission_files
from ventanilla.workdays.selectors import ECUADOR

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases"


def _stored_files() -> list[Path]:
    root = Path(settings.PRIVATE_STORAGE_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file())


def _post(client, fields: dict, files: dict):
    return client.post(URL, {**fields, **files})


def _refused(client, fields: dict, files: dict) -> dict[str, list[str]]:
    """Post, check that nothing was kept, and return the field errors."""
    before = _stored_files()
    response = _post(client, fields, files)
    assert response.status_code == 422, response.content
    assert Case.objects.count() == 0
    assert Document.objects.count() == 0
    assert _stored_files() == before
    body = response.json()
    assert set(body) == {"errors"}
    return body["errors"]


def _upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type)


def _fake_pdf() -> bytes:
    return b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def _tomorrow_in_ecuador() -> str:
    return (dt.datetime.now(ECUADOR).date() + dt.timedelta(days=1)).isoformat()


TOMORROW = object()  # resolved when the test runs, not when the module is imported

# (field overrides, file overrides, fields expected in error, a word of the message)
FIELD_REFUSALS = {
    "bad cédula check digit": (
        {"id_number": "1714307104"}, {}, "id_number", "último dígito",
    ),
    "cédula with a letter": ({"id_number": "09234A6784"}, {}, "id_number", "letras"),
    "cédula from province 25": ({"id_number": "2512345678"}, {}, "id_number", "provincia"),
    "bad fingerprint code format": (
        {"fingerprint_code": "E333I2222"}, {}, "fingerprint_code", "código dactilar",
    ),
    "residence in Ecuador": (
        {"residence_country": "EC"}, {}, "residence_country", "fuera del Ecuador",
    ),
    "unknown country": ({"residence_country": "XX"}, {}, "residence_country", "país"),
    "region not of the country": (
        {"residence_region": "Texas"}, {}, "residence_region", "no es un estado o provincia",
    ),
    "bad US postal code": (
        {"residence_country": "US", "residence_region": "US-NJ", "foreign_phone": "+1 201 555 0123",
         "postal_code": "0710"},
        {}, "postal_code", "código postal",
    ),
    "Ecuadorian number as phone abroad": (
        {"foreign_phone": "+593 99 123 4567"}, {}, "foreign_phone", "no uno de Ecuador",
    ),
    "foreign number as Ecuadorian mobile": (
        {"ecuador_mobile": "+34 612 345 678"}, {}, "ecuador_mobile", "celular de Ecuador",
    ),
    "bad email": ({"email": "maria.quispe@"}, {}, "email", "correo electrónico"),
    "future birth date": ({"birth_date": TOMORROW}, {}, "birth_date", "futura"),
}  # fmt: skip

FILE_REFUSALS = {
    "PNG named .jpg": (
        "id_front",
        lambda: _upload("cedula.jpg", media.png_bytes(), "image/jpeg"),
        "imagen PNG",
    ),
    "HTML named .pdf": (
        "request_form",
        lambda: _upload("solicitud.pdf", media.html_bytes(), "application/pdf"),
        "página web",
    ),
    "fake PDF header with garbage": (
        "request_form",
        lambda: _upload("solicitud.pdf", _fake_pdf(), "application/pdf"),
        "dañado",
    ),
    "2.1 MB JPEG selfie": (
        "selfie",
        lambda: _upload("selfie.jpg", media.big_jpeg_bytes(), "image/jpeg"),
        "el máximo es 2 MB",
    ),
    "5.1 MB MP4 video": (
        "video",
        lambda: _upload("autorizacion.mp4", media.big_mp4_bytes(), "video/mp4"),
        "el máximo es 5 MB",
    ),
    "missing video": ("video", lambda: None, "video de autorización"),
    "MP4 without audio": (
        "video",
        lambda: _upload("autorizacion.mp4", media.mp4_bytes(2, with_audio=False), "video/mp4"),
        "no tiene sonido",
    ),
    "WebM named .mp4": (
        "video",
        lambda: _upload("autorizacion.mp4", media.webm_bytes(), "video/mp4"),
        "WebM",
    ),
    "missing back of the ID with a JPEG front": ("id_back", lambda: None, "reverso"),
}


@pytest.mark.parametrize(
    ("overrides", "file_overrides", "field", "word"),
    list(FIELD_REFUSALS.values()),
    ids=list(FIELD_REFUSALS),
)
def test_a_wrong_field_is_refused_on_that_field(client, overrides, file_overrides, field, word):
    overrides = {k: _tomorrow_in_ecuador() if v is TOMORROW else v for k, v in overrides.items()}
    fields = submission_fields(**overrides)
    errors = _refused(client, fields, submission_files(fields, **file_overrides))
    assert set(errors) == {field}, errors
    assert word in " ".join(errors[field])


@pytest.mark.parametrize(
    ("field", "make_upload", "word"), list(FILE_REFUSALS.values()), ids=list(FILE_REFUSALS)
)
def test_a_wrong_file_is_refused_on_its_field(client, field, make_upload, word):
    fields = submission_fields()
    errors = _refused(client, fields, submission_files(fields, **{field: make_upload()}))
    assert set(errors) == {field}, errors
    assert word in " ".join(errors[field])


def test_a_cedula_needs_the_fingerprint_code_and_the_issue_date(client):
    fields = submission_fields(fingerprint_code="", id_issue_date="")
    errors = _refused(client, fields, submission_files(fields))
    assert set(errors) == {"fingerprint_code", "id_issue_date"}
    assert "código dactilar" in errors["fingerprint_code"][0]
    assert "fecha de expedición" in errors["id_issue_date"][0]


def test_several_mistakes_are_all_reported_at_once(client):
    fields = submission_fields(id_number="1714307104", email="no-es-un-correo")
    files = submission_files(
        fields, id_front=_upload("cedula.jpg", media.png_bytes(), "image/jpeg"), video=None
    )
    errors = _refused(client, fields, files)
    assert set(errors) >= {"id_number", "email", "id_front", "video"}
    assert "último dígito" in errors["id_number"][0]
    assert "correo" in errors["email"][0]
    assert "PNG" in errors["id_front"][0]
    assert "video" in errors["video"][0]


def test_one_pdf_with_both_sides_needs_no_back(client):
    fields = submission_fields()
    both_sides = _upload(
        "cedula.pdf", media.pdf_bytes(["ANVERSO Y REVERSO"], pages=2), "application/pdf"
    )
    before = len(_stored_files())
    response = _post(client, fields, submission_files(fields, id_front=both_sides, id_back=None))
    assert response.status_code == 201, response.content
    assert len(_stored_files()) == before + 4
    case = Case.objects.get(number=response.json()["number"])
    assert sorted(case.documents.values_list("kind", flat=True)) == [
        "id_front", "request_form", "selfie", "video",
    ]  # fmt: skip


def test_a_one_page_pdf_front_still_needs_the_back(client):
    fields = submission_fields()
    one_side = _upload("cedula.pdf", media.pdf_bytes(["ANVERSO"], pages=1), "application/pdf")
    errors = _refused(client, fields, submission_files(fields, id_front=one_side, id_back=None))
    assert set(errors) == {"id_back"}


def test_a_passport_needs_no_fingerprint_code(client):
    fields = submission_fields(
        id_type="passport", id_number="AB123456", fingerprint_code="", id_issue_date=""
    )
    response = _post(client, fields, submission_files(fields))
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert (case.id_type, case.id_number) == ("passport", "AB123456")
    assert case.fingerprint_code == ""
    assert case.id_issue_date is None


def test_the_region_message_names_the_country_in_spanish(client):
    fields = submission_fields(residence_region="Texas")
    errors = _refused(client, fields, submission_files(fields))
    assert "España" in errors["residence_region"][0]
