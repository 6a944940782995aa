"""Health of the running system, for load balancers and operators."""

import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django_tasks_db.models import DBTaskResult


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "vendor": connection.vendor}


def _storage() -> dict:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)
    return {"ok": True}


def _task_queue() -> dict:
    ready = DBTaskResult.objects.ready().count()
    return {"ok": True, "ready": ready}


def healthz(request):
    """200 when the database, the private storage and the task queue answer; 503 otherwise."""
    parts = {}
    for name, probe in (
        ("database", _database),
        ("storage", _storage),
        ("task_queue", _task_queue),
    ):
        try:
            parts[name] = probe()
        except Exception as exc:  # report, don't crash: this page exists to say what is broken
            parts[name] = {"ok": False, "error": type(exc).__name__}
    healthy = all(part["ok"] for part in parts.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **parts}, status=200 if healthy else 503
    )
