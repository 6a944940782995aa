"""Periodic work: re-enqueue what a dead worker left behind."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from .constants import CaseStatus
from .models import Case


def cases_requeue_stalled_checks() -> int:
    """Cases still `submitted` long after submission: their check task was lost. Enqueue again."""
    from ventanilla.checks.tasks import case_checks_task

    stale = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS)
    stalled = list(
        Case.objects.filter(status=CaseStatus.SUBMITTED, checks_enqueued_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    for case_id in stalled:
        case_checks_task.enqueue(case_id, "scheduler")
    # Re-arm the timer so a still-dead worker does not get a new task every tick.
    Case.objects.filter(pk__in=stalled).update(checks_enqueued_at=timezone.now())
    return len(stalled)
