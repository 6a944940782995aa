"""The hostile-input corpus through the guided request's upload pages and answer pages
(docs/security.md, E): each refused with the page's Spanish error (422, never 500), and
nothing kept: no draft file row, no file in private storage."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ventanilla.api.tests.test_hostile_inputs import FILES, SQL, XSS
from ventanilla.drafts.models import DraftFile
from ventanilla.portal.request_steps import STEPS
from ventanilla.testing import media
from ventanilla.testing.factories import submission_fields

pytestmark = pytest.mark.django_db

# The page where each file is asked for.
PAGE_OF = {
    "id_front": "documento",
    "id_back": "documento",
    "selfie": "fotografia",
    "request_form": "solicitud",
    "video": "video",
}


def _step_url(slug: str) -> str:
    return reverse("portal:request_step", args=[slug])


def _answers(fields: dict, slug: str) -> dict:
    step = next(s for s in STEPS if s.slug == slug)
    return {name: fields.get(name, "") for name in step.answer_fields}


def _stored_files() -> list[Path]:
    return sorted(p for p in Path(settings.PRIVATE_STORAGE_DIR).rglob("*") if p.is_file())


def _start(client) -> None:
    fields = submission_fields()
    for slug in ("identificacion", "residencia", "contacto"):
        response = client.post(_step_url(slug), {**_answers(fields, slug), "action": "continue"})
        assert response.status_code == 302, response.content.decode()[:2000]


# The video page converts recordings: a polyglot MP4 is refused there too, but is covered
# by the API corpus; a few representative files per page are enough here.
PORTAL_FILES = {
    key: FILES[key]
    for key in (
        "PNG named .jpg",
        "HTML named .jpg",
        "JPEG + ZIP polyglot",
        "JPEG + PDF polyglot",
        "PDF with HTML before its header",
        "decompression bomb JPEG",
        "PDF with JavaScript",
        "PDF with an embedded file",
    )
}


@pytest.mark.parametrize("case", PORTAL_FILES.values(), ids=PORTAL_FILES.keys())
def test_hostile_upload_on_its_page_is_refused_and_nothing_kept(client, case):
    field, make, words = case
    _start(client)
    before = _stored_files()

    response = client.post(_step_url(PAGE_OF[field]), {field: make(), "action": "continue"})

    assert response.status_code == 422
    assert words in response.content.decode()
    assert not DraftFile.objects.exists()
    assert _stored_files() == before


def test_traversal_file_name_is_kept_only_as_a_label(client):
    _start(client)
    upload = SimpleUploadedFile("../../../etc/passwd.jpg", media.jpeg_bytes(), "image/jpeg")

    client.post(_step_url("fotografia"), {"selfie": upload, "action": "continue"})

    kept = DraftFile.objects.get(kind="selfie")
    root = Path(settings.PRIVATE_STORAGE_DIR).resolve()
    assert (root / kept.file.name).resolve().is_relative_to(root)
    assert ".." not in kept.file.name and "passwd" not in kept.file.name


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("first_names", XSS, "solo con letras"),
        ("last_names", SQL, "solo con letras"),
        ("id_number", "1' OR '1'='1", "letras"),
    ],
)
def test_hostile_answer_is_refused_on_the_page(client, field, value, words):
    fields = submission_fields(**{field: value})
    response = client.post(
        _step_url("identificacion"), {**_answers(fields, "identificacion"), "action": "continue"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert words in page
    assert XSS not in page
