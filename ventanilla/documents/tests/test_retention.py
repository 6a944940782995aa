"""Retention: after each kind's period from the final decision, the files of a case are
deleted, and the case, its decision, its timeline, the documents' hashes and the audit
trail stay. Real cases submitted through the intake path, real files in the test storage."""

import datetime as dt
import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.template.loader import render_to_string
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.checks.models import CheckAttachment, CheckResult, FaceSignature
from ventanilla.documents.models import Document
from ventanilla.documents.retention import retention_purge
from ventanilla.registry.constants import FraudOutcome, ReportChannel
from ventanilla.registry.models import ChangeReportLink, FraudReview, InsuredPerson
from ventanilla.registry.services import fraud_review_close
from ventanilla.testing import media
from ventanilla.testing.factories import case_in_status

pytestmark = pytest.mark.django_db

BIOMETRIC = {"selfie", "video"}
ID_SIDES = {"id_front", "id_back"}
DAY = dt.timedelta(days=1)


def _with_check_evidence(case: Case) -> CheckAttachment:
    """What a check run leaves beside the files: a face crop and a face encoding."""
    result = CheckResult.objects.create(
        case=case, name="face_match", outcome="pass", summary="Los rostros coinciden."
    )
    crop = CheckAttachment(result=result, name="selfie.jpg")
    crop.file.save("crop.jpg", ContentFile(media.jpeg_bytes(text="ROSTRO")), save=False)
    crop.save()
    FaceSignature.objects.create(case=case, source="selfie", vector=bytes(512))
    return crop


@pytest.fixture
def rejected(analyst):
    """María's request, rejected by the analyst, with its check evidence."""
    case = case_in_status(CaseStatus.REQUIREMENTS_REJECTED, analyst)
    crop = _with_check_evidence(case)
    case.refresh_from_db()
    return case, crop


def _stored(case: Case) -> dict[str, bool]:
    return {d.kind: default_storage.exists(d.file.name) for d in case.documents.all() if d.file}


def _purge_events(case: Case):
    return AuditEvent.objects.filter(case=case, action="retention.purged").order_by("pk")


@pytest.mark.parametrize("status", [CaseStatus.REQUIREMENTS_REJECTED, CaseStatus.WITHDRAWN])
def test_nothing_goes_the_day_before_the_first_period_ends(analyst, status):
    case = case_in_status(status, analyst)
    _with_check_evidence(case)
    case.refresh_from_db()

    report = retention_purge(now=case.status_changed_at + 90 * DAY - dt.timedelta(seconds=1))

    assert report.cases == [] and report.total_files == 0
    assert _stored(case) == dict.fromkeys(
        ["id_front", "id_back", "selfie", "request_form", "video"], True
    )
    assert not Document.objects.filter(case=case, purged_at__isnull=False).exists()
    assert CheckAttachment.objects.filter(result__case=case).count() == 1
    assert not _purge_events(case).exists()


def test_an_open_case_keeps_its_files_however_old(analyst):
    case = case_in_status(CaseStatus.IN_REVIEW, analyst)
    report = retention_purge(now=timezone.now() + 1000 * DAY)
    assert report.cases == []
    assert all(_stored(case).values())


def test_each_kind_goes_at_its_period_and_the_record_stays(rejected):
    case, crop = rejected
    decided = case.status_changed_at
    documents = {d.kind: d for d in case.documents.all()}
    names = {kind: d.file.name for kind, d in documents.items()}
    timeline = list(CaseTransition.objects.filter(case=case).values_list("to_status", flat=True))
    crop_name = crop.file.name

    # 90 days: the face and the voice, and everything the checks cut from the files.
    at_90 = decided + 90 * DAY
    report = retention_purge(now=at_90)
    assert report.cases == [case.number]
    assert dict(report.files) == {"selfie": 1, "video": 1, "check_evidence": 1}
    assert report.face_signatures == 1
    assert report.bytes_freed >= documents["selfie"].size + documents["video"].size
    for kind in BIOMETRIC:
        assert not default_storage.exists(names[kind])
    for kind in ID_SIDES | {"request_form"}:
        assert default_storage.exists(names[kind])
    assert not default_storage.exists(crop_name)
    assert not CheckAttachment.objects.filter(result__case=case).exists()
    assert not FaceSignature.objects.filter(case=case).exists()

    for kind in BIOMETRIC:
        row = Document.objects.get(pk=documents[kind].pk)
        assert row.purged_at == at_90
        assert row.file.name == ""
        assert (row.sha256, row.size, row.format) == (
            documents[kind].sha256,
            documents[kind].size,
            documents[kind].format,
        )

    (event,) = _purge_events(case)
    assert event.actor is None and event.actor_label == "system"
    assert event.new_value["status"] == CaseStatus.REQUIREMENTS_REJECTED
    assert sorted(
        (d["kind"], d["version"], d["sha256"]) for d in event.new_value["documents"]
    ) == sorted((k, 1, documents[k].sha256) for k in BIOMETRIC)
    assert event.new_value["check_evidence"] == [{"check": "face_match", "name": "selfie.jpg"}]
    assert event.new_value["face_signatures"] == 1

    # 180 days: the ID card, not a second sooner; 365: the signed request.
    assert retention_purge(now=decided + 180 * DAY - dt.timedelta(seconds=1)).cases == []
    report = retention_purge(now=decided + 180 * DAY)
    assert dict(report.files) == {"id_front": 1, "id_back": 1}
    assert default_storage.exists(names["request_form"])
    report = retention_purge(now=decided + 365 * DAY)
    assert dict(report.files) == {"request_form": 1}
    assert not any(default_storage.exists(name) for name in names.values())
    assert _purge_events(case).count() == 3

    # The case, its decision and its timeline are untouched.
    case_after = Case.objects.get(pk=case.pk)
    assert case_after.status == CaseStatus.REQUIREMENTS_REJECTED
    assert case_after.status_changed_at == decided
    assert case_after.decision_reasons == case.decision_reasons
    assert case_after.decision_message == case.decision_message
    assert (
        list(CaseTransition.objects.filter(case=case).values_list("to_status", flat=True))
        == timeline
    )
    assert Document.objects.filter(case=case, purged_at__isnull=False).count() == 5
    assert set(Document.objects.filter(case=case).values_list("sha256", flat=True)) == {
        d.sha256 for d in documents.values()
    }


def test_a_file_the_checks_never_read_gets_its_fingerprint_before_it_goes(analyst):
    # Withdrawn before the checks ran: the intake does not hash, so no fingerprint yet.
    case = case_in_status(CaseStatus.WITHDRAWN, analyst)
    Document.objects.filter(case=case).update(sha256="")
    fingerprints = {}
    for document in case.documents.all():
        with default_storage.open(document.file.name, "rb") as stored:
            fingerprints[document.kind] = hashlib.sha256(stored.read()).hexdigest()

    retention_purge(now=case.status_changed_at + 400 * DAY)

    rows = {d.kind: d for d in Document.objects.filter(case=case)}
    assert all(row.purged_at and row.file.name == "" for row in rows.values())
    assert {kind: row.sha256 for kind, row in rows.items()} == fingerprints
    recorded = {
        d["kind"]: d["sha256"]
        for event in _purge_events(case)
        for d in event.new_value["documents"]
    }
    assert recorded == fingerprints


def test_a_second_run_is_a_no_op(rejected):
    case, _ = rejected
    later = case.status_changed_at + 400 * DAY
    first = retention_purge(now=later)
    assert first.total_files == 6
    events = AuditEvent.objects.count()

    second = retention_purge(now=later + DAY)

    assert second.cases == [] and second.total_files == 0 and second.finished == 0
    assert AuditEvent.objects.count() == events


def test_a_dry_run_deletes_nothing_and_says_what_would_go(rejected):
    case, crop = rejected
    later = case.status_changed_at + 400 * DAY

    report = retention_purge(now=later, dry_run=True)

    assert report.dry_run and report.cases == [case.number]
    assert dict(report.files) == {
        "id_front": 1, "id_back": 1, "selfie": 1, "video": 1, "request_form": 1,
        "check_evidence": 1,
    }  # fmt: skip
    assert all(_stored(case).values()) and default_storage.exists(crop.file.name)
    assert not Document.objects.filter(case=case, purged_at__isnull=False).exists()
    assert CheckAttachment.objects.filter(result__case=case).exists()
    assert FaceSignature.objects.filter(case=case).exists()
    assert not _purge_events(case).exists()
    assert report.lines()[0].startswith("Se eliminarían 6 archivos")


def _freeze_and_report(case: Case) -> FraudReview:
    """The holder said "this was not me": the record is frozen and a review opened."""
    person = InsuredPerson.objects.create(
        id_number=case.id_number, first_names=case.first_names, last_names=case.last_names,
        frozen_at=timezone.now(),
    )  # fmt: skip
    Case.objects.filter(pk=case.pk).update(insured=person)
    return FraudReview.objects.create(
        case=case, person=person, reported_at=timezone.now(), channel=ReportChannel.EMAIL
    )


def test_an_open_fraud_review_holds_the_files_until_it_is_closed(rejected, supervisor):
    case, crop = rejected
    review = _freeze_and_report(case)
    later = case.status_changed_at + 400 * DAY

    report = retention_purge(now=later)

    assert report.cases == []
    assert sorted(report.held[case.number]) == ["fraud_review_open", "registry_frozen"]
    assert all(_stored(case).values()) and default_storage.exists(crop.file.name)
    assert FaceSignature.objects.filter(case=case).exists()
    assert any("Retenido" in line and case.number in line for line in report.lines())

    fraud_review_close(
        review=review,
        actor=supervisor,
        outcome=FraudOutcome.NOT_FRAUD,
        resolution="El titular confirmó por teléfono que hizo el cambio.",
    )
    report = retention_purge(now=later)
    assert report.cases == [case.number] and report.held == {}
    assert not any(_stored(case).values())


def test_a_frozen_record_holds_the_persons_cases(rejected):
    case, _ = rejected
    person = InsuredPerson.objects.create(
        id_number=case.id_number, first_names="María", last_names="Quispe",
        frozen_at=timezone.now(),
    )  # fmt: skip
    Case.objects.filter(pk=case.pk).update(insured=person)

    report = retention_purge(now=case.status_changed_at + 400 * DAY)

    assert report.held == {case.number: ["registry_frozen"]}
    assert all(_stored(case).values())


def test_a_this_was_not_me_link_still_valid_holds_the_files(rejected, settings):
    case, _ = rejected
    settings.RETENTION_SELFIE_DAYS = settings.RETENTION_VIDEO_DAYS = 1
    person = InsuredPerson.objects.create(
        id_number=case.id_number, first_names="María", last_names="Quispe"
    )
    ChangeReportLink.objects.create(
        case=case, person=person, channel=ReportChannel.EMAIL, sent_to_masked="m••••@example.org",
        token_hash="0" * 64, expires_at=case.status_changed_at + 7 * DAY,
    )  # fmt: skip

    held = retention_purge(now=case.status_changed_at + 2 * DAY)
    assert held.held == {case.number: ["report_link_active"]}
    assert all(_stored(case).values())

    after = retention_purge(now=case.status_changed_at + 8 * DAY)
    assert dict(after.files) == {"selfie": 1, "video": 1, "check_evidence": 1}


def test_the_periods_come_from_the_settings(rejected, settings):
    case, _ = rejected
    settings.RETENTION_ID_DOCUMENT_DAYS = 10
    settings.RETENTION_SELFIE_DAYS = 20
    settings.RETENTION_VIDEO_DAYS = 30
    settings.RETENTION_REQUEST_FORM_DAYS = 40

    report = retention_purge(now=case.status_changed_at + 10 * DAY)

    # The check evidence follows the shortest period of all (here the ID's).
    assert dict(report.files) == {"id_front": 1, "id_back": 1, "check_evidence": 1}


def test_an_interrupted_run_is_finished_and_a_missing_file_is_no_error(rejected):
    case, _ = rejected
    selfie = case.documents.get(kind="selfie")
    video = case.documents.get(kind="video")
    # A run that stopped after marking the selfie and before deleting its file...
    Document.objects.filter(pk=selfie.pk).update(purged_at=timezone.now())
    # ...and a video file lost some other way.
    default_storage.delete(video.file.name)

    report = retention_purge(now=case.status_changed_at + 90 * DAY)

    assert report.finished == 1
    assert not default_storage.exists(selfie.file.name)
    assert Document.objects.get(pk=selfie.pk).file.name == ""
    assert dict(report.files) == {"video": 1, "check_evidence": 1}
    assert Document.objects.get(pk=video.pk).purged_at is not None


def test_the_command_reports_in_plain_words_and_the_dry_run_keeps_everything(rejected):
    case, _ = rejected
    Case.objects.filter(pk=case.pk).update(status_changed_at=timezone.now() - 400 * DAY)

    out = io.StringIO()
    call_command("purge_expired_files", "--dry-run", stdout=out)
    assert "Se eliminarían 6 archivos" in out.getvalue() and case.number in out.getvalue()
    assert all(_stored(case).values())

    out = io.StringIO()
    call_command("purge_expired_files", stdout=out)
    assert "Se eliminaron 6 archivos" in out.getvalue()
    assert not any(_stored(case).values())

    out = io.StringIO()
    call_command("purge_expired_files", stdout=out)
    assert "nada que eliminar" in out.getvalue()


# The command closes stale connections at each round: outside a test transaction.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduler_purges(rejected):
    case, _ = rejected
    Case.objects.filter(pk=case.pk).update(status_changed_at=timezone.now() - 400 * DAY)

    call_command("run_scheduler", "--once")

    assert not any(_stored(case).values())
    assert _purge_events(case).count() == 1


def test_staff_see_when_a_file_was_purged_and_its_hash(rejected):
    case, _ = rejected
    retention_purge(now=case.status_changed_at + 90 * DAY)
    selfie = case.documents.get(kind="selfie")

    html = render_to_string("backoffice/_purged_document.html", {"document": selfie})

    assert "Archivo eliminado el" in html and "plazo de conservación" in html
    assert timezone.localtime(selfie.purged_at).strftime("%Y-%m-%d") in html
    assert selfie.sha256 in html
    assert "href" not in html
