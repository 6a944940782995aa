"""What the web does when a part under it fails (docs/deployment.md; issue 9's fault tests).

- `DatabaseUnavailableMiddleware`: the database dropped the connection or cannot be
  reached while a request was served (a restart, a crash, a failover). The request's
  transaction did not commit, so nothing of it was saved: the person is told so, with a
  503 and Retry-After, instead of the generic error page. (The tasks a submission queues
  after its commit use robust on_commit hooks, so a failure there is logged and the
  scheduler queues them later; ops/tests/test_web_faults.py tests it.)
- `NamelessUploadFilesMiddleware`: uploads too big for memory are spooled to temporary
  files that have no name on disk, so that a web process killed in the middle of an
  upload leaves no copy of anyone's ID card, face or voice behind.
"""

import logging
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.log import log_response
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait: a PostgreSQL restart takes a few seconds, a failover
# to a replica up to a minute or two.
DATABASE_RETRY_AFTER_SECONDS = 60

# The API's address; its answers are JSON, every other address answers with a page.
API_PREFIX = "/api/"


def database_unavailable_message() -> str:
    return gettext(
        "No pudimos guardar su solicitud por un problema temporal; no se ha registrado nada. "
        "Inténtelo de nuevo en unos minutos."
    )


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's JSON (in Spanish, like its other errors) or the page."""
    if request.path.startswith(API_PREFIX):
        with translation.override("es"):
            message = database_unavailable_message()
        # `detail` as in every other refusal that is not about a field (401, 404, 409, 429);
        # `errors` as in the contract's refused submission (422), for a client that reads
        # only that.
        response = JsonResponse({"detail": message, "errors": {"__all__": [message]}}, status=503)
    else:
        response = render(
            request, "503.html", {"message": database_unavailable_message()}, status=503
        )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that raised django.db.OperationalError or InterfaceError (connection refused,
    terminated by an administrator or a crash, closed under it) answers 503, logged once
    (one line, no traceback: during an outage every request fails the same way).

    Only the view's exception is seen here (process_exception); one raised by another
    middleware still gets Django's 500 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        response = database_unavailable_response(request)
        # Django's request logger would log the 503 again: this marks it as logged.
        log_response(
            "Database unavailable, answered %s to %s %s: %s: %s",
            response.status_code,
            request.method,
            request.path,
            type(exception).__name__,
            str(exception).strip().splitlines()[0] if str(exception).strip() else "",
            response=response,
            request=request,
            logger=logger,
        )
        return response


class NamelessTemporaryUploadedFile(UploadedFile):
    """An upload spooled to a temporary file without a name (O_TMPFILE on Linux, or
    unlinked as soon as it is made): the kernel frees it when the file is closed or the
    process ends, even by kill -9, which leaves Django's named temporary files behind.
    It has no temporary_file_path(): readers use read() or chunks(), as every reader of
    uploads here does (validation, the virus scan, the encrypted storage)."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        # Owned by the upload, closed with it (as Django's TemporaryUploadedFile does).
        file = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
        super().__init__(file, name, content_type, size, charset, content_type_extra)


class NamelessTemporaryFileUploadHandler(FileUploadHandler):
    """Django's TemporaryFileUploadHandler, writing to a NamelessTemporaryUploadedFile."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = NamelessTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data, start):
        self.file.write(raw_data)

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()


class NamelessUploadFilesMiddleware:
    """Replaces Django's temporary-file upload handler of each request with the nameless
    one, before anything reads the body (the CSRF check reads the form in process_view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.upload_handlers = [
            NamelessTemporaryFileUploadHandler(request)
            if isinstance(handler, TemporaryFileUploadHandler)
            else handler
            for handler in request.upload_handlers
        ]
        return self.get_response(request)
