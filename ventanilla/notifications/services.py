"""The outbox: every message is a row first, then an SMTP send by the worker.

A message is queued in the same transaction as the change it announces, so a
rolled-back change sends nothing, and a committed one is never forgotten: the
task sends it, and the scheduler re-enqueues anything a dead worker left behind.
"""

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ventanilla.ops.queue import enqueue_with_commit

from .models import OutboundEmail, OutboundSms
from .outbox import outbox_claim, outbox_requeue, outbox_send_failed, outbox_sent
from .sms import sms_send_enqueue

TEMPLATE_DIR = "notifications/email"


def email_render(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a message, in Spanish."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override("es"):
        subject = render_to_string(f"{TEMPLATE_DIR}/{template}.subject.txt", context)
        text = render_to_string(f"{TEMPLATE_DIR}/{template}.txt", context)
        html = render_to_string(f"{TEMPLATE_DIR}/{template}.html", context)
    return " ".join(subject.split()), text, html


def email_queue(
    *,
    template: str,
    to: str,
    context: dict,
    dedupe_key: str,
    case=None,
    attachments: list[dict] | None = None,
) -> OutboundEmail:
    """Queue one message. The same `dedupe_key` never produces a second message."""
    existing = OutboundEmail.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    subject, text, html = email_render(template, {"case": case, **context})
    email = OutboundEmail.objects.create(
        case=case,
        template=template,
        to=to,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=attachments or [],
        dedupe_key=dedupe_key,
        next_attempt_at=timezone.now(),
    )
    from .tasks import email_send_task

    enqueue_with_commit(email_send_task, email.pk)
    return email


def _enqueue_send(email_id: int, run_after: dt.datetime | None = None) -> None:
    from .tasks import email_send_task

    task = email_send_task.using(run_after=run_after) if run_after else email_send_task
    task.enqueue(email_id)


def email_send(*, email_id: int) -> OutboundEmail | None:
    """Send one queued message over SMTP, recording success or scheduling a retry.
    None when there is nothing to send: another worker has the message, or it was sent."""
    email = outbox_claim(OutboundEmail, email_id)
    if email is None:
        return None
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"X-Ventanilla-Case": email.case.number if email.case_id else ""},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for part in email.attachments:
        message.attach(part["filename"], part["content"], part["content_type"])
    try:
        message.send()
    except Exception as exc:  # any SMTP or network failure: keep the message, try later
        return outbox_send_failed(
            email, exc, max_attempts=settings.EMAIL_MAX_ATTEMPTS, enqueue=_enqueue_send
        )
    return outbox_sent(email, message_id=message.extra_headers.get("Message-ID", "") or "")


def outbox_requeue_stalled() -> int:
    """Re-enqueue messages a dead worker left behind: claimed long ago, or due and forgotten.
    Emails and text messages (OutboundSms) both; returns how many were re-enqueued.

    Run periodically by the scheduler; sending stays safe because of the claim.
    """
    # Text messages ride the same scheduler tick (run_scheduler calls this function).
    return outbox_requeue(OutboundEmail, _enqueue_send) + outbox_requeue(
        OutboundSms, sms_send_enqueue
    )
