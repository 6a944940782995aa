"""The guided request page by page, without JavaScript (Django's test client): answers
kept between pages, files kept and shown back, a WebM recording converted to an MP4 of
at most 5 MB, the request form downloaded with the person's data, "continue later" by a
single-use email link, and the submission through the one intake."""

import datetime as dt
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from ventanilla.cases.models import Case
from ventanilla.documents.constants import MAX_BYTES, DocumentKind
from ventanilla.documents.models import Document
from ventanilla.drafts.models import DraftFile, RequestDraft
from ventanilla.drafts.services import drafts_purge_expired
from ventanilla.notifications.models import OutboundEmail
from ventanilla.portal.request_steps import STEPS
from ventanilla.testing import media
from ventanilla.testing.factories import submission_fields, submission_files

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"VV-\d{4}-\d{6}-[0-9A-Z]")


def _step_url(slug: str) -> str:
    return reverse("portal:request_step", args=[slug])


def _answers(fields: dict, slug: str) -> dict:
    step = next(s for s in STEPS if s.slug == slug)
    return {name: fields.get(name, "") for name in step.answer_fields}


def _fresh_files(fields: dict) -> dict:
    return submission_files(fields)


def _fill_answers(client, fields: dict) -> None:
    for slug in ("identificacion", "residencia", "contacto"):
        response = client.post(_step_url(slug), {**_answers(fields, slug), "action": "continue"})
        assert response.status_code == 302, response.content.decode()[:2000]


def _fill_files(client, files: dict) -> None:
    for slug, kinds in (
        ("documento", ("id_front", "id_back")),
        ("fotografia", ("selfie",)),
        ("solicitud", ("request_form",)),
        ("video", ("video",)),
    ):
        response = client.post(
            _step_url(slug), {"action": "continue", **{k: files[k] for k in kinds}}
        )
        assert response.status_code == 302, response.content.decode()[:2000]


def test_a_person_completes_the_request_page_by_page(client):
    fields = submission_fields()
    # Page 1 refuses a wrong cédula with the intake's Spanish message, keeping the rest.
    wrong = {**_answers(fields, "identificacion"), "id_number": "1710034066", "action": "continue"}
    response = client.post(_step_url("identificacion"), wrong)
    assert response.status_code == 422
    page = response.content.decode()
    assert "error-summary" in page and "cédula" in page
    assert fields["first_names"] in page  # nothing typed is lost
    assert not RequestDraft.objects.exists()

    _fill_answers(client, fields)
    draft = RequestDraft.objects.get()
    assert draft.answers["email"] == fields["email"]
    assert draft.completed_steps == ["identificacion", "residencia", "contacto"]
    # Going back shows the answers again.
    assert fields["residence_city"] in client.get(_step_url("residencia")).content.decode()

    _fill_files(client, _fresh_files(fields))
    assert DraftFile.objects.filter(draft=draft).count() == 5

    review = client.get(reverse("portal:request_review"))
    assert review.status_code == 200
    text = review.content.decode()
    assert fields["last_names"] in text and "cedula-frente.jpg" in text
    # Without the declaration, nothing is sent.
    assert client.post(reverse("portal:request_review"), {}).status_code == 422
    assert not Case.objects.exists()

    response = client.post(reverse("portal:request_review"), {"declaration": "on"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.email == fields["email"] and case.last_names == fields["last_names"]
    assert case.documents.filter(is_current=True).count() == 5
    received = client.get(response["Location"]).content.decode()
    assert case.number in received
    # The draft and its files are gone; the case keeps its own copies.
    assert not RequestDraft.objects.exists() and not DraftFile.objects.exists()
    assert all(default_storage.exists(d.file.name) for d in Document.objects.all())
    assert OutboundEmail.objects.filter(template="case_received", case=case).exists()


def test_later_pages_need_a_request_in_progress(client):
    response = client.get(_step_url("documento"))
    assert response.status_code == 410
    assert "No encontramos una solicitud en curso" in response.content.decode()


def test_a_file_kept_on_a_page_need_not_be_uploaded_again(client):
    fields = submission_fields()
    _fill_answers(client, fields)
    files = _fresh_files(fields)
    client.post(
        _step_url("documento"), {"id_front": files["id_front"], "id_back": files["id_back"]}
    )
    page = client.get(_step_url("documento")).content.decode()
    assert "archivo guardado" in page and "cedula-frente.jpg" in page
    # Continuing without choosing files again keeps them.
    assert client.post(_step_url("documento"), {"action": "continue"}).status_code == 302
    # A PNG named .jpg is refused with the intake's message; the kept JPEG stays.
    png = SimpleUploadedFile("foto.jpg", media.png_bytes(), "image/jpeg")
    response = client.post(_step_url("documento"), {"id_front": png, "action": "continue"})
    assert response.status_code == 422
    assert "PNG" in response.content.decode()
    assert DraftFile.objects.get(kind="id_front").original_name == "cedula-frente.jpg"


def test_a_browser_recording_is_converted_and_shown_before_going_on(client):
    fields = submission_fields()
    _fill_answers(client, fields)
    webm = media.webm_bytes(seconds=3)
    upload = SimpleUploadedFile("grabacion.webm", webm, "video/webm")
    response = client.post(_step_url("video"), {"video": upload, "action": "continue"})
    assert response.status_code == 302 and "convertido=1" in response["Location"]
    kept = DraftFile.objects.get(kind=DocumentKind.VIDEO)
    assert kept.format == "mp4" and kept.size <= MAX_BYTES[DocumentKind.VIDEO]
    assert kept.conversion["from_format"] == "matroska,webm"
    page = client.get(response["Location"]).content.decode()
    assert "Convertimos su video" in page and reverse("portal:request_file", args=["video"]) in page
    served = client.get(reverse("portal:request_file", args=["video"]))
    assert served["Content-Type"] == "video/mp4"
    assert b"".join(served.streaming_content)[4:8] == b"ftyp"


def test_an_mp4_over_five_megabytes_is_converted_not_refused(client):
    fields = submission_fields()
    _fill_answers(client, fields)
    big = media.big_mp4_bytes()
    assert len(big) > MAX_BYTES[DocumentKind.VIDEO]
    upload = SimpleUploadedFile("video-largo.mp4", big, "video/mp4")
    response = client.post(_step_url("video"), {"video": upload, "action": "continue"})
    assert response.status_code == 302
    assert DraftFile.objects.get(kind="video").size <= MAX_BYTES[DocumentKind.VIDEO]


def test_the_request_form_pdf_carries_the_answers(client):
    fields = submission_fields()
    # Before the answers exist, the page says what to complete first.
    client.post(_step_url("identificacion"), _answers(fields, "identificacion"))
    page = client.get(_step_url("solicitud")).content.decode()
    assert "Primero complete sus datos" in page
    for slug in ("residencia", "contacto"):
        client.post(_step_url(slug), _answers(fields, slug))
    response = client.get(reverse("portal:request_form_download"))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for name in ("id_number", "first_names", "last_names", "postal_code", "email"):
        assert fields[name] in text, name
    assert "APARTADO 3" in text.upper()


def test_save_and_continue_later_by_a_single_use_link(client):
    fields = submission_fields()
    client.post(_step_url("identificacion"), _answers(fields, "identificacion"))
    # "Save and continue later" keeps even an unfinished page.
    unfinished = {**_answers(fields, "residencia"), "postal_code": "", "action": "save"}
    response = client.post(_step_url("residencia"), unfinished)
    assert response.status_code == 302 and response["Location"] == reverse("portal:request_save")
    response = client.post(reverse("portal:request_save"), {"email": "Persona@Example.ORG"})
    assert "persona@example.org" in response.content.decode()
    email = OutboundEmail.objects.get(template="draft_resume")
    assert email.to == "persona@example.org"
    link = re.search(r"http://\S+/tramite/continuar/\S+/", email.body_text).group(0)
    path = link.split("//", 1)[1].split("/", 1)[1]
    # This browser no longer holds the draft; another device opens the link.
    assert client.get(_step_url("residencia")).status_code == 410
    other = client.__class__()
    assert other.get("/" + path).status_code == 200  # a mail scanner's GET changes nothing
    response = other.post("/" + path)
    assert response.status_code == 302 and response["Location"] == _step_url("residencia")
    page = other.get(response["Location"]).content.decode()
    assert fields["residence_city"] in page
    # Used once: a second opening is refused.
    assert client.post("/" + path).status_code == 404


def test_expired_drafts_are_deleted_with_their_files(client, django_capture_on_commit_callbacks):
    fields = submission_fields()
    _fill_answers(client, fields)
    files = _fresh_files(fields)
    client.post(_step_url("fotografia"), {"selfie": files["selfie"]})
    kept = DraftFile.objects.get()
    assert default_storage.exists(kept.file.name)
    RequestDraft.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_purge_expired() == 1
    assert not RequestDraft.objects.exists()
    assert not default_storage.exists(kept.file.name)


def test_the_page_is_in_english_when_chosen(client):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": _step_url("identificacion")}
    )
    assert response.status_code == 302
    page = client.get(_step_url("identificacion")).content.decode()
    assert '<html lang="en">' in page
    assert "Your identification" in page
