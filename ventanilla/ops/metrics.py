"""Figures for Prometheus, counted from the database when Prometheus asks.

Every figure is read at scrape time from the tables the web and the workers share, so
the answer is the same whichever web process serves it, with any number of processes
and without prometheus_client's multiprocess mode. Nothing is counted in memory.
"""

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ventanilla.cases.constants import REVIEW_CLOCK_STATUSES, CaseStatus
from ventanilla.cases.models import Case
from ventanilla.checks.models import CheckRun
from ventanilla.notifications.models import OutboundEmail, OutboundSms

# How many of the latest finished check runs the duration figures describe.
CHECK_RUNS_SAMPLE = 100
QUANTILES = (0.5, 0.95, 1.0)
QUEUE_STATUSES = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
OUTBOX_STATUSES = ("pending", "sending", "failed")


def _counts(queryset, *fields: str) -> dict[tuple, int]:
    rows = queryset.values(*fields).annotate(n=Count("pk")).order_by()
    return {tuple(row[field] for field in fields): row["n"] for row in rows}


def _quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile of a sorted, non-empty list (q=1.0 is the maximum)."""
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def _configured_queues() -> list[str]:
    return [queue for backend in settings.TASKS.values() for queue in backend.get("QUEUES", [])]


def _ready_since() -> dict[str, dt.datetime]:
    """Per queue, since when the oldest ready task could have run: when it was enqueued,
    or, for one enqueued to run later (an email's retry), its run_after."""
    ready = DBTaskResult.objects.ready()
    immediate = (
        ready.filter(run_after=get_date_max())
        .values("queue_name")
        .annotate(since=Min("enqueued_at"))
        .order_by()
    )
    delayed = (
        ready.exclude(run_after=get_date_max())
        .values("queue_name")
        .annotate(since=Min("run_after"))
        .order_by()
    )
    since: dict[str, dt.datetime] = {}
    for row in [*immediate, *delayed]:
        queue = row["queue_name"]
        since[queue] = min(since.get(queue, row["since"]), row["since"])
    return since


class DatabaseCollector(Collector):
    """Queue depth, outbox, cases by status, SLA breaches and check durations."""

    def collect(self):
        yield from self._task_queue()
        yield from self._outbox()
        yield self._cases()
        yield self._review_deadline_breaches()
        yield from self._check_durations()

    def _task_queue(self):
        depth = GaugeMetricFamily(
            "ventanilla_task_queue_depth",
            "Background tasks waiting (READY) or running (RUNNING), per queue.",
            labels=["queue", "status"],
        )
        counts = _counts(
            DBTaskResult.objects.filter(status__in=QUEUE_STATUSES), "queue_name", "status"
        )
        # Every configured queue, even an empty one, so that a dashboard shows a 0.
        queues = set(_configured_queues()) | {queue for queue, _ in counts}
        for queue in sorted(queues):
            for status in QUEUE_STATUSES:
                depth.add_metric([queue, status], counts.get((queue, status), 0))
        yield depth
        oldest = GaugeMetricFamily(
            "ventanilla_task_queue_oldest_ready_seconds",
            "How long the oldest task ready to run has waited for a worker, per queue "
            "(0 when none waits): the delay a new task of that queue meets.",
            labels=["queue"],
        )
        now = timezone.now()
        waiting_since = _ready_since()
        for queue in sorted(queues):
            since = waiting_since.get(queue)
            oldest.add_metric([queue], max((now - since).total_seconds(), 0) if since else 0)
        yield oldest

    def _outbox(self):
        for model, name, what in (
            (OutboundEmail, "ventanilla_emails", "Emails"),
            (OutboundSms, "ventanilla_sms", "Text messages"),
        ):
            family = GaugeMetricFamily(
                name,
                f"{what} in the outbox not yet sent (pending, sending) or given up (failed).",
                labels=["status"],
            )
            counts = _counts(model.objects.filter(status__in=OUTBOX_STATUSES), "status")
            for status in OUTBOX_STATUSES:
                family.add_metric([status], counts.get((status,), 0))
            yield family

    def _cases(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("ventanilla_cases", "Cases per status.", labels=["status"])
        counts = _counts(Case.objects.all(), "status")
        for status in CaseStatus.values:
            family.add_metric([status], counts.get((status,), 0))
        return family

    def _review_deadline_breaches(self) -> GaugeMetricFamily:
        overdue = Case.objects.filter(
            status__in=REVIEW_CLOCK_STATUSES, review_due_at__lt=timezone.now()
        ).count()
        return GaugeMetricFamily(
            "ventanilla_cases_past_review_deadline",
            "Cases still waiting for the requirements review after their review deadline "
            "(SLA breaches).",
            value=overdue,
        )

    def _check_durations(self):
        runs = list(
            CheckRun.objects.filter(started_at__isnull=False, finished_at__isnull=False)
            .order_by("-finished_at")
            .values_list("started_at", "finished_at", "timings")[:CHECK_RUNS_SAMPLE]
        )
        whole = GaugeMetricFamily(
            "ventanilla_check_run_duration_seconds",
            f"Duration of the last {CHECK_RUNS_SAMPLE} finished check runs, by quantile "
            "(1 = the longest).",
            labels=["quantile"],
        )
        per_check = GaugeMetricFamily(
            "ventanilla_check_duration_seconds",
            f"Seconds spent in each check over the last {CHECK_RUNS_SAMPLE} finished runs, "
            "by quantile.",
            labels=["check", "quantile"],
        )
        sample = GaugeMetricFamily(
            "ventanilla_check_runs_sampled",
            "How many finished check runs the duration figures describe.",
            value=len(runs),
        )
        durations = sorted((finished - started).total_seconds() for started, finished, _ in runs)
        by_check: dict[str, list[float]] = defaultdict(list)
        for _, _, timings in runs:
            for check, seconds in (timings or {}).items():
                if isinstance(seconds, int | float):
                    by_check[check].append(float(seconds))
        if durations:
            for q in QUANTILES:
                whole.add_metric([str(q)], _quantile(durations, q))
        for check, values in sorted(by_check.items()):
            values.sort()
            for q in QUANTILES:
                per_check.add_metric([check, str(q)], _quantile(values, q))
        yield sample
        yield whole
        yield per_check


def metrics_registry() -> CollectorRegistry:
    """A registry holding only the database figures (no per-process figures, which
    would differ with every web process that answers the scrape)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return registry
