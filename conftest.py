"""Fixtures shared by every test: personas, a real SMTP server, the real task worker."""

import os
import socket
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from ventanilla.staff.roles import Role
from ventanilla.staff.services import api_token_create, staff_user_ensure
from ventanilla.testing import clamav
from ventanilla.testing.staff import totp_device_for


def pytest_collection_modifyitems(items):
    """Every test that commits to the database restores it afterwards the same way.

    A transactional test (live_server, transactional_db, a real worker process) without
    serialized_rollback ends with a flush that re-creates the content types and
    permissions under new ids; the next test with serialized_rollback then restores the
    old rows and fails on django_content_type's UNIQUE (app_label, model) on PostgreSQL.
    So such tests get serialized_rollback; one that asks for a transaction without it
    is a mistake, and stops the run with the fix to make."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        commits = bool({"live_server", "transactional_db"} & set(item.fixturenames))
        if marker is None:
            if commits:
                item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))
            continue
        if (commits or marker.kwargs.get("transaction")) and not marker.kwargs.get(
            "serialized_rollback"
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: a transactional test must be marked "
                "@pytest.mark.django_db(transaction=True, serialized_rollback=True)"
            )


ROOT = Path(__file__).resolve().parent
PASSWORD = "una-clave-de-prueba-larga"


class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append({"to": envelope.rcpt_tos, "message": message})
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real SMTP server on loopback; `messages` holds what it received."""

    def __init__(self):
        self.handler = _Collector()
        self.port = _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        return self.handler.messages

    def to(self, address: str) -> list:
        return [m["message"] for m in self.messages if address in m["to"]]

    def wait_for(self, count: int, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages


@pytest.fixture(scope="session", autouse=True)
def clamav_daemon():
    """A real clamd with the test signatures, scanning every upload of the session
    (ventanilla/testing/clamav.py; CLAMAV_URL comes from ventanilla.settings.test)."""
    with clamav.clamd_running(django_settings.CLAMAV_URL) as process:
        yield process


@pytest.fixture(autouse=True)
def _spanish_first():
    """Every test starts in Spanish, as every request does: a request in English (the
    language cookie) leaves its language active in the thread afterwards."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def smtp_server(settings):
    server = SmtpServer()
    server.controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 10},
        }
    }
    yield server
    server.controller.stop()


@pytest.fixture
def run_worker():
    """Run the real django-tasks-db worker in this process until the queue is empty."""

    def run():
        call_command(
            "run_worker",
            "--queue-name",
            "default,checks",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--interval",
            "0",
            verbosity=0,
        )

    return run


@pytest.fixture
def worker_process(smtp_server, transactional_db):
    """A real `manage.py run_worker` process (both queues) on the test database and the test
    SMTP server."""
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ventanilla.settings.test"}
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_server.port}"
    env["PRIVATE_STORAGE_DIR"] = str(django_settings.PRIVATE_STORAGE_DIR)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_worker",
            "--queue-name",
            "default,checks",
            "--no-reload",
            "--interval",
            "0.2",
            "--no-startup-delay",
        ],
        cwd=ROOT,
        env=env,
    )
    yield process
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def analyst(db):
    return staff_user_ensure(username="ana.analista", password=PASSWORD, role=Role.ANALYST)


@pytest.fixture
def supervisor(db):
    return staff_user_ensure(username="sofia.supervisora", password=PASSWORD, role=Role.SUPERVISOR)


@pytest.fixture
def auditor(db):
    return staff_user_ensure(username="aurelio.auditor", password=PASSWORD, role=Role.AUDITOR)


@pytest.fixture
def administrator(db):
    return staff_user_ensure(
        username="adela.administradora", password=PASSWORD, role=Role.ADMINISTRATOR
    )


@pytest.fixture
def outsider(db, django_user_model):
    """Signed in, but no IESS staff role."""
    return django_user_model.objects.create_user(username="otto.externo", password=PASSWORD)


@pytest.fixture
def analyst_token(analyst):
    # Tokens are only given to staff who have a second factor.
    totp_device_for(analyst)
    return api_token_create(user=analyst)


@pytest.fixture
def staff_headers(analyst_token):
    return {"Authorization": f"Bearer {analyst_token}"}
