"""What every outbox shares, emails (OutboundEmail, services.py) and text messages
(OutboundSms, sms.py): a row is claimed before it is sent, a failed send is kept and
retried with a growing delay until its limit, and the scheduler re-enqueues what a dead
worker left behind. Each outbox model has the same status values and bookkeeping fields
(status, attempts, next_attempt_at, last_error, claimed_at)."""

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, at most an hour, between attempts."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def outbox_claim(model, pk: int):
    """Take the message for this worker; None when another worker has it, or it is done."""
    now = timezone.now()
    claimed = model.objects.filter(
        pk=pk, status=model.Status.PENDING, next_attempt_at__lte=now
    ).update(status=model.Status.SENDING, claimed_at=now)
    return model.objects.get(pk=pk) if claimed else None


def outbox_send_failed(message, exc: Exception, *, max_attempts: int, enqueue: Callable):
    """Record a failed send: pending again after retry_delay (and enqueued for then), or
    failed for good once `max_attempts` is reached."""
    model = type(message)
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= max_attempts:
        message.status = model.Status.FAILED
    else:
        message.status = model.Status.PENDING
        message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
    message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    logger.warning(
        "%s %s to case %s failed: %s",
        model._meta.model_name,
        message.pk,
        message.case_id,
        message.last_error,
    )
    if message.status == model.Status.PENDING:
        enqueue(message.pk, run_after=message.next_attempt_at)
    return message


def outbox_requeue(model, enqueue: Callable) -> int:
    """Re-enqueue the messages of `model` that a dead worker left behind: claimed long ago,
    or due and forgotten. Returns how many were re-enqueued."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS)
    model.objects.filter(status=model.Status.SENDING, claimed_at__lt=stale).update(
        status=model.Status.PENDING, next_attempt_at=now
    )
    due = list(
        model.objects.filter(status=model.Status.PENDING, next_attempt_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    # Push the due time forward so a still-dead worker does not get the same message
    # enqueued again at every tick.
    model.objects.filter(pk__in=due).update(next_attempt_at=now)
    for pk in due:
        enqueue(pk)
    return len(due)
