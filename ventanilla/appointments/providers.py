"""Meeting providers behind one interface (docs/video-calls.md, "Meeting providers").

Jitsi Meet is the default: a room with an unguessable name on a configurable server,
which needs no API call, and a signed token in the link when that server only admits
holders of one. Google Meet creates a space through Google's Meet REST API as a
Workspace user, with a service account that has domain-wide delegation.

A provider that cannot create the meeting raises MeetingProviderError, whose message
(Spanish) tells the analyst what went wrong and who can fix it.
"""

import datetime as dt
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class MeetingProvider(Protocol):
    name: str

    def create_meeting(self, *, case_number: str, starts_at: dt.datetime) -> str:
        """Return the URL the citizen and the analyst join; MeetingProviderError if none."""
        ...


class MeetingProviderError(Exception):
    """The meeting could not be created. `str(exc)` is a Spanish message for the analyst;
    `retryable` is True when the same request may work later (timeout, Google busy) and
    False when someone must change the configuration first."""

    def __init__(self, message: str, *, retryable: bool, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        # What the provider answered, for the logs (never shown to the citizen).
        self.detail = detail


# --- Jitsi Meet -------------------------------------------------------------------

# A token is accepted from a little before the call (people join early) until a little
# after its planned end (calls overrun).
JITSI_TOKEN_VALID_BEFORE = dt.timedelta(minutes=30)
JITSI_TOKEN_VALID_AFTER = dt.timedelta(minutes=30)
# Prosody's token_verification accepts any audience unless `asap_accepted_audiences`
# says otherwise; "jitsi" is the value its documentation uses.
JITSI_AUDIENCE = "jitsi"
# The token is shared by both people (one link), and Jitsi shows this name for whoever
# joins with it; they can be told apart on screen.
JITSI_PARTICIPANT_NAME = "Videollamada IESS"


class JitsiProvider:
    name = "jitsi"

    def __init__(
        self,
        base_url: str | None = None,
        app_id: str | None = None,
        app_secret: str | None = None,
    ):
        self.base_url = (base_url or settings.JITSI_BASE_URL).rstrip("/")
        self.app_id = settings.JITSI_APP_ID if app_id is None else app_id
        self.app_secret = settings.JITSI_APP_SECRET if app_secret is None else app_secret

    def create_meeting(self, *, case_number: str, starts_at: dt.datetime) -> str:
        # The room name carries no personal data and cannot be guessed (128 bits). Hex,
        # because Jitsi lower-cases room names: the token's `room` must match.
        room = f"IESS-Ventanilla-{secrets.token_hex(16)}"
        url = f"{self.base_url}/{room}"
        if not self.app_secret:
            return url
        return f"{url}?{urlencode({'jwt': self.room_token(room=room, starts_at=starts_at)})}"

    def room_token(self, *, room: str, starts_at: dt.datetime) -> str:
        """A token for Prosody's `token` authentication (jitsi-meet doc/tokens.md): HS256
        with the shared secret, valid for this room around the time of this call only."""
        ends_at = starts_at + dt.timedelta(minutes=settings.CALL_DURATION_MINUTES)
        claims = {
            "aud": JITSI_AUDIENCE,
            "iss": self.app_id,
            "sub": urlsplit(self.base_url).hostname,
            "room": room.lower(),
            "iat": int(time.time()),
            "nbf": int((starts_at - JITSI_TOKEN_VALID_BEFORE).timestamp()),
            "exp": int((ends_at + JITSI_TOKEN_VALID_AFTER).timestamp()),
            "context": {"user": {"name": JITSI_PARTICIPANT_NAME}},
        }
        return jwt.encode(claims, self.app_secret, algorithm="HS256")


# --- Google Meet ------------------------------------------------------------------

GOOGLE_MEET_SCOPE = "https://www.googleapis.com/auth/meetings.space.created"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google accepts an assertion valid for at most one hour.
ASSERTION_LIFETIME = 3600
# A cached access token is replaced this long before Google says it expires.
TOKEN_REFRESH_MARGIN = 300


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key: str
    private_key_id: str


def service_account_load(path: str) -> ServiceAccount:
    """The key file Google Cloud gives for a service account (type "service_account")."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("type") != "service_account":
            raise ValueError('"type" is not "service_account"')
        return ServiceAccount(
            client_email=data["client_email"],
            private_key=data["private_key"],
            private_key_id=data.get("private_key_id", ""),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MeetingProviderError(
            _(
                "No se puede usar Google Meet: el archivo de credenciales de la cuenta de "
                "servicio (%(path)s) no se puede leer o no es una clave JSON de cuenta de "
                "servicio de Google. Avise al administrador del sistema."
            )
            % {"path": path},
            retryable=False,
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc


# Access tokens by (token URL, service account, user acted as): shared by every provider
# instance in the process, so that each meeting does not cost a token request.
_token_cache: dict[tuple[str, str, str], tuple[str, float]] = {}
_token_lock = threading.Lock()


def google_token_cache_clear() -> None:
    """Forget every cached access token (tests; a rotated key)."""
    with _token_lock:
        _token_cache.clear()


class GoogleMeetProvider:
    """Creates a Meet space (`POST {GOOGLE_MEET_API_URL}/spaces`) owned by
    GOOGLE_MEET_ORGANIZER, with an OAuth 2.0 access token obtained by the service account
    in GOOGLE_MEET_CREDENTIALS_FILE through domain-wide delegation (JWT bearer grant)."""

    name = "google_meet"

    def __init__(self):
        self.account = service_account_load(settings.GOOGLE_MEET_CREDENTIALS_FILE)
        self.organizer = settings.GOOGLE_MEET_ORGANIZER
        self.token_url = settings.GOOGLE_OAUTH_TOKEN_URL
        self.api_url = settings.GOOGLE_MEET_API_URL.rstrip("/")
        self.access_type = settings.GOOGLE_MEET_ACCESS_TYPE
        self.timeout = settings.GOOGLE_MEET_TIMEOUT_SECONDS

    def create_meeting(self, *, case_number: str, starts_at: dt.datetime) -> str:
        # Neither the case number nor the time go to Google: a space is a room, not an event.
        token = self._access_token()
        response = self._create_space(token)
        if response.status_code == 401:
            # Revoked or expired before its time: one more try with a fresh token.
            self._forget_token()
            response = self._create_space(self._access_token())
        if response.status_code != 200:
            raise _api_error(response)
        try:
            uri = response.json()["meetingUri"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MeetingProviderError(
                _(
                    "Google Meet creó la reunión pero no devolvió su enlace. Intente de nuevo; "
                    "si se repite, avise al administrador del sistema."
                ),
                retryable=True,
                detail=response.text[:500],
            ) from exc
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise MeetingProviderError(
                _("Google Meet devolvió un enlace de reunión no válido: %(uri)s.") % {"uri": uri},
                retryable=True,
            )
        return uri

    def _create_space(self, token: str) -> requests.Response:
        return self._post(
            f"{self.api_url}/spaces",
            json={"config": {"accessType": self.access_type}},
            headers={"Authorization": f"Bearer {token}"},
        )

    @property
    def _cache_key(self) -> tuple[str, str, str]:
        return (self.token_url, self.account.client_email, self.organizer)

    def _forget_token(self) -> None:
        with _token_lock:
            _token_cache.pop(self._cache_key, None)

    def _access_token(self) -> str:
        with _token_lock:
            cached = _token_cache.get(self._cache_key)
            if cached and cached[1] - TOKEN_REFRESH_MARGIN > time.time():
                return cached[0]
            # Inside the lock: two bookings at once ask Google for one token, not two.
            token, expires_in = self._request_token()
            _token_cache[self._cache_key] = (token, time.time() + expires_in)
            return token

    def _request_token(self) -> tuple[str, int]:
        """Google's OAuth 2.0 for server-to-server applications: a JWT signed with the
        service account's key, naming the Workspace user to act as (`sub`)."""
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": self.account.client_email,
                "sub": self.organizer,
                "aud": self.token_url,
                "scope": GOOGLE_MEET_SCOPE,
                "iat": now,
                "exp": now + ASSERTION_LIFETIME,
            },
            self.account.private_key,
            algorithm="RS256",
            headers={"kid": self.account.private_key_id} if self.account.private_key_id else None,
        )
        response = self._post(
            self.token_url, data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion}
        )
        if response.status_code != 200:
            raise _token_error(response, organizer=self.organizer)
        try:
            body = response.json()
            return body["access_token"], int(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise MeetingProviderError(
                _(
                    "Google respondió sin un token de acceso válido. Intente de nuevo; si se "
                    "repite, avise al administrador del sistema."
                ),
                retryable=True,
                detail=response.text[:500],
            ) from exc

    def _post(self, url: str, **kwargs) -> requests.Response:
        try:
            return requests.post(url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise MeetingProviderError(
                _(
                    "Google Meet no respondió a tiempo (espera máxima: %(seconds)s s) y la "
                    "reunión no se creó. Intente de nuevo en unos minutos."
                )
                % {"seconds": self.timeout},
                retryable=True,
                detail=f"{url}: {exc}",
            ) from exc
        except requests.RequestException as exc:
            raise MeetingProviderError(
                _(
                    "No se pudo conectar con Google Meet y la reunión no se creó. Intente de "
                    "nuevo en unos minutos; si se repite, avise al administrador del sistema."
                ),
                retryable=True,
                detail=f"{url}: {type(exc).__name__}: {exc}",
            ) from exc


def _google_error(response: requests.Response) -> tuple[str, str]:
    """(status or error code, message) of a Google error body: the APIs answer
    {"error": {"code", "message", "status"}}, the token endpoint {"error", "error_description"}."""
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code), response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("status") or error.get("code") or ""), str(error.get("message", ""))
    if isinstance(error, str):
        return error, str(body.get("error_description", ""))
    return str(response.status_code), response.text[:200]


def _token_error(response: requests.Response, *, organizer: str) -> MeetingProviderError:
    code, message = _google_error(response)
    detail = f"token {response.status_code} {code}: {message}"
    logger.warning("Google refused the service-account token: %s", detail)
    if response.status_code == 429 or response.status_code >= 500:
        return MeetingProviderError(
            _(
                "Google no está disponible en este momento (HTTP %(status)s) y la reunión no se "
                "creó. Intente de nuevo en unos minutos."
            )
            % {"status": response.status_code},
            retryable=True,
            detail=detail,
        )
    if code == "unauthorized_client":
        text = _(
            "Google no autorizó a la cuenta de servicio a crear reuniones (%(code)s: "
            "%(message)s). El administrador de Google Workspace debe autorizar la delegación "
            "de todo el dominio para el ID de cliente de la cuenta de servicio con el permiso "
            "%(scope)s."
        )
    elif code == "invalid_grant":
        text = _(
            "Google rechazó la credencial de la cuenta de servicio (%(code)s: %(message)s). "
            "El administrador del sistema debe revisar que la clave siga vigente, que "
            "%(organizer)s sea un usuario activo de Google Workspace y que el reloj del "
            "servidor esté en hora."
        )
    else:
        text = _(
            "Google rechazó la credencial de la cuenta de servicio (%(code)s: %(message)s). "
            "Avise al administrador del sistema."
        )
    return MeetingProviderError(
        text
        % {"code": code, "message": message, "scope": GOOGLE_MEET_SCOPE, "organizer": organizer},
        retryable=False,
        detail=detail,
    )


def _api_error(response: requests.Response) -> MeetingProviderError:
    code, message = _google_error(response)
    detail = f"spaces {response.status_code} {code}: {message}"
    logger.warning("Google Meet refused to create a space: %s", detail)
    values = {"status": response.status_code, "code": code, "message": message}
    if response.status_code == 429 or response.status_code >= 500:
        return MeetingProviderError(
            _(
                "Google Meet no está disponible en este momento (HTTP %(status)s %(code)s) y la "
                "reunión no se creó. Intente de nuevo en unos minutos."
            )
            % values,
            retryable=True,
            detail=detail,
        )
    if response.status_code == 403:
        return MeetingProviderError(
            _(
                "Google Meet negó el permiso para crear la reunión (HTTP 403 %(code)s: "
                "%(message)s). El administrador debe revisar que la API de Google Meet esté "
                "habilitada en el proyecto de la cuenta de servicio y que el usuario "
                "organizador tenga Google Meet activo."
            )
            % values,
            retryable=False,
            detail=detail,
        )
    return MeetingProviderError(
        _(
            "Google Meet rechazó la creación de la reunión (HTTP %(status)s %(code)s: "
            "%(message)s). Avise al administrador del sistema."
        )
        % values,
        retryable=False,
        detail=detail,
    )


PROVIDERS = {"jitsi": JitsiProvider, "google_meet": GoogleMeetProvider}


def meeting_provider() -> MeetingProvider:
    """The configured provider: a name from PROVIDERS or a dotted path to a class."""
    name = settings.MEETING_PROVIDER
    cls = PROVIDERS.get(name) or import_string(name)
    return cls()
