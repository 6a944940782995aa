"""Fault tests of the task workers (issue 9): real `manage.py run_worker` processes on a
PostgreSQL cluster of the tests' own, with files in an S3-compatible server over HTTP and
mail to a real SMTP server. A worker killed with SIGKILL in the middle of a check run or of
an email, several workers sharing a queue and duplicate tasks, the database stopped under
running workers: nothing accepted is lost, nothing is done twice, and the system recovers
by itself (the scheduler re-enqueues what a dead worker left; docs/deployment.md).

PostgreSQL 15 comes from `make setup`; without it these tests fail, saying so.
"""

# The psql queries are built from ids and names the tests themselves made.
# ruff: noqa: S608
import collections
import json
import re

import pytest

from ventanilla.testing.s3 import s3_server
from ventanilla.testing.workers import HoldingSmtpServer, System, migrated_cluster

SUBMIT_CASE = """
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
fields = submission_fields()
case = submit_request(fields, submission_files(fields))
{extra}
print("case", case.pk, fields["email"])
"""
EXTRA_CHECK_TASKS = """
from ventanilla.checks.tasks import case_checks_task
for _ in range(2):
    case_checks_task.enqueue(case.pk, "scheduler")
"""
QUEUE_EMAILS = """
from ventanilla.notifications.services import email_queue
from ventanilla.notifications.tasks import email_send_task
for i in range({count}):
    email = email_queue(
        template="correction_received",
        to=f"persona{{i:03d}}@example.org",
        context={{}},
        dedupe_key=f"faults:{{i}}",
    )
    for _ in range({duplicates}):
        email_send_task.enqueue(email.pk)
print("queued", {count})
"""
TASKS = "django_tasks_database_dbtaskresult"


@pytest.fixture(scope="module")
def cluster():
    with migrated_cluster() as cluster:
        yield cluster


@pytest.fixture
def smtp():
    server = HoldingSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def system_env() -> dict[str, str]:
    """Settings of the installation beyond System's (a test parametrizes it)."""
    return {}


@pytest.fixture
def system(cluster, smtp, tmp_path, system_env):
    """An installation of its own: a fresh copy of the migrated database, files in a
    bucket of a local S3-compatible server, mail to `smtp`, stalled work re-enqueued after
    3 s (unless `system_env` says otherwise)."""
    with s3_server() as s3, System(cluster, tmp_path, smtp, **s3.env, **system_env) as system:
        yield system


def submit_case(system: System, extra: str = "") -> tuple[int, str]:
    """A citizen's request with its five files, through the real intake path."""
    output = system.shell(SUBMIT_CASE.format(extra=extra))
    _, case_id, email = re.search(r"^case (\d+) (\S+)$", output, re.MULTILINE).group(0).split()
    return int(case_id), email


def check_runs(system: System, case_id: int, *, finished: bool) -> int:
    condition = "IS NOT NULL" if finished else "IS NULL"
    return int(
        system.sql_value(
            f"SELECT count(*) FROM checks_checkrun WHERE case_id = {case_id} "
            f"AND finished_at {condition}"
        )
    )


def case_status(system: System, case_id: int) -> str:
    return system.sql_value(f"SELECT status FROM cases_case WHERE id = {case_id}")


def tasks(system: System, name: str) -> list[tuple[str, str]]:
    """(status, return value as JSON or "") of each task of this name, oldest first."""
    rows = system.sql(
        f"SELECT status, coalesce(return_value::text, '') FROM {TASKS} "
        f"WHERE task_path LIKE '%.{name}' ORDER BY enqueued_at"
    )
    return [tuple(row.split("|")) for row in rows.splitlines()]


def assert_one_complete_run_shown(system: System, case_id: int) -> int:
    """What the analyst sees (checks.selectors: the current results and the latest
    finished run) is one whole run; returns its id."""
    output = system.shell(
        "import json\n"
        "from ventanilla.cases.models import Case\n"
        "from ventanilla.checks.selectors import check_run_latest, checks_for_case\n"
        f"case = Case.objects.get(pk={case_id})\n"
        "shown = checks_for_case(case)\n"
        "latest = check_run_latest(case)\n"
        "print('shown', json.dumps({'runs': sorted({r.run_id for r in shown}), "
        "'latest': latest.pk, 'latest_results': latest.results.count(), 'shown': len(shown)}))"
    )
    shown = json.loads(re.search(r"^shown (.*)$", output, re.MULTILINE).group(1))
    assert shown["runs"] == [shown["latest"]], f"results of other runs are shown: {shown}"
    assert shown["latest_results"] == shown["shown"], f"not all of the run is shown: {shown}"
    # Every check of the run: five file integrity checks and the checks of the documents.
    assert shown["shown"] >= 10
    return shown["latest"]


def test_a_checks_worker_killed_mid_run_is_replaced_and_the_case_checked_once(system, smtp):
    scheduler = system.start_scheduler()
    mailer = system.start_worker("default")
    doomed = system.start_worker("checks", "checks-worker-killed")
    case_id, citizen = submit_case(system)

    system.wait(
        lambda: check_runs(system, case_id, finished=False),
        timeout=60,
        what=f"the check run of case {case_id} to start",
        every=0.1,
    )
    system.kill9(doomed)
    # Killed in the middle: the run had recorded nothing, and its task stays RUNNING.
    assert check_runs(system, case_id, finished=True) == 0
    assert (
        system.sql_value(f"SELECT count(*) FROM checks_checkresult WHERE case_id = {case_id}")
        == "0"
    )
    assert tasks(system, "case_checks_task")[0] == ("RUNNING", "")
    assert case_status(system, case_id) == "submitted"

    system.start_worker("checks", "checks-worker-new")
    system.wait(
        lambda: case_status(system, case_id) == "in_review",
        timeout=60,
        what=f"case {case_id} to reach the analyst",
    )
    system.wait(lambda: smtp.to(citizen), timeout=30, what="the acknowledgement email")

    # The interrupted run is left as it was killed: started, never finished, no result.
    # The analyst sees only the whole run of the new worker.
    assert check_runs(system, case_id, finished=False) == 1
    assert check_runs(system, case_id, finished=True) == 1
    run_id = assert_one_complete_run_shown(system, case_id)
    assert (
        system.sql_value(
            f"SELECT count(*) FROM checks_checkresult WHERE case_id = {case_id} AND run_id <> {run_id}"
        )
        == "0"
    )
    assert (
        system.sql_value(f"SELECT trigger FROM checks_checkrun WHERE id = {run_id}") == "scheduler"
    )
    # Nothing lost: the five files read back intact from the bucket ...
    integrity = system.sql(
        f"SELECT outcome FROM checks_checkresult WHERE run_id = {run_id} "
        "AND name = 'file_integrity'"
    ).split()
    assert len(integrity) == 5 and set(integrity) <= {"pass", "warn"}
    # ... and nothing twice: one move to the analyst, one acknowledgement.
    assert (
        system.sql_value(
            f"SELECT count(*) FROM cases_casetransition WHERE case_id = {case_id} "
            "AND to_status = 'in_review'"
        )
        == "1"
    )
    assert system.sql_value("SELECT status FROM notifications_outboundemail") == "sent"
    assert len(smtp.to(citizen)) == 1
    # The dead worker's task stays RUNNING (django-tasks-db has no visibility timeout);
    # the scheduler's task did the work, and any other task of the case (the scheduler
    # may have counted the case stalled before its first task was even enqueued: 3 s
    # is shorter than this loaded machine's submission) found it done.
    dead, *others = tasks(system, "case_checks_task")
    assert dead == ("RUNNING", "")
    assert {status for status, _ in others} == {"SUCCESSFUL"}
    assert sum(value != '"already-checked"' for _, value in others) == 1, others
    system.assert_alive(scheduler, mailer)


def test_b_default_worker_killed_while_sending_an_email_is_replaced_and_it_arrives_once(
    system, smtp
):
    smtp.hold()
    doomed = system.start_worker("default", "default-worker-killed")
    system.shell(QUEUE_EMAILS.format(count=1, duplicates=0))
    system.wait(
        lambda: smtp.waiting == 1,
        timeout=60,
        what="the SMTP server to receive the message",
    )
    assert system.sql_value("SELECT status FROM notifications_outboundemail") == "sending"

    system.kill9(doomed)
    # The server had not acknowledged it: for the server the message never arrived.
    system.wait(lambda: smtp.abandoned, timeout=10, what="the server to see the client go")
    smtp.release()
    assert smtp.delivered == []
    assert system.sql_value("SELECT status FROM notifications_outboundemail") == "sending"

    worker = system.start_worker("default", "default-worker-new")
    scheduler = system.start_scheduler()
    system.wait(
        lambda: system.sql_value("SELECT status FROM notifications_outboundemail") == "sent",
        timeout=60,
        what="the message to be sent again",
    )
    # The dead worker's task stays RUNNING; the scheduler's sent the message (and any
    # other it enqueued while the new worker was starting found it sent). Nothing can send
    # it again: the row is sent.
    dead, *others = tasks(system, "email_send_task")
    assert dead == ("RUNNING", "")
    assert {status for status, _ in others} == {"SUCCESSFUL"}
    returns = collections.Counter(value for _, value in others)
    assert returns['"sent"'] == 1 and set(returns) <= {'"sent"', '"skipped"'}, returns
    assert len(smtp.to("persona000@example.org")) == 1
    assert len(smtp.delivered) == 1
    assert system.sql_value("SELECT attempts FROM notifications_outboundemail") == "1"
    system.assert_alive(scheduler, worker)


def test_c_three_workers_share_200_emails_and_their_duplicate_tasks(system, smtp):
    workers = [system.start_worker("default", f"default-worker-{n}") for n in (1, 2, 3)]
    system.wait(
        lambda: all("Starting worker" in system.log_of(w) for w in workers),
        timeout=60,
        what="the three workers to start",
    )
    # Each message's task is enqueued once more, as a scheduler's re-enqueue would: two
    # tasks per message, taken by three workers at once.
    system.shell(QUEUE_EMAILS.format(count=200, duplicates=1))

    def all_done():
        left = system.sql_value(
            f"SELECT count(*) FROM {TASKS} WHERE status IN ('READY', 'RUNNING')"
        )
        return left == "0" and len(smtp.delivered) >= 200

    system.wait(all_done, timeout=60, what="the 400 tasks to run")
    received = collections.Counter(m["To"] for m in smtp.delivered)
    assert len(received) == 200
    assert set(received.values()) == {1}, [a for a, n in received.items() if n > 1]
    assert system.sql("SELECT status, attempts, count(*) FROM notifications_outboundemail "
                      "GROUP BY 1, 2") == "sent|1|200"  # fmt: skip
    returns = collections.Counter(
        system.sql(f"SELECT return_value::text FROM {TASKS} WHERE status = 'SUCCESSFUL'").split()
    )
    assert returns == {'"sent"': 200, '"skipped"': 200}
    # The three shared the queue.
    shared = system.sql(f"SELECT DISTINCT worker_ids->>0 FROM {TASKS}").split()
    assert len(shared) == 3
    system.assert_alive(*workers)


@pytest.mark.parametrize("system_env", [{"STALLED_WORK_AFTER_SECONDS": "1"}])
def test_d_two_checks_workers_with_duplicate_tasks_run_the_checks_once(system, smtp):
    """Three tasks of one case (the submission's, and two duplicates) on two checks workers
    at once, with a scheduler that counts work as stalled after 1 s: one run, one move to
    the analyst; and the scheduler leaves a run in progress alone, however long."""
    scheduler = system.start_scheduler()
    case_id, _ = submit_case(system, extra=EXTRA_CHECK_TASKS)
    workers = [system.start_worker("checks", f"checks-worker-{n}") for n in (1, 2)]

    def all_ran():
        done = tasks(system, "case_checks_task")
        return len(done) == 3 and all(status == "SUCCESSFUL" for status, _ in done) and done

    done = system.wait(all_ran, timeout=60, what="the three tasks to run")
    assert case_status(system, case_id) == "in_review"
    assert check_runs(system, case_id, finished=True) == 1
    assert check_runs(system, case_id, finished=False) == 0
    assert_one_complete_run_shown(system, case_id)
    returns = collections.Counter(value for _, value in done)
    assert returns['"already-checked"'] == 2, returns
    assert (
        system.sql_value(
            f"SELECT count(*) FROM cases_casetransition WHERE case_id = {case_id} "
            "AND to_status = 'in_review'"
        )
        == "1"
    )
    # The run outlasted STALLED_WORK_AFTER_SECONDS, and the scheduler enqueued nothing:
    # three tasks in all.
    seconds = float(
        system.sql_value(
            "SELECT extract(epoch FROM finished_at - started_at) FROM checks_checkrun "
            f"WHERE case_id = {case_id}"
        )
    )
    assert seconds > 1
    system.assert_alive(scheduler, *workers)


def test_e_workers_and_scheduler_outlive_a_database_outage(system, smtp, cluster):
    worker = system.start_worker("default")
    scheduler = system.start_scheduler()
    system.wait(
        lambda: "Starting worker" in system.log_of(worker),
        timeout=60,
        what="the worker to start",
    )
    cluster.stop_server("fast")
    try:
        system.wait(
            lambda: system.log_of(worker).count("database unreachable") >= 3,
            timeout=30,
            what="the worker to notice",
        )
        system.wait(
            lambda: "database unreachable" in system.log_of(scheduler),
            timeout=30,
            what="the scheduler to notice",
        )
    finally:
        cluster.start_server()
    system.assert_alive(worker, scheduler)

    # Working again, with the same processes.
    system.shell(QUEUE_EMAILS.format(count=1, duplicates=0))
    system.wait(lambda: smtp.delivered, timeout=30, what="the email")
    log = system.log_of(worker)
    # One line per attempt, waiting longer each time (0.5 s doubling to 5 s), no traceback.
    delays = re.findall(r"database unreachable \(.+\); trying again in ([\d.]+) s", log)
    assert delays[:3] == ["0.5", "1.0", "2.0"], log
    assert "Traceback" not in log and "Traceback" not in system.log_of(scheduler)

    assert len(smtp.delivered) == 1
    # SIGTERM still stops the worker cleanly.
    worker.terminate()
    assert worker.wait(timeout=20) == 0
    system.assert_alive(scheduler)


def test_f_an_email_accepted_while_the_database_is_down_is_recorded_once_it_is_back(
    system, smtp, cluster
):
    """The database goes away between the SMTP server's 250 and the commit that marks the
    message sent: the worker retries that commit, so the message is not sent again."""
    smtp.hold()
    worker = system.start_worker("default")
    system.shell(QUEUE_EMAILS.format(count=1, duplicates=0))
    system.wait(lambda: smtp.waiting == 1, timeout=60, what="the message")
    cluster.stop_server("fast")
    try:
        smtp.release()
        system.wait(
            lambda: "was sent, but the database is unreachable" in system.log_of(worker),
            timeout=30,
            what="the worker to retry the commit",
        )
    finally:
        cluster.start_server()
    system.wait(
        lambda: system.sql_value("SELECT status FROM notifications_outboundemail") == "sent",
        timeout=30,
        what="the message to be recorded as sent",
    )
    assert len(smtp.delivered) == 1
    assert tasks(system, "email_send_task") == [("SUCCESSFUL", '"sent"')]
    assert "Traceback" not in system.log_of(worker)
    system.assert_alive(worker)
