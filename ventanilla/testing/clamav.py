"""A real ClamAV daemon for the tests, with a signature database the tests make.

Signatures cannot be downloaded here (and freshclam is never run), so the database
holds two signatures:

- the EICAR anti-virus test string, anywhere in a file (a body signature, ``.ndb``),
  assembled from pieces at run time so that the repository itself is never flagged;
  ``jpeg_carrying_eicar()`` is a valid JPEG with it in a comment segment;
- ``flagged_jpeg()``, a valid synthetic JPEG made with Pillow, by its MD5 hash (``.hdb``:
  ``md5:size:name``): its refusal can only
  come from the scanner, since every other inspection accepts it.

The root conftest.py starts one daemon per test session (``clamd_running``) on the
socket ``ventanilla.settings.test`` puts in ``CLAMAV_URL``, so every upload of the
suite is scanned for real.
"""

import contextlib
import functools
import hashlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from clamav_client.clamd import ClamdError, ClamdUnixSocket

from . import media

EICAR_SIGNATURE = "Ventanilla.Test.EICAR"
FLAGGED_JPEG_SIGNATURE = "Ventanilla.Test.FlaggedJpeg"
START_TIMEOUT_SECONDS = 30


def eicar_bytes() -> bytes:
    """The 68-byte EICAR test file (harmless; every anti-virus flags it)."""
    parts = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-", "ANTIVIRUS-TEST-FILE!$H+H*")
    return "".join(parts).encode("ascii")


@functools.cache
def flagged_jpeg() -> bytes:
    """A valid JPEG that the test database lists as malware."""
    return media.jpeg_bytes(640, 400, text="MUESTRA MARCADA POR EL ANTIVIRUS")


@functools.cache
def jpeg_carrying_eicar() -> bytes:
    """A valid JPEG with the EICAR string in a comment (COM) segment."""
    jpeg = media.jpeg_bytes(640, 400, text="FOTO CON EICAR")
    payload = eicar_bytes()
    return jpeg[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def _hash_signature(content: bytes, name: str) -> str:
    # ClamAV hash signatures are MD5 by format; nothing here relies on MD5 being secure.
    return f"{hashlib.md5(content).hexdigest()}:{len(content)}:{name}\n"  # noqa: S324


def write_database(directory: Path) -> Path:
    """Write the test signatures into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ventanilla-test.hdb").write_text(
        _hash_signature(flagged_jpeg(), FLAGGED_JPEG_SIGNATURE)
    )
    # A body signature (.ndb: name:target type:offset:hex): EICAR anywhere in any file.
    (directory / "ventanilla-test.ndb").write_text(f"{EICAR_SIGNATURE}:0:*:{eicar_bytes().hex()}\n")
    return directory


def clamd_executable() -> str:
    found = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise RuntimeError(
            "clamd (ClamAV's daemon) is missing: install the Debian package clamav-daemon "
            "(scripts/setup.sh does)."
        )
    return found


def _answers(socket_path: Path) -> bool:
    try:
        return ClamdUnixSocket(path=str(socket_path), timeout=2).ping() == "PONG"
    except (ClamdError, OSError):
        return False


@contextlib.contextmanager
def clamd_running(clamav_url: str) -> Iterator[subprocess.Popen | None]:
    """Start clamd in the foreground on the Unix socket of ``clamav_url`` with the test
    database next to it, and stop it at the end. Yields ``None`` without starting
    anything if a daemon already answers there (a parent test process started it) or
    the URL is not a Unix socket (a clamd of the machine's own, e.g. in CI)."""
    parts = urlsplit(clamav_url)
    socket_path = Path(parts.netloc + parts.path)
    if parts.scheme != "unix" or _answers(socket_path):
        yield None
        return
    folder = socket_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    write_database(folder / "db")
    config = folder / "clamd.conf"
    config.write_text(
        f"LocalSocket {socket_path}\n"
        f"DatabaseDirectory {folder / 'db'}\n"
        f"LogFile {folder / 'clamd.log'}\n"
        f"PidFile {folder / 'clamd.pid'}\n"
        "Foreground yes\n"
        # Uploads are at most 5 MB; the default limit (25 MB) is kept well above.
        "StreamMaxLength 25M\n"
    )
    process = subprocess.Popen(  # noqa: S603 (a fixed executable and our own config)
        [clamd_executable(), "--config-file", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers(socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "clamd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"clamd did not start on {socket_path}:\n{log}")
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
