"""Who may see and do what, on every back-office page and every staff API endpoint.

Personas: an anonymous visitor, a signed-in outsider with no IESS role, an auditor
(reads everything, changes nothing), an analyst and a supervisor (read and act).
A refused request changes nothing: no status, no timeline row, no audit event, no
email, no appointment.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.files.storage import default_storage
from django.utils import timezone

from ventanilla.appointments.models import Appointment
from ventanilla.audit.models import AuditEvent
from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.cases import services
from ventanilla.cases.models import Case, CaseTransition, CorrectionRequest
from ventanilla.documents.models import Document
from ventanilla.documents.viewing import viewable_copy
from ventanilla.notifications.models import OutboundEmail
from ventanilla.registry.models import InsuredPerson
from ventanilla.staff.services import api_token_create
from ventanilla.testing.factories import (
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login, totp_device_for

pytestmark = pytest.mark.django_db

ECUADOR = ZoneInfo("America/Guayaquil")
LOGIN = "/gestion/ingresar/"


@dataclass
class World:
    review: Case  # waiting for the analyst's decision
    scheduled: Case  # invited to the video call
    document: Document  # the selfie of `review`
    person: InsuredPerson


def _case(person: int) -> Case:
    fields = submission_fields(person)
    case = submit_request(fields, submission_files(fields))
    # What the worker does in the automated checks: the antivirus, then the end of the run.
    documents_scan(case)
    return services.case_mark_checked(case_id=case.pk)


@pytest.fixture
def world(analyst) -> World:
    person = InsuredPerson.objects.create(
        id_number="0923456784", first_names="María Fernanda", last_names="Quispe Andrade",
        insured_type="afiliado", email="maria.antigua@example.net",
    )  # fmt: skip
    review = _case(0)
    scheduled = _case(1)
    services.case_invite(
        case=scheduled, actor=analyst, starts_at=timezone.now() + dt.timedelta(days=2)
    )
    return World(
        review=review,
        scheduled=Case.objects.get(pk=scheduled.pk),
        document=review.documents.get(kind="selfie"),
        person=person,
    )


def _snapshot(world: World) -> dict:
    return {
        "statuses": list(
            Case.objects.filter(pk__in=[world.review.pk, world.scheduled.pk])
            .order_by("pk")
            .values_list("status", flat=True)
        ),
        "transitions": CaseTransition.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "emails": OutboundEmail.objects.count(),
        "appointments": Appointment.objects.count(),
        "corrections": CorrectionRequest.objects.count(),
    }


def _future_ecuador() -> dt.datetime:
    return (
        (timezone.now() + dt.timedelta(days=3))
        .astimezone(ECUADOR)
        .replace(hour=10, minute=0, second=0, microsecond=0)
    )


# --- the back-office pages ------------------------------------------------------------


def _file_link(w, client=None) -> str:
    """The document's address: with a client signed in, the short-lived link the case page
    gives that staff member in that session (backoffice/file_links.py)."""
    if client is None or SESSION_KEY not in client.session:
        return f"/gestion/tramites/{w.review.number}/archivos/{w.document.pk}/"
    user = get_user_model().objects.get(pk=client.session[SESSION_KEY])
    binding = session_binding(client.session.session_key)
    return file_url(case=w.review, obj=w.document, user=user, binding=binding)


PAGES_READ = {
    "queue": lambda w, c=None: "/gestion/",
    "case page": lambda w, c=None: f"/gestion/tramites/{w.review.number}/",
    "document": _file_link,
    "insured page": lambda w, c=None: f"/gestion/asegurados/{w.person.id_number}/",
}

# name: (url, form data, which case it acts on, the status it leads to)
PAGES_ACT = {
    "request correction": (
        lambda w: f"/gestion/tramites/{w.review.number}/correccion/",
        lambda: {
            "correction-items": ["selfie"],
            "correction-reasons": ["face_not_visible"],
            "correction-message": "Tome la foto sin gorra.",
        },
        "review",
        "correction_requested",
    ),
    "reject": (
        lambda w: f"/gestion/tramites/{w.review.number}/rechazo/",
        lambda: {"reject-reasons": ["amended_form"], "reject-message": "Formulario enmendado."},
        "review",
        "requirements_rejected",
    ),
    "invite": (
        lambda w: f"/gestion/tramites/{w.review.number}/convocatoria/",
        lambda: {
            "invite-date": _future_ecuador().date().isoformat(),
            "invite-time": "10:00",
            "invite-meeting_url": "",
        },
        "review",
        "call_scheduled",
    ),
    "call outcome": (
        lambda w: f"/gestion/tramites/{w.scheduled.number}/videollamada/resultado/",
        lambda: {"call-outcome": "not_validated", "call-notes": "No coincide el rostro."},
        "scheduled",
        "identity_rejected",
    ),
}

ALL_PAGES = [("get", name, url) for name, url in PAGES_READ.items()] + [
    ("post", name, spec[0]) for name, spec in PAGES_ACT.items()
]


def _request(client, method: str, url: str, data: dict | None = None):
    return client.post(url, data or {}) if method == "post" else client.get(url)


@pytest.mark.parametrize(
    ("method", "url"), [(m, u) for m, _, u in ALL_PAGES], ids=[f"{m} {n}" for m, n, _ in ALL_PAGES]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, world, method, url):
    before = _snapshot(world)
    response = _request(client, method, url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert _snapshot(world) == before


@pytest.mark.parametrize(
    ("method", "url"), [(m, u) for m, _, u in ALL_PAGES], ids=[f"{m} {n}" for m, n, _ in ALL_PAGES]
)
def test_a_signed_in_outsider_is_refused(client, world, outsider, method, url):
    staff_login(client, outsider)
    before = _snapshot(world)
    response = _request(client, method, url(world))
    assert response.status_code == 403
    assert _snapshot(world) == before


@pytest.mark.parametrize("persona", ["auditor", "analyst", "supervisor"])
@pytest.mark.parametrize("url", list(PAGES_READ.values()), ids=list(PAGES_READ))
def test_staff_may_read_every_page(client, world, request, persona, url):
    staff_login(client, request.getfixturevalue(persona))
    response = client.get(url(world, client))
    assert response.status_code == 200


@pytest.mark.parametrize(("url", "data", "target", "_"), PAGES_ACT.values(), ids=list(PAGES_ACT))
def test_an_auditor_cannot_act_on_a_page(client, world, auditor, url, data, target, _):
    staff_login(client, auditor)
    before = _snapshot(world)
    response = client.post(url(world), data())
    assert response.status_code == 403
    assert _snapshot(world) == before


@pytest.mark.parametrize("persona", ["analyst", "supervisor"])
@pytest.mark.parametrize(
    ("url", "data", "target", "reached"), PAGES_ACT.values(), ids=list(PAGES_ACT)
)
def test_analysts_and_supervisors_act_on_the_page(
    client, world, request, persona, url, data, target, reached
):
    user = request.getfixturevalue(persona)
    staff_login(client, user)
    case = getattr(world, target)
    response = client.post(url(world), data())
    assert response.status_code == 302
    assert response["Location"] == f"/gestion/tramites/{case.number}/"
    case.refresh_from_db()
    assert case.status == reached
    assert case.transitions.latest("id").actor == user


# --- the staff API --------------------------------------------------------------------

API_READ = {
    "queue": lambda w: "/api/v1/staff/cases",
    "case": lambda w: f"/api/v1/staff/cases/{w.review.number}",
    "insured": lambda w: f"/api/v1/staff/insured/{w.person.id_number}",
}

API_ACT = {
    "correction": (
        lambda w: f"/api/v1/staff/cases/{w.review.number}/correction",
        lambda: {"items": ["selfie"], "reasons": ["face_not_visible"], "message": "Sin gorra."},
        "review",
        "correction_requested",
    ),
    "reject": (
        lambda w: f"/api/v1/staff/cases/{w.review.number}/reject",
        lambda: {"reasons": ["amended_form"], "message": "Formulario enmendado."},
        "review",
        "requirements_rejected",
    ),
    "invite": (
        lambda w: f"/api/v1/staff/cases/{w.review.number}/invite",
        lambda: {"starts_at": _future_ecuador().isoformat()},
        "review",
        "call_scheduled",
    ),
    "call outcome": (
        lambda w: f"/api/v1/staff/cases/{w.scheduled.number}/call-outcome",
        lambda: {"identity_validated": False, "notes": "No coincide el rostro."},
        "scheduled",
        "identity_rejected",
    ),
}

ALL_API = [("get", name, url, None) for name, url in API_READ.items()] + [
    ("post", name, spec[0], spec[1]) for name, spec in API_ACT.items()
]


def _api(client, method: str, url: str, data=None, headers=None):
    if method == "post":
        return client.post(url, data or {}, content_type="application/json", headers=headers or {})
    return client.get(url, headers=headers or {})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _token_for(user) -> str:
    totp_device_for(user)  # only staff with a second factor get a token
    return api_token_create(user=user)


@pytest.mark.parametrize(
    "headers",
    [{}, _bearer("vv_esto-no-es-un-token"), {"Authorization": "Basic YW5hOmNsYXZl"}],
    ids=["no token", "invalid token", "not a bearer token"],
)
@pytest.mark.parametrize(
    ("method", "url", "data"),
    [(m, u, d) for m, _, u, d in ALL_API],
    ids=[f"{m} {n}" for m, n, _, _ in ALL_API],
)
def test_the_api_refuses_requests_without_a_valid_token(client, world, headers, method, url, data):
    before = _snapshot(world)
    response = _api(client, method, url(world), data() if data else None, headers)
    assert response.status_code == 401
    assert "María" not in response.content.decode()
    assert _snapshot(world) == before


def test_an_outsider_cannot_get_an_api_token(outsider):
    with pytest.raises(PermissionError):
        api_token_create(user=outsider)
    assert not outsider.api_tokens.exists()


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [(m, u, d) for m, _, u, d in ALL_API],
    ids=[f"{m} {n}" for m, n, _, _ in ALL_API],
)
def test_a_token_stops_working_when_its_owner_loses_the_staff_role(
    client, world, analyst, method, url, data
):
    totp_device_for(analyst)
    token = api_token_create(user=analyst)
    analyst.groups.clear()
    before = _snapshot(world)
    response = _api(client, method, url(world), data() if data else None, _bearer(token))
    assert response.status_code == 401
    assert _snapshot(world) == before


@pytest.mark.parametrize("persona", ["auditor", "analyst", "supervisor"])
@pytest.mark.parametrize("url", list(API_READ.values()), ids=list(API_READ))
def test_staff_may_read_through_the_api(client, world, request, persona, url):
    token = _token_for(request.getfixturevalue(persona))
    response = client.get(url(world), headers=_bearer(token))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("url", "data", "target", "_"), API_ACT.values(), ids=list(API_ACT))
def test_an_auditor_cannot_act_through_the_api(client, world, auditor, url, data, target, _):
    token = _token_for(auditor)
    before = _snapshot(world)
    response = client.post(
        url(world), data(), content_type="application/json", headers=_bearer(token)
    )
    assert response.status_code == 403
    assert "rol" in response.json()["detail"]
    assert _snapshot(world) == before


@pytest.mark.parametrize("persona", ["analyst", "supervisor"])
@pytest.mark.parametrize(("url", "data", "target", "reached"), API_ACT.values(), ids=list(API_ACT))
def test_analysts_and_supervisors_act_through_the_api(
    client, world, request, persona, url, data, target, reached
):
    user = request.getfixturevalue(persona)
    token = _token_for(user)
    response = client.post(
        url(world), data(), content_type="application/json", headers=_bearer(token)
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == reached
    case = getattr(world, target)
    case.refresh_from_db()
    assert case.status == reached
    assert case.transitions.latest("id").actor == user


# --- viewing a file -------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["auditor", "analyst", "supervisor"])
def test_a_staff_file_view_serves_the_copy_without_metadata_and_is_audited(
    client, world, request, persona
):
    user = request.getfixturevalue(persona)
    staff_login(client, user)
    document = world.document
    with default_storage.open(document.file.name, "rb") as stored:
        stored_bytes = stored.read()
    expected, _ = viewable_copy(document)

    response = client.get(PAGES_READ["document"](world, client))

    assert response.status_code == 200
    assert response.getvalue() == expected
    assert document.sha256 and len(stored_bytes) == document.size
    assert response["Content-Type"] == document.content_type == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="document.viewed")
    assert event.actor == user
    assert event.case == world.review
    assert event.object_id == str(document.pk)
    assert event.new_value["kind"] == "selfie"


@pytest.mark.parametrize("persona", ["anonymous", "outsider"])
def test_a_refused_file_view_returns_no_bytes_and_is_not_audited(client, world, request, persona):
    if persona == "outsider":
        staff_login(client, request.getfixturevalue("outsider"))
    with default_storage.open(world.document.file.name, "rb") as stored:
        secret = stored.read()

    response = client.get(PAGES_READ["document"](world, client))

    assert response.status_code in (302, 403)
    assert not getattr(response, "streaming", False)
    assert secret[:64] not in response.content
    assert not AuditEvent.objects.filter(action="document.viewed").exists()


def test_a_file_is_only_served_under_its_own_case(client, world, analyst):
    staff_login(client, analyst)
    # A valid link for the document, under another case's address.
    binding = session_binding(client.session.session_key)
    response = client.get(
        file_url(case=world.scheduled, obj=world.document, user=analyst, binding=binding)
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="document.viewed").exists()
