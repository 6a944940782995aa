"""The intake benchmark's yardstick (bench/intake_bench.py): a WSGI application that only
receives a submission and writes its files to disk.

The same gunicorn command as the real web server serves it, and it gets the very same
multipart requests. It parses them with Django's own request parsing (WSGIRequest and its
MultiPartParser) under the same upload settings as Ventanilla's (FILE_UPLOAD_MAX_MEMORY_SIZE,
DATA_UPLOAD_MAX_MEMORY_SIZE, read from ventanilla.settings.production, so that a file over
the memory limit is spooled to a temporary file here as it is there), writes every uploaded
file to YARDSTICK_DIR, and answers 201. No validation, no virus scan, no encryption, no
database, no task: what receiving the bytes costs, which the real intake is compared with.

    gunicorn bench.yardstick:application --bind 127.0.0.1:8001 --workers 2
"""

import importlib
import json
import os
import secrets
from pathlib import Path

import django
from django.conf import settings

_ventanilla = importlib.import_module("ventanilla.settings.production")
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    USE_TZ=True,
    FILE_UPLOAD_MAX_MEMORY_SIZE=_ventanilla.FILE_UPLOAD_MAX_MEMORY_SIZE,
    DATA_UPLOAD_MAX_MEMORY_SIZE=_ventanilla.DATA_UPLOAD_MAX_MEMORY_SIZE,
    DATA_UPLOAD_MAX_NUMBER_FIELDS=_ventanilla.__dict__.get("DATA_UPLOAD_MAX_NUMBER_FIELDS", 1000),
    FILE_UPLOAD_TEMP_DIR=_ventanilla.__dict__.get("FILE_UPLOAD_TEMP_DIR"),
)
django.setup()

from django.core.handlers.wsgi import WSGIRequest  # noqa: E402 (after settings.configure)

FOLDER = Path(os.environ.get("YARDSTICK_DIR", "/tmp/ventanilla-yardstick"))  # noqa: S108
FOLDER.mkdir(parents=True, exist_ok=True)


def application(environ, start_response):
    request = WSGIRequest(environ)
    stored = {}
    try:
        for field, upload in request.FILES.items():
            name = f"{secrets.token_hex(16)}-{field}"
            with open(FOLDER / name, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            stored[field] = upload.size
        body = json.dumps({"fields": len(request.POST), "files": stored}).encode()
    finally:
        request.close()  # removes the temporary files of the uploads, as Django's handler does
    start_response(
        "201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
