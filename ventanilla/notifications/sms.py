"""The SMS outbox: every text message is a row first, then a send by the worker through
SMS_BACKEND (sms_backends.py). Like the email outbox (services.py): queued in the
caller's transaction and sent on commit; claiming, retries with a growing delay and the
scheduler's re-enqueueing are the shared mechanics of outbox.py."""

import datetime as dt

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ventanilla.ops.queue import enqueue_with_commit

from .models import OutboundSms
from .outbox import outbox_claim, outbox_send_failed, outbox_sent
from .sms_backends import sms_backend

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
    from .tasks import sms_send_task

    enqueue_with_commit(sms_send_task, sms.pk)
    return sms


def sms_send_enqueue(sms_id: int, run_after: dt.datetime | None = None) -> None:
    from .tasks import sms_send_task

    task = sms_send_task.using(run_after=run_after) if run_after else sms_send_task
    task.enqueue(sms_id)


def sms_send(*, sms_id: int) -> OutboundSms | None:
    """Send one queued message through the backend, recording success or a retry.
    None when there is nothing to send: another worker has the message, or it was sent."""
    sms = outbox_claim(OutboundSms, sms_id)
    if sms is None:
        return None
    try:
        reference = sms_backend().send(to=sms.to, body=sms.body)
    except Exception as exc:  # any provider or network failure: keep it, try later
        return outbox_send_failed(
            sms, exc, max_attempts=settings.SMS_MAX_ATTEMPTS, enqueue=sms_send_enqueue
        )
    return outbox_sent(sms, provider_reference=str(reference or "")[:255])
