"""The task worker as `make run` starts it: a separate `manage.py run_worker` process."""

import time

import pytest

from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.testing.factories import submission_fields, submission_files


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_process_checks_the_case_and_sends_the_confirmation(
    client, worker_process, smtp_server
):
    fields = submission_fields()
    response = client.post("/api/v1/cases", {**fields, **submission_files(fields)})
    assert response.status_code == 201
    number = response.json()["number"]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = Case.objects.get(number=number).status
        if status == CaseStatus.IN_REVIEW and smtp_server.messages:
            break
        assert worker_process.poll() is None, "the worker process died"
        time.sleep(0.2)
    assert Case.objects.get(number=number).status == CaseStatus.IN_REVIEW
    assert number in smtp_server.to(fields["email"])[0]["Subject"]
