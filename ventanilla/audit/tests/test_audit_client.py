"""Where an audit event comes from: the client's address (X-Forwarded-For only behind as
many proxies as TRUSTED_PROXIES says), the browser and one id per request, filled in
for every event written while serving a request and left empty for background work."""

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import RequestFactory

from ventanilla.audit.client import client_ip, current_client, user_agent
from ventanilla.audit.models import AuditEvent
from ventanilla.audit.services import audit_log
from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.cases.services import case_mark_checked, client_ref_for
from ventanilla.testing.factories import (
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No proxy: the header is the client's own words.
        (0, "203.0.113.7", "198.51.100.9", "203.0.113.7"),
        (0, "203.0.113.7", "", "203.0.113.7"),
        # One proxy: the address it saw, the right-most; whatever the client wrote left of it is ignored.
        (1, "10.0.0.2", "198.51.100.9", "198.51.100.9"),
        (1, "10.0.0.2", "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        # Two proxies: the first one's view of the client, second from the right.
        (2, "10.0.0.2", "6.6.6.6, 198.51.100.9, 10.0.0.1", "198.51.100.9"),
        # A header too short for the proxies configured, or not an address: the connection's.
        (2, "10.0.0.2", "198.51.100.9", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", "unknown", "10.0.0.2"),
        (1, "10.0.0.2", "2001:DB8:0::9", "2001:db8::9"),
        # No usable connection address at all (a Unix socket): nothing, not a wrong one.
        (0, "", "198.51.100.9", None),
    ],
)
def test_the_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_browser_is_cut_to_the_column_and_kept_printable():
    request = RequestFactory().get("/", HTTP_USER_AGENT="Navegador\x00\x1b[31m/1.0 " + "x" * 400)
    agent = user_agent(request)
    assert agent.startswith("Navegador[31m/1.0 x") and len(agent) == 300


@pytest.fixture
def case():
    fields = submission_fields(0)
    case = submit_request(fields, submission_files(fields))
    documents_scan(case)  # the checks' antivirus: staff may open the files
    return case_mark_checked(case_id=case.pk)


def _document_view(client, case, **meta) -> AuditEvent:
    doc = case.documents.get(kind="selfie")
    # The short-lived link the case page gives the signed-in staff member.
    user = get_user_model().objects.get(pk=client.session[SESSION_KEY])
    binding = session_binding(client.session.session_key)
    response = client.get(file_url(case=case, obj=doc, user=user, binding=binding), **meta)
    assert response.status_code == 200
    response.getvalue()
    return AuditEvent.objects.filter(action="document.viewed").latest("pk")


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client, settings, case, analyst):
    settings.TRUSTED_PROXIES = 0
    staff_login(client, analyst)
    event = _document_view(
        client, case, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.66"
    )
    assert event.ip == "203.0.113.7"


def test_x_forwarded_for_is_used_behind_one_trusted_proxy(client, settings, case, analyst):
    settings.TRUSTED_PROXIES = 1
    staff_login(client, analyst)
    event = _document_view(
        client,
        case,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.66",  # the first one was typed by the client
    )
    assert event.ip == "198.51.100.66"


def test_a_decision_and_its_transition_share_the_request_and_its_address(client, case, analyst):
    staff_login(client, analyst)
    response = client.post(
        f"/gestion/tramites/{case.number}/rechazo/",
        {"reject-reasons": ["amended_form"], "reject-message": "El formulario está enmendado."},
        REMOTE_ADDR="203.0.113.8",
        HTTP_USER_AGENT="Firefox/140.0",
    )
    assert response.status_code == 302
    events = list(AuditEvent.objects.filter(case=case, actor=analyst))
    assert {e.action for e in events} >= {"case.transition"}
    assert {(e.ip, e.user_agent, e.request_id) for e in events} == {
        ("203.0.113.8", "Firefox/140.0", response["X-Request-ID"])
    }


def test_background_work_records_no_client(case):
    assert current_client.get() is None
    event = audit_log(action="case.checked", case=case, obj=case)
    assert (event.ip, event.user_agent, event.request_id) == (None, "", "")
    # Events of the intake (written by the test, not by a request) have none either.
    assert not AuditEvent.objects.exclude(ip=None).exists()


def test_the_request_context_ends_with_the_request(client, case, analyst):
    staff_login(client, analyst)
    _document_view(client, case, REMOTE_ADDR="203.0.113.7")
    assert current_client.get() is None
    assert audit_log(action="case.checked", case=case).ip is None


def test_sign_ins_record_the_address_in_the_same_columns(client, settings, analyst):
    settings.TRUSTED_PROXIES = 1
    response = client.post(
        "/gestion/ingresar/",
        {"username": analyst.username, "password": "no-es-la-clave"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.77",
        HTTP_USER_AGENT="Firefox/140.0",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="staff.sign_in_failed")
    assert (event.ip, event.user_agent) == ("198.51.100.77", "Firefox/140.0")
    assert event.request_id == response["X-Request-ID"]
    # The values keep the address's pseudonym, computed from the same address.
    assert event.new_value["client_ref"] == client_ref_for("198.51.100.77")
    assert event.new_value["user_agent"] == "Firefox/140.0"
