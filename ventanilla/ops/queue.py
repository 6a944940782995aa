"""Enqueueing the work that a transaction's rows need (docs/deployment.md, "Workers")."""

from django.db import router, transaction
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult


def enqueue_with_commit(task, *args) -> None:
    """Enqueue ``task(*args)`` so that a worker runs it only after the caller's transaction
    commits, and only if it does.

    With the database backend on the data's own database (the default, and production's:
    settings.TASKS), the task's row is written inside the caller's transaction: it commits
    with the case or the message it is about, or not at all, and costs no commit of its
    own. With another backend (Redis/RQ, which cannot join the transaction), it is enqueued
    right after the commit, by a robust hook: a failure there is logged and the scheduler
    enqueues the stalled work again (STALLED_WORK_AFTER_SECONDS)."""
    backend = task.get_backend()
    same_database = router.db_for_write(DBTaskResult) == transaction.get_connection().alias
    if isinstance(backend, DatabaseBackend) and same_database:
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args), robust=True)
