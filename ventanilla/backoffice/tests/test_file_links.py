"""Staff links to files are short-lived and bound to the staff member and their session:
a link copied to another session, another user, or used too late opens nothing, says
why in Spanish, and the refusal is audited (docs/security.md, A)."""

import time

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from ventanilla.api import presenters
from ventanilla.audit.models import AuditEvent
from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.testing.factories import (
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    fields = submission_fields(0)
    case = submit_request(fields, submission_files(fields))
    documents_scan(case)  # the checks' antivirus: staff may open the files
    return case


def _link(client, user, case, obj, **kwargs) -> str:
    binding = session_binding(client.session.session_key)
    return file_url(case=case, obj=obj, user=user, binding=binding, **kwargs)


def _refused(response, case, reason: str, user) -> None:
    assert response.status_code == 403
    assert not getattr(response, "streaming", False)
    page = response.content.decode()
    assert "El enlace al archivo venció" in page
    assert "Vuelva a abrir el trámite" in page
    assert f'data-reason="{reason}"' in page
    assert reverse("backoffice:case", args=[case.number]) in page
    event = AuditEvent.objects.filter(action="file_link.refused").latest("pk")
    assert (event.actor, event.case) == (user, case)
    assert event.new_value["reason"] == reason


def test_the_case_page_links_open_the_file_in_the_same_session(client, analyst, case):
    staff_login(client, analyst)
    page = client.get(reverse("backoffice:case", args=[case.number])).content.decode()
    selfie = case.documents.get(kind="selfie")
    path = reverse("backoffice:document", args=[case.number, selfie.pk])
    token = page.split(f'href="{path}?t=', 1)[1].split('"', 1)[0]
    response = client.get(f"{path}?t={token}")
    assert response.status_code == 200
    assert response.getvalue()[:2] == b"\xff\xd8"
    assert AuditEvent.objects.filter(action="document.viewed", actor=analyst).count() == 1
    assert not AuditEvent.objects.filter(action="file_link.refused").exists()


def test_a_link_from_another_session_of_the_same_person_is_refused(client, analyst, case):
    staff_login(client, analyst)
    selfie = case.documents.get(kind="selfie")
    link = _link(client, analyst, case, selfie)
    other_browser = Client()
    staff_login(other_browser, analyst)
    _refused(other_browser.get(link), case, "other_session", analyst)
    # Signing out and in again starts a new session: the old link is dead there too.
    client.logout()
    staff_login(client, analyst)
    _refused(client.get(link), case, "other_session", analyst)
    assert not AuditEvent.objects.filter(action="document.viewed").exists()


def test_a_link_from_another_user_is_refused(client, analyst, supervisor, case):
    staff_login(client, analyst)
    link = _link(client, analyst, case, case.documents.get(kind="id_front"))
    client.logout()
    staff_login(client, supervisor)
    _refused(client.get(link), case, "other_user", supervisor)


def test_an_expired_link_is_refused(client, analyst, case, settings):
    settings.STAFF_FILE_LINK_SECONDS = 1
    staff_login(client, analyst)
    video = case.documents.get(kind="video")
    link = _link(client, analyst, case, video, still=True)
    time.sleep(2.1)
    _refused(client.get(link), case, "expired", analyst)


def test_a_missing_altered_or_borrowed_token_is_refused(client, analyst, case):
    staff_login(client, analyst)
    selfie, id_back = case.documents.get(kind="selfie"), case.documents.get(kind="id_back")
    path = reverse("backoffice:document", args=[case.number, selfie.pk])
    _refused(client.get(path), case, "missing", analyst)
    link = _link(client, analyst, case, selfie)
    _refused(client.get(link[:-3] + "abc"), case, "invalid", analyst)
    # A valid link of one file does not open another.
    token = link.split("?", 1)[1]
    other = reverse("backoffice:document", args=[case.number, id_back.pk])
    _refused(client.get(f"{other}?{token}"), case, "other_file", analyst)
    assert AuditEvent.objects.filter(action="file_link.refused").count() == 3


def test_the_api_links_are_bound_to_the_tokens_user(client, analyst, supervisor, case):
    api_request = RequestFactory().get("/api/v1/staff/cases/")
    api_request.auth = analyst  # what the API's token authentication sets
    detail = presenters.case_detail(case, request=api_request)
    url = next(d["url"] for d in detail["documents"] if d["kind"] == "selfie")
    assert "?t=" in url

    staff_login(client, analyst)  # any session of that user
    assert client.get(url).status_code == 200
    client.logout()
    staff_login(client, supervisor)
    _refused(client.get(url), case, "other_user", supervisor)
    # The bare address, without the token, is refused.
    bare = url.split("?", 1)[0]
    _refused(client.get(bare), case, "missing", supervisor)
