"""A throwaway PostgreSQL 15 for the benchmarks, started the way .ci/run does: initdb in a
temporary folder (as the postgres user when run as root), trust authentication on
127.0.0.1 only, a free port; stopped and removed by `stop()`.

    postgres = Postgres(settings={"fsync": "off"})
    url = postgres.start()   # postgres://ventanilla@127.0.0.1:PORT/ventanilla
    ...
    postgres.stop()
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster: initdb in a temporary folder, started on a port.
    `settings` are passed to the server as `-c name=value` (listen_addresses is always
    127.0.0.1)."""

    def __init__(self, settings: dict[str, str] | None = None):
        self.settings = {**(settings or {}), "listen_addresses": "127.0.0.1"}
        self.as_root = os.geteuid() == 0
        self.data = Path(tempfile.mkdtemp(prefix="ventanilla-bench-pg-"))
        self.log = self.data.with_name(self.data.name + ".log")
        self.port = free_port()
        self.started = False

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)  # noqa: S603

    def start(self) -> str:
        """Create and start the cluster with a `ventanilla` role and database; its URL."""
        if not (PG_BIN / "initdb").exists():
            raise SystemExit(
                f"PostgreSQL 15 is missing ({PG_BIN}/initdb): apt-get install postgresql-15"
            )
        if self.as_root:
            shutil.chown(self.data, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        self.data.chmod(0o700)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8")  # fmt: skip
        options = f"-p {self.port} -k /tmp " + " ".join(
            f"-c {k}={v}" for k, v in self.settings.items()
        )
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l",
                      str(self.log), "-o", options, "start")  # fmt: skip
        except subprocess.CalledProcessError:
            raise SystemExit(f"PostgreSQL did not start:\n{self.log.read_text()[-3000:]}") from None
        self.started = True
        for statement in (
            "CREATE ROLE ventanilla LOGIN CREATEDB",
            "CREATE DATABASE ventanilla OWNER ventanilla",
        ):
            self._run(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                      "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", statement)  # fmt: skip
        return f"postgres://ventanilla@127.0.0.1:{self.port}/ventanilla"

    def postmaster_pid(self) -> int | None:
        """The server's main process (its first line of postmaster.pid), or None."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def version(self) -> str:
        return self._run(str(PG_BIN / "postgres"), "--version").stdout.strip()

    def stop(self) -> None:
        if self.started:
            try:
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            except subprocess.CalledProcessError as exc:
                print(f"PostgreSQL did not stop cleanly: {exc.stderr}", file=sys.stderr)
            self.started = False
        shutil.rmtree(self.data, ignore_errors=True)
        self.log.unlink(missing_ok=True)
