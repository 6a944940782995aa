"""A local SMTP server that keeps every message as an .eml file.

`make run` starts it on 127.0.0.1:2525 (the default EMAIL_URL) when no
EMAIL_URL is set, so the demo's emails can be read without a real mail server:

    uv run python manage.py mail_sink [--host 127.0.0.1] [--port 2525] [--dir var/mail]

Each message is saved as it arrived, with two headers added on top that carry
the SMTP envelope (X-Envelope-From, X-Envelope-To: Bcc recipients are only
there), and one line is printed per message. aiosmtpd is a development
dependency: this command is for local use, never for production.
"""

import logging
import signal
import threading
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string


class SavingHandler:
    """aiosmtpd handler: write each message to `directory` and report it."""

    def __init__(self, directory: Path, report):
        self.directory = directory
        self.report = report
        self.lock = threading.Lock()
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        headers = BytesHeaderParser(policy=policy.default).parsebytes(content)
        recipients = ", ".join(envelope.rcpt_tos)
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {recipients}\r\n"
        ).encode()
        with self.lock:
            self.count += 1
            stamp = datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
            path = self.directory / f"{stamp}-{self.count:04d}-{get_random_string(6)}.eml"
            path.write_bytes(envelope_headers + content)
        subject = str(headers.get("subject", "(no subject)"))
        self.report(f"mail to {recipients} | subject: {subject} | saved {path}")
        return "250 Message accepted for delivery"


class Command(BaseCommand):
    help = "Run a local SMTP server that saves every message as an .eml file (development)."
    # It touches neither the database nor the URLs: start even while they are broken.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=2525, help="port to listen on")
        parser.add_argument(
            "--dir",
            default=str(Path(settings.BASE_DIR) / "var" / "mail"),
            help="folder where messages are saved (default: var/mail)",
        )

    def handle(self, *, host, port, dir, **options):  # noqa: A002 (the option's name)
        try:
            from aiosmtpd.controller import Controller
        except ImportError as exc:  # a production install without the dev group
            raise CommandError(
                "aiosmtpd is not installed: it comes with the dev group ('uv sync')."
            ) from exc

        # aiosmtpd logs every SMTP command at INFO; one line per message is enough.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        directory = Path(dir).resolve()
        directory.mkdir(parents=True, exist_ok=True)

        def report(line):
            self.stdout.write(line)
            self.stdout.flush()

        handler = SavingHandler(directory, report)
        controller = Controller(handler, hostname=host, port=port, enable_SMTPUTF8=True)
        try:
            controller.start()
        except Exception as exc:  # noqa: BLE001 (port taken, bad address, ...)
            raise CommandError(f"mail sink could not listen on {host}:{port}: {exc}") from exc

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        report(f"mail sink listening on smtp://{host}:{port}, saving messages in {directory}")
        try:
            while not stop.wait(1):
                pass
        finally:
            controller.stop()
            report(f"mail sink stopped ({handler.count} message(s) received)")
