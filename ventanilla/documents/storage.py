"""The private file storage: every stored file is encrypted on disk.

Documents, drafts' files and the checks' evidence (face crops) all go through Django's
``default_storage``, which is this class (settings.STORAGES), so no path can write a file
in the clear. Reading returns the plaintext in memory (files are at most a few MB), never
a path: ``path()`` still names the encrypted file on disk, for operators' tools only.
"""

import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.deconstruct import deconstructible

from . import encryption


def keyring_current() -> encryption.KeyRing:
    """The master keys of settings.FILE_ENCRYPTION_KEYS (read each time, so that a test's
    override_settings applies)."""
    return encryption.keyring_parse(settings.FILE_ENCRYPTION_KEYS)


@deconstructible(path="ventanilla.documents.storage.EncryptedFileSystemStorage")
class EncryptedFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage that encrypts in ``_save`` and decrypts in ``_open``.

    A file that cannot be decrypted (missing key, altered bytes, written in the clear)
    raises ``encryption.FileDecryptionError`` when opened: never other bytes."""

    def _save(self, name, content):
        plaintext = b"".join(content.chunks())
        return super()._save(name, ContentFile(encryption.encrypt(plaintext, keyring_current())))

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written with save(), never opened for writing.")
        with open(self.path(name), "rb") as stored:
            data = stored.read()
        plaintext = encryption.decrypt(data, keyring_current(), name=name)
        # A ContentFile: closing and opening it again keeps the plaintext in memory instead
        # of re-reading the encrypted bytes from its name.
        return ContentFile(plaintext, name=name)

    def size(self, name):
        """The size of the original file (what FieldFile.size and templates show)."""
        path = self.path(name)
        with open(path, "rb") as stored:
            head = stored.read(512)
        header = encryption.header_read(head, name=name)
        return encryption.plaintext_size(os.path.getsize(path), header)


# Temporary files of a rotation: written beside the file, then renamed over it.
REWRAP_PREFIX = ".rewrap-"
STALE_TEMPORARY_SECONDS = 3600


@dataclass
class RotationReport:
    key_id: str
    dry_run: bool
    rewrapped: int = 0
    current: int = 0
    encrypted: int = 0  # files found in the clear and encrypted (--encrypt-plaintext)
    plaintext: int = 0  # files found in the clear and left so
    stale_temporary_removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, why)

    def as_dict(self) -> dict:
        return {
            "key_id": self.key_id,
            "dry_run": self.dry_run,
            "rewrapped": self.rewrapped,
            "already_current": self.current,
            "encrypted_plaintext": self.encrypted,
            "plaintext_left": self.plaintext,
            "stale_temporary_removed": self.stale_temporary_removed,
            "failed": len(self.failed),
            "failed_files": [name for name, _why in self.failed][:100],
        }


def _replace_file(path: Path, data: bytes, original) -> bool:
    """Write ``data`` to a temporary file in the same folder and rename it over ``path``,
    so that a crash leaves the old file or the new one, never half of either. ``original``
    is the open old file: if it was deleted meanwhile (a purge), it is not brought back."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=REWRAP_PREFIX, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        old = os.fstat(original.fileno())
        os.chmod(temporary, stat.S_IMODE(old.st_mode))
        if old.st_nlink == 0:
            os.unlink(temporary)
            return False
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return True


def stored_files_rewrap(
    *, location: str | os.PathLike | None = None, dry_run: bool = False, encrypt_plaintext=False
) -> RotationReport:
    """Re-wrap every stored file's data key under the current master key (key rotation).

    Walks the whole storage folder (documents, drafts, check evidence, anything else), so
    no file is missed whatever the database says. Each file is decrypted whole first, so a
    damaged file or one under a missing key is reported, never rewritten. Safe to run again
    and to interrupt: a file already under the current key is left alone. With
    ``encrypt_plaintext``, files written in the clear (before encryption at rest) are
    encrypted. Writes one audit event with the counts."""
    from ventanilla.audit.services import audit_log

    ring = keyring_current()
    root = Path(location or default_storage.location)
    report = RotationReport(key_id=ring.current.key_id, dry_run=dry_run)
    for folder, _dirs, names in os.walk(root):
        for file_name in sorted(names):
            path = Path(folder) / file_name
            name = path.relative_to(root).as_posix()
            if file_name.startswith(REWRAP_PREFIX):
                # Left by an interrupted run; the file it was for is still whole.
                if time.time() - path.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                    if not dry_run:
                        path.unlink(missing_ok=True)
                    report.stale_temporary_removed += 1
                continue
            try:
                with open(path, "rb") as original:
                    data = original.read()
                    if not encryption.is_encrypted(data):
                        if not encrypt_plaintext:
                            report.plaintext += 1
                            report.failed.append(
                                (name, "not encrypted (use --encrypt-plaintext to encrypt it)")
                            )
                            continue
                        if dry_run or _replace_file(path, encryption.encrypt(data, ring), original):
                            report.encrypted += 1
                        continue
                    rewrapped = encryption.rewrap(data, ring, name=name)
                    if rewrapped is None:
                        report.current += 1
                    elif dry_run or _replace_file(path, rewrapped, original):
                        report.rewrapped += 1
            except FileNotFoundError:
                continue  # deleted meanwhile (a purge, a discarded draft)
            except encryption.FileDecryptionError as exc:
                report.failed.append((name, str(exc)))
    audit_log(action="files.keys_rotated", new=report.as_dict())
    return report
