"""Lock-out after repeated failures (django-axes): wrong passwords and wrong codes count
together, for one username from one address; the sign-in page says until when."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.db.models import F

from conftest import PASSWORD
from ventanilla.audit.models import AuditEvent
from ventanilla.testing.staff import totp_code, totp_device_for

pytestmark = pytest.mark.django_db

LOGIN = "/gestion/ingresar/"
CODE = "/gestion/ingresar/codigo/"
QUEUE = "/gestion/"
HOME = "/gestion/inicio/"  # where sign-in ends without a `next`


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    # django-otp's own back-off would refuse codes typed within a second of each other
    # without counting them; here every wrong code must reach the lock-out count.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _password(client, user, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": user.username, "password": password}, **extra)


def _wrong(device) -> str:
    return "000000" if totp_code(device) != "000000" else "111111"


def _expire_the_lock():
    """What 16 minutes of waiting does, without waiting."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=16))


def test_five_wrong_passwords_lock_the_account_and_the_page_says_until_when(client, analyst):
    for _ in range(4):
        assert _password(client, analyst, "clave-equivocada-1").status_code == 200

    fifth = _password(client, analyst, "clave-equivocada-1")

    assert fifth.status_code == 429
    page = fifth.content.decode()
    assert "Cuenta bloqueada temporalmente" in page
    until = (AccessAttempt.objects.get().attempt_time + dt.timedelta(minutes=15)).astimezone(
        dt.timezone(dt.timedelta(hours=-5))
    )
    assert f"hasta las {until:%H:%M} del {until:%d/%m/%Y}" in page
    # Now even the right password is refused, and nobody is signed in.
    right = _password(client, analyst)
    assert right.status_code == 429
    assert client.get(QUEUE)["Location"].startswith(LOGIN)
    assert AuditEvent.objects.filter(action="staff.locked_out").count() == 1
    assert AuditEvent.objects.filter(action="staff.sign_in_failed").count() == 6
    assert not AuditEvent.objects.filter(action="staff.signed_in").exists()


def test_the_lock_is_for_that_username_from_that_address(client, analyst, supervisor):
    for _ in range(5):
        _password(client, analyst, "clave-equivocada-1")
    assert _password(client, analyst).status_code == 429

    assert _password(client, supervisor).status_code == 302
    client.logout()
    assert _password(client, analyst, REMOTE_ADDR="10.20.30.40").status_code == 302


def test_the_lock_ends_after_the_cool_off(client, analyst):
    device = totp_device_for(analyst)
    for _ in range(5):
        _password(client, analyst, "clave-equivocada-1")
    assert _password(client, analyst).status_code == 429

    _expire_the_lock()

    response = _password(client, analyst)
    assert response.status_code == 302
    assert client.post(CODE, {"code": totp_code(device)})["Location"] == HOME
    assert client.get(QUEUE).status_code == 200


def test_five_wrong_codes_lock_the_account_and_sign_the_session_out(client, analyst):
    device = totp_device_for(analyst)
    assert _password(client, analyst).status_code == 302
    for _ in range(4):
        response = client.post(CODE, {"code": _wrong(device)})
        assert response.status_code == 200

    fifth = client.post(CODE, {"code": _wrong(device)})

    assert fifth.status_code == 429
    assert "Cuenta bloqueada temporalmente" in fifth.content.decode()
    assert client.get(QUEUE)["Location"].startswith(LOGIN)
    assert _password(client, analyst).status_code == 429
    assert AuditEvent.objects.filter(action="staff.otp_failed", actor=analyst).count() == 5
    locked = AuditEvent.objects.get(action="staff.locked_out")
    assert locked.actor == analyst and locked.new_value["until"]

    _expire_the_lock()
    assert _password(client, analyst).status_code == 302
    assert client.post(CODE, {"code": totp_code(device)})["Location"] == HOME


def test_wrong_passwords_and_wrong_codes_count_together(client, analyst):
    device = totp_device_for(analyst)
    for _ in range(3):
        _password(client, analyst, "clave-equivocada-1")
    _password(client, analyst)
    assert client.post(CODE, {"code": _wrong(device)}).status_code == 200

    fifth = client.post(CODE, {"code": _wrong(device)})

    assert fifth.status_code == 429


def test_a_complete_sign_in_clears_the_count(client, analyst):
    device = totp_device_for(analyst)
    for _ in range(4):
        _password(client, analyst, "clave-equivocada-1")
    _password(client, analyst)
    assert client.post(CODE, {"code": totp_code(device)})["Location"] == HOME
    assert not AccessAttempt.objects.exists()
    client.logout()

    for _ in range(4):
        assert _password(client, analyst, "clave-equivocada-1").status_code == 200
    assert _password(client, analyst).status_code == 302


def test_a_password_alone_does_not_clear_the_count_of_wrong_codes(client, analyst):
    device = totp_device_for(analyst)
    _password(client, analyst)
    for _ in range(3):
        client.post(CODE, {"code": _wrong(device)})
    client.logout()

    _password(client, analyst)
    client.post(CODE, {"code": _wrong(device)})
    assert client.post(CODE, {"code": _wrong(device)}).status_code == 429
