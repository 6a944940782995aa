"""Real worker processes against a PostgreSQL of their own, for the fault tests
(ventanilla/ops/tests/test_worker_faults.py): kill -9 a worker mid-task, several workers
sharing a queue, the database restarted under them.

- ``migrated_cluster()``: a throwaway PostgreSQL 15 (testing/postgres.py) whose database
  ``ventanilla`` is migrated once (``manage.py migrate`` in a subprocess, ~15 s); each test
  then gets a copy of it (``CREATE DATABASE ... TEMPLATE``, ~0.2 s) through ``System``.
- ``HoldingSmtpServer``: a real SMTP server (aiosmtpd) that counts a message as delivered
  only when it answers 250 to it, and that can hold that answer until the test says so,
  as a slow mail server would.
- ``System``: one installation on that database: ``manage.py run_worker``, ``run_scheduler``
  and ``shell -c`` subprocesses with the environment a deployment gives them, each logging
  to a file the failure messages quote; ``sql()`` reads the database with psql.
"""

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from .postgres import FAST_TEST_SETTINGS, PostgresCluster, free_port, postgres_available

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60

_database_numbers = itertools.count(1)


def require_postgres() -> None:
    """Fail (never skip) when PostgreSQL 15's binaries are missing."""
    if not postgres_available():
        from .postgres import PG_BIN

        raise RuntimeError(
            f"PostgreSQL 15 is missing: {PG_BIN}/initdb does not exist. "
            "Install it with `make setup` (scripts/setup.sh installs postgresql-15)."
        )


def base_env() -> dict[str, str]:
    """The environment every subprocess of a test starts from: this one (the clamd socket
    and the file key of ventanilla.settings.test), with the test settings."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ventanilla.settings.test",
        "PYTHONUNBUFFERED": "1",
        "LOG_FORMAT": "plain",
        "LOG_LEVEL": "INFO",
    }


@contextlib.contextmanager
def migrated_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster whose database `ventanilla` holds the migrated schema."""
    require_postgres()
    cluster = PostgresCluster(settings=FAST_TEST_SETTINGS, prefix="ventanilla-faults-pg-")
    try:
        url = cluster.start()
        migrate = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"],
            cwd=ROOT,
            env={**base_env(), "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"manage.py migrate failed:\n{migrate.stderr[-3000:]}")
        yield cluster
    finally:
        cluster.stop()


class HoldingSmtpServer:
    """A real SMTP server on loopback. A message is `delivered` when the server answers
    250 to its DATA. After `hold()`, the answer to each DATA waits until `release()`; a
    client that goes away meanwhile (killed) gets no answer, and its message is counted
    in `abandoned`, not delivered, as a mail server that never acknowledged it would."""

    def __init__(self):
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command
        self.delivered: list[EmailMessage] = []
        self.abandoned: list[EmailMessage] = []
        self.waiting = 0  # DATA commands held right now
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "HoldingSmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self._open.set()
        self.controller.stop()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.delivered if address in m.get_all("To", [])]

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        if not self._open.is_set():
            with self._lock:
                self.waiting += 1
            try:
                while not self._open.is_set():
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                # aiosmtpd cancels the handler when the client's connection is lost.
                with self._lock:
                    self.abandoned.append(message)
                raise
            finally:
                with self._lock:
                    self.waiting -= 1
        with self._lock:
            self.delivered.append(message)
        return "250 OK"


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, every=0.25):
    """Poll `condition` until it returns something true (returned), or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class System:
    """One installation on a fresh copy of the migrated database: its processes, its mail
    server, its files. Use as a context manager: every process it started is stopped."""

    def __init__(self, cluster: PostgresCluster, folder: Path, smtp: HoldingSmtpServer, **env):
        self.cluster = cluster
        self.database = f"faults_{os.getpid()}_{next(_database_numbers)}"
        cluster.psql(f"CREATE DATABASE {self.database} TEMPLATE ventanilla OWNER ventanilla")
        self.folder = folder
        self.smtp = smtp
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        files = folder / "files"
        files.mkdir(parents=True, exist_ok=True)
        self.env = {
            **base_env(),
            "DATABASE_URL": (
                f"postgres://ventanilla@127.0.0.1:{cluster.port}/{self.database}?connect_timeout=3"
            ),
            "PRIVATE_STORAGE_DIR": str(files),
            "SMS_FILE_DIR": str(folder / "sms"),
            "EMAIL_URL": smtp.url,
            "STALLED_WORK_AFTER_SECONDS": "3",
            "SCHEDULER_INTERVAL_SECONDS": "1",
            **env,
        }
        if "STORAGE_URL" in env:
            # Files in the S3-compatible server instead of a folder (settings refuse both).
            del self.env["PRIVATE_STORAGE_DIR"]

    def __enter__(self) -> "System":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    # --- processes ----------------------------------------------------------------------

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """Start `manage.py *args` in the background, its output in a log file."""
        log = self.folder / f"{len(self.processes):02d}-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append((name, process, log))
        return process

    def start_worker(self, queue: str, name: str | None = None) -> subprocess.Popen:
        """`manage.py run_worker --queue-name QUEUE`, as scripts/serve.sh starts it."""
        return self.start(
            name or f"worker-{queue}",
            "run_worker",
            "--queue-name",
            queue,
            "--no-reload",
            "--interval",
            "0.2",
            "--no-startup-delay",
        )

    def start_scheduler(self) -> subprocess.Popen:
        return self.start("scheduler", "run_scheduler")

    def kill9(self, process: subprocess.Popen) -> None:
        """The worker dies at once, mid-task, as with the OOM killer or a power cut."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def log_of(self, process: subprocess.Popen) -> str:
        for _, candidate, log in self.processes:
            if candidate is process:
                return log.read_text(errors="replace")
        raise KeyError(process)

    def logs(self) -> str:
        """The last lines of every process's log, for an assertion's message."""
        parts = []
        for name, process, log in self.processes:
            text = log.read_text(errors="replace") if log.exists() else ""
            tail = "\n".join(text.splitlines()[-25:])
            parts.append(f"--- {name} (exit {process.poll()}) ---\n{tail}")
        return "\n".join(parts)

    def wait(self, condition: Callable[[], object], *, timeout: float, what: str, every=0.25):
        """wait_until, with the end of every process's log in the failure message."""
        try:
            return wait_until(condition, timeout=timeout, what=what, every=every)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    def assert_alive(self, *processes: subprocess.Popen) -> None:
        for process in processes:
            assert process.poll() is None, f"a process stopped:\n{self.logs()}"

    def stop_all(self) -> None:
        for _, process, _ in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process, _ in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # --- one-off commands ------------------------------------------------------------------

    def shell(self, code: str, *, timeout: float = 120) -> str:
        """Run Python in `manage.py shell -c` on this installation; its standard output."""
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"manage.py shell failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def sql(self, query: str) -> str:
        """The rows of one query, `|`-separated, one per line."""
        return self.cluster.psql(query, database=self.database).strip()

    def sql_value(self, query: str) -> str:
        return self.sql(query).splitlines()[0] if self.sql(query) else ""
