"""Fault tests of the web (issue 9): the production shape (gunicorn under the production
settings, `run_worker` processes, the scheduler) on a PostgreSQL of the tests' own, with
files in an S3-compatible server over HTTP: a web process killed in the middle of an
upload, PostgreSQL restarted (cleanly, and by a crash) under a stream of submissions.
Nothing accepted is lost, nothing is done twice, and the system recovers by itself.

PostgreSQL 15 comes from `make setup`; without it these tests fail, saying so.
"""

# The psql queries are built from names the tests themselves made.
# ruff: noqa: S608
import contextlib
import http.client
import os
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ventanilla.testing import media
from ventanilla.testing.factories import submission_fields, submission_files
from ventanilla.testing.postgres import FAST_TEST_SETTINGS, PostgresCluster
from ventanilla.testing.s3 import s3_server
from ventanilla.testing.webserver import (
    Database,
    Gunicorn,
    manage,
    manage_process,
    multipart,
    post_submission,
    postgres_missing_message,
    production_environment,
    request,
    tcp_sockets,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A PostgreSQL cluster of this module whose database `ventanilla` is migrated once;
    each test works on a copy of it."""
    missing = postgres_missing_message()
    if missing:
        pytest.fail(missing)
    with PostgresCluster(settings=FAST_TEST_SETTINGS, prefix="ventanilla-web-faults-") as pg:
        env = production_environment(tmp_path_factory.mktemp("migrate"), database_url=pg.url)
        manage(env, "migrate", "--noinput", "-v", "0")
        yield pg


@pytest.fixture
def database(cluster):
    database = Database.copy_of(cluster)
    yield database
    database.drop()


@pytest.fixture
def s3():
    with s3_server() as server:
        yield server


def _stored(s3) -> set[str]:
    """The names of the files in the private storage (the bucket's keys, without the
    prefix), leaving out the readiness probe's."""
    names = {key.removeprefix(f"{s3.prefix}/") for key in s3.keys()}  # noqa: SIM118
    return {name for name in names if not name.startswith("healthz/")}


def _wait_until(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def test_a_web_worker_killed_during_an_upload_leaves_nothing_and_the_request_sent_again_is_registered(
    database, s3, tmp_path
):
    env = production_environment(tmp_path, database_url=database.url, **s3.env)
    web = Gunicorn(env, tmp_path, workers=2)
    try:
        web.wait_ready()
        fields = submission_fields()
        # A whole submission with a phone-sized video (under FILE_UPLOAD_MAX_MEMORY_SIZE: in
        # memory; spooling to nameless files is ops/tests/test_middleware.py's).
        video = media.big_mp4_bytes(int(4.5 * media.MEGABYTE))
        files = submission_files(fields, video=SimpleUploadedFile("v.mp4", video, "video/mp4"))
        body, content_type = multipart(fields, files)

        # Headers and half the body, as a slow connection would; the rest never comes.
        client = socket.create_connection(("127.0.0.1", web.port), timeout=30)
        client_port = client.getsockname()[1]
        client.sendall(
            b"POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[: len(body) // 2]
        )
        worker = _wait_until(
            lambda: web.worker_serving(client_port), 10, "no gunicorn worker took the upload"
        )
        # The worker has read all that was sent (the kernel holds nothing unread for it):
        # it is inside Django, parsing the body (the first four files whole, the video in
        # part) and waiting for the rest.
        _wait_until(
            lambda: all(s.unread_bytes == 0 for s in tcp_sockets(web.port, client_port)),
            10,
            "the worker did not read the half body",
        )
        workers_before = web.worker_pids()
        os.kill(worker, signal.SIGKILL)

        # The client sees the connection end without an answer.
        with contextlib.suppress(ConnectionResetError):
            assert client.recv(1024) == b""
        client.close()

        # gunicorn's master noticed and started a new worker; the web is ready again.
        _wait_until(
            lambda: len(web.worker_pids()) == 2 and worker not in web.worker_pids(),
            30,
            f"gunicorn did not replace the killed worker\n{web.tail()}",
        )
        web.wait_ready()
        assert web.worker_pids() - workers_before, "no new worker"

        # Nothing of the half request: no case, no document, no stored file, and no
        # temporary copy of the uploads where the killed process was writing them (Django's
        # own temporary files would stay there: ventanilla/ops/middleware.py).
        assert database.value("SELECT count(*) FROM cases_case") == "0"
        assert database.value("SELECT count(*) FROM documents_document") == "0"
        assert _stored(s3) == set()
        assert list((tmp_path / "tmp").iterdir()) == []

        # The citizen sends the same request again, whole: one case, its five files.
        answer = post_submission(web.port, body, content_type)
        assert answer.status == 201, answer.body
        assert database.rows("SELECT number FROM cases_case") == [[answer.json()["number"]]]
        documents = database.rows("SELECT file FROM documents_document")
        assert len(documents) == 5
        assert _stored(s3) == {name for (name,) in documents}
        assert list((tmp_path / "tmp").iterdir()) == []
    finally:
        web.stop()


def test_a_web_process_idle_during_a_restart_does_not_reuse_the_connection_it_broke(
    database, tmp_path
):
    env = production_environment(tmp_path, database_url=f"{database.url}?conn_max_age=600")
    web = Gunicorn(env, tmp_path, workers=1)
    try:
        web.wait_ready()  # its one worker now keeps a connection between requests
        database.cluster.restart("fast")
        # The first request after the restart is served, on a new connection.
        answer = request(web.port, "GET", "/readyz")
        assert answer.status == 200, answer.body
    finally:
        web.stop()


REFUSE_QUEUE_INSERTS = """
CREATE FUNCTION refuse_as_shutting_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    RAISE EXCEPTION 'terminating connection due to administrator command'
        USING ERRCODE = 'admin_shutdown';
END $$;
CREATE TRIGGER refuse_as_shutting_down BEFORE INSERT ON django_tasks_database_dbtaskresult
    FOR EACH ROW EXECUTE FUNCTION refuse_as_shutting_down();
"""


def test_a_submission_whose_tasks_cannot_be_queued_is_refused_whole_and_leaves_nothing(
    database, s3, tmp_path
):
    """A submission's checks and acknowledgement are queued in its own transaction
    (ventanilla/ops/queue.py). When the database goes away at that moment (a restart at the
    wrong time; here a trigger refuses the queue's inserts as a server shutting down does),
    nothing of it stays: the citizen is told nothing was saved (503), no case, no file left
    in storage. The same request, sent again once the database is back, is accepted with
    both of its tasks queued."""
    env = production_environment(tmp_path, database_url=database.url, **s3.env)
    web = Gunicorn(env, tmp_path, workers=1)
    try:
        web.wait_ready()
        database.cluster.psql(REFUSE_QUEUE_INSERTS, database=database.name)
        fields = submission_fields()
        body = multipart(fields, submission_files(fields))
        answer = post_submission(web.port, *body)
        assert answer.status == 503, answer.body
        assert "no se ha registrado nada" in answer.json()["detail"]
        assert database.rows("SELECT number FROM cases_case") == []
        assert database.rows("SELECT file FROM documents_document") == []
        assert _stored(s3) == set()

        database.cluster.psql(
            "DROP TRIGGER refuse_as_shutting_down ON django_tasks_database_dbtaskresult",
            database=database.name,
        )
        answer = post_submission(web.port, *body)
        assert answer.status == 201, answer.body
    finally:
        web.stop()
    (number,) = database.rows("SELECT number FROM cases_case")
    assert answer.json()["number"] == number[0]
    assert len(_stored(s3)) == 5
    queued = database.rows("SELECT task_path FROM django_tasks_database_dbtaskresult")
    assert sorted(path.rsplit(".", 1)[-1] for (path,) in queued) == [
        "case_checks_task",
        "email_send_task",
    ]


# The restart test: CLIENTS citizens' apps submit, each the same request again and again,
# from the start until AFTER_RESTART_SECONDS after PostgreSQL is back (at least
# MIN_TRAFFIC_SECONDS); PostgreSQL is restarted RESTART_AFTER_SECONDS in. A client that gets
# no answer or a 5xx waits RETRY_WAIT_SECONDS and sends the same request again, at most
# MAX_ATTEMPTS times (a real app would honour Retry-After; a shorter wait only makes the
# test harder).
CLIENTS = 4
RESTART_AFTER_SECONDS = 4
AFTER_RESTART_SECONDS = 4
MIN_TRAFFIC_SECONDS = 10
RETRY_WAIT_SECONDS = 0.5
MAX_ATTEMPTS = 40
# Between two submissions of one client: keeps the checks of every case (OCR and faces, a
# few seconds of CPU each) within the test's time on two cores.
THINK_SECONDS = 3
# Time for the workers to finish every case's checks and acknowledgement after the traffic.
DRAIN_SECONDS = 45


@dataclass
class Attempt:
    client: int
    submission: int
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    error: str = ""
    number: str = ""
    retry_after: str | None = None
    detail: str = ""


class Traffic:
    """What the clients did (`log`), how many requests are being served right now, and
    the signal to stop."""

    def __init__(self):
        self.log: list[Attempt] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def send(self, port: int, body: bytes, content_type: str):
        with self._lock:
            self._in_flight += 1
        try:
            return post_submission(port, body, content_type, timeout=60)
        finally:
            with self._lock:
                self._in_flight -= 1


def _client(index: int, port: int, body: bytes, content_type: str, traffic: Traffic) -> None:
    """Submit the same request again and again until told to stop, retrying each as a
    real app would; every attempt goes to the traffic's log."""
    submission = 0
    while not traffic.stop.is_set():
        submission += 1
        for _ in range(MAX_ATTEMPTS):
            started = time.monotonic()
            try:
                answer = traffic.send(port, body, content_type)
            except (OSError, http.client.HTTPException) as exc:
                traffic.log.append(
                    Attempt(index, submission, started, time.monotonic(), None, repr(exc))
                )
                time.sleep(RETRY_WAIT_SECONDS)
                continue
            attempt = Attempt(
                index,
                submission,
                started,
                time.monotonic(),
                answer.status,
                retry_after=answer.headers.get("Retry-After"),
            )
            traffic.log.append(attempt)
            if answer.status == 201:
                attempt.number = answer.json()["number"]
                break
            try:
                attempt.detail = answer.json().get("detail", "")
            except ValueError:
                attempt.detail = answer.body[:300].decode(errors="replace")
            if answer.status < 500:
                break  # refused: sending it again would not help (the test fails on it)
            time.sleep(RETRY_WAIT_SECONDS)
        traffic.stop.wait(THINK_SECONDS)


def _request_bodies() -> list[tuple[bytes, str]]:
    """One request per client (a person of its own); plain images, in which the checks
    find no text or face quickly, and the factories' two-second video."""
    bodies = []
    for index in range(CLIENTS):
        fields = submission_fields(index)
        plain = {
            kind: SimpleUploadedFile(f"{kind}.jpg", media.solid_jpeg_bytes(400, 250), "image/jpeg")
            for kind in ("id_front", "id_back", "selfie")
        }
        bodies.append(multipart(fields, submission_files(fields, **plain)))
    return bodies


def _work_of_submitted_cases(database: Database) -> str:
    """What the queue and the check runs hold for the cases still `submitted`."""
    return "\n".join(
        "|".join(row)
        for sql in (
            "SELECT 'case', id, checks_enqueued_at, checks_completed_at FROM cases_case "
            "WHERE status = 'submitted'",
            "SELECT 'task', t.status, t.args_kwargs, t.enqueued_at, t.started_at, t.finished_at "
            "FROM django_tasks_database_dbtaskresult t WHERE t.queue_name = 'checks' AND "
            "(t.args_kwargs->'args'->>0)::bigint IN "
            "(SELECT id FROM cases_case WHERE status = 'submitted')",
            "SELECT 'run', r.case_id, r.requested_at, r.finished_at FROM checks_checkrun r "
            "WHERE r.case_id IN (SELECT id FROM cases_case WHERE status = 'submitted')",
        )
        for row in database.rows(sql)
    )


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgresql_restarted_during_traffic_loses_nothing_duplicates_nothing_and_recovers(
    mode, cluster, database, s3, smtp_server, tmp_path, caplog
):
    began = time.monotonic()
    caplog.set_level("WARNING", logger="mail.log")  # aiosmtpd: a line per SMTP command
    env = production_environment(
        tmp_path,
        # Connections kept between requests: the restart breaks them under the web
        # processes, which must not reuse one (CONN_HEALTH_CHECKS, settings/base.py).
        database_url=f"{database.url}?conn_max_age=600",
        email_port=smtp_server.port,
        # Work the restart interrupts is recovered by the scheduler within the test.
        STALLED_WORK_AFTER_SECONDS="10",
        SCHEDULER_INTERVAL_SECONDS="1",
        **s3.env,
    )
    bodies = _request_bodies()
    web = Gunicorn(env, tmp_path, workers=2)
    services = [
        manage_process("default worker", env, tmp_path, "run_worker", "--queue-name", "default",
                       "--no-reload", "--interval", "0.2"),
        *(
            manage_process(f"checks worker {i}", env, tmp_path, "run_worker", "--queue-name",
                           "checks", "--no-reload", "--interval", "0.2")
            for i in (1, 2)
        ),
        manage_process("scheduler", env, tmp_path, "run_scheduler"),
    ]  # fmt: skip
    try:
        web.wait_ready()
        web_workers = web.worker_pids()
        ready = time.monotonic()

        traffic = Traffic()
        log = traffic.log
        clients = [
            threading.Thread(target=_client, args=(i, web.port, *bodies[i], traffic))
            for i in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        try:
            time.sleep(RESTART_AFTER_SECONDS)
            # In the middle of requests: at least two of them are being served.
            _wait_until(lambda: traffic.in_flight >= 2, 20, "the clients sent nothing")
            restart_started = time.monotonic()
            cluster.restart(mode)
            restart_ended = time.monotonic()
            time.sleep(
                max(ready + MIN_TRAFFIC_SECONDS, restart_ended + AFTER_RESTART_SECONDS)
                - time.monotonic()
            )
        finally:
            traffic.stop.set()
            for client in clients:
                client.join(timeout=120)
        assert not any(client.is_alive() for client in clients), "a client never finished"
        traffic_ended = time.monotonic()

        failures = [a for a in log if a.status != 201]
        numbers = [a.number for a in log if a.status == 201]
        print(
            f"\nPostgreSQL restart ({mode}) took {restart_ended - restart_started:.1f} s; "
            f"{len(log)} requests: {len(numbers)} answered 201, {len(failures)} failed and "
            f"were sent again ({dict(Counter(a.status for a in failures))}); outage seen by "
            "the clients: "
            + (
                f"{max(a.ended for a in failures) - min(a.started for a in failures):.1f} s"
                if failures
                else "none"
            )
        )

        # The web answered every request: 201, or 503 saying that nothing was saved and
        # when to come back; never a 500, never a dropped connection.
        assert {a.status for a in log} <= {201, 503}, [
            (a.status, a.error, a.detail) for a in failures
        ]
        for attempt in failures:
            assert attempt.retry_after == "60"
            assert attempt.detail.startswith("No pudimos guardar su solicitud")
        # Every submission was accepted in the end.
        assert {(a.client, a.submission) for a in log} == {
            (a.client, a.submission) for a in log if a.status == 201
        }
        # The restart hit the traffic: requests were being served while it went on.
        assert any(a.started < restart_ended and a.ended > restart_started for a in log)
        # The web recovered by itself: the same gunicorn worker processes answer again, and
        # nothing sent once the database was back failed on a connection the restart broke.
        assert web.alive() and web.worker_pids() == web_workers, web.tail()
        after = [a for a in log if a.started > restart_ended + 0.5]
        assert after, "no request after the restart"
        assert all(a.status == 201 for a in after), [(a.status, a.detail) for a in after]

        # 0 lost, 0 duplicated: the cases are exactly those answered 201, each with its
        # five documents, each document's file in the bucket.
        assert len(set(numbers)) == len(numbers)
        assert sorted(row[0] for row in database.rows("SELECT number FROM cases_case")) == sorted(
            numbers
        )
        documents = database.rows(
            "SELECT c.number, d.file FROM documents_document d JOIN cases_case c ON c.id = d.case_id"
        )
        assert Counter(number for number, _ in documents) == dict.fromkeys(numbers, 5)
        assert {name for _, name in documents} <= _stored(s3)

        # The workers outlive the restart: every case's checks run and it goes to review,
        # and every case gets exactly one acknowledgement.
        deadline = time.monotonic() + DRAIN_SECONDS
        while True:
            submitted, unsent = database.rows(
                "SELECT (SELECT count(*) FROM cases_case WHERE status = 'submitted'), "
                "(SELECT count(*) FROM notifications_outboundemail WHERE status <> 'sent')"
            )[0]
            if (submitted, unsent) == ("0", "0") and len(smtp_server.messages) >= len(numbers):
                break
            assert time.monotonic() < deadline, (
                f"{DRAIN_SECONDS} s after the traffic, {submitted} cases are still submitted "
                f"and {unsent} emails unsent\n{_work_of_submitted_cases(database)}\n"
                + "\n".join(p.tail() for p in services)
            )
            time.sleep(0.5)
        acknowledged = Counter(m["message"]["X-Ventanilla-Case"] for m in smtp_server.messages)
        assert acknowledged == dict.fromkeys(numbers, 1)
        # No file without its row: the documents' and the checks' evidence (face crops).
        attachments = database.rows("SELECT file FROM checks_checkattachment")
        assert _stored(s3) == {name for _, name in documents} | {name for (name,) in attachments}
        for process in services:
            assert process.alive(), process.tail()
        print(
            f"web ready {ready - began:.1f} s, traffic {traffic_ended - ready:.1f} s, "
            f"every case checked and acknowledged {time.monotonic() - traffic_ended:.1f} s "
            f"after it; whole test {time.monotonic() - began:.1f} s"
        )
    finally:
        for process in [web, *services]:
            process.stop()
