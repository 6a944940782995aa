"""A message's task may run twice (a duplicate from the scheduler, two workers): the
message goes out once. What a dead worker left is re-enqueued once per scheduler tick.
(Three worker processes sharing 200 messages on PostgreSQL: ops/tests/test_worker_faults.py.)"""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ventanilla.notifications.models import OutboundEmail, OutboundSms
from ventanilla.notifications.services import email_queue, outbox_requeue_stalled
from ventanilla.notifications.sms import sms_queue
from ventanilla.notifications.tasks import email_send_task, sms_send_task

pytestmark = pytest.mark.django_db


def test_a_duplicate_email_task_sends_nothing_more(smtp_server):
    email = email_queue(
        template="correction_received", to="persona@example.org", context={}, dedupe_key="k"
    )
    assert email_send_task.call(email.pk) == OutboundEmail.Status.SENT
    assert email_send_task.call(email.pk) == "skipped"
    assert len(smtp_server.wait_for(1)) == 1
    email.refresh_from_db()
    assert email.attempts == 1 and email.status == OutboundEmail.Status.SENT


def test_a_duplicate_sms_task_sends_nothing_more(settings, tmp_path):
    settings.SMS_FILE_DIR = tmp_path / "sms"
    sms = sms_queue(
        template="contact_change_notice",
        to="+593991234567",
        context={"days": 7, "link": "https://ventanilla.example/tramite/no-fui-yo/abc/"},
        dedupe_key="k",
    )
    assert sms_send_task.call(sms.pk) == OutboundSms.Status.SENT
    assert sms_send_task.call(sms.pk) == "skipped"
    assert len(list(settings.SMS_FILE_DIR.glob("*.txt"))) == 1


def test_a_message_left_mid_send_is_enqueued_again_once(settings):
    email = email_queue(
        template="correction_received", to="persona@example.org", context={}, dedupe_key="k"
    )
    long_ago = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS + 1)
    # Its worker claimed it long ago and died during the send.
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_at=long_ago, next_attempt_at=long_ago
    )
    tasks = DBTaskResult.objects.filter(task_path__endswith="email_send_task", status="READY")
    before = tasks.count()

    assert outbox_requeue_stalled() == 1
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING and email.next_attempt_at > long_ago
    assert tasks.count() == before + 1
    # The next ticks leave it to the task just enqueued.
    assert outbox_requeue_stalled() == 0
    assert tasks.count() == before + 1


def test_a_message_being_sent_now_is_left_alone(settings):
    email = email_queue(
        template="correction_received", to="persona@example.org", context={}, dedupe_key="k"
    )
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_at=timezone.now()
    )
    assert outbox_requeue_stalled() == 0
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENDING
