"""Every view or download of a person's files, by staff or by the citizen, is one audit
event that says who, when, which file of which case, and from where (address, browser,
request id); the auditor finds them all by searching."""

import csv
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from ventanilla.audit.models import AuditEvent
from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.cases.services import case_mark_checked
from ventanilla.checks.constants import CheckName
from ventanilla.checks.models import CheckAttachment, CheckResult
from ventanilla.portal.request_steps import STEPS
from ventanilla.testing import media
from ventanilla.testing.factories import (
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login

pytestmark = pytest.mark.django_db

FROM = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux) Firefox/140.0"}
AUDIT = "/gestion/auditoria/"
ECUADOR = ZoneInfo("America/Guayaquil")


@pytest.fixture
def case():
    fields = submission_fields(0)
    case = submit_request(fields, submission_files(fields))
    documents_scan(case)  # the checks' antivirus: staff may open the files
    case = case_mark_checked(case_id=case.pk)
    # A face crop as the face-match check leaves it (the check itself is tested in checks/).
    result = CheckResult.objects.create(
        case=case, name=CheckName.FACE_MATCH, outcome="pass", summary="El rostro coincide."
    )
    crop = CheckAttachment(result=result, name="selfie")
    crop.file.save("selfie.jpg", ContentFile(media.jpeg_bytes(text="ROSTRO")), save=True)
    return case


def _get(client, url):
    """GET from the test address and browser, reading the whole body as a browser would."""
    response = client.get(url, **FROM)
    assert response.status_code == 200, url
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body
    return response


def _only_new_event(before: int, response, *, citizen: bool = False) -> AuditEvent:
    [event] = AuditEvent.objects.filter(pk__gt=before)
    if citizen:
        # A citizen's address and browser are not kept (minimisation); the request id is.
        assert (event.ip, event.user_agent) == (None, "")
    else:
        assert event.ip == FROM["REMOTE_ADDR"]
        assert event.user_agent == FROM["HTTP_USER_AGENT"]
    assert event.request_id == response["X-Request-ID"] and len(event.request_id) == 32
    return event


def _link(client, user, case, obj, *, still=False) -> str:
    """The short-lived link the case page gives this user in this client's session."""
    binding = session_binding(client.session.session_key)
    return file_url(case=case, obj=obj, user=user, binding=binding, still=still)


def _last_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_every_staff_view_of_a_file_is_one_event_with_where_it_came_from(client, case, analyst):
    crop = CheckAttachment.objects.get(result__case=case)
    video = case.documents.get(kind="video")
    staff_login(client, analyst)
    # (address, action, object, what the event says of the file)
    endpoints = [
        (
            _link(client, analyst, case, doc),
            "document.viewed",
            doc,
            {"kind": doc.kind, "version": doc.version, "sha256": doc.sha256},
        )
        for doc in case.documents.order_by("pk")
    ]
    endpoints += [
        (
            _link(client, analyst, case, video, still=True),
            "document.viewed",
            video,
            {"kind": "video", "sha256": video.sha256},
        ),
        (
            _link(client, analyst, case, crop),
            "check_evidence.viewed",
            crop,
            {"check": CheckName.FACE_MATCH, "name": "selfie"},
        ),
    ]
    assert len(endpoints) == 7  # five documents, a still of the video, a face crop

    for url, action, obj, says in endpoints:
        before = _last_pk()
        event = _only_new_event(before, _get(client, url))
        assert (event.action, event.actor, event.case) == (action, analyst, case), url
        assert (event.object_type, event.object_id) == (obj._meta.label_lower, str(obj.pk))
        assert says.items() <= event.new_value.items(), url


def _step(slug: str) -> str:
    return reverse("portal:request_step", args=[slug])


def test_every_citizen_view_of_a_file_is_one_event_without_their_address(client):
    fields = submission_fields(1)
    files = submission_files(fields)
    for step in STEPS[:3]:  # identification, residence, contact
        answers = {name: fields.get(name, "") for name in step.answer_fields}
        assert client.post(_step(step.slug), {**answers, "action": "continue"}).status_code == 302
    documents = {"id_front": files["id_front"], "id_back": files["id_back"]}
    assert client.post(_step("documento"), {**documents, "action": "continue"}).status_code == 302

    for kind in ("id_front", "id_back"):
        before = _last_pk()
        response = _get(client, reverse("portal:request_file", args=[kind]))
        event = _only_new_event(before, response, citizen=True)
        assert (event.action, event.actor_label, event.actor, event.case) == (
            "draft_file.viewed",
            "citizen",
            None,
            None,
        )
        assert event.object_type == "drafts.draftfile"
        assert event.new_value["kind"] == kind and len(event.new_value["sha256"]) == 64

    before = _last_pk()
    response = _get(client, reverse("portal:request_form_download"))
    event = _only_new_event(before, response, citizen=True)
    assert (event.action, event.actor_label) == ("request_form.downloaded", "citizen")
    assert event.object_type == "drafts.requestdraft"
    assert event.new_value["kind"] == "request_form"

    # Nothing is recorded for a file that is not served.
    before = _last_pk()
    assert client.get(reverse("portal:request_file", args=["selfie"]), **FROM).status_code == 404
    assert _last_pk() == before


def test_a_refused_view_of_a_file_is_not_recorded_as_a_view(client, case, outsider):
    doc = case.documents.get(kind="selfie")
    staff_login(client, outsider)
    before = _last_pk()
    url = _link(client, outsider, case, doc)
    assert client.get(url, **FROM).status_code == 403
    assert not AuditEvent.objects.filter(pk__gt=before, action="document.viewed").exists()


def _rows(html: str) -> list[str]:
    table = html.split('id="audit-results"')[1].split("</table>")[0]
    return [chunk.split("</tr>")[0] for chunk in table.split("<tr data-event=")[1:]]


def test_the_auditor_finds_every_view_of_one_file_with_who_when_and_from_where(
    client, case, analyst, supervisor, auditor
):
    selfie = case.documents.get(kind="selfie")
    views = [
        (analyst, "198.51.100.20", "Mozilla/5.0 Firefox/140.0"),
        (supervisor, "2001:db8::5", "Mozilla/5.0 (Macintosh) Safari/605.1.15"),
    ]
    for user, address, browser in views:
        client.logout()
        staff_login(client, user)
        url = _link(client, user, case, selfie)
        response = client.get(url, REMOTE_ADDR=address, HTTP_USER_AGENT=browser)
        response.getvalue()
    client.get(reverse("backoffice:case", args=[case.number]))  # a case view, not a file view

    client.logout()
    staff_login(client, auditor)
    html = client.get(
        AUDIT, {"tramite": case.number, "accion": "document.viewed"}, **FROM
    ).content.decode()
    rows = _rows(html)
    assert len(rows) == 2
    # Newest first: the supervisor's view, then the analyst's; each with when and from where.
    recorded = AuditEvent.objects.filter(action="document.viewed").order_by("-at", "-pk")
    for row, event, (user, address, browser) in zip(rows, recorded, reversed(views), strict=True):
        assert user.username in row and address in row and browser in row
        assert f"Archivo del trámite {selfie.pk}" in row
        assert f"<td>{event.at.astimezone(ECUADOR):%Y-%m-%d %H:%M:%S}</td>" in row

    # Narrowed to one address.
    by_address = _rows(client.get(AUDIT, {"ip": "198.51.100.20"}).content.decode())
    assert len(by_address) == 1 and analyst.username in by_address[0]
    # An address written in a longer IPv6 form finds the same events.
    by_ipv6 = _rows(client.get(AUDIT, {"ip": "2001:0db8:0:0:0:0:0:5"}).content.decode())
    assert len(by_ipv6) == 1 and supervisor.username in by_ipv6[0]

    # The export has the address, the browser and the request id of each view.
    export = client.get(
        "/gestion/auditoria/exportar/", {"tramite": case.number, "accion": "document.viewed"}
    )
    header, *lines = list(
        csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")))
    )
    ip, browser, request = (
        header.index(name) for name in ("Dirección IP", "Navegador (User-Agent)", "Solicitud")
    )
    assert [(line[ip], line[browser]) for line in lines] == [
        (address, agent) for _user, address, agent in reversed(views)
    ]
    ids = [line[request] for line in lines]
    assert len(set(ids)) == 2 and all(len(value) == 32 for value in ids)
    # The row links to every event of its request; the id is searched in any case.
    [same_request] = _rows(client.get(AUDIT, {"solicitud": ids[1].upper()}).content.decode())
    assert analyst.username in same_request and f"?solicitud={ids[1]}" in same_request


def test_a_bad_address_in_the_search_says_how_to_write_it(client, auditor):
    staff_login(client, auditor)
    html = client.get(AUDIT, {"ip": "203.0.113.0/24"}).content.decode()
    assert "Escriba una sola dirección IP completa" in html
    assert 'id="audit-results"' not in html
