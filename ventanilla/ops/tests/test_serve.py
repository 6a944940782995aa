"""The production shape (scripts/serve.sh, docs/deployment.md): the readiness check, and
gunicorn with the production settings serving a page, a hashed static file through
whitenoise and /readyz."""

import base64
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_readyz_answers_200_when_the_database_and_storage_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["storage"]["ok"]


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_storage_when_it_is_unwritable(client, settings, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "private")},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["storage"]["ok"] is False
    assert body["database"]["ok"] is True


def test_readyz_answers_503_naming_the_database_when_it_is_unreachable(tmp_path):
    # A database file in a folder that does not exist: SQLite cannot open it.
    script = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz', HTTP_HOST='localhost'); "
        "print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ventanilla.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}",
        "PRIVATE_STORAGE_DIR": str(tmp_path / "private"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split("\n")[-1].split(" ", 1)
    assert status == "503"
    report = json.loads(body)
    assert report["database"] == {"ok": False, "error": "OperationalError"}
    assert report["storage"]["ok"] is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_environment(tmp_path: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "RATE_LIMIT_", "DEBUG", "CACHE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ventanilla.settings.production",
            # Plain HTTP on loopback, as `SERVE_LOCAL=1 make serve` does; throwaway keys.
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FILE_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "CLAMAV_URL": f"unix://{tmp_path / 'clamd.sock'}",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "PRIVATE_STORAGE_DIR": str(tmp_path / "private"),
            "STATIC_ROOT": str(tmp_path / "static"),
        }
    )
    return env


def _manage(env: dict, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _get(port: int, path: str):
    # gunicorn listens before its workers have imported the project (seconds on a loaded
    # machine): the first request waits for that.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_gunicorn_serves_pages_hashed_static_files_and_readiness(tmp_path):
    env = _production_environment(tmp_path)
    _manage(env, "migrate", "--noinput")
    _manage(env, "collectstatic", "--noinput", "-v", "0")
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ventanilla.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start in 60 s"
                time.sleep(0.2)

        status, headers, body = _get(port, "/")
        assert status == 200
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        # The page links the hashed name that collectstatic wrote (ManifestStaticFilesStorage).
        stylesheet = re.search(rb'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', body)
        assert stylesheet, body[:2000]

        status, headers, css = _get(port, stylesheet.group(1).decode())
        assert status == 200
        assert len(css) > 0
        assert "immutable" in headers["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", headers["Cache-Control"]).group(1))
        assert max_age >= 365 * 24 * 3600

        status, _, body = _get(port, "/readyz")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
