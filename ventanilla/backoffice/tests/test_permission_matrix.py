"""The permission matrix: every role against every back-office page and every staff API
endpoint, written out by hand below, so that a change of roles.py that opens or closes a
door shows up here as a failing cell.

The pages and endpoints are read from the URL configuration and the OpenAPI schema: a
page or endpoint added without a row in the matrix fails `test_the_matrix_covers_...`.

A refused request (403) changes nothing: no status, no timeline row, no audit event, no
email. An allowed one is not refused and not sent to sign in (what it then does is the
subject of each page's own tests).
"""

import pytest
from django.urls import URLPattern, reverse

from ventanilla.api.views import api
from ventanilla.audit.models import AuditEvent
from ventanilla.backoffice import urls as backoffice_urls
from ventanilla.backoffice.file_links import (
    CHECK_ATTACHMENT,
    DOCUMENT,
    file_link_token,
    session_binding,
)
from ventanilla.cases import services
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.notifications.models import OutboundEmail
from ventanilla.registry.models import InsuredPerson
from ventanilla.staff.roles import Role
from ventanilla.staff.services import api_token_create, staff_user_ensure
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.testing.staff import staff_login, totp_device_for
from ventanilla.workdays.models import Holiday

pytestmark = pytest.mark.django_db

AN, SUP, AUD, ADM = Role.ANALYST, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR
EVERY_ROLE = frozenset({AN, SUP, AUD, ADM})
CASE_READERS = frozenset({AN, SUP, AUD})
DECIDERS = frozenset({AN, SUP})

# Pages that are the way in (sign-in, second factor, sign-out, setting a first password):
# open before any role is known; their own tests cover them.
# The passkey sign-in answers a session that has only passed the password.
WAY_IN = {
    "login",
    "two_factor",
    "two_factor_enrol",
    "logout",
    "activate",
    "passkey_sign_in_options",
    "passkey_sign_in",
}

# page name: (method, roles allowed)
PAGES: dict[str, tuple[str, frozenset]] = {
    "home": ("get", EVERY_ROLE),
    # Each person's own security page: their passkeys.
    "account": ("get", EVERY_ROLE),
    "passkey_add_options": ("post", EVERY_ROLE),
    "passkey_add": ("post", EVERY_ROLE),
    "passkey_remove": ("post", EVERY_ROLE),
    "api_token_revoke": ("post", EVERY_ROLE),
    "queue": ("get", CASE_READERS),
    "take_next": ("post", frozenset({AN})),
    "assign": ("post", frozenset({SUP})),
    "case": ("get", CASE_READERS),
    "correction": ("post", DECIDERS),
    "reject": ("post", DECIDERS),
    "invite": ("post", DECIDERS),
    "document": ("get", CASE_READERS),
    "video_still": ("get", CASE_READERS),
    "checks_rerun": ("post", DECIDERS),
    "check_attachment": ("get", CASE_READERS),
    "checklist": ("post", DECIDERS),
    "note_add": ("post", DECIDERS),
    "insured": ("get", CASE_READERS),
    "dashboard": ("get", frozenset({SUP, AUD})),
    "figures": ("get", frozenset({SUP, AUD})),
    "figures_export": ("get", frozenset({SUP, AUD})),
    "audit": ("get", frozenset({SUP, AUD, ADM})),
    "audit_export": ("get", frozenset({SUP, AUD, ADM})),
    "accept": ("post", DECIDERS),
    # Analysts publish their own call slots, supervisors anyone's.
    "slots": ("post", DECIDERS),
    "slot_withdraw": ("post", DECIDERS),
    "call": ("get", CASE_READERS),
    "call_record": ("post", DECIDERS),
    "fraud_reviews": ("get", frozenset({SUP, AUD})),
    "fraud_review_close": ("post", frozenset({SUP})),
    # Data-subject requests (LOPDP): supervisors handle them, auditors only see them;
    # analysts and administrators (no personal data of the insured) are refused.
    "data_requests": ("get", frozenset({SUP, AUD})),
    "data_request": ("get", frozenset({SUP, AUD})),
    "data_request_new": ("post", frozenset({SUP})),
    "data_request_export": ("post", frozenset({SUP})),
    "data_request_answer": ("post", frozenset({SUP})),
    "data_request_refuse": ("post", frozenset({SUP})),
    # Complaints: analysts and supervisors handle them, auditors read, supervisors assign.
    "complaints": ("get", CASE_READERS),
    "complaint": ("get", CASE_READERS),
    "complaint_take": ("post", DECIDERS),
    "complaint_assign": ("post", frozenset({SUP})),
    "complaint_answer": ("post", DECIDERS),
    "staff": ("get", frozenset({ADM})),
    "staff_new": ("post", frozenset({ADM})),
    "staff_detail": ("post", frozenset({ADM})),
    "staff_active": ("post", frozenset({ADM})),
    "staff_second_factor": ("post", frozenset({ADM})),
    "staff_activation_resend": ("post", frozenset({ADM})),
    "staff_api_token_revoke": ("post", frozenset({ADM})),
    "calendar": ("post", frozenset({SUP, ADM})),
    "holiday_edit": ("post", frozenset({SUP, ADM})),
    "holiday_remove": ("post", frozenset({SUP, ADM})),
}

# (method, OpenAPI path): roles allowed
ENDPOINTS: dict[tuple[str, str], frozenset] = {
    ("get", "/api/v1/staff/cases"): CASE_READERS,
    ("get", "/api/v1/staff/cases/{number}"): CASE_READERS,
    ("get", "/api/v1/staff/insured/{id_number}"): CASE_READERS,
    ("post", "/api/v1/staff/cases/{number}/correction"): DECIDERS,
    ("post", "/api/v1/staff/cases/{number}/reject"): DECIDERS,
    ("post", "/api/v1/staff/cases/{number}/invite"): DECIDERS,
    ("post", "/api/v1/staff/cases/{number}/call-outcome"): DECIDERS,
    ("post", "/api/v1/staff/cases/{number}/checks"): DECIDERS,
    ("post", "/api/v1/staff/cases/{number}/accept"): DECIDERS,
}


def _backoffice_names() -> set[str]:
    names = set()
    for pattern in backoffice_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), "nested includes: extend this test"
        names.add(pattern.name)
    return names


def _staff_operations() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        if "/staff/" in path
        for method in operations
    }


def test_the_matrix_covers_every_page_and_endpoint():
    assert _backoffice_names() - WAY_IN == set(PAGES), (
        "a back-office page without a row in the matrix, or a row for a page that is gone"
    )
    assert _staff_operations() == set(ENDPOINTS)


# --- the world the requests act on -------------------------------------------------------


@pytest.fixture
def world(db):
    InsuredPerson.objects.create(
        id_number="0923456784", first_names="María Fernanda", last_names="Quispe Andrade",
        insured_type="afiliado", email="maria.antigua@example.net",
    )  # fmt: skip
    fields = submission_fields(0)
    case = services.case_mark_checked(case_id=submit_request(fields, submission_files(fields)).pk)
    Holiday.objects.create(date="2031-08-11", name="Feriado de prueba")
    return case


def _kwargs(name: str, case: Case) -> dict:
    pattern = next(p for p in backoffice_urls.urlpatterns if p.name == name)
    samples = {
        "number": case.number,
        "document_id": case.documents.get(kind="selfie").pk,
        "id_number": case.id_number,
    }
    kwargs = {}
    for key in pattern.pattern.converters:
        # Anything else (an evidence file, a staff account, a holiday) is looked up after
        # the permission: a number that does not exist is enough to reach the door.
        kwargs[key] = samples.get(key, 999999)
    return kwargs


def _snapshot() -> dict:
    return {
        "statuses": list(Case.objects.order_by("pk").values_list("status", "assigned_to")),
        "transitions": CaseTransition.objects.count(),
        "audit_events": AuditEvent.objects.exclude(action__startswith="staff.sign_in").count(),
        "emails": OutboundEmail.objects.count(),
        "holidays": Holiday.objects.count(),
    }


def _member(role: str):
    return staff_user_ensure(username=f"matriz.{role}", password="clave-larga-de-prueba", role=role)


CELLS = [(name, role) for name in PAGES for role in sorted(EVERY_ROLE)]
FILE_VIEWS = {
    "document": (DOCUMENT, "document_id"),
    "video_still": (DOCUMENT, "document_id"),
    "check_attachment": (CHECK_ATTACHMENT, "attachment_id"),
}


@pytest.mark.parametrize(("name", "role"), CELLS, ids=[f"{n}-{r}" for n, r in CELLS])
def test_each_role_on_each_page(client, world, name, role):
    method, allowed = PAGES[name]
    user = _member(role)
    staff_login(client, user)
    kwargs = _kwargs(name, world)
    url = reverse(f"backoffice:{name}", kwargs=kwargs)
    if name in FILE_VIEWS:
        # The short-lived link the case page would give this person (file_links.py), so that
        # only the role decides the answer.
        model_label, pk_argument = FILE_VIEWS[name]
        binding = session_binding(client.session.session_key)
        token = file_link_token(
            model_label=model_label, pk=kwargs[pk_argument], user=user, binding=binding
        )
        url += f"?t={token}"
    before = _snapshot()

    response = client.post(url, {}) if method == "post" else client.get(url)

    if role in allowed:
        assert response.status_code != 403, f"{role} should reach {name}"
        assert not response.get("Location", "").startswith("/gestion/ingresar/")
    else:
        assert response.status_code == 403, f"{role} should be refused {name}"
        assert _snapshot() == before


API_CELLS = [(op, role) for op in ENDPOINTS for role in sorted(EVERY_ROLE)]


@pytest.mark.parametrize(
    ("operation", "role"), API_CELLS, ids=[f"{m} {p}-{r}" for (m, p), r in API_CELLS]
)
def test_each_role_on_each_endpoint(client, world, operation, role):
    method, path = operation
    allowed = ENDPOINTS[operation]
    user = _member(role)
    totp_device_for(user)
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}
    url = path.replace("{number}", world.number).replace("{id_number}", world.id_number)
    before = _snapshot()

    if method == "post":
        response = client.post(url, {}, content_type="application/json", headers=headers)
    else:
        response = client.get(url, headers=headers)

    if role in allowed:
        assert response.status_code not in (401, 403), f"{role} should reach {method} {path}"
    else:
        assert response.status_code == 403, f"{role} should be refused {method} {path}"
        assert _snapshot() == before
