"""The private storage on an S3-compatible bucket (STORAGE_URL=s3://...): moto's server
over real HTTP holds the objects; every object is Ventanilla's ciphertext, reads back as
the upload, and the operators' key rotation works on the bucket as on a folder."""

import base64
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from ventanilla.audit.models import AuditEvent
from ventanilla.cases.models import Case
from ventanilla.checks.models import CheckResult
from ventanilla.checks.tasks import case_checks_task
from ventanilla.documents import encryption
from ventanilla.documents.services import document_open
from ventanilla.documents.storage import storage_from_url
from ventanilla.testing import media
from ventanilla.testing.factories import submission_fields, submission_files
from ventanilla.testing.s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY, s3_server

ROOT = Path(__file__).resolve().parents[3]
OLD = "old:" + base64.b64encode(b"1" * 32).decode()
NEW = "new:" + base64.b64encode(b"2" * 32).decode()


def _shows_plaintext(raw: bytes, plaintext: bytes) -> bool:
    """Whether a 32-byte piece of the plaintext, from each eighth of it, is in the stored
    bytes. (A format's 3- or 4-byte marker is no proof: random ciphertext of a few
    megabytes holds b"\xff\xd8\xff" by chance one time in four.)"""
    step = max(1, len(plaintext) // 8)
    return any(plaintext[i : i + 32] in raw for i in range(0, max(1, len(plaintext) - 31), step))


@pytest.fixture(scope="module")
def s3():
    with s3_server() as server:
        yield server


@pytest.fixture
def bucket(s3, settings):
    """The default storage is the bucket, empty at the start of each test."""
    settings.STORAGES = s3.storages
    yield s3
    s3.empty()


def _stored(s3, name: str) -> bytes:
    return s3.read(f"{s3.prefix}/{name}")


def _damage(s3, name: str, offset: int = -5) -> bytes:
    raw = bytearray(_stored(s3, name))
    raw[offset] ^= 0xFF
    s3.client.put_object(Bucket=s3.bucket, Key=f"{s3.prefix}/{name}", Body=bytes(raw))
    return bytes(raw)


@pytest.mark.django_db
def test_a_file_is_ciphertext_in_the_bucket_and_reads_back_as_the_upload(bucket):
    jpeg = media.jpeg_bytes(text="CEDULA")

    name = default_storage.save("cases/a/id_front.jpg", ContentFile(jpeg))

    assert name == "cases/a/id_front.jpg"
    assert bucket.keys() == ["private/cases/a/id_front.jpg"]
    raw = _stored(bucket, name)
    assert raw.startswith(encryption.MAGIC)
    assert not _shows_plaintext(raw, jpeg)
    head = bucket.client.head_object(Bucket=bucket.bucket, Key="private/cases/a/id_front.jpg")
    assert head["ContentType"] == "application/octet-stream"  # not what the name says
    with default_storage.open(name, "rb") as stored:
        assert stored.read() == jpeg
    assert default_storage.size(name) == len(jpeg)
    assert default_storage.exists(name)

    default_storage.delete(name)

    assert not default_storage.exists(name)
    assert bucket.keys() == []
    with pytest.raises(FileNotFoundError):
        default_storage.open(name, "rb")
    with pytest.raises(FileNotFoundError):
        default_storage.size(name)
    default_storage.delete(name)  # deleting a file already gone is not an error


@pytest.mark.django_db
def test_objects_are_private_and_a_taken_name_is_never_overwritten(bucket):
    first = default_storage.save("cases/b/selfie.jpg", ContentFile(b"primera"))
    second = default_storage.save("cases/b/selfie.jpg", ContentFile(b"segunda"))

    assert first != second
    with default_storage.open(first, "rb") as stored:
        assert stored.read() == b"primera"
    acl = bucket.client.get_object_acl(Bucket=bucket.bucket, Key=f"private/{first}")
    assert [grant["Permission"] for grant in acl["Grants"]] == ["FULL_CONTROL"]
    assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"  # the owner, nobody else
    with pytest.raises(NotImplementedError, match="no URL"):
        default_storage.url(first)


@pytest.mark.django_db
def test_a_changed_byte_in_the_bucket_fails_loudly(bucket):
    name = default_storage.save("cases/c/form.pdf", ContentFile(media.pdf_bytes(["Solicitud"])))
    _damage(bucket, name)

    with pytest.raises(encryption.FileDecryptionError, match="altered or truncated"):
        default_storage.open(name, "rb")


@pytest.mark.django_db
def test_rotation_on_s3_rewraps_the_objects_and_leaves_a_damaged_one_alone(bucket, settings):
    settings.FILE_ENCRYPTION_KEYS = [OLD]
    contents = {
        "cases/d/selfie.jpg": media.jpeg_bytes(text="UNO"),
        "cases/d/form.pdf": media.pdf_bytes(["Solicitud"]),
        "drafts/e/id_back.jpg": media.jpeg_bytes(text="DOS"),
    }
    for name, data in contents.items():
        default_storage.save(name, ContentFile(data))
    damaged = "drafts/e/id_back.jpg"
    damaged_bytes = _damage(bucket, damaged)
    before = {name: _stored(bucket, name) for name in contents}
    settings.FILE_ENCRYPTION_KEYS = [NEW, OLD]

    errors = io.StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("rotate_file_keys", stdout=io.StringIO(), stderr=errors)

    assert damaged in errors.getvalue() and "altered or truncated" in errors.getvalue()
    assert _stored(bucket, damaged) == damaged_bytes  # never rewritten
    for name in ("cases/d/selfie.jpg", "cases/d/form.pdf"):
        raw = _stored(bucket, name)
        header = encryption.header_read(raw)
        old_header = encryption.header_read(before[name])
        assert header.key_id == "new"
        assert raw[header.length :] == before[name][old_header.length :]  # header only
    settings.FILE_ENCRYPTION_KEYS = [NEW]  # the old key removed: the rotated files open
    with default_storage.open("cases/d/form.pdf", "rb") as stored:
        assert stored.read() == contents["cases/d/form.pdf"]
    assert bucket.keys() == sorted(f"private/{name}" for name in contents)  # nothing added
    event = AuditEvent.objects.get(action="files.keys_rotated")
    assert (event.new_value["rewrapped"], event.new_value["failed"]) == (2, 1)


@pytest.mark.django_db
def test_rotation_on_s3_encrypts_plaintext_on_request_and_never_brings_back_a_deleted_file(
    bucket, settings
):
    settings.FILE_ENCRYPTION_KEYS = [OLD]
    name = default_storage.save("cases/f/selfie.jpg", ContentFile(b"contenido"))
    jpeg = media.jpeg_bytes(text="ANTIGUO")
    bucket.client.put_object(Bucket=bucket.bucket, Key="private/cases/f/old.jpg", Body=jpeg)
    settings.FILE_ENCRYPTION_KEYS = [NEW, OLD]

    with pytest.raises(CommandError):
        call_command("rotate_file_keys", stdout=io.StringIO(), stderr=io.StringIO())
    assert _stored(bucket, "cases/f/old.jpg") == jpeg  # reported, left in the clear

    out = io.StringIO()
    call_command("rotate_file_keys", "--encrypt-plaintext", stdout=out, stderr=io.StringIO())
    assert "Files already under the current key: 1" in out.getvalue()  # rotated by the first run
    assert "Files in the clear encrypted: 1" in out.getvalue()
    raw = _stored(bucket, "cases/f/old.jpg")
    assert raw.startswith(encryption.MAGIC) and b"JFIF" not in raw
    with default_storage.open("cases/f/old.jpg", "rb") as stored:
        assert stored.read() == jpeg

    # A purge between the rotation's read and its write: the conditional write (If-Match
    # on the ETag read) refuses, and the file is not brought back; a changed file neither.
    stored = bucket.client.get_object(Bucket=bucket.bucket, Key=f"private/{name}")
    default_storage.delete(name)
    assert default_storage.replace(name, b"rewrapped", etag=stored["ETag"]) is False
    assert not default_storage.exists(name)
    again = bucket.client.get_object(Bucket=bucket.bucket, Key="private/cases/f/old.jpg")
    bucket.client.put_object(Bucket=bucket.bucket, Key="private/cases/f/old.jpg", Body=b"new")
    assert default_storage.replace("cases/f/old.jpg", b"x", etag=again["ETag"]) is False
    assert _stored(bucket, "cases/f/old.jpg") == b"new"


@pytest.mark.django_db
def test_rotation_with_the_storage_server_down_says_what_to_check(settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once it is closed
    default = storage_from_url(f"s3://ventanilla-down?endpoint_url=http://127.0.0.1:{port}")
    default["OPTIONS"] |= {
        "access_key": ACCESS_KEY_ID,
        "secret_key": SECRET_ACCESS_KEY,
        "client_config": Config(retries={"total_max_attempts": 1}),
    }
    settings.STORAGES = {**settings.STORAGES, "default": default}

    with pytest.raises(CommandError, match="The S3 storage failed: Could not connect.*STORAGE_URL"):
        call_command("rotate_file_keys", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_operators_rotate_keys_on_s3_with_credentials_from_the_environment(bucket, settings):
    """manage.py in its own process, configured as an operator would: STORAGE_URL and the
    AWS_* variables, nothing in the settings files."""
    settings.FILE_ENCRYPTION_KEYS = [OLD]
    name = default_storage.save("cases/g/video.mp4", ContentFile(b"video"))
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "PRIVATE_STORAGE_DIR"
    }
    environment |= bucket.env | {
        "DJANGO_SETTINGS_MODULE": "ventanilla.settings.test",
        "FILE_ENCRYPTION_KEYS": f"{NEW},{OLD}",
        "DATABASE_URL": _database_url(),
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "rotate_file_keys"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "Files re-wrapped: 1" in done.stdout
    assert encryption.header_read(_stored(bucket, name)).key_id == "new"


def _database_url() -> str:
    """The test database, for a manage.py process (as conftest's worker_process does)."""
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    return (
        f"postgres://{database['USER']}:{database['PASSWORD']}@"
        f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )


@pytest.mark.django_db
def test_a_citizen_submission_lands_encrypted_in_the_bucket_and_the_checks_read_it(bucket, client):
    fields = submission_fields()

    response = client.post("/api/v1/cases", {**fields, **submission_files(fields)})

    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    documents = list(case.documents.all())
    assert len(documents) == 5
    keys = bucket.keys()
    for document in documents:
        assert f"private/{document.file.name}" in keys
        raw = _stored(bucket, document.file.name)
        assert raw.startswith(encryption.MAGIC)
        with document_open(document) as stored:
            plaintext = stored.read()
        assert not _shows_plaintext(raw, plaintext)

    case_checks_task.call(case.pk)

    integrity = CheckResult.objects.filter(case=case, name="file_integrity", is_current=True)
    assert integrity.count() == 5
    assert {result.outcome for result in integrity} <= {"pass", "warn"}


# STORAGE_URL, as the settings read it.


def test_storage_url_unset_or_file_is_the_encrypted_folder(tmp_path):
    assert storage_from_url("", default_location=tmp_path)["OPTIONS"]["location"] == str(tmp_path)
    folder = storage_from_url(f"file://{tmp_path}/files")
    assert folder["BACKEND"] == "ventanilla.documents.storage.EncryptedFileSystemStorage"
    assert folder["OPTIONS"] == {"location": f"{tmp_path}/files", "base_url": None}


def test_storage_url_s3_names_bucket_prefix_endpoint_and_region():
    aws = storage_from_url("s3://ventanilla-prod")
    assert aws == {
        "BACKEND": "ventanilla.documents.storage.EncryptedS3Storage",
        "OPTIONS": {"bucket_name": "ventanilla-prod", "location": ""},
    }
    local = storage_from_url(
        "s3://ventanilla/private/files/?endpoint_url=http://127.0.0.1:9000&region=us-east-1"
    )
    assert local["OPTIONS"] == {
        "bucket_name": "ventanilla",
        "location": "private/files",
        "endpoint_url": "http://127.0.0.1:9000",
        "addressing_style": "path",
        "region_name": "us-east-1",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/files", "use file:///absolute/path"),
        ("/srv/files", "use file:///absolute/path"),
        ("file://host/srv/files", "three slashes"),
        ("file:relative/files", "three slashes"),
        ("s3://ab", "not a valid bucket name"),
        ("s3://Ventanilla", "not a valid bucket name"),
        ("s3://", "not a valid bucket name"),
        ("s3://key:secret@ventanilla", "AWS_ACCESS_KEY_ID"),
        ("s3://ventanilla/a//b", "empty, '.' or '..' segment"),
        ("s3://ventanilla/a/../b", "empty, '.' or '..' segment"),
        ("s3://ventanilla?endpoint=http://x", "unknown parameter(s) endpoint"),
        ("s3://ventanilla?region=a&region=b", "repeated parameter(s) region"),
        ("s3://ventanilla?endpoint_url=127.0.0.1:9000", "must be http(s)://host[:port]"),
        ("s3://ventanilla?endpoint_url=http://host:port", "invalid port"),
        ("s3://ventanilla?region=", "not a region name"),
        ("s3://ventanilla?region", "not name=value pairs"),
    ],
)
def test_a_malformed_storage_url_tells_the_operator_what_to_write(url, message):
    with pytest.raises(ImproperlyConfigured) as raised:
        storage_from_url(url)
    assert message in str(raised.value)
    assert "STORAGE_URL" in str(raised.value)


def test_the_settings_refuse_to_start_with_a_malformed_storage_url():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "ventanilla.settings.test"}
    environment["STORAGE_URL"] = "s3://x"
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "'x' is not a valid bucket name" in done.stderr
