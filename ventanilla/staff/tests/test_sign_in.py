"""Staff sign-in through the real pages: the password, then the second factor (enrolling an
authenticator app the first time, its code afterwards, or a one-time backup code)."""

import base64
import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from ventanilla.audit.models import AuditEvent
from ventanilla.cases.services import client_ref_for
from ventanilla.testing.staff import totp_code, totp_device_for

pytestmark = pytest.mark.django_db

LOGIN = "/gestion/ingresar/"
CODE = "/gestion/ingresar/codigo/"
ENROL = "/gestion/ingresar/activar/"
QUEUE = "/gestion/"
HOME = "/gestion/inicio/"  # where sign-in ends without a `next`
BROWSER = {"User-Agent": "Mozilla/5.0 (prueba) Ventanilla"}


def _password(client, user, password=PASSWORD, next_url=""):
    data = {"username": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data, headers=BROWSER)


def _secret_on(page: str) -> bytes:
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    groups = secret.split()
    assert all(len(group) == 4 for group in groups[:-1])
    return base64.b32decode("".join(groups))


def test_first_sign_in_enrols_an_authenticator_app_with_a_real_code(client, analyst):
    response = _password(client, analyst)
    assert response.status_code == 302
    assert response["Location"].startswith(ENROL)
    # Signed in with the password only: no back-office page yet.
    assert client.get(QUEUE)["Location"].startswith(ENROL)

    page = client.get(ENROL).content.decode()
    assert "<svg" in page and "Código QR" in page
    assert "IESS Ventanilla" in page
    key = _secret_on(page)
    device = TOTPDevice.objects.get(user=analyst)
    assert not device.confirmed and device.bin_key == key
    # The QR code encodes the same secret for the app.
    assert "IESS%20Ventanilla" in device.config_url

    response = client.post(ENROL, {"code": f"{totp(key):06d}"}, headers=BROWSER)

    assert response.status_code == 200
    codes = re.findall(
        r'<li><code class="font-mono-md">([a-z2-7]{8})</code></li>', response.content.decode()
    )
    assert len(set(codes)) == 10
    assert "No se volverán a mostrar" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=analyst).count() == 10
    assert client.get(QUEUE).status_code == 200

    enrolled = AuditEvent.objects.get(action="staff.otp_enrolled")
    signed_in = AuditEvent.objects.get(action="staff.signed_in")
    for event in (enrolled, signed_in):
        assert event.actor == analyst
        assert event.new_value["client_ref"] == client_ref_for("127.0.0.1")
        assert event.new_value["user_agent"] == BROWSER["User-Agent"]
    assert signed_in.new_value["method"] == "totp"


def test_a_wrong_enrolment_code_is_refused_and_the_device_stays_unconfirmed(client, analyst):
    _password(client, analyst)
    key = _secret_on(client.get(ENROL).content.decode())
    wrong = f"{(totp(key) + 1) % 1_000_000:06d}"

    response = client.post(ENROL, {"code": wrong})

    assert response.status_code == 200
    assert "El código no es correcto" in response.content.decode()
    assert not TOTPDevice.objects.get(user=analyst).confirmed
    assert client.get(QUEUE)["Location"].startswith(ENROL)
    assert AuditEvent.objects.filter(action="staff.otp_failed", actor=analyst).count() == 1
    assert not AuditEvent.objects.filter(action="staff.signed_in").exists()


def test_a_staff_member_with_an_app_types_its_code_and_lands_where_they_were_going(
    client, analyst, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # retry at once after the wrong code
    device = totp_device_for(analyst)
    target = reverse("backoffice:case", args=["VV-2026-000001-X"])
    first = client.get(target)
    assert first["Location"] == f"{LOGIN}?next={target}"

    response = _password(client, analyst, next_url=target)
    assert response["Location"] == f"{CODE}?next={target.replace('/', '%2F')}"
    assert client.get(QUEUE)["Location"].startswith(CODE)

    wrong = client.post(
        CODE, {"code": "000000" if totp_code(device) != "000000" else "111111", "next": target}
    )
    assert wrong.status_code == 200
    assert "El código no es correcto" in wrong.content.decode()
    assert client.get(QUEUE)["Location"].startswith(CODE)

    right = client.post(CODE, {"code": totp_code(device), "next": target})

    assert right.status_code == 302
    assert right["Location"] == target
    assert client.get(QUEUE).status_code == 200
    event = AuditEvent.objects.get(action="staff.signed_in")
    assert event.actor == analyst and event.new_value["method"] == "totp"
    assert AuditEvent.objects.filter(action="staff.otp_failed").count() == 1


def test_a_code_is_accepted_only_once(client, analyst):
    device = totp_device_for(analyst)
    code = totp_code(device)
    _password(client, analyst)
    assert client.post(CODE, {"code": code})["Location"] == HOME
    client.post(reverse("backoffice:logout"))

    _password(client, analyst)
    replay = client.post(CODE, {"code": code})

    assert replay.status_code == 200
    assert client.get(QUEUE)["Location"].startswith(CODE)


def test_a_backup_code_works_once(client, analyst):
    _password(client, analyst)
    key = _secret_on(client.get(ENROL).content.decode())
    page = client.post(ENROL, {"code": f"{totp(key):06d}"}).content.decode()
    backup = re.findall(r"<code class=\"font-mono-md\">([a-z2-7]{8})</code>", page)[0]
    client.post(reverse("backoffice:logout"))

    _password(client, analyst)
    response = client.post(CODE, {"code": backup.upper()[:4] + " " + backup.upper()[4:]})
    assert response["Location"] == HOME
    assert AuditEvent.objects.filter(action="staff.signed_in").last().new_value["method"] == (
        "backup_code"
    )
    client.post(reverse("backoffice:logout"))

    _password(client, analyst)
    again = client.post(CODE, {"code": backup})
    assert again.status_code == 200
    assert client.get(QUEUE)["Location"].startswith(CODE)
    assert StaticToken.objects.filter(device__user=analyst).count() == 9


def test_a_wrong_password_is_audited_without_the_password(client, analyst):
    response = client.post(
        LOGIN, {"username": analyst.username, "password": "no-es-la-clave-1"}, headers=BROWSER
    )

    assert response.status_code == 200
    assert "Usuario o contraseña incorrectos" in response.content.decode()
    event = AuditEvent.objects.get(action="staff.sign_in_failed")
    assert event.actor is None and event.actor_label == "anonymous"
    assert event.new_value["username"] == analyst.username
    assert event.new_value["client_ref"] == client_ref_for("127.0.0.1")
    assert event.new_value["user_agent"] == BROWSER["User-Agent"]
    assert "no-es-la-clave-1" not in str(event.new_value)


def test_signing_out_is_audited_and_ends_the_session(client, analyst):
    device = totp_device_for(analyst)
    _password(client, analyst)
    client.post(CODE, {"code": totp_code(device)})
    assert client.get(QUEUE).status_code == 200

    response = client.post(reverse("backoffice:logout"))

    assert response["Location"] == LOGIN
    assert client.get(QUEUE)["Location"].startswith(LOGIN)
    event = AuditEvent.objects.get(action="staff.signed_out")
    assert event.actor == analyst
    assert event.new_value["client_ref"] == client_ref_for("127.0.0.1")


def test_the_two_factor_pages_send_anonymous_visitors_to_the_password(client):
    for url in (CODE, ENROL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
