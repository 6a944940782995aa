import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.checks.constants import RunTrigger
from ventanilla.checks.models import CheckRun
from ventanilla.notifications.models import OutboundEmail, OutboundSms
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db

TOKEN = "prometheus-scraper-token-for-tests"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of one authorised GET /metrics."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _task(queue: str, status: str) -> None:
    DBTaskResult.objects.create(
        status=status,
        queue_name=queue,
        backend_name="default",
        task_path="ventanilla.notifications.tasks.send_email",
        args_kwargs={"args": [], "kwargs": {}},
        run_after=timezone.now(),
    )


def _email(key: str, status: str) -> None:
    OutboundEmail.objects.create(
        template="case_received",
        to="maria@example.org",
        subject="Recibimos su trámite",
        body_text="...",
        dedupe_key=key,
        status=status,
        next_attempt_at=timezone.now(),
    )


def test_no_token_configured_means_no_endpoint(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


def test_missing_or_wrong_token_is_refused(client, metrics_on):
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "METRICS_TOKEN" in response.content.decode()
    # The token in another scheme is not accepted either.
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_queue_depth_per_queue_and_status(client, metrics_on):
    before = scrape(client)
    _task("speech", "READY")
    _task("speech", "READY")
    _task("speech", "RUNNING")
    _task("default", "SUCCESSFUL")  # finished work is not queue depth
    after = scrape(client)
    name = "ventanilla_task_queue_depth"
    ready = (name, (("queue", "speech"), ("status", "READY")))
    running = (name, (("queue", "speech"), ("status", "RUNNING")))
    assert after[ready] - before.get(ready, 0) == 2
    assert after[running] - before.get(running, 0) == 1
    default_ready = (name, (("queue", "default"), ("status", "READY")))
    assert after.get(default_ready, 0) == before.get(default_ready, 0)


def test_outbox_pending_and_failed(client, metrics_on):
    before = scrape(client)
    _email("m-1", OutboundEmail.Status.PENDING)
    _email("m-2", OutboundEmail.Status.FAILED)
    _email("m-3", OutboundEmail.Status.SENT)
    OutboundSms.objects.create(
        template="case_received",
        to="+593991234567",
        body="Recibimos su trámite.",
        dedupe_key="s-1",
        next_attempt_at=timezone.now(),
    )
    after = scrape(client)

    def delta(name, status):
        key = (name, (("status", status),))
        return after[key] - before[key]

    assert delta("ventanilla_emails", "pending") == 1
    assert delta("ventanilla_emails", "failed") == 1
    assert delta("ventanilla_emails", "sending") == 0
    assert delta("ventanilla_sms", "pending") == 1


def test_cases_by_status_review_deadline_breaches_and_check_durations(client, metrics_on):
    fields = submission_fields()
    case = submit_request(fields, submission_files(fields))
    before = scrape(client)
    submitted = ("ventanilla_cases", (("status", CaseStatus.SUBMITTED),))
    assert before[submitted] >= 1
    assert before[("ventanilla_cases", (("status", CaseStatus.COMPLETED),))] == 0

    # The review deadline passes while the case still waits for the analyst.
    Case.objects.filter(pk=case.pk).update(review_due_at=timezone.now() - dt.timedelta(hours=1))
    now = timezone.now()
    for seconds in (10, 20, 30):
        CheckRun.objects.create(
            case=case,
            trigger=RunTrigger.choices[0][0],
            requested_at=now,
            started_at=now,
            finished_at=now + dt.timedelta(seconds=seconds),
            timings={"document_ocr": seconds / 2},
        )
    after = scrape(client)
    breaches = ("ventanilla_cases_past_review_deadline", ())
    assert after[breaches] - before[breaches] == 1
    assert after[("ventanilla_check_run_duration_seconds", (("quantile", "1.0"),))] >= 30
    assert after[("ventanilla_check_run_duration_seconds", (("quantile", "0.5"),))] >= 10
    assert after[("ventanilla_check_runs_sampled", ())] >= 3
    ocr_max = (
        "ventanilla_check_duration_seconds",
        (("check", "document_ocr"), ("quantile", "1.0")),
    )
    assert after[ocr_max] >= 15

    # Once decided, the case no longer counts as a breach.
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CALL_PENDING)
    assert scrape(client)[breaches] == before[breaches]
