"""The SMS outbox works like the email one: a row in the caller's transaction, sent by the
worker through SMS_BACKEND, retried while the backend fails, never twice. The default
backend writes each message to a file (no real SMS provider is reachable from here)."""

import datetime as dt
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from ventanilla.notifications.models import OutboundSms
from ventanilla.notifications.services import outbox_requeue_stalled
from ventanilla.notifications.sms import sms_queue, sms_send

NUMBER = "+593991234567"


@pytest.fixture
def sms_dir(settings, tmp_path, monkeypatch) -> Path:
    """Where the file backend writes, here and in a worker process started afterwards."""
    directory = tmp_path / "sms"
    settings.SMS_FILE_DIR = directory
    monkeypatch.setenv("SMS_FILE_DIR", str(directory))
    return directory


def _queue(key="sms-1"):
    return sms_queue(
        template="contact_change_notice",
        to=NUMBER,
        context={"days": 7, "link": "https://ventanilla.example/tramite/no-fui-yo/abc/"},
        dedupe_key=key,
    )


@pytest.mark.django_db
def test_the_same_event_queues_one_message(sms_dir):
    first, second = _queue("k"), _queue("k")
    assert first.pk == second.pk
    assert OutboundSms.objects.count() == 1
    assert "Si no fue usted" in first.body and "https://ventanilla.example/" in first.body


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_message(sms_dir):
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue()
        raise RuntimeError("the change failed")
    assert not OutboundSms.objects.exists()


@pytest.mark.django_db
def test_a_failing_backend_keeps_the_message_and_it_is_sent_once_it_works(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings.SMS_FILE_DIR = blocker / "sms"
    sms = _queue()

    sms_send(sms_id=sms.pk)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (OutboundSms.Status.PENDING, 1)
    assert sms.last_error and sms.next_attempt_at > timezone.now()
    assert sms_send(sms_id=sms.pk) is None  # not due yet

    settings.SMS_FILE_DIR = tmp_path / "sms"
    OutboundSms.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
    sms_send(sms_id=sms.pk)
    sms.refresh_from_db()
    assert sms.status == OutboundSms.Status.SENT
    written = list((tmp_path / "sms").glob("*.txt"))
    assert [str(p) for p in written] == [sms.provider_reference]
    assert sms_send(sms_id=sms.pk) is None  # a duplicate task sends nothing more
    assert len(list((tmp_path / "sms").glob("*.txt"))) == 1


@pytest.mark.django_db
def test_gives_up_after_the_configured_attempts(settings, tmp_path):
    settings.SMS_MAX_ATTEMPTS = 2
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.SMS_FILE_DIR = blocker / "sms"
    sms = _queue()
    for _ in range(2):
        OutboundSms.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
        sms_send(sms_id=sms.pk)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (OutboundSms.Status.FAILED, 2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_message_left_by_a_dead_worker_is_sent_again(settings, sms_dir, run_worker):
    sms = _queue()
    long_ago = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS + 60)
    OutboundSms.objects.filter(pk=sms.pk).update(
        status=OutboundSms.Status.SENDING, claimed_at=long_ago, next_attempt_at=long_ago
    )
    outbox_requeue_stalled()
    OutboundSms.objects.filter(pk=sms.pk).update(next_attempt_at=long_ago)
    assert outbox_requeue_stalled() == 1
    run_worker()
    sms.refresh_from_db()
    assert sms.status == OutboundSms.Status.SENT
    assert len(list(sms_dir.glob("*.txt"))) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_process_sends_it_after_commit(sms_dir, worker_process):
    with transaction.atomic():
        sms = _queue()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sms.refresh_from_db()
        if sms.status == OutboundSms.Status.SENT:
            break
        assert worker_process.poll() is None, "the worker process died"
        time.sleep(0.2)
    assert sms.status == OutboundSms.Status.SENT
    (written,) = sms_dir.glob("*.txt")
    content = written.read_text(encoding="utf-8")
    assert content.startswith(f"To: {NUMBER}\n")
    assert "https://ventanilla.example/tramite/no-fui-yo/abc/" in content
