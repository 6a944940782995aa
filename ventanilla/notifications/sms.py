"""The SMS outbox: every text message is a row first, then a send by the worker through
SMS_BACKEND (sms_backends.py). It follows the email outbox (services.py) step by step:
queued in the caller's transaction, sent on commit, claimed before sending, retried with
a growing delay, re-enqueued by the scheduler when a worker died."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import OutboundSms
from .services import retry_delay
from .sms_backends import sms_backend

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "notifications/sms"


def sms_render(template: str, context: dict) -> str:
    """The text of a message, in Spanish, on one paragraph per line."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override("es"):
        text = render_to_string(f"{TEMPLATE_DIR}/{template}.txt", context)
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


def sms_queue(*, template: str, to: str, context: dict, dedupe_key: str, case=None) -> OutboundSms:
    """Queue one text message to `to` (E.164). The same `dedupe_key` never produces a
    second message."""
    existing = OutboundSms.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    sms = OutboundSms.objects.create(
        case=case,
        template=template,
        to=to,
        body=sms_render(template, {"case": case, **context}),
        dedupe_key=dedupe_key,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue_send(sms.pk))
    return sms


def _enqueue_send(sms_id: int, run_after: dt.datetime | None = None) -> None:
    from .tasks import sms_send_task

    task = sms_send_task.using(run_after=run_after) if run_after else sms_send_task
    task.enqueue(sms_id)


def _claim(sms_id: int) -> OutboundSms | None:
    now = timezone.now()
    claimed = OutboundSms.objects.filter(
        pk=sms_id, status=OutboundSms.Status.PENDING, next_attempt_at__lte=now
    ).update(status=OutboundSms.Status.SENDING, claimed_at=now)
    return OutboundSms.objects.get(pk=sms_id) if claimed else None


def sms_send(*, sms_id: int) -> OutboundSms | None:
    """Send one queued message through the backend, recording success or a retry."""
    sms = _claim(sms_id)
    if sms is None:
        return None
    try:
        reference = sms_backend().send(to=sms.to, body=sms.body)
    except Exception as exc:  # any provider or network failure: keep it, try later
        sms.attempts += 1
        sms.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if sms.attempts >= settings.SMS_MAX_ATTEMPTS:
            sms.status = OutboundSms.Status.FAILED
        else:
            sms.status = OutboundSms.Status.PENDING
            sms.next_attempt_at = timezone.now() + retry_delay(sms.attempts)
        sms.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        logger.warning("sms %s to case %s failed: %s", sms.pk, sms.case_id, sms.last_error)
        if sms.status == OutboundSms.Status.PENDING:
            _enqueue_send(sms.pk, run_after=sms.next_attempt_at)
        return sms
    sms.attempts += 1
    sms.status = OutboundSms.Status.SENT
    sms.sent_at = timezone.now()
    sms.provider_reference = str(reference or "")[:255]
    sms.save(update_fields=["attempts", "status", "sent_at", "provider_reference"])
    return sms


def sms_requeue_stalled() -> int:
    """Re-enqueue text messages a dead worker left behind (see outbox_requeue_stalled)."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS)
    OutboundSms.objects.filter(status=OutboundSms.Status.SENDING, claimed_at__lt=stale).update(
        status=OutboundSms.Status.PENDING, next_attempt_at=now
    )
    due = list(
        OutboundSms.objects.filter(
            status=OutboundSms.Status.PENDING, next_attempt_at__lt=stale
        ).values_list("pk", flat=True)
    )
    OutboundSms.objects.filter(pk__in=due).update(next_attempt_at=now)
    for sms_id in due:
        _enqueue_send(sms_id)
    return len(due)
