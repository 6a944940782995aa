"""The outbox keeps every message until an SMTP server has accepted it, and never sends
one twice."""

import datetime as dt

import pytest
from django.utils import timezone

from ventanilla.notifications.models import OutboundEmail
from ventanilla.notifications.services import email_queue, email_send, outbox_requeue_stalled

pytestmark = pytest.mark.django_db


def _queue(key="k1"):
    return email_queue(
        template="correction_received", to="persona@example.org", context={}, dedupe_key=key
    )


def test_message_waits_while_smtp_is_down_and_is_sent_once_it_answers(settings, smtp_server):
    email = _queue()
    reachable = settings.MAILERS["default"]["OPTIONS"]["port"]
    down = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
    }
    settings.MAILERS = {"default": down}

    email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    assert email.attempts == 1
    assert "Connection refused" in email.last_error or "Errno" in email.last_error
    assert email.next_attempt_at > timezone.now()
    # Not due yet: a second run does nothing.
    assert email_send(email_id=email.pk) is None

    settings.MAILERS = {"default": {**down, "OPTIONS": {"host": "127.0.0.1", "port": reachable}}}
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert len(smtp_server.wait_for(1)) == 1
    # A duplicate task for the same message sends nothing more.
    assert email_send(email_id=email.pk) is None
    assert len(smtp_server.messages) == 1


def test_same_event_queues_one_message():
    first, second = _queue("case_received:X"), _queue("case_received:X")
    assert first.pk == second.pk
    assert OutboundEmail.objects.count() == 1


def test_gives_up_after_the_configured_attempts(settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    email = _queue()
    for _ in range(2):
        OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
        email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED
    assert email.attempts == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_message_left_by_a_dead_worker_is_sent_again(smtp_server, run_worker, settings):
    email = _queue()
    # A worker claimed it and died before sending.
    long_ago = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS + 60)
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_at=long_ago, next_attempt_at=long_ago
    )
    outbox_requeue_stalled()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=long_ago)
    assert outbox_requeue_stalled() == 1
    run_worker()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert len(smtp_server.wait_for(1)) == 1
