"""The analyst's call screen: the call's time in both zones, the meeting link, the evidence
side by side, the identity questions with their expected answers, and the outcomes:
validated (only when every answer matched), not validated (with the reason emailed),
no-show (a new booking once, then the case expires with an email)."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from ventanilla.appointments.models import Appointment
from ventanilla.audit.models import AuditEvent
from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.notifications.models import OutboundEmail
from ventanilla.registry.models import InsuredPerson
from ventanilla.review.models import CallVerification
from ventanilla.testing.factories import call_time, case_in_status
from ventanilla.testing.staff import staff_login

OLD_EMAIL = "maria.antigua@example.net"
ALL_MATCH = {
    "call-q-fingerprint_code": "matches",
    "call-q-id_issue_date": "matches",
    "call-q-birth_date": "matches",
}


def _texts(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


@pytest.fixture
def person(db):
    return InsuredPerson.objects.create(
        id_number="0923456784",
        first_names="María Fernanda",
        last_names="Quispe Andrade",
        birth_date=dt.date(1984, 6, 12),
        insured_type="afiliado",
        email=OLD_EMAIL,
    )


@pytest.fixture
def scheduled(person, analyst):
    return case_in_status(CaseStatus.CALL_SCHEDULED, analyst)


def _call_url(case) -> str:
    return reverse("backoffice:call", args=[case.number])


def _record(client, case, data: dict):
    return client.post(reverse("backoffice:call_record", args=[case.number]), data)


def _call_started(case) -> Appointment:
    """The scheduled call's time has come (the citizen booked it days ago)."""
    appointment = case.appointments.get(status=Appointment.Status.SCHEDULED)
    appointment.starts_at = timezone.now() - dt.timedelta(minutes=10)
    appointment.ends_at = appointment.starts_at + dt.timedelta(minutes=30)
    appointment.save(update_fields=["starts_at", "ends_at"])
    return appointment


@pytest.mark.django_db
def test_the_screen_shows_the_call_the_evidence_and_the_expected_answers(
    client, analyst, scheduled
):
    staff_login(client, analyst)
    response = client.get(_call_url(scheduled))
    assert response.status_code == 200
    page = response.content.decode()
    appointment = scheduled.appointments.get()

    # The time in Ecuador (10:30, as booked) and in Madrid, where María lives.
    madrid = appointment.starts_at.astimezone(ZoneInfo("Europe/Madrid"))
    ecuador = re.search(r'id="call-time-ecuador">([^<]*)<', page).group(1)
    citizen = re.search(r'id="call-time-citizen">([^<]*)<', page).group(1)
    assert "10:30" in ecuador
    assert f"{madrid:%H:%M}" in citizen and "Europe/Madrid" in citizen
    # The meeting link opens in a new tab.
    assert re.search(
        rf'<a id="call-meeting-link" href="{re.escape(appointment.meeting_url)}" target="_blank"',
        page,
    )
    # ID front, selfie and a still of the video, served by the case page's audited URLs
    # (short-lived links: ?t=).
    documents = {doc.kind: doc for doc in scheduled.documents.all()}
    for kind, url in (
        ("id_front", reverse("backoffice:document", args=[scheduled.number, documents["id_front"].pk])),
        ("selfie", reverse("backoffice:document", args=[scheduled.number, documents["selfie"].pk])),
        ("video_still", reverse("backoffice:video_still", args=[scheduled.number, documents["video"].pk])),
    ):  # fmt: skip
        assert f'data-panel="{kind}"' in page
        assert f'src="{url}?t=' in page
    assert 'data-panel="id_back"' not in page
    # The questions, each with the answer only the holder knows.
    table = page[
        page.index('id="call-questions"') : page.index(
            "</table>", page.index('id="call-questions"')
        )
    ]
    rows = dict(re.findall(r'data-question="(\w+)".*?class="expected">([^<]+)<', table, re.S))
    assert rows == {
        "fingerprint_code": "E3331I2222",
        "id_issue_date": "2019-03-04",
        "birth_date": "1984-06-12",
    }
    assert "registro de asegurados" in table  # the birth date comes from the registry
    assert AuditEvent.objects.filter(action="call_screen.viewed", case=scheduled).count() == 1


@pytest.mark.django_db
def test_a_registry_value_that_differs_from_the_declared_one_is_the_expected_answer(
    client, analyst, person, scheduled
):
    person.birth_date = dt.date(1984, 6, 21)
    person.save()
    staff_login(client, analyst)
    page = client.get(_call_url(scheduled)).content.decode()
    row = page[page.index('data-question="birth_date"') :]
    row = row[: row.index("</tr>")]
    assert 'class="expected">1984-06-21<' in row
    assert "En el trámite declaró: 1984-06-12" in row


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({**ALL_MATCH, "call-q-fingerprint_code": "does_not_match"}, "no coincide en «Código dactilar"),
        ({k: v for k, v in ALL_MATCH.items() if "birth_date" not in k}, "falta marcar «Fecha de nacimiento»"),
    ],
    ids=["one-does-not-match", "one-unanswered"],
)  # fmt: skip
def test_validation_is_refused_unless_every_answer_matches(
    client, analyst, person, scheduled, answers, says
):
    staff_login(client, analyst)
    response = _record(client, scheduled, {**answers, "call-outcome": "validated"})

    assert response.status_code == 400
    assert says in response.content.decode()
    scheduled.refresh_from_db()
    person.refresh_from_db()
    assert scheduled.status == CaseStatus.CALL_SCHEDULED
    assert person.email == OLD_EMAIL
    assert not CallVerification.objects.exists()
    assert scheduled.appointments.get().status == Appointment.Status.SCHEDULED
    # The analyst's ticks are still on the page to correct.
    assert re.search(
        r'value="does_not_match" checked|value="matches" checked', response.content.decode()
    )


@pytest.mark.django_db
def test_validated_when_every_answer_matches(client, analyst, person, scheduled):
    staff_login(client, analyst)
    response = _record(client, scheduled, {**ALL_MATCH, "call-outcome": "validated"})

    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:case", args=[scheduled.number])
    scheduled.refresh_from_db()
    person.refresh_from_db()
    assert scheduled.status == CaseStatus.COMPLETED
    assert person.email == scheduled.email
    verification = CallVerification.objects.get(case=scheduled)
    assert verification.outcome == "validated"
    assert verification.answers == {
        "fingerprint_code": "matches",
        "id_issue_date": "matches",
        "birth_date": "matches",
    }
    assert verification.appointment.status == Appointment.Status.HELD
    assert AuditEvent.objects.filter(action="review.call_recorded", case=scheduled).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_not_validated_needs_a_reason_and_the_citizen_reads_it(
    client, analyst, person, smtp_server, run_worker
):
    scheduled = case_in_status(CaseStatus.CALL_SCHEDULED, analyst)
    staff_login(client, analyst)
    no_reason = _record(
        client,
        scheduled,
        {"call-q-birth_date": "does_not_match", "call-outcome": "not_validated"},
    )
    assert no_reason.status_code == 400
    assert "Indique el motivo" in no_reason.content.decode()
    scheduled.refresh_from_db()
    assert scheduled.status == CaseStatus.CALL_SCHEDULED

    reason = "No supo su fecha de nacimiento ni el código dactilar de su cédula."
    response = _record(
        client,
        scheduled,
        {
            "call-q-birth_date": "does_not_match",
            "call-outcome": "not_validated",
            "call-notes": reason,
        },
    )
    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.status == CaseStatus.IDENTITY_REJECTED
    verification = CallVerification.objects.get(case=scheduled)
    assert (verification.outcome, verification.answers) == (
        "not_validated",
        {"birth_date": "does_not_match"},
    )
    run_worker()
    smtp_server.wait_for(3)
    rejected = [m for m in smtp_server.to(scheduled.email) if "no fue posible" in m["Subject"]]
    assert len(rejected) == 1
    assert reason in _texts(rejected[0])


@pytest.mark.django_db
def test_a_no_show_is_refused_before_the_call_starts(client, analyst, scheduled):
    staff_login(client, analyst)
    response = _record(client, scheduled, {"call-outcome": "no_show"})
    assert response.status_code == 400
    assert "la inasistencia se registra desde esa hora" in response.content.decode()
    scheduled.refresh_from_db()
    assert scheduled.status == CaseStatus.CALL_SCHEDULED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_first_no_show_allows_one_more_booking_and_a_second_one_expires_the_case(
    client, analyst, person, smtp_server, run_worker
):
    scheduled = case_in_status(CaseStatus.CALL_SCHEDULED, analyst)
    staff_login(client, analyst)
    first = _call_started(scheduled)

    response = _record(
        client, scheduled, {"call-outcome": "no_show", "call-notes": "Esperé 15 minutos."}
    )

    assert response.status_code == 302
    scheduled.refresh_from_db()
    first.refresh_from_db()
    assert scheduled.status == CaseStatus.CALL_PENDING
    assert first.status == Appointment.Status.NO_SHOW
    assert CallVerification.objects.get(appointment=first).outcome == "no_show"
    booking = OutboundEmail.objects.get(case=scheduled, template="call_booking")
    run_worker()
    smtp_server.wait_for(3)
    assert any(m["Subject"] == booking.subject for m in smtp_server.to(scheduled.email))

    # The citizen books again (here the analyst proposes the time) and misses it too.
    services.case_invite(case=scheduled, actor=analyst, starts_at=call_time())
    scheduled.refresh_from_db()
    second = _call_started(scheduled)
    response = _record(client, scheduled, {"call-outcome": "no_show"})

    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.status == CaseStatus.EXPIRED
    assert Appointment.objects.get(pk=second.pk).status == Appointment.Status.NO_SHOW
    assert OutboundEmail.objects.filter(case=scheduled, template="call_booking").count() == 1
    run_worker()
    expired = OutboundEmail.objects.get(case=scheduled, template="call_no_show_expired")
    smtp_server.wait_for(len(smtp_server.messages) + 1)
    received = [m for m in smtp_server.to(scheduled.email) if m["Subject"] == expired.subject]
    assert len(received) == 1
    text = _texts(received[0])
    assert "por segunda vez, usted no se presentó" in text
    assert "/tramite/nuevo/" in text
    assert "NO fueron modificados" in text
    person.refresh_from_db()
    assert person.email == OLD_EMAIL
    assert AuditEvent.objects.filter(action="appointment.no_show", case=scheduled).count() == 2


@pytest.mark.django_db
def test_who_may_see_and_who_may_record(client, auditor, analyst, scheduled):
    staff_login(client, auditor)
    page = client.get(_call_url(scheduled))
    assert page.status_code == 200
    assert 'id="call-form"' not in page.content.decode()
    refused = _record(client, scheduled, {**ALL_MATCH, "call-outcome": "validated"})
    assert refused.status_code == 403
    scheduled.refresh_from_db()
    assert scheduled.status == CaseStatus.CALL_SCHEDULED

    staff_login(client, analyst)
    assert 'id="call-form"' in client.get(_call_url(scheduled)).content.decode()


@pytest.mark.django_db
def test_the_case_page_links_to_the_call_screen(client, analyst, scheduled):
    staff_login(client, analyst)
    page = client.get(reverse("backoffice:case", args=[scheduled.number])).content.decode()
    assert f'href="{_call_url(scheduled)}"' in page
