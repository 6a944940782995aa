"""A staff session left idle longer than STAFF_IDLE_TIMEOUT_SECONDS is signed out."""

import pytest

from ventanilla.audit.models import AuditEvent
from ventanilla.staff.services import LAST_ACTIVITY_SESSION_KEY
from ventanilla.testing.staff import staff_login

pytestmark = pytest.mark.django_db

QUEUE = "/gestion/"


def _idle_for(client, seconds: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] -= seconds
    session.save()


@pytest.fixture(autouse=True)
def _half_an_hour(settings):
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 1800


def test_an_idle_session_is_signed_out_with_a_message(client, analyst):
    staff_login(client, analyst)
    assert client.get(QUEUE).status_code == 200
    _idle_for(client, 1801)

    response = client.get(QUEUE, follow=True)

    assert response.redirect_chain[0][0].startswith("/gestion/ingresar/?next=")
    page = response.content.decode()
    assert "Su sesión se cerró porque estuvo 30 minutos sin actividad" in page
    assert client.get(QUEUE)["Location"].startswith("/gestion/ingresar/")
    event = AuditEvent.objects.get(action="staff.idle_timeout")
    assert event.actor == analyst
    assert not AuditEvent.objects.filter(action="staff.signed_out").exists()


def test_activity_keeps_the_session_open(client, analyst):
    staff_login(client, analyst)
    for _ in range(3):
        assert client.get(QUEUE).status_code == 200
        _idle_for(client, 1700)  # each request starts the half hour again
    assert client.get(QUEUE).status_code == 200
    assert not AuditEvent.objects.filter(action="staff.idle_timeout").exists()
