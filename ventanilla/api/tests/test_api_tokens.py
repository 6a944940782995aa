"""Staff API tokens at the door: a token acts only within its scope and its owner's current
role (403 in Spanish otherwise, nothing changed), and every refused token (none, unknown,
expired, revoked, owner disabled or without a second factor) gets one and the same 401.
Malformed bodies are refused in Spanish, never with a server error."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases.constants import CaseStatus
from ventanilla.staff.models import ApiToken
from ventanilla.staff.roles import Role
from ventanilla.staff.services import (
    api_token_create,
    api_token_revoke,
    staff_active_set,
    staff_roles_set,
    staff_second_factor_reset,
)
from ventanilla.testing.factories import case_in_status
from ventanilla.testing.staff import totp_device_for

pytestmark = pytest.mark.django_db


def _bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _token(user, scope: str | None = None) -> str:
    totp_device_for(user)
    return api_token_create(user=user, scope=scope)


def _accept(client, case, key):
    return client.post(f"/api/v1/staff/cases/{case.number}/accept", headers=_bearer(key))


@pytest.fixture
def case(analyst):
    return case_in_status(CaseStatus.IN_REVIEW, analyst)


def test_a_read_token_reads_but_does_not_decide(client, analyst, case):
    key = _token(analyst, "read")
    events = AuditEvent.objects.count()

    assert client.get("/api/v1/staff/cases", headers=_bearer(key)).status_code == 200
    response = _accept(client, case, key)

    assert response.status_code == 403
    assert "alcance" in response.json()["detail"]
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert AuditEvent.objects.count() == events


def test_a_decide_token_decides(client, analyst, case):
    response = _accept(client, case, _token(analyst))
    assert response.status_code == 200, response.content


def test_a_demoted_owners_token_loses_that_power_at_once(client, analyst, administrator, case):
    key = _token(analyst)
    staff_roles_set(actor=administrator, user=analyst, roles=[Role.AUDITOR])

    response = _accept(client, case, key)

    assert response.status_code == 403
    assert "rol" in response.json()["detail"]
    assert client.get(f"/api/v1/staff/cases/{case.number}", headers=_bearer(key)).status_code == 200


def _refusal(response) -> tuple:
    return response.status_code, response.content, response.get("WWW-Authenticate")


def test_every_refused_token_gets_the_same_answer(client, analyst, supervisor, administrator):
    url = "/api/v1/staff/cases"
    expired, revoked, disabled, reset = (_token(analyst) for _ in range(4))
    ApiToken.objects.filter(prefix=expired[3:9]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    api_token_revoke(actor=analyst, token=ApiToken.objects.get(prefix=revoked[3:9]))
    disabled_owner = _token(supervisor)
    staff_active_set(actor=administrator, user=supervisor, active=False)
    factor_reset_owner = _token(administrator, "read")
    staff_second_factor_reset(user=administrator, actor=None)

    answers = {
        "no token": client.get(url),
        "never existed": client.get(url, headers=_bearer("vv_" + "x" * 43)),
        "expired": client.get(url, headers=_bearer(expired)),
        "revoked": client.get(url, headers=_bearer(revoked)),
        "owner disabled": client.get(url, headers=_bearer(disabled_owner)),
        "owner's second factor reset": client.get(url, headers=_bearer(factor_reset_owner)),
    }

    refusals = {name: _refusal(response) for name, response in answers.items()}
    assert set(refusals.values()) == {(401, refusals["no token"][1], "Bearer")}, refusals
    assert "token" in answers["no token"].json()["detail"]
    # The other tokens of the same owner still work.
    assert client.get(url, headers=_bearer(reset)).status_code == 200


def test_a_body_that_is_not_json_is_refused_in_spanish(client, analyst, case):
    response = client.post(
        f"/api/v1/staff/cases/{case.number}/reject",
        b"\x00{no es json",
        content_type="application/json",
        headers=_bearer(_token(analyst)),
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_body_of_the_wrong_shape_names_each_field(client, analyst, case):
    response = client.post(
        f"/api/v1/staff/cases/{case.number}/invite",
        {"starts_at": "mañana", "meeting_url": 3},
        content_type="application/json",
        headers=_bearer(_token(analyst)),
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"starts_at", "meeting_url"}
    assert "fecha" in errors["starts_at"][0]
    assert errors["meeting_url"] == ["Debe ser texto."]


def test_garbage_files_in_a_submission_are_refused_not_a_server_error(client):
    garbage = {
        name: SimpleUploadedFile(f"{name}.jpg", b"\x00\xff garbage \x89PNG\r\n", "image/jpeg")
        for name in ("id_front", "id_back", "selfie", "request_form", "video")
    }
    response = client.post("/api/v1/cases", {"first_names": "Ana", **garbage})
    assert response.status_code == 422
    assert response.json()["errors"]
