"""The verification pipeline as background work, on a queue of its own ("checks").

Speech-to-text makes a check run the slowest work of the system (seconds to minutes of
CPU), so it has its own workers (`manage.py run_worker --queue-name checks`): a burst of
videos waits there and never delays the emails and text messages of the "default" queue.

A task may run twice: the scheduler re-enqueues checks that look lost (cases/scheduler.py),
a worker killed after recording a run leaves its task RUNNING, two workers may pick up two
tasks of the same case. So the task is idempotent: it runs the checks only when no finished
run covers the latest request, and never two runs of one case at once.
"""

import contextlib
import logging
from collections.abc import Iterable, Iterator

from django.db import DatabaseError, connection
from django.tasks import task

from ventanilla.cases.constants import FINAL_STATUSES
from ventanilla.cases.models import Case

from .models import CheckRun

logger = logging.getLogger(__name__)

CHECKS_QUEUE = "checks"
# PostgreSQL advisory lock keys of case check runs: this prefix, then the case id.
_LOCK_PREFIX = 0x636B << 40  # "ck"


@contextlib.contextmanager
def case_checks_lock(case_id: int, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock of one case's check run; yields whether it is held.

    On PostgreSQL a session advisory lock: it lives as long as the worker's connection, so
    a worker that is killed (or loses the database) releases it at once, and the scheduler
    can tell a run in progress, however long, from one whose worker died. With `wait`, wait
    for a run in progress to end; without it, yield False at once if one is in progress.
    Other databases (SQLite, for development) have no such lock: yields True."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _LOCK_PREFIX + case_id
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            held = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                # The connection broke: the lock ended with it.
                logger.warning("could not release the check lock of case %s", case_id)


def check_run_covering(case: Case) -> CheckRun | None:
    """A finished run that read the case after its latest request for checks (submission,
    correction, analyst's request, scheduler), or None: then the checks are still owed."""
    if case.checks_enqueued_at is None:
        return None
    return (
        CheckRun.objects.filter(
            case=case, finished_at__isnull=False, requested_at__gte=case.checks_enqueued_at
        )
        .order_by("-finished_at")
        .first()
    )


def case_checks_waiting(case_ids: Iterable[int]) -> set[int]:
    """Those of `case_ids` that have a check task waiting in the queue (READY): their
    checks are late, not lost. Only the database queue can be asked; with another task
    backend, none."""
    from django.tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    case_ids = list(case_ids)
    alias = case_checks_task.backend
    if not case_ids or not isinstance(task_backends[alias], DatabaseBackend):
        return set()
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY,
        backend_name=alias,
        task_path=case_checks_task.module_path,
        args_kwargs__args__0__in=case_ids,
    )
    return set(waiting.values_list("args_kwargs__args__0", flat=True))


@task(queue_name=CHECKS_QUEUE)
def case_checks_task(
    case_id: int, trigger: str = "submission", requested_by_id: int | None = None
) -> str:
    """Run the automated checks of one case, once per request for them.

    Returns the run's recommendation; "skipped" when the case is closed or gone (its
    results stand as they were at the decision, and the retention purge may already have
    deleted its files); "already-checked" when a finished run covers the latest request
    (a duplicate task: the scheduler's, or one left by a worker killed after recording
    its run, whose case then goes on to the analyst here)."""
    from django.contrib.auth import get_user_model

    from ventanilla.cases.services import case_mark_checked

    # The pipeline (numpy, the engines) is imported by the worker that runs it, never by the
    # web processes that enqueue this task.
    from .services import case_checks_run

    if not Case.objects.filter(pk=case_id).exclude(status__in=FINAL_STATUSES).exists():
        logger.info("checks of case %s not run: the case is closed or gone", case_id)
        return "skipped"
    # A second task of the same case waits here for the first run to end, then finds
    # its request covered by it.
    with case_checks_lock(case_id):
        case = Case.objects.filter(pk=case_id).exclude(status__in=FINAL_STATUSES).first()
        if case is None:
            return "skipped"
        covering = check_run_covering(case)
        if covering is not None:
            if case.checks_pending:
                case_mark_checked(case_id=case_id, requested_at=covering.requested_at)
            logger.info("checks of case %s already done by run %s", case_id, covering.pk)
            return "already-checked"
        actor = (
            get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
        )
        return case_checks_run(case_id=case_id, trigger=trigger, requested_by=actor).recommendation
