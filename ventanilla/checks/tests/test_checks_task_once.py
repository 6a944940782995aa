"""The checks task may run twice (a duplicate from the scheduler, a task left by a killed
worker): the checks then run once per request for them, and the case moves to the analyst
once. A new request (a correction, an analyst's) still runs them again. The tasks go to a
queue of their own, "checks", apart from the emails' "default"."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.cases.scheduler import cases_requeue_stalled_checks
from ventanilla.checks.models import CheckResult, CheckRun
from ventanilla.checks.reruns import case_checks_request
from ventanilla.checks.tasks import case_checks_task
from ventanilla.notifications.models import OutboundEmail
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db


def _submit() -> Case:
    fields = submission_fields()
    return submit_request(fields, submission_files(fields))


def _moves_to_review(case) -> int:
    return case.transitions.filter(to_status=CaseStatus.IN_REVIEW).count()


def test_a_duplicate_task_runs_nothing_again():
    case = _submit()
    first = case_checks_task.call(case.pk)
    assert first not in ("skipped", "already-checked")
    assert case_checks_task.call(case.pk, "scheduler") == "already-checked"

    run = CheckRun.objects.get(case=case)
    assert run.finished_at is not None
    assert set(CheckResult.objects.filter(case=case).values_list("run", flat=True)) == {run.pk}
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and not case.checks_pending
    assert _moves_to_review(case) == 1


def test_a_new_request_runs_the_checks_again(analyst):
    case = _submit()
    case_checks_task.call(case.pk)
    case.refresh_from_db()
    case_checks_request(case=case, actor=analyst)
    assert case_checks_task.call(case.pk, "analyst", analyst.pk) != "already-checked"
    assert CheckRun.objects.filter(case=case, finished_at__isnull=False).count() == 2
    assert case_checks_task.call(case.pk, "analyst", analyst.pk) == "already-checked"
    assert _moves_to_review(case) == 1


def test_a_run_recorded_by_a_worker_killed_before_handing_the_case_on():
    """The run's results were committed, then the worker died before the case moved to
    the analyst: the task left behind (or the scheduler's) moves it without a second run."""
    case = _submit()
    case_checks_task.call(case.pk)
    # As the worker left it: the run recorded, the case not yet moved on.
    case.transitions.filter(to_status=CaseStatus.IN_REVIEW).delete()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.SUBMITTED, checks_completed_at=None)
    assert case_checks_task.call(case.pk) == "already-checked"
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and not case.checks_pending
    assert CheckRun.objects.filter(case=case).count() == 1
    assert _moves_to_review(case) == 1


def test_the_scheduler_leaves_alone_a_case_whose_task_waits_in_the_queue(
    settings, django_capture_on_commit_callbacks
):
    """A burst of videos: tasks wait longer than STALLED_WORK_AFTER_SECONDS. They are
    late, not lost, and get no duplicate."""
    with django_capture_on_commit_callbacks(execute=True):
        case = _submit()
    long_ago = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS + 1)
    Case.objects.filter(pk=case.pk).update(checks_enqueued_at=long_ago)
    waiting = DBTaskResult.objects.filter(task_path__endswith="case_checks_task", status="READY")
    assert waiting.count() == 1
    assert cases_requeue_stalled_checks() == 0
    assert waiting.count() == 1

    waiting.delete()  # the task was lost
    assert cases_requeue_stalled_checks() == 1
    assert waiting.count() == 1
    # Re-armed: the next tick does not enqueue it again.
    assert cases_requeue_stalled_checks() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_checks_and_emails_wait_on_their_own_queues():
    """A worker of the "default" queue sends the acknowledgement and leaves the checks to
    the workers of the "checks" queue, whatever their backlog."""
    case = _submit()
    queues = dict(DBTaskResult.objects.values_list("task_path", "queue_name"))
    assert queues == {
        "ventanilla.checks.tasks.case_checks_task": "checks",
        "ventanilla.notifications.tasks.email_send_task": "default",
    }

    def worker(queue):
        call_command(
            "run_worker",
            "--queue-name",
            queue,
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--interval",
            "0",
            verbosity=0,
        )

    worker("default")
    case.refresh_from_db()
    assert OutboundEmail.objects.get(case=case).status == OutboundEmail.Status.SENT
    assert case.status == CaseStatus.SUBMITTED
    worker("checks")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
