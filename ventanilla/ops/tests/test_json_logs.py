import datetime as dt
import io
import json
import logging
import logging.config

import pytest
from django.core.exceptions import ImproperlyConfigured

from ventanilla.ops.logging import logging_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_logs(settings):
    """The project's logging in `json` format, its console handler writing to a buffer;
    the test settings' logging is put back afterwards."""
    logging.config.dictConfig(logging_config("json"))
    buffer = io.StringIO()
    (console,) = logging.getLogger().handlers
    console.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logging.config.dictConfig(settings.LOGGING)


def test_a_record_written_during_a_request_carries_its_request_id(client, settings, json_logs):
    settings.METRICS_TOKEN = "the-real-token"
    response = client.get("/metrics", headers={"Authorization": "Bearer a-wrong-token"})
    assert response.status_code == 401
    records = [r for r in json_logs() if r["logger"] == "ventanilla.ops.views"]
    assert len(records) == 1
    record = records[0]
    assert record["level"] == "WARNING"
    assert record["message"] == "metrics: missing or wrong bearer token"
    assert record["request_id"] == response["X-Request-ID"]
    assert record["case"] is None
    assert dt.datetime.fromisoformat(record["time"]).tzinfo is not None
    # Django's own line about the 401, written after the middleware has returned.
    (django_line,) = [r for r in json_logs() if r["logger"] == "django.request"]
    assert django_line["request_id"] == response["X-Request-ID"]
    assert django_line["status_code"] == 401


def test_each_request_has_its_own_id(client, settings, json_logs):
    settings.METRICS_TOKEN = "the-real-token"
    first = client.get("/metrics")
    second = client.get("/metrics")
    ids = [r["request_id"] for r in json_logs() if r["logger"] == "ventanilla.ops.views"]
    assert ids == [first["X-Request-ID"], second["X-Request-ID"]]
    assert ids[0] != ids[1]


def test_outside_a_request_the_case_number_is_logged_and_the_request_id_is_null(json_logs):
    logging.getLogger("ventanilla.checks").info(
        "verificación terminada", extra={"case": "VU-2026-000123"}
    )
    (record,) = [r for r in json_logs() if r["logger"] == "ventanilla.checks"]
    assert record == {
        "time": record["time"],
        "level": "INFO",
        "logger": "ventanilla.checks",
        "message": "verificación terminada",
        "request_id": None,
        "case": "VU-2026-000123",
    }


def test_an_unknown_log_format_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT='xml'"):
        logging_config("xml")
