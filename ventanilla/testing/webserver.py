"""The production shape run by a test: gunicorn under the production settings, task workers
and the scheduler as `make serve` starts them (scripts/serve.sh), on a database and a storage
of the test's own; and a citizen's submission sent to it over real HTTP.

For the fault tests (ventanilla/ops/tests/test_web_faults.py), which kill processes and
restart PostgreSQL under this system and then look at what is left.
"""

import base64
import http.client
import itertools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from urllib3 import encode_multipart_formdata

from ventanilla.settings.rate_limit_names import RATE_LIMIT_SETTINGS

from .postgres import PG_BIN, PostgresCluster, free_port, postgres_available

ROOT = Path(__file__).resolve().parents[2]

_copies = itertools.count(1)


def postgres_missing_message() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None."""
    if postgres_available():
        return None
    return f"PostgreSQL 15 is missing ({PG_BIN}/initdb): `make setup` installs postgresql-15."


@dataclass
class Database:
    """One database of a test's PostgreSQL cluster, read with psql."""

    cluster: PostgresCluster
    name: str

    @property
    def url(self) -> str:
        return f"postgres://ventanilla@127.0.0.1:{self.cluster.port}/{self.name}"

    @classmethod
    def copy_of(cls, cluster: PostgresCluster, template: str = "ventanilla") -> "Database":
        """A new database holding what `template` holds (a migrated schema: ~0.2 s
        instead of a `migrate`)."""
        name = f"{template}_copy_{os.getpid()}_{next(_copies)}"
        cluster.psql(f"CREATE DATABASE {name} TEMPLATE {template} OWNER ventanilla")
        return cls(cluster, name)

    def drop(self) -> None:
        self.cluster.psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def rows(self, sql: str) -> list[list[str]]:
        """The rows of a query, each a list of its values as text."""
        out = self.cluster.psql(sql, database=self.name)
        return [line.split("|") for line in out.splitlines() if line]

    def value(self, sql: str) -> str:
        return self.cluster.psql(sql, database=self.name).strip()


def production_environment(
    folder: Path, *, database_url: str, email_port: int | None = None, **extra: str
) -> dict[str, str]:
    """The environment of the production settings for processes started in `folder`: the
    test's database, throwaway keys, plain HTTP on loopback (as `SERVE_LOCAL=1 make serve`),
    files in `folder`/private (unless `extra` sets STORAGE_URL), temporary files in
    `folder`/tmp (so that a test sees what a killed process leaves there), the session's
    clamd (every upload is scanned), the test's SMTP server, rate limits out of the way."""
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "RATE_LIMIT_", "DEBUG", "CACHE_URL", "STORAGE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ventanilla.settings.production",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FILE_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "CLAMAV_URL": settings.CLAMAV_URL,
            "DATABASE_URL": database_url,
            "PRIVATE_STORAGE_DIR": str(folder / "private"),
            "STATIC_ROOT": str(folder / "static"),
            "SMS_FILE_DIR": str(folder / "sms"),
            "TMPDIR": str(folder / "tmp"),
            "LOG_FORMAT": "plain",
            "PYTHONUNBUFFERED": "1",
            **dict.fromkeys(RATE_LIMIT_SETTINGS, "1000000/h"),
        }
    )
    if email_port is not None:
        env["EMAIL_URL"] = f"smtp://127.0.0.1:{email_port}"
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    """Run `manage.py` with `args` to the end; its output, or an AssertionError with it."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


class Process:
    """A long-running process of the system (`manage.py` command or the web server), in a
    session of its own so that stopping it stops its children too; its output goes to
    `log`, which `tail()` reads back for an assertion message."""

    def __init__(self, name: str, command: list[str], *, env: dict, log: Path):
        self.name = name
        self.log = log
        with log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, characters: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (pid {self.pid}), end of {self.log}:\n{text[-characters:]}"

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=timeout)


def manage_process(name: str, env: dict, folder: Path, *args: str) -> Process:
    """`manage.py args...` running in the background, as serve.sh starts workers."""
    log = folder / f"{name.replace(' ', '-')}.log"
    return Process(name, [sys.executable, "manage.py", *args], env=env, log=log)


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is `pid` (from /proc: Linux only)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # The command name is in parentheses and may hold spaces: fields follow the last ')'.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            children.add(int(entry.name))
    return children


@dataclass
class TcpSocket:
    inode: str
    unread_bytes: int  # received by the kernel, not yet read by the process


def tcp_sockets(port: int, peer_port: int) -> list[TcpSocket]:
    """The TCP sockets from local `port` to a peer on `peer_port` (IPv4, /proc/net/tcp)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, queues, inode = fields[1], fields[2], fields[4], fields[9]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == peer_port:
            found.append(TcpSocket(inode, int(queues.split(":")[1], 16)))
    return found


def process_holding_connection(pids: set[int], port: int, peer_port: int) -> int | None:
    """Which of `pids` holds the accepted connection from `peer_port` to `port`."""
    wanted = {f"socket:[{s.inode}]" for s in tcp_sockets(port, peer_port)}
    for pid in pids:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) in wanted:
                    return pid
            except OSError:
                continue
    return None


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 60,
) -> Answer:
    """One HTTP request on a new connection to 127.0.0.1:`port`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


class Gunicorn(Process):
    """The web server as serve.sh runs it: gunicorn with `workers` processes on a free
    loopback port."""

    def __init__(self, env: dict, folder: Path, *, workers: int = 2):
        self.port = free_port()
        self.workers = workers
        super().__init__(
            "web server",
            [
                sys.executable, "-m", "gunicorn", "ventanilla.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                "--access-logfile", "-", "--no-control-socket",
            ],
            env=env,
            log=folder / "gunicorn.log",
        )  # fmt: skip

    def worker_pids(self) -> set[int]:
        return child_pids(self.pid)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /readyz answers 200 and every worker process has started."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.alive(), f"gunicorn stopped\n{self.tail()}"
            try:
                ready = request(self.port, "GET", "/readyz", timeout=5).status == 200
            except OSError:
                ready = False
            if ready and len(self.worker_pids()) == self.workers:
                return
            assert time.monotonic() < deadline, f"gunicorn not ready in {timeout} s\n{self.tail()}"
            time.sleep(0.2)

    def worker_serving(self, client_port: int) -> int | None:
        """The worker process that accepted the connection from `client_port`."""
        return process_holding_connection(self.worker_pids(), self.port, client_port)


def multipart(fields: dict[str, str], files: dict) -> tuple[bytes, str]:
    """The body and Content-Type of a multipart/form-data POST of `fields` and `files`
    (uploaded files, e.g. from ventanilla.testing.factories.submission_files)."""
    parts: dict = dict(fields)
    for name, upload in files.items():
        upload.seek(0)
        parts[name] = (upload.name, upload.read(), upload.content_type)
    return encode_multipart_formdata(parts)


def post_submission(port: int, body: bytes, content_type: str, *, timeout: float = 60) -> Answer:
    """POST /api/v1/cases with a body from `multipart`."""
    return request(
        port,
        "POST",
        "/api/v1/cases",
        body=body,
        headers={"Content-Type": content_type},
        timeout=timeout,
    )
