"""`manage.py api_token`: tokens only for staff who have a second factor."""

import base64

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp

from ventanilla.staff.services import api_token_user, demo_totp_device_ensure
from ventanilla.testing.staff import totp_device_for

pytestmark = pytest.mark.django_db


def test_the_command_refuses_a_user_without_a_second_factor(analyst):
    with pytest.raises(CommandError, match="no tiene activada la verificación en dos pasos"):
        call_command("api_token", analyst.username)
    assert not analyst.api_tokens.exists()


def test_the_command_prints_a_working_token_for_a_user_with_one(analyst, capsys):
    totp_device_for(analyst)
    call_command("api_token", analyst.username)
    key = capsys.readouterr().out.strip()
    assert key.startswith("vv_")
    assert api_token_user(key) == analyst


def test_the_reset_command_removes_the_factor(analyst, capsys):
    totp_device_for(analyst)
    call_command("api_token", analyst.username)
    key = capsys.readouterr().out.strip()

    call_command("staff_otp_reset", analyst.username)

    assert "reiniciada" in capsys.readouterr().out
    assert api_token_user(key) is None
    with pytest.raises(CommandError):
        call_command("api_token", analyst.username)


def test_a_demo_device_accepts_codes_from_its_published_secret(analyst):
    secret = "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"
    device = demo_totp_device_ensure(analyst, secret)
    again = demo_totp_device_ensure(analyst, secret)

    assert again.pk == device.pk and device.confirmed
    key = base64.b32decode(secret.replace(" ", ""))
    assert device.verify_token(f"{totp(key):06d}")
