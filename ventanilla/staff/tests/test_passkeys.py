"""Passkeys (WebAuthn) as a second factor, through the JSON endpoints the page's script
calls: adding one from «Mi cuenta», signing in with it after the password, removing it;
and every refusal, with its Spanish message and nothing signed in or stored.

The browser's side is played by `SoftAuthenticator`: a P-256 key made here with
`cryptography`, answering the server's options the way an authenticator does ("none"
attestation, authenticatorData = rpIdHash + flags + signCount [+ attested credential data
with the COSE key]), so that the real py_webauthn checks run on real signatures."""

import datetime as dt
import hashlib
import json
import secrets

import pytest
from axes.models import AccessAttempt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django_otp import DEVICE_ID_SESSION_KEY
from webauthn.helpers import bytes_to_base64url, encode_cbor

from conftest import PASSWORD
from ventanilla.audit.models import AuditEvent
from ventanilla.staff.models import PasskeyDevice
from ventanilla.staff.services import (
    PASSKEY_SIGN_IN_SESSION_KEY,
    PasskeyRefused,
    passkey_register,
    passkey_registration_options,
)
from ventanilla.testing.staff import staff_login, totp_device_for

pytestmark = pytest.mark.django_db

RP_ID = "testserver"  # the host of Django's test client
ORIGIN = "http://testserver"
LOGIN = "/gestion/ingresar/"
CODE_PAGE = "/gestion/ingresar/codigo/"
SIGN_IN_OPTIONS = "/gestion/ingresar/llave/opciones/"
SIGN_IN = "/gestion/ingresar/llave/verificar/"
ACCOUNT = "/gestion/cuenta/"
ADD_OPTIONS = "/gestion/cuenta/llaves/opciones/"
ADD = "/gestion/cuenta/llaves/"

# authenticatorData flags: user present, user verified, attested credential data included.
UP, UV, AT = 0x01, 0x04, 0x40
NO_AAGUID = bytes(16)


class SoftAuthenticator:
    """One credential on a pretend security key: creates it for registration options and
    signs assertions for authentication options, counting its uses like a real key."""

    def __init__(
        self, *, sign_count: int = 0, counts: bool = True, origin: str = ORIGIN, rp_id: str = RP_ID
    ):
        self.counts = counts  # synced passkeys keep no counter: 0 every time
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.sign_count = sign_count
        self.origin = origin
        self.rp_id = rp_id

    def _cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        # kty EC2, alg ES256, crv P-256, x, y (RFC 9053)
        return encode_cbor(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        rp_id_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_id_hash + bytes([flags]) + self.sign_count.to_bytes(4, "big") + attested

    def create(self, options: dict) -> dict:
        """navigator.credentials.create(): the new credential, as credential.toJSON()."""
        attested = (
            NO_AAGUID
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose_public_key()
        )
        attestation = encode_cbor(
            {"fmt": "none", "attStmt": {}, "authData": self._auth_data(UP | UV | AT, attested)}
        )
        return {
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": bytes_to_base64url(
                    self._client_data("webauthn.create", options["challenge"])
                ),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["usb", "nfc"],
            },
        }

    def get(self, options: dict, *, flags: int = UP | UV) -> dict:
        """navigator.credentials.get(): a signed assertion, as credential.toJSON()."""
        self.sign_count += 1 if self.counts else 0
        auth_data = self._auth_data(flags)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = self.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": None,
            },
        }


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.WEBAUTHN_RP_ID = RP_ID
    settings.WEBAUTHN_ORIGINS = [ORIGIN]
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


def _post(client, url: str, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _add_passkey(client, authenticator: SoftAuthenticator, name: str = "Llave del portátil"):
    """On «Mi cuenta» (a verified session): the options, the authenticator, the answer."""
    options = _post(client, ADD_OPTIONS, {"name": name})
    assert options.status_code == 200, options.content.decode()
    return _post(client, ADD, {"name": name, "credential": authenticator.create(options.json())})


def _registered(user, authenticator: SoftAuthenticator, client_factory) -> PasskeyDevice:
    """`user` adds the authenticator's passkey in a session of their own."""
    own = client_factory()
    staff_login(own, user)
    response = _add_passkey(own, authenticator)
    assert response.status_code == 200, response.content.decode()
    return PasskeyDevice.objects.get(credential_id=authenticator.credential_id)


def _password_step(client, user):
    """The password page, as a person signs in: signed in, not yet verified."""
    totp_device_for(user)
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(CODE_PAGE)


def _verified(client) -> bool:
    response = client.get(ACCOUNT)
    return response.status_code == 200


def _sign_in_options(client) -> dict:
    response = _post(client, SIGN_IN_OPTIONS)
    assert response.status_code == 200, response.content.decode()
    return response.json()


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


# --- the happy path ----------------------------------------------------------------------


def test_a_passkey_is_added_then_signs_in_after_the_password(client, analyst, client_factory):
    authenticator = SoftAuthenticator(sign_count=3)
    staff_login(client, analyst)

    added = _add_passkey(client, authenticator, name="Llave del portátil")

    assert added.status_code == 200
    assert added.json() == {"redirect": ACCOUNT}
    device = PasskeyDevice.objects.get(user=analyst)
    assert device.name == "Llave del portátil"
    assert bytes(device.credential_id) == authenticator.credential_id
    assert device.sign_count == 3 and device.transports == ["usb", "nfc"]
    assert device.confirmed and device.last_used_at is None
    event = AuditEvent.objects.get(action="staff.passkey_added")
    assert event.actor == analyst and event.new_value["name"] == "Llave del portátil"
    page = client.get(ACCOUNT).content.decode()
    assert "Llave del portátil" in page and "Todavía no se ha usado" in page

    # Another day, another session: the password, then the passkey.
    person = client_factory()
    _password_step(person, analyst)
    code_page = person.get(CODE_PAGE).content.decode()
    assert "Usar mi llave de acceso" in code_page and 'name="code"' in code_page
    options = _sign_in_options(person)
    assert options["userVerification"] == "required"
    assert options["rpId"] == RP_ID
    assert [c["id"] for c in options["allowCredentials"]] == [
        bytes_to_base64url(authenticator.credential_id)
    ]

    signed = _post(
        person, f"{SIGN_IN}?next=/gestion/cuenta/", {"credential": authenticator.get(options)}
    )

    assert signed.status_code == 200, signed.content.decode()
    assert signed.json() == {"redirect": "/gestion/cuenta/"}
    assert person.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert _verified(person)
    device.refresh_from_db()
    assert device.sign_count == 4 and device.last_used_at is not None
    signed_in = AuditEvent.objects.get(action="staff.signed_in")
    assert signed_in.actor == analyst and signed_in.new_value["method"] == "passkey"
    assert PASSKEY_SIGN_IN_SESSION_KEY not in person.session


def test_without_a_next_the_passkey_leads_where_a_code_does(client, analyst, client_factory):
    authenticator = SoftAuthenticator(counts=False)
    _registered(analyst, authenticator, client_factory)
    _password_step(client, analyst)

    signed = _post(client, SIGN_IN, {"credential": authenticator.get(_sign_in_options(client))})

    assert signed.json() == {"redirect": "/gestion/inicio/"}
    # An authenticator without a counter (0 every time, as synced passkeys) is fine.
    assert PasskeyDevice.objects.get().sign_count == 0


# --- refusals when adding ----------------------------------------------------------------


def test_adding_a_passkey_needs_the_second_factor_first(client, analyst):
    _password_step(client, analyst)
    credential = SoftAuthenticator().create({"challenge": "eA"})

    options = _post(client, ADD_OPTIONS, {"name": "Llave"})
    added = _post(client, ADD, {"name": "Llave", "credential": credential})

    # As every back-office page: to the code page (the script follows the redirect).
    for response in (options, added):
        assert response.status_code == 302
        assert response["Location"].startswith(CODE_PAGE)
    assert "staff_passkey_registration" not in client.session
    assert not PasskeyDevice.objects.exists()
    assert not AuditEvent.objects.filter(action="staff.passkey_added").exists()


def test_the_service_itself_refuses_a_session_without_the_second_factor(rf, analyst):
    request = rf.post(ADD_OPTIONS)
    request.user = analyst  # signed in with the password; django-otp found no device
    request.user.is_verified = lambda: False
    request.session = {}

    with pytest.raises(PasskeyRefused, match="ingrese primero con su contraseña y el código"):
        passkey_registration_options(request=request)
    with pytest.raises(PasskeyRefused, match="ingrese primero con su contraseña y el código"):
        passkey_register(request=request, credential_json="{}", name="Llave")
    assert request.session == {}
    assert not PasskeyDevice.objects.exists()


def test_anonymous_and_outsiders_cannot_add_a_passkey(client, outsider):
    anonymous = _post(client, ADD_OPTIONS, {"name": "Llave"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(LOGIN)

    client.force_login(outsider)
    assert _post(client, ADD_OPTIONS, {"name": "Llave"}).status_code == 403
    assert client.get(ACCOUNT).status_code == 403
    assert not PasskeyDevice.objects.exists()


def test_a_passkey_needs_a_name(client, analyst):
    staff_login(client, analyst)

    for name, message in (
        ("   ", "Escriba un nombre para la llave"),
        ("x" * 65, "hasta 64 caracteres"),
    ):
        response = _post(client, ADD_OPTIONS, {"name": name})
        assert response.status_code == 400
        assert message in response.json()["error"]
    assert "staff_passkey_registration" not in client.session


def test_a_passkey_answer_without_a_challenge_is_refused(client, analyst):
    staff_login(client, analyst)
    credential = SoftAuthenticator().create({"challenge": bytes_to_base64url(b"made-up")})

    response = _post(client, ADD, {"name": "Llave", "credential": credential})

    assert response.status_code == 400
    assert "venció o ya se usó" in response.json()["error"]
    assert not PasskeyDevice.objects.exists()


def test_a_registration_challenge_answers_once(client, analyst):
    staff_login(client, analyst)
    authenticator = SoftAuthenticator()
    options = _post(client, ADD_OPTIONS, {"name": "Llave"}).json()
    credential = authenticator.create(options)

    first = _post(client, ADD, {"name": "Llave", "credential": credential})
    again = _post(client, ADD, {"name": "Llave", "credential": credential})

    assert first.status_code == 200
    assert again.status_code == 400 and "venció o ya se usó" in again.json()["error"]
    assert PasskeyDevice.objects.count() == 1
    assert AuditEvent.objects.filter(action="staff.passkey_added").count() == 1


def test_an_expired_registration_challenge_is_refused(client, analyst):
    staff_login(client, analyst)
    options = _post(client, ADD_OPTIONS, {"name": "Llave"}).json()
    session = client.session
    session["staff_passkey_registration"]["expires"] -= 3600
    session.save()

    response = _post(
        client, ADD, {"name": "Llave", "credential": SoftAuthenticator().create(options)}
    )

    assert response.status_code == 400 and "venció o ya se usó" in response.json()["error"]
    assert not PasskeyDevice.objects.exists()


def test_a_credential_made_for_another_site_is_refused(client, analyst):
    staff_login(client, analyst)
    options = _post(client, ADD_OPTIONS, {"name": "Llave"}).json()
    phishing = SoftAuthenticator(
        origin="https://iess-ventanilla.example", rp_id="iess-ventanilla.example"
    )

    response = _post(client, ADD, {"name": "Llave", "credential": phishing.create(options)})

    assert response.status_code == 400
    assert "no entregó una llave de acceso válida" in response.json()["error"]
    assert not PasskeyDevice.objects.exists()


def test_the_same_key_cannot_be_added_twice(client, analyst):
    staff_login(client, analyst)
    authenticator = SoftAuthenticator()
    assert _add_passkey(client, authenticator).status_code == 200

    again = _add_passkey(client, authenticator, name="Otra vez")

    assert again.status_code == 400 and "ya está registrada" in again.json()["error"]
    assert PasskeyDevice.objects.count() == 1
    # The options exclude it, so the browser itself refuses it first.
    options = _post(client, ADD_OPTIONS, {"name": "Llave"}).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [
        bytes_to_base64url(authenticator.credential_id)
    ]


# --- refusals when signing in ------------------------------------------------------------


def _not_signed_in(client) -> None:
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(ACCOUNT)["Location"].startswith(CODE_PAGE)
    assert not AuditEvent.objects.filter(action="staff.signed_in").exists()


def _failures(user) -> int:
    return sum(
        AccessAttempt.objects.filter(username=user.username).values_list(
            "failures_since_start", flat=True
        )
    )


def test_options_for_a_user_without_passkeys_are_refused(client, analyst):
    _password_step(client, analyst)

    response = _post(client, SIGN_IN_OPTIONS)

    assert response.status_code == 400
    assert "no tiene llaves de acceso" in response.json()["error"]
    assert "código de su aplicación" in response.json()["error"]
    assert PASSKEY_SIGN_IN_SESSION_KEY not in client.session
    assert "Usar mi llave de acceso" not in client.get(CODE_PAGE).content.decode()


def test_a_sign_in_answer_without_a_challenge_is_refused_and_not_counted(
    client, analyst, client_factory
):
    authenticator = SoftAuthenticator()
    _registered(analyst, authenticator, client_factory)
    _password_step(client, analyst)

    response = _post(
        client, SIGN_IN, {"credential": authenticator.get({"challenge": "bWFkZS11cA"})}
    )

    assert response.status_code == 400 and "venció o ya se usó" in response.json()["error"]
    _not_signed_in(client)
    assert _failures(analyst) == 0


def test_an_unknown_credential_is_refused_and_counted(client, analyst, client_factory):
    _registered(analyst, SoftAuthenticator(), client_factory)
    _password_step(client, analyst)
    stranger = SoftAuthenticator()

    response = _post(client, SIGN_IN, {"credential": stranger.get(_sign_in_options(client))})

    assert response.status_code == 400
    assert "no está registrada en su cuenta" in response.json()["error"]
    _not_signed_in(client)
    assert _failures(analyst) == 1
    failed = AuditEvent.objects.get(action="staff.otp_failed")
    assert failed.new_value["step"] == "passkey"
    assert failed.new_value["reason"] == "unknown_credential"


def test_a_challenge_answers_once(client, analyst, client_factory):
    authenticator = SoftAuthenticator()
    _registered(analyst, authenticator, client_factory)
    _password_step(client, analyst)
    options = _sign_in_options(client)
    _post(client, SIGN_IN, {"credential": SoftAuthenticator().get(options)})  # a wrong key

    # The right key, answering the challenge the wrong one used up.
    response = _post(client, SIGN_IN, {"credential": authenticator.get(options)})

    assert response.status_code == 400 and "venció o ya se usó" in response.json()["error"]
    _not_signed_in(client)


def test_a_passkey_of_another_user_is_refused(client, analyst, supervisor, client_factory):
    _registered(analyst, SoftAuthenticator(), client_factory)
    supervisors_key = SoftAuthenticator()
    _registered(supervisor, supervisors_key, client_factory)
    _password_step(client, analyst)

    response = _post(client, SIGN_IN, {"credential": supervisors_key.get(_sign_in_options(client))})

    assert response.status_code == 400
    assert "no está registrada en su cuenta" in response.json()["error"]
    _not_signed_in(client)
    assert PasskeyDevice.objects.get(user=supervisor).last_used_at is None


def test_a_forged_signature_is_refused(client, analyst, client_factory):
    authenticator = SoftAuthenticator()
    _registered(analyst, authenticator, client_factory)
    _password_step(client, analyst)
    options = _sign_in_options(client)
    forger = SoftAuthenticator()
    forger.credential_id = authenticator.credential_id  # same id, another private key

    response = _post(client, SIGN_IN, {"credential": forger.get(options)})

    assert response.status_code == 400 and "no fue aceptada" in response.json()["error"]
    _not_signed_in(client)


def test_user_verification_is_required(client, analyst, client_factory):
    authenticator = SoftAuthenticator()
    _registered(analyst, authenticator, client_factory)
    _password_step(client, analyst)

    response = _post(
        client, SIGN_IN, {"credential": authenticator.get(_sign_in_options(client), flags=UP)}
    )

    assert response.status_code == 400 and "no fue aceptada" in response.json()["error"]
    _not_signed_in(client)


def test_a_counter_that_goes_back_is_refused_and_recorded(client, analyst, client_factory):
    original = SoftAuthenticator(sign_count=10)
    device = _registered(analyst, original, client_factory)
    # A copy of the key made earlier: same credential and private key, an older counter.
    clone = SoftAuthenticator()
    clone.private_key, clone.credential_id, clone.sign_count = (
        original.private_key,
        original.credential_id,
        5,
    )
    _password_step(client, analyst)

    response = _post(client, SIGN_IN, {"credential": clone.get(_sign_in_options(client))})

    assert response.status_code == 400
    assert "fue copiada" in response.json()["error"]
    assert "Llave del portátil" in response.json()["error"]
    _not_signed_in(client)
    suspect = AuditEvent.objects.get(action="staff.passkey_counter_went_back")
    assert suspect.actor == analyst
    assert (suspect.new_value["stored"], suspect.new_value["received"]) == (10, 6)
    device.refresh_from_db()
    assert device.sign_count == 10 and device.last_used_at is None
    assert _failures(analyst) == 1


def test_refused_passkeys_lock_the_account_like_wrong_codes(client, analyst, client_factory):
    _registered(analyst, SoftAuthenticator(), client_factory)
    _password_step(client, analyst)
    stranger = SoftAuthenticator()
    # The password step counted nothing; four refused passkeys, then the fifth locks.
    for _ in range(4):
        assert (
            _post(
                client, SIGN_IN, {"credential": stranger.get(_sign_in_options(client))}
            ).status_code
            == 400
        )

    fifth = _post(client, SIGN_IN, {"credential": stranger.get(_sign_in_options(client))})

    assert fifth.status_code == 429
    assert "Cuenta bloqueada temporalmente" in fifth.content.decode()
    assert AuditEvent.objects.filter(action="staff.locked_out").count() == 1
    # Signed out: the next step needs the password again, and it is refused meanwhile.
    after = _post(client, SIGN_IN_OPTIONS)
    assert after.status_code == 401
    assert (
        client.post(LOGIN, {"username": analyst.username, "password": PASSWORD}).status_code == 429
    )


def test_a_verified_session_is_sent_on(client, analyst):
    staff_login(client, analyst)

    response = _post(client, f"{SIGN_IN_OPTIONS}?next=/gestion/", {})

    assert response.json() == {"redirect": "/gestion/"}


def test_the_endpoints_answer_only_post(client, analyst):
    _password_step(client, analyst)
    assert client.get(SIGN_IN_OPTIONS).status_code == 405
    assert client.get(SIGN_IN).status_code == 405


# --- removing ----------------------------------------------------------------------------


def test_removing_a_passkey_is_recorded_and_the_app_stays(client, analyst, client_factory):
    device = _registered(analyst, SoftAuthenticator(), client_factory)
    staff_login(client, analyst)

    response = client.post(f"/gestion/cuenta/llaves/{device.pk}/quitar/", follow=True)

    assert response.redirect_chain[-1][0] == ACCOUNT
    page = response.content.decode()
    assert "Se quitó la llave de acceso «Llave del portátil»" in page
    assert "aplicación de autenticación y sus códigos de respaldo siguen" in page
    assert not PasskeyDevice.objects.exists()
    removed = AuditEvent.objects.get(action="staff.passkey_removed")
    assert removed.actor == analyst
    assert removed.new_value["name"] == "Llave del portátil"
    assert removed.new_value["device"] == device.persistent_id


def test_nobody_removes_the_passkey_of_someone_else(client, analyst, supervisor, client_factory):
    device = _registered(supervisor, SoftAuthenticator(), client_factory)
    staff_login(client, analyst)

    response = client.post(f"/gestion/cuenta/llaves/{device.pk}/quitar/")

    assert response.status_code == 404
    assert PasskeyDevice.objects.filter(pk=device.pk).exists()
    assert not AuditEvent.objects.filter(action="staff.passkey_removed").exists()


def test_a_second_factor_reset_removes_the_passkeys_too(analyst, administrator, client_factory):
    from ventanilla.staff.services import staff_second_factor_reset

    _registered(analyst, SoftAuthenticator(), client_factory)

    staff_second_factor_reset(user=analyst, actor=administrator)

    assert not PasskeyDevice.objects.filter(user=analyst).exists()


def test_a_passkey_device_accepts_no_code(analyst, client_factory):
    device = _registered(analyst, SoftAuthenticator(), client_factory)
    assert device.verify_token("123456") is False
