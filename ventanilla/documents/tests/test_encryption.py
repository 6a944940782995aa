"""Encryption at rest: every stored file is ciphertext on disk, reads back as the upload,
and a wrong key or a changed byte fails loudly (docs/security.md, A)."""

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.checks.constants import CheckName
from ventanilla.checks.models import CheckAttachment, CheckResult
from ventanilla.documents import encryption
from ventanilla.documents.services import document_open
from ventanilla.documents.storage import EncryptedFileSystemStorage
from ventanilla.drafts.models import DraftFile
from ventanilla.portal.request_steps import STEPS
from ventanilla.testing import media
from ventanilla.testing.factories import (
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login

# What each format's plaintext starts with or holds, never to be seen on disk.
PLAINTEXT_MARKERS = (b"\xff\xd8\xff", b"JFIF", b"Exif", b"%PDF", b"ftyp", b"moov", b"mdat")
OTHER_KEY = "other:" + base64.b64encode(b"o" * 32).decode()


def _on_disk(name: str) -> bytes:
    return Path(default_storage.path(name)).read_bytes()


def _uploads(files: dict) -> dict[str, bytes]:
    contents = {}
    for kind, upload in files.items():
        upload.seek(0)
        contents[kind] = upload.read()
    return contents


@pytest.fixture
def submitted():
    fields = submission_fields(0)
    files = submission_files(fields)
    originals = _uploads(files)
    return submit_request(fields, files), originals


def test_the_default_storage_is_the_encrypted_one():
    assert isinstance(default_storage, EncryptedFileSystemStorage)


@pytest.mark.django_db
def test_the_bytes_on_disk_of_every_document_are_not_the_upload(submitted):
    case, originals = submitted
    documents = list(case.documents.all())
    assert {d.kind for d in documents} == set(originals)
    for doc in documents:
        raw = _on_disk(doc.file.name)
        original = originals[doc.kind]
        assert raw.startswith(encryption.MAGIC)
        assert original not in raw and original[16:80] not in raw
        for marker in PLAINTEXT_MARKERS:
            assert marker not in raw, (doc.kind, marker)
        # The ciphertext is the plaintext's length plus the header and the GCM tag.
        header = encryption.header_read(raw)
        assert header.key_id == "test"
        assert len(raw) == header.length + len(original) + encryption.TAG_BYTES
        # Read back through the storage: the upload, to the byte.
        with default_storage.open(doc.file.name, "rb") as stored:
            assert stored.read() == original
        # The intake does not hash: the checks take the fingerprint from this file.
        assert doc.sha256 == ""
        # The size Django reports is the original's (the case page shows it).
        assert default_storage.size(doc.file.name) == doc.size == len(original)
        assert doc.file.size == len(original)


@pytest.mark.django_db
def test_two_files_with_the_same_content_share_no_ciphertext():
    content = media.jpeg_bytes(text="IGUAL")
    first = default_storage.save("tests/a.jpg", ContentFile(content))
    second = default_storage.save("tests/b.jpg", ContentFile(content))
    a, b = _on_disk(first), _on_disk(second)
    # A fresh data key and nonce per file.
    assert encryption.header_read(a).body_nonce != encryption.header_read(b).body_nonce
    assert a[-200:] != b[-200:]


@pytest.mark.django_db
def test_storage_and_the_staff_view_give_back_the_submitted_files(client, analyst, submitted):
    case, originals = submitted
    documents_scan(case)  # the checks' antivirus: staff may open the files
    staff_login(client, analyst)
    binding = session_binding(client.session.session_key)
    for doc in case.documents.all():
        with document_open(doc) as stored:
            assert stored.read() == originals[doc.kind], doc.kind
        response = client.get(file_url(case=case, obj=doc, user=analyst, binding=binding))
        assert response.status_code == 200, doc.kind
        body = response.getvalue()
        if doc.format == "jpeg":  # the copy without metadata (documents/viewing.py)
            with (
                Image.open(io.BytesIO(body)) as shown,
                Image.open(io.BytesIO(originals[doc.kind])) as original,
            ):
                assert shown.size == original.size and not shown.getexif()
        elif doc.format == "pdf":
            assert len(PdfReader(io.BytesIO(body)).pages) == len(
                PdfReader(io.BytesIO(originals[doc.kind])).pages
            )
        else:
            assert body == originals[doc.kind]


@pytest.mark.django_db
def test_check_evidence_is_encrypted_too(submitted):
    case, _ = submitted
    result = CheckResult.objects.create(
        case=case, name=CheckName.FACE_MATCH, outcome="pass", summary="El rostro coincide."
    )
    crop = CheckAttachment(result=result, name="selfie")
    jpeg = media.jpeg_bytes(text="ROSTRO")
    crop.file.save("crop.jpg", ContentFile(jpeg), save=True)
    raw = _on_disk(crop.file.name)
    assert raw.startswith(encryption.MAGIC) and b"JFIF" not in raw
    crop.refresh_from_db()
    with crop.file.open("rb") as stored:
        assert stored.read() == jpeg


@pytest.mark.django_db
def test_a_draft_file_kept_between_pages_is_encrypted(client):
    fields = submission_fields(1)
    files = submission_files(fields)
    originals = _uploads(files)
    for step in STEPS[:3]:  # identification, residence, contact
        answers = {name: fields.get(name, "") for name in step.answer_fields}
        url = reverse("portal:request_step", args=[step.slug])
        assert client.post(url, {**answers, "action": "continue"}).status_code == 302
    for upload in files.values():
        upload.seek(0)
    documents = {"id_front": files["id_front"], "id_back": files["id_back"]}
    url = reverse("portal:request_step", args=["documento"])
    assert client.post(url, {**documents, "action": "continue"}).status_code == 302

    kept = list(DraftFile.objects.all())
    assert {f.kind for f in kept} == {"id_front", "id_back"}
    for draft_file in kept:
        raw = _on_disk(draft_file.file.name)
        assert raw.startswith(encryption.MAGIC) and b"JFIF" not in raw
    # The citizen's own preview still shows their photo.
    response = client.get(reverse("portal:request_file", args=["id_front"]))
    assert b"".join(response.streaming_content) == originals["id_front"]


@pytest.mark.django_db
def test_a_wrong_master_key_fails_loudly_naming_the_key(settings, submitted):
    case, _ = submitted
    doc = case.documents.get(kind="selfie")
    # A key under the same id, but not the one the file was written with.
    settings.FILE_ENCRYPTION_KEYS = ["test:" + base64.b64encode(b"w" * 32).decode()]
    with pytest.raises(encryption.FileDecryptionError, match="master key 'test'"):
        default_storage.open(doc.file.name, "rb")
    # The key is gone altogether.
    settings.FILE_ENCRYPTION_KEYS = [OTHER_KEY]
    with pytest.raises(encryption.FileDecryptionError, match="'test'.*does not hold.*other"):
        default_storage.open(doc.file.name, "rb")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "where",
    ["magic", "version", "body nonce", "key id", "wrap nonce", "wrapped key", "content", "tag"],
)
def test_a_changed_byte_anywhere_fails_loudly(where):
    content = media.jpeg_bytes(text="ALTERADO")
    name = default_storage.save("tests/altered.jpg", ContentFile(content))
    raw = bytearray(_on_disk(name))
    header = encryption.header_read(bytes(raw))
    id_at = encryption._PREFIX.size
    offsets = {
        "magic": 0,
        "version": len(encryption.MAGIC),
        "body nonce": len(encryption.MAGIC) + 1,
        "key id": id_at,
        "wrap nonce": id_at + len(header.key_id),
        "wrapped key": id_at + len(header.key_id) + encryption.NONCE_BYTES,
        "content": header.length + len(content) // 2,
        "tag": len(raw) - 1,
    }
    raw[offsets[where]] ^= 0x01
    Path(default_storage.path(name)).write_bytes(bytes(raw))
    with pytest.raises(encryption.FileDecryptionError):
        default_storage.open(name, "rb")


@pytest.mark.django_db
def test_a_truncated_file_fails_loudly():
    name = default_storage.save("tests/cut.jpg", ContentFile(media.jpeg_bytes(text="CORTADO")))
    path = Path(default_storage.path(name))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(encryption.FileDecryptionError, match="altered or truncated"):
        default_storage.open(name, "rb")


@pytest.mark.django_db
def test_a_file_stored_in_the_clear_before_encryption_is_refused_with_the_fix():
    path = Path(settings.PRIVATE_STORAGE_DIR) / "tests" / "old.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(media.jpeg_bytes(text="ANTIGUO"))
    with pytest.raises(encryption.FileDecryptionError, match="--encrypt-plaintext"):
        default_storage.open("tests/old.jpg", "rb")


def test_the_key_ring_refuses_malformed_keys():
    good = base64.b64encode(os.urandom(32)).decode()
    assert encryption.keyring_parse(f"new:{good}, old:{good}").ids == ["new", "old"]
    assert encryption.keyring_parse(f"new:{good},old:{good}").current.key_id == "new"
    for bad, message in [
        ("", "empty"),
        (good, "not 'id:base64key'"),
        (f"bad id:{good}", "not 'id:base64key'"),
        ("short:" + base64.b64encode(b"x" * 16).decode(), "not 32 bytes"),
        ("junk:%%%not-base64%%%", "not 32 bytes"),
        (f"same:{good},same:{good}", "twice"),
    ]:
        with pytest.raises(encryption.MasterKeyError, match=message):
            encryption.keyring_parse(bad)
    assert good not in repr(encryption.keyring_parse(f"k:{good}"))


def _start(**environment) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FILE_ENCRYPTION_KEYS"}
    env.update(DJANGO_SETTINGS_MODULE="ventanilla.settings.base", SECRET_KEY="x" * 50)
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_valid_key():
    missing = _start()
    assert missing.returncode != 0
    assert "ImproperlyConfigured: FILE_ENCRYPTION_KEYS must be set" in missing.stderr
    assert "python -m ventanilla.documents.encryption" in missing.stderr
    malformed = _start(FILE_ENCRYPTION_KEYS="k1:dG9vLXNob3J0")
    assert malformed.returncode != 0
    assert "'k1' is not 32 bytes" in malformed.stderr
    assert _start(FILE_ENCRYPTION_KEYS=encryption.master_key_generate("k1")).returncode == 0


def test_a_new_key_is_printed_ready_for_the_environment():
    printed = subprocess.run(
        [sys.executable, "-m", "ventanilla.documents.encryption", "k2027"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    ring = encryption.keyring_parse(printed)
    assert ring.current.key_id == "k2027" and len(ring.current.key) == 32
