"""`manage.py api_token`: tokens only for staff who have a second factor, in a scope no
wider than their role, until they expire or are revoked; only the key's hash is kept."""

import base64
import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import totp

from ventanilla.audit.models import AuditEvent
from ventanilla.staff.models import ApiToken
from ventanilla.staff.services import (
    api_token_revoke,
    api_token_user,
    demo_totp_device_ensure,
    staff_active_set,
)
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


# --- scope, expiry, revocation ------------------------------------------------------------


def _token(user, *args) -> str:
    totp_device_for(user)
    out = StringIO()
    call_command("api_token", user.username, *args, stdout=out)
    return out.getvalue().strip()


def test_only_the_hash_of_the_key_is_kept(analyst):
    key = _token(analyst)
    token = ApiToken.objects.get(user=analyst)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[3:9]
    stored = " ".join(
        str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()
    )
    assert key not in stored and key[3:] not in stored


def test_an_analysts_token_decides_unless_asked_for_reading_only(analyst, auditor):
    _token(analyst)
    _token(analyst, "--scope", "read")
    _token(auditor)
    scopes = {(t.user.username, t.scope) for t in ApiToken.objects.select_related("user")}
    assert scopes == {
        (analyst.username, "decide"),
        (analyst.username, "read"),
        (auditor.username, "read"),
    }


def test_a_scope_wider_than_the_role_is_refused(auditor):
    totp_device_for(auditor)
    with pytest.raises(CommandError, match="no permite decidir"):
        call_command("api_token", auditor.username, "--scope", "decide")
    assert not auditor.api_tokens.exists()


@override_settings(API_TOKEN_DAYS=7)
def test_a_token_expires_after_api_token_days(analyst):
    before = timezone.now()
    key = _token(analyst)
    token = ApiToken.objects.get(user=analyst)
    assert dt.timedelta(days=7) <= token.expires_at - before < dt.timedelta(days=7, minutes=1)
    assert api_token_user(key) == analyst

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api_token_user(key) is None


def test_a_use_is_recorded(analyst):
    key = _token(analyst)
    assert ApiToken.objects.get(user=analyst).last_used_at is None
    api_token_user(key)
    assert ApiToken.objects.get(user=analyst).last_used_at is not None


def test_the_list_shows_each_token_and_its_state(analyst):
    kept = _token(analyst)
    _token(analyst, "--scope", "read")
    revoked = ApiToken.objects.get(user=analyst, scope="read")
    api_token_revoke(actor=analyst, token=revoked)
    api_token_user(kept)

    out = StringIO()
    call_command("api_token", "--list", analyst.username, stdout=out)
    lines = out.getvalue().strip().splitlines()

    assert lines[0].split("\t") == ["prefix", "scope", "created", "last_used", "expires", "state"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows[kept[3:9]][1] == "decide" and rows[kept[3:9]][5] == "active"
    assert rows[kept[3:9]][3] != "-"
    assert rows[revoked.prefix][1] == "read" and rows[revoked.prefix][5].startswith("revoked ")


def test_the_command_revokes_by_prefix_and_the_audit_says_so(analyst):
    key = _token(analyst)
    out = StringIO()
    call_command("api_token", "--revoke", key[3:9], stdout=out)

    assert "revocado" in out.getvalue()
    assert api_token_user(key) is None
    event = AuditEvent.objects.get(action="staff.api_token_revoked")
    assert event.actor_label == "system"
    assert event.new_value == {"username": analyst.username, "prefix": key[3:9]}
    with pytest.raises(CommandError, match="Ningún token sin revocar"):
        call_command("api_token", "--revoke", key[3:9])


def test_the_command_wants_exactly_one_thing_to_do(analyst):
    with pytest.raises(CommandError, match="una sola cosa"):
        call_command("api_token")
    with pytest.raises(CommandError, match="una sola cosa"):
        call_command("api_token", analyst.username, "--list", analyst.username)


def test_only_the_owner_or_an_administrator_revokes_a_token(analyst, supervisor, administrator):
    key = _token(analyst)
    token = ApiToken.objects.get(user=analyst)
    with pytest.raises(PermissionError):
        api_token_revoke(actor=supervisor, token=token)
    assert api_token_user(key) == analyst

    api_token_revoke(actor=administrator, token=token)
    assert api_token_user(key) is None


def test_deactivating_the_owner_stops_the_token(analyst, administrator):
    key = _token(analyst)
    staff_active_set(actor=administrator, user=analyst, active=False)
    assert api_token_user(key) is None
