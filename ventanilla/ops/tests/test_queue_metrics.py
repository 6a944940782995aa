"""Queue figures per queue: every configured queue is reported (an idle one as 0), and
how long the oldest ready task has waited, the delay a new task of that queue meets."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db

TOKEN = "prometheus-scraper-token-for-tests"


@pytest.fixture(autouse=True)
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _task(queue: str, status: str = "READY", *, enqueued_ago=0, run_after=None) -> None:
    task = DBTaskResult.objects.create(
        status=status,
        queue_name=queue,
        backend_name="default",
        task_path="ventanilla.checks.tasks.case_checks_task",
        args_kwargs={"args": [1], "kwargs": {}},
        run_after=run_after or get_date_max(),
    )
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=timezone.now() - dt.timedelta(seconds=enqueued_ago)
    )


def test_each_configured_queue_is_reported_even_when_idle(client):
    figures = scrape(client)
    for queue in ("default", "checks"):
        for status in ("READY", "RUNNING"):
            key = ("ventanilla_task_queue_depth", (("queue", queue), ("status", status)))
            assert figures[key] == 0
        assert figures[("ventanilla_task_queue_oldest_ready_seconds", (("queue", queue),))] == 0


def test_the_oldest_ready_task_per_queue(client):
    # A burst of videos: the checks queue has waited 10 minutes; the emails none.
    _task("checks", enqueued_ago=600)
    _task("checks", enqueued_ago=30)
    _task("checks", "RUNNING", enqueued_ago=3600)  # running: not waiting any more
    # An email's retry, due in a minute: not waiting yet.
    _task("default", run_after=timezone.now() + dt.timedelta(minutes=1))
    # Another retry, due 20 s ago: it waits since then, not since it was enqueued.
    _task("default", enqueued_ago=900, run_after=timezone.now() - dt.timedelta(seconds=20))
    figures = scrape(client)
    oldest = "ventanilla_task_queue_oldest_ready_seconds"
    assert 600 <= figures[(oldest, (("queue", "checks"),))] < 660
    assert 20 <= figures[(oldest, (("queue", "default"),))] < 80
    depth = "ventanilla_task_queue_depth"
    assert figures[(depth, (("queue", "checks"), ("status", "READY")))] == 2
    assert figures[(depth, (("queue", "checks"), ("status", "RUNNING")))] == 1
    assert figures[(depth, (("queue", "default"), ("status", "READY")))] == 2
