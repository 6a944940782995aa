"""The whole life of one case through the JSON API, as IESS apps and a citizen would
see it: real database, real files, the real task worker, a real SMTP server."""

import datetime as dt

import pytest
from icalendar import Calendar
from stdnum.iso7064 import mod_37_36

from ventanilla.audit.models import AuditEvent
from ventanilla.cases.models import Case
from ventanilla.documents.models import Document
from ventanilla.registry.models import InsuredPerson
from ventanilla.testing.factories import submission_fields, submission_files

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OLD_EMAIL = "maria.antigua@example.net"


def _texts(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def _calendar(message) -> Calendar:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            return Calendar.from_ical(payload)
    raise AssertionError("the invitation has no calendar part")


def test_case_from_submission_to_updated_registry(client, smtp_server, run_worker, staff_headers):
    person = InsuredPerson.objects.create(
        id_number="0923456784",
        first_names="María Fernanda",
        last_names="Quispe Andrade",
        insured_type="afiliado",
        email=OLD_EMAIL,
    )
    fields = submission_fields()

    # The citizen submits: 201, a number whose check character verifies.
    response = client.post("/api/v1/cases", {**fields, **submission_files(fields)})
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert response.json()["status"] == "submitted"
    year, sequence, check = number.split("-")[1:]
    assert mod_37_36.is_valid(year + sequence + check)
    case = Case.objects.get(number=number)
    assert case.documents.count() == 5
    assert case.review_due_at is not None

    # The worker re-checks the stored files, moves the case to review and sends the email.
    run_worker()
    case.refresh_from_db()
    assert case.status == "in_review"
    smtp_server.wait_for(1)
    received = smtp_server.to(fields["email"])
    assert len(received) == 1
    assert number in received[0]["Subject"]
    assert "3 días laborables" in _texts(received[0])

    # The citizen looks it up; a wrong identification answers like an unknown number.
    status = client.get(f"/api/v1/cases/{number}", {"id_number": fields["id_number"]})
    assert status.status_code == 200
    assert [t["status"] for t in status.json()["timeline"]] == ["submitted", "in_review"]
    wrong = client.get(f"/api/v1/cases/{number}", {"id_number": "0102030400"})
    unknown = client.get("/api/v1/cases/VV-2026-999999-0", {"id_number": fields["id_number"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()

    # The analyst sees everything, checks included, and invites to the call.
    detail = client.get(f"/api/v1/staff/cases/{number}", headers=staff_headers).json()
    assert {c["name"] for c in detail["checks"]} >= {"file_integrity", "video_statement"}
    assert all(c["result"] != "fail" for c in detail["checks"] if c["name"] == "file_integrity")
    starts_at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(microsecond=0, second=0)
    invite = client.post(
        f"/api/v1/staff/cases/{number}/invite",
        {"starts_at": starts_at.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()},
        content_type="application/json",
        headers=staff_headers,
    )
    assert invite.status_code == 200, invite.content
    assert invite.json()["status"] == "call_scheduled"
    run_worker()
    smtp_server.wait_for(2)
    invitation = smtp_server.to(fields["email"])[-1]
    event = next(c for c in _calendar(invitation).walk() if c.name == "VEVENT")
    assert event.decoded("dtstart") == starts_at
    meeting_url = str(event.get("url"))
    assert meeting_url.startswith("https://meet.jit.si/IESS-Ventanilla-")
    assert meeting_url in _texts(invitation)

    # A second invitation is an illegal move.
    again = client.post(
        f"/api/v1/staff/cases/{number}/invite",
        {"starts_at": starts_at.isoformat()},
        content_type="application/json",
        headers=staff_headers,
    )
    assert again.status_code == 409

    # The call validates the identity: the registry takes the new email, keeps the old one.
    outcome = client.post(
        f"/api/v1/staff/cases/{number}/call-outcome",
        {"identity_validated": True, "notes": "Documento y respuestas coinciden."},
        content_type="application/json",
        headers=staff_headers,
    )
    assert outcome.status_code == 200
    assert outcome.json()["status"] == "completed"
    insured = client.get(f"/api/v1/staff/insured/{person.id_number}", headers=staff_headers).json()
    assert insured["contact"]["email"] == fields["email"]
    email_change = next(h for h in insured["history"] if h["field"] == "email")
    assert (email_change["old_value"], email_change["new_value"]) == (OLD_EMAIL, fields["email"])
    assert email_change["case"] == number

    run_worker()
    smtp_server.wait_for(4)
    success = smtp_server.to(fields["email"])[-1]
    assert "actualiz" in success["Subject"].lower()
    notice = smtp_server.to(OLD_EMAIL)
    assert len(notice) == 1
    assert number in _texts(notice[0])
    assert fields["email"] not in _texts(notice[0])

    # Every step is in the audit trail.
    actions = list(AuditEvent.objects.filter(case__number=number).values_list("action", flat=True))
    assert actions.count("case.transition") == 5
    assert "registry.contact_data_applied" in actions
    assert Document.objects.filter(case__number=number).count() == 5
