"""The private file storage: every stored file is encrypted before it is stored.

Documents, drafts' files and the checks' evidence (face crops) all go through Django's
``default_storage`` (settings.STORAGES, chosen by ``STORAGE_URL``): a folder on disk
(``EncryptedFileSystemStorage``) or an S3-compatible bucket (``EncryptedS3Storage``). Both
encrypt in the same way (``EncryptedStorageMixin``), so no path can store a file in the
clear. Reading returns the plaintext in memory (files are at most a few MB), never a path
or a URL: ``path()`` still names the encrypted file on disk, for operators' tools only, and
the S3 storage has no ``url()`` (staff see files only through the audited views).
"""

import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.deconstruct import deconstructible

from . import encryption

# Bytes read to parse a stored file's header (the header is at most 113 bytes).
HEADER_READ_BYTES = 512


def keyring_current() -> encryption.KeyRing:
    """The master keys of settings.FILE_ENCRYPTION_KEYS (read each time, so that a test's
    override_settings applies)."""
    return encryption.keyring_parse(settings.FILE_ENCRYPTION_KEYS)


class EncryptedStorageMixin:
    """Encrypts in ``_save`` and decrypts in ``_open``, whatever holds the bytes.

    A file that cannot be decrypted (missing key, altered bytes, written in the clear)
    raises ``encryption.FileDecryptionError`` when opened: never other bytes. The storage
    class below it provides ``_stored_read(name)`` (the stored bytes) and
    ``_stored_head(name)`` (the first bytes and the stored size)."""

    def _save(self, name, content):
        content.seek(0)
        header, body = encryption.encrypt_parts(content.read(), keyring_current())
        return super()._save(name, self._encrypted_content(header, body))

    def _encrypted_content(self, header: bytes, body: bytes) -> File:
        """What the storage below writes (its ``_save`` gets it)."""
        return ContentFile(header + body)

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written with save(), never opened for writing.")
        plaintext = encryption.decrypt(self._stored_read(name), keyring_current(), name=name)
        # A ContentFile: closing and opening it again keeps the plaintext in memory instead
        # of re-reading the encrypted bytes from its name.
        return ContentFile(plaintext, name=name)

    def size(self, name):
        """The size of the original file (what FieldFile.size and templates show)."""
        head, stored_size = self._stored_head(name)
        header = encryption.header_read(head, name=name)
        return encryption.plaintext_size(stored_size, header)

    def for_health_probe(self):
        """The storage /healthz and /readyz write to: this one (see EncryptedS3Storage)."""
        return self

    def _stored_read(self, name) -> bytes:
        raise NotImplementedError

    def _stored_head(self, name) -> tuple[bytes, int]:
        raise NotImplementedError


class _EncryptedParts(File):
    """An encrypted file as FileSystemStorage._save writes it: the header, then the body
    (never a copy of it; whole, in one write, unless a chunk size is asked for)."""

    def __init__(self, header: bytes, body: bytes):
        super().__init__(None)
        self.header, self.body = header, body
        self.size = len(header) + len(body)

    def chunks(self, chunk_size=None):
        yield self.header  # bytes first: FileSystemStorage opens the file in binary mode
        view, step = memoryview(self.body), chunk_size or len(self.body) or 1
        for start in range(0, len(view), step):
            yield view[start : start + step]


@deconstructible(path="ventanilla.documents.storage.EncryptedFileSystemStorage")
class EncryptedFileSystemStorage(EncryptedStorageMixin, FileSystemStorage):
    """A FileSystemStorage whose files are encrypted on disk."""

    def _encrypted_content(self, header: bytes, body: bytes) -> File:
        return _EncryptedParts(header, body)

    def _stored_read(self, name) -> bytes:
        with open(self.path(name), "rb") as stored:
            return stored.read()

    def _stored_head(self, name) -> tuple[bytes, int]:
        with open(self.path(name), "rb") as stored:
            return stored.read(HEADER_READ_BYTES), os.fstat(stored.fileno()).st_size


# --- S3-compatible object storage -------------------------------------------------------
# boto3 costs the web process about 40 MB and a second to import, so the S3 class is built
# on first use (module __getattr__), and a deployment on disk never loads it.

# Every S3 call: a few seconds to connect, a few retries (a dead server must fail a request,
# not hold it for minutes); the health probe gets one attempt and shorter timeouts.
S3_CONNECT_TIMEOUT_SECONDS = 5
S3_READ_TIMEOUT_SECONDS = 30
S3_MAX_ATTEMPTS = 3
S3_PROBE_TIMEOUT_SECONDS = 2


def _s3_not_found(error) -> bool:
    response = getattr(error, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}


@cache
def _encrypted_s3_storage_class():
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    @deconstructible(path="ventanilla.documents.storage.EncryptedS3Storage")
    class EncryptedS3Storage(EncryptedStorageMixin, S3Storage):
        """An S3Storage (django-storages) whose objects are encrypted by Ventanilla.

        Objects are private: no ACL is sent (the bucket's own, private, applies) and
        ``url()`` refuses, since a presigned URL would hand out the ciphertext and skip the
        audited views. A name already taken gets a new one, as on disk (S3Storage
        overwrites by default). Credentials come from the environment
        (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the instance's role, as boto3 finds
        them."""

        def __init__(self, **options):
            options = {"file_overwrite": False, "default_acl": None, **options}
            super().__init__(**options)
            self._options = options
            # Our timeouts first; anything the operator set in client_config wins.
            self.client_config = Config(
                connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
                read_timeout=S3_READ_TIMEOUT_SECONDS,
                retries={"total_max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
            ).merge(self.client_config)

        @property
        def client(self):
            return self.connection.meta.client

        def key(self, name) -> str:
            """The object key of a stored file's name (the prefix included)."""
            return self._normalize_name(clean_name(name))

        def get_object_parameters(self, name):
            # The object is ciphertext, whatever its name says.
            return {
                **super().get_object_parameters(name),
                "ContentType": "application/octet-stream",
            }

        def _get_object(self, name, **params):
            try:
                return self.client.get_object(Bucket=self.bucket_name, Key=self.key(name), **params)
            except ClientError as exc:
                if _s3_not_found(exc):
                    raise FileNotFoundError(f"File does not exist: {name}") from None
                raise

        def _stored_read(self, name) -> bytes:
            return self._get_object(name)["Body"].read()

        def _stored_head(self, name) -> tuple[bytes, int]:
            # A ranged GET: the header and, in Content-Range, the object's size.
            try:
                response = self._get_object(name, Range=f"bytes=0-{HEADER_READ_BYTES - 1}")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                    return b"", 0  # an empty object
                raise
            with response["Body"] as body:
                head = body.read(HEADER_READ_BYTES)
            content_range = response.get("ContentRange", "")
            if "/" in content_range:
                return head, int(content_range.rpartition("/")[2])
            return head, response["ContentLength"]  # a server that ignored the range

        def url(self, name, *args, **kwargs):
            raise NotImplementedError(
                "Stored files are private and encrypted: they have no URL. Serve them through "
                "a view that opens them with the storage (e.g. the staff's audited file links)."
            )

        def path(self, name):
            raise NotImplementedError(
                "Files on S3 have no local path; read them with open(), list them with the "
                "bucket's paginator (stored_files_rewrap does)."
            )

        def replace(self, name, data: bytes, *, etag: str) -> bool:
            """Overwrite the object with ``data`` only if it is still the version ``etag``
            (a conditional PUT, If-Match). False if it was deleted or changed meanwhile: a
            purge is not undone, a newer file not overwritten. A server that ignores If-Match
            overwrites it anyway."""
            try:
                self.client.put_object(
                    Bucket=self.bucket_name,
                    Key=self.key(name),
                    Body=data,
                    IfMatch=etag,
                    **self.get_object_parameters(name),
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if _s3_not_found(exc) or code in {
                    "PreconditionFailed",
                    "ConditionalRequestConflict",
                }:
                    return False
                raise
            return True

        def for_health_probe(self):
            """This storage with one attempt and short timeouts, so that /readyz answers 503
            within seconds when the server is down, instead of retrying for minutes."""
            probe = getattr(self, "_probe", None)
            if probe is None:
                probe = type(self)(**self._options)
                probe.client_config = probe.client_config.merge(
                    Config(
                        connect_timeout=S3_PROBE_TIMEOUT_SECONDS,
                        read_timeout=S3_PROBE_TIMEOUT_SECONDS,
                        retries={"total_max_attempts": 1, "mode": "standard"},
                    )
                )
                self._probe = probe
            return probe

    # Its name as seen from outside (repr, pickle through the module's __getattr__).
    EncryptedS3Storage.__qualname__ = "EncryptedS3Storage"
    return EncryptedS3Storage


def __getattr__(name):
    if name == "EncryptedS3Storage":
        return _encrypted_s3_storage_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- STORAGE_URL ------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_S3_URL_PARAMETERS = {"endpoint_url", "region"}
_S3_URL_EXAMPLE = (
    "s3://bucket-name/optional/prefix?endpoint_url=https://s3.example.org&region=us-east-1"
)


def storage_from_url(url: str, *, default_location: str | os.PathLike | None = None) -> dict:
    """The STORAGES["default"] entry for ``STORAGE_URL``.

    Empty: the encrypted folder ``default_location``; ``file:///absolute/path``: the
    encrypted folder there; ``s3://bucket[/prefix][?endpoint_url=...&region=...]``: the
    encrypted bucket. Raises ImproperlyConfigured, saying what to write, on anything else."""
    url = url.strip()
    if not url:
        if default_location is None:
            raise ImproperlyConfigured("STORAGE_URL is empty and no default folder is given.")
        return _filesystem_storage(default_location)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/") or parts.query:
            raise ImproperlyConfigured(
                f"STORAGE_URL {url!r}: a folder is written file:///absolute/path (three "
                "slashes, no host, no query), e.g. file:///srv/ventanilla/private."
            )
        return _filesystem_storage(parts.path)
    if parts.scheme == "s3":
        return _s3_storage(url, parts)
    raise ImproperlyConfigured(
        f"STORAGE_URL {url!r}: use file:///absolute/path for a folder on this machine or "
        f"{_S3_URL_EXAMPLE} for an S3-compatible bucket (or leave it unset for "
        "PRIVATE_STORAGE_DIR)."
    )


def _filesystem_storage(location) -> dict:
    return {
        "BACKEND": "ventanilla.documents.storage.EncryptedFileSystemStorage",
        "OPTIONS": {"location": str(location), "base_url": None},
    }


def _s3_storage(url: str, parts) -> dict:
    if "@" in parts.netloc:
        raise ImproperlyConfigured(
            "STORAGE_URL holds credentials: remove them from the URL and set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or give the machine an IAM role)."
        )
    bucket = parts.netloc
    if not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise ImproperlyConfigured(
            f"STORAGE_URL: {bucket!r} is not a valid bucket name (3-63 lowercase letters, "
            f"digits, '.' or '-', starting and ending with a letter or digit), e.g. {_S3_URL_EXAMPLE}."
        )
    prefix = parts.path.strip("/")
    if prefix and any(segment in {"", ".", ".."} for segment in prefix.split("/")):
        raise ImproperlyConfigured(
            f"STORAGE_URL: the prefix {prefix!r} has an empty, '.' or '..' segment; write it "
            "as folder/subfolder."
        )
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ImproperlyConfigured(
            f"STORAGE_URL: the query {parts.query!r} is not name=value pairs joined by '&', "
            f"e.g. {_S3_URL_EXAMPLE}."
        ) from None
    unknown = sorted(set(query) - _S3_URL_PARAMETERS)
    repeated = sorted(name for name, values in query.items() if len(values) > 1)
    if unknown or repeated:
        raise ImproperlyConfigured(
            f"STORAGE_URL: {'unknown' if unknown else 'repeated'} parameter(s) "
            f"{', '.join(unknown or repeated)}; it takes endpoint_url and region, once each."
        )
    options = {"bucket_name": bucket, "location": prefix}
    endpoint_url = query.get("endpoint_url", [""])[0]
    if endpoint_url:
        endpoint = urlsplit(endpoint_url)
        if endpoint.scheme not in {"http", "https"} or not endpoint.hostname:
            raise ImproperlyConfigured(
                f"STORAGE_URL: endpoint_url {endpoint_url!r} must be http(s)://host[:port] "
                "(the S3-compatible server), e.g. endpoint_url=http://127.0.0.1:9000."
            )
        try:
            endpoint.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError:
            raise ImproperlyConfigured(
                f"STORAGE_URL: endpoint_url {endpoint_url!r} has an invalid port."
            ) from None
        # A custom server (MinIO, Ceph, Garage, moto) rarely has a DNS name per bucket.
        options |= {"endpoint_url": endpoint_url.rstrip("/"), "addressing_style": "path"}
    region = query.get("region", [""])[0]
    if "region" in query and not re.fullmatch(r"[a-z0-9-]{1,32}", region):
        raise ImproperlyConfigured(
            f"STORAGE_URL: region {region!r} is not a region name such as us-east-1."
        )
    if region:
        options["region_name"] = region
    return {"BACKEND": "ventanilla.documents.storage.EncryptedS3Storage", "OPTIONS": options}


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
    *,
    location: str | os.PathLike | None = None,
    storage=None,
    dry_run: bool = False,
    encrypt_plaintext=False,
) -> RotationReport:
    """Re-wrap every stored file's data key under the current master key (key rotation).

    Walks the whole storage (``storage``, default_storage unless given): every file of the
    folder (``location``, the storage's own unless given), or every object under the
    bucket's prefix. So no file is missed whatever the database says. Each file is
    decrypted whole first, so a damaged file or one under a missing key is reported, never
    rewritten. Safe to run again and to interrupt: a file already under the current key is
    left alone. With ``encrypt_plaintext``, files written in the clear (before encryption
    at rest) are encrypted. Writes one audit event with the counts."""
    from ventanilla.audit.services import audit_log

    storage = storage if storage is not None else default_storage
    ring = keyring_current()
    report = RotationReport(key_id=ring.current.key_id, dry_run=dry_run)
    if location is not None or isinstance(storage, FileSystemStorage):
        _filesystem_rewrap(
            Path(location or storage.location), ring, report, encrypt_plaintext=encrypt_plaintext
        )
    elif isinstance(storage, _encrypted_s3_storage_class()):
        _s3_rewrap(storage, ring, report, encrypt_plaintext=encrypt_plaintext)
    else:
        raise TypeError(f"Key rotation does not know the storage {type(storage).__name__}.")
    audit_log(action="files.keys_rotated", new=report.as_dict())
    return report


def _rewrapped(data: bytes, ring, report: RotationReport, *, name, encrypt_plaintext):
    """The new bytes of a stored file, or None if it stays as it is (counted in the
    report). Raises FileDecryptionError for a file that must not be touched."""
    if not encryption.is_encrypted(data):
        if not encrypt_plaintext:
            report.plaintext += 1
            report.failed.append((name, "not encrypted (use --encrypt-plaintext to encrypt it)"))
            return None
        return encryption.encrypt(data, ring)
    rewrapped = encryption.rewrap(data, ring, name=name)
    if rewrapped is None:
        report.current += 1
    return rewrapped


def _filesystem_rewrap(root: Path, ring, report: RotationReport, *, encrypt_plaintext) -> None:
    for folder, _dirs, names in os.walk(root):
        for file_name in sorted(names):
            path = Path(folder) / file_name
            name = path.relative_to(root).as_posix()
            if file_name.startswith(REWRAP_PREFIX):
                # Left by an interrupted run; the file it was for is still whole.
                if time.time() - path.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                    if not report.dry_run:
                        path.unlink(missing_ok=True)
                    report.stale_temporary_removed += 1
                continue
            try:
                with open(path, "rb") as original:
                    data = original.read()
                    new = _rewrapped(
                        data, ring, report, name=name, encrypt_plaintext=encrypt_plaintext
                    )
                    if new is not None and (report.dry_run or _replace_file(path, new, original)):
                        _count_written(report, was_encrypted=encryption.is_encrypted(data))
            except FileNotFoundError:
                continue  # deleted meanwhile (a purge, a discarded draft)
            except encryption.FileDecryptionError as exc:
                report.failed.append((name, str(exc)))


def _s3_rewrap(storage, ring, report: RotationReport, *, encrypt_plaintext) -> None:
    # Every object under the storage's prefix, a page (up to 1,000 keys) at a time.
    prefix = f"{storage.location.strip('/')}/" if storage.location.strip("/") else ""
    pages = storage.client.get_paginator("list_objects_v2").paginate(
        Bucket=storage.bucket_name, Prefix=prefix
    )
    for page in pages:
        for item in page.get("Contents", []):
            name = item["Key"][len(prefix) :]
            try:
                stored = storage._get_object(name)
                data = stored["Body"].read()
                new = _rewrapped(data, ring, report, name=name, encrypt_plaintext=encrypt_plaintext)
                # The PUT happens only if the object is still the one read (its ETag).
                if new is not None and (
                    report.dry_run or storage.replace(name, new, etag=stored["ETag"])
                ):
                    _count_written(report, was_encrypted=encryption.is_encrypted(data))
            except FileNotFoundError:
                continue  # deleted meanwhile (a purge, a discarded draft)
            except encryption.FileDecryptionError as exc:
                report.failed.append((name, str(exc)))


def _count_written(report: RotationReport, *, was_encrypted: bool) -> None:
    if was_encrypted:
        report.rewrapped += 1
    else:
        report.encrypted += 1
