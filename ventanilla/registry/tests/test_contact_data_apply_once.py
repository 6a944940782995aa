"""A case changes the registry once: a retried request or a second call of the service
makes no second change, no second history row, no second notice to the previous contact."""

import datetime as dt

import pytest

from ventanilla.audit.models import AuditEvent
from ventanilla.cases import services, statemachine
from ventanilla.cases.constants import CaseStatus
from ventanilla.notifications.models import OutboundEmail, OutboundSms
from ventanilla.registry.models import ChangeReportLink, ContactDataChange, InsuredPerson
from ventanilla.registry.services import contact_change_notify_previous, contact_data_apply
from ventanilla.testing.factories import case_in_status

pytestmark = pytest.mark.django_db

ALL_MATCH = {"fingerprint_code": "matches", "id_issue_date": "matches", "birth_date": "matches"}


@pytest.fixture
def person():
    """María in the registry with her previous email and mobile."""
    return InsuredPerson.objects.create(
        id_number="0923456784",
        first_names="María Fernanda",
        last_names="Quispe Andrade",
        birth_date=dt.date(1984, 6, 12),
        insured_type="afiliado",
        email="maria.antigua@example.net",
        ecuador_mobile="+593991112233",
    )


def _counts(case) -> dict:
    return {
        "changes": ContactDataChange.objects.filter(case=case).count(),
        "applied": AuditEvent.objects.filter(
            case=case, action="registry.contact_data_applied"
        ).count(),
        "links": ChangeReportLink.objects.filter(case=case).count(),
        "emails": OutboundEmail.objects.filter(case=case).count(),
        "sms": OutboundSms.objects.filter(case=case).count(),
    }


def test_a_retried_call_outcome_changes_the_registry_once(analyst, person, settings, tmp_path):
    settings.SMS_FILE_DIR = tmp_path / "sms"
    case = case_in_status(CaseStatus.CALL_SCHEDULED, analyst)
    services.case_record_call_outcome(
        case=case, actor=analyst, identity_validated=True, notes="Coincide.", answers=ALL_MATCH
    )
    person.refresh_from_db()
    assert person.email == case.email
    first = _counts(case)
    assert first["changes"] >= 2 and first["applied"] == 1 and first["links"] == 2

    # The analyst's browser sends the form again: refused by the state machine, nothing new.
    with pytest.raises(statemachine.IllegalTransition):
        services.case_record_call_outcome(
            case=case, actor=analyst, identity_validated=True, notes="Coincide.", answers=ALL_MATCH
        )
    assert _counts(case) == first
    assert case.transitions.filter(to_status=CaseStatus.COMPLETED).count() == 1


def test_applying_a_case_twice_makes_one_change_and_one_history(analyst, person):
    case = case_in_status(CaseStatus.IDENTITY_VALIDATED, analyst)
    applied_person, changes = contact_data_apply(case=case, actor=analyst)
    links = contact_change_notify_previous(case=case, person=applied_person, changes=changes)
    first = _counts(case)
    person.refresh_from_db()
    after_first = {f: getattr(person, f) for f in ("email", "ecuador_mobile", "updated_at")}
    assert {c.field for c in changes} >= {"email", "ecuador_mobile"}

    again_person, again = contact_data_apply(case=case, actor=analyst)
    again_links = contact_change_notify_previous(case=case, person=again_person, changes=again)
    assert again_person.pk == applied_person.pk
    assert [c.pk for c in again] == [c.pk for c in changes]
    assert [link.pk for link in again_links] == [link.pk for link in links]
    assert _counts(case) == first
    person.refresh_from_db()
    assert {f: getattr(person, f) for f in ("email", "ecuador_mobile", "updated_at")} == after_first


def test_a_person_missing_from_the_registry_is_added_once(analyst):
    case = case_in_status(CaseStatus.IDENTITY_VALIDATED, analyst)
    assert not InsuredPerson.objects.filter(id_number=case.id_number).exists()
    contact_data_apply(case=case, actor=analyst)
    contact_data_apply(case=case, actor=analyst)
    assert InsuredPerson.objects.filter(id_number=case.id_number).count() == 1
    assert AuditEvent.objects.filter(case=case, action="registry.person_created").count() == 1
