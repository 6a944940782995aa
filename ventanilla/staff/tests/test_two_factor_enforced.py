"""No back-office page and no staff endpoint without the second factor. The pages are
taken from the URL configuration itself, so that a page added later is covered too."""

import uuid

import pytest
from django.urls import URLPattern, converters, reverse

from ventanilla.api.views import api
from ventanilla.audit.models import AuditEvent
from ventanilla.backoffice import urls as backoffice_urls
from ventanilla.staff.services import api_token_create, staff_second_factor_reset
from ventanilla.testing.staff import staff_login, totp_device_for

pytestmark = pytest.mark.django_db

# The way in: open before the second factor. "activate" is a newcomer's single-use link to
# choose a first password (its own tests are in backoffice/tests/test_staff_pages.py).
SIGN_IN_PAGES = {
    "login",
    "logout",
    "two_factor",
    "two_factor_enrol",
    "activate",
    # The passkey ceremony of the second-factor page: for a password-only session.
    "passkey_sign_in_options",
    "passkey_sign_in",
}
SAMPLE = {
    converters.IntConverter: 1,
    converters.StringConverter: "VV-2026-000001-X",
    converters.SlugConverter: "muestra",
    converters.PathConverter: "muestra",
    converters.UUIDConverter: uuid.UUID(int=1),
}


def _backoffice_pages() -> list[tuple[str, str]]:
    pages = []
    for pattern in backoffice_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), "nested includes: extend this test"
        if pattern.name in SIGN_IN_PAGES:
            continue
        kwargs = {
            name: SAMPLE[type(converter)] for name, converter in pattern.pattern.converters.items()
        }
        pages.append((pattern.name, reverse(f"backoffice:{pattern.name}", kwargs=kwargs)))
    return pages


PAGES = _backoffice_pages()


def _staff_endpoints() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    endpoints = []
    for path, operations in schema["paths"].items():
        if "/staff/" not in path:
            continue
        url = path.replace("{number}", "VV-2026-000001-X").replace("{id_number}", "0923456784")
        assert "{" not in url, f"give a sample value for {path}"
        endpoints += [(method, url) for method in operations]
    return endpoints


ENDPOINTS = _staff_endpoints()


def test_every_page_and_endpoint_is_found():
    names = {name for name, _ in PAGES}
    assert {"queue", "case", "document", "insured", "reject"} <= names
    assert ("get", "/api/v1/staff/cases") in ENDPOINTS
    assert any(method == "post" for method, _ in ENDPOINTS)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("name", "url"), PAGES, ids=[name for name, _ in PAGES])
def test_a_password_alone_opens_no_back_office_page(client, analyst, name, url, method):
    totp_device_for(analyst)
    client.force_login(analyst)  # the password step only: no second factor
    before = AuditEvent.objects.count()

    response = getattr(client, method)(url)

    if method == "get" and response.status_code == 405:
        return  # a POST-only action: refused before anything else, and covered by "post"
    assert response.status_code == 302, (name, response.status_code)
    assert response["Location"].startswith("/gestion/ingresar/codigo/?next=")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[name for name, _ in PAGES])
def test_staff_without_an_app_are_sent_to_enrol(client, auditor, name, url):
    client.force_login(auditor)

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/gestion/ingresar/activar/?next=")


def test_the_queue_opens_once_the_second_factor_passed(client, analyst):
    staff_login(client, analyst)
    assert client.get(reverse("backoffice:queue")).status_code == 200


@pytest.mark.parametrize(("method", "url"), ENDPOINTS, ids=[f"{m} {u}" for m, u in ENDPOINTS])
def test_a_signed_in_session_is_no_api_credential(client, analyst, method, url):
    client.force_login(analyst)
    response = getattr(client, method)(url, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "url"), ENDPOINTS, ids=[f"{m} {u}" for m, u in ENDPOINTS])
def test_a_token_stops_working_when_the_second_factor_is_reset(client, analyst, method, url):
    totp_device_for(analyst)
    token = api_token_create(user=analyst)
    staff_second_factor_reset(user=analyst)

    response = getattr(client, method)(
        url, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert AuditEvent.objects.filter(action="staff.otp_reset").count() == 1


def test_a_token_works_while_the_second_factor_is_there(client, analyst):
    totp_device_for(analyst)
    token = api_token_create(user=analyst)
    response = client.get("/api/v1/staff/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
