import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from ventanilla.appointments.reminders import appointments_send_reminders
from ventanilla.cases.scheduler import (
    cases_alert_breach_risk,
    cases_daily_digest,
    cases_requeue_stalled_checks,
)
from ventanilla.documents.retention import retention_purge
from ventanilla.drafts.services import drafts_purge_expired
from ventanilla.notifications.services import outbox_requeue_stalled

from .run_worker import DATABASE_UNREACHABLE, Backoff, close_connections, first_line

logger = logging.getLogger(__name__)

# The retention purge walks every closed case old enough: once an hour is plenty for
# periods counted in days, and keeps the rounds (every few seconds) cheap.
RETENTION_PURGE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    help = (
        "Periodic jobs: re-enqueue checks and emails that a dead worker left behind; "
        "delete unfinished requests past their retention time; alert supervisors to cases "
        "about to breach their review deadline; the staff's daily digest; once an hour, delete "
        "the files of closed cases whose retention period ended."
    )
    # As for run_worker: `migrate` and the web server run the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one round and exit.")

    def handle(self, *args, once: bool, **options):
        running = True

        def stop(*_):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.last_purge = None
        backoff = Backoff()
        while running:
            try:
                close_old_connections()
                self.round()
            except DATABASE_UNREACHABLE as exc:
                # A database restart must not end the scheduler: it is what recovers the
                # work that the restart interrupted.
                if once:
                    raise
                delay = backoff.next_delay()
                logger.warning(
                    "scheduler: database unreachable (%s); trying again in %.1f s",
                    first_line(exc),
                    delay,
                )
                close_connections()
                time.sleep(delay)
                continue
            if once:
                return
            for _ in range(settings.SCHEDULER_INTERVAL_SECONDS):
                if not running:
                    break
                time.sleep(1)

    def round(self) -> None:
        """One pass of every periodic job."""
        checks = cases_requeue_stalled_checks()
        emails = outbox_requeue_stalled()
        drafts = drafts_purge_expired()
        alerts = cases_alert_breach_risk()
        digests = cases_daily_digest()
        reminders = appointments_send_reminders()
        if checks or emails or drafts:
            logger.info(
                "requeued %s case checks and %s emails and text messages; "
                "deleted %s expired drafts",
                checks,
                emails,
                drafts,
            )
        if alerts or digests:
            logger.info("queued %s breach alerts and %s daily digests to staff", alerts, digests)
        if reminders:
            logger.info("queued %s video-call reminders to citizens", reminders)
        if (
            self.last_purge is None
            or time.monotonic() - self.last_purge >= RETENTION_PURGE_EVERY_SECONDS
        ):
            self.last_purge = time.monotonic()
            try:
                purge = retention_purge()
            except Exception:
                # A storage error must not stop the other jobs; the next hour retries,
                # and finishes what this one marked.
                logger.exception("retention purge failed")
            else:
                if purge.cases or purge.finished or purge.held:
                    logger.info("retention purge: %s", " ".join(purge.lines()))
