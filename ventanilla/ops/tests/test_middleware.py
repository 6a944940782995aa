"""ventanilla/ops/middleware.py: a lost database answers 503 with Retry-After and says that
nothing was saved; uploads spooled to disk leave no named file behind."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from ventanilla.documents.models import Document
from ventanilla.documents.services import document_open
from ventanilla.ops.middleware import (
    DatabaseUnavailableMiddleware,
    NamelessTemporaryUploadedFile,
    NamelessUploadFilesMiddleware,
)
from ventanilla.testing import media
from ventanilla.testing.factories import submission_fields, submission_files
from ventanilla.testing.postgres import free_port

ROOT = Path(__file__).resolve().parents[3]
MESSAGE = (
    "No pudimos guardar su solicitud por un problema temporal; no se ha registrado nada. "
    "Inténtelo de nuevo en unos minutos."
)

# A Django test client in a process whose database is a PostgreSQL server that does not
# exist (nothing listens on the port): every query fails as during a restart.
WITHOUT_DATABASE = """
import json, logging
import django
django.setup()
from django.test import Client

records = []
class Collect(logging.Handler):
    def emit(self, record):
        records.append([record.name, record.levelname, record.getMessage()])
logging.getLogger().addHandler(Collect())

client = Client(HTTP_HOST="localhost")
api = client.post("/api/v1/cases", {"id_number": "0923456784", "id_type": "cedula"})
page = client.get("/transparencia/")
english = client.get("/transparencia/", headers={"cookie": "django_language=en"})
print(json.dumps({
    "api": [api.status_code, api.headers.get("Retry-After"), api.headers.get("Cache-Control"),
            api.headers.get("Content-Type"), api.content.decode()],
    "page": [page.status_code, page.headers.get("Retry-After"), page.content.decode()],
    "english": [english.status_code, english.content.decode()],
    "records": records,
}))
"""


@pytest.fixture(scope="module")
def without_database():
    """What the API and a page answered, and what was logged, with the database gone."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ventanilla.settings.test",
        "DATABASE_URL": f"postgres://ventanilla@127.0.0.1:{free_port()}/ventanilla",
        "LOG_FORMAT": "plain",
    }
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_DATABASE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_api_answers_503_json_saying_nothing_was_saved_when_the_database_is_gone(
    without_database,
):
    status, retry_after, cache_control, content_type, body = without_database["api"]
    assert status == 503
    assert retry_after == "60"
    assert cache_control == "no-store"
    assert content_type == "application/json"
    assert json.loads(body) == {"detail": MESSAGE, "errors": {"__all__": [MESSAGE]}}


def test_a_page_answers_503_in_spanish_saying_nothing_was_saved_when_the_database_is_gone(
    without_database,
):
    status, retry_after, page = without_database["page"]
    assert status == 503
    assert retry_after == "60"
    assert "Servicio no disponible por un momento" in page
    assert MESSAGE in page
    assert 'lang="es"' in page
    # In English the page keeps its layout and language attribute.
    status, page = without_database["english"]
    assert status == 503
    assert 'lang="en"' in page


def test_each_database_outage_answer_is_logged_once_in_one_line(without_database):
    lines = [
        r for r in without_database["records"] if r[0].startswith(("django.request", "ventanilla"))
    ]
    assert [(name, level) for name, level, _ in lines] == [
        ("ventanilla.ops.middleware", "ERROR")
    ] * 3
    assert lines[0][2].startswith(
        "Database unavailable, answered 503 to POST /api/v1/cases: OperationalError: "
    )
    assert lines[1][2].startswith("Database unavailable, answered 503 to GET /transparencia/")


@pytest.mark.parametrize(
    "exception", [ValueError("x"), IntegrityError("duplicate key"), KeyError("y")]
)
def test_other_errors_are_left_to_django(exception):
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    request = RequestFactory().post("/api/v1/cases")
    assert middleware.process_exception(request, exception) is None


@pytest.mark.parametrize("exception", [OperationalError("gone"), InterfaceError("closed")])
def test_connection_errors_answer_503(exception):
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    response = middleware.process_exception(RequestFactory().post("/api/v1/cases"), exception)
    assert response.status_code == 503
    assert json.loads(response.content)["detail"] == MESSAGE


def _spooled_request(settings, tmp_path, size: int):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    # A body over the limit is spooled (a whole submission stays under the real one).
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    upload = SimpleUploadedFile("video.mp4", os.urandom(size), "video/mp4")
    return RequestFactory().post("/", {"video": upload}), upload


def test_an_upload_spooled_to_disk_has_no_name_there(settings, tmp_path):
    request, upload = _spooled_request(settings, tmp_path, 3 * 1024 * 1024)
    seen = {}

    def view(request):
        video = request.FILES["video"]
        seen["class"] = type(video)
        seen["content"] = video.read()
        seen["folder"] = list(tmp_path.iterdir())
        return HttpResponse()

    NamelessUploadFilesMiddleware(view)(request)
    assert seen["class"] is NamelessTemporaryUploadedFile
    assert seen["content"] == upload.file.getvalue()
    # Nothing in the folder even while the request is served: a kill -9 now leaves nothing.
    assert seen["folder"] == []


def test_without_it_django_leaves_a_named_file_while_the_request_is_served(settings, tmp_path):
    # What the middleware is for: Django's own handler writes a file a killed process leaves.
    request, _ = _spooled_request(settings, tmp_path, 3 * 1024 * 1024)
    assert any(isinstance(h, TemporaryFileUploadHandler) for h in request.upload_handlers)
    request.FILES["video"]
    assert [p.name.endswith(".upload.mp4") for p in tmp_path.iterdir()] == [True]


@pytest.mark.django_db
def test_a_big_submission_spooled_to_nameless_files_is_stored_whole(client, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # spooled, as a conversion upload is
    video = media.big_mp4_bytes(int(4.5 * media.MEGABYTE))
    fields = submission_fields()
    files = submission_files(fields, video=SimpleUploadedFile("v.mp4", video, "video/mp4"))
    response = client.post("/api/v1/cases", {**fields, **files})
    assert response.status_code == 201, response.content
    stored = Document.objects.get(case__number=response.json()["number"], kind="video")
    with document_open(stored) as handle:
        assert handle.read() == video
    assert list(tmp_path.iterdir()) == []
