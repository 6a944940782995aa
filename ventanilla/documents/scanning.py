"""Virus scanning of uploads by ClamAV's daemon (clamd).

Every upload is sent to clamd with INSTREAM (the bytes are already in memory;
nothing is written to disk first) while it is inspected, before it is stored.
``CLAMAV_URL`` says where clamd listens: ``unix:///run/clamav/clamd.ctl`` or
``tcp://host:3310``. Empty means scanning is off, which a system check reports
(an error under ``check --deploy``: production must scan).

The scanner fails closed: if clamd cannot be reached or answers with an error,
the upload is refused (``scan_unavailable``) rather than stored unscanned.
"""

import io
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

# Seconds to wait for clamd; a 5 MB upload takes well under one with the official databases.
SCAN_TIMEOUT_SECONDS = 30
# Bytes per INSTREAM chunk. clamav-client sends what `read()` returns, prefixed with its
# length, and asks for 1 KB at a time: ~9,400 socket writes for one submission, which cost
# the web process more CPU than clamd's own scan (docs/performance.md). Any chunk size
# below clamd's StreamMaxLength is the same protocol.
SCAN_CHUNK_BYTES = 256 * 1024


class _LargeChunks:
    """The content, read in SCAN_CHUNK_BYTES pieces whatever size the caller asks for."""

    def __init__(self, content: bytes):
        self._buffer = io.BytesIO(content)

    def read(self, _size: int = -1) -> bytes:
        return self._buffer.read(SCAN_CHUNK_BYTES)


class ScannerUnavailable(Exception):
    """clamd could not be reached, or could not scan the content."""


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str = ""


def scanning_enabled() -> bool:
    return bool(getattr(settings, "CLAMAV_URL", ""))


def scanner_client(url: str | None = None) -> ClamdNetworkSocket:
    """A clamd client for ``url`` (default ``settings.CLAMAV_URL``)."""
    url = settings.CLAMAV_URL if url is None else url
    parts = urlsplit(url)
    if parts.scheme == "unix" and (parts.path or parts.netloc):
        # unix:///run/clamd.sock has an empty netloc; unix://run/clamd.sock would not.
        return ClamdUnixSocket(path=parts.netloc + parts.path, timeout=SCAN_TIMEOUT_SECONDS)
    if parts.scheme == "tcp" and parts.hostname:
        return ClamdNetworkSocket(
            host=parts.hostname, port=parts.port or 3310, timeout=SCAN_TIMEOUT_SECONDS
        )
    raise ImproperlyConfigured(
        f"CLAMAV_URL must be unix:///path/to/clamd.sock or tcp://host:3310, not {url!r}."
    )


def scan_bytes(content: bytes) -> ScanResult:
    """Scan ``content`` with clamd. Raises ``ScannerUnavailable`` when it cannot say."""
    try:
        results = scanner_client().instream(_LargeChunks(content))
    except (ClamdError, OSError) as error:
        logger.error("ClamAV scan failed: %s: %s", type(error).__name__, error)
        raise ScannerUnavailable(str(error)) from error
    status, reason = results.get("stream", ("ERROR", "no answer"))
    if status == "OK":
        return ScanResult(clean=True)
    if status == "FOUND":
        return ScanResult(clean=False, signature=reason or "unknown")
    # clamd answers ERROR for limits it hit (size, time, memory): not a verdict.
    logger.error("ClamAV could not scan an upload: %s", reason)
    raise ScannerUnavailable(reason or status)
