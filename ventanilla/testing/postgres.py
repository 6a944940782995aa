"""A throwaway PostgreSQL cluster of its own, for tests that stop and restart the database
under a running system (the fault tests) and for the benchmarks.

initdb in a temporary folder (as the ``postgres`` user when run as root, as CI does), trust
authentication on 127.0.0.1 only, a free port, a role and a database named ``ventanilla``.
``restart()`` stops the server the way an operator or a crash would (``-m fast`` or
``immediate``) and starts it again on the same port and data.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# For tests: no fsync (migrate runs twice as fast), yet every acknowledged commit survives
# a crash of the server (`restart("immediate")`): synchronous_commit stays on, so the WAL
# reaches the operating system before the commit is acknowledged. Only a crash of the
# machine itself could lose it.
FAST_TEST_SETTINGS = {"fsync": "off", "full_page_writes": "off"}


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """Start with ``start()`` (returns the DATABASE_URL), end with ``stop()``; or use it as a
    context manager. ``settings`` are passed as ``-c name=value`` to the server."""

    def __init__(self, *, settings: dict[str, str] | None = None, prefix: str = "ventanilla-pg-"):
        self.as_root = os.geteuid() == 0
        self.data = Path(tempfile.mkdtemp(prefix=prefix))
        self.log = self.data.with_name(self.data.name + ".log")
        self.port = free_port()
        self.settings = {"listen_addresses": "127.0.0.1", **(settings or {})}
        self.started = False

    @property
    def url(self) -> str:
        return f"postgres://ventanilla@127.0.0.1:{self.port}/ventanilla"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), *args]
        return subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603

    def _pg_ctl(self, *args: str) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args)
        except subprocess.CalledProcessError as exc:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl {args[-1]} failed: {exc.stderr}\n{log}") from None

    def start(self) -> str:
        if not postgres_available():
            raise RuntimeError(
                f"PostgreSQL 15 is missing ({PG_BIN}/initdb): apt-get install postgresql-15"
            )
        if self.as_root:
            shutil.chown(self.data, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        self.data.chmod(0o700)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8")  # fmt: skip
        self.start_server()
        for statement in (
            "CREATE ROLE ventanilla LOGIN CREATEDB",
            "CREATE DATABASE ventanilla OWNER ventanilla",
        ):
            self.psql(statement)
        return self.url

    def start_server(self) -> None:
        """Start the server on the existing data (after ``stop_server``)."""
        options = f"-p {self.port} -k /tmp " + " ".join(
            f"-c {name}={value}" for name, value in self.settings.items()
        )
        self._pg_ctl("-w", "-t", "60", "-l", str(self.log), "-o", options, "start")
        self.started = True

    def psql(self, statement: str, *, database: str = "postgres") -> str:
        return self._run(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                         "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c",
                         statement).stdout  # fmt: skip

    def version(self) -> str:
        return self._run(str(PG_BIN / "postgres"), "--version").stdout.strip()

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data (``immediate`` is a crash: no checkpoint)."""
        if self.started:
            self._pg_ctl("-m", mode, "-w", "stop")
            self.started = False

    def restart(self, mode: str = "fast") -> None:
        self.stop_server(mode)
        self.start_server()

    def stop(self) -> None:
        """Stop the server and delete its data."""
        try:
            self.stop_server()
        finally:
            shutil.rmtree(self.data, ignore_errors=True)
            self.log.unlink(missing_ok=True)

    def __enter__(self) -> "PostgresCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
