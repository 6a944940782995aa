"""Schemathesis against the OpenAPI schema the app itself publishes: every operation,
public and staff (with a real analyst's token), with generated valid and invalid input.
Each answer must be no server error, have a status, content type, headers and body the
schema declares. Bounded and derandomised, so that a run takes about a minute and a
failure comes back the same on the next run.

The staff operations are also called with the number of a real case in review, so that
the 200, 409 and 422 answers are exercised, not only the 404 of a random number."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ventanilla.cases.constants import CaseStatus
from ventanilla.testing.factories import case_in_status

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25


@pytest.fixture(autouse=True)
def connection_kept_open(db):
    """The requests go through the real WSGI application, whose end-of-request signal
    would close the database connection, and with it the test's transaction. Django's
    own test client unhooks the same handler."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def case_in_review(analyst):
    return case_in_status(CaseStatus.IN_REVIEW, analyst)


# Read once at collection, as the app serves it (no database needed). Not through
# schemathesis.pytest.from_fixture: its lazy loader sets a private attribute of pytest's
# nodes that pytest 9 no longer has.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_the_schema_says(case, staff_headers, case_in_review):
    headers = staff_headers if "/staff/" in case.path else {}
    case.call_and_validate(headers=headers, checks=CHECKS)
    if "{number}" in case.path and "/staff/" in case.path:
        case.path_parameters = {**(case.path_parameters or {}), "number": case_in_review.number}
        case.call_and_validate(headers=headers, checks=CHECKS)
