"""`manage.py run_worker`: django-tasks-db's worker (`db_worker`), made to outlive the database.

django-tasks-db's loop stops the process on any database error other than "database is
locked", so a PostgreSQL restart or failover would end every worker at once. This one
takes the same options, runs the same loop, and when the database cannot be reached,
while it polls or while it records a task's result, it logs one line, closes its
connections, waits (0.5 s, doubling up to 5 s) and goes on. SIGTERM (or Ctrl-C) still
stops it cleanly once the task in hand ends.

A task whose result cannot be recorded (the database went away during it) stays RUNNING
in the queue table, as it would if the worker had been killed: django-tasks-db has no
visibility timeout. Its work is recovered by the scheduler (manage.py run_scheduler),
which re-enqueues unfinished checks and unsent messages after STALLED_WORK_AFTER_SECONDS;
the tasks are idempotent, so running again repeats nothing (docs/deployment.md).

Start one kind of worker per queue:
    manage.py run_worker --queue-name default   # emails and text messages
    manage.py run_worker --queue-name checks    # the verification pipeline
"""

import contextlib
import logging
import os
import time

from django.core.management.base import CommandError
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# What an unreachable database raises: refused or dropped connections, a server shutting
# down ("terminating connection due to administrator command"), a closed connection used.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)
FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 5.0
# A worker that ran this long since its last database error starts its backoff afresh.
HEALTHY_AFTER_SECONDS = 30.0


def first_line(exc: BaseException) -> str:
    """The exception's class and the first line of its message, for a one-line log."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def close_connections() -> None:
    """Close every database connection; a broken one is opened anew by the next query."""
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(DatabaseError):
            connection.close()


class Backoff:
    """0.5 s, 1 s, 2 s, 4 s, 5 s, 5 s ... between attempts; back to 0.5 s after a while
    without failures."""

    def __init__(self):
        self.delay = 0.0
        self.last_failure = 0.0

    def next_delay(self) -> float:
        now = time.monotonic()
        if not self.delay or now - self.last_failure > HEALTHY_AFTER_SECONDS:
            self.delay = FIRST_DELAY_SECONDS
        else:
            self.delay = min(self.delay * 2, MAX_DELAY_SECONDS)
        self.last_failure = now
        return self.delay


class ResilientWorker(db_worker.Worker):
    """django-tasks-db's Worker whose loop survives an unreachable database."""

    def run(self) -> None:
        backoff = Backoff()
        while self.running:
            try:
                super().run()
                return  # --batch or --max-tasks reached, or stopped by a signal
            except DATABASE_UNREACHABLE as exc:
                if not self.running:
                    return
                delay = backoff.next_delay()
                logger.warning(
                    "worker %s: database unreachable (%s); trying again in %.1f s",
                    self.worker_id,
                    first_line(exc),
                    delay,
                )
                close_connections()
                # Only the first start waits the random anti-herd delay.
                self.startup_delay = False
                time.sleep(delay)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        except DATABASE_UNREACHABLE:
            logger.warning(
                "worker %s: task %s (%s) ended, but its result could not be recorded; it "
                "stays RUNNING in the queue table and the scheduler re-enqueues its work",
                self.worker_id,
                db_task_result.id,
                db_task_result.task_path.rsplit(".", 1)[-1],
            )
            raise


class Command(db_worker.Command):
    help = (
        "Run a task worker on the database queue (django-tasks-db's db_worker, with the "
        "same options) that survives a database restart: it waits and reconnects instead "
        "of stopping. One kind per queue: --queue-name default (emails, text messages) "
        "and --queue-name checks (the verification pipeline)."
    )
    # The system checks import every view (seconds of CPU): `migrate` and the web server
    # run them; a worker restarted after a crash should be back at work at once.
    requires_system_checks = []

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("--reload and --batch cannot be used together: not reloading.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
