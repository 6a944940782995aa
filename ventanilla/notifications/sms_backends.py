"""Where a text message goes. SMS_BACKEND names a class with this interface:

    class MyProviderBackend:
        name = "my-provider"

        def send(self, *, to: str, body: str) -> str:
            '''Hand one message to the provider. `to` is E.164 ("+593991234567"), `body`
            plain text (UTF-8, accents included). Return the provider's message id.
            Raise any exception when the provider refuses or cannot be reached: the
            outbox keeps the message and retries it later (SMS_MAX_ATTEMPTS).'''

The class is built with no arguments; it reads its own credentials from settings (add
them to settings/base.py and .env.example). `send` must be safe to call from several
worker processes at once.

No real provider is reachable from this project yet: the default, FileSmsBackend,
writes each message to a file under SMS_FILE_DIR, the way the demo mail sink keeps
emails as .eml files, so that a person (or a test) can read what would have been sent.
"""

import datetime as dt
import secrets
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend(Protocol):
    name: str

    def send(self, *, to: str, body: str) -> str: ...


class FileSmsBackend:
    """Development and tests: one UTF-8 text file per message, nothing leaves the machine."""

    name = "file"

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory or settings.SMS_FILE_DIR)

    def send(self, *, to: str, body: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        digits = "".join(c for c in to if c.isdigit())
        path = self.directory / f"{now:%Y%m%d-%H%M%S}-{digits}-{secrets.token_hex(4)}.txt"
        path.write_text(f"To: {to}\nDate: {now.isoformat()}\n\n{body}\n", encoding="utf-8")
        return str(path)


def sms_backend() -> SmsBackend:
    """The configured backend (settings.SMS_BACKEND, a dotted path to a class)."""
    return import_string(settings.SMS_BACKEND)()
