"""Health of the running system, for load balancers and operators."""

import hmac
import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .metrics import metrics_registry

logger = logging.getLogger(__name__)


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "vendor": connection.vendor}


def _storage() -> dict:
    # The encrypted storages hand out a copy with short timeouts and no retries (S3), so a
    # dead storage server makes this answer 503 within seconds.
    probe = getattr(default_storage, "for_health_probe", lambda: default_storage)()
    name = probe.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    probe.delete(name)
    return {"ok": True}


def _task_queue() -> dict:
    ready = DBTaskResult.objects.ready().count()
    return {"ok": True, "ready": ready}


def _report(probes) -> JsonResponse:
    parts = {}
    for name, probe in probes:
        try:
            parts[name] = probe()
        except Exception as exc:  # report, don't crash: this page exists to say what is broken
            parts[name] = {"ok": False, "error": type(exc).__name__}
    healthy = all(part["ok"] for part in parts.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **parts}, status=200 if healthy else 503
    )


def healthz(request):
    """200 when the database, the private storage and the task queue answer; 503 otherwise."""
    return _report((("database", _database), ("storage", _storage), ("task_queue", _task_queue)))


def readyz(request):
    """200 when this process can serve requests: the database and the private storage
    answer; 503 otherwise, naming the part that failed. A load balancer sends traffic
    to a web process only while it is ready."""
    return _report((("database", _database), ("storage", _storage)))


def metrics(request):
    """The figures of ventanilla/ops/metrics.py in Prometheus' text format, for a scraper
    that sends `Authorization: Bearer <METRICS_TOKEN>`. Without METRICS_TOKEN the
    endpoint does not exist (404); a missing or wrong token answers 401."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        offered.strip().encode(), token.encode()
    ):
        logger.warning("metrics: missing or wrong bearer token")
        response = HttpResponse(
            "Falta el token de métricas o no es válido: envíe "
            "«Authorization: Bearer <METRICS_TOKEN>».\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
