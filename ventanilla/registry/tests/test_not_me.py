"""The change and its protection: a validated change tells the previous email and phones,
each with a "this was not me" link; following it restores the previous data, freezes
the record, opens a fraud review for the supervisors and counts as a complaint. A second
use or an expired link does nothing, and a frozen record refuses later changes."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.notifications.models import OutboundEmail, OutboundSms
from ventanilla.registry.constants import ChangeSource
from ventanilla.registry.masking import mask_email, mask_phone, mask_value
from ventanilla.registry.models import (
    ChangeReportLink,
    ContactDataChange,
    FraudReview,
    InsuredPerson,
)
from ventanilla.registry.selectors import fraud_reports_in_month
from ventanilla.registry.services import RecordFrozen
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_user_ensure
from ventanilla.testing.factories import (
    case_in_status,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login

OLD_EMAIL = "maria.antigua@example.net"
OLD_MOBILE = "+593991112233"
OLD_FOREIGN = "+34699887766"
REGISTRY_PHONE = "+593987650000"
ALL_MATCH = {
    "fingerprint_code": "matches",
    "id_issue_date": "matches",
    "birth_date": "matches",
}
LINK = re.compile(r"https?://\S+/tramite/no-fui-yo/[\w-]+/")


def _texts(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


@pytest.fixture
def sms_dir(settings, tmp_path) -> Path:
    settings.SMS_FILE_DIR = tmp_path / "sms"
    return settings.SMS_FILE_DIR


@pytest.fixture
def person(db):
    return InsuredPerson.objects.create(
        id_number="0923456784",
        first_names="María Fernanda",
        last_names="Quispe Andrade",
        birth_date=dt.date(1984, 6, 12),
        insured_type="afiliado",
        email=OLD_EMAIL,
        phone=REGISTRY_PHONE,
        ecuador_mobile=OLD_MOBILE,
        foreign_phone=OLD_FOREIGN,
        residence_country="ES",
        residence_city="Barcelona",
    )


@pytest.fixture
def boss(db):
    """A supervisor with an address, for the fraud alert."""
    return staff_user_ensure(
        username="sara.supervisora",
        password="una-clave-de-prueba-larga",
        role=Role.SUPERVISOR,
        email="sara.supervisora@iess.example",
        first_name="Sara",
    )


def _validated(analyst):
    case = case_in_status(CaseStatus.CALL_SCHEDULED, analyst)
    services.case_record_call_outcome(
        case=case, actor=analyst, identity_validated=True, notes="Coincide.", answers=ALL_MATCH
    )
    case.refresh_from_db()
    return case


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_masking():
    assert mask_email("carla.perez@gmail.com") == "c••••@gmail.com"
    assert mask_phone("+593991234567") == "+593 ••••••567"
    assert mask_phone("+34612345678") == "+34 ••••••678"
    assert mask_value("residence_city", "Barcelona") == "B••••"
    assert mask_value("residence_country", "ES") == "ES"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_this_was_not_me_from_the_notice_to_the_fraud_review(
    client, analyst, boss, person, smtp_server, run_worker, sms_dir
):
    case = _validated(analyst)
    person.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    assert person.email == case.email and person.ecuador_mobile == case.ecuador_mobile
    run_worker()

    # The previous address gets the notice, with what changed (masked) and the link.
    smtp_server.wait_for(4)
    notices = smtp_server.to(OLD_EMAIL)
    assert len(notices) == 1
    text = _texts(notices[0])
    assert case.number in text
    assert case.email not in text and mask_email(case.email) in text
    assert "7 días" in text
    email_link = LINK.search(text).group(0)

    # An SMS to each previous phone, sent by the worker through the file backend.
    sms = {s.to: s for s in OutboundSms.objects.filter(case=case)}
    assert set(sms) == {OLD_MOBILE, OLD_FOREIGN, REGISTRY_PHONE}
    assert all(s.status == OutboundSms.Status.SENT for s in sms.values())
    written = sorted(sms_dir.glob("*.txt"))
    assert len(written) == 3
    sms_text = Path(sms[OLD_MOBILE].provider_reference).read_text(encoding="utf-8")
    assert f"To: {OLD_MOBILE}" in sms_text
    sms_link = LINK.search(sms_text).group(0)
    assert sms_link != email_link

    # Opening the link (or a mail scanner doing so) shows the change and changes nothing.
    page = client.get(_path(email_link))
    assert page.status_code == 200
    html = page.content.decode()
    assert mask_email(case.email) in html and case.email not in html
    assert 'id="not-me-form"' in html
    person.refresh_from_db()
    assert person.email == case.email and person.frozen_at is None
    assert not FraudReview.objects.exists()

    # Pressing "No fui yo": the previous data is back, the record frozen, a review open.
    done = client.post(_path(email_link))
    assert done.status_code == 200
    assert "Recibimos su aviso" in done.content.decode()
    person.refresh_from_db()
    assert (person.email, person.ecuador_mobile, person.foreign_phone) == (
        OLD_EMAIL,
        OLD_MOBILE,
        OLD_FOREIGN,
    )
    assert person.residence_city == "Barcelona"
    assert person.frozen_at is not None
    restored = ContactDataChange.objects.filter(person=person, source=ChangeSource.REPORT_RESTORE)
    assert {(c.field, c.new_value) for c in restored} >= {
        ("email", OLD_EMAIL),
        ("ecuador_mobile", OLD_MOBILE),
        ("foreign_phone", OLD_FOREIGN),
    }
    review = FraudReview.objects.get()
    assert (review.case, review.person, review.channel, review.status) == (
        case,
        person,
        "email",
        "open",
    )
    now = timezone.localtime(review.reported_at, timezone.get_fixed_timezone(-300))
    assert fraud_reports_in_month(now.year, now.month) == 1
    actions = set(AuditEvent.objects.filter(case=case).values_list("action", flat=True))
    assert {
        "registry.change_notice_sent",
        "registry.change_reported",
        "registry.contact_data_restored",
        "registry.person_frozen",
        "registry.fraud_review_opened",
    } <= actions

    # The holder is told at the restored address; the supervisors are alerted.
    sent_before = len(smtp_server.messages)
    run_worker()
    smtp_server.wait_for(sent_before + 2)
    confirmation = smtp_server.to(OLD_EMAIL)[-1]
    assert "restituidos" in confirmation["Subject"]
    alert = smtp_server.to(boss.email)
    assert len(alert) == 1 and case.number in alert[0]["Subject"]
    assert "/gestion/fraude/" in _texts(alert[0])

    # The supervisor sees it in the fraud list.
    staff_login(client, boss)
    listing = client.get(reverse("backoffice:fraud_reviews")).content.decode()
    assert f'data-review="{review.pk}" data-status="open"' in listing
    assert case.number in listing and 'id="fraud-month-count">1<' in listing

    # A second click, through the same link or the SMS one, changes nothing.
    client.logout()
    emails_before = OutboundEmail.objects.count()
    for link in (email_link, sms_link):
        again = client.post(_path(link))
        assert again.status_code == 410
        assert "Ya recibimos el aviso" in again.content.decode()
        assert "atencionalusuario@iess.gob.ec" in again.content.decode()
        assert client.get(_path(link)).status_code == 410
    assert FraudReview.objects.count() == 1
    assert OutboundEmail.objects.count() == emails_before
    assert AuditEvent.objects.filter(action="registry.change_report_refused").count() == 2


@pytest.mark.django_db
def test_an_expired_link_does_nothing(client, analyst, person, sms_dir):
    case = _validated(analyst)
    link = ChangeReportLink.objects.get(case=case, channel="email")
    notice = OutboundEmail.objects.get(case=case, template="previous_email_notice")
    url = _path(LINK.search(notice.body_text).group(0))
    ChangeReportLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    page = client.get(url)
    assert page.status_code == 410
    assert "El plazo para avisar con este enlace terminó" in page.content.decode()
    assert client.post(url).status_code == 410
    person.refresh_from_db()
    assert person.email == case.email and person.frozen_at is None
    assert not FraudReview.objects.exists()
    assert client.post("/tramite/no-fui-yo/no-existe/").status_code == 404


@pytest.mark.django_db
def test_the_window_is_the_setting(settings, analyst, person, sms_dir):
    settings.CONTACT_CHANGE_REPORT_DAYS = 3
    before = timezone.now()
    case = _validated(analyst)
    for link in ChangeReportLink.objects.filter(case=case):
        assert (
            before + dt.timedelta(days=3)
            <= link.expires_at
            <= timezone.now() + dt.timedelta(days=3)
        )


@pytest.mark.django_db
def test_a_frozen_record_refuses_a_later_change_until_the_review_is_closed(
    client, analyst, supervisor, auditor, person, sms_dir
):
    first = _validated(analyst)
    notice = OutboundEmail.objects.get(case=first, template="previous_email_notice")
    client.post(_path(LINK.search(notice.body_text).group(0)))
    person.refresh_from_db()
    assert person.is_frozen

    # Another request for the same ID, validated on its call: the registry does not move.
    fields = submission_fields(0, email="otra.direccion@example.com")
    later = services.case_mark_checked(case_id=submit_request(fields, submission_files(fields)).pk)
    services.case_invite(case=later, actor=analyst, starts_at=timezone.now() + dt.timedelta(days=2))
    later.refresh_from_db()
    with pytest.raises(RecordFrozen, match="congelado"):
        services.case_record_call_outcome(
            case=later, actor=analyst, identity_validated=True, notes="", answers=ALL_MATCH
        )
    later.refresh_from_db()
    person.refresh_from_db()
    assert later.status == CaseStatus.CALL_SCHEDULED
    assert person.email == OLD_EMAIL
    staff_login(client, analyst)
    assert (
        'id="call-frozen"'
        in client.get(reverse("backoffice:call", args=[later.number])).content.decode()
    )

    # An auditor sees the list but may not close; the supervisor closes with a resolution.
    review = FraudReview.objects.get()
    close_url = reverse("backoffice:fraud_review_close", args=[review.pk])
    staff_login(client, auditor)
    assert client.get(reverse("backoffice:fraud_reviews")).status_code == 200
    assert client.post(close_url, {f"r{review.pk}-outcome": "not_fraud"}).status_code == 403
    staff_login(client, supervisor)
    no_text = client.post(close_url, {f"r{review.pk}-outcome": "fraud_confirmed"})
    assert no_text.status_code == 400
    assert "Escriba la resolución" in no_text.content.decode()
    closed = client.post(
        close_url,
        {
            f"r{review.pk}-outcome": "fraud_confirmed",
            f"r{review.pk}-resolution": "Se llamó a la titular al número anterior; confirmó.",
        },
    )
    assert closed.status_code == 302
    review.refresh_from_db()
    person.refresh_from_db()
    assert (review.status, review.outcome, review.closed_by) == (
        "closed",
        "fraud_confirmed",
        supervisor,
    )
    assert not person.is_frozen
    assert AuditEvent.objects.filter(action="registry.person_unfrozen").exists()

    # Unfrozen, the later case can be validated again.
    services.case_record_call_outcome(
        case=later, actor=analyst, identity_validated=True, notes="", answers=ALL_MATCH
    )
    person.refresh_from_db()
    assert person.email == "otra.direccion@example.com"


@pytest.mark.django_db
def test_no_notice_when_nothing_was_on_record(analyst, sms_dir):
    # Not in the registry: the person is created from the case, nobody to warn.
    case = case_in_status(CaseStatus.COMPLETED, analyst)
    assert not ChangeReportLink.objects.filter(case=case).exists()
    assert not OutboundSms.objects.exists()
    assert not OutboundEmail.objects.filter(template="previous_email_notice").exists()
