"""Accepting the requirements (case page and staff API) sends the booking link; the API's
`invite` with `starts_at` keeps working beside it."""

import pytest

from ventanilla.cases.constants import CaseStatus
from ventanilla.notifications.models import OutboundEmail
from ventanilla.testing.factories import call_time, case_in_status
from ventanilla.testing.staff import staff_login

from .conftest import booking_token


@pytest.mark.django_db
def test_case_page_button_accepts_and_sends_the_link(client, analyst):
    case = case_in_status(CaseStatus.IN_REVIEW, analyst)
    staff_login(client, analyst)
    page = client.get(f"/gestion/tramites/{case.number}/").content.decode()
    assert "Aprobar requisitos y enviar enlace para agendar" in page
    response = client.post(f"/gestion/tramites/{case.number}/aprobar/")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CALL_PENDING
    assert client.get(f"/tramite/videollamada/{booking_token(case)}/").status_code == 200
    # Waiting for the citizen, the analyst may still propose a time.
    page = client.get(f"/gestion/tramites/{case.number}/").content.decode()
    assert 'id="propose-form"' in page
    # Twice is refused: the case is no longer under review.
    client.post(f"/gestion/tramites/{case.number}/aprobar/")
    assert OutboundEmail.objects.filter(case=case, template="call_booking").count() == 1


@pytest.mark.django_db
def test_auditor_cannot_accept(client, analyst, auditor):
    case = case_in_status(CaseStatus.IN_REVIEW, analyst)
    staff_login(client, auditor)
    assert client.post(f"/gestion/tramites/{case.number}/aprobar/").status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


@pytest.mark.django_db
def test_staff_api_accept_then_invite_with_a_time(client, analyst, staff_headers):
    case = case_in_status(CaseStatus.IN_REVIEW, analyst)
    url = f"/api/v1/staff/cases/{case.number}"
    response = client.post(f"{url}/accept", headers=staff_headers)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == CaseStatus.CALL_PENDING
    assert booking_token(case)
    assert client.post(f"{url}/accept", headers=staff_headers).status_code == 409
    response = client.post(
        f"{url}/invite",
        {"starts_at": call_time().isoformat()},
        content_type="application/json",
        headers=staff_headers,
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == CaseStatus.CALL_SCHEDULED
    assert case.appointments.get().analyst == analyst
    assert client.post(f"{url}/accept").status_code == 401
