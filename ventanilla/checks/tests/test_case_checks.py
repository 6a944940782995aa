"""The worker's checks: a case reaches the analyst even when its worker died, and a
damaged stored file is reported."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.cases.scheduler import cases_requeue_stalled_checks
from ventanilla.checks.models import CheckResult, CheckRun
from ventanilla.checks.reruns import case_checks_request
from ventanilla.checks.services import case_checks_run
from ventanilla.testing import media, pki
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db


def _submit() -> Case:
    fields = submission_fields()
    return submit_request(fields, submission_files(fields))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_case_whose_worker_died_is_checked_again(run_worker, settings):
    case = _submit()
    # The worker took the task and died: the task stays RUNNING forever.
    task = DBTaskResult.objects.get(task_path__endswith="case_checks_task")
    task.claim("dead-worker")
    task.save()
    run_worker()
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED

    assert cases_requeue_stalled_checks() == 0  # not stalled yet
    Case.objects.filter(pk=case.pk).update(
        checks_enqueued_at=timezone.now()
        - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS + 1)
    )
    assert cases_requeue_stalled_checks() == 1
    run_worker()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


@pytest.mark.parametrize("change", ["altered_on_disk", "replaced_through_storage"])
def test_checks_report_a_stored_file_that_changed(change):
    case = _submit()
    selfie = case.documents.get(kind="selfie")
    if change == "altered_on_disk":
        # Someone with access to the disk flips a byte of the encrypted file.
        path = Path(default_storage.path(selfie.file.name))
        data = bytearray(path.read_bytes())
        data[-40] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        # Someone with the key replaces it with another (properly encrypted) file.
        default_storage.delete(selfie.file.name)
        default_storage.save(selfie.file.name, ContentFile(b"\xff\xd8\xff\xe0 not a jpeg any more"))
    case_checks_run(case_id=case.pk)
    result = CheckResult.objects.get(
        case=case, document=selfie, name="file_integrity", is_current=True
    )
    assert result.outcome == "fail"
    if change == "altered_on_disk":
        assert "alterado" in result.summary
    # The other files are sound, and the case still reaches the analyst: checks advise, never decide.
    sound = CheckResult.objects.filter(
        case=case, name="file_integrity", outcome__in=["pass", "warn"], is_current=True
    )
    assert sound.count() == 4
    # The broken selfie is not read any further (no image or face result about it).
    assert not CheckResult.objects.filter(case=case, document=selfie, name="image_quality").exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_running_the_checks_twice_shows_only_the_latest_run():
    case = _submit()
    first = case_checks_run(case_id=case.pk)
    second = case_checks_run(case_id=case.pk)
    current = CheckResult.objects.filter(case=case, is_current=True)
    assert set(current.values_list("run", flat=True)) == {second.pk}
    assert current.count() == second.results.count() == first.results.count()
    assert current.filter(name="file_integrity").count() == 5
    assert case.transitions.filter(to_status=CaseStatus.IN_REVIEW).count() == 1


def test_a_form_with_javascript_never_reaches_the_analyst():
    """Active content is refused at intake (ventanilla/documents/validation.py), so no
    case is made and no check runs on it; the citizen is told to export the form again."""
    fields = submission_fields()
    scripted = pki.add_javascript(media.pdf_bytes(["Solicitud", fields["first_names"]]))
    files = submission_files(fields)
    files["request_form"] = SimpleUploadedFile("solicitud.pdf", scripted, "application/pdf")
    with pytest.raises(ValueError, match="JavaScript"):
        submit_request(fields, files)
    assert not Case.objects.exists()
    assert not CheckResult.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_requested_rerun_whose_task_was_lost_is_repeated(run_worker, settings, analyst):
    case = _submit()
    run_worker()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and not case.checks_pending

    case_checks_request(case=case, actor=analyst)
    DBTaskResult.objects.filter(status="READY").delete()  # the worker that took it died
    case.refresh_from_db()
    assert case.checks_pending
    assert cases_requeue_stalled_checks() == 0  # not stalled yet

    # Time passes: the last run finished, then the re-run was asked for, long ago.
    asked = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS + 1)
    Case.objects.filter(pk=case.pk).update(
        checks_enqueued_at=asked, checks_completed_at=asked - dt.timedelta(minutes=5)
    )
    assert cases_requeue_stalled_checks() == 1
    run_worker()
    case.refresh_from_db()
    assert not case.checks_pending
    assert CheckRun.objects.filter(case=case, trigger="scheduler").exists()
    assert cases_requeue_stalled_checks() == 0


def test_a_stray_task_does_not_run_on_a_closed_case():
    """A task that reaches a case decided meanwhile leaves its results (and files) alone."""
    from ventanilla.checks.tasks import case_checks_task

    case = _submit()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.REQUIREMENTS_REJECTED)
    assert case_checks_task.call(case.pk) == "skipped"
    assert not CheckRun.objects.filter(case=case).exists()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.IN_REVIEW)
    assert case_checks_task.call(case.pk) != "skipped"
    assert CheckRun.objects.filter(case=case).count() == 1
