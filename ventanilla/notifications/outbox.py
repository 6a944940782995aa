"""What every outbox shares, emails (OutboundEmail, services.py) and text messages
(OutboundSms, sms.py): a row is claimed before it is sent, a failed send is kept and
retried with a growing delay until its limit, and the scheduler re-enqueues what a dead
worker left behind. Each outbox model has the same status values and bookkeeping fields
(status, attempts, next_attempt_at, last_error, claimed_at).

Delivery is at least once, and in practice once: a task that runs twice (two workers, a
re-enqueued duplicate) finds the row claimed or sent and sends nothing. The one window
left is a worker killed, or a database lost for longer than RECORD_RETRY_SECONDS, after
the server accepted a message and before the row says so: the scheduler then sends it
again after STALLED_WORK_AFTER_SECONDS (docs/deployment.md, "Task queues and workers").
"""

import datetime as dt
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# How long a sent message's row is retried against an unreachable database (a restart, a
# failover) before the worker gives up and leaves it to the scheduler, which resends it.
RECORD_RETRY_SECONDS = 60
RECORD_RETRY_DELAYS = (0.5, 1, 2, 4, 5)


def retry_delay(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, at most an hour, between attempts."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def outbox_claim(model, pk: int):
    """Take the message for this worker; None when another worker has it, or it is done.
    A conditional update: of two workers running the same message's task at once, one
    claims it and the other gets None."""
    now = timezone.now()
    claimed = model.objects.filter(
        pk=pk, status=model.Status.PENDING, next_attempt_at__lte=now
    ).update(status=model.Status.SENDING, claimed_at=now)
    return model.objects.get(pk=pk) if claimed else None


def outbox_sent(message, **values):
    """Record that the server accepted `message` (status sent, one more attempt, and
    `values`). The send cannot be taken back, so a database that is briefly unreachable
    must not make it a resend: the write is retried for up to RECORD_RETRY_SECONDS on a
    new connection."""
    model = type(message)
    message.attempts += 1
    message.status = model.Status.SENT
    message.sent_at = timezone.now()
    for name, value in values.items():
        setattr(message, name, value)
    fields = {"attempts", "status", "sent_at", *values}
    alias = message._state.db or "default"
    deadline = time.monotonic() + RECORD_RETRY_SECONDS
    delays = iter(RECORD_RETRY_DELAYS)
    while True:
        try:
            message.save(update_fields=fields)
            return message
        except (OperationalError, InterfaceError) as exc:
            connection = connections[alias]
            delay = next(delays, RECORD_RETRY_DELAYS[-1])
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            logger.warning(
                "%s %s was sent, but the database is unreachable (%s): recording it again in %s s",
                model._meta.model_name,
                message.pk,
                _first_line(exc),
                delay,
            )
            connection.close()
            time.sleep(delay)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


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
    """Re-enqueue the messages of `model` that a dead worker left behind: claimed long ago
    (its worker died mid-send), or due long ago and never taken (its task was lost).
    Returns how many were re-enqueued.

    The rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED and enqueued in the same
    transaction, so two schedulers never enqueue the same message twice, and the due time
    is pushed forward so that a still-dead worker does not get it again at every tick."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS)
    left_behind = Q(status=model.Status.SENDING, claimed_at__lt=stale) | Q(
        status=model.Status.PENDING, next_attempt_at__lt=stale
    )
    with transaction.atomic():
        pks = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(left_behind)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        model.objects.filter(left_behind, pk__in=pks).update(
            status=model.Status.PENDING, next_attempt_at=now
        )
        for pk in pks:
            enqueue(pk)
    return len(pks)
