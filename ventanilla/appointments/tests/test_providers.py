"""Meeting providers: Jitsi rooms (with the optional token of a self-hosted server) and
Google Meet spaces. Google cannot be reached from the tests: a local HTTP server plays
its token endpoint and the Meet API with recorded responses (tests/recorded/) and checks
what it receives, signatures included."""

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings

from ventanilla.appointments.providers import (
    GoogleMeetProvider,
    JitsiProvider,
    MeetingProviderError,
    google_token_cache_clear,
    meeting_provider,
)

RECORDED = Path(__file__).parent / "recorded"
STARTS_AT = dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.UTC)
ORGANIZER = "videollamadas@iess.gob.ec"
CLIENT_EMAIL = "ventanilla-meet@iess-ventanilla.iam.gserviceaccount.com"


def recorded(name: str) -> dict:
    return json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))


# --- Jitsi ------------------------------------------------------------------------


def test_jitsi_without_a_secret_gives_a_plain_unguessable_room(settings):
    settings.MEETING_PROVIDER = "jitsi"
    settings.JITSI_BASE_URL = "https://meet.jit.si"
    settings.JITSI_APP_ID = ""
    settings.JITSI_APP_SECRET = ""
    provider = meeting_provider()
    first = provider.create_meeting(case_number="IESS-2026-000001", starts_at=STARTS_AT)
    second = provider.create_meeting(case_number="IESS-2026-000001", starts_at=STARTS_AT)

    assert provider.name == "jitsi"
    for url in (first, second):
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc, parts.query) == ("https", "meet.jit.si", "")
        prefix, room_id = parts.path.rsplit("-", 1)
        assert prefix == "/IESS-Ventanilla"
        assert len(room_id) == 32 and int(room_id, 16) >= 0  # 128 random bits, in hex
        assert "000001" not in url  # nothing about the case in the link
    assert first != second


def _jitsi_token(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    [(name, token)] = parse_qsl(parts.query)
    assert name == "jwt"
    return parts.path.lstrip("/"), token


def test_jitsi_with_a_secret_signs_a_token_for_this_room_and_this_call(settings):
    settings.JITSI_BASE_URL = "https://video.iess.gob.ec"
    settings.JITSI_APP_ID = "ventanilla"
    settings.JITSI_APP_SECRET = "un-secreto-compartido-con-prosody"
    settings.CALL_DURATION_MINUTES = 30
    url = JitsiProvider().create_meeting(case_number="IESS-2026-000002", starts_at=STARTS_AT)
    room, token = _jitsi_token(url)

    assert url.startswith("https://video.iess.gob.ec/IESS-Ventanilla-")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    # The call is days away: the token is not valid yet.
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(
            token, "un-secreto-compartido-con-prosody", algorithms=["HS256"], audience="jitsi"
        )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            "otro-secreto-que-no-es-el-de-prosody",
            algorithms=["HS256"],
            options={"verify_nbf": False},
        )

    claims = jwt.decode(
        token,
        "un-secreto-compartido-con-prosody",
        algorithms=["HS256"],
        audience="jitsi",
        issuer="ventanilla",
        options={"verify_nbf": False, "require": ["exp", "nbf", "room", "sub", "iss"]},
    )
    assert claims["sub"] == "video.iess.gob.ec"
    # Jitsi lower-cases room names; the claim is the room of this very link.
    assert claims["room"] == room.lower()
    assert claims["context"]["user"]["name"]
    starts, ends = STARTS_AT.timestamp(), (STARTS_AT + dt.timedelta(minutes=30)).timestamp()
    # Valid from a little before the call until a little after its end, no longer.
    assert starts - 3600 <= claims["nbf"] < starts
    assert ends < claims["exp"] <= ends + 3600
    # Another call, another room and another token.
    other = JitsiProvider().create_meeting(case_number="IESS-2026-000002", starts_at=STARTS_AT)
    assert _jitsi_token(other)[0] != room


def test_a_jitsi_token_works_from_a_little_before_the_call(settings):
    settings.JITSI_APP_ID = "ventanilla"
    settings.JITSI_APP_SECRET = "un-secreto-compartido-con-prosody"
    settings.CALL_DURATION_MINUTES = 45
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    _, token = _jitsi_token(JitsiProvider().create_meeting(case_number="X", starts_at=soon))
    # Ten minutes before the call the token is already accepted: joining early is normal.
    claims = jwt.decode(
        token, "un-secreto-compartido-con-prosody", algorithms=["HS256"], audience="jitsi"
    )
    ends = (soon + dt.timedelta(minutes=45)).timestamp()
    assert ends < claims["exp"] <= ends + 3600


# --- Google Meet: a stand-in for Google on 127.0.0.1 ---------------------------------


class GoogleStandIn:
    """Google's token endpoint at /token and the Meet API at /v2, answering from the
    recorded files; every request it receives is kept for the test to check."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers = {"/token": ["token_granted"], "/v2/spaces": ["spaces_create"]}
        self.delay = 0.0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stand_in.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
                )
                queue = stand_in.answers[self.path]
                # The last answer repeats; earlier ones are used once each, in order.
                item = queue.pop(0) if len(queue) > 1 else queue[0]
                answer = item if isinstance(item, dict) else recorded(item)
                time.sleep(stand_in.delay)
                payload = json.dumps(answer["body"]).encode()
                try:
                    self.send_response(answer["status"])
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.received if r["path"] == path]


@pytest.fixture(scope="module")
def service_account_key():
    """A service-account key as Google Cloud issues it, made for the test."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {"private": pem, "public": key.public_key(), "id": "3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f60"}


@pytest.fixture
def google(settings, tmp_path, service_account_key):
    stand_in = GoogleStandIn()
    stand_in.thread.start()
    credentials = tmp_path / "service-account.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "iess-ventanilla",
                "private_key_id": service_account_key["id"],
                "private_key": service_account_key["private"],
                "client_email": CLIENT_EMAIL,
                "client_id": "104729384756102938475",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        ),
        encoding="utf-8",
    )
    settings.MEETING_PROVIDER = "google_meet"
    settings.GOOGLE_MEET_CREDENTIALS_FILE = str(credentials)
    settings.GOOGLE_MEET_ORGANIZER = ORGANIZER
    settings.GOOGLE_MEET_ACCESS_TYPE = "TRUSTED"
    settings.GOOGLE_OAUTH_TOKEN_URL = f"{stand_in.url}/token"
    settings.GOOGLE_MEET_API_URL = f"{stand_in.url}/v2"
    settings.GOOGLE_MEET_TIMEOUT_SECONDS = 5
    google_token_cache_clear()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()
    google_token_cache_clear()


def test_google_meet_creates_a_space_as_the_organizer(google, service_account_key):
    provider = meeting_provider()
    url = provider.create_meeting(case_number="IESS-2026-000003", starts_at=STARTS_AT)

    assert isinstance(provider, GoogleMeetProvider) and provider.name == "google_meet"
    assert url == "https://meet.google.com/abc-mnop-xyz"
    assert [r["path"] for r in google.received] == ["/token", "/v2/spaces"]

    # The token request: Google's JWT bearer grant, signed with the service account's key.
    token_call = google.received[0]
    assert token_call["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(token_call["body"])
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    [assertion] = form["assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "RS256" and header["kid"] == service_account_key["id"]
    claims = jwt.decode(
        assertion,
        service_account_key["public"],
        algorithms=["RS256"],
        audience=f"{google.url}/token",
        issuer=CLIENT_EMAIL,
        options={"require": ["iat", "exp", "sub", "scope"]},
    )
    assert claims["sub"] == ORGANIZER
    assert claims["scope"] == "https://www.googleapis.com/auth/meetings.space.created"
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert abs(claims["iat"] - time.time()) < 60
    # A key that is not the service account's does not verify.
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(assertion, stranger, algorithms=["RS256"], audience=f"{google.url}/token")

    # The Meet API call: the access token Google gave, and the space's configuration.
    space_call = google.received[1]
    access_token = recorded("token_granted")["body"]["access_token"]
    assert space_call["headers"]["Authorization"] == f"Bearer {access_token}"
    assert space_call["headers"]["Content-Type"] == "application/json"
    assert json.loads(space_call["body"]) == {"config": {"accessType": "TRUSTED"}}
    assert "IESS-2026-000003" not in space_call["body"]


def test_one_access_token_serves_several_meetings(google):
    first = meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)
    second = meeting_provider().create_meeting(case_number="B", starts_at=STARTS_AT)

    assert first == second == "https://meet.google.com/abc-mnop-xyz"
    assert len(google.calls("/token")) == 1
    assert len(google.calls("/v2/spaces")) == 2
    assert {c["headers"]["Authorization"] for c in google.calls("/v2/spaces")} == {
        f"Bearer {recorded('token_granted')['body']['access_token']}"
    }


def test_a_token_about_to_expire_is_replaced(google):
    short = recorded("token_granted")
    short["body"]["expires_in"] = 120  # less than the refresh margin
    google.answers["/token"] = [short]
    meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)
    meeting_provider().create_meeting(case_number="B", starts_at=STARTS_AT)
    assert len(google.calls("/token")) == 2


def test_a_token_google_no_longer_accepts_is_replaced_once(google):
    google.answers["/v2/spaces"] = ["spaces_unauthenticated", "spaces_create"]
    url = meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)

    assert url == "https://meet.google.com/abc-mnop-xyz"
    assert [r["path"] for r in google.received] == ["/token", "/v2/spaces", "/token", "/v2/spaces"]


def test_permission_denied_raises_a_spanish_error_for_the_analyst(google):
    google.answers["/v2/spaces"] = ["spaces_permission_denied"]
    with pytest.raises(MeetingProviderError) as refused:
        meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)

    error = refused.value
    assert error.retryable is False
    assert str(error).startswith("Google Meet negó el permiso para crear la reunión")
    assert "HTTP 403 PERMISSION_DENIED: The caller does not have permission" in str(error)
    assert "API de Google Meet esté habilitada" in str(error)
    assert "PERMISSION_DENIED" in error.detail


def test_delegation_not_granted_says_what_the_administrator_must_do(google):
    google.answers["/token"] = ["token_unauthorized_client"]
    with pytest.raises(MeetingProviderError) as refused:
        meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)

    assert refused.value.retryable is False
    assert "delegación de todo el dominio" in str(refused.value)
    assert "meetings.space.created" in str(refused.value)
    assert google.calls("/v2/spaces") == []
    # A refused token is not cached: the next attempt asks again.
    with pytest.raises(MeetingProviderError):
        meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)
    assert len(google.calls("/token")) == 2


def test_google_too_slow_is_a_timeout_the_analyst_can_retry(google, settings):
    settings.GOOGLE_MEET_TIMEOUT_SECONDS = 1
    google.delay = 3
    started = time.monotonic()
    with pytest.raises(MeetingProviderError) as slow:
        meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)

    assert time.monotonic() - started < 2.5
    assert slow.value.retryable is True
    assert str(slow.value).startswith("Google Meet no respondió a tiempo (espera máxima: 1 s)")


def test_google_unreachable_is_an_error_the_analyst_can_retry(google, settings):
    settings.GOOGLE_OAUTH_TOKEN_URL = "http://127.0.0.1:9/token"  # nothing listens there
    with pytest.raises(MeetingProviderError) as down:
        meeting_provider().create_meeting(case_number="A", starts_at=STARTS_AT)
    assert down.value.retryable is True
    assert str(down.value).startswith("No se pudo conectar con Google Meet")


def test_a_file_that_is_not_a_service_account_key_is_refused(google, settings, tmp_path):
    other = tmp_path / "client_secret.json"
    other.write_text(json.dumps({"installed": {"client_id": "x"}}), encoding="utf-8")
    settings.GOOGLE_MEET_CREDENTIALS_FILE = str(other)
    with pytest.raises(MeetingProviderError) as refused:
        meeting_provider()
    assert "no es una clave JSON de cuenta de servicio" in str(refused.value)
    assert google.received == []


# --- Start-up -------------------------------------------------------------------------


def _start(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """`manage.py check` in a new process, with these environment variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "JITSI_", "MEETING_PROVIDER"))
    }
    env.update(DJANGO_SETTINGS_MODULE="ventanilla.settings.test", **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_google_meet_without_credentials_stops_start_up(tmp_path):
    missing = _start(tmp_path, MEETING_PROVIDER="google_meet")
    assert missing.returncode != 0
    assert "MEETING_PROVIDER=google_meet needs GOOGLE_MEET_CREDENTIALS_FILE" in missing.stderr
    assert "now unset" in missing.stderr

    no_file = _start(
        tmp_path,
        MEETING_PROVIDER="google_meet",
        GOOGLE_MEET_CREDENTIALS_FILE=str(tmp_path / "absent.json"),
        GOOGLE_MEET_ORGANIZER=ORGANIZER,
    )
    assert no_file.returncode != 0
    assert "absent.json" in no_file.stderr

    credentials = tmp_path / "service-account.json"
    credentials.write_text("{}", encoding="utf-8")
    configured = _start(
        tmp_path,
        MEETING_PROVIDER="google_meet",
        GOOGLE_MEET_CREDENTIALS_FILE=str(credentials),
        GOOGLE_MEET_ORGANIZER=ORGANIZER,
    )
    assert configured.returncode == 0, configured.stderr


def test_a_jitsi_secret_without_its_app_id_stops_start_up(tmp_path):
    started = _start(tmp_path, JITSI_APP_SECRET="un-secreto")
    assert started.returncode != 0
    assert "set JITSI_APP_ID too" in started.stderr
