"""Meeting providers behind one interface. Jitsi Meet is the default: a room with an
unguessable name on a configurable server, which needs no API call."""

import secrets
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class MeetingProvider(Protocol):
    name: str

    def create_meeting(self, *, case_number: str, starts_at) -> str:
        """Return the URL the citizen and the analyst join."""
        ...


class JitsiProvider:
    name = "jitsi"

    def __init__(self, base_url: str | None = None):
        self.base_url = (base_url or settings.JITSI_BASE_URL).rstrip("/")

    def create_meeting(self, *, case_number: str, starts_at) -> str:
        # The room name carries no personal data and cannot be guessed (128 bits).
        return f"{self.base_url}/IESS-Ventanilla-{secrets.token_urlsafe(16)}"


PROVIDERS = {"jitsi": JitsiProvider}


def meeting_provider() -> MeetingProvider:
    """The configured provider: a name from PROVIDERS or a dotted path to a class."""
    name = settings.MEETING_PROVIDER
    cls = PROVIDERS.get(name) or import_string(name)
    return cls()
