"""/readyz and /healthz with the private storage on an S3-compatible server (moto, real
HTTP): ready while the server answers, 503 within seconds once it is gone."""

import socket
import time

import pytest

from ventanilla.documents.storage import storage_from_url
from ventanilla.testing.s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY, s3_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3(settings):
    with s3_server() as server:
        settings.STORAGES = server.storages
        yield server


def test_ready_while_the_storage_server_answers_and_503_soon_after_it_stops(client, s3):
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["storage"] == {"ok": True}
    assert client.get("/healthz").status_code == 200
    assert s3.keys() == []  # the probe deletes what it writes

    s3.stop()
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["storage"] == {"ok": False, "error": "EndpointConnectionError"}
    assert body["database"]["ok"] is True
    assert elapsed < 5
    assert client.get("/healthz").status_code == 503


def test_the_probe_gives_up_within_seconds_on_a_server_that_never_answers(client, settings):
    """A server that accepts the connection and then says nothing (a hung proxy, a
    firewall dropping replies): the probe's read timeout, not boto's 60 s, decides."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshakes; nobody ever reads
        host, port = silent.getsockname()
        default = storage_from_url(f"s3://ventanilla-silent?endpoint_url=http://{host}:{port}")
        default["OPTIONS"] |= {"access_key": ACCESS_KEY_ID, "secret_key": SECRET_ACCESS_KEY}
        settings.STORAGES = {**settings.STORAGES, "default": default}
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["storage"] == {"ok": False, "error": "ReadTimeoutError"}
    assert elapsed < 5
