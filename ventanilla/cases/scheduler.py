"""Periodic work: re-enqueue what a dead worker left behind."""

import datetime as dt

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .constants import FINAL_STATUSES
from .models import Case


def cases_requeue_stalled_checks() -> int:
    """Checks asked for long ago and never finished (after a submission, a correction or an
    analyst's request): their task was lost with a dead worker. Enqueue them again."""
    from ventanilla.checks.tasks import case_checks_task

    stale = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS)
    unfinished = Q(checks_completed_at__isnull=True) | Q(
        checks_completed_at__lt=F("checks_enqueued_at")
    )
    stalled = list(
        Case.objects.filter(unfinished, checks_enqueued_at__lt=stale)
        .exclude(status__in=FINAL_STATUSES)
        .values_list("pk", flat=True)
    )
    for case_id in stalled:
        case_checks_task.enqueue(case_id, "scheduler")
    # Re-arm the timer so a still-dead worker does not get a new task every tick.
    Case.objects.filter(pk__in=stalled).update(checks_enqueued_at=timezone.now())
    return len(stalled)
