"""The hostile-input corpus through POST /api/v1/cases (docs/security.md, E).

Every file is made by the test: malformed JPEG/PDF/MP4, formats renamed, polyglots,
oversized files and decompression bombs, PDFs that run or carry something, files the
test ClamAV database flags (stored, then flagged by the checks and never shown to staff);
then hostile text: injection strings in fields with a
format, control characters and over-long text, hostile file names. Each is refused with
a Spanish message on its field (422, never 500) and leaves nothing behind: no case, no
document row, no file in private storage. Free text keeps SQL and HTML verbatim and the
back office shows it escaped.
"""

import html
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ventanilla.audit.models import AuditEvent
from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.cases.models import Case
from ventanilla.checks.constants import CheckName
from ventanilla.checks.models import CheckResult
from ventanilla.checks.services import case_checks_run
from ventanilla.documents.models import Document
from ventanilla.documents.tests.test_upload_hardening import (
    HTML,
    pdf_opening_with_a_launch,
    pdf_with_attachment,
    pdf_with_javascript,
)
from ventanilla.testing import clamav, media
from ventanilla.testing.factories import submission_fields, submission_files
from ventanilla.testing.staff import staff_login

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases"


def _stored_files() -> list[Path]:
    root = Path(settings.PRIVATE_STORAGE_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file())


def _refused(client, fields: dict, files: dict) -> dict[str, list[str]]:
    before = _stored_files()
    response = client.post(URL, {**fields, **files})
    assert response.status_code == 422, response.content
    assert Case.objects.count() == 0
    assert Document.objects.count() == 0
    assert _stored_files() == before
    return response.json()["errors"]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.txt", "x")
    return buffer.getvalue()


def _jpeg(name: str, data: bytes):
    return lambda: SimpleUploadedFile(name, data, "image/jpeg")


def _pdf(name: str, make):
    return lambda: SimpleUploadedFile(name, make(), "application/pdf")


def _mp4(data):
    return lambda: SimpleUploadedFile("autorizacion.mp4", data(), "video/mp4")


# (field, upload, a few words of the message)
FILES = {
    "truncated JPEG": ("id_front", _jpeg("c.jpg", media.jpeg_bytes()[:3000]), "dañado"),
    "malformed PDF": ("request_form", _pdf("s.pdf", media.damaged_pdf_bytes), "dañado"),
    "malformed MP4 (cut in half)": (
        "video",
        _mp4(lambda: media.mp4_bytes(seconds=2)[: len(media.mp4_bytes(seconds=2)) // 2]),
        "incompleto",
    ),
    "PNG named .jpg": ("id_front", _jpeg("c.jpg", media.png_bytes()), "imagen PNG"),
    "HTML named .pdf": ("request_form", _pdf("s.pdf", lambda: HTML), "página web"),
    "HTML named .jpg": ("selfie", _jpeg("s.jpg", HTML), "página web"),
    "JPEG + ZIP polyglot": ("selfie", _jpeg("s.jpg", media.jpeg_bytes() + _zip()), "ZIP"),
    "JPEG + PDF polyglot": (
        "id_back",
        _jpeg("c.jpg", media.jpeg_bytes() + media.pdf_bytes()),
        "PDF",
    ),
    "PDF with HTML before its header": (
        "request_form",
        _pdf("s.pdf", lambda: HTML + media.pdf_bytes()),
        "antes del documento PDF",
    ),
    "MP4 + ZIP polyglot": ("video", _mp4(lambda: media.mp4_bytes(seconds=2) + _zip()), "ZIP"),
    "oversized JPEG": ("selfie", _jpeg("s.jpg", media.big_jpeg_bytes()), "el máximo es 2 MB"),
    "decompression bomb JPEG": (
        "id_front",
        _jpeg("c.jpg", media.jpeg_with_declared_size(30_000, 20_000)),
        "megapíxeles",
    ),
    "PDF with JavaScript": ("request_form", _pdf("s.pdf", pdf_with_javascript), "JavaScript"),
    "PDF launching a program on open": (
        "request_form",
        _pdf("s.pdf", pdf_opening_with_a_launch),
        "al abrirlo",
    ),
    "PDF with an embedded file": ("request_form", _pdf("s.pdf", pdf_with_attachment), "adjuntos"),
}


@pytest.mark.parametrize("case", FILES.values(), ids=FILES.keys())
def test_hostile_file_is_refused_on_its_field_and_nothing_is_kept(client, case):
    field, make, words = case
    fields = submission_fields()
    errors = _refused(client, fields, submission_files(fields, **{field: make()}))
    assert list(errors) == [field]
    assert words in " ".join(errors[field])


@pytest.mark.parametrize(
    "field, make",
    [("selfie", clamav.flagged_jpeg), ("id_front", clamav.jpeg_carrying_eicar)],
    ids=["JPEG the antivirus flags", "JPEG carrying EICAR"],
)
def test_an_infected_photo_is_flagged_by_the_checks_and_never_opened_by_staff(
    client, analyst, field, make
):
    """The intake does not scan (docs/security.md): the file is stored encrypted like any
    other, then the checks' antivirus flags it, and no staff link ever serves it."""
    fields = submission_fields()
    response = client.post(
        URL, {**fields, **submission_files(fields, **{field: _jpeg("s.jpg", make())()})}
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert not case.documents.filter(scanned_at__isnull=False).exists()

    case_checks_run(case_id=case.pk)

    infected = case.documents.get(kind=field)
    result = CheckResult.objects.get(
        case=case, document=infected, name=CheckName.FILE_INTEGRITY, is_current=True
    )
    assert (result.outcome, result.evidence["code"]) == ("fail", "malware")
    assert "virus" in result.summary
    infected.refresh_from_db()
    assert infected.scanned_at is None
    clean = case.documents.exclude(pk=infected.pk)
    assert clean.count() == 4 and not clean.filter(scanned_at__isnull=True).exists()
    # The finding is audited without who sent it.
    event = AuditEvent.objects.get(action="upload.malware_refused")
    assert event.ip is None
    assert fields["id_number"] not in str(event.new_value)

    staff_login(client, analyst)
    binding = session_binding(client.session.session_key)
    refused = client.get(file_url(case=case, obj=infected, user=analyst, binding=binding))
    assert refused.status_code == 409
    assert "no se puede abrir todavía" in html.unescape(refused.content.decode())
    assert AuditEvent.objects.filter(
        action="document.view_refused", object_id=str(infected.pk)
    ).exists()
    served = client.get(file_url(case=case, obj=clean.first(), user=analyst, binding=binding))
    assert served.status_code == 200
    # The case page names the file without a link, and says why.
    page = html.unescape(client.get(f"/gestion/tramites/{case.number}/").content.decode())
    assert "aún no pasó el antivirus" in page
    assert f"/archivos/{infected.pk}/" not in page
    assert f"/archivos/{clean.first().pk}/" in page


SQL = "'; DROP TABLE cases_case; --"
XSS = '<script>alert("x")</script>'

# (field, hostile value, a few words of the message)
TEXT = {
    "SQL in first names": ("first_names", SQL, "solo con letras"),
    "HTML in last names": ("last_names", XSS, "solo con letras"),
    "digits in names": ("first_names", "Mar1a", "solo con letras"),
    "10,000-character names": ("last_names", "A" * 10_000, "menos de 120 caracteres"),
    "SQL in the ID number": ("id_number", "1' OR '1'='1", "letras"),
    "HTML in the fingerprint code": ("fingerprint_code", "<b>E3331</b>", "código dactilar"),
    "SQL in the postal code": ("postal_code", "28001' --", "código postal"),
    "HTML in the phone": ("foreign_phone", XSS, "teléfono"),
    "SQL in the email": ("email", "a@b.es' OR 1=1 --", "correo electrónico"),
    "HTML in the email": ("email", f"{XSS}@example.org", "correo electrónico"),
    "HTML in the city": ("residence_city", XSS, "quite símbolos"),
    "SQL in the sector": ("sector", SQL, "quite símbolos"),
    "NUL in the city": ("residence_city", "Madrid\x00", "nulos"),
    "escape sequence in the message": ("message", "Hola\x1b[2J mundo", "caracteres invisibles"),
    "bidirectional override in the message": (
        "message",
        "Pago a \u202eodalbaT",
        "caracteres invisibles",
    ),
    "over-long message": ("message", "a" * 2001, "menos de 2000 caracteres"),
}


@pytest.mark.parametrize("case", TEXT.values(), ids=TEXT.keys())
def test_hostile_text_is_refused_on_its_field_in_spanish(client, case):
    field, value, words = case
    fields = submission_fields(**{field: value})
    errors = _refused(client, fields, submission_files(fields))
    assert field in errors
    assert words in " ".join(errors[field]), errors[field]


def test_free_text_keeps_sql_and_html_verbatim_and_staff_see_it_escaped(client, analyst):
    message = f"Mis datos: {SQL}\n{XSS}\tgracias & saludos"
    fields = submission_fields(message=message)
    response = client.post(URL, {**fields, **submission_files(fields)})
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.message == message

    staff_login(client, analyst)
    page = client.get(reverse("backoffice:case", args=[case.number])).content.decode()

    assert XSS not in page
    assert html.escape(XSS) in page or "&lt;script&gt;" in page
    assert "DROP TABLE cases_case" in page


HOSTILE_NAMES = {
    "POSIX traversal": "../../../../etc/passwd.jpg",
    "Windows traversal": "..\\..\\..\\x.jpg",
    "control characters": "fo\x1b[31mto\x07.jpg",
    "NUL byte": "selfie\x00.php.jpg",
    "10,000 characters": "a" * 10_000 + ".jpg",
    "absolute path": "/etc/cron.d/selfie.jpg",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_file_names_never_become_paths(client, name):
    fields = submission_fields()
    selfie = SimpleUploadedFile(name, media.jpeg_bytes(text="SELFIE"), "image/jpeg")
    response = client.post(URL, {**fields, **submission_files(fields, selfie=selfie)})
    assert response.status_code == 201, response.content

    document = Document.objects.get(kind="selfie")
    root = Path(settings.PRIVATE_STORAGE_DIR).resolve()
    stored = (root / document.file.name).resolve()
    assert stored.is_relative_to(root / "cases")
    assert stored.name.startswith("selfie-v1-") and stored.suffix == ".jpg"
    assert ".." not in document.file.name and "\\" not in document.file.name
    assert len(document.original_name) <= 255
    # Django's upload parser drops control characters (NUL too) and path parts.
    assert document.original_name.isprintable() and "/" not in document.original_name
    assert all(p.resolve().is_relative_to(root) for p in _stored_files())
