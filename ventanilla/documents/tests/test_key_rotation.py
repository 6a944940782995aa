"""Master key rotation without downtime: `manage.py rotate_file_keys` re-wraps every
stored file's data key under the new key, after which the old key can go."""

import base64
import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from ventanilla.audit.models import AuditEvent
from ventanilla.documents import encryption
from ventanilla.testing import media

pytestmark = pytest.mark.django_db

OLD = "old:" + base64.b64encode(b"1" * 32).decode()
NEW = "new:" + base64.b64encode(b"2" * 32).decode()


def _raw(name: str) -> bytes:
    return Path(default_storage.path(name)).read_bytes()


@pytest.fixture
def storage_dir(settings, tmp_path):
    """A storage folder of this test's own, so the walk sees only its files."""
    default_storage.location = str(tmp_path)  # the storage reads it on each path()
    settings.PRIVATE_STORAGE_DIR = tmp_path
    yield tmp_path
    default_storage.location = str(settings.STORAGES["default"]["OPTIONS"]["location"])


@pytest.fixture
def old_files(settings, storage_dir):
    settings.FILE_ENCRYPTION_KEYS = [OLD]
    contents = {
        "cases/a/selfie.jpg": media.jpeg_bytes(text="UNO"),
        "cases/b/form.pdf": media.pdf_bytes(["Solicitud"]),
        "drafts/c/id_front.jpg": media.jpeg_bytes(text="DOS"),
    }
    names = {default_storage.save(name, ContentFile(data)): data for name, data in contents.items()}
    assert all(encryption.header_read(_raw(n)).key_id == "old" for n in names)
    return names


def _rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_file_keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_rotation_rewraps_every_file_and_the_old_key_can_then_go(settings, old_files):
    before = {name: _raw(name) for name in old_files}
    settings.FILE_ENCRYPTION_KEYS = [NEW, OLD]  # the new key first, the old one still there

    output = _rotate()

    assert "Files re-wrapped: 3" in output
    assert "Files already under the current key: 0" in output
    assert "Files failed: 0" in output
    for name in old_files:
        raw = _raw(name)
        header = encryption.header_read(raw)
        assert header.key_id == "new"
        # Only the header changed: the content's ciphertext is the same bytes.
        old_header = encryption.header_read(before[name])
        assert raw[header.length :] == before[name][old_header.length :]
        assert header.wrapped_key != old_header.wrapped_key
    # No temporary file is left beside them.
    assert not [p for p in Path(settings.PRIVATE_STORAGE_DIR).rglob(".rewrap-*")]

    settings.FILE_ENCRYPTION_KEYS = [NEW]  # the old key removed
    for name, original in old_files.items():
        with default_storage.open(name, "rb") as stored:
            assert stored.read() == original

    [event] = AuditEvent.objects.filter(action="files.keys_rotated")
    assert event.actor_label == "system"
    assert event.new_value["key_id"] == "new"
    assert (event.new_value["rewrapped"], event.new_value["failed"]) == (3, 0)


def test_before_rotation_the_old_key_cannot_be_removed(settings, old_files):
    settings.FILE_ENCRYPTION_KEYS = [NEW]
    name = next(iter(old_files))
    with pytest.raises(encryption.FileDecryptionError, match="'old'.*does not hold"):
        default_storage.open(name, "rb")


def test_new_files_use_the_first_key_and_old_ones_still_open(settings, old_files):
    settings.FILE_ENCRYPTION_KEYS = [NEW, OLD]
    name = default_storage.save("cases/d/new.jpg", ContentFile(b"nuevo"))
    assert encryption.header_read(_raw(name)).key_id == "new"
    for old_name, original in old_files.items():
        with default_storage.open(old_name, "rb") as stored:
            assert stored.read() == original


def test_a_second_run_finds_everything_current_and_a_dry_run_changes_nothing(settings, old_files):
    settings.FILE_ENCRYPTION_KEYS = [NEW, OLD]
    before = {name: _raw(name) for name in old_files}

    dry = _rotate("--dry-run")
    assert "Files would be re-wrapped: 3" in dry
    assert {name: _raw(name) for name in old_files} == before

    assert "Files re-wrapped: 3" in _rotate()
    again = _rotate()
    assert "Files re-wrapped: 0" in again
    assert "Files already under the current key: 3" in again
    events = AuditEvent.objects.filter(action="files.keys_rotated").order_by("pk")
    assert [e.new_value["dry_run"] for e in events] == [True, False, False]


def test_a_damaged_file_is_reported_and_left_alone_while_the_others_are_rewrapped(
    settings, old_files
):
    damaged, *others = old_files
    raw = bytearray(_raw(damaged))
    raw[-5] ^= 0xFF
    Path(default_storage.path(damaged)).write_bytes(bytes(raw))
    settings.FILE_ENCRYPTION_KEYS = [NEW, OLD]
    errors = io.StringIO()

    with pytest.raises(CommandError, match="1 file"):
        call_command("rotate_file_keys", stdout=io.StringIO(), stderr=errors)

    assert damaged in errors.getvalue() and "altered or truncated" in errors.getvalue()
    assert _raw(damaged) == bytes(raw)  # never rewritten
    assert all(encryption.header_read(_raw(n)).key_id == "new" for n in others)
    event = AuditEvent.objects.get(action="files.keys_rotated")
    assert (event.new_value["rewrapped"], event.new_value["failed"]) == (2, 1)


def test_files_stored_in_the_clear_are_reported_then_encrypted_on_request(settings, storage_dir):
    settings.FILE_ENCRYPTION_KEYS = [NEW]
    legacy = storage_dir / "cases" / "e" / "old.jpg"
    legacy.parent.mkdir(parents=True)
    jpeg = media.jpeg_bytes(text="ANTIGUO")
    legacy.write_bytes(jpeg)

    with pytest.raises(CommandError):
        call_command("rotate_file_keys", stdout=io.StringIO(), stderr=io.StringIO())
    assert legacy.read_bytes() == jpeg

    output = _rotate("--encrypt-plaintext")
    assert "Files in the clear encrypted: 1" in output
    raw = legacy.read_bytes()
    assert raw.startswith(encryption.MAGIC) and b"JFIF" not in raw
    with default_storage.open("cases/e/old.jpg", "rb") as stored:
        assert stored.read() == jpeg
